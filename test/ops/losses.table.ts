// Losses (ts/ops/losses.ts): mse huber binaryCrossEntropyWithLogits softmaxCrossEntropy
// logNormalPdf. They are composites of other ops; these rows check each against a plain-JS
// reference written from its textbook definition, and specialTests checks the stable forms at
// extreme logits.
import { expect, it } from 'vitest';
import * as wg from '../../ts/index.js';
import { a, idx, type OpCase, type Track } from '../harness/harness.js';
import * as ref from '../helpers/ref.js';
import type { InputMaker } from '../harness/harness.js';

export const cases: OpCase[] = [];

const mean = (v: ArrayLike<number>): number => Array.from(v).reduce((s, x) => s + x, 0) / v.length;

// mse, with and without broadcasting of the target.
for (const [ps, ts] of [[[2, 3], [2, 3]], [[2, 3], [3]]] as [number[], number[]][]) {
  cases.push({
    name: `mse ${JSON.stringify(ps)} vs ${JSON.stringify(ts)}`,
    covers: ['mse'],
    args: [a(ps), a(ts)],
    fn: (p, t) => wg.mse(p!, t!),
    ref: (p, t) => ref.scalar(mean(ref.zip(p!, t!, (x, y) => (x - y) ** 2).data)),
  });
}

// huber with δ = 1: residuals kept at least 0.1 from ±δ (h is C¹ but not C² there, which
// Richardson differences assume) and from 0 (|r| has a kink there inside min).
const awayFromKinks: InputMaker = (rng, shape) =>
  Float64Array.from({ length: ref.size(shape) }, () => {
    const m = rng.uniform(0, 1) < 0.5 ? rng.uniform(0.1, 0.9) : rng.uniform(1.1, 3);
    return rng.uniform(0, 1) < 0.5 ? -m : m;
  });
const huberRef = (r: number, d: number): number => (Math.abs(r) <= d ? 0.5 * r * r : d * (Math.abs(r) - 0.5 * d));
cases.push({
  name: 'huber [3,4] delta 1',
  covers: ['huber'],
  args: [a([3, 4], awayFromKinks)],
  fn: (p) => wg.huber(p!, 0),
  ref: (p) => ref.scalar(mean(ref.map(p!, (r) => huberRef(r, 1)).data)),
});
cases.push({
  name: 'huber [5] delta 0.5 against a target',
  covers: ['huber'],
  args: [a([5], awayFromKinks)],
  fn: (p) => wg.huber(wg.add(p!, 2), 2, 0.5),
  ref: (p) => ref.scalar(mean(ref.map(p!, (r) => huberRef(r, 0.5)).data)),
});

// Binary cross-entropy from logits, against −[y log σ(z) + (1 − y) log(1 − σ(z))].
const bceRef = (z: number, y: number): number => -(y * Math.log(ref.sigmoid(z)) + (1 - y) * Math.log(1 - ref.sigmoid(z)));
cases.push({
  name: 'binaryCrossEntropyWithLogits [4,3]',
  covers: ['binaryCrossEntropyWithLogits'],
  args: [a([4, 3], { lo: -4, hi: 4 }), a([4, 3], { lo: 0, hi: 1 })],
  fn: (z, y) => wg.binaryCrossEntropyWithLogits(z!, y!),
  ref: (z, y) => ref.scalar(mean(ref.zip(z!, y!, bceRef).data)),
});

// Softmax cross-entropy, soft labels along the last axis and along axis 0, and class indices.
function softmaxCeRef(z: ref.Arr, y: (row: number, c: number) => number, axis: number): number {
  const [n0, n1] = z.shape as [number, number];
  const rows = axis === 1 ? n0 : n1;
  const classes = axis === 1 ? n1 : n0;
  const at = (r: number, c: number): number => (axis === 1 ? z.data[r * n1 + c]! : z.data[c * n1 + r]!);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, at(r, c));
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(at(r, c) - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < classes; c++) total -= y(r, c) * (at(r, c) - lse);
  }
  return total / rows;
}
cases.push({
  name: 'softmaxCrossEntropy [3,5] soft labels',
  covers: ['softmaxCrossEntropy'],
  args: [a([3, 5], { lo: -3, hi: 3 }), a([3, 5], { lo: 0, hi: 1 })],
  fn: (z, y) => wg.softmaxCrossEntropy(z!, y!),
  ref: (z, y) => ref.scalar(softmaxCeRef(z!, (r, c) => y!.data[r * 5 + c]!, 1)),
});
cases.push({
  name: 'softmaxCrossEntropy [4,3] along axis 0',
  covers: ['softmaxCrossEntropy'],
  args: [a([4, 3], { lo: -3, hi: 3 }), a([4, 3], { lo: 0, hi: 1 })],
  fn: (z, y) => wg.softmaxCrossEntropy(z!, y!, 0),
  ref: (z, y) => ref.scalar(softmaxCeRef(z!, (r, c) => y!.data[c * 3 + r]!, 0)),
});
cases.push({
  name: 'softmaxCrossEntropy [4,6] class indices',
  covers: ['softmaxCrossEntropy'],
  args: [a([4, 6], { lo: -3, hi: 3 }), idx([4], 0, 6)],
  fn: (z, k) => wg.softmaxCrossEntropy(z!, k!),
  ref: (z, k) => ref.scalar(softmaxCeRef(z!, (r, c) => (k!.data[r] === c ? 1 : 0), 1)),
});

// Gaussian log density, elementwise with broadcasting of mean and standard deviation.
cases.push({
  name: 'logNormalPdf [2,3] with [3] mean and scalar sigma',
  covers: ['logNormalPdf'],
  args: [a([2, 3]), a([3]), a([], { lo: 0.5, hi: 2 })],
  fn: (x, m, s) => wg.logNormalPdf(x!, m!, s!),
  ref: (x, m, s) => {
    const sigma = s!.data[0]!;
    return ref.zip(x!, m!, (v, mu) => -0.5 * ((v - mu) / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI));
  },
});

export function specialTests(track: Track): void {
  it('binaryCrossEntropyWithLogits and softmaxCrossEntropy stay finite at logits of ±1e3 and ±1e300', () => {
    for (const big of [1e3, 1e300]) {
      const bce = track(wg.compile((z, y) => wg.binaryCrossEntropyWithLogits(z, y), { args: [wg.f64([4]), wg.f64([4])] }));
      const r = bce.valueAndGrad(new Float64Array([big, -big, big, -big]), new Float64Array([1, 0, 0, 1]));
      // Two confident right answers (loss 0) and two confident wrong ones (loss |z| each): mean |z|/2.
      expect(Math.abs(r.value / (big / 2) - 1)).toBeLessThan(1e-12);
      // ∂/∂z = (σ(z) − y)/n: 0, 0, 1/4, −1/4.
      expect(Array.from(r.grads[0]!)).toEqual([0, 0, 0.25, -0.25]);

      const ce = track(wg.compile((z, y) => wg.softmaxCrossEntropy(z, y), { args: [wg.f64([1, 3]), wg.f64([1, 3])] }));
      const s = ce.valueAndGrad(new Float64Array([big, 0, -big]), new Float64Array([0, 1, 0]));
      expect(Math.abs(s.value / big - 1)).toBeLessThan(1e-12);
      expect(Array.from(s.grads[0]!)).toEqual([1, -1, 0]);
    }
  });
}
