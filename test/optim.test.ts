// The optimizer API (ts/optim.ts): results and statuses, bounds, weights, robust losses against
// hand-computed optima, covariance against the closed form of linear regression, fitMany
// (grouping by data shape, order, totals, progress), cancellation and coded errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';

const p = (x: wg.Tensor, i: number): wg.Tensor => wg.reshape(wg.slice(x, [i], [1]), []);

/** y = a·exp(−b·t) + c minus the data. */
const decay = (x: wg.Tensor, t: wg.Tensor, y: wg.Tensor): wg.Tensor => wg.sub(wg.add(wg.mul(p(x, 0), wg.exp(wg.mul(wg.neg(p(x, 1)), t))), p(x, 2)), y);

const rosenbrock = (x: wg.Tensor): wg.Tensor => wg.add(wg.mul(100, wg.square(wg.sub(p(x, 1), wg.square(p(x, 0))))), wg.square(wg.sub(1, p(x, 0))));

function decayData(a: number, b: number, c: number, n: number): [Float64Array, Float64Array] {
  const t = Float64Array.from({ length: n }, (_, i) => (4 * i) / (n - 1));
  return [t, t.map((v) => a * Math.exp(-b * v) + c)];
}

const CONVERGED = ['gradient-tolerance', 'step-tolerance', 'function-tolerance'];

/** The least-squares solution and (XᵀWX)⁻¹ of a 2-parameter line, in closed form. */
function weightedLine(x: Float64Array, y: Float64Array, w: Float64Array): { beta: [number, number]; inv: [number, number, number] } {
  let s = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
  for (let i = 0; i < x.length; ++i) {
    s += w[i]!; sx += w[i]! * x[i]!; sxx += w[i]! * x[i]! * x[i]!; sy += w[i]! * y[i]!; sxy += w[i]! * x[i]! * y[i]!;
  }
  const det = s * sxx - sx * sx;
  const b1 = (s * sxy - sx * sy) / det;
  const b0 = (sy - b1 * sx) / s;
  return { beta: [b0, b1], inv: [sxx / det, -sx / det, s / det] };
}

describe('wg.minimize', () => {
  it('minimizes a quadratic exactly and reports a converged status with the result fields', () => {
    const target = new Float64Array([1, -2, 3]);
    const r = wg.minimize((x, c) => wg.sum(wg.square(wg.sub(x, c))), [0, 0, 0], { data: [target] });
    expect(CONVERGED).toContain(r.status);
    expect(r.converged).toBe(true);
    for (let i = 0; i < 3; ++i) expect(r.x[i]).toBeCloseTo(target[i]!, 10);
    expect(r.value).toBeLessThan(1e-18);
    expect(r.grad).toBeInstanceOf(Float64Array);
    expect(r.grad.length).toBe(3);
    expect(r.iterations).toBeGreaterThan(0);
    expect(r.evaluations).toBeGreaterThanOrEqual(r.iterations);
    expect(typeof r.message).toBe('string');
    expect(r.message.length).toBeGreaterThan(0);
  });

  it('reaches the Rosenbrock minimum with lbfgs (default) and newton', () => {
    for (const method of ['lbfgs', 'newton'] as const) {
      const r = wg.minimize(rosenbrock, [-1.2, 1], { method });
      expect(r.converged, `${method}: ${r.status} ${r.message}`).toBe(true);
      expect(r.x[0]).toBeCloseTo(1, 6);
      expect(r.x[1]).toBeCloseTo(1, 6);
      expect(r.value).toBeLessThan(1e-12);
    }
  });

  it('adam runs its steps and approaches the minimum of a quadratic', () => {
    const r = wg.minimize((x) => wg.sum(wg.square(wg.sub(x, 2))), [0, 0], { method: 'adam', lr: 0.05, steps: 2000 });
    expect(r.iterations).toBeLessThanOrEqual(2000);
    expect(r.x[0]).toBeCloseTo(2, 3);
    expect(r.x[1]).toBeCloseTo(2, 3);
  });

  it('respects bounds (L-BFGS-B): the active bound and the free optimum', () => {
    const r = wg.minimize((x) => wg.sum(wg.square(wg.sub(x, 3))), [0, 0], { bounds: { upper: [1, Infinity] } });
    expect(r.converged, r.message).toBe(true);
    expect(r.x[0]).toBe(1);
    expect(r.x[1]).toBeCloseTo(3, 8);
  });

  it('stops at maxIterations with that status', () => {
    const r = wg.minimize(rosenbrock, [-1.2, 1], { maxIterations: 2 });
    expect(r.status).toBe('max-iterations');
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(2);
  });

  it('reports non-finite when the objective is NaN at the start', () => {
    const r = wg.minimize((x) => wg.sum(wg.log(x)), [-1, -1]);
    expect(r.status).toBe('non-finite');
  });

  it('minimizeAsync gives the same result as minimize', async () => {
    const a = wg.minimize(rosenbrock, [-1.2, 1]);
    const b = await wg.minimizeAsync(rosenbrock, [-1.2, 1]);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(b.iterations).toBe(a.iterations);
  });
});

