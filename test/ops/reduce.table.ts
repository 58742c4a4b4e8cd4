// Reductions beyond sum and mean: prod, max, min, logSumExp, variance, std, norm (p = 1, 2, ∞),
// argmax, argmin, softmax, logSoftmax. Every op runs over every axis of a rank-3 input (positive
// and negative), several axes at once and all axes, with keepDims on and off, plus a scalar and a
// vector. Inputs of max, min and the ∞-norm are distinct (no ties), so finite differences never
// step across a switch of the extremum. Ties, zeros in prod, wide ranges (±1e3, 1e300, 1e200) and
// zero variance are tested in test/reduce-numerics.test.ts.
// How to add a row, and what each check asserts: test/harness/harness.ts.
import * as wg from '../../ts/index.js';
import * as ref from '../helpers/ref.js';
import type { Arr } from '../helpers/ref.js';
import { ANY, AWAY_FROM_ZERO } from '../helpers/rng.js';
import { a, distinct, shapeName, type InputMaker, type OpCase, type T } from '../harness/harness.js';

export const cases: OpCase[] = [];

type Axes = number | readonly number[] | undefined;

// ---------------------------------------------------------------------------------------------
// Plain-JS references: each output element is f of the list of the input elements it reduces, in
// row-major order.

function reduceRef(x: Arr, axes: Axes, keepDims: boolean, f: (v: number[]) => number): Arr {
  const ax = new Set(ref.normAxes(axes, x.shape.length));
  const kept = x.shape.map((d, k) => (ax.has(k) ? 1 : d));
  const groups: number[][] = Array.from({ length: ref.size(kept) }, () => []);
  const st = ref.strides(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    let flat = 0;
    for (let k = 0; k < x.shape.length; k++) {
      const idx = Math.floor(i / st[k]!) % x.shape[k]!;
      flat = flat * kept[k]! + (ax.has(k) ? 0 : idx);
    }
    groups[flat]!.push(x.data[i]!);
  }
  const shape = keepDims ? kept : x.shape.filter((_, k) => !ax.has(k));
  return { shape, data: Float64Array.from(groups, f) };
}

/** Applies f to each 1-D slice along `axis` (f returns the slice's new values). */
function alongRef(x: Arr, axis: number, f: (v: number[]) => number[]): Arr {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const st = ref.strides(x.shape);
  const n = x.shape[ax]!;
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    if (Math.floor(i / st[ax]!) % n !== 0) continue; // i starts a slice
    const idx = Array.from({ length: n }, (_, k) => i + k * st[ax]!);
    const r = f(idx.map((j) => x.data[j]!));
    idx.forEach((j, k) => (out[j] = r[k]!));
  }
  return { shape: [...x.shape], data: out };
}

const total = (v: number[]): number => v.reduce((s, e) => s + e, 0);
const lse = (v: number[]): number => {
  const m = Math.max(...v);
  return m + Math.log(total(v.map((e) => Math.exp(e - m))));
};
const varianceOf = (v: number[], correction = 0): number => {
  const mu = total(v) / v.length;
  return total(v.map((e) => (e - mu) ** 2)) / (v.length - correction);
};
export const REF = {
  prod: (v: number[]): number => v.reduce((s, e) => s * e, 1),
  max: (v: number[]): number => Math.max(...v),
  min: (v: number[]): number => Math.min(...v),
  logSumExp: lse,
  variance: (v: number[]): number => varianceOf(v),
  std: (v: number[]): number => Math.sqrt(varianceOf(v)),
  norm1: (v: number[]): number => total(v.map(Math.abs)),
  norm2: (v: number[]): number => Math.sqrt(total(v.map((e) => e * e))),
  normInf: (v: number[]): number => Math.max(...v.map(Math.abs)),
  argmax: (v: number[]): number => v.indexOf(Math.max(...v)),
  argmin: (v: number[]): number => v.indexOf(Math.min(...v)),
};

/** Distinct magnitudes in [0.25, 2) with random signs: no ties in |x| (for the ∞-norm). */
const DISTINCT_MAGNITUDES: InputMaker = (rng, shape) =>
  distinct({ lo: 0.25, hi: 2 })(rng, shape).map((v) => (rng.next() < 0.5 ? -v : v));

