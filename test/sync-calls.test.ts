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

describe('native run: one Node-API call per array, a run function bound to its program', () => {
  /** Detaches `a`'s ArrayBuffer as postMessage does. */
  const detach = (a: { buffer: ArrayBufferLike }): void => void structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });

  it('flat calls: a detached input or output is an empty view, never read or written', () => {
    const native = nativeBinding().compile(serializeProgram(twoArgs(), 'valueAndGrad'), 1 << 20);
    try {
      const outs = (): [Float64Array, Float64Array, Float64Array] => [new Float64Array(1), new Float64Array(3), new Float64Array(3)];
      const x = Float64Array.from(X);
      detach(x);
      expect(caught(() => native.run(x, Y, ...outs()))).toMatchObject({ code: 'WENGERT_INPUT_LENGTH', message: 'input 0 must have 3 elements, got 0' });
      // A view at an offset into a buffer that is then detached.
      const big = new Float64Array(8);
      const y = big.subarray(4, 7);
      y.set(Y);
      detach(big);
      expect(y.length).toBe(0);
      expect(caught(() => native.run(X, y, ...outs()))).toMatchObject({ code: 'WENGERT_INPUT_LENGTH', message: 'input 1 must have 3 elements, got 0' });
      const o = outs();
      const g = new Float64Array(16).subarray(8, 11);
      detach(g);
      expect(caught(() => native.run(X, Y, o[0], o[1], g))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: 'output 2 must have 3 elements, got 0' });
      expect(o[0][0]).toBe(0); // nothing ran
      // Not a typed array at all, or another element type: named in the message.
      for (const [bad, name] of [[undefined, 'undefined'], [null, 'null'], [[1, 2, 3], 'an Array'], [{ length: 3 }, 'not a typed array'], [new DataView(new ArrayBuffer(24)), 'not a typed array'], [new Uint8Array(3), 'a typed array of another element type']] as const) {
        const e = caught(() => (native.run as (...a: unknown[]) => void)(X, Y, o[0], o[1], bad));
        expect(e).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: `output 2 must be a Float64Array, got ${name}` });
        expect(e).toBeInstanceOf(TypeError);
      }
      // The good call still runs.
      native.run(X, Y, o[0], o[1], o[2]);
      expect(o[0][0]).toBeCloseTo(VALUE, 14);
    } finally {
      native.dispose();
    }
  });

  it('takes many arrays (more than kept inline) in either convention', () => {
    // 20 scalar arguments: the flat call has 21 arrays.
    const n = 20;
    const p = track(wg.compile((...xs) => xs.reduce((s, x, i) => wg.add(s, wg.mul(x, i + 1))), { args: Array.from({ length: n }, () => wg.f64([])) }));
    const xs = Array.from({ length: n }, (_, i) => Float64Array.of(i * 0.5 - 3));
    const want = xs.reduce((s, x, i) => s + x[0]! * (i + 1), 0);
    expect(p.run(...xs)).toBe(want);
    const native = nativeBinding().compile(serializeProgram(p, 'forward'), 1 << 20);
    try {
      const y = new Float64Array(1);
      native.run(...xs, y);
      expect(y[0]).toBe(want);
      const y2 = new Float64Array(1);
      native.run(xs, [y2]);
      expect(y2[0]).toBe(want);
      expect(caught(() => native.run(...xs))).toMatchObject({ code: 'WENGERT_INPUT_COUNT', message: `expected ${n} inputs and 1 outputs as arguments, got ${n}` });
      expect(caught(() => native.run(...xs, y, y2))).toMatchObject({ code: 'WENGERT_INPUT_COUNT' });
    } finally {
      native.dispose();
    }
  });

  it('run is bound to the program: it works detached from the object and sees dispose()', () => {
    const native = nativeBinding().compile(serializeProgram(twoArgs(), 'valueAndGrad'), 1 << 20);
    const run = native.run as (...a: Float64Array[]) => void;
    const v = new Float64Array(1);
    run(X, Y, v, new Float64Array(3), new Float64Array(3));
    expect(v[0]).toBeCloseTo(VALUE, 14);
    // The prototype's run gives the same result when called on the object.
    const proto = Object.getPrototypeOf(native) as { run: (...a: Float64Array[]) => void; constructor: new () => { run: (...a: Float64Array[]) => void } };
    const v2 = new Float64Array(1);
    proto.run.call(native, X, Y, v2, new Float64Array(3), new Float64Array(3));
    expect(v2[0]).toBe(v[0]);
    native.dispose();
    expect(caught(() => run(X, Y, v, new Float64Array(3), new Float64Array(3)))).toMatchObject({ code: 'WENGERT_DISPOSED' });
    expect(caught(() => native.run([X, Y], [v, new Float64Array(3), new Float64Array(3)]))).toMatchObject({ code: 'WENGERT_DISPOSED' });
    expect(caught(() => proto.run.call(native, X, Y, v, new Float64Array(3), new Float64Array(3)))).toMatchObject({ code: 'WENGERT_DISPOSED' });
    // An object made with `new` has no program: its run (the prototype's) throws, never crashes.
    const inert = new proto.constructor();
    expect(caught(() => inert.run(X, Y, v, new Float64Array(3), new Float64Array(3)))).toMatchObject({ code: 'WENGERT_DISPOSED' });
  });
});

