// Whole models built from core ops: the derivative of a composition is where a missing
// broadcast-sum, a wrong accumulation order or a dropped cotangent shows up even when every op
// passes on its own. References are plain JavaScript: hand-derived gradients where they are
// classical, finite differences of a plain-JS implementation otherwise.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { trackPrograms } from './helpers/track.js';
import { assertClose, maxAbs, relErr, type Tol } from './helpers/compare.js';
import { gradFD } from './helpers/fd.js';
import { sigmoid, softplus } from './helpers/ref.js';
import { Rng, splitmix64 } from './helpers/rng.js';

type T = wg.Tensor;

const track = trackPrograms();

// Reverse mode against finite differences (Richardson, helpers/fd.ts): the FD error is about
// 1e-10 relative for these smooth, well-scaled losses; a wrong gradient is off by O(1).
const VS_FD: Tol = { rtol: 1e-8, atol: 1e-9 };

// ---------------------------------------------------------------------------------------------
// (a) Logistic regression with a bias: mean binary cross-entropy, stable form.

interface LogRegData {
  readonly n: number;
  readonly d: number;
  readonly X: Float64Array;
  readonly y: Float64Array;
}

function logRegLoss(w: ArrayLike<number>, b: number, data: LogRegData): number {
  const { n, d, X, y } = data;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let j = 0; j < d; j++) z += X[i * d + j]! * w[j]!;
    s += softplus(z) - y[i]! * z;
  }
  return s / n;
}

/** ∂/∂w = Xᵀ(σ(z) − y)/n, ∂/∂b = mean(σ(z) − y), derived by hand. */
function logRegGrad(w: ArrayLike<number>, b: number, data: LogRegData): { gw: Float64Array; gb: number } {
  const { n, d, X, y } = data;
  const gw = new Float64Array(d);
  let gb = 0;
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let j = 0; j < d; j++) z += X[i * d + j]! * w[j]!;
    const e = sigmoid(z) - y[i]!;
    for (let j = 0; j < d; j++) gw[j] = gw[j]! + X[i * d + j]! * e;
    gb += e;
  }
  return { gw: gw.map((v) => v / n), gb: gb / n };
}

const logRegFn = (w: T, b: T, X: T, y: T): T => {
  const z = wg.add(wg.matmul(X, w), b);
  return wg.mean(wg.softplus(z).sub(y.mul(z)));
};

