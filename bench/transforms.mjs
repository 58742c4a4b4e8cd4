// Cost of the derivative transforms relative to what they extend, measured side by side in one
// process: hvp / valueAndGrad on mid-size problems, and jacobian / one evaluation for a tall
// (n = 4 inputs, m = 1000 outputs) and a wide (n = 1000, m = 4) problem, with the mode chosen.
// Run after `npm run build`: node bench/transforms.mjs [--json]
// bench/package.json (the TF.js manifest) makes bench/ its own package scope, so wengert is
// imported by path (the built ESM entry), not by its package name.
import * as wg from '../dist/index.mjs';

const SAMPLES = 21;
const TARGET_MS = 20; // each sample repeats the call until it takes at least this long

/** Calls per sample so that one sample lasts about TARGET_MS. */
function calibrate(fn) {
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= TARGET_MS || reps >= 1 << 20) return reps;
    reps = ms <= 0 ? reps * 10 : Math.max(reps * 2, Math.ceil((reps * TARGET_MS) / ms));
  }
}

/** Median seconds per call of each function, the samples interleaved (a, b, a, b, …). */
function medians(fns) {
  const reps = fns.map(calibrate);
  const samples = fns.map(() => []);
  for (let s = 0; s < SAMPLES; s++) {
    fns.forEach((fn, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps[k]; i++) fn();
      samples[k].push(Number(process.hrtime.bigint() - t0) / 1e9 / reps[k]);
    });
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[xs.length >> 1]);
}

const fmtTime = (s) => (s < 1e-3 ? `${(s * 1e6).toFixed(1)} µs` : `${(s * 1e3).toFixed(3)} ms`);
const rows = [];

// ---------------------------------------------------------------------------------------------
// hvp / valueAndGrad

function hvpCase(name, fn, args, inputs) {
  const p = wg.compile(fn, { args });
  const v = inputs.slice(0, 1).map((x) => Float64Array.from(x, (_, i) => Math.cos(i)));
  p.hvp(inputs, v); // compile the hvp program outside the timing
  const [tVg, tHvp] = medians([() => p.valueAndGrad(...inputs), () => p.hvp(inputs, v)]);
  rows.push({ bench: 'hvp', problem: name, base: 'valueAndGrad', baseTime: tVg, time: tHvp, ratio: tHvp / tVg });
  p.dispose();
}

{
  const n = 100_000;
  const rosen = (x) => {
    const a = wg.slice(x, [0], [-1], { step: [2] });
    const b = wg.slice(x, [1], [-1], { step: [2] });
    return wg.sum(wg.add(wg.mul(wg.square(wg.sub(b, wg.square(a))), 100), wg.square(wg.sub(1, a))));
  };
  const x = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1) + 0.01 * Math.sin(i));
  hvpCase(`extended Rosenbrock n=${n}`, rosen, [wg.f64([n])], [x]);
}
{
  const [N, D] = [2000, 100];
  const X = Float64Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37));
  const y = Float64Array.from({ length: N }, (_, i) => (Math.cos(i) > 0 ? 1 : 0));
  const w = Float64Array.from({ length: D }, (_, i) => 0.01 * Math.cos(i));
  const logreg = (w, X, y) => {
    const z = wg.matmul(X, w);
    return wg.mean(wg.sub(wg.softplus(z), wg.mul(y, z)));
  };
  hvpCase(`logistic regression ${N}x${D}`, logreg, [wg.f64([D]), wg.f64([N, D]), wg.f64([N])], [w, X, y]);
}

// ---------------------------------------------------------------------------------------------
// jacobian / one evaluation

function jacobianCase(name, fn, n, x) {
  const p = wg.compile(fn, { args: [wg.f64([n])] });
  const mode = p.jacobianMode();
  const other = mode === 'forward' ? 'reverse' : 'forward';
  p.run(x);
  p.jacobian(x);
  p.jacobian(x, { mode: other });
  const [tRun, tJac, tOther] = medians([() => p.run(x), () => p.jacobian(x), () => p.jacobian(x, { mode: other })]);
  rows.push({ bench: 'jacobian', problem: name, base: 'run', baseTime: tRun, time: tJac, ratio: tJac / tRun, mode, otherMode: other, otherRatio: tOther / tRun });
  p.dispose();
}

const M = 1000;
const tGrid = Float64Array.from({ length: M }, (_, i) => i / M);
{
  // y_i = x0·exp(-t_i·x1) + x2·sin(t_i·x3), i < 1000
  const tall = (x) => {
    const t = wg.constant(tGrid);
    const at = (i) => wg.reshape(wg.slice(x, [i], [1]), []);
    return wg.add(wg.mul(at(0), wg.exp(wg.neg(wg.mul(t, at(1))))), wg.mul(at(2), wg.sin(wg.mul(t, at(3)))));
  };
  jacobianCase('tall n=4, m=1000', tall, 4, Float64Array.from([1.5, 0.7, -0.4, 3]));
}
{
  // [Σ t_j sin x_j, Σ x_j²/2, Σ exp(-x_j)·t_j, Σ x_j·x_{j+1}]
  const wide = (x) => {
    const t = wg.constant(tGrid);
    const shifted = wg.mul(wg.slice(x, [0], [M - 1]), wg.slice(x, [1], [M - 1]));
    return wg.stack([wg.sum(wg.mul(t, wg.sin(x))), wg.mul(wg.sum(wg.square(x)), 0.5), wg.sum(wg.mul(wg.exp(wg.neg(x)), t)), wg.sum(shifted)]);
  };
  jacobianCase('wide n=1000, m=4', wide, M, Float64Array.from({ length: M }, (_, j) => Math.sin(j)));
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`transforms (median of ${SAMPLES} samples of >= ${TARGET_MS} ms each; node ${process.version})`);
  for (const r of rows) {
    const extra = r.bench === 'jacobian' ? `  mode ${r.mode}  (forcing ${r.otherMode}: ${r.otherRatio.toFixed(1)}x)` : '';
    console.log(`${r.bench.padEnd(8)}  ${r.problem.padEnd(34)}  ${r.base} ${fmtTime(r.baseTime).padStart(10)}  ${r.bench} ${fmtTime(r.time).padStart(10)}  ratio ${r.ratio.toFixed(2)}x${extra}`);
  }
}