describe('wg.leastSquares', () => {
  it('fits an exponential decay with exact data to zero residuals', () => {
    const [t, y] = decayData(2, 0.7, 0.5, 20);
    const r = wg.leastSquares(decay, [1, 1, 0], { data: [t, y] });
    expect(r.converged, r.message).toBe(true);
    expect(r.x[0]).toBeCloseTo(2, 8);
    expect(r.x[1]).toBeCloseTo(0.7, 8);
    expect(r.x[2]).toBeCloseTo(0.5, 8);
    expect(r.cost).toBeLessThan(1e-20);
    expect(r.value).toBe(2 * r.cost);
    expect(r.residuals.length).toBe(20);
    expect(r.jacobian.length).toBe(60);
    // J[i, 0] = d r_i / d a = exp(-b t_i)
    expect(r.jacobian[3 * 5]).toBeCloseTo(Math.exp(-r.x[1]! * t[5]!), 12);
  });

  it('covariance and standard errors of a linear regression match (XᵀX)⁻¹·s²', () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => i);
    const y = x.map((v, i) => 1.5 + 0.3 * v + 0.1 * Math.sin(3 * i));
    const r = wg.leastSquares((b, x, y) => wg.sub(wg.add(p(b, 0), wg.mul(p(b, 1), x)), y), [0, 0], { data: [x, y] });
    const { beta, inv } = weightedLine(x, y, new Float64Array(12).fill(1));
    expect(r.x[0]).toBeCloseTo(beta[0], 10);
    expect(r.x[1]).toBeCloseTo(beta[1], 10);
    let rss = 0;
    for (let i = 0; i < 12; ++i) rss += (y[i]! - beta[0] - beta[1] * x[i]!) ** 2;
    const s2 = rss / (12 - 2);
    const cov = [inv[0] * s2, inv[1] * s2, inv[1] * s2, inv[2] * s2];
    for (let k = 0; k < 4; ++k) expect(r.covariance[k]! / cov[k]!).toBeCloseTo(1, 8);
    expect(r.stdErrors[0]! / Math.sqrt(cov[0]!)).toBeCloseTo(1, 8);
    expect(r.stdErrors[1]! / Math.sqrt(cov[3]!)).toBeCloseTo(1, 8);
  });

  it('weights give the weighted least-squares solution and covariance', () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => i);
    const y = x.map((v, i) => 2 - 0.5 * v + (i % 3 === 0 ? 0.4 : -0.2));
    const w = x.map((_, i) => 1 + (i % 4));
    const r = wg.leastSquares((b, x, y) => wg.sub(wg.add(p(b, 0), wg.mul(p(b, 1), x)), y), [0, 0], { data: [x, y], weights: w });
    const { beta, inv } = weightedLine(x, y, w);
    expect(r.x[0]).toBeCloseTo(beta[0], 10);
    expect(r.x[1]).toBeCloseTo(beta[1], 10);
    let wrss = 0;
    for (let i = 0; i < 10; ++i) wrss += w[i]! * (y[i]! - beta[0] - beta[1] * x[i]!) ** 2;
    expect(r.cost).toBeCloseTo(wrss / 2, 10);
    expect(r.covariance[0]! / (inv[0] * (wrss / 8))).toBeCloseTo(1, 8);
  });

  it('the huber loss reaches the hand-computed robust location of data with an outlier', () => {
    const y = new Float64Array([0, 0, 0, 0, 10]);
    const loc = (x: wg.Tensor, y: wg.Tensor) => wg.sub(wg.broadcastTo(x, [5]), y);
    // Huber (fScale 1): 4x from the inliers and −1 from the outlier (|r| > 1 contributes sign(r)): x = 1/4.
    const h = wg.leastSquares(loc, [1], { data: [y], loss: 'huber' });
    expect(h.x[0]).toBeCloseTo(0.25, 8);
    // cost = ½·Σρ(r²): ρ(z) = z inside, 2√z − 1 outside.
    expect(h.cost).toBeCloseTo(0.5 * (4 * 0.25 ** 2 + (2 * 9.75 - 1)), 10);
    // fScale 2 for huber: inliers within 2; the outlier contributes 2·sign(r): 4x − 2 = 0.
    const h2 = wg.leastSquares(loc, [1], { data: [y], loss: 'huber', fScale: 2 });
    expect(h2.x[0]).toBeCloseTo(0.5, 8);
  });

  it('the cauchy loss reaches the hand-computed robust location of data with an outlier', () => {
    const y = new Float64Array([0, 0, 0, 0, 10]);
    const loc = (x: wg.Tensor, y: wg.Tensor) => wg.sub(wg.broadcastTo(x, [5]), y);
    // Cauchy: 4x/(1+x²) + (x−10)/(1+(x−10)²) = 0, solved by bisection on [0, 1].
    const dc = (x: number) => (4 * x) / (1 + x * x) + (x - 10) / (1 + (x - 10) ** 2);
    let lo = 0, hi = 1;
    for (let k = 0; k < 200; ++k) ((dc((lo + hi) / 2) > 0) ? (hi = (lo + hi) / 2) : (lo = (lo + hi) / 2));
    const c = wg.leastSquares(loc, [1], { data: [y], loss: 'cauchy' });
    expect(c.x[0]).toBeCloseTo(lo, 8);
    expect(c.cost).toBeCloseTo(0.5 * (4 * Math.log1p(lo * lo) + Math.log1p((lo - 10) ** 2)), 10);
  });

  it('respects bounds', () => {
    const [t, y] = decayData(2, 0.7, 0.5, 20);
    const r = wg.leastSquares(decay, [1, 1, 0], { data: [t, y], bounds: { lower: [0, 0, 0], upper: [10, 10, 0.2] } });
    expect(r.x[2]).toBe(0.2);
    expect(r.x[0]).toBeGreaterThan(0);
  });

  it('works with more parameters than residuals (reverse-mode Jacobian)', () => {
    const r = wg.leastSquares((x) => wg.stack([wg.sub(wg.sum(wg.square(x)), 1), wg.sub(p(x, 0), p(x, 1))]), [1, 0.5, 0.2]);
    expect(Math.hypot(...r.residuals)).toBeLessThan(1e-8);
    expect(r.covariance.length).toBe(9);
    expect(Number.isNaN(r.stdErrors[0])).toBe(true); // m <= n: no variance estimate
  });

  it('leastSquaresAsync gives the same result as leastSquares', async () => {
    const [t, y] = decayData(2, 0.7, 0.5, 15);
    const a = wg.leastSquares(decay, [1, 1, 0], { data: [t, y] });
    const b = await wg.leastSquaresAsync(decay, [1, 1, 0], { data: [t, y] });
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
  });
});