describe('the synchronous fast path leaves the array checks to the engine, with the same errors', () => {
  it('a bad input is reported with the TypeScript message, the first bad one first', () => {
    const p = twoArgs();
    for (const call of [(...a: unknown[]) => p.valueAndGrad(...(a as Float64Array[])), (...a: unknown[]) => p.run(...(a as Float64Array[]))]) {
      const dtype = caught(() => call(new Float32Array(3), Y));
      expect(dtype).toBeInstanceOf(wg.WengertTypeError);
      expect(dtype).toMatchObject({ code: 'WENGERT_INPUT_DTYPE', message: 'input 0: expected a Float64Array (float64, shape [3]), got Float32Array' });
      expect(caught(() => call(X, new Float64Array(4)))).toMatchObject({ code: 'WENGERT_INPUT_LENGTH', message: 'input 1: expected 3 elements (shape [3]), got 4' });
      // Input 0 is wrong before input 1 (a number for a vector argument) is looked at.
      expect(caught(() => call(new Int32Array(3), 2))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE', message: expect.stringMatching(/^input 0: .*got Int32Array$/) });
      expect(caught(() => call(X, 2))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE', message: expect.stringMatching(/^input 1: a number was passed/) });
      expect(caught(() => call(X))).toMatchObject({ code: 'WENGERT_INPUT_COUNT' });
    }
  });

  it('a plain array of typed arrays as the first input is an error, never the array calling convention', () => {
    const p = twoArgs();
    const v = new Float64Array(1);
    const g = [new Float64Array(3), new Float64Array(3)];
    // As the engine's run([inputs], [outputs]) these would be valid.
    expect(caught(() => p.valueAndGrad([X, Y] as unknown as Float64Array, [v, ...g] as unknown as Float64Array))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE', message: expect.stringMatching(/^input 0: .*got Array$/) });
    expect(v[0]).toBe(0);
    const q = track(wg.compile((x, y) => wg.add(x!, y!), { args: [wg.f64([3]), wg.f64([3])] }));
    expect(caught(() => q.run([X, Y] as unknown as Float64Array, [new Float64Array(3)] as unknown as Float64Array))).toMatchObject({ code: 'WENGERT_INPUT_DTYPE' });
  });

  it('every out array is checked: none is skipped, replaced or ignored', () => {
    const p = twoArgs();
    const g = (): Float64Array => new Float64Array(3);
    for (const bad of [undefined, null, 3, [1, 2, 3], new Float32Array(3), new Float64Array(2)]) {
      const e = caught(() => p.valueAndGrad(X, Y, { out: [g(), bad as Float64Array] }));
      expect(e).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/^p\.valueAndGrad: options\.out\[1\] must (be a Float64Array|have 3 elements)/) });
    }
    expect(caught(() => p.valueAndGrad(X, Y, { out: [g(), g(), g()] }))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/must be an array of 2 typed arrays, got 3/) });
    const q = track(wg.compile((x) => wg.mul(x, 2), { args: [wg.f64([3])] }));
    for (const bad of [undefined, null, new Float64Array(4), new Int32Array(3)]) {
      expect(caught(() => q.run(X, { out: [bad as Float64Array] }))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/^p\.run: options\.out\[0\] must/) });
    }
    expect(caught(() => q.run(X, { out: [new Float64Array(3), new Float64Array(3)] }))).toMatchObject({ code: 'WENGERT_OUTPUT_SPEC', message: expect.stringMatching(/must be an array of one typed array, got 2/) });
  });

  it('a disposed program is reported after a bad input, as before', () => {
    const p = twoArgs();
    p.valueAndGrad(X, Y);
    p.dispose();
    expect(caught(() => p.valueAndGrad(X, Y))).toMatchObject({ code: 'WENGERT_DISPOSED' });
    expect(caught(() => p.run(X, Y))).toMatchObject({ code: 'WENGERT_DISPOSED' });
  });
});

describe('small programs (steps of a few elements)', () => {
  // W6 of BENCH.md, Σ sin(x)·x + exp(−x²), for lengths 1..33 and 64/65 (the small-step limit): the
  // gradient is cos(x)·x + sin(x) − 2x·exp(−x²), and a checkFinite call (which runs every step
  // through its kernel) gives the same bits as the default call (small steps where they apply).
  const w6 = (x: wg.Tensor) => wg.sum(wg.add(wg.mul(wg.sin(x), x), wg.exp(wg.neg(wg.square(x)))));
  for (const dtype of ['f64', 'f32'] as const) {
    it(`W6 value and gradient, ${dtype}, lengths 1..33, 64, 65`, () => {
      for (const n of [...Array.from({ length: 33 }, (_, i) => i + 1), 64, 65]) {
        const p = track(wg.compile(w6, { args: [dtype === 'f64' ? wg.f64([n]) : wg.f32([n])] }));
        const values = Array.from({ length: n }, (_, i) => Math.sin(3 * i + n) * 1.5);
        const x = dtype === 'f64' ? Float64Array.from(values) : Float32Array.from(values);
        const fast = p.valueAndGrad(x);
        const checked = p.valueAndGrad(x, { checkFinite: true });
        expect(Object.is(fast.value, checked.value)).toBe(true);
        expect(Array.from(fast.grads[0]!)).toEqual(Array.from(checked.grads[0]!));
        const tol = dtype === 'f64' ? 1e-13 : 1e-5;
        let value = 0;
        for (let i = 0; i < n; i++) {
          const v = x[i]!;
          value += Math.sin(v) * v + Math.exp(-v * v);
          const g = Math.cos(v) * v + Math.sin(v) - 2 * v * Math.exp(-v * v);
          expect(Math.abs(fast.grads[0]![i]! - g)).toBeLessThanOrEqual(tol * (1 + Math.abs(g)));
        }
        expect(Math.abs(fast.value - value)).toBeLessThanOrEqual(tol * n * (1 + Math.abs(value)));
      }
    });
  }
});
