// Special values of the elementwise family that table rows cannot express: inputs of ±1e3 and
// ±1e300 (values and derivatives finite wherever the mathematical ones are), zero cotangents
// meeting infinite partial derivatives, the conventions at non-smooth points (ties, bounds, kinks,
// halves), NaN handling, wide-range accuracy of the special functions, and trace-time errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose } from './helpers/compare.js';
import * as special from './helpers/ref-special.js';
import { Rng } from './helpers/rng.js';
import { trackPrograms } from './helpers/track.js';

const track = trackPrograms();
type T = wg.Tensor;

/** op over a vector in float64 (or float32): its values, and the gradient of Σ op(x) (= op'(x_i)). */
function evalWithGrad(op: (x: T) => T, xs: readonly number[], dtype: 'float64' | 'float32' = 'float64'): { y: number[]; g: number[] } {
  const spec = dtype === 'float64' ? wg.f64([xs.length]) : wg.f32([xs.length]);
  const data = dtype === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs);
  const fwd = track(wg.compile((x) => op(x!), { args: [spec], wrt: [] }));
  const loss = track(wg.compile((x) => wg.sum(op(x!)), { args: [spec], wrt: [0] }));
  const y = Array.from(fwd.run(data) as ArrayLike<number>);
  const g = Array.from(loss.valueAndGrad(data).grads[0]!);
  return { y, g };
}

/** Gradients of Σ op(x, y) with respect to both arguments, float64 vectors. */
function grad2(op: (x: T, y: T) => T, xs: readonly number[], ys: readonly number[]): { z: number[]; gx: number[]; gy: number[] } {
  const args = [wg.f64([xs.length]), wg.f64([ys.length])];
  const fwd = track(wg.compile((x, y) => op(x!, y!), { args, wrt: [] }));
  const loss = track(wg.compile((x, y) => wg.sum(op(x!, y!)), { args, wrt: [0, 1] }));
  const inputs = [Float64Array.from(xs), Float64Array.from(ys)];
  const z = Array.from(fwd.run(...inputs) as ArrayLike<number>);
  const { grads } = loss.valueAndGrad(...inputs);
  return { z, gx: Array.from(grads[0]!), gy: Array.from(grads[1]!) };
}

const finite = (v: readonly number[]): boolean => v.every(Number.isFinite);