describe('wg.fitMany', () => {
  const sensors = [
    { a: 2, b: 0.7, c: 0.5, n: 20 },
    { a: 1, b: 1.3, c: -0.2, n: 20 },
    { a: 3, b: 0.4, c: 1.0, n: 12 }, // another data length: another compiled shape
    { a: 0.5, b: 2.0, c: 0.1, n: 20 },
  ];
  const problems = sensors.map((s) => ({ x0: [1, 1, 0], data: decayData(s.a, s.b, s.c, s.n) }));

  it('fits every problem (data lengths may differ), in order, with totals', () => {
    const seen: wg.FitProgress[] = [];
    const { results, totals } = wg.fitMany(decay, problems, { onProgress: (q) => seen.push(q) });
    expect(results.length).toBe(4);
    sensors.forEach((s, i) => {
      expect(results[i]!.converged).toBe(true);
      expect(results[i]!.x[0]).toBeCloseTo(s.a, 7);
      expect(results[i]!.x[1]).toBeCloseTo(s.b, 7);
      expect(results[i]!.x[2]).toBeCloseTo(s.c, 7);
      expect(results[i]!.residuals.length).toBe(s.n);
    });
    expect(totals.problems).toBe(4);
    expect(totals.converged).toBe(4);
    expect(totals.compiledShapes).toBe(2);
    expect(totals.iterations).toBe(results.reduce((a, r) => a + r.iterations, 0));
    expect(totals.evaluations).toBe(results.reduce((a, r) => a + r.evaluations, 0));
    expect(Object.values(totals.byStatus).reduce((a, b) => a + b, 0)).toBe(4);
    expect(totals.milliseconds).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ done: 4, total: 4 });
  });

  it('gives each problem the result of fitting it alone', () => {
    const { results } = wg.fitMany(decay, problems);
    problems.forEach((pr, i) => {
      const alone = wg.leastSquares(decay, pr.x0, { data: pr.data });
      expect(Array.from(results[i]!.x)).toEqual(Array.from(alone.x));
      expect(results[i]!.iterations).toBe(alone.iterations);
    });
  });

  it('runs minimize problems with kind: minimize', () => {
    const targets = [1, 2, 3].map((v) => new Float64Array([v, -v]));
    const { results } = wg.fitMany((x, c) => wg.sum(wg.square(wg.sub(x, c))), targets.map((c) => ({ x0: [0, 0], data: [c] })), { kind: 'minimize' });
    results.forEach((r, i) => expect(r.x[1]).toBeCloseTo(-(i + 1), 8));
  });

  it('fitManyAsync resolves with the same results and delivers the final progress report', async () => {
    const seen: wg.FitProgress[] = [];
    const sync = wg.fitMany(decay, problems);
    const r = await wg.fitManyAsync(decay, problems, { onProgress: (q) => seen.push(q) });
    r.results.forEach((res, i) => expect(Array.from(res.x)).toEqual(Array.from(sync.results[i]!.x)));
    // The contract of start_job: reports may be coalesced, the last one arrives before the promise settles.
    expect(seen.at(-1)).toEqual({ done: 4, total: 4 });
  });

  it('per-problem weights', () => {
    const [t, y] = decayData(2, 0.7, 0.5, 20);
    const yBad = y.slice();
    yBad[3] = 100; // an outlier that weight 0 removes
    const w = new Float64Array(20).fill(1);
    w[3] = 0;
    const { results } = wg.fitMany(decay, [{ x0: [1, 1, 0], data: [t, yBad], weights: w }]);
    expect(results[0]!.x[1]).toBeCloseTo(0.7, 7);
  });
});

