// The reductions at the points the op table cannot reach: ties (max, min and the ∞-norm split the
// derivative evenly; argmax and argmin return the first index), zeros in prod (the derivative is
// the product of the others, finite), logSumExp / softmax / logSoftmax at ±1e3 and ±1e300 (finite
// values and derivatives), the 2-norm at 1e200 and 1e-200 (no overflow or underflow), the
// conventions at zero (norm'(0) = 0, std' = 0 at zero variance), and argument errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose, type Tol } from './helpers/compare.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
const track = trackPrograms();

// The expected values below are exact or correctly rounded sums of a few terms; the ops reach them
// within a few ulp.
const TIGHT: Tol = { rtol: 1e-14, atol: 1e-300 };
const EXACT: Tol = { rtol: 0, atol: 0 };

type FloatDType = 'float64' | 'float32';
const spec = (shape: readonly number[], dtype: FloatDType): wg.ArgSpec => (dtype === 'float64' ? wg.f64(shape) : wg.f32(shape));
const data = (x: readonly number[], dtype: FloatDType): Float64Array | Float32Array =>
  dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x);

/** Value and gradient of loss = Σ w ⊙ f(x) (w = 1 when omitted), for x of `shape`. */
function valueAndGrad(
  f: (x: T) => T,
  x: readonly number[],
  shape: readonly number[] = [x.length],
  w?: readonly number[],
  dtype: FloatDType = 'float64',
): { y: number[]; value: number; grad: number[] } {
  const fwd = track(wg.compile((t) => f(t!), { args: [spec(shape, dtype)], wrt: [] }));
  const out = fwd.run(data(x, dtype));
  const y = typeof out === 'number' ? [out] : [...out];
  const p = track(
    wg.compile(
      (t) => {
        const v = f(t!);
        return wg.sum(w === undefined ? v : wg.mul(v, wg.constant(data(w, dtype), v.shape)));
      },
      { args: [spec(shape, dtype)], wrt: [0] },
    ),
  );
  const r = p.valueAndGrad(data(x, dtype));
  return { y, value: r.value, grad: [...r.grads[0]!] };
}

const allFinite = (v: readonly number[]): boolean => v.every(Number.isFinite);

describe('ties split the derivative evenly', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`max and min over all axes (${dtype})`, () => {
      const mx = valueAndGrad(wg.max, [1, 3, 3, 2, 3], [5], undefined, dtype);
      expect(mx.y).toEqual([3]);
      assertClose(mx.grad, [0, 1 / 3, 1 / 3, 0, 1 / 3], dtype === 'float64' ? TIGHT : { rtol: 1e-7, atol: 0 }, 'max ties');
      const mn = valueAndGrad(wg.min, [2, 1, 1, 5], [4], undefined, dtype);
      expect(mn.y).toEqual([1]);
      assertClose(mn.grad, [0, 0.5, 0.5, 0], EXACT, 'min ties');
    });
  }

  it('per row, with keepDims, and weighted cotangents', () => {
    // Rows [1, 1, 0] (two tie for the max) and [2, 0, 2]... max over axis 1.
    const r = valueAndGrad((x) => wg.max(x, 1, { keepDims: true }), [1, 1, 0, 2, 0, 2], [2, 3], [4, 10]);
    expect(r.y).toEqual([1, 2]);
    assertClose(r.grad, [2, 2, 0, 5, 0, 5], EXACT, 'max rows');
    const s = valueAndGrad((x) => wg.min(x, 0), [1, 5, 1, 3], [2, 2]);
    expect(s.y).toEqual([1, 3]);
    assertClose(s.grad, [0.5, 0, 0.5, 1], EXACT, 'min columns');
  });

  it('all elements equal: each gets 1/n', () => {
    const r = valueAndGrad(wg.max, [7, 7, 7, 7]);
    assertClose(r.grad, [0.25, 0.25, 0.25, 0.25], EXACT, 'max constant');
  });

  it('the ∞-norm splits among equal magnitudes, with their signs', () => {
    const r = valueAndGrad((x) => wg.norm(x, Infinity), [-3, 3, 1]);
    expect(r.y).toEqual([3]);
    assertClose(r.grad, [-0.5, 0.5, 0], EXACT, 'norm ∞ ties');
  });

  it('argmax and argmin return the first index on ties; a NaN wins', () => {
    const run = (f: (x: T) => T, x: number[]): number[] => {
      const p = track(wg.compile((t) => f(t!), { args: [wg.f64([x.length])], wrt: [] }));
      const out = p.run(Float64Array.from(x));
      return typeof out === 'number' ? [out] : [...out];
    };
    expect(run(wg.argmax, [1, 3, 3, 2, 3])).toEqual([1]);
    expect(run(wg.argmin, [2, 1, 1, 5, 1])).toEqual([1]);
    expect(run(wg.argmax, [4, 4, 4])).toEqual([0]);
    expect(run(wg.argmax, [1, NaN, 5, NaN])).toEqual([1]);
    expect(run(wg.argmin, [1, -2, NaN, -5])).toEqual([2]);
    // Per column of [[1, 2], [1, 0]]: ties in column 0 give row 0.
    const p = track(wg.compile((t) => wg.argmax(t!, 0), { args: [wg.f32([2, 2])], wrt: [] }));
    const out = p.run(Float32Array.from([1, 2, 1, 0]));
    expect(out).toBeInstanceOf(Int32Array);
    expect([...(out as Int32Array)]).toEqual([0, 0]);
  });
});

