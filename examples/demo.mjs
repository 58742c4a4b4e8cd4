// Batch parameter estimation: one decay curve y = a·exp(−b·t) + c per sensor, for 10,000 sensors,
// fitted with wg.fitManyAsync (compiled once per data length, every fit with its own optimizer
// state, run off the JavaScript thread on the engine's threads), with a progress line and a summary.
//
//   npm run build && node examples/demo.mjs     (or: npm run demo)
//
// The readings are seeded, so every run prints the same fits. Sensors report 40, 50 or 60 readings
// at their own sampling times; the noise is Gaussian with a known standard deviation, so the
// summary can check the standard errors: about 95% of the true values should fall within ±2
// standard errors of the estimates.
import * as wg from 'wengert';
import { normal, u } from './seeded.mjs';

const SENSORS = 10_000;
const NOISE = 0.02;

const tData = performance.now();
const truth = [];
const problems = [];
for (let k = 0; k < SENSORS; k++) {
  const a = 1 + 4 * u(3 * k, 11), b = 0.2 + 1.8 * u(3 * k + 1, 11), c = -1 + 2 * u(3 * k + 2, 11);
  const m = 40 + 10 * (k % 3);
  const span = 4 + 4 * u(k, 12); // each sensor watched for 4 to 8 time units
  const t = Float64Array.from({ length: m }, (_, j) => (span * j) / (m - 1));
  const y = t.map((tj, j) => a * Math.exp(-b * tj) + c + NOISE * normal(k * 64 + j, 13));
  truth.push([a, b, c]);
  // A start every sensor can use: the first reading as the amplitude, the last as the offset.
  problems.push({ x0: [y[0] - y[m - 1], 1, y[m - 1]], data: [t, y] });
}
console.log(`${SENSORS} sensors, 40–60 readings each, noise σ = ${NOISE} (${(performance.now() - tData).toFixed(0)} ms to generate)`);

/** Residuals of one sensor: model minus readings, for parameters p = [a, b, c]. */
const residuals = (p, t, y) => {
  const [a, b, c] = wg.split(p, 3).map((v) => wg.reshape(v, []));
  return wg.sub(wg.add(wg.mul(a, wg.exp(wg.mul(wg.neg(b), t))), c), y);
};

let lastLine = '';
const onProgress = ({ done, total }) => {
  const width = 30, filled = Math.round((width * done) / total);
  const line = `  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (line === lastLine) return;
  lastLine = line;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
};

const { results, totals } = await wg.fitManyAsync(residuals, problems, { onProgress });
if (process.stdout.isTTY && lastLine !== '') process.stdout.write('\n');
console.log(`fitted ${totals.problems} sensors in ${totals.milliseconds.toFixed(0)} ms (${((totals.milliseconds * 1000) / totals.problems).toFixed(0)} µs per fit; ${totals.compiledShapes} compiled shapes, one per data length)`);

// ---------------------------------------------------------------------------------------------
// Summary: how the fits stopped, how close they are, and whether the standard errors are honest.

const pct = (v, n) => `${((100 * v) / n).toFixed(1)}%`;
const median = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
};
const quantile = (xs, q) => {
  const s = [...xs].sort((p, q2) => p - q2);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

console.log('\nhow the fits stopped');
console.log('  status                 fits');
for (const [status, count] of Object.entries(totals.byStatus)) console.log(`  ${status.padEnd(22)} ${String(count).padStart(6)}  ${pct(count, totals.problems)}`);
console.log(`  converged              ${String(totals.converged).padStart(6)}  ${pct(totals.converged, totals.problems)}`);
console.log(`  iterations per fit     ${(totals.iterations / totals.problems).toFixed(1).padStart(6)}   evaluations per fit ${(totals.evaluations / totals.problems).toFixed(1)}`);

console.log('\nparameter   median |error|   95th pct |error|   median std. error   true value within ±2 s.e.');
['a', 'b', 'c'].forEach((name, i) => {
  const err = results.map((r, k) => Math.abs(r.x[i] - truth[k][i]));
  const se = results.map((r) => r.stdErrors[i]);
  const covered = results.filter((r, k) => Math.abs(r.x[i] - truth[k][i]) <= 2 * r.stdErrors[i]).length;
  console.log(`${name.padEnd(11)} ${median(err).toExponential(2).padStart(15)} ${quantile(err, 0.95).toExponential(2).padStart(18)} ${median(se).toExponential(2).padStart(20)} ${pct(covered, SENSORS).padStart(27)}`);
});
const sigma = results.map((r) => Math.sqrt(r.value / (r.residuals.length - 3)));
console.log(`\nresidual standard deviation: median ${median(sigma).toFixed(4)} (the noise was ${NOISE})`);
const worst = results.reduce((w, r, k) => (r.cost > results[w].cost ? k : w), 0);
console.log(`largest cost: sensor ${worst}, cost ${results[worst].cost.toExponential(3)}, status ${results[worst].status}`);
