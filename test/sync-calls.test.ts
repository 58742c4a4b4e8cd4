// The synchronous call path: run and valueAndGrad with caller-supplied output arrays
// (`{ out }`), their validation, and the flat calling convention of the native run that they use.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { nativeBinding, serializeProgram } from '../ts/internal.js';
import { trackPrograms } from './helpers/track.js';

const track = trackPrograms();

/** f(x, y) = Σ x²·y + sin(y), with the gradient w.r.t. both: 2xy and x² + cos y. */
function twoArgs(): wg.Program {
  return track(wg.compile((x, y) => wg.sum(wg.add(wg.mul(wg.square(x!), y!), wg.sin(y!))), { args: [wg.f64([3]), wg.f64([3])], wrt: [0, 1] }));
}
const X = new Float64Array([1, -2, 0.5]);
const Y = new Float64Array([0.25, 3, -1]);
const VALUE = [0, 1, 2].reduce((s, i) => s + X[i]! ** 2 * Y[i]! + Math.sin(Y[i]!), 0);
const GX = [0, 1, 2].map((i) => 2 * X[i]! * Y[i]!);
const GY = [0, 1, 2].map((i) => X[i]! ** 2 + Math.cos(Y[i]!));

function caught(fn: () => unknown): Error & { code?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error & { code?: unknown };
  }
  throw new Error('expected an error, none was thrown');
}