// ---------------------------------------------------------------------------------------------
// Axis reductions: one row per (op, axes, keepDims).

interface ReduceRow {
  readonly name: string;
  readonly covers: string;
  readonly fn: (x: T, axes: Axes, o: { keepDims: boolean }) => T;
  readonly method: (x: T, axes: Axes, o: { keepDims: boolean }) => T;
  readonly f: (v: number[]) => number;
  readonly input: InputMaker | typeof ANY;
}
const reduceRows: ReduceRow[] = [
  { name: 'prod', covers: 'prod', fn: (x, ax, o) => wg.prod(x, ax, o), method: (x, ax, o) => x.prod(ax, o), f: REF.prod, input: ANY },
  { name: 'max', covers: 'max', fn: (x, ax, o) => wg.max(x, ax, o), method: (x, ax, o) => x.max(ax, o), f: REF.max, input: distinct() },
  { name: 'min', covers: 'min', fn: (x, ax, o) => wg.min(x, ax, o), method: (x, ax, o) => x.min(ax, o), f: REF.min, input: distinct() },
  {
    name: 'logSumExp',
    covers: 'logSumExp',
    fn: (x, ax, o) => wg.logSumExp(x, ax, o),
    method: (x, ax, o) => x.logSumExp(ax, o),
    f: REF.logSumExp,
    input: ANY,
  },
  {
    name: 'variance',
    covers: 'variance',
    fn: (x, ax, o) => wg.variance(x, ax, o),
    method: (x, ax, o) => x.variance(ax, o),
    f: REF.variance,
    input: ANY,
  },
  { name: 'std', covers: 'std', fn: (x, ax, o) => wg.std(x, ax, o), method: (x, ax, o) => x.std(ax, o), f: REF.std, input: ANY },
  // p = 1 has a kink at 0: magnitudes are kept >= 0.25, far beyond the largest FD step (2e-3).
  {
    name: 'norm p=1',
    covers: 'norm',
    fn: (x, ax, o) => wg.norm(x, 1, ax, o),
    method: (x, ax, o) => x.norm(1, ax, o),
    f: REF.norm1,
    input: AWAY_FROM_ZERO,
  },
  {
    name: 'norm p=2',
    covers: 'norm',
    fn: (x, ax, o) => wg.norm(x, 2, ax, o),
    method: (x, ax, o) => x.norm(2, ax, o),
    f: REF.norm2,
    input: ANY,
  },
  {
    name: 'norm p=Infinity',
    covers: 'norm',
    fn: (x, ax, o) => wg.norm(x, Infinity, ax, o),
    method: (x, ax, o) => x.norm(Infinity, ax, o),
    f: REF.normInf,
    input: DISTINCT_MAGNITUDES,
  },
];
// Every axis of [2,3,4], positive and negative, pairs (in and out of order, mixed signs), all
// three listed, and all (omitted).
const AXES: Axes[] = [undefined, 0, 1, 2, -1, -2, -3, [0, 2], [2, 0], [-1, 1], [0, 1, 2]];
for (const row of reduceRows) {
  for (const axes of AXES) {
    for (const keepDims of [false, true]) {
      const o = { keepDims };
      cases.push({
        name: `${row.name} [2,3,4] axes ${axes === undefined ? 'omitted' : JSON.stringify(axes)}${keepDims ? ' keepDims' : ''}`,
        covers: [row.covers],
        args: [a([2, 3, 4], row.input)],
        fn: (x) => row.fn(x!, axes, o),
        method: (x) => row.method(x!, axes, o),
        ref: (x) => reduceRef(x!, axes, keepDims, row.f),
      });
    }
  }
  // A scalar (all axes of rank 0 is no axis: the identity, or the op of one element) and a vector
  // long enough that a vector kernel's tail runs.
  for (const shape of [[], [37]] as const) {
    cases.push({
      name: `${row.name} ${shapeName(shape)}`,
      covers: [row.covers],
      args: [a(shape, row.input)],
      fn: (x) => row.fn(x!, undefined, { keepDims: false }),
      method: (x) => row.method(x!, undefined, { keepDims: false }),
      ref: (x) => reduceRef(x!, undefined, false, row.f),
    });
  }
}