describe('large inputs: finite values and derivatives where the mathematics is finite', () => {
  // [name, op, inputs, expected values, expected derivatives]; `undefined` expectations only
  // assert finiteness. Expected values are the mathematical ones rounded to float64.
  const rows: [string, (x: T) => T, number[], number[] | undefined, number[] | undefined][] = [
    ['expm1', wg.expm1, [-1e3, -1e300], [-1, -1], [0, 0]],
    ['log1p', wg.log1p, [1e3, 1e300], [Math.log1p(1e3), Math.log(1e300)], [1 / 1001, 1e-300]],
    ['log2', wg.log2, [1e3, 1e300], [Math.log2(1e3), Math.log2(1e300)], [1 / (1e3 * Math.LN2), 1 / (1e300 * Math.LN2)]],
    ['rsqrt', wg.rsqrt, [1e3, 1e300], [1 / Math.sqrt(1e3), 1e-150], [-0.5 * 1e3 ** -1.5, 0]],
    ['reciprocal', wg.reciprocal, [-1e3, 1e300], [-1e-3, 1e-300], [-1e-6, 0]],
    ['atan', wg.atan, [-1e3, 1e300, -1e300], [Math.atan(-1e3), Math.PI / 2, -Math.PI / 2], [1 / (1 + 1e6), 0, 0]],
    // asinh'(x) = 1/√(1 + x²) ≈ 1/|x|: accurate even where x² overflows.
    ['asinh', wg.asinh, [1e3, -1e300, 1e300], [Math.asinh(1e3), Math.asinh(-1e300), Math.asinh(1e300)], [1 / Math.sqrt(1 + 1e6), 1e-300, 1e-300]],
    ['acosh', wg.acosh, [1e3, 1e300], [Math.acosh(1e3), Math.acosh(1e300)], [1 / Math.sqrt(1e6 - 1), 1e-300]],
    ['erf', wg.erf, [-1e3, 1e3, -1e300, 1e300], [-1, 1, -1, 1], [0, 0, 0, 0]],
    ['erfc', wg.erfc, [-1e3, 1e3, -1e300, 1e300], [2, 0, 2, 0], [0, 0, 0, 0]],
    ['lgamma', wg.lgamma, [1e3, 1e300], [special.lgamma(1e3), 1e300 * (Math.log(1e300) - 1)], [special.digamma(1e3), Math.log(1e300)]],
    ['digamma', wg.digamma, [1e3, 1e300], [special.digamma(1e3), Math.log(1e300)], [1 / 1e3 + 1 / 2e6 + 1 / 6e9, 1e-300]],
    // log σ(x): -log1p(e^-x) → -0 for large x; exactly x for very negative x.
    ['logSigmoid', wg.logSigmoid, [-1e3, 1e3, -1e300, 1e300], [-1e3, 0, -1e300, 0], [1, 0, 1, 0]],
    ['gelu', wg.gelu, [-1e3, 1e3, -1e300, 1e300], [0, 1e3, 0, 1e300], [0, 1, 0, 1]],
    // The e^x - 1 branch overflows to inf for x = 1e3 but is not selected: no NaN leaks.
    ['elu', (x) => wg.elu(x), [-1e3, 1e3, -1e300, 1e300], [-1, 1e3, -1, 1e300], [0, 1, 0, 1]],
    ['leakyRelu', (x) => wg.leakyRelu(x), [-1e3, 1e3, -1e300, 1e300], [-10, 1e3, -1e298, 1e300], [0.01, 1, 0.01, 1]],
    ['clamp', (x) => wg.clamp(x, -1, 1), [-1e3, 1e3, -1e300, 1e300], [-1, 1, -1, 1], [0, 0, 0, 0]],
    ['floor', wg.floor, [-1e3 - 0.5, 1e300], [-1001, 1e300], [0, 0]],
    ['round', wg.round, [-1e3 - 0.5, 1e300], [-1000, 1e300], [0, 0]],
  ];
  for (const [name, op, xs, ys, gs] of rows) {
    it(`${name} at ${xs.join(', ')}`, () => {
      const { y, g } = evalWithGrad(op, xs);
      expect(finite(y), `${name} values ${y}`).toBe(true);
      expect(finite(g), `${name} derivatives ${g}`).toBe(true);
      // Values and derivatives to 1e-13 relative (libm functions at extreme arguments are a few ulp off;
      // the asinh/acosh derivatives through cosh/sinh of a ~690 argument lose ~700 ulp).
      if (ys) assertClose(y, ys, { rtol: 1e-13, atol: 0 }, `${name} values`);
      if (gs) assertClose(g, gs, { rtol: 2e-13, atol: 1e-300 }, `${name} derivatives`);
    });
  }

  it('logSigmoid is exact for very negative x and keeps e^-x for large x', () => {
    const xs = [-30, -50, -745, 30, 40, 700];
    const { y } = evalWithGrad(wg.logSigmoid, xs);
    const want = xs.map((v) => (v < 0 ? v - Math.log1p(Math.exp(v)) : -Math.log1p(Math.exp(-v))));
    assertClose(y, want, { rtol: 1e-15, atol: 0 }, 'logSigmoid');
    expect(y[3]).toBeLessThan(0); // -9.4e-14, not rounded to 0
  });

  it('erfc keeps full relative precision in its tail', () => {
    const xs = [5, 10, 20, 26];
    const { y, g } = evalWithGrad(wg.erfc, xs);
    assertClose(y, xs.map(special.erfc), { rtol: 1e-13, atol: 0 }, 'erfc tail');
    assertClose(g, xs.map((v) => (-2 / Math.sqrt(Math.PI)) * Math.exp(-v * v)), { rtol: 1e-13, atol: 0 }, 'erfc tail derivative');
    expect(y[3]).toBeGreaterThan(0); // erfc(26) ≈ 5.7e-296, 1 - erf(26) would be 0
  });

  it('binary ops at ±1e300', () => {
    const big = [1e300, -1e300, 1e300, 1e3];
    const other = [1e300, 1e300, -1e3, 1e3];
    for (const op of [wg.minimum, wg.maximum, wg.atan2, (a: T, b: T) => wg.where(wg.greater(a, 0), a, b)]) {
      const { z, gx, gy } = grad2(op, big, other);
      expect(finite(z) && finite(gx) && finite(gy)).toBe(true);
    }
    const m = grad2(wg.mod, [1e300, -1e3, 7.5], [3, 7, -2]);
    expect(finite(m.z) && finite(m.gx) && finite(m.gy)).toBe(true);
    expect(m.z.slice(1)).toEqual([1, -0.5]); // -1000 = 7·(-143) + 1
    expect(m.gy.slice(1)).toEqual([143, 4]); // -floor(x/y)
  });
});

