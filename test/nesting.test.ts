// wg.grad inside a traced function: the gradient is ordinary graph ops, so it can be differentiated
// again. Higher derivatives of scalar functions against their analytic forms, the gradient of a
// gradient norm and a meta-gradient (through one gradient step) against finite differences of
// plain-JS references, partial-derivative semantics (no perturbation confusion), and the errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose, type Tol } from './helpers/compare.js';
import { gradFD } from './helpers/fd.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
type Dt = 'float64' | 'float32';

const track = trackPrograms();
const spec = (dt: Dt, shape: number[]): wg.ArgSpec => (dt === 'float64' ? wg.f64(shape) : wg.f32(shape));
const arr = (dt: Dt, xs: readonly number[]): Float64Array | Float32Array => (dt === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs));

// Analytic references: each derivative is a few float64 ops, exact to ~1e-15 relative; the
// program's error is the rounding of a few dozen ops. float32 carries ε32 ≈ 6e-8 per op, and the
// derivative expressions here cancel by at most a factor ~100 at the chosen points.
const TOL: Record<Dt, Tol> = { float64: { rtol: 1e-12, atol: 1e-12 }, float32: { rtol: 2e-5, atol: 2e-5 } };

/** The elementwise derivative of an elementwise function g, as a function of tensors (via wg.grad of Σ g). */
const deriv =
  (g: (x: T) => T) =>
  (x: T): T =>
    wg.grad((y) => wg.sum(g(y)))(x);

interface Scalar {
  readonly name: string;
  readonly f: (x: T) => T;
  /** f', f'', f''', f'''' in plain JS. */
  readonly d: readonly ((x: number) => number)[];
  readonly xs: readonly number[];
}
const SCALARS: Scalar[] = [
  {
    name: 'sin(x)·exp(x)',
    f: (x) => wg.sin(x).mul(wg.exp(x)),
    d: [
      (x) => Math.exp(x) * (Math.sin(x) + Math.cos(x)),
      (x) => 2 * Math.exp(x) * Math.cos(x),
      (x) => 2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)),
      (x) => -4 * Math.exp(x) * Math.sin(x),
    ],
    xs: [-1.3, -0.2, 0.4, 1.1, 2.5],
  },
  {
    name: 'x⁵',
    f: (x) => wg.pow(x, 5),
    d: [(x) => 5 * x ** 4, (x) => 20 * x ** 3, (x) => 60 * x ** 2, (x) => 120 * x],
    xs: [-1.7, -0.5, 0.3, 1.2, 2],
  },
  {
    name: 'log(1 + x²)',
    f: (x) => wg.log(wg.add(1, wg.square(x))),
    d: [
      (x) => (2 * x) / (1 + x * x),
      (x) => (2 * (1 - x * x)) / (1 + x * x) ** 2,
      (x) => (4 * x * (x * x - 3)) / (1 + x * x) ** 3,
      (x) => (-12 * (1 - 6 * x * x + x ** 4)) / (1 + x * x) ** 4,
    ],
    xs: [-2.2, -0.7, 0.15, 0.9, 3],
  },
];