describe('cancellation and errors', () => {
  it('an already-aborted signal fails every form with WENGERT_ABORTED', async () => {
    const signal = AbortSignal.abort();
    const [t, y] = decayData(2, 0.7, 0.5, 10);
    expect(() => wg.minimize(rosenbrock, [0, 0], { signal })).toThrow(expect.objectContaining({ code: 'WENGERT_ABORTED' }));
    expect(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, y], signal })).toThrow(expect.objectContaining({ code: 'WENGERT_ABORTED' }));
    expect(() => wg.fitMany(decay, [{ x0: [1, 1, 0], data: [t, y] }], { signal })).toThrow(expect.objectContaining({ code: 'WENGERT_ABORTED' }));
    await expect(wg.minimizeAsync(rosenbrock, [0, 0], { signal })).rejects.toMatchObject({ code: 'WENGERT_ABORTED' });
    await expect(wg.leastSquaresAsync(decay, [1, 1, 0], { data: [t, y], signal })).rejects.toMatchObject({ code: 'WENGERT_ABORTED' });
    await expect(wg.fitManyAsync(decay, [{ x0: [1, 1, 0], data: [t, y] }], { signal })).rejects.toMatchObject({ code: 'WENGERT_ABORTED' });
  });

  it('the native job checks the signal too: aborting right after the call rejects', async () => {
    const ac = new AbortController();
    const [t, y] = decayData(2, 0.7, 0.5, 10);
    const promise = wg.fitManyAsync(decay, Array.from({ length: 50 }, () => ({ x0: [1, 1, 0], data: [t, y] })), { signal: ac.signal });
    ac.abort();
    await expect(promise).rejects.toMatchObject({ code: 'WENGERT_ABORTED' });
  });

  it('rejects bad arguments with codes that name the problem', () => {
    const [t, y] = decayData(2, 0.7, 0.5, 10);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => wg.minimize('f' as unknown as wg.TracedFunction, [0]))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.minimize((x) => wg.square(x), [0, 0]))).toBe('WENGERT_NOT_SCALAR');
    expect(code(() => wg.minimize(rosenbrock, [0, 0], { method: 'bfgs' as 'lbfgs' }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.minimize(rosenbrock, [0, 0], { maxIterations: 0 }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.minimize(rosenbrock, [0, 0], { method: 'newton', bounds: { lower: [0, 0] } }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.minimize(rosenbrock, [0, 0], { bounds: { lower: [0] } }))).toBe('WENGERT_INPUT_LENGTH');
    expect(code(() => wg.minimize(rosenbrock, [0, 0], { bounds: { lower: [2, 0], upper: [1, 1] } }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.minimize(rosenbrock, [NaN, 0]))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, [1, 2] as unknown as Float64Array] }))).toBe('WENGERT_INPUT_DTYPE');
    expect(code(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, y], weights: [1, 2] }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, y], weights: new Float64Array(10).fill(-1) }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, y], loss: 'l1' as 'huber' }))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.leastSquares(decay, [1, 1, 0], { data: [t, y.subarray(1)] }))).toBe('WENGERT_SHAPE_MISMATCH');
    expect(code(() => wg.fitMany(decay, [{ x0: [1, 1, 0], data: [t, y] }, { x0: [1, 1], data: [t, y] }]))).toBe('WENGERT_INPUT_LENGTH');
    expect(code(() => wg.fitMany(decay, []))).toBe('WENGERT_INVALID_ARGUMENT');
    expect(code(() => wg.fitMany(decay, [{ x0: [1, 1, 0], data: [t, y] }], { kind: 'max' as 'minimize' }))).toBe('WENGERT_INVALID_ARGUMENT');
  });

  it('the message of a bad problem in a batch names it', () => {
    const [t, y] = decayData(2, 0.7, 0.5, 10);
    expect(() => wg.fitMany(decay, [{ x0: [1, 1, 0], data: [t, y] }, { x0: [1, 1], data: [t, y] }])).toThrow(/problem 1/);
  });
});