describe('prod with zeros: the derivative is the product of the others', () => {
  it('no zero, one zero, two zeros', () => {
    const none = valueAndGrad(wg.prod, [2, 3, 4]);
    expect(none.y).toEqual([24]);
    assertClose(none.grad, [12, 8, 6], TIGHT, 'prod no zero');
    const one = valueAndGrad(wg.prod, [2, 0, 3, 4]);
    expect(one.y).toEqual([0]);
    assertClose(one.grad, [0, 24, 0, 0], EXACT, 'prod one zero');
    const two = valueAndGrad(wg.prod, [0, 2, 0, 5]);
    expect(two.y).toEqual([0]);
    assertClose(two.grad, [0, 0, 0, 0], EXACT, 'prod two zeros');
    // -0 counts as a zero too.
    const neg = valueAndGrad(wg.prod, [-0, 5, -2]);
    assertClose(neg.grad, [-10, 0, 0], EXACT, 'prod negative zero');
  });

  it('per row, with different zero counts in each row', () => {
    // Rows: [0, 2, 3] (one zero), [4, 5, 6] (none), [0, 0, 7] (two).
    const r = valueAndGrad((x) => wg.prod(x, -1), [0, 2, 3, 4, 5, 6, 0, 0, 7], [3, 3], [1, 2, 3]);
    expect(r.y).toEqual([0, 120, 0]);
    assertClose(r.grad, [6, 0, 0, 60, 48, 40, 0, 0, 0], TIGHT, 'prod rows');
    expect(allFinite(r.grad)).toBe(true);
  });

  it('float32 agrees', () => {
    const r = valueAndGrad(wg.prod, [2, 0, 3, 4], [4], undefined, 'float32');
    assertClose(r.grad, [0, 24, 0, 0], EXACT, 'prod float32');
  });
});

