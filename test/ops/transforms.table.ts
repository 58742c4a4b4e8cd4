// The transforms used inside traced functions (wg.grad, wg.customVjp, wg.customJvp), as harness
// rows: the harness then checks the derivative of a traced gradient (a second derivative) against
// finite differences of the reference, and a custom rule against finite differences of the
// function it stands for, in float64 and float32. Their own tests: test/nesting.test.ts and
// test/custom-rules.test.ts. How to add a row: test/harness/harness.ts.
import * as wg from '../../ts/index.js';
import * as ref from '../helpers/ref.js';
import { ANY } from '../helpers/rng.js';
import { a, type OpCase, type T } from '../harness/harness.js';

export const cases: OpCase[] = [];

/** The elementwise derivative of an elementwise g, through wg.grad of Σ g. */
const deriv =
  (g: (x: T) => T) =>
  (x: T): T =>
    wg.grad((y) => wg.sum(g(y)))(x);

cases.push({
  name: 'grad: d/dx sin(x) [2,3]',
  covers: ['grad'],
  args: [a([2, 3], ANY)],
  fn: (x) => deriv(wg.sin)(x!),
  ref: (x) => ref.map(x!, Math.cos),
});
cases.push({
  name: 'grad: d²/dx² x·eˣ [67]',
  covers: ['grad'],
  args: [a([67], ANY)],
  fn: (x) => deriv(deriv((t) => t.mul(wg.exp(t))))(x!),
  ref: (x) => ref.map(x!, (v) => (v + 2) * Math.exp(v)),
});
// ∂/∂a and ∂/∂b of Σ a·b² + Σ sin(a)·b (a [3], b [3]): b² + cos(a)·b and 2a·b + sin(a).
cases.push({
  name: 'grad: wrt [0, 1] of Σ a·b² + sin(a)·b [3] [3]',
  covers: ['grad'],
  args: [a([3], ANY), a([3], ANY)],
  fn: (x, y) => {
    const [ga, gb] = wg.grad((p: T, q: T) => wg.sum(p.mul(wg.square(q))).add(wg.sum(wg.sin(p).mul(q))), { wrt: [0, 1] })(x!, y!);
    return wg.concat([ga!, gb!], 0);
  },
  ref: (x, y) => {
    const ga = ref.zip(x!, y!, (p, q) => q * q + Math.cos(p) * q);
    const gb = ref.zip(x!, y!, (p, q) => 2 * p * q + Math.sin(p));
    return ref.arr([...ga.data, ...gb.data], [6]);
  },
});
cases.push({
  name: 'customVjp: softplus with the rule g·σ(x) [2,3]',
  covers: ['customVjp'],
  args: [a([2, 3], ANY)],
  fn: (x) => wg.customVjp((t) => wg.log1p(wg.exp(t)), ([t], _out, g) => [g.mul(wg.sigmoid(t!))])(x!),
  ref: (x) => ref.map(x!, ref.softplus),
});
cases.push({
  name: 'customJvp: x·tanh(x) with the rule t·(tanh x + x·(1 − tanh² x)) [2,3]',
  covers: ['customJvp'],
  args: [a([2, 3], ANY)],
  fn: (x) =>
    wg.customJvp(
      (t) => t.mul(wg.tanh(t)),
      ([t], [dt]) => dt!.mul(wg.tanh(t!).add(t!.mul(wg.sub(1, wg.square(wg.tanh(t!)))))),
    )(x!),
  ref: (x) => ref.map(x!, (v) => v * Math.tanh(v)),
});