describe.each(['float64', 'float32'] as const)('higher derivatives of scalar functions by nesting wg.grad (%s)', (dt) => {
  for (const s of SCALARS) {
    it(`${s.name}: f', f'', f''' (nested grad) and f'''' (valueAndGrad of f''')`, () => {
      const x = arr(dt, s.xs);
      const xs64 = Array.from(x); // the points as the program sees them (rounded in float32)
      const d1 = deriv(s.f);
      const d2 = deriv(d1);
      const d3 = deriv(d2);
      for (const [k, dk] of [d1, d2, d3].entries()) {
        const p = track(wg.compile((t) => dk(t), { args: [spec(dt, [x.length])], wrt: [] }));
        const got = p.run(x) as Float64Array | Float32Array;
        expect(got).toBeInstanceOf(dt === 'float64' ? Float64Array : Float32Array);
        assertClose(got, xs64.map(s.d[k]!), TOL[dt], `${s.name} derivative ${k + 1}`);
      }
      // The fourth derivative: reverse mode over the traced third derivative.
      const p4 = track(wg.compile((t) => wg.sum(d3(t)), { args: [spec(dt, [x.length])] }));
      const { value, grads } = p4.valueAndGrad(x);
      assertClose(value, xs64.map(s.d[2]!).reduce((a, b) => a + b, 0), TOL[dt], `${s.name} Σ f'''`);
      assertClose(grads[0]!, xs64.map(s.d[3]!), TOL[dt], `${s.name} f''''`);
    });
  }

  it('a scalar argument: the second derivative of x³ is 6x = 12 at x = 2, and its derivative 6', () => {
    const p = track(wg.compile((x) => wg.grad(wg.grad((t) => t.mul(t).mul(t)))(x), { args: [spec(dt, [])] }));
    expect(p.run(2)).toBe(12);
    const { value, grads } = p.valueAndGrad(2);
    expect(value).toBe(12);
    expect(Array.from(grads[0]!)).toEqual([6]);
  });
});

// ---------------------------------------------------------------------------------------------
// Vector functions: gradients of gradients against finite differences of plain-JS references.

// f(x) = Σ_i x_i·x_{i+1}² + log Σ_i e^{x_i}: ∂f/∂x_k = x_{k+1}² + 2·x_{k-1}·x_k + softmax(x)_k.
function fTensor(x: T): T {
  const n = x.shape[0]!;
  const head = wg.slice(x, [0], [n - 1]);
  const tail = wg.slice(x, [1], [n - 1]);
  return wg.sum(head.mul(wg.square(tail))).add(wg.logSumExp(x));
}
function gradF(x: Float64Array): Float64Array {
  const n = x.length;
  const m = Math.max(...x);
  let z = 0;
  for (const v of x) z += Math.exp(v - m);
  const g = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let v = Math.exp(x[k]! - m) / z;
    if (k + 1 < n) v += x[k + 1]! ** 2;
    if (k > 0) v += 2 * x[k - 1]! * x[k]!;
    g[k] = v;
  }
  return g;
}
const normSq = (g: Float64Array): number => g.reduce((a, v) => a + v * v, 0);

// Richardson finite differences of these smooth float64 references: ~1e-10 relative (helpers/fd.ts).
const VS_FD: Record<Dt, Tol> = { float64: { rtol: 1e-8, atol: 1e-9 }, float32: { rtol: 5e-4, atol: 5e-4 } };

describe.each(['float64', 'float32'] as const)('gradients of gradients of vector functions (%s)', (dt) => {
  it('∇‖∇f(x)‖² against finite differences', () => {
    const n = 6;
    const x = arr(dt, [0.3, -0.8, 1.1, 0.25, -0.4, 0.9]);
    const x64 = Float64Array.from(x);
    const p = track(wg.compile((t) => wg.sum(wg.square(wg.grad(fTensor)(t))), { args: [spec(dt, [n])] }));
    const { value, grads } = p.valueAndGrad(x);
    assertClose(value, normSq(gradF(x64)), VS_FD[dt], '‖∇f‖²');
    const fd = gradFD(([v]) => normSq(gradF(v!)), [x64])[0]!;
    assertClose(grads[0]!, fd, VS_FD[dt], '∇‖∇f‖²');
  });

  it('a meta-gradient: d/dθ of an outer loss after one inner gradient step in w', () => {
    // inner(w, θ) = ½Σ(w − θ)² + Σ sin(w)·θ;  w₁ = w₀ − η·∂inner/∂w;  outer = Σ (w₁ − c)².
    const eta = 0.3;
    const w0 = [0.5, -1.2, 0.8];
    const c = [0.1, 0.2, -0.3];
    const inner = (w: T, th: T): T => wg.sum(wg.square(w.sub(th))).mul(0.5).add(wg.sum(wg.sin(w).mul(th)));
    const p = track(
      wg.compile(
        (th, w) => {
          const [gw] = wg.grad(inner, { wrt: [0] })(w, th);
          const w1 = w.sub(gw!.mul(eta));
          return wg.sum(wg.square(w1.sub(wg.constant(arr(dt, c)))));
        },
        { args: [spec(dt, [3]), spec(dt, [3])], wrt: [0] },
      ),
    );
    const th = arr(dt, [0.7, -0.1, 0.4]);
    const wIn = arr(dt, w0);
    const outerJS = (t: Float64Array, w: Float64Array): number => {
      let s = 0;
      for (let i = 0; i < 3; i++) {
        const g = w[i]! - t[i]! + Math.cos(w[i]!) * t[i]!;
        s += (w[i]! - eta * g - c[i]!) ** 2;
      }
      return s;
    };
    const th64 = Float64Array.from(th);
    const w64 = Float64Array.from(wIn);
    const { value, grads } = p.valueAndGrad(th, wIn);
    assertClose(value, outerJS(th64, w64), VS_FD[dt], 'outer loss');
    assertClose(grads[0]!, gradFD(([t]) => outerJS(t!, w64), [th64])[0]!, VS_FD[dt], 'meta-gradient');
  });
});

