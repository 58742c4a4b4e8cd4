// Dense Jacobians (p.jacobian): vector mode over the JVP (forward) or the VJP (reverse), one run for
// all directions. Checked: the mode chosen by shape, forward and reverse agreeing to rounding, an
// analytic Jacobian, and the residual functions of the Moré–Garbow–Hillstrom problems
// (../shared/data/mgh.json) against finite differences of their plain-JS definitions, every
// problem variant, float64 and float32.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose, maxAbs } from './helpers/compare.js';
import { partialFD } from './helpers/fd.js';
import { rewriteBody, traceResiduals } from './helpers/js-to-wg.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
const track = trackPrograms();
const DTYPES = [
  ['float64', wg.f64, Float64Array],
  ['float32', wg.f32, Float32Array],
] as const;

/** max |a - b| / max |b|: the error relative to the Jacobian's scale. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / maxAbs(b, Number.MIN_VALUE);
}

// ---------------------------------------------------------------------------------------------
// Mode by shape, both modes, an analytic Jacobian

const M = 1000;
const tGrid = Float64Array.from({ length: M }, (_, i) => i / M);

/** Tall: 2 inputs, 1000 outputs, y_i = x0·exp(-t_i·x1) + sin(t_i·x0). */
const tall = (x: T): T => {
  const t = wg.cast(wg.constant(tGrid), x.dtype);
  const [x0, x1] = [wg.reshape(wg.slice(x, [0], [1]), []), wg.reshape(wg.slice(x, [1], [1]), [])];
  return wg.add(wg.mul(x0, wg.exp(wg.neg(wg.mul(t, x1)))), wg.sin(wg.mul(t, x0)));
};
function tallJacobian(x: ArrayLike<number>): Float64Array {
  const J = new Float64Array(M * 2);
  for (let i = 0; i < M; i++) {
    const t = tGrid[i]!;
    const e = Math.exp(-t * x[1]!);
    J[2 * i] = e + t * Math.cos(t * x[0]!);
    J[2 * i + 1] = -x[0]! * t * e;
  }
  return J;
}

/** Wide: 1000 inputs, 2 outputs, [Σ w_j sin x_j, Σ x_j² / 2]. */
const wide = (x: T): T => {
  const w = wg.cast(wg.constant(tGrid), x.dtype);
  return wg.stack([wg.sum(wg.mul(w, wg.sin(x))), wg.mul(wg.sum(wg.square(x)), 0.5)]);
};
function wideJacobian(x: ArrayLike<number>): Float64Array {
  const J = new Float64Array(2 * M);
  for (let j = 0; j < M; j++) {
    J[j] = tGrid[j]! * Math.cos(x[j]!);
    J[M + j] = x[j]!;
  }
  return J;
}