describe('(a) logistic regression', () => {
  const n = 200;
  const d = 5;
  const rng = new Rng(101);
  const X = rng.array(n * d, { lo: -2, hi: 2 });
  const wTrue = rng.array(d, { lo: -1.5, hi: 1.5 });
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0.3;
    for (let j = 0; j < d; j++) z += X[i * d + j]! * wTrue[j]!;
    y[i] = rng.next() < sigmoid(z) ? 1 : 0;
  }
  const data: LogRegData = { n, d, X, y };
  const w = rng.array(d, { lo: -1, hi: 1 });
  const b = rng.uniform(-1, 1);

  let result: wg.ValueAndGrad;
  beforeAll(() => {
    const p = track(wg.compile(logRegFn, { args: [wg.f64([d]), wg.f64([]), wg.f64([n, d]), wg.f64([n])], wrt: [0, 1] }));
    result = p.valueAndGrad(w, b, X, y);
  });

  it('value matches the plain-JS loss', () => {
    // 200 terms of magnitude ≲ 5: summation-order differences ≲ 200·2^-53·1000 ≈ 2e-11 absolute
    // on Σ before dividing by n, so 1e-12 relative on a loss of order 0.5 is safe.
    assertClose(result.value, logRegLoss(w, b, data), { rtol: 1e-12, atol: 0 }, 'logistic loss');
  });

  it('gradient matches the hand-derived gradient', () => {
    const { gw, gb } = logRegGrad(w, b, data);
    expect(result.grads.length).toBe(2);
    // Same arithmetic up to evaluation order: each element sums 200 products of magnitude ≤ 2,
    // so the difference is ≲ 200·2^-53·400/n ≈ 1e-13; 1e-12 absolute leaves margin.
    assertClose(result.grads[0]!, gw, { rtol: 1e-11, atol: 1e-12 }, 'logistic ∂w');
    assertClose(result.grads[1]!, [gb], { rtol: 1e-11, atol: 1e-12 }, 'logistic ∂b');
  });

  it('gradient matches finite differences', () => {
    const [fw, fb] = gradFD(([ww, bb]) => logRegLoss(ww!, bb![0]!, data), [w, Float64Array.of(b)]);
    assertClose(result.grads[0]!, fw!, VS_FD, 'logistic ∂w vs FD');
    assertClose(result.grads[1]!, fb!, VS_FD, 'logistic ∂b vs FD');
  });

  it('reproduces benchmark W1 (n = 100,000, d = 100, L2 1e-3) in value and gradient', () => {
    // The data set of ../shared/BENCH.md W1, from the same generator.
    const N = 100_000;
    const D = 100;
    const u = splitmix64;
    const XX = new Float64Array(N * D);
    for (let i = 0; i < N * D; i++) XX[i] = 2 * u(i, 1) - 1;
    const wt = Float64Array.from({ length: D }, (_, j) => 2 * u(j, 2) - 1);
    const yy = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let z = 0.25;
      for (let j = 0; j < D; j++) z += XX[i * D + j]! * wt[j]!;
      yy[i] = u(i, 3) < sigmoid(z) ? 1 : 0;
    }
    const w0 = Float64Array.from({ length: D }, (_, j) => 0.1 * (2 * u(j, 4) - 1));
    const b0 = 0.1;
    const big = track(
      wg.compile((ww, bb, Xt, yt) => logRegFn(ww!, bb!, Xt!, yt!).add(wg.sum(wg.square(ww!)).mul(1e-3)), {
        args: [wg.f64([D]), wg.f64([]), wg.f64([N, D]), wg.f64([N])],
        wrt: [0, 1],
      }),
    );
    const r = big.valueAndGrad(w0, b0, XX, yy);
    const bigData = { n: N, d: D, X: XX, y: yy };
    let l2 = 0;
    for (const v of w0) l2 += v * v;
    // 1e5 terms: summation-order differences ≲ 1e5·2^-53·Σ|terms|/n ≈ 1e-11 relative (usually far less).
    assertClose(r.value, logRegLoss(w0, b0, bigData) + 1e-3 * l2, { rtol: 1e-10, atol: 0 }, 'W1 loss vs plain JS');
    // The published W1 reference, 0.7143434030, is given to 10 decimals (half-unit 5e-11).
    expect(Math.abs(r.value - 0.714343403)).toBeLessThan(1e-10);
    const { gw, gb } = logRegGrad(w0, b0, bigData);
    const gwL2 = gw.map((v, j) => v + 2e-3 * w0[j]!);
    assertClose(r.grads[0]!, gwL2, { rtol: 1e-9, atol: 1e-12 }, 'W1 ∂w vs hand-derived');
    assertClose(r.grads[1]!, [gb], { rtol: 1e-9, atol: 1e-12 }, 'W1 ∂b vs hand-derived');

    // The same in float32 (BENCH runs W1 in both), against float64 on the float32-rounded data.
    const fn = (ww: T, bb: T, Xt: T, yt: T): T => logRegFn(ww, bb, Xt, yt).add(wg.sum(wg.square(ww)).mul(1e-3));
    const X32 = Float32Array.from(XX);
    const w32 = Float32Array.from(w0);
    const b32 = Math.fround(b0);
    const p32 = track(wg.compile(fn, { args: [wg.f32([D]), wg.f32([]), wg.f32([N, D]), wg.f32([N])], wrt: [0, 1] }));
    const p64 = track(wg.compile(fn, { args: [wg.f64([D]), wg.f64([]), wg.f64([N, D]), wg.f64([N])], wrt: [0, 1] }));
    const r32 = p32.valueAndGrad(w32, b32, X32, Float32Array.from(yy));
    const r64 = p64.valueAndGrad(Float64Array.from(w32), b32, Float64Array.from(X32), yy);
    // Means over 1e5 float32 terms: a random-walk rounding error of about √n·2^-24 ≈ 2e-5 relative
    // (worst case n·2^-24 = 6e-3, reached only by pathological data); 1e-4 of the value and of the
    // largest gradient entry is allowed.
    assertClose(r32.value, r64.value, { rtol: 1e-4, atol: 0 }, 'W1 float32 loss vs float64');
    assertClose(r32.grads[0]!, r64.grads[0]!, { rtol: 0, atol: 1e-4 * maxAbs(r64.grads[0]!) }, 'W1 float32 ∂w vs float64');
    assertClose(r32.grads[1]!, r64.grads[1]!, { rtol: 1e-4, atol: 0 }, 'W1 float32 ∂b vs float64');
  });
});

