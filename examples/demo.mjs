// Fit a logistic regression on 100,000 × 20 synthetic examples with gradients from wengert.
//
//   npm run build && node examples/demo.mjs
//
// The data come from the splitmix64 generator of the benchmark suite, so every run prints the
// same numbers. The loss is the mean binary cross-entropy in its stable form,
// mean(softplus(z) − y·z) with z = X·w + b; the optimizer is Adam, written in plain JS below.
import * as wg from 'wengert';

// ---------------------------------------------------------------------------------------------
// Seeded data: u(i, seed) uniform in [0, 1), the splitmix64 finalizer on (seed + i + 1)·G mod 2^64,
// computed on 32-bit halves.

function mulHigh32(a, b) {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}
function mul64([ah, al], bh, bl) {
  return [(mulHigh32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0, Math.imul(al, bl) >>> 0];
}
function xorShift([h, l], s) {
  return [(h ^ (h >>> s)) >>> 0, (l ^ ((l >>> s) | (h << (32 - s)))) >>> 0];
}
function u(i, seed) {
  const k = seed + i + 1;
  let z = mul64([Math.floor(k / 2 ** 32) >>> 0, k >>> 0], 0x9e3779b9, 0x7f4a7c15);
  z = mul64(xorShift(z, 30), 0xbf58476d, 0x1ce4e5b9);
  z = mul64(xorShift(z, 27), 0x94d049bb, 0x133111eb);
  const [h, l] = xorShift(z, 31);
  return (h * 2 ** 21 + (l >>> 11)) * 2 ** -53;
}

const n = 100_000;
const d = 20;
const sigmoid = (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

const tData = performance.now();
const X = new Float64Array(n * d);
for (let i = 0; i < n * d; i++) X[i] = 2 * u(i, 1) - 1;
const wTrue = Float64Array.from({ length: d }, (_, j) => 2 * (2 * u(j, 2) - 1));
const bTrue = 0.25;
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  let z = bTrue;
  for (let j = 0; j < d; j++) z += X[i * d + j] * wTrue[j];
  y[i] = u(i, 3) < sigmoid(z) ? 1 : 0;
}
console.log(`data: ${n} × ${d} float64, ${y.reduce((s, v) => s + v, 0)} positives (${(performance.now() - tData).toFixed(0)} ms)`);

// ---------------------------------------------------------------------------------------------
// The model, traced once. `loss` gets its gradient program compiled at once; `logits` is
// forward-only.

const tCompile = performance.now();
const loss = wg.compile(
  (w, b, Xt, yt) => {
    const z = wg.matmul(Xt, w).add(b);
    return wg.mean(wg.softplus(z).sub(yt.mul(z)));
  },
  { args: [wg.f64([d]), wg.f64([]), wg.f64([n, d]), wg.f64([n])], wrt: [0, 1] },
);
const logits = wg.compile((w, b, Xt) => wg.matmul(Xt, w).add(b), {
  args: [wg.f64([d]), wg.f64([]), wg.f64([n, d])],
  wrt: [],
});
console.log(`compiled in ${(performance.now() - tCompile).toFixed(1)} ms; arena ${(loss.memory().arenaBytes / 2 ** 20).toFixed(2)} MiB`);

function accuracy(w, b) {
  const z = logits.run(w, b, X);
  let right = 0;
  for (let i = 0; i < n; i++) right += (z[i] >= 0 ? 1 : 0) === y[i] ? 1 : 0;
  return right / n;
}

// ---------------------------------------------------------------------------------------------
// A finite-difference check of the engine's gradient at the starting point: central differences
// of the engine's own forward value, every coordinate. The step 1e-4 balances truncation
// (h²·|f'''|/6 ≈ 1e-9) against the rounding noise of a mean over 100,000 terms (≈ 1e-14 / h).

const w = new Float64Array(d);
let b = 0;
{
  const { grads } = loss.valueAndGrad(w, b, X, y);
  const params = Float64Array.from([...w, b]);
  const g = Float64Array.from([...grads[0], ...grads[1]]);
  const f = (p) => loss.run(p.subarray(0, d), p[d], X, y);
  let worst = 0;
  for (let k = 0; k <= d; k++) {
    const h = 1e-4 * Math.max(1, Math.abs(params[k]));
    const plus = Float64Array.from(params);
    const minus = Float64Array.from(params);
    plus[k] += h;
    minus[k] -= h;
    const fd = (f(plus) - f(minus)) / (plus[k] - minus[k]);
    worst = Math.max(worst, Math.abs(fd - g[k]) / Math.max(Math.abs(fd), Math.abs(g[k]), 1e-12));
  }
  console.log(`finite-difference check at w = 0: max relative error ${worst.toExponential(2)} over ${d + 1} coordinates`);
}

// ---------------------------------------------------------------------------------------------
// Adam, full batch.

const epochs = 50;
const lr = 0.07;
const beta1 = 0.9;
const beta2 = 0.999;
const eps = 1e-8;
const m = new Float64Array(d + 1);
const v = new Float64Array(d + 1);
const times = [];
for (let epoch = 1; epoch <= epochs; epoch++) {
  const t0 = performance.now();
  const { value, grads } = loss.valueAndGrad(w, b, X, y);
  times.push(performance.now() - t0);
  for (let k = 0; k <= d; k++) {
    const g = k < d ? grads[0][k] : grads[1][0];
    m[k] = beta1 * m[k] + (1 - beta1) * g;
    v[k] = beta2 * v[k] + (1 - beta2) * g * g;
    const step = (lr * (m[k] / (1 - beta1 ** epoch))) / (Math.sqrt(v[k] / (1 - beta2 ** epoch)) + eps);
    if (k < d) w[k] -= step;
    else b -= step;
  }
  console.log(`epoch ${String(epoch).padStart(2)}  loss ${value.toFixed(6)}`);
}

const finalLoss = loss.run(w, b, X, y);
const trueLoss = loss.run(wTrue, bTrue, X, y);
times.sort((p, q) => p - q);
let werr = 0;
for (let j = 0; j < d; j++) werr = Math.max(werr, Math.abs(w[j] - wTrue[j]));
console.log(`final loss ${finalLoss.toFixed(6)} (true weights: ${trueLoss.toFixed(6)})`);
console.log(`accuracy ${(100 * accuracy(w, b)).toFixed(2)}% (true weights: ${(100 * accuracy(wTrue, bTrue)).toFixed(2)}%)`);
console.log(`max |w − w_true| ${werr.toFixed(3)}, b ${b.toFixed(3)} (true ${bTrue})`);
console.log(`value+gradient: median ${times[times.length >> 1].toFixed(2)} ms, min ${times[0].toFixed(2)} ms over ${epochs} calls`);

loss.dispose();
logits.dispose();
