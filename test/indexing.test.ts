// Indices at run time and int32 through the engine: out-of-range indices in gather, scatterAdd and
// oneHot fail the run with the coded RangeError (never an out-of-bounds read), int32 inputs and
// outputs round-trip through run(), and cast follows its documented semantics.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { trackPrograms } from './helpers/track.js';

const track = trackPrograms();

function runError(fn: () => unknown): Error & { code?: unknown } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: unknown };
  }
  throw new Error('expected an error, none was thrown');
}

const BAD = [-1, 4, 2 ** 31 - 1, -(2 ** 31)];

describe('out-of-range indices fail the run with WENGERT_INDEX_OUT_OF_RANGE', () => {
  const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const cases: [string, wg.Program][] = [
    ['gather', track(wg.compile((x, i) => wg.gather(x!, i!, 0), { args: [wg.f64([4, 2]), wg.i32([3])], wrt: [] }))],
    ['gather axis 1', track(wg.compile((x, i) => wg.gather(wg.reshape(x!, [2, 4]), i!, 1), { args: [wg.f64([4, 2]), wg.i32([3])], wrt: [] }))],
    ['scatterAdd', track(wg.compile((x, i) => wg.scatterAdd(x!, i!, 1, 0), { args: [wg.f64([4, 2]), wg.i32([3])], wrt: [] }))],
    ['oneHot', track(wg.compile((x, i) => wg.add(wg.sum(x!), wg.sum(wg.oneHot(i!, 4))), { args: [wg.f64([4, 2]), wg.i32([3])], wrt: [] }))],
  ];
  for (const [name, p] of cases) {
    it(`${name}: valid indices run`, () => {
      expect(() => p.run(x, Int32Array.from([0, 3, 3]))).not.toThrow();
    });
    for (const bad of BAD) {
      it(`${name}: index ${bad} is a RangeError naming the index, its position and the range`, () => {
        const err = runError(() => p.run(x, Int32Array.from([0, bad, 1])));
        expect(err).toBeInstanceOf(RangeError);
        expect(err).toBeInstanceOf(wg.WengertRangeError);
        expect(err.code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
        expect(err.message).toContain(`index ${bad} at position 1`);
        expect(err.message).toContain('[0, 4)');
      });
    }
  }

  it('the gradient program checks too, and a failed run leaves the program usable', async () => {
    const p = track(wg.compile((x, i) => wg.sum(wg.square(wg.gather(x!, i!))), { args: [wg.f64([4]), wg.i32([2])] }));
    const err = runError(() => p.valueAndGrad(Float64Array.from([1, 2, 3, 4]), Int32Array.from([4, 0])));
    expect(err.code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
    await expect(p.valueAndGradAsync(Float64Array.from([1, 2, 3, 4]), Int32Array.from([0, -1]))).rejects.toMatchObject({ code: 'WENGERT_INDEX_OUT_OF_RANGE' });
    const { value, grads } = p.valueAndGrad(Float64Array.from([1, 2, 3, 4]), Int32Array.from([3, 3]));
    expect(value).toBe(32);
    expect(Array.from(grads[0]!)).toEqual([0, 0, 0, 16]);
  });

  it('a constant index out of range fails at run time too', () => {
    const p = track(wg.compile((x) => wg.gather(x!, [0, 5]), { args: [wg.f64([3])], wrt: [] }));
    expect(runError(() => p.run(Float64Array.from([1, 2, 3]))).code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
  });
});

describe('int32 through the engine', () => {
  it('an int32 input round-trips to an int32 output (Int32Array)', () => {
    const p = track(wg.compile((i) => i!, { args: [wg.i32([5])] , wrt: [] }));
    const v = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 7]);
    const out = p.run(v);
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out as Int32Array)).toEqual(Array.from(v));
  });

  it('shape ops move int32 values unchanged', () => {
    const p = track(
      wg.compile(
        (i) => {
          const m = wg.reshape(i!, [2, 3]);
          const t = wg.transpose(m); // [3,2]
          const c = wg.concat([t, wg.flip(t, 0)], 1); // [3,4]
          const s = wg.slice(c, [1], [2]); // [2,4]
          const b = wg.broadcastTo(wg.expandDims(s, 0), [2, 2, 4]);
          const g = wg.gather(b, wg.constant(Int32Array.of(1, 0)), 2); // [2,2,2]
          return wg.pad(wg.reshape(g, [8]), [[1, 1]], wg.constant(Int32Array.of(-7), []));
        },
        { args: [wg.i32([6])], wrt: [] },
      ),
    );
    const out = p.run(Int32Array.from([10, 11, 12, 13, 14, 15])) as Int32Array;
    // m = [[10,11,12],[13,14,15]]; t = [[10,13],[11,14],[12,15]]; flip rows: [[12,15],[11,14],[10,13]]
    // c rows: [10,13,12,15], [11,14,11,14], [12,15,10,13]; s = rows 1..2; gather cols [1,0].
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual([-7, 14, 11, 15, 12, 14, 11, 15, 12, -7]);
  });

  it('int32 scalar output and a scalar int32 argument given as a number', () => {
    const p = track(wg.compile((i) => wg.reshape(i!, []), { args: [wg.i32([1])], wrt: [] }));
    expect(p.run(Int32Array.of(-3))).toBe(-3);
    const q = track(wg.compile((x, i) => wg.gather(x!, i!), { args: [wg.f64([3]), wg.i32([])], wrt: [] }));
    expect(q.run(Float64Array.from([5, 6, 7]), 2)).toBe(7);
  });

  it('the gradient of an int32 output is refused with a coded error; run() works', () => {
    const p = track(wg.compile((x) => wg.cast(wg.sum(x!), 'int32'), { args: [wg.f64([3])] }));
    expect(p.run(Float64Array.from([1.5, 2.5, -0.5]))).toBe(3);
    expect(runError(() => p.valueAndGrad(Float64Array.from([1, 2, 3]))).code).toBe('WENGERT_DTYPE_MISMATCH');
  });

  it('arithmetic on int32 is refused at trace time', () => {
    const err = runError(() => wg.compile((i) => wg.add(i!, 1), { args: [wg.i32([2])], wrt: [] }));
    expect(err.code).toBe('WENGERT_DTYPE_MISMATCH');
  });

  it('int32 constants: arange, full, eye, oneHot in int32', () => {
    const p = track(
      wg.compile(
        (i) => wg.concat([wg.arange(3, undefined, 1, 'int32'), wg.full([2], -4, 'int32'), wg.reshape(wg.eye(2, 2, 'int32'), [4]), wg.reshape(wg.oneHot(i!, 2, 'int32'), [2])]),
        { args: [wg.i32([1])], wrt: [] },
      ),
    );
    expect(Array.from(p.run(Int32Array.of(1)) as Int32Array)).toEqual([0, 1, 2, -4, -4, 1, 0, 0, 1, 0, 1]);
  });
});