describe('zero cotangents meet infinite partial derivatives as zero, not NaN', () => {
  // The op's output at x = 0 is infinite or its derivative is, but the selected branch is another
  // one, so the cotangent reaching the op there is exactly 0.
  for (const [name, op] of [
    ['sqrt', wg.sqrt],
    ['log', wg.log],
    ['rsqrt', wg.rsqrt],
    ['reciprocal', wg.reciprocal],
    ['log2', wg.log2],
    ['log1p', (x: T) => wg.log1p(wg.sub(x, 1))],
    ['atanh', (x: T) => wg.atanh(wg.sub(1, x))],
    ['acosh', (x: T) => wg.acosh(wg.add(x, 1))],
    ['asin', (x: T) => wg.asin(wg.sub(1, x))],
  ] as const) {
    it(name, () => {
      const { g } = evalWithGrad((x) => wg.where(wg.greater(x, 0), op(x), wg.mul(x, 3)), [0, 0.5, -1]);
      expect(g[0]).toBe(3);
      expect(g[2]).toBe(3);
      expect(Number.isFinite(g[1])).toBe(true);
      // And with a zero weight: mul by 0 passes a zero cotangent.
      const w = evalWithGrad((x) => wg.mul(op(x), wg.less(x, 0)), [0, 0.25]);
      expect(w.g.map(Math.abs)).toEqual([0, 0]);
    });
  }

  it('pow: the exponent derivative is 0 at base 0, the base derivative 0 for exponent 0', () => {
    const r = grad2(wg.pow, [0, 0, 0, 2], [2.5, 1, 0, 0]);
    expect(r.z).toEqual([0, 0, 1, 1]);
    expect(r.gy).toEqual([0, 0, -Infinity, Math.log(2)]); // d/dy 0^y at y = 0 is -inf (0^y = e^(y·log 0))
    expect(r.gx).toEqual([0, 1, 0, 0]);
  });
});