describe('logSumExp, softmax and logSoftmax far from 0', () => {
  const lseRef = (v: number[]): number => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((s, e) => s + Math.exp(e - m), 0));
  };
  // exp(x - m) / Σ exp(x - m): exp of an exact difference (x - lse would round lse first).
  const softmaxRef = (v: number[]): number[] => {
    const m = Math.max(...v);
    const e = v.map((u) => Math.exp(u - m));
    const total = e.reduce((acc, u) => acc + u, 0);
    return e.map((u) => u / total);
  };

  for (const big of [1e3, 1e300]) {
    for (const sign of [1, -1]) {
      const x = [sign * big, sign * big - 1, sign * big - 2];
      it(`logSumExp at ${sign * big}: finite value and softmax derivative`, () => {
        const r = valueAndGrad(wg.logSumExp, x);
        expect(allFinite([r.value, ...r.grad])).toBe(true);
        assertClose(r.y, [lseRef(x)], TIGHT, 'lse value');
        // At 1e300 the -1 and -2 vanish in rounding (x is three equal numbers): softmax is 1/3 each.
        assertClose(r.grad, softmaxRef(x), { rtol: 1e-14, atol: 1e-16 }, 'lse gradient');
        expect(r.grad.reduce((s, e) => s + e, 0)).toBeCloseTo(1, 14);
      });
    }
  }

  it('logSumExp of values 2e300 apart: the largest wins, its derivative is 1', () => {
    const r = valueAndGrad(wg.logSumExp, [1e300, -1e300, 0]);
    expect(r.y).toEqual([1e300]);
    assertClose(r.grad, [1, 0, 0], EXACT, 'lse spread');
    const rows = valueAndGrad((x) => wg.logSumExp(x, 1, { keepDims: true }), [1e3, -1e3, -1e300, -1e300], [2, 2]);
    assertClose(rows.y, [1e3, -1e300 + Math.LN2], TIGHT, 'lse rows');
    assertClose(rows.grad, [1, 0, 0.5, 0.5], TIGHT, 'lse rows gradient');
  });

  it('logSumExp at ±1e3 in float32', () => {
    const r = valueAndGrad(wg.logSumExp, [1e3, 999, -1e3], [3], undefined, 'float32');
    expect(allFinite([r.value, ...r.grad])).toBe(true);
    assertClose(r.grad, softmaxRef([1e3, 999, -1e3]), { rtol: 1e-6, atol: 1e-7 }, 'lse float32');
  });

  for (const x of [
    [1e3, 999, -1e3],
    [-1e3, -1001, -999],
    [1e300, -1e300, 5e299],
    [-1e300, -1e300, -2e300],
  ]) {
    const w = [1, -2, 0.5];
    it(`softmax and logSoftmax at [${x.join(', ')}]: finite values and derivatives`, () => {
      const s = softmaxRef(x);
      const sw = s.reduce((acc, e, i) => acc + e * w[i]!, 0);
      const sm = valueAndGrad((t) => wg.softmax(t), x, [3], w);
      expect(allFinite([...sm.y, ...sm.grad])).toBe(true);
      assertClose(sm.y, s, { rtol: 1e-14, atol: 1e-300 }, 'softmax value');
      // Jᵀw = s ⊙ (w - s·w).
      assertClose(sm.grad, s.map((e, i) => e * (w[i]! - sw)), { rtol: 1e-13, atol: 1e-16 }, 'softmax gradient');
      const ls = valueAndGrad((t) => wg.logSoftmax(t), x, [3], w);
      expect(allFinite([...ls.y, ...ls.grad])).toBe(true);
      const m = Math.max(...x);
      const logTotal = Math.log(x.reduce((acc, e) => acc + Math.exp(e - m), 0));
      assertClose(ls.y, x.map((e) => e - m - logTotal), { rtol: 1e-14, atol: 1e-13 }, 'logSoftmax value');
      // Jᵀw = w - s·Σw.
      const wsum = w.reduce((acc, e) => acc + e, 0);
      assertClose(ls.grad, w.map((e, i) => e - s[i]! * wsum), { rtol: 1e-13, atol: 1e-15 }, 'logSoftmax gradient');
    });
  }
});

describe('norm without overflow or underflow; derivative conventions at 0', () => {
  for (const scale of [1e200, 1e-200, 1e300]) {
    it(`p = 2 of four elements of ${scale}`, () => {
      const x = [scale, -scale, scale, scale];
      const r = valueAndGrad((t) => wg.norm(t), x);
      assertClose(r.y, [2 * scale], TIGHT, 'norm value');
      assertClose(r.grad, [0.5, -0.5, 0.5, 0.5], TIGHT, 'norm gradient');
    });
  }

  it('p = 2 over axes with mixed scales', () => {
    const r = valueAndGrad((t) => wg.norm(t, 2, 1), [3e200, 4e200, 3e-200, -4e-200], [2, 2]);
    assertClose(r.y, [5e200, 5e-200], TIGHT, 'norm rows');
    assertClose(r.grad, [0.6, 0.8, 0.6, -0.8], TIGHT, 'norm rows gradient');
  });

  for (const p of [1, 2, Infinity]) {
    it(`p = ${p}: value 0 and derivative 0 at x = 0`, () => {
      const r = valueAndGrad((t) => wg.norm(t, p), [0, 0, 0]);
      expect(r.y).toEqual([0]);
      assertClose(r.grad, [0, 0, 0], EXACT, `norm ${p} at 0`);
      // A zero row beside a nonzero one: only the nonzero row has a nonzero derivative.
      const rows = valueAndGrad((t) => wg.norm(t, p, -1), [0, 0, 3, -4], [2, 2]);
      expect(allFinite(rows.grad)).toBe(true);
      expect(rows.grad.slice(0, 2)).toEqual([0, 0]);
    });
  }
});