// ---------------------------------------------------------------------------------------------
// Semantics and errors.

describe('wg.grad semantics', () => {
  it('differentiates with respect to fresh variables: no perturbation confusion', () => {
    // d/dx [x · (d/dy (x + y) at y = x)] = d/dx [x · 1] = 1 (not 2, which a shared variable would give).
    const p = track(wg.compile((x) => x.mul(wg.grad((y) => x.add(y))(x)), { args: [wg.f64([])] }));
    expect(p.valueAndGrad(3)).toEqual({ value: 3, grads: [Float64Array.of(1)] });
  });

  it('wrt: an index gives one gradient, an array gives an array; a constant function gives zeros', () => {
    const f = (a: T, b: T): T => wg.sum(a.mul(b)).add(wg.sum(wg.square(b)));
    const p = track(
      wg.compile(
        (a, b) => {
          const gb = wg.grad(f, { wrt: 1 })(a, b); // a + 2b
          const [ga, gb2] = wg.grad(f, { wrt: [0, 1] })(a, b); // b, a + 2b
          const z = wg.grad(() => wg.constant(Float64Array.of(5)).reshape([]))(a); // 0
          return wg.concat([gb, ga!, gb2!, z], 0);
        },
        { args: [wg.f64([2]), wg.f64([2])], wrt: [] },
      ),
    );
    expect(Array.from(p.run(Float64Array.of(1, 2), Float64Array.of(3, 4)) as Float64Array)).toEqual([7, 10, 3, 4, 7, 10, 0, 0]);
  });

  it('works with wg.stopGradient inside: the held quantity is a constant to the inner gradient', () => {
    // inner: d/dy [y²·sg(y)] = 2y·sg(y) = 18 at 3; outer: sg stays a constant, d/dx [2x·sg(x)] = 2·sg(x) = 6.
    const p = track(wg.compile((x) => wg.grad((y) => wg.square(y).mul(wg.stopGradient(y)))(x), { args: [wg.f64([])] }));
    expect(p.valueAndGrad(3)).toEqual({ value: 18, grads: [Float64Array.of(6)] });
  });

  it('throws WENGERT_TRACE outside a traced function, WENGERT_NOT_SCALAR for a non-scalar f', () => {
    const g = wg.grad((x) => wg.sum(x));
    expect(() => g(1)).toThrow(expect.objectContaining({ code: 'WENGERT_TRACE', message: expect.stringContaining('wg.compile') }));
    expect(() => wg.compile((x) => wg.sum(wg.grad((y) => y.mul(2))(x)), { args: [wg.f64([3])] })).toThrow(
      expect.objectContaining({ code: 'WENGERT_NOT_SCALAR' }),
    );
    expect(() => wg.compile((x) => wg.grad((y) => wg.sum(y), { wrt: [1] })(x)[0]!, { args: [wg.f64([3])] })).toThrow(
      expect.objectContaining({ code: 'WENGERT_INVALID_ARGUMENT' }),
    );
  });
});