describe('conventions at non-smooth points', () => {
  it('minimum and maximum split the cotangent evenly at ties', () => {
    for (const op of [wg.minimum, wg.maximum]) {
      const r = grad2(op, [1, 2, -3, 0], [1, 1, -3, -0]);
      expect(r.gx[0]).toBe(0.5);
      expect(r.gy[0]).toBe(0.5);
      expect(r.gx[2]).toBe(0.5);
      expect(r.gy[2]).toBe(0.5);
      expect(r.gx[3]).toBe(0.5); // 0 == -0 is a tie
      expect(r.gx[1]! + r.gy[1]!).toBe(1);
    }
    expect(grad2(wg.minimum, [2], [1]).gy).toEqual([1]);
    expect(grad2(wg.maximum, [2], [1]).gx).toEqual([1]);
  });

  it('minimum and maximum propagate NaN from either side', () => {
    const r = grad2(wg.minimum, [NaN, 1], [1, NaN]);
    expect(r.z.every(Number.isNaN)).toBe(true);
    expect(grad2(wg.maximum, [NaN, 1], [1, NaN]).z.every(Number.isNaN)).toBe(true);
  });

  it('clamp passes the derivative to x at the bounds, to a bound beyond it', () => {
    const args = [wg.f64([5]), wg.f64([5]), wg.f64([5])];
    const p = track(wg.compile((x, lo, hi) => wg.sum(wg.clamp(x!, lo!, hi!)), { args, wrt: [0, 1, 2] }));
    const x = Float64Array.of(-1, 1, 0, -2, 2);
    const lo = Float64Array.of(-1, -1, -1, -1, -1);
    const hi = Float64Array.of(1, 1, 1, 1, 1);
    const { value, grads } = p.valueAndGrad(x, lo, hi);
    expect(value).toBe(-1 + 1 + 0 - 1 + 1);
    expect(Array.from(grads[0]!)).toEqual([1, 1, 1, 0, 0]);
    expect(Array.from(grads[1]!)).toEqual([0, 0, 0, 1, 0]);
    expect(Array.from(grads[2]!)).toEqual([0, 0, 0, 0, 1]);
    // lo > hi: NumPy's clip gives hi.
    const { z } = grad2((a, b) => wg.clamp(a, b, 0), [5, -5], [1, 1]);
    expect(z).toEqual([0, 0]);
    expect(Number.isNaN(evalWithGrad((t) => wg.clamp(t, 0, 1), [NaN]).y[0])).toBe(true);
  });

  it('leakyRelu and elu take the x ≤ 0 branch at 0: derivative alpha', () => {
    expect(evalWithGrad((x) => wg.leakyRelu(x), [0]).g).toEqual([0.01]);
    expect(evalWithGrad((x) => wg.leakyRelu(x, 0.2), [0, -0]).g).toEqual([0.2, 0.2]);
    expect(evalWithGrad((x) => wg.elu(x), [0]).g).toEqual([1]);
    const e = evalWithGrad((x) => wg.elu(x, 0.5), [0, 1e-300, -1e-300]);
    expect(e.g).toEqual([0.5, 1, 0.5]);
    expect(e.y).toEqual([0, 1e-300, -0.5e-300]);
  });

  it('round halves to even; floor, ceil, round have zero derivatives', () => {
    const xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, -0.7];
    for (const dtype of ['float64', 'float32'] as const) {
      const { y, g } = evalWithGrad(wg.round, xs, dtype);
      expect(y).toEqual(xs.map((v) => special.roundHalfEven(dtype === 'float32' ? Math.fround(v) : v)));
      expect(g.every((v) => v === 0)).toBe(true);
    }
    expect(evalWithGrad(wg.floor, [-0.5, 0.5]).y).toEqual([-1, 0]);
    expect(evalWithGrad(wg.ceil, [-0.5, 0.5]).y).toEqual([-0, 1]);
    expect(evalWithGrad(wg.ceil, [-0.5, 0.5]).g).toEqual([0, 0]);
  });

  it('mod takes the sign of the divisor, like NumPy', () => {
    const r = grad2(wg.mod, [5, -5, 5, -5, 6, 1], [3, 3, -3, -3, -3, 0]);
    expect(r.z.slice(0, 5)).toEqual([2, 1, -1, -2, -0]);
    expect(Number.isNaN(r.z[5])).toBe(true);
    expect(r.gx.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(r.gy.slice(0, 5)).toEqual([-1, 2, 2, -1, 2]);
  });

  it('atan2 uses NumPy’s argument order (ordinate first)', () => {
    const r = grad2(wg.atan2, [1, 0, -0, 1, -1], [0, -1, -1, 1, -1]);
    expect(r.z).toEqual([Math.PI / 2, Math.PI, -Math.PI, Math.PI / 4, (-3 * Math.PI) / 4]);
    // d/dy = x/(x² + y²), d/dx = -y/(x² + y²)
    expect(r.gx.slice(3)).toEqual([0.5, -0.5]);
    expect(r.gy.slice(3)).toEqual([-0.5, 0.5]);
  });

  it('comparisons and where with NaN', () => {
    const ops = [wg.greater, wg.greaterEqual, wg.less, wg.lessEqual, wg.equal, wg.notEqual];
    const got = ops.map((op) => grad2(op, [NaN, 1, NaN], [1, NaN, NaN]).z);
    expect(got).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
    // A NaN condition is nonzero: it selects a.
    const w = grad2((c, a) => wg.where(c, a, 7), [NaN, 0, -0, 2], [1, 2, 3, 4]);
    expect(w.z).toEqual([1, 7, 7, 4]);
    expect(w.gy).toEqual([1, 0, 0, 1]);
    expect(w.gx).toEqual([0, 0, 0, 0]);
  });

  it('where sends no NaN or inf from the unselected branch into the gradient', () => {
    // log of negative numbers is NaN and 1/0 is inf in the unselected positions.
    const { y, g } = evalWithGrad((x) => wg.where(wg.greater(x, 0), wg.log(x), wg.reciprocal(wg.sub(x, -0))), [-1, 0, 2]);
    expect(y).toEqual([-1, Infinity, Math.log(2)]);
    expect(g[0]).toBe(-1);
    expect(g[2]).toBe(0.5);
  });

  it('domains: acosh below 1, atanh at and beyond ±1, asin beyond ±1, lgamma and digamma at poles', () => {
    expect(evalWithGrad(wg.acosh, [0.5]).y[0]).toBeNaN();
    expect(evalWithGrad(wg.atanh, [1, -1]).y).toEqual([Infinity, -Infinity]);
    expect(evalWithGrad(wg.atanh, [2]).y[0]).toBeNaN();
    expect(evalWithGrad(wg.asin, [1.5]).y[0]).toBeNaN();
    expect(evalWithGrad(wg.lgamma, [0, -1, -2]).y).toEqual([Infinity, Infinity, Infinity]);
    const d = evalWithGrad(wg.digamma, [0, -0, -1]).y;
    expect(d.slice(0, 2)).toEqual([-Infinity, Infinity]);
    expect(d[2]).toBeNaN();
  });
});