describe('variance and std at zero variance', () => {
  it('std of equal elements is 0 with derivative 0 (not NaN)', () => {
    const r = valueAndGrad(wg.std, [3, 3, 3]);
    expect(r.y).toEqual([0]);
    assertClose(r.grad, [0, 0, 0], EXACT, 'std at zero variance');
    const v = valueAndGrad(wg.variance, [3, 3, 3]);
    expect(v.y).toEqual([0]);
    assertClose(v.grad, [0, 0, 0], EXACT, 'variance at zero variance');
  });

  it('a constant row beside a varying one', () => {
    // Rows [1, 1] (std 0) and [1, 2] (std 0.5, derivative (x - mean) / (n std) = ∓0.5).
    const r = valueAndGrad((t) => wg.std(t, 1), [1, 1, 1, 2], [2, 2]);
    assertClose(r.y, [0, 0.5], EXACT, 'std rows');
    assertClose(r.grad, [0, 0, -0.5, 0.5], EXACT, 'std rows gradient');
    const f32 = valueAndGrad((t) => wg.std(t, 1), [1, 1, 1, 2], [2, 2], undefined, 'float32');
    assertClose(f32.grad, [0, 0, -0.5, 0.5], EXACT, 'std rows gradient float32');
  });

  it('population by default, unbiased with correction 1', () => {
    const pop = valueAndGrad(wg.variance, [1, 2, 3, 4]);
    assertClose(pop.y, [1.25], TIGHT, 'population variance');
    const unbiased = valueAndGrad((t) => wg.variance(t, undefined, { correction: 1 }), [1, 2, 3, 4]);
    assertClose(unbiased.y, [5 / 3], TIGHT, 'sample variance');
  });
});

describe('argument and shape errors', () => {
  const trace = (f: (x: T) => T, shape: readonly number[]): void => {
    wg.compile((t) => f(t!), { args: [wg.f64(shape)], wrt: [] }).dispose();
  };
  it('names the op and the shapes', () => {
    expect(() => trace((x) => wg.max(x, 1), [2, 0])).toThrow(/wg\.max: cannot reduce zero elements of shape \[2,0\]/);
    expect(() => trace((x) => wg.argmin(x, 1), [2, 0])).toThrow(/wg\.argmin: .*empty axis/);
    expect(() => trace((x) => wg.prod(x, 2), [2, 3])).toThrow(/wg\.prod: axis 2 is out of range for shape \[2,3\]/);
    expect(() => trace((x) => wg.logSumExp(x, [0, -2]), [2, 3])).toThrow(/listed twice/);
    expect(() => trace((x) => wg.norm(x, 3), [2])).toThrow(/wg\.norm: p must be 1, 2 or Infinity, got 3/);
    expect(() => trace((x) => wg.softmax(x, [0] as unknown as number), [2])).toThrow(/wg\.softmax: axis must be a number/);
    expect(() => trace((x) => wg.variance(x, 0, { correction: NaN }), [2])).toThrow(/correction must be a finite number/);
    try {
      trace((x) => wg.norm(x, 0), [2]);
      expect.unreachable();
    } catch (e) {
      expect((e as wg.WengertError).code).toBe('WENGERT_INVALID_ARGUMENT');
    }
  });
  it('argmax refuses int32 input', () => {
    expect(() => wg.compile((t) => wg.argmax(t!), { args: [wg.i32([3])], wrt: [] })).toThrow(/wg\.argmax: operand 0 is int32/);
  });
});