describe('jacobian: mode by shape, both modes agree', () => {
  for (const [dtype, spec, Arr] of DTYPES) {
    // Forward and reverse sum the same products in different orders: equal to rounding.
    const agree = dtype === 'float64' ? 1e-13 : 1e-5;
    const exact = dtype === 'float64' ? 1e-13 : 1e-5;

    it(`a 2-input, 1000-output function uses forward mode (${dtype})`, () => {
      const p = track(wg.compile(tall, { args: [spec([2])] }));
      expect(p.jacobianMode()).toBe('forward');
      const x = Arr.from([0.7, -1.3]);
      const fwd = p.jacobian(x);
      expect(fwd.mode).toBe('forward');
      expect([fwd.rows, fwd.cols]).toEqual([M, 2]);
      expect(fwd.jacobian).toBeInstanceOf(Arr);
      const rev = p.jacobian(x, { mode: 'reverse' });
      expect(rev.mode).toBe('reverse');
      expect(scaledErr(rev.jacobian, fwd.jacobian)).toBeLessThan(agree);
      expect(scaledErr(fwd.jacobian, tallJacobian(x))).toBeLessThan(exact);
      expect(Array.from(fwd.value as ArrayLike<number>)).toEqual(Array.from(p.run(x) as ArrayLike<number>));
    });

    it(`a 1000-input, 2-output function uses reverse mode (${dtype})`, () => {
      const p = track(wg.compile(wide, { args: [spec([M])] }));
      expect(p.jacobianMode()).toBe('reverse');
      const x = Arr.from(Array.from({ length: M }, (_, j) => Math.sin(j) * 2));
      const rev = p.jacobian(x);
      expect(rev.mode).toBe('reverse');
      expect([rev.rows, rev.cols]).toEqual([2, M]);
      const fwd = p.jacobian(x, { mode: 'forward' });
      expect(fwd.mode).toBe('forward');
      expect(scaledErr(fwd.jacobian, rev.jacobian)).toBeLessThan(agree);
      expect(scaledErr(rev.jacobian, wideJacobian(x))).toBeLessThan(exact);
    });
  }

  it('several wrt arguments of several shapes are concatenated, flattened row-major', async () => {
    // f(A, b) = A·b for A [2, 3], b [3]: ∂f_i/∂A_kl = δ_ik b_l, ∂f_i/∂b_l = A_il.
    const p = track(wg.compile((a: T, b: T) => wg.matmul(a, b), { args: [wg.f64([2, 3]), wg.f64([3])], wrt: [0, 1] }));
    const A = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float64Array.from([-1, 0.5, 2]);
    const expected = [-1, 0.5, 2, 0, 0, 0, 1, 2, 3, 0, 0, 0, -1, 0.5, 2, 4, 5, 6];
    for (const mode of ['forward', 'reverse'] as const) {
      expect(Array.from(p.jacobian(A, b, { mode }).jacobian)).toEqual(expected);
      expect(Array.from((await p.jacobianAsync(A, b, { mode })).jacobian)).toEqual(expected);
    }
    expect(p.jacobian(A, b).mode).toBe('reverse'); // 9 inputs, 2 outputs
  });

  it('an output that does not depend on an argument gets zero columns; a scalar output one row', () => {
    const p = track(wg.compile((x: T, _y: T) => wg.sum(wg.square(x)), { args: [wg.f64([2]), wg.f64([2])], wrt: [0, 1] }));
    for (const mode of ['forward', 'reverse'] as const) {
      const r = p.jacobian(Float64Array.from([1, -2]), Float64Array.from([3, 4]), { mode });
      expect(r.value).toBe(5);
      expect(Array.from(r.jacobian)).toEqual([2, -4, 0, 0]);
    }
  });

  it('rejects a bad mode, a non-float output and bad inputs with coded errors', () => {
    const p = track(wg.compile((x: T) => wg.sin(x), { args: [wg.f64([2])] }));
    expect(() => p.jacobian(new Float64Array(2), { mode: 'sideways' as never })).toThrow(expect.objectContaining({ code: 'WENGERT_INVALID_ARGUMENT' }));
    expect(() => p.jacobian(new Float64Array(3))).toThrow(expect.objectContaining({ code: 'WENGERT_INPUT_LENGTH' }));
    expect(() => p.jacobian(new Float32Array(2))).toThrow(expect.objectContaining({ code: 'WENGERT_INPUT_DTYPE' }));
    expect(() => p.jacobian()).toThrow(expect.objectContaining({ code: 'WENGERT_INPUT_COUNT' }));
    const q = track(wg.compile((x: T) => wg.argmax(x), { args: [wg.f64([2])] }));
    expect(() => q.jacobian(new Float64Array(2))).toThrow(expect.objectContaining({ code: 'WENGERT_DTYPE_MISMATCH' }));
  });
});

// ---------------------------------------------------------------------------------------------
// The MGH residual functions against finite differences

interface MghProblem {
  readonly id: string;
  readonly n: number;
  readonly m: number;
  readonly residuals_js: string;
  readonly x0: number[];
}