describe('special functions over wide ranges, against the independent references', () => {
  const n = 1037;
  // [name, op, reference, draw, float64 tolerance]
  const rows: [string, (x: T) => T, (v: number) => number, (r: Rng) => number, { rtol: number; atol: number }][] = [
    // Both references have absolute errors ≲ 1e-14 on these ranges (ref-special.ts) and lgamma
    // grows to ~200: 1e-13 relative plus 1e-13 absolute (near the zeros of lgamma at 1 and 2).
    ['lgamma', wg.lgamma, special.lgamma, (r) => r.uniform(0.01, 50), { rtol: 1e-13, atol: 1e-13 }],
    ['lgamma negative', wg.lgamma, special.lgamma, (r) => -r.uniform(0.05, 10) - 0.5 * (r.next() < 0.5 ? 0 : 0.4), { rtol: 1e-12, atol: 1e-12 }],
    ['digamma', wg.digamma, special.digamma, (r) => Math.exp(r.uniform(-5, 30)), { rtol: 1e-13, atol: 1e-14 }],
    ['digamma negative', wg.digamma, special.digamma, (r) => -r.uniform(0.05, 20), { rtol: 1e-12, atol: 1e-12 }],
    // polygamma: the reference is ≲ 5e-15 relative for x > 0 and the engine ≲ 1e-14
    // (elementwise_math.h); x from e^-5 to e^5 crosses the recurrence and the asymptotic series.
    ['polygamma 2', (x) => wg.polygamma(2, x), (v) => special.polygamma(2, v), (r) => Math.exp(r.uniform(-5, 5)), { rtol: 3e-14, atol: 0 }],
    ['polygamma 3', (x) => wg.polygamma(3, x), (v) => special.polygamma(3, v), (r) => Math.exp(r.uniform(-5, 5)), { rtol: 3e-14, atol: 0 }],
    // Odd order on negative x: every term of the reference's sum is positive (no cancellation),
    // and the engine's reflection terms have one sign: relative error ≲ 1e-14·(n + 1) near poles.
    ['polygamma 3 negative', (x) => wg.polygamma(3, x), (v) => special.polygamma(3, v), (r) => -r.uniform(0.05, 20), { rtol: 1e-13, atol: 0 }],
    ['erf', wg.erf, special.erf, (r) => r.uniform(-6, 6), { rtol: 1e-14, atol: 0 }],
    ['erfc', wg.erfc, special.erfc, (r) => r.uniform(-3, 26), { rtol: 1e-13, atol: 0 }],
    ['gelu', wg.gelu, special.gelu, (r) => r.uniform(-5, 10), { rtol: 1e-13, atol: 1e-300 }],
  ];
  for (const [name, op, f, draw, tol] of rows) {
    it(`${name}: float64 and float32`, () => {
      const rng = new Rng(1000 + name.length);
      const xs = Array.from({ length: n }, () => Math.fround(draw(rng)));
      const want = xs.map(f);
      assertClose(evalWithGrad(op, xs).y, want, tol, `${name} float64`);
      // float32: computed in double or by the float libm, then rounded: a few float32 ulp.
      const y32 = evalWithGrad(op, xs, 'float32').y;
      assertClose(y32, want.map(Math.fround), { rtol: 4e-7, atol: Math.max(tol.atol, 4e-7) }, `${name} float32`);
    });
  }
});