describe('valueAndGrad { out }', () => {
  it('writes the gradients into the given arrays and returns them', () => {
    const p = twoArgs();
    const gx = new Float64Array(3).fill(NaN);
    const gy = new Float64Array(3).fill(NaN);
    const r = p.valueAndGrad(X, Y, { out: [gx, gy] });
    expect(r.grads[0]).toBe(gx);
    expect(r.grads[1]).toBe(gy);
    expect(r.value).toBeCloseTo(VALUE, 14);
    for (let i = 0; i < 3; i++) {
      expect(gx[i]).toBeCloseTo(GX[i]!, 14);
      expect(gy[i]).toBeCloseTo(GY[i]!, 14);
    }
    // The same numbers as without `out`, bit for bit, call after call.
    const fresh = p.valueAndGrad(X, Y);
    expect(fresh.grads[0]).not.toBe(gx);
    for (let k = 0; k < 3; k++) {
      const again = p.valueAndGrad(X, Y, { out: [gx, gy] });
      expect(again.value).toBe(fresh.value);
      expect(Array.from(gx)).toEqual(Array.from(fresh.grads[0]!));
      expect(Array.from(gy)).toEqual(Array.from(fresh.grads[1]!));
    }
  });

  it('accepts number inputs and float32, and an empty options object', () => {
    const p = track(wg.compile((a) => wg.mul(wg.square(a), 3), { args: [wg.f32([])] }));
    const g = new Float32Array(1);
    expect(p.valueAndGrad(2, { out: [g] }).value).toBe(12);
    expect(g[0]).toBe(12);
    expect(Array.from(p.valueAndGrad(2, {}).grads[0]!)).toEqual([12]);
  });

  it('rejects a wrong count, dtype or length with WENGERT_OUTPUT_SPEC', () => {
    const p = twoArgs();
    const ok = () => new Float64Array(3);
    const count = caught(() => p.valueAndGrad(X, Y, { out: [ok()] }));
    expect(count).toBeInstanceOf(RangeError);
    expect(count).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/valueAndGrad: options\.out must be an array of 2 typed arrays, got 1/) });
    const notArray = caught(() => p.valueAndGrad(X, Y, { out: ok() as unknown as Float64Array[] }));
    expect(notArray).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC' });
    const dtype = caught(() => p.valueAndGrad(X, Y, { out: [ok(), new Float32Array(3)] as Float64Array[] }));
    expect(dtype).toBeInstanceOf(TypeError);
    expect(dtype).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/options\.out\[1\] must be a Float64Array \(float64, shape \[3\]\), got Float32Array/) });
    const length = caught(() => p.valueAndGrad(X, Y, { out: [new Float64Array(4), ok()] }));
    expect(length).toBeInstanceOf(RangeError);
    expect(length).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/options\.out\[0\] must have 3 elements \(shape \[3\]\), got 4/) });
  });

  it('rejects output arrays that share memory with an input or with each other', () => {
    const p = twoArgs();
    const x = Float64Array.from(X);
    const intoInput = caught(() => p.valueAndGrad(x, Y, { out: [x, new Float64Array(3)] }));
    expect(intoInput).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT', message: expect.stringMatching(/options\.out\[0\] shares memory with input 0/) });
    const buf = new Float64Array(5);
    const overlapping = caught(() => p.valueAndGrad(X, Y, { out: [buf.subarray(0, 3), buf.subarray(2, 5)] }));
    expect(overlapping).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT', message: expect.stringMatching(/options\.out\[1\] shares memory with options\.out\[0\]/) });
    // Disjoint views of one buffer are fine.
    const big = new Float64Array(6);
    p.valueAndGrad(X, Y, { out: [big.subarray(0, 3), big.subarray(3, 6)] });
    expect(big[0]).toBeCloseTo(GX[0]!, 14);
    expect(big[5]).toBeCloseTo(GY[2]!, 14);
  });

  it('checks the inputs first, and a disposed program still throws WENGERT_DISPOSED', () => {
    const p = twoArgs();
    expect(caught(() => p.valueAndGrad(X, { out: [new Float64Array(3), new Float64Array(3)] }))).toMatchObject({ code: 'WENGERT_INPUT_COUNT' });
    expect(caught(() => p.valueAndGrad(X, new Float32Array(3), { out: [new Float64Array(3), new Float64Array(3)] }))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE' });
    // A plain array is a wrong input, not options.
    expect(caught(() => p.valueAndGrad(X, [1, 2, 3] as unknown as Float64Array))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE', message: expect.stringMatching(/input 1: .*got Array/) });
    expect(caught(() => p.run(X, [1, 2, 3] as unknown as Float64Array))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE' });
    p.dispose();
    expect(caught(() => p.valueAndGrad(X, Y, { out: [new Float64Array(3), new Float64Array(3)] }))).toMatchObject({ code: 'WENGERT_DISPOSED' });
  });
});

describe('run { out }', () => {
  it('writes a tensor output into the given array and returns it', () => {
    const p = track(wg.compile((x) => wg.mul(x, 2), { args: [wg.f64([3])] }));
    const y = new Float64Array(3);
    expect(p.run(X, { out: [y] })).toBe(y);
    expect(Array.from(y)).toEqual([2, -4, 1]);
    expect(p.run(X)).not.toBe(y);
  });

  it('returns the number for a scalar output, also written into out[0]', () => {
    const p = track(wg.compile((x) => wg.sum(x), { args: [wg.f64([3])] }));
    const y = new Float64Array(1);
    expect(p.run(X, { out: [y] })).toBe(-0.5);
    expect(y[0]).toBe(-0.5);
  });

  it('writes int32 outputs and validates like valueAndGrad', () => {
    const p = track(wg.compile((x) => wg.argmax(x), { args: [wg.f64([3])] }));
    const i = new Int32Array([-1]);
    expect(p.run(new Float64Array([1, -2, 5]), { out: [i] })).toBe(2);
    expect(i[0]).toBe(2);
    expect(caught(() => p.run(X, { out: [new Float64Array(1)] }))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/run: options\.out\[0\] must be a Int32Array/) });
    expect(caught(() => p.run(X, { out: [] }))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC' });
    const q = track(wg.compile((x) => wg.neg(x), { args: [wg.f64([3])] }));
    const x = Float64Array.from(X);
    expect(caught(() => q.run(x, { out: [x] }))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
  });
});

describe('native run, flat calling convention', () => {
  it('takes the typed arrays as arguments and checks their count, dtype and length', () => {
    const p = twoArgs();
    const native = nativeBinding().compile(serializeProgram(p, 'valueAndGrad'), 1 << 20);
    try {
      const v = new Float64Array(1);
      const gx = new Float64Array(3);
      const gy = new Float64Array(3);
      native.run(X, Y, v, gx, gy);
      expect(v[0]).toBeCloseTo(VALUE, 14);
      expect(gy[1]).toBeCloseTo(GY[1]!, 14);
      // The array form gives the same numbers.
      const v2 = new Float64Array(1);
      native.run([X, Y], [v2, new Float64Array(3), new Float64Array(3)]);
      expect(v2[0]).toBe(v[0]);
      expect(caught(() => native.run(X, Y, v, gx))).toMatchObject({ code: 'WENGERT_INPUT_COUNT', message: expect.stringMatching(/expected 2 inputs and 3 outputs as arguments, got 4/) });
      expect(caught(() => native.run(X, new Float32Array(3), v, gx, gy))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE' });
      expect(caught(() => native.run(X, Y, v, gx, new Float64Array(2)))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC' });
      expect(caught(() => (native.run as (...a: unknown[]) => void)(X, Y, v, gx, 7))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC' });
      // An output may not share memory with an input or another output, in either convention.
      const x = Float64Array.from(X);
      expect(caught(() => native.run(x, Y, v, x, gy))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT', message: expect.stringMatching(/output 1 shares memory with input 0/) });
      const both = new Float64Array(5);
      expect(caught(() => native.run([X, Y], [v, both.subarray(0, 3), both.subarray(2, 5)]))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT', message: expect.stringMatching(/output 2 shares memory with output 1/) });
      expect(caught(() => native.run([X, Y], [v, gx, gx]))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
    } finally {
      native.dispose();
    }
  });
});