const MGH = JSON.parse(readFileSync(fileURLToPath(new URL('../../shared/data/mgh.json', import.meta.url)), 'utf8')) as { problems: MghProblem[] };

/**
 * The Jacobian of the plain-JS residuals at x by Richardson-extrapolated central differences
 * (helpers/fd.ts), with a relative step of 1e-4 rather than the default 1e-3: Osborne 1 has
 * exp(-t·x4) with t up to 320, where a step of 1e-3 leaves a truncation error of 2e-7.
 */
function fdJacobian(res: (x: number[]) => number[], x: ArrayLike<number>, m: number): Float64Array {
  const n = x.length;
  const J = new Float64Array(m * n);
  const work = Float64Array.from(x);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) J[i * n + j] = partialFD(() => res(Array.from(work))[i]!, work, j, { step: 1e-4 });
  }
  return J;
}

/** A second point near x0 (x0 may sit on a special point, e.g. zeros). */
const nudge = (x0: readonly number[]): number[] => x0.map((v, j) => v * 1.05 + 0.02 * (j % 2 === 0 ? 1 : -1));

describe('jacobian: the MGH residual functions against finite differences', () => {
  it('covers every problem variant in mgh.json', () => {
    expect(MGH.problems.length).toBeGreaterThanOrEqual(45);
    for (const p of MGH.problems) expect(() => rewriteBody(p.residuals_js), p.id).not.toThrow();
  });

  for (const prob of MGH.problems) {
    it(`${prob.id} (n=${prob.n}, m=${prob.m})`, () => {
      const rewritten = rewriteBody(prob.residuals_js);
      const res = new Function('x', prob.residuals_js) as (x: number[]) => number[];
      for (const at of [prob.x0, nudge(prob.x0)]) {
        for (const [dtype, spec, Arr] of DTYPES) {
          const x = Arr.from(at);
          const xv = Array.from(x); // the point as the program sees it (rounded to float32 for f32)
          const p = track(wg.compile((t: T) => traceResiduals(rewritten, t, xv), { args: [spec([prob.n])] }));
          const fwd = p.jacobian(x, { mode: 'forward' });
          const rev = p.jacobian(x, { mode: 'reverse' });
          expect(p.jacobianMode()).toBe(prob.n <= prob.m ? 'forward' : 'reverse');
          // The value is the plain-JS residual vector.
          const f = res(xv);
          assertClose(fwd.value as ArrayLike<number>, f, dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 * maxAbs(f, 1) } : { rtol: 1e-4, atol: 1e-5 * maxAbs(f, 1) }, `${prob.id} value`);
          // Against finite differences, each row to its own scale: the FD error is about 1e-10 of
          // the row's derivatives plus the rounding term 3ε|f_i|/h ≈ 7e-12·|f_i| (h = 1e-4): a
          // residual of 1e6 (Brown badly scaled) leaves 7e-6 of rounding in its FD row.
          const J = fdJacobian(res, xv, prob.m);
          for (let i = 0; i < prob.m; i++) {
            const row = J.subarray(i * prob.n, (i + 1) * prob.n);
            const scale = maxAbs(row, 1e-300) + 1e-4 * Math.abs(f[i]!);
            const tol = dtype === 'float64' ? { rtol: 1e-7, atol: 1e-7 * scale } : { rtol: 2e-3, atol: 2e-3 * scale };
            assertClose(fwd.jacobian.subarray(i * prob.n, (i + 1) * prob.n), row, tol, `${prob.id} ${dtype} forward row ${i} at [${at.join(', ')}]`);
            assertClose(rev.jacobian.subarray(i * prob.n, (i + 1) * prob.n), row, tol, `${prob.id} ${dtype} reverse row ${i}`);
          }
          if (dtype === 'float64') expect(scaledErr(fwd.jacobian, rev.jacobian), `${prob.id} forward vs reverse`).toBeLessThan(1e-13);
        }
      }
    });
  }
});