describe('polygamma: every derivative of lgamma and digamma exists', () => {
  /** The elementwise derivative of an elementwise g, by nested wg.grad. */
  const deriv =
    (g: (x: T) => T) =>
    (x: T): T =>
      wg.grad((y) => wg.sum(g(y)))(x);
  const run = (f: (x: T) => T, xs: readonly number[]): number[] => {
    const p = track(wg.compile((x) => f(x!), { args: [wg.f64([xs.length])], wrt: [] }));
    return Array.from(p.run(Float64Array.from(xs)) as ArrayLike<number>);
  };
  const xs = [0.3, 0.75, 1, 1.5, 2.25, 4, 9.5, 17, -0.4, -1.3, -2.6];

  it('d³/dx³ lgamma = polygamma(2, x), and d²/dx² digamma too', () => {
    const want = run((x) => wg.polygamma(2, x), xs);
    // The nested program evaluates the same op (trigamma's partial) at the same points: equal up
    // to the rounding of the chain's multiplications by 1.
    assertClose(run(deriv(deriv(deriv(wg.lgamma))), xs), want, { rtol: 1e-15, atol: 0 }, 'lgamma‴');
    assertClose(run(deriv(deriv(wg.digamma)), xs), want, { rtol: 1e-15, atol: 0 }, 'digamma″');
    // Against the independent reference: ≲ 5e-15 relative (ref-special.ts) plus the engine's 1e-14.
    assertClose(want, xs.map((v) => special.polygamma(2, v)), { rtol: 3e-14, atol: 0 }, 'polygamma(2, x)');
  });

  it('the third derivative of digamma (nested wg.grad and p.hessian of polygamma) matches the reference', () => {
    const want = xs.map((v) => special.polygamma(3, v));
    // Odd order: the reference has no cancellation for negative x either.
    assertClose(run(deriv(deriv(deriv(wg.digamma))), xs), want, { rtol: 3e-14, atol: 0 }, 'digamma‴');
    // The Hessian of Σ polygamma(1, x) is diag(ψ⁽³⁾) (forward over reverse through two rules).
    const p = track(wg.compile((x) => wg.sum(wg.polygamma(1, x!)), { args: [wg.f64([xs.length])], wrt: [0] }));
    const h = p.hessian(Float64Array.from(xs)).hessian;
    assertClose(
      xs.map((_, i) => h[i * xs.length + i]!),
      want,
      { rtol: 3e-14, atol: 0 },
      'diag of the Hessian of Σ polygamma(1, x)',
    );
  });

  it('a tensor order broadcasts against x; the order has derivative zero', () => {
    const ns = [0, 1, 2, 3, 5, 8];
    const x = [0.7, 3.5];
    const p = track(
      wg.compile((n, v) => wg.sum(wg.polygamma(n!, v!)), { args: [wg.f64([ns.length, 1]), wg.f64([x.length])], wrt: [0, 1] }),
    );
    const { value, grads } = p.valueAndGrad(Float64Array.from(ns), Float64Array.from(x));
    let total = 0;
    const gx = [0, 0];
    for (const n of ns) {
      x.forEach((v, j) => {
        total += special.polygamma(n, v);
        gx[j]! += special.polygamma(n + 1, v);
      });
    }
    assertClose(value, total, { rtol: 3e-14, atol: 0 }, 'value');
    expect(Array.from(grads[0]!)).toEqual(ns.map(() => 0));
    assertClose(grads[1]!, gx, { rtol: 3e-14, atol: 0 }, 'gradient in x');
  });

  it('orders that are not integers in [0, 100] give NaN; poles by the parity of n', () => {
    const bad = run((x) => wg.polygamma(x, 1.5), [-1, 0.5, 2.25, 101, NaN, Infinity]);
    expect(bad.every(Number.isNaN)).toBe(true);
    expect(run((x) => wg.polygamma(100, x), [50])[0]).toBeLessThan(0); // the largest order
    // Odd n: +inf at every pole; even n: the side decides, so ∓inf at ±0 and NaN at -1, -2.
    expect(run((x) => wg.polygamma(3, x), [0, -0, -1, -2])).toEqual([Infinity, Infinity, Infinity, Infinity]);
    const even = run((x) => wg.polygamma(2, x), [0, -0, -1, -2]);
    expect(even.slice(0, 2)).toEqual([-Infinity, Infinity]);
    expect(even.slice(2).every(Number.isNaN)).toBe(true);
    expect(run((x) => wg.polygamma(2, x), [Infinity, -Infinity, 1e300])).toEqual([-0, NaN, -0]);
    expect(run((x) => wg.polygamma(3, x), [1e100])).toEqual([2e-300]);
  });
});

