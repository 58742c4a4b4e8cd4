// checkFinite: a run fails with WENGERT_NON_FINITE at the first NaN or infinity, naming the op (and,
// for a reverse-sweep node, the traced op it is in the gradient of) and the line of *this* file
// where that op was traced. Call sites are located by reading this file's own text for a marker
// comment, independently of any stack machinery.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;

const SOURCE_LINES = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const track = trackPrograms();

/** Matches `check-finite.test.ts:<line>:<column>` for the line holding the marker comment `site:<name>`. */
function site(name: string): RegExp {
  const hits = SOURCE_LINES.flatMap((text, i) => (text.includes(`/* site:${name} */`) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker site:${name} found ${hits.length} times`);
  return new RegExp(`check-finite\\.test\\.ts:${hits[0]}:\\d+`);
}

function caught(fn: () => unknown): Error & { code?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error & { code?: unknown };
  }
  throw new Error('expected an error, none was thrown');
}

async function rejected(fn: () => Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: unknown };
  }
  throw new Error('expected a rejection, none came');
}

// sum(exp(log(x) * 2)): log of a negative element is the first non-finite value.
function logModel(x: T): T {
  const l = wg.log(x); /* site:log */
  return wg.sum(wg.exp(wg.mul(l, 2)));
}

// sum(sqrt(x)): finite at x = 0, but its derivative 1/(2 sqrt x) is infinite there.
function sqrtModel(x: T): T {
  const r = wg.sqrt(x); /* site:sqrt */
  return wg.sum(wg.mul(r, 3));
}

describe('checkFinite', () => {
  for (const [dtype, spec, Arr] of [
    ['float64', wg.f64, Float64Array],
    ['float32', wg.f32, Float32Array],
  ] as const) {
    describe(dtype, () => {
      it('names a forward op that produced NaN, its element and its call site', () => {
        const p = track(wg.compile(logModel, { args: [spec([4])], checkFinite: true }));
        expect(p.run(new Arr([1, 2, 3, 4]))).toBeCloseTo(1 + 4 + 9 + 16, 3);
        const err = caught(() => p.run(new Arr([1, 2, -3, 4])));
        expect(err).toBeInstanceOf(wg.WengertError);
        expect(err.code).toBe('WENGERT_NON_FINITE');
        expect(err.message).toMatch(new RegExp(`^checkFinite: log produced NaN at element 2 of its ${dtype}\\[4\\] value`));
        expect(err.message).toMatch(site('log'));
        expect(err.message).not.toMatch(/gradient/);
        // valueAndGrad checks the forward part of the gradient program too.
        const g = caught(() => p.valueAndGrad(new Arr([1, 2, -3, 4])));
        expect(g.code).toBe('WENGERT_NON_FINITE');
        expect(g.message).toMatch(/^checkFinite: log produced NaN at element 2/);
        expect(g.message).toMatch(site('log'));
      });

      it('names a reverse-sweep op by the traced op it is the gradient of', () => {
        const p = track(wg.compile(sqrtModel, { args: [spec([3])], checkFinite: true }));
        // The forward pass is finite at 0: only the reverse sweep overflows.
        expect(p.run(new Arr([4, 0, 1]))).toBeCloseTo(9, 5);
        const err = caught(() => p.valueAndGrad(new Arr([4, 0, 1])));
        expect(err.code).toBe('WENGERT_NON_FINITE');
        expect(err.message).toMatch(/^checkFinite: \w+ in the gradient of sqrt produced Infinity at element 1 /);
        expect(err.message).toMatch(site('sqrt'));
        const ok = p.valueAndGrad(new Arr([4, 1, 1]));
        expect(ok.grads[0]![0]).toBeCloseTo(0.75, 5);
      });

      it('reports a non-finite input before running, naming the argument', () => {
        const p = track(wg.compile((x: T, y: T) => wg.sum(wg.mul(x, y)), { args: [spec([2]), spec([3, 2])], checkFinite: true }));
        const err = caught(() => p.valueAndGrad(new Arr([1, 2]), new Arr([1, 2, 3, NaN, 5, 6])));
        expect(err.code).toBe('WENGERT_NON_FINITE');
        expect(err.message).toBe(`checkFinite: argument 1 (${dtype}[3,2]) holds NaN at element 3`);
        const inf = caught(() => p.run(new Arr([-Infinity, 2]), new Arr(6)));
        expect(inf.message).toBe(`checkFinite: argument 0 (${dtype}[2]) holds -Infinity at element 0`);
      });

      it('is off by default: the same program returns NaN silently', () => {
        const p = track(wg.compile(logModel, { args: [spec([4])] }));
        expect(p.run(new Arr([1, 2, -3, 4]))).toBeNaN();
        const { value, grads } = p.valueAndGrad(new Arr([1, 2, -3, 4]));
        expect(value).toBeNaN();
        expect(Number.isNaN(grads[0]![2])).toBe(true);
        // ...and can be asked for per call.
        const err = caught(() => p.run(new Arr([1, 2, -3, 4]), { checkFinite: true }));
        expect(err.code).toBe('WENGERT_NON_FINITE');
        expect(err.message).toMatch(site('log'));
        const g = caught(() => p.valueAndGrad(new Arr([1, 2, -3, 4]), { checkFinite: true }));
        expect(g.code).toBe('WENGERT_NON_FINITE');
        // A per-call false overrides the program's setting.
        const strict = track(wg.compile(logModel, { args: [spec([4])], checkFinite: true }));
        expect(strict.run(new Arr([1, 2, -3, 4]), { checkFinite: false })).toBeNaN();
      });
    });
  }

  it('checks the other entry points: jvp, vjp, hvp, jacobian, hessian and async runs', async () => {
    const p = track(wg.compile(sqrtModel, { args: [wg.f64([2])] }));
    const x = new Float64Array([0, 1]);
    const checks = [
      () => p.jvp([x], [new Float64Array([1, 1])], { checkFinite: true }),
      () => p.vjp([x], 1, { checkFinite: true }),
      () => p.hvp([x], [new Float64Array([1, 1])], { checkFinite: true }),
      () => p.jacobian(x, { checkFinite: true }),
      () => p.hessian(x, { checkFinite: true }),
    ];
    for (const f of checks) {
      const err = caught(f);
      expect(err.code).toBe('WENGERT_NON_FINITE');
      expect(err.message).toMatch(/^checkFinite: /);
    }
    // The tangent of jvp is an input of its own.
    const t = caught(() => p.jvp([new Float64Array([1, 1])], [new Float64Array([NaN, 1])], { checkFinite: true }));
    expect(t.message).toBe('checkFinite: the tangent for argument 0 (float64[2]) holds NaN at element 0');
    // vjp's cotangent flows through the gradient of sqrt: named as such.
    const v = caught(() => p.vjp([x], 1, { checkFinite: true }));
    expect(v.message).toMatch(/in the gradient of sqrt/);
    expect(v.message).toMatch(site('sqrt'));
    // Without the option, the same calls succeed with infinities.
    expect(p.vjp([x], 1).grads[0]![0]).toBe(Infinity);

    const strict = track(wg.compile(sqrtModel, { args: [wg.f64([2])], checkFinite: true }));
    const a = await rejected(() => strict.valueAndGradAsync(x));
    expect(a.code).toBe('WENGERT_NON_FINITE');
    expect(a.message).toMatch(/in the gradient of sqrt/);
  });

  it('names the gradient of a gradient', () => {
    const p = track(
      wg.compile((x: T) => wg.sum(wg.grad((y: T) => wg.sum(wg.sqrt(y)))(x)), { args: [wg.f64([2])], checkFinite: true }),
    );
    const err = caught(() => p.run(new Float64Array([1, 0])));
    expect(err.code).toBe('WENGERT_NON_FINITE');
    expect(err.message).toMatch(/in the gradient of sqrt/);
  });

  it('rejects a checkFinite option that is not a boolean', () => {
    const err = caught(() => wg.compile(logModel, { args: [wg.f64([4])], checkFinite: 1 as unknown as boolean }));
    expect(err.code).toBe('WENGERT_INVALID_ARGUMENT');
  });
});
