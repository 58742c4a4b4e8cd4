// Shape and construction ops: expandDims, squeeze, slice, concat, stack, split, gather,
// scatterAdd, pad, tile, flip, oneHot, cast, zeros, ones, full, eye, linspace, arange. Index
// arguments: idx(shape, lo, hi).
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it.
import { describe, expect, it } from 'vitest';
import * as wg from '../../ts/index.js';
import { a, idx, type OpCase, type T, type Track } from '../harness/harness.js';
import * as ref from '../helpers/ref.js';
import type { Arr } from '../helpers/ref.js';

export const cases: OpCase[] = [];

// ---------------------------------------------------------------------------------------------
// Plain-JS references, element by element from the definitions.

/** The array of `shape` whose element at multi-index i is f(i). */
function build(shape: readonly number[], f: (i: number[]) => number): Arr {
  const n = ref.size(shape);
  const data = new Float64Array(n);
  const st = ref.strides(shape);
  for (let k = 0; k < n; k++) data[k] = f(shape.map((d, j) => Math.floor(k / st[j]!) % d));
  return { shape: [...shape], data };
}
function at(x: Arr, i: readonly number[]): number {
  const st = ref.strides(x.shape);
  let k = 0;
  i.forEach((v, j) => {
    if (!Number.isInteger(v) || v < 0 || v >= x.shape[j]!) throw new Error(`ref: index [${i}] outside [${x.shape}]`);
    k += v * st[j]!;
  });
  return x.data[k]!;
}
const refSlice = (x: Arr, begin: number[], count: number[], step: number[]): Arr => build(count, (i) => at(x, i.map((v, d) => begin[d]! + v * step[d]!)));
const refConcat = (xs: Arr[], axis: number): Arr => {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((p, x) => p + x.shape[axis]!, 0);
  return build(shape, (i) => {
    let k = i[axis]!;
    for (const x of xs) {
      if (k < x.shape[axis]!) return at(x, i.map((v, d) => (d === axis ? k : v)));
      k -= x.shape[axis]!;
    }
    throw new Error('ref concat');
  });
};
const refGather = (x: Arr, ix: Arr, axis: number): Arr => {
  const shape = [...x.shape.slice(0, axis), ...ix.shape, ...x.shape.slice(axis + 1)];
  const r = ix.shape.length;
  return build(shape, (i) => at(x, [...i.slice(0, axis), at(ix, i.slice(axis, axis + r)), ...i.slice(axis + r)]));
};
const refScatterAdd = (x: Arr, ix: Arr, u: Arr, axis: number): Arr => {
  const out = Float64Array.from(x.data);
  const st = ref.strides(x.shape);
  const r = ix.shape.length;
  const ust = ref.strides(u.shape);
  for (let k = 0; k < u.data.length; k++) {
    const i = u.shape.map((d, j) => Math.floor(k / ust[j]!) % d);
    const xi = [...i.slice(0, axis), at(ix, i.slice(axis, axis + r)), ...i.slice(axis + r)];
    const o = xi.reduce((p, v, j) => p + v * st[j]!, 0);
    out[o] = out[o]! + u.data[k]!;
  }
  return { shape: [...x.shape], data: out };
};
const refPad = (x: Arr, pads: [number, number][], value: number): Arr =>
  build(
    x.shape.map((d, j) => d + pads[j]![0] + pads[j]![1]),
    (i) => {
      const src = i.map((v, j) => v - pads[j]![0]);
      return src.every((v, j) => v >= 0 && v < x.shape[j]!) ? at(x, src) : value;
    },
  );
const refTile = (x: Arr, reps: number[]): Arr => {
  const r = Math.max(reps.length, x.shape.length);
  const xs = [...new Array<number>(r - x.shape.length).fill(1), ...x.shape];
  const rp = [...new Array<number>(r - reps.length).fill(1), ...reps];
  const xr = ref.reshape(x, xs);
  return build(
    xs.map((d, j) => d * rp[j]!),
    (i) => at(xr, i.map((v, j) => v % xs[j]!)),
  );
};
const refFlip = (x: Arr, axes: number[]): Arr => build(x.shape, (i) => at(x, i.map((v, j) => (axes.includes(j) ? x.shape[j]! - 1 - v : v))));