describe('trace-time errors name the op and the shapes', () => {
  const trace = (fn: (x: T, y: T, z: T) => T, shapes: number[][]): unknown => {
    try {
      wg.compile((x, y, z) => fn(x!, y!, z!), { args: shapes.map((s) => wg.f64(s)), wrt: [] });
    } catch (e) {
      return e;
    }
    return undefined;
  };
  it('where with shapes that do not broadcast', () => {
    const e = trace((c, a, b) => wg.where(c, a, b), [[3], [4], [3]]) as wg.WengertError;
    expect(e.code).toBe('WENGERT_SHAPE_MISMATCH');
    expect(e.message).toContain('wg.where: shapes cond [3], a [4], b [3] do not broadcast together');
  });
  it('clamp without bounds, with a bad bound, with bounds that do not broadcast', () => {
    expect((trace((x) => wg.clamp(x), [[2], [2], [2]]) as wg.WengertError).code).toBe('WENGERT_INVALID_ARGUMENT');
    const bad = trace((x) => wg.clamp(x, 'a' as unknown as number), [[2], [2], [2]]) as wg.WengertError;
    expect(bad.message).toContain('wg.clamp: bounds must be numbers, wg.Tensors or undefined, got string');
    const e = trace((x, lo) => wg.clamp(x, lo), [[2, 3], [4], [1]]) as wg.WengertError;
    expect(e.code).toBe('WENGERT_SHAPE_MISMATCH');
    expect(e.message).toContain('wg.clamp: shapes x [2,3], lo [4] do not broadcast together');
  });
  it('comparisons refuse int32 operands', () => {
    let err: unknown;
    try {
      wg.compile((i) => wg.less(i!, 2), { args: [wg.i32([3])], wrt: [] });
    } catch (e) {
      err = e;
    }
    expect((err as wg.WengertError).code).toBe('WENGERT_DTYPE_MISMATCH');
  });
});
