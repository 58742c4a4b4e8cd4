// Lotka–Volterra parameters from noisy observations, with standard errors (wg.leastSquares).
//
//   dx/dt = α·x − β·x·y      (prey)
//   dy/dt = δ·x·y − γ·y      (predators)
//
// The ODE is integrated inside the traced residual function (classical RK4, fixed step), so the
// optimizer gets the exact Jacobian of the discretized trajectory with respect to α, β, γ, δ. The
// observations are seeded: the trajectory at the true parameters plus Gaussian noise.
//
//   npm run build && node examples/lotka-volterra.mjs
import * as wg from 'wengert';
import { normal } from './seeded.mjs';

const TRUE = [1.0, 0.4, 1.2, 0.3]; // α, β, γ, δ
const X0 = 3, Y0 = 1, DT = 0.05, STEPS = 300, EVERY = 10, NOISE = 0.1;

/** RK4 in plain JS, for the synthetic observations. */
function simulate([al, be, ga, de]) {
  const obs = [];
  let x = X0, y = Y0;
  const f = (x, y) => [al * x - be * x * y, de * x * y - ga * y];
  for (let s = 1; s <= STEPS; s++) {
    const k1 = f(x, y), k2 = f(x + (DT / 2) * k1[0], y + (DT / 2) * k1[1]);
    const k3 = f(x + (DT / 2) * k2[0], y + (DT / 2) * k2[1]), k4 = f(x + DT * k3[0], y + DT * k3[1]);
    x += (DT / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
    y += (DT / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    if (s % EVERY === 0) obs.push(x, y);
  }
  return obs;
}
const clean = simulate(TRUE);
const observed = Float64Array.from(clean, (v, i) => v + NOISE * normal(i, 31));
console.log(`${observed.length / 2} observations of prey and predators over t in (0, ${STEPS * DT}], noise σ = ${NOISE}`);

/** The same RK4 traced in wg ops: residuals = trajectory − observations. */
const residuals = (p, obs) => {
  const [al, be, ga, de] = wg.split(p, 4).map((v) => wg.reshape(v, []));
  const f = (x, y) => [wg.sub(wg.mul(al, x), wg.mul(wg.mul(be, x), y)), wg.sub(wg.mul(wg.mul(de, x), y), wg.mul(ga, y))];
  let x = wg.constant(X0), y = wg.constant(Y0);
  const out = [];
  for (let s = 1; s <= STEPS; s++) {
    const k1 = f(x, y);
    const k2 = f(wg.add(x, wg.mul(k1[0], DT / 2)), wg.add(y, wg.mul(k1[1], DT / 2)));
    const k3 = f(wg.add(x, wg.mul(k2[0], DT / 2)), wg.add(y, wg.mul(k2[1], DT / 2)));
    const k4 = f(wg.add(x, wg.mul(k3[0], DT)), wg.add(y, wg.mul(k3[1], DT)));
    x = wg.add(x, wg.mul(wg.add(wg.add(k1[0], wg.mul(k2[0], 2)), wg.add(wg.mul(k3[0], 2), k4[0])), DT / 6));
    y = wg.add(y, wg.mul(wg.add(wg.add(k1[1], wg.mul(k2[1], 2)), wg.add(wg.mul(k3[1], 2), k4[1])), DT / 6));
    if (s % EVERY === 0) out.push(x, y);
  }
  return wg.sub(wg.stack(out), obs);
};

const t0 = performance.now();
const fit = wg.leastSquares(residuals, [0.8, 0.5, 1.0, 0.4], { data: [observed], bounds: { lower: [0, 0, 0, 0] } });
console.log(`${fit.status} after ${fit.iterations} iterations, ${fit.evaluations} evaluations, ${(performance.now() - t0).toFixed(0)} ms (tracing and compiling included)`);
const sigma = Math.sqrt(fit.value / (observed.length - 4));
console.log(`residual standard deviation ${sigma.toFixed(4)} (the noise was ${NOISE})\n`);
console.log('parameter   estimate   std. error   true   |error| / s.e.');
['α', 'β', 'γ', 'δ'].forEach((name, i) => {
  const z = Math.abs(fit.x[i] - TRUE[i]) / fit.stdErrors[i];
  console.log(`${name.padEnd(9)} ${fit.x[i].toFixed(4).padStart(10)} ${fit.stdErrors[i].toFixed(4).padStart(12)} ${TRUE[i].toFixed(2).padStart(6)} ${z.toFixed(2).padStart(16)}`);
});