// variance and std with the unbiased correction.
for (const name of ['variance', 'std'] as const) {
  cases.push({
    name: `${name} [3,5] axis 1 correction 1`,
    covers: [name],
    args: [a([3, 5])],
    fn: (x) => wg[name](x!, 1, { correction: 1 }),
    method: (x) => x![name](1, { correction: 1 }),
    ref: (x) =>
      reduceRef(x!, 1, false, (v) => (name === 'variance' ? varianceOf(v, 1) : Math.sqrt(varianceOf(v, 1)))),
  });
}

// ---------------------------------------------------------------------------------------------
// softmax and logSoftmax along every axis, and the default (last) axis.

const softmaxRef = (v: number[]): number[] => {
  const l = lse(v);
  return v.map((e) => Math.exp(e - l));
};
const logSoftmaxRef = (v: number[]): number[] => {
  const l = lse(v);
  return v.map((e) => e - l);
};
for (const [name, f] of [
  ['softmax', softmaxRef],
  ['logSoftmax', logSoftmaxRef],
] as const) {
  for (const axis of [undefined, 0, 1, 2, -1, -2, -3]) {
    cases.push({
      name: `${name} [2,3,4] axis ${axis === undefined ? 'default' : axis}`,
      covers: [name],
      args: [a([2, 3, 4], { lo: -4, hi: 4 })],
      fn: (x) => wg[name](x!, axis),
      method: (x) => x![name](axis),
      ref: (x) => alongRef(x!, axis ?? -1, f),
    });
  }
  cases.push({
    name: `${name} [37]`,
    covers: [name],
    args: [a([37], { lo: -4, hi: 4 })],
    fn: (x) => wg[name](x!),
    method: (x) => x![name](),
    ref: (x) => alongRef(x!, 0, f),
  });
}

// ---------------------------------------------------------------------------------------------
// argmax and argmin: int32 indices along every axis, and into the flattened elements (axis
// omitted). Distinct inputs: the index is unique. The first index on ties is tested in
// test/reduce-numerics.test.ts.

/** The flat index of the reduced group's extremum, as the index along one axis (or flattened). */
function argRef(x: Arr, axis: number | undefined, keepDims: boolean, f: (v: number[]) => number): Arr {
  if (axis === undefined) {
    const r = f([...x.data]);
    return { shape: keepDims ? x.shape.map(() => 1) : [], data: Float64Array.of(r) };
  }
  return reduceRef(x, axis, keepDims, f);
}
for (const name of ['argmax', 'argmin'] as const) {
  const f = REF[name];
  for (const axis of [undefined, 0, 1, 2, -1, -2, -3]) {
    for (const keepDims of [false, true]) {
      cases.push({
        name: `${name} [2,3,4] axis ${axis === undefined ? 'omitted' : axis}${keepDims ? ' keepDims' : ''}`,
        covers: [name],
        args: [a([2, 3, 4], distinct())],
        fn: (x) => wg[name](x!, axis, { keepDims }),
        method: (x) => x![name](axis, { keepDims }),
        ref: (x) => argRef(x!, axis, keepDims, f),
        outDtype: 'int32',
      });
    }
  }
  for (const shape of [[], [37]] as const) {
    cases.push({
      name: `${name} ${shapeName(shape)}`,
      covers: [name],
      args: [a(shape, distinct())],
      fn: (x) => wg[name](x!),
      method: (x) => x![name](),
      ref: (x) => argRef(x!, undefined, false, f),
      outDtype: 'int32',
    });
  }
}

// The indices in a float computation: x picked at its argmax / argmin by a one-hot mask is the max
// / min along the axis, with the same derivative (1 at the picked element). Exercises argmax and
// argmin inside a differentiated program (their own derivative is none).
for (const [name, f] of [
  ['argmax', REF.max],
  ['argmin', REF.min],
] as const) {
  cases.push({
    name: `${name} picks x through oneHot [3,4] axis -1`,
    covers: [name],
    args: [a([3, 4], distinct())],
    fn: (x) => wg.sum(wg.mul(x!, wg.oneHot(wg[name](x!, -1), 4, x!.dtype)), -1),
    ref: (x) => reduceRef(x!, -1, false, f),
  });
}