// ---------------------------------------------------------------------------------------------
// Axes: expandDims, squeeze (reshapes).

for (const axis of [0, 1, 2, -1, -3]) {
  cases.push({
    name: `expandDims [2,3] axis ${axis}`,
    covers: ['expandDims'],
    args: [a([2, 3])],
    fn: (x) => wg.expandDims(x!, axis),
    method: (x) => x!.expandDims(axis),
    ref: (x) => {
      const k = axis < 0 ? axis + 3 : axis;
      return ref.reshape(x!, [...x!.shape.slice(0, k), 1, ...x!.shape.slice(k)]);
    },
  });
}
for (const axes of [undefined, 1, [-1], [1, 3]] as const) {
  cases.push({
    name: `squeeze [2,1,3,1] axes ${JSON.stringify(axes)}`,
    covers: ['squeeze'],
    args: [a([2, 1, 3, 1])],
    fn: (x) => wg.squeeze(x!, axes),
    method: (x) => x!.squeeze(axes),
    ref: (x) => {
      const list = axes === undefined ? [1, 3] : (typeof axes === 'number' ? [axes] : [...axes]).map((v) => (v < 0 ? v + 4 : v));
      return ref.reshape(
        x!,
        x!.shape.filter((_, i) => !list.includes(i)),
      );
    },
  });
}

// ---------------------------------------------------------------------------------------------
// slice and flip: begin (negative from the end), size (-1 to the end), steps of either sign.

interface SliceRow {
  readonly shape: number[];
  readonly begin: number[];
  readonly size?: number[];
  readonly step?: number[];
  /** The normalized window: begin, count and step per axis. */
  readonly want: [number[], number[], number[]];
}
const sliceRows: SliceRow[] = [
  { shape: [4, 5], begin: [1, 2], size: [2, 3], want: [[1, 2], [2, 3], [1, 1]] },
  { shape: [4, 5], begin: [-3], size: [2], want: [[1, 0], [2, 5], [1, 1]] },
  { shape: [5, 6], begin: [0, 5], size: [3, 3], step: [2, -2], want: [[0, 5], [3, 3], [2, -2]] },
  { shape: [5, 6], begin: [4, 1], size: [-1, -1], step: [-1, 3], want: [[4, 1], [5, 2], [-1, 3]] },
  { shape: [2, 3, 4], begin: [1, 0, -1], size: [1, -1, 2], step: [1, 2, -3], want: [[1, 0, 3], [1, 2, 2], [1, 2, -3]] },
  { shape: [7], begin: [6], size: [-1], step: [-2], want: [[6], [4], [-2]] },
  { shape: [3, 4], begin: [1, 1], size: [0, 2], want: [[1, 1], [0, 2], [1, 1]] },
];
for (const row of sliceRows) {
  const opts = row.step ? { step: row.step } : undefined;
  cases.push({
    name: `slice ${JSON.stringify(row.shape)} begin ${JSON.stringify(row.begin)} size ${JSON.stringify(row.size)} step ${JSON.stringify(row.step)}`,
    covers: ['slice'],
    args: [a(row.shape)],
    fn: (x) => wg.slice(x!, row.begin, row.size, opts),
    method: (x) => x!.slice(row.begin, row.size, opts),
    ref: (x) => refSlice(x!, ...row.want),
  });
}
// Many slices of one tensor: the gradient joins their cotangents (lanes of non-overlapping
// windows along one axis, zero gaps between them) instead of padding each; slices with other steps
// or cut along several axes are padded one by one. Each window is weighted differently so every
// cotangent's position is checked.
{
  const windows: [number[], number[], number[]][] = [
    [[0, 0], [3, 2], [1, 1]], // lane 1 of axis 1
    [[0, 2], [3, 1], [1, 1]], // lane 1, adjacent
    [[0, 5], [3, 3], [1, 1]], // lane 1, after a gap
    [[0, 1], [3, 3], [1, 1]], // overlaps: lane 2
    [[0, 9], [3, 1], [1, 1]], // lane 1 again, after a gap
    [[0, 1], [3, 3], [1, 1]], // the same window twice: lane 3
    [[1, 0], [1, 10], [1, 1]], // axis 0 alone
    [[0, 0], [2, 5], [1, 2]], // step 2: padded
    [[1, 3], [2, 4], [1, 1]], // cuts two axes: padded
  ];
  cases.push({
    name: 'slice: many windows of one [3,10] tensor',
    covers: ['slice'],
    args: [a([3, 10])],
    fn: (x) =>
      wg.concat(
        windows.map(([b, n, st], k) => wg.reshape(wg.mul(wg.square(wg.slice(x!, b, n, { step: st })), k + 1), [-1])),
        0,
      ),
    ref: (x) => {
      const parts = windows.map(([b, n, st], k) => ref.map(refSlice(x!, b, n, st), (v) => v * v * (k + 1)));
      return refConcat(parts.map((q) => ref.reshape(q, [ref.size(q.shape)])), 0);
    },
  });
  cases.push({
    name: 'split into scalars: x[i+1] - x[i]^2',
    covers: ['split'],
    args: [a([9])],
    fn: (x) => {
      const xs = wg.split(x!, 9);
      return wg.concat(xs.slice(0, 8).map((xi, i) => wg.sub(xs[i + 1]!, wg.mul(xi, xi))), 0);
    },
    ref: (x) => ({ shape: [8], data: Float64Array.from({ length: 8 }, (_, i) => x!.data[i + 1]! - x!.data[i]! ** 2) }),
  });
}
for (const [shape, axes] of [
  [[3, 4], 0],
  [[3, 4], undefined],
  [[2, 3, 4], [0, 2]],
  [[2, 1, 3], [-1, 1]],
] as [number[], number | number[] | undefined][]) {
  const list = axes === undefined ? shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((v) => (v < 0 ? v + shape.length : v));
  cases.push({
    name: `flip ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`,
    covers: ['flip'],
    args: [a(shape)],
    fn: (x) => wg.flip(x!, axes),
    method: (x) => x!.flip(axes),
    ref: (x) => refFlip(x!, list),
  });
}