// ---------------------------------------------------------------------------------------------
// (b) A 2-layer MLP with softmax cross-entropy written from core ops.

describe('(b) two-layer MLP, softmax cross-entropy', () => {
  const batch = 8;
  const nIn = 5;
  const nHidden = 6;
  const nOut = 3;
  const rng = new Rng(202);
  const X = rng.array(batch * nIn, { lo: -1.5, hi: 1.5 });
  const Y = new Float64Array(batch * nOut);
  for (let i = 0; i < batch; i++) Y[i * nOut + rng.int(nOut)] = 1;
  const W1 = rng.array(nIn * nHidden, { lo: -1, hi: 1 });
  const b1 = rng.array(nHidden, { lo: -0.5, hi: 0.5 });
  const W2 = rng.array(nHidden * nOut, { lo: -1, hi: 1 });
  const b2 = rng.array(nOut, { lo: -0.5, hi: 0.5 });
  const params = [W1, b1, W2, b2];

  type Act = 'tanh' | 'relu';
  const actJs: Record<Act, (v: number) => number> = { tanh: Math.tanh, relu: (v) => Math.max(v, 0) };

  /** Plain-JS forward pass: mean over the batch of log Σ exp(z) − z[label]. */
  function mlpLoss(act: Act, [w1, c1, w2, c2]: Float64Array[]): number {
    let total = 0;
    for (let i = 0; i < batch; i++) {
      const h = new Float64Array(nHidden);
      for (let j = 0; j < nHidden; j++) {
        let s = c1![j]!;
        for (let k = 0; k < nIn; k++) s += X[i * nIn + k]! * w1![k * nHidden + j]!;
        h[j] = actJs[act](s);
      }
      let lse = 0;
      let picked = 0;
      for (let o = 0; o < nOut; o++) {
        let z = c2![o]!;
        for (let j = 0; j < nHidden; j++) z += h[j]! * w2![j * nOut + o]!;
        lse += Math.exp(z);
        picked += Y[i * nOut + o]! * z;
      }
      total += Math.log(lse) - picked;
    }
    return total / batch;
  }

  for (const act of ['tanh', 'relu'] as const) {
    it(`${act} hidden layer: value and gradient of all weights and biases`, () => {
      const p = track(
        wg.compile(
          (w1, c1, w2, c2, x, y) => {
            const h = wg[act](wg.add(wg.matmul(x!, w1!), c1!));
            const z = wg.add(wg.matmul(h, w2!), c2!);
            const lse = wg.log(wg.sum(wg.exp(z), -1));
            const picked = wg.sum(wg.mul(y!, z), -1);
            return wg.mean(wg.sub(lse, picked));
          },
          {
            args: [wg.f64([nIn, nHidden]), wg.f64([nHidden]), wg.f64([nHidden, nOut]), wg.f64([nOut]), wg.f64([batch, nIn]), wg.f64([batch, nOut])],
            wrt: [0, 1, 2, 3],
          },
        ),
      );
      const { value, grads } = p.valueAndGrad(W1, b1, W2, b2, X, Y);
      assertClose(value, mlpLoss(act, params), { rtol: 1e-12, atol: 0 }, `MLP (${act}) loss`);
      // relu has kinks: central differences with a 1e-6 step do not cross one for these draws
      // (pre-activations are O(1)); their error is ~1e-9 relative, hence the looser bound.
      const fd = gradFD((ps) => mlpLoss(act, ps), params, act === 'relu' ? { method: 'central' } : {});
      const tol = act === 'relu' ? { rtol: 1e-6, atol: 1e-8 } : VS_FD;
      expect(grads.length).toBe(4);
      ['W1', 'b1', 'W2', 'b2'].forEach((name, i) => assertClose(grads[i]!, fd[i]!, tol, `MLP (${act}) ∂${name}`));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// (c) Extended Rosenbrock from scalar ops: n scalar arguments, ~1000 ops.

describe('(c) extended Rosenbrock as scalar ops', () => {
  const n = 150; // 149 terms × 7 ops ≈ 1000 scalar ops
  const rosen = (x: ArrayLike<number>): number => {
    let f = 0;
    for (let i = 0; i < n - 1; i++) f += 100 * (x[i + 1]! - x[i]! * x[i]!) ** 2 + (1 - x[i]!) ** 2;
    return f;
  };
  /** ∂f/∂x_i = −400 x_i (x_{i+1} − x_i²) − 2(1 − x_i) + 200 (x_i − x_{i−1}²), terms present as applicable. */
  const rosenGrad = (x: ArrayLike<number>): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => {
      let g = 0;
      if (i < n - 1) g += -400 * x[i]! * (x[i + 1]! - x[i]! * x[i]!) - 2 * (1 - x[i]!);
      if (i > 0) g += 200 * (x[i]! - x[i - 1]! * x[i - 1]!);
      return g;
    });

  let p: wg.Program;
  beforeAll(() => {
    p = track(
      wg.compile(
        (...x: T[]) => {
          let f: T | undefined;
          for (let i = 0; i < n - 1; i++) {
            const term = wg.add(wg.mul(100, wg.square(wg.sub(x[i + 1]!, wg.square(x[i]!)))), wg.square(wg.sub(1, x[i]!)));
            f = f === undefined ? term : wg.add(f, term);
          }
          return f!;
        },
        { args: Array.from({ length: n }, () => wg.f64([])), wrt: Array.from({ length: n }, (_, i) => i) },
      ),
    );
  });

  it('value and gradient at a random point match the analytic ones', () => {
    const x = new Rng(303).array(n, { lo: -2, hi: 2 });
    const { value, grads } = p.valueAndGrad(...x);
    // Terms reach 100·(2 + 4)² = 3600 and the sum ~1e5: rounding-order differences are
    // ≲ 150·2^-53·Σ|terms| ≈ 1e-11 relative to the total.
    assertClose(value, rosen(x), { rtol: 1e-12, atol: 0 }, 'Rosenbrock value');
    expect(grads.length).toBe(n);
    const g = Float64Array.from(grads, (a) => {
      expect(a.length).toBe(1);
      return a[0]!;
    });
    // Each partial has up to three terms of magnitude ≲ 5000 evaluated in a different order:
    // differences ≲ a few ulp of 5000 ≈ 1e-12 absolute.
    assertClose(g, rosenGrad(x), { rtol: 1e-13, atol: 1e-10 }, 'Rosenbrock gradient');
  });

  it('value and gradient are exactly zero at the minimum x = 1', () => {
    const { value, grads } = p.valueAndGrad(...new Array<number>(n).fill(1));
    expect(value).toBe(0);
    for (const a of grads) expect(Math.abs(a[0]!)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// (d) Lotka–Volterra parameter gradient through 1000 RK4 steps (~60k scalar ops).

describe('(d) Lotka–Volterra through fixed-step RK4', () => {
  const dt = 0.01;
  const steps = 1000;
  const theta = [1.5, 1, 3, 1]; // α, β, γ, δ

  /** Plain JS: loss = Σ_{s=1..1000} x_s² + y_s² (the initial state is not included). */
  function lvLoss(th: ArrayLike<number>): number {
    const [al, be, ga, de] = [th[0]!, th[1]!, th[2]!, th[3]!];
    const f = (x: number, y: number): [number, number] => [al * x - be * x * y, de * x * y - ga * y];
    let x = 1;
    let y = 1;
    let loss = 0;
    for (let s = 0; s < steps; s++) {
      const [k1x, k1y] = f(x, y);
      const [k2x, k2y] = f(x + (dt / 2) * k1x, y + (dt / 2) * k1y);
      const [k3x, k3y] = f(x + (dt / 2) * k2x, y + (dt / 2) * k2y);
      const [k4x, k4y] = f(x + dt * k3x, y + dt * k3y);
      x += (dt / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
      y += (dt / 6) * (k1y + 2 * k2y + 2 * k3y + k4y);
      loss += x * x + y * y;
    }
    return loss;
  }

  it('value is the published 17154.0428834204 and the gradient matches finite differences', () => {
    const t0 = performance.now();
    const p = track(
      wg.compile(
        (al, be, ga, de) => {
          const f = (x: T, y: T): [T, T] => {
            const xy = x.mul(y);
            return [al!.mul(x).sub(be!.mul(xy)), de!.mul(xy).sub(ga!.mul(y))];
          };
          let x: T = wg.constant(1);
          let y: T = wg.constant(1);
          let loss: T | undefined;
          for (let s = 0; s < steps; s++) {
            const [k1x, k1y] = f(x, y);
            const [k2x, k2y] = f(x.add(k1x.mul(dt / 2)), y.add(k1y.mul(dt / 2)));
            const [k3x, k3y] = f(x.add(k2x.mul(dt / 2)), y.add(k2y.mul(dt / 2)));
            const [k4x, k4y] = f(x.add(k3x.mul(dt)), y.add(k3y.mul(dt)));
            x = x.add(k1x.add(k2x.mul(2)).add(k3x.mul(2)).add(k4x).mul(dt / 6));
            y = y.add(k1y.add(k2y.mul(2)).add(k3y.mul(2)).add(k4y).mul(dt / 6));
            const term = x.square().add(y.square());
            loss = loss === undefined ? term : loss.add(term);
          }
          return loss!;
        },
        { args: [wg.f64([]), wg.f64([]), wg.f64([]), wg.f64([])], wrt: [0, 1, 2, 3] },
      ),
    );
    const compileMs = performance.now() - t0;
    const t1 = performance.now();
    const { value, grads } = p.valueAndGrad(...theta);
    const runMs = performance.now() - t1;
    // The published value (../shared/BENCH.md W4), required to 1e-9 relative.
    expect(relErr(value, 17154.0428834204)).toBeLessThan(1e-9);
    // The same arithmetic in plain JS; only association differs (x·y·β vs β·(x·y)), ~1e-13.
    assertClose(value, lvLoss(theta), { rtol: 1e-12, atol: 0 }, 'LV loss vs plain JS');
    // Richardson differences of the plain-JS integrator agree with forward-mode dual numbers to
    // 4e-10 relative at this point (checked while writing this test); 1e-8 leaves a factor 25.
    const [fd] = gradFD(([th]) => lvLoss(th!), [Float64Array.from(theta)]);
    const g = Float64Array.from(grads, (a) => a[0]!);
    assertClose(g, fd!, { rtol: 1e-8, atol: 0 }, 'LV ∂(α, β, γ, δ) vs FD');
    // Not a performance test; a generous bound keeps a pathological slowdown visible.
    expect(compileMs + runMs).toBeLessThan(60_000);
  });
});