describe('cast', () => {
  const vals = [2.7, -2.7, 0.5, -0.5, -0, 1e10, -1e10, 2147483647.9, -2147483648.5, NaN, Infinity, -Infinity, 3];
  it('float64 → int32 truncates toward zero, saturates, NaN → 0', () => {
    const p = track(wg.compile((x) => wg.cast(x!, 'int32'), { args: [wg.f64([vals.length])], wrt: [] }));
    const out = p.run(Float64Array.from(vals)) as Int32Array;
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual([2, -2, 0, 0, 0, 2 ** 31 - 1, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31), 0, 2 ** 31 - 1, -(2 ** 31), 3]);
  });
  it('float32 → int32 the same way', () => {
    const p = track(wg.compile((x) => wg.cast(x!, 'int32'), { args: [wg.f32([vals.length])], wrt: [] }));
    const out = p.run(Float32Array.from(vals)) as Int32Array;
    expect(Array.from(out)).toEqual([2, -2, 0, 0, 0, 2 ** 31 - 1, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31), 0, 2 ** 31 - 1, -(2 ** 31), 3]);
  });
  it('int32 → float64 exact, → float32 rounded to nearest', () => {
    const v = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 16777217]);
    const p64 = track(wg.compile((i) => wg.cast(i!, 'float64'), { args: [wg.i32([5])], wrt: [] }));
    expect(Array.from(p64.run(v) as Float64Array)).toEqual(Array.from(v));
    const p32 = track(wg.compile((i) => wg.cast(i!, 'float32'), { args: [wg.i32([5])], wrt: [] }));
    expect(Array.from(p32.run(v) as Float32Array)).toEqual(Array.from(Float32Array.from(v)));
  });
  it('float64 ↔ float32 round to nearest; the derivative is the identity between floats', () => {
    const p = track(wg.compile((x) => wg.sum(wg.mul(wg.cast(wg.cast(x!, 'float32'), 'float64'), 3)), { args: [wg.f64([3])] }));
    const x = Float64Array.from([0.1, 1e300, -1 / 3]);
    const { value, grads } = p.valueAndGrad(x);
    expect(value).toBe(3 * (Math.fround(0.1) + Infinity + Math.fround(-1 / 3)));
    expect(Array.from(grads[0]!)).toEqual([3, 3, 3]);
  });
  it('no derivative through int32: the gradient is zero', () => {
    const p = track(wg.compile((x) => wg.sum(wg.cast(wg.cast(x!, 'int32'), 'float64')), { args: [wg.f64([2])] }));
    const { value, grads } = p.valueAndGrad(Float64Array.from([1.5, -2.5]));
    expect(value).toBe(-1);
    expect(Array.from(grads[0]!)).toEqual([0, 0]);
  });
  it('a cast to the same dtype is the tensor itself; a method spelling exists', () => {
    wg.compile(
      (x) => {
        expect(wg.cast(x!, 'float64')).toBe(x);
        expect(x!.cast('float32').dtype).toBe('float32');
        return wg.sum(x!);
      },
      { args: [wg.f64([2])] },
    ).dispose();
  });
});

describe('scatterAdd accumulates duplicates deterministically', () => {
  it('repeated indices sum, bit for bit the same on every run', () => {
    const p = track(wg.compile((x, i, u) => wg.scatterAdd(x!, i!, u!), { args: [wg.f64([3]), wg.i32([6]), wg.f64([6])], wrt: [] }));
    const u = Float64Array.from([0.1, 0.2, 0.3, 1e16, -1e16, 0.7]);
    const i = Int32Array.from([0, 0, 0, 2, 2, 2]);
    const out = p.run(Float64Array.from([1, 2, 3]), i, u) as Float64Array;
    expect(Array.from(out)).toEqual([1 + 0.1 + 0.2 + 0.3, 2, 3 + 1e16 - 1e16 + 0.7]);
    for (let k = 0; k < 5; k++) expect(Array.from(p.run(Float64Array.from([1, 2, 3]), i, u) as Float64Array)).toEqual(Array.from(out));
  });
});