// ---------------------------------------------------------------------------------------------
// Joining and cutting: concat (balanced tree for many operands), stack, split.

for (const [shapes, axis] of [
  [[[2, 3], [4, 3]], 0],
  [[[2, 1], [2, 3], [2, 2]], 1],
  [[[2, 2, 1], [2, 2, 3], [2, 2, 1], [2, 2, 2], [2, 2, 1]], -1],
  [[[3], [0], [2]], 0],
] as [number[][], number][]) {
  cases.push({
    name: `concat ${shapes.map((s) => JSON.stringify(s)).join(' ')} axis ${axis}`,
    covers: ['concat'],
    args: shapes.map((s) => a(s)),
    fn: (...xs) => wg.concat(xs as T[], axis),
    ref: (...xs) => refConcat(xs, axis < 0 ? axis + shapes[0]!.length : axis),
  });
}
for (const axis of [0, 1, 2, -1]) {
  cases.push({
    name: `stack 3 × [2,3] axis ${axis}`,
    covers: ['stack'],
    args: [a([2, 3]), a([2, 3]), a([2, 3])],
    fn: (x, y, z) => wg.stack([x!, y!, z!], axis),
    ref: (...xs) => {
      const k = axis < 0 ? axis + 3 : axis;
      return refConcat(
        xs.map((x) => ref.reshape(x, [...x.shape.slice(0, k), 1, ...x.shape.slice(k)])),
        k,
      );
    },
  });
}
// split's parts are weighted and joined in reverse order, so every part is checked.
for (const [shape, spec, axis] of [
  [[6, 4], 3, 0],
  [[2, 7], [2, 0, 4, 1], 1],
  [[3, 4], 2, -1],
  [[2, 5], [0, 5], 1], // an empty part, then the whole axis (the tensor itself)
] as [number[], number | number[], number][]) {
  const k = axis < 0 ? axis + shape.length : axis;
  const sizes = typeof spec === 'number' ? new Array<number>(spec).fill(shape[k]! / spec) : spec;
  cases.push({
    name: `split ${JSON.stringify(shape)} into ${JSON.stringify(spec)} along ${axis}`,
    covers: ['split'],
    args: [a(shape)],
    fn: (x) => wg.concat(
        wg
          .split(x!, spec, axis)
          .map((p, i) => wg.mul(p, i + 1))
          .reverse(),
        axis,
      ),
    ref: (x) => {
      let at0 = 0;
      const parts = sizes.map((len, i) => {
        const begin = shape.map((_, d) => (d === k ? at0 : 0));
        const count = shape.map((d, j) => (j === k ? len : d));
        at0 += len;
        return ref.map(refSlice(x!, begin, count, shape.map(() => 1)), (v) => v * (i + 1));
      });
      return refConcat(parts.reverse(), k);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Indexing: gather and scatterAdd with random int32 indices (repeats likely: more draws than
// values, or few values), oneHot.

for (const [xs, is, axis] of [
  [[5, 3], [4], 0],
  [[2, 5, 3], [2, 3], 1],
  [[3, 4], [6], -1],
  [[4], [], 0],
  [[3, 2], [2, 2, 2], 0],
] as [number[], number[], number][]) {
  const k = axis < 0 ? axis + xs.length : axis;
  cases.push({
    name: `gather ${JSON.stringify(xs)} by ${JSON.stringify(is)} axis ${axis}`,
    covers: ['gather'],
    args: [a(xs), idx(is, 0, xs[k]!)],
    fn: (x, i) => wg.gather(x!, i!, axis),
    method: (x, i) => x!.gather(i!, axis),
    ref: (x, i) => refGather(x!, i!, k),
  });
}
cases.push({
  name: 'gather int32 values by int32 indices',
  covers: ['gather'],
  args: [idx([4, 3], -50, 50), idx([5], 0, 4)],
  fn: (x, i) => wg.gather(x!, i!),
  ref: (x, i) => refGather(x!, i!, 0),
  outDtype: 'int32',
});
for (const [xs, is, us, axis] of [
  [[5, 3], [7], [7, 3], 0],
  [[2, 4], [3, 2], [2, 3, 2], 1],
  [[4, 2], [6], [2], 0],
  [[3], [], [], 0],
] as [number[], number[], number[], number][]) {
  const want = [...xs.slice(0, axis), ...is, ...xs.slice(axis + 1)];
  cases.push({
    name: `scatterAdd ${JSON.stringify(xs)} by ${JSON.stringify(is)} updates ${JSON.stringify(us)} axis ${axis}`,
    covers: ['scatterAdd'],
    args: [a(xs), idx(is, 0, xs[axis]!), a(us)],
    fn: (x, i, u) => wg.scatterAdd(x!, i!, u!, axis),
    ref: (x, i, u) => refScatterAdd(x!, i!, build(want, (j) => at(u!, j.slice(want.length - us.length))), axis),
  });
}
cases.push({
  name: 'oneHot [2,3] depth 4, times x',
  covers: ['oneHot'],
  args: [idx([2, 3], 0, 4), a([2, 3, 4])],
  fn: (i, x) => wg.mul(wg.oneHot(i!, 4, x!.dtype), x!),
  ref: (i, x) => build([2, 3, 4], (j) => (at(i!, j.slice(0, 2)) === j[2] ? at(x!, j) : 0)),
});
cases.push({
  name: 'oneHot int32 [5] depth 3',
  covers: ['oneHot'],
  args: [idx([5], 0, 3)],
  fn: (i) => wg.oneHot(i!, 3, 'int32'),
  ref: (i) => build([5, 3], (j) => (at(i!, [j[0]!]) === j[1] ? 1 : 0)),
  outDtype: 'int32',
});

// ---------------------------------------------------------------------------------------------
// pad (value a number or a differentiated scalar) and tile.

for (const [shape, pads, value] of [
  [[2, 3], [[1, 2], [0, 3]], 0],
  [[3], [[2, 2]], -1.5],
  [[2, 1, 2], [[0, 0], [2, 1], [1, 0]], 4],
] as [number[], [number, number][], number][]) {
  cases.push({
    name: `pad ${JSON.stringify(shape)} by ${JSON.stringify(pads)} with ${value}`,
    covers: ['pad'],
    args: [a(shape)],
    fn: (x) => wg.pad(x!, pads, value),
    ref: (x) => refPad(x!, pads, value),
  });
}
cases.push({
  name: 'pad [2,3] by 1 with a traced scalar value',
  covers: ['pad'],
  args: [a([2, 3]), a([])],
  fn: (x, v) => wg.pad(x!, 1, v!),
  ref: (x, v) => refPad(x!, [[1, 1], [1, 1]], v!.data[0]!),
});
for (const [shape, reps] of [
  [[2, 3], [2, 1]],
  [[2, 3], [3]],
  [[3], [2, 2, 2]],
  [[2, 1], [1, 0]],
  [[1, 2, 1, 2, 1], [2, 1, 2, 1, 2]],
] as [number[], number[]][]) {
  cases.push({
    name: `tile ${JSON.stringify(shape)} by ${JSON.stringify(reps)}`,
    covers: ['tile'],
    args: [a(shape)],
    fn: (x) => wg.tile(x!, reps),
    ref: (x) => refTile(x!, reps),
  });
}

// ---------------------------------------------------------------------------------------------
// cast: between floats (inputs are float32-representable, so exact); to int32 (truncation,
// derivative zero; a central step of 1e-6 does not cross an integer for these draws); from int32.

cases.push({
  name: 'cast to the other float dtype and back',
  covers: ['cast'],
  args: [a([2, 3])],
  fn: (x) => wg.mul(wg.cast(wg.cast(x!, x!.dtype === 'float64' ? 'float32' : 'float64'), x!.dtype), 2),
  method: (x) => wg.mul(x!.cast(x!.dtype === 'float64' ? 'float32' : 'float64').cast(x!.dtype), 2),
  ref: (x) => ref.map(x!, (v) => 2 * v),
});
cases.push({
  name: 'cast to int32 and back truncates toward zero',
  covers: ['cast'],
  args: [a([3, 4], { lo: -20, hi: 20 })],
  fn: (x) => wg.add(wg.cast(wg.cast(x!, 'int32'), x!.dtype), x!),
  ref: (x) => ref.map(x!, (v) => Math.trunc(v) + v),
  fd: { method: 'central' },
});
cases.push({
  name: 'cast to int32 output',
  covers: ['cast'],
  args: [a([7], { lo: -1e3, hi: 1e3 })],
  fn: (x) => wg.cast(x!, 'int32'),
  ref: (x) => ref.map(x!, Math.trunc),
  outDtype: 'int32',
});
cases.push({
  name: 'cast int32 indices to float',
  covers: ['cast'],
  args: [idx([2, 3], -1000, 1000), a([2, 3])],
  fn: (i, x) => wg.mul(wg.cast(i!, x!.dtype), x!),
  ref: (i, x) => ref.zip(i!, x!, (u, v) => u * v),
});

// ---------------------------------------------------------------------------------------------
// Constants, added to a float argument (so the row has a gradient and a float32 program).

const constRows: [string, (d: wg.DType) => T, Arr][] = [
  ['zeros', (d) => wg.zeros([2, 3], d), ref.arr(new Float64Array(6), [2, 3])],
  ['ones', (d) => wg.ones([2, 3], d), ref.arr(new Float64Array(6).fill(1), [2, 3])],
  ['full', (d) => wg.full([2, 3], -2.5, d), ref.arr(new Float64Array(6).fill(-2.5), [2, 3])],
  ['eye', (d) => wg.eye(2, 3, d), ref.arr([1, 0, 0, 0, 1, 0], [2, 3])],
  ['linspace', (d) => wg.reshape(wg.linspace(-1, 1.5, 6, d), [2, 3]), ref.arr([-1, -0.5, 0, 0.5, 1, 1.5], [2, 3])],
  ['arange', (d) => wg.reshape(wg.arange(-2, 1, 0.5, d), [2, 3]), ref.arr([-2, -1.5, -1, -0.5, 0, 0.5], [2, 3])],
];
for (const [name, make, value] of constRows) {
  cases.push({
    name: `${name} [2,3] plus x`,
    covers: [name],
    args: [a([2, 3])],
    fn: (x) => wg.add(make(x!.dtype), x!),
    ref: (x) => ref.zip(value, x!, (u, v) => u + v),
  });
}
cases.push({
  name: 'square eye, one-argument arange and linspace of 1',
  covers: ['eye', 'arange', 'linspace'],
  args: [a([3, 3])],
  fn: (x) => wg.mul(wg.add(wg.eye(3, undefined, x!.dtype), wg.add(wg.arange(3, undefined, undefined, x!.dtype), wg.linspace(7, 9, 1, x!.dtype))), x!),
  ref: (x) => build([3, 3], (i) => ((i[0] === i[1] ? 1 : 0) + i[1]! + 7) * at(x!, i)),
});

// ---------------------------------------------------------------------------------------------

export function specialTests(track: Track): void {
  describe('shape ops: special cases', () => {
    it('gather and scatterAdd at ±1e300 stay finite with exact derivatives', () => {
      const p = track(
        wg.compile((x, i) => wg.sum(wg.scatterAdd(wg.mul(x!, 0.5), i!, wg.gather(x!, i!))), {
          args: [wg.f64([3]), wg.i32([4])],
        }),
      );
      const x = Float64Array.from([1e300, -1e300, 1e3]);
      const { value, grads } = p.valueAndGrad(x, Int32Array.from([2, 2, 0, 2]));
      expect(value).toBe(0.5 * (1e300 - 1e300 + 1e3) + (1e3 + 1e3 + 1e300 + 1e3));
      expect(Array.from(grads[0]!)).toEqual([1.5, 0.5, 3.5]);
    });

    it('concat of many operands is a balanced tree (depth log2 n)', () => {
      const p = track(wg.compile((...xs) => wg.sum(wg.concat(xs)), { args: new Array(16).fill(wg.f64([1])), wrt: [] }));
      expect(p.run(...Array.from({ length: 16 }, (_, i) => Float64Array.of(i)))).toBe(120);
    });

    it('shape errors name the op and the shapes', () => {
      const err = (fn: (x: T) => T, shape = [2, 3]): unknown => {
        try {
          wg.compile(fn, { args: [wg.f64(shape)], wrt: [] }).dispose();
        } catch (e) {
          return e;
        }
        return undefined;
      };
      expect(err((x) => wg.slice(x, [3]))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH', message: expect.stringMatching(/wg\.slice: .*\[2,3\]/) });
      expect(err((x) => wg.slice(x, [0], [3]))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH' });
      expect(err((x) => wg.slice(x, [0], [1], { step: [0] }))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
      expect(err((x) => wg.squeeze(x, 0))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH', message: expect.stringContaining('wg.squeeze') });
      expect(err((x) => wg.concat([x, wg.transpose(x)]))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH', message: expect.stringContaining('[3,2]') });
      expect(err((x) => wg.split(x, 4, 1)[0]!)).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH' });
      expect(err((x) => wg.gather(x, wg.constant([0, 1])))).toMatchObject({ code: 'WENGERT_DTYPE_MISMATCH' });
      expect(err((x) => wg.gather(x, [0.5]))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
      expect(err((x) => wg.scatterAdd(x, [0], wg.ones([2, 2])))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH' });
      expect(err((x) => wg.expandDims(x, 3))).toMatchObject({ code: 'WENGERT_SHAPE_MISMATCH' });
      expect(err((x) => wg.pad(x, [[1, 1]]))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
      expect(err((x) => wg.add(x, wg.full([2, 3], 0.5, 'int32')))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
      expect(err((x) => wg.add(x, wg.arange(0.5, 3, 1, 'int32')))).toMatchObject({ code: 'WENGERT_INVALID_ARGUMENT' });
    });

    it('pad at ±1e300: values pass through, the value cotangent counts the padding', () => {
      const p = track(wg.compile((x, v) => wg.sum(wg.pad(x!, [[2, 1]], v!)), { args: [wg.f64([2]), wg.f64([])], wrt: [0, 1] }));
      const { value, grads } = p.valueAndGrad(Float64Array.from([1e300, -1e300]), 1e3);
      // Summed in the engine's order (lanes of v, v, 1e300, -1e300, v): the padding is there.
      expect(value).toBe(ref.engineSum([1e3, 1e3, 1e300, -1e300, 1e3]));
      expect(Array.from(grads[0]!)).toEqual([1, 1]);
      expect(Array.from(grads[1]!)).toEqual([3]);
    });
  });
}
