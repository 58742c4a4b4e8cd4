// Logistic regression fitted with L-BFGS (wg.minimize): 20,000 seeded examples with 10 features
// and known true weights; the loss is the mean binary cross-entropy in its stable form,
// mean(softplus(z) − y·z) with z = X·w + b, plus a small L2 penalty on w.
//
//   npm run build && node examples/logistic-regression.mjs
import * as wg from 'wengert';
import { u } from './seeded.mjs';

const n = 20_000, d = 10, lambda = 1e-4;
const X = new Float64Array(n * d);
for (let i = 0; i < n * d; i++) X[i] = 2 * u(i, 21) - 1;
const wTrue = Float64Array.from({ length: d }, (_, j) => 3 * (2 * u(j, 22) - 1));
const bTrue = 0.5;
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  let z = bTrue;
  for (let j = 0; j < d; j++) z += X[i * d + j] * wTrue[j];
  y[i] = u(i, 23) < 1 / (1 + Math.exp(-z)) ? 1 : 0;
}

// The parameters are one vector: d weights, then the bias.
const loss = (p, Xt, yt) => {
  const w = wg.slice(p, [0], [d]);
  const b = wg.reshape(wg.slice(p, [d], [1]), []);
  const z = wg.add(wg.matmul(Xt, w), b);
  return wg.add(wg.mean(wg.sub(wg.softplus(z), wg.mul(yt, z))), wg.mul(lambda / 2, wg.sum(wg.square(w))));
};

const t0 = performance.now();
const r = wg.minimize(loss, new Float64Array(d + 1), { data: [{ data: X, shape: [n, d] }, y] });
const ms = performance.now() - t0;
console.log(`L-BFGS: ${r.status} after ${r.iterations} iterations, ${r.evaluations} evaluations, ${ms.toFixed(0)} ms (tracing included)`);
console.log(`loss ${r.value.toFixed(6)}, largest gradient entry ${Math.max(...r.grad.map(Math.abs)).toExponential(2)}`);

const accuracy = (p) => {
  let right = 0;
  for (let i = 0; i < n; i++) {
    let z = p[d];
    for (let j = 0; j < d; j++) z += X[i * d + j] * p[j];
    right += (z >= 0 ? 1 : 0) === y[i] ? 1 : 0;
  }
  return right / n;
};
console.log(`accuracy ${(100 * accuracy(r.x)).toFixed(2)}% (true weights: ${(100 * accuracy([...wTrue, bTrue])).toFixed(2)}%)`);
console.log('\n  j   fitted   true');
for (let j = 0; j <= d; j++) console.log(`${String(j === d ? 'b' : j).padStart(3)} ${r.x[j].toFixed(3).padStart(8)} ${(j === d ? bTrue : wTrue[j]).toFixed(3).padStart(6)}`);
