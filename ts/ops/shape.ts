/**
 * Shape ops: reshape, broadcastTo, transpose; axes (expandDims, squeeze), slicing and joining
 * (slice, flip, concat, stack, split, pad, tile), indexing (gather, scatterAdd, oneHot) and cast.
 */
import { argError, context, describe, emit, lift, shapeError, tensorArg } from './core.js';
import { add, mul } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { dtypeCode, type DType } from '../dtype.js';
import { WengertError } from '../errors.js';
import { activeGraph, type Graph } from '../graph.js';
import { userCallSite } from '../callsite.js';
import { MAX_RANK, broadcastsTo, fmt, isShape, sameShape, sizeOf, unbroadcastAxes, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';

// Shape ops

/**
 * The same elements, in row-major order, under a new shape; one dimension may be -1 and is then
 * inferred. Derivative: the cotangent reshaped back.
 */
export function reshape(x: TensorLike, shape: Shape): Tensor {
  const t = tensorArg('reshape', x, 'x');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= -1)) {
    throw argError('reshape', `shape must be an array of non-negative integers (one may be -1), got ${String(shape)}`);
  }
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw shapeError('reshape', `shape ${fmt(shape)} has more than one -1`);
  if (free >= 0) {
    const known = sizeOf(out.filter((d) => d !== -1));
    if (known === 0 || t.size % known !== 0) {
      throw shapeError('reshape', `cannot reshape ${fmt(t.shape)} (${t.size} elements) to ${fmt(shape)}`);
    }
    out[free] = t.size / known;
  }
  if (sizeOf(out) !== t.size) {
    throw shapeError('reshape', `cannot reshape ${fmt(t.shape)} (${t.size} elements) to ${fmt(shape)} (${sizeOf(out)} elements)`);
  }
  if (sameShape(out, t.shape)) return t;
  return emit(t.graph, 'reshape', [t], out, t.dtype);
}

/** `x` broadcast to `shape` by NumPy's rules. Derivative: the cotangent summed back to x's shape. */
export function broadcastTo(x: TensorLike, shape: Shape): Tensor {
  const t = tensorArg('broadcastTo', x, 'x');
  if (!isShape(shape)) throw argError('broadcastTo', `shape must be an array of non-negative integers, got ${String(shape)}`);
  if (!broadcastsTo(t.shape, shape)) throw shapeError('broadcastTo', `shape ${fmt(t.shape)} does not broadcast to ${fmt(shape)}`);
  if (sameShape(t.shape, shape)) return t;
  return emit(t.graph, 'broadcast_to', [t], shape, t.dtype);
}

/**
 * Axes permuted: output axis i is input axis `perm[i]`; `perm` defaults to reversing the axes
 * (a matrix transpose for rank 2). Derivative: the cotangent transposed by the inverse permutation.
 */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const t = tensorArg('transpose', x, 'x');
  const p = perm === undefined ? Array.from({ length: t.rank }, (_, i) => t.rank - 1 - i) : [...perm];
  const valid = p.length === t.rank && p.every((a) => Number.isInteger(a) && a >= 0 && a < t.rank) && new Set(p).size === t.rank;
  if (!valid) throw shapeError('transpose', `perm [${p.join(',')}] is not a permutation of the axes of shape ${fmt(t.shape)}`);
  if (p.every((a, i) => a === i)) return t;
  return emit(
    t.graph,
    'transpose',
    [t],
    p.map((a) => t.shape[a]!),
    t.dtype,
    p,
  );
}

/** @internal Sum `g` down to `shape`, undoing NumPy broadcasting (used by every derivative rule). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  return reshape(reduceSum(g, unbroadcastAxes(shape, g.shape), false), shape);
}

// ---------------------------------------------------------------------------------------------
// Axes, slicing, joining, indexing and conversion

/** `axis` counted from the end when negative, checked against `[0, count)`. */
function normAxis(op: string, axis: number, count: number, shape: Shape): number {
  if (!Number.isInteger(axis) || axis < -count || axis >= count) {
    throw shapeError(op, `axis ${String(axis)} is out of range for shape ${fmt(shape)} (valid: ${-count}..${count - 1})`);
  }
  return axis < 0 ? axis + count : axis;
}

/** An int32 index operand: an int32 tensor, or plain integers made into an int32 constant. */
function indexArg(op: string, indices: unknown, graph: Graph): Tensor {
  if (indices instanceof Tensor) {
    if (indices.dtype !== 'int32') {
      throw new WengertError('WENGERT_DTYPE_MISMATCH', `wg.${op}: indices must be int32, got ${indices.dtype} ${fmt(indices.shape)}; convert with wg.cast(x, 'int32') (at ${userCallSite()})`);
    }
    return indices;
  }
  const ints = typeof indices === 'number' ? [indices] : indices instanceof Int32Array ? Array.from(indices) : Array.isArray(indices) ? (indices as unknown[]) : undefined;
  if (ints === undefined || !ints.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) {
    throw argError(op, `indices must be an int32 wg.Tensor, an Int32Array, an array of integers or an integer, got ${describe(indices)}`);
  }
  const data = Int32Array.from(ints as number[]);
  return new Tensor(graph.add('constant', [], typeof indices === 'number' ? [] : [data.length], 'int32', [], data), graph);
}

/** An operand of any dtype (a number is a float64 scalar). */
function anyArg(op: string, x: unknown, what = 'x'): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return new Tensor(activeGraph(op).scalar(x, 'float64'), activeGraph(op));
  throw argError(op, `${what} must be a wg.Tensor or a number, got ${describe(x)}`);
}

/**
 * `x` with a new axis of size 1 inserted at `axis` (in `[-(rank + 1), rank]`; negative counts
 * from the end of the result's axes), any dtype. A reshape: derivative the cotangent reshaped back.
 */
export function expandDims(x: TensorLike, axis: number): Tensor {
  const t = anyArg('expandDims', x);
  const a = normAxis('expandDims', axis, t.rank + 1, t.shape);
  return reshape(t, [...t.shape.slice(0, a), 1, ...t.shape.slice(a)]);
}

/**
 * `x` without the listed axes of size 1 (default: every axis of size 1), any dtype. Listing an axis
 * whose size is not 1 is a shape error. A reshape: derivative the cotangent reshaped back.
 */
export function squeeze(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const t = anyArg('squeeze', x);
  const list = axes === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis('squeeze', a, t.rank, t.shape));
  for (const a of list) {
    if (t.shape[a] !== 1) throw shapeError('squeeze', `axis ${a} of shape ${fmt(t.shape)} has size ${t.shape[a]}, not 1`);
  }
  return reshape(
    t,
    t.shape.filter((_, i) => !list.includes(i)),
  );
}

/** Options of {@link slice}. */
export interface SliceOptions {
  /** Step per axis (non-zero; negative walks backwards from `begin`); default 1 on every axis. */
  readonly step?: readonly number[];
}

/**
 * A strided window of `x`, any dtype: along axis `d`, result element `i` is
 * `x[begin[d] + i·step[d]]`, for `i < size[d]`.
 *
 * - `begin`: one start per leading axis (missing axes: the first element in the step's direction,
 *   i.e. 0, or the last for a negative step); a negative start counts from the end (`-1` is the
 *   last element).
 * - `size`: one count per leading axis; `-1` or a missing axis takes every element from `begin` to
 *   the end in the step's direction.
 * - `options.step`: one step per leading axis, non-zero, default 1; a negative step walks
 *   backwards, so `slice(x, [-1], [-1], { step: [-1] })` reverses axis 0 (see {@link flip}).
 *
 * Every element read must exist: a start or an explicit count that reaches outside the axis is a
 * shape error (nothing is clamped). Derivative: the cotangent placed back where the elements came
 * from, zeros elsewhere (a pad).
 */
export function slice(x: TensorLike, begin: readonly number[], size?: readonly number[], options: SliceOptions = {}): Tensor {
  const t = anyArg('slice', x);
  const r = t.rank;
  const step = options.step ?? [];
  for (const [what, list] of [['begin', begin], ['size', size ?? []], ['step', step]] as const) {
    if (!Array.isArray(list) || list.length > r || !list.every((v) => Number.isInteger(v))) {
      throw argError('slice', `${what} must be an array of at most ${r} integers (one per leading axis of ${fmt(t.shape)}), got ${String(list)}`);
    }
  }
  const b: number[] = [];
  const s: number[] = [];
  const n: number[] = [];
  for (let d = 0; d < r; d++) {
    const dim = t.shape[d]!;
    const st = step[d] ?? 1;
    if (st === 0) throw argError('slice', `step of axis ${d} is 0`);
    let start = begin[d] ?? (st > 0 ? 0 : dim - 1);
    if (start < 0) start += dim;
    const avail = dim === 0 ? 0 : st > 0 ? Math.max(0, Math.ceil((dim - start) / st)) : Math.max(0, Math.floor(start / -st) + 1);
    const want = size?.[d] ?? -1;
    if (want < -1) throw argError('slice', `size of axis ${d} is ${want}; use -1 for "to the end"`);
    const count = want === -1 ? avail : want;
    const bad = count > 0 ? start < 0 || start >= dim || count > avail : start < 0 || start > dim;
    if (bad) {
      throw shapeError('slice', `axis ${d} of shape ${fmt(t.shape)}: begin ${begin[d] ?? start}, size ${want}, step ${st} reads outside [0, ${dim})`);
    }
    b.push(count === 0 ? Math.min(Math.max(start, 0), dim) : start);
    s.push(st);
    n.push(count);
  }
  if (n.every((c, d) => c === t.shape[d]) && s.every((v) => v === 1)) return t;
  return emit(t.graph, 'slice', [t], n, t.dtype, [...b, ...s]);
}

/** `x` reversed along each of `axes` (default all), any dtype. A slice with step -1. */
export function flip(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const t = anyArg('flip', x);
  const list = axes === undefined ? t.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis('flip', a, t.rank, t.shape));
  const live = list.filter((a) => t.shape[a]! > 1);
  if (live.length === 0) return t;
  return emit(
    t.graph,
    'slice',
    [t],
    t.shape,
    t.dtype,
    [...t.shape.map((d, i) => (live.includes(i) ? d - 1 : 0)), ...t.shape.map((_, i) => (live.includes(i) ? -1 : 1))],
  );
}

/**
 * The tensors joined along `axis` (negative counts from the end), any dtype (all the same); every
 * other dim must agree. Many operands are joined as a balanced tree of two-input concats (depth
 * log2 n). Derivative: the matching slices of the cotangent.
 */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw argError('concat', `xs must be a non-empty array of tensors, got ${describe(xs)}`);
  const { graph, dtype } = context('concat', xs, true);
  const ts = xs.map((x) => lift(x, graph, dtype));
  const first = ts[0]!;
  if (first.rank === 0) throw shapeError('concat', 'cannot concatenate scalars (shape []); use wg.stack');
  const a = normAxis('concat', axis, first.rank, first.shape);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw shapeError('concat', `shapes ${ts.map((u) => fmt(u.shape)).join(', ')} differ outside axis ${a}`);
    }
  }
  return concatTree(graph, dtype, ts, a);
}

/** `ts` (checked to agree outside `axis`) joined along `axis` by a balanced tree of two-input concats. */
function concatTree(graph: Graph, dtype: DType, ts: readonly Tensor[], axis: number): Tensor {
  const join = (lo: number, hi: number): Tensor => {
    if (hi - lo === 1) return ts[lo]!;
    const mid = (lo + hi) >> 1;
    const l = join(lo, mid);
    const rr = join(mid, hi);
    const shape = [...l.shape];
    shape[axis] = l.shape[axis]! + rr.shape[axis]!;
    return emit(graph, 'concat', [l, rr], shape, dtype, [axis]);
  };
  return join(0, ts.length);
}

/** The tensors (all of one shape and dtype) stacked along a new axis `axis` (in `[-(rank + 1), rank]`). */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw argError('stack', `xs must be a non-empty array of tensors, got ${describe(xs)}`);
  const { graph, dtype } = context('stack', xs, true);
  const ts = xs.map((x) => lift(x, graph, dtype));
  const first = ts[0]!;
  for (const t of ts) {
    if (!sameShape(t.shape, first.shape)) throw shapeError('stack', `shapes ${ts.map((u) => fmt(u.shape)).join(', ')} differ`);
  }
  const a = normAxis('stack', axis, first.rank + 1, first.shape);
  return concat(
    ts.map((t) => expandDims(t, a)),
    a,
  );
}

/**
 * `x` cut along `axis` into `count` equal parts (count must divide the axis), or into parts of the
 * listed sizes (summing to the axis's size). Each part is a slice.
 */
export function split(x: TensorLike, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  const t = anyArg('split', x);
  if (t.rank === 0) throw shapeError('split', 'cannot split a scalar');
  const a = normAxis('split', axis, t.rank, t.shape);
  const dim = t.shape[a]!;
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (!Number.isInteger(sizesOrCount) || sizesOrCount <= 0 || dim % sizesOrCount !== 0) {
      throw shapeError('split', `axis ${a} of shape ${fmt(t.shape)} (size ${dim}) does not split into ${sizesOrCount} equal parts`);
    }
    sizes = new Array<number>(sizesOrCount).fill(dim / sizesOrCount);
  } else {
    if (!Array.isArray(sizesOrCount) || !sizesOrCount.every((v) => Number.isInteger(v) && v >= 0)) {
      throw argError('split', `sizesOrCount must be a positive integer or an array of non-negative integers, got ${String(sizesOrCount)}`);
    }
    sizes = [...sizesOrCount];
    const total = sizes.reduce((p, v) => p + v, 0);
    if (total !== dim) throw shapeError('split', `sizes [${sizes.join(',')}] sum to ${total}, not axis ${a}'s size ${dim} (shape ${fmt(t.shape)})`);
  }
  // Each part is the slice wg.slice(t, begin, size) would record (the checks above imply its
  // own), recorded directly: a split into many parts (one per scalar) records one node per part.
  const r = t.rank;
  const parts = new Array<Tensor>(sizes.length);
  let at = 0;
  for (let k = 0; k < sizes.length; k++) {
    const len = sizes[k]!;
    if (len === dim) {
      parts[k] = t; // the whole tensor: no slice, as wg.slice gives
    } else {
      const size = t.shape.slice();
      size[a] = len;
      const iattrs = new Array<number>(2 * r).fill(0, 0, r).fill(1, r);
      iattrs[a] = at;
      parts[k] = emit(t.graph, 'slice', [t], size, t.dtype, iattrs);
    }
    at += len;
  }
  return parts;
}

/**
 * Elements of `x` (any dtype) picked along `axis` by int32 `indices` of any shape:
 * `out[a..., j..., b...] = x[a..., indices[j...], b...]`, shape
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Indices may repeat. An index outside
 * `[0, x.shape[axis])` (negative ones included) fails the run with `WENGERT_INDEX_OUT_OF_RANGE`
 * (a RangeError). Derivative in x: the cotangent scatter-added back (repeated indices sum); none in
 * the indices.
 */
export function gather(x: TensorLike, indices: Tensor | Int32Array | readonly number[] | number, axis = 0): Tensor {
  const t = anyArg('gather', x);
  if (t.rank === 0) throw shapeError('gather', 'cannot gather from a scalar');
  const idx = indexArg('gather', indices, t.graph);
  const a = normAxis('gather', axis, t.rank, t.shape);
  return emit(t.graph, 'gather', [t, idx], [...t.shape.slice(0, a), ...idx.shape, ...t.shape.slice(a + 1)], t.dtype, [a]);
}

/**
 * `x` (float) with `updates` added at the positions `indices` pick along `axis`:
 * `out = x; out[a..., indices[j...], b...] += updates[a..., j..., b...]`. `updates` broadcasts to
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Repeated indices accumulate, in row-major
 * order of the updates, so results are deterministic. An index out of range fails the run with
 * `WENGERT_INDEX_OUT_OF_RANGE`. Derivative: the cotangent itself for x, the cotangent gathered at
 * `indices` for updates.
 */
export function scatterAdd(x: TensorLike, indices: Tensor | Int32Array | readonly number[] | number, updates: TensorLike, axis = 0): Tensor {
  const { graph, dtype } = context('scatterAdd', [x, updates]);
  const t = lift(x, graph, dtype);
  if (t.rank === 0) throw shapeError('scatterAdd', 'cannot scatter into a scalar');
  const idx = indexArg('scatterAdd', indices, graph);
  const a = normAxis('scatterAdd', axis, t.rank, t.shape);
  const want = [...t.shape.slice(0, a), ...idx.shape, ...t.shape.slice(a + 1)];
  const u = lift(updates, graph, dtype);
  if (!broadcastsTo(u.shape, want)) {
    throw shapeError('scatterAdd', `updates of shape ${fmt(u.shape)} do not broadcast to ${fmt(want)} (x ${fmt(t.shape)}, indices ${fmt(idx.shape)}, axis ${a})`);
  }
  return emit(graph, 'scatter_add', [t, idx, broadcastTo(u, want)], t.shape, dtype, [a]);
}

/**
 * `x` padded with `value` (a number, or a scalar tensor of x's dtype; default 0), any dtype.
 * `paddings` lists `[before, after]` counts (>= 0) per axis (all axes), or is one count for every
 * side. Derivative: the slice of the cotangent where x sits; for `value`, the sum of the cotangent
 * over the padding.
 */
export function pad(x: TensorLike, paddings: number | readonly (readonly [number, number])[], value: TensorLike = 0): Tensor {
  const t = anyArg('pad', x);
  const pairs = typeof paddings === 'number' ? t.shape.map(() => [paddings, paddings] as const) : paddings;
  if (!Array.isArray(pairs) || pairs.length !== t.rank || !pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) {
    throw argError('pad', `paddings must be a non-negative integer or ${t.rank} pairs [before, after] of non-negative integers (shape ${fmt(t.shape)})`);
  }
  if (typeof value !== 'number' && !(value instanceof Tensor)) throw argError('pad', `value must be a number or a scalar wg.Tensor, got ${describe(value)}`);
  const v = value instanceof Tensor ? value : new Tensor(t.graph.scalar(value, t.dtype), t.graph);
  if (v.dtype !== t.dtype || v.rank !== 0 || v.graph !== t.graph) {
    throw shapeError('pad', `value must be a scalar of x's dtype ${t.dtype}, got ${v.dtype} ${fmt(v.shape)}`);
  }
  return padIR(
    t,
    v,
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
    t.shape.map(() => 0),
  );
}

/** @internal The IR pad: lo, hi and interior padding per axis with the scalar `value`. */
export function padIR(x: Tensor, value: Tensor, lo: readonly number[], hi: readonly number[], interior: readonly number[]): Tensor {
  const shape = x.shape.map((n, d) => lo[d]! + hi[d]! + (n === 0 ? 0 : n + (n - 1) * interior[d]!));
  if (shape.every((d, i) => d === x.shape[i])) return x;
  return emit(x.graph, 'pad', [x, value], shape, x.dtype, [...lo, ...hi, ...interior]);
}

/**
 * `x` repeated `reps[d]` times along each axis (NumPy `tile`): a shorter `reps` is padded with
 * leading 1s, a longer one gives `x` leading axes of size 1. Any dtype. A broadcast and a reshape.
 */
export function tile(x: TensorLike, reps: readonly number[]): Tensor {
  const t = anyArg('tile', x);
  if (!Array.isArray(reps) || !reps.every((v) => Number.isInteger(v) && v >= 0)) {
    throw argError('tile', `reps must be an array of non-negative integers, got ${String(reps)}`);
  }
  const r = Math.max(reps.length, t.rank);
  const shape = [...new Array<number>(r - t.rank).fill(1), ...t.shape];
  const rp = [...new Array<number>(r - reps.length).fill(1), ...reps];
  const out = shape.map((d, i) => d * rp[i]!);
  if (2 * r <= MAX_RANK) {
    // [1, d0, 1, d1, ...] broadcast to [r0, d0, r1, d1, ...]: one broadcast, rank 2r.
    return reshape(
      broadcastTo(
        reshape(
          t,
          shape.flatMap((d) => [1, d]),
        ),
        shape.flatMap((d, i) => [rp[i]!, d]),
      ),
      out,
    );
  }
  // Higher ranks, one axis at a time: repeating the block of axes i.. k times is a broadcast of
  // [prefix, 1, block] to [prefix, k, block].
  let y = reshape(t, shape);
  let cur = [...shape];
  rp.forEach((k, i) => {
    if (k === 1) return;
    const pre = sizeOf(cur.slice(0, i));
    const block = sizeOf(cur.slice(i));
    cur = cur.map((d, j) => (j === i ? d * k : d));
    y = reshape(broadcastTo(reshape(y, [pre, 1, block]), [pre, k, block]), cur);
  });
  return y;
}

/**
 * `out[..., k] = 1` where `indices[...] = k`, else 0, for k < `depth`: shape `indices.shape +
 * [depth]`, in `dtype` (default float64). `indices` are int32; one outside `[0, depth)` fails the run
 * with `WENGERT_INDEX_OUT_OF_RANGE`. No derivative (piecewise constant in nothing differentiable).
 */
export function oneHot(indices: Tensor | Int32Array | readonly number[] | number, depth: number, dtype: DType = 'float64'): Tensor {
  const graph = indices instanceof Tensor ? indices.graph : activeGraph('oneHot');
  const idx = indexArg('oneHot', indices, graph);
  if (!Number.isInteger(depth) || depth < 0 || depth > 2 ** 31 - 1) throw argError('oneHot', `depth must be a non-negative integer, got ${String(depth)}`);
  if (!['float64', 'float32', 'int32'].includes(dtype)) throw argError('oneHot', `dtype must be 'float64', 'float32' or 'int32', got ${String(dtype)}`);
  return emit(graph, 'one_hot', [idx], [...idx.shape, depth], dtype);
}

/**
 * `x` converted to `dtype` elementwise. Between floats: IEEE rounding (float64 to float32 rounds to
 * nearest, overflowing to ±Infinity). To int32: truncation toward zero (`-2.7 → -2`), saturating at
 * -2^31 and 2^31 - 1, NaN to 0. From int32: exact to float64, rounded to nearest for float32.
 * Derivative: the identity (cast back) between float dtypes; none to or from int32.
 */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = anyArg('cast', x);
  if (!['float64', 'float32', 'int32'].includes(dtype)) throw argError('cast', `dtype must be 'float64', 'float32' or 'int32', got ${String(dtype)}`);
  if (t.dtype === dtype) return t;
  return emit(t.graph, 'cast', [t], t.shape, dtype, [dtypeCode(t.dtype)]);
}

// Reverse-mode rules of the IR ops above (used by ts/autodiff.ts).

/** @internal Cotangent of x for `slice`: g placed back at the positions read (a pad with zeros). */
export function sliceVjp(g: Tensor, iattrs: readonly number[], x: Tensor): Tensor {
  const r = x.rank;
  const flipAxes: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  const interior: number[] = [];
  for (let d = 0; d < r; d++) {
    const b = iattrs[d]!;
    const s = iattrs[r + d]!;
    const n = g.shape[d]!;
    const dim = x.shape[d]!;
    if (n === 0) {
      lo.push(dim), hi.push(0), interior.push(0);
      continue;
    }
    const first = s > 0 ? b : b + (n - 1) * s; // the smallest index read
    if (s < 0 && n > 1) flipAxes.push(d);
    lo.push(first);
    interior.push(Math.abs(s) - 1);
    hi.push(dim - 1 - (first + (n - 1) * Math.abs(s)));
  }
  return padIR(flip(g, flipAxes), new Tensor(g.graph.scalar(0, g.dtype), g.graph), lo, hi, interior);
}

/** @internal The cotangent `g` of one slice of a tensor (the slice node's `iattrs`: begin..., step...). */
export interface SliceCotangent {
  readonly g: Tensor;
  readonly iattrs: readonly number[];
}

/**
 * @internal Cotangent of `x` from all of its slices that got one: Σ_k sliceVjp(g_k), built in time
 * linear in their number rather than one full-size pad per slice (n slices of a length-n vector
 * would cost n² otherwise). Slices that cut one axis with step 1 and are full along every other
 * axis are sorted by start and dealt into lanes of non-overlapping slices; each lane becomes one
 * balanced concat tree of its cotangents and zero gaps. The lanes and the remaining slices (other
 * steps or several cut axes, padded one by one) are summed in a fixed order.
 */
export function slicesVjp(x: Tensor, pieces: readonly SliceCotangent[]): Tensor {
  const r = x.rank;
  const rest: SliceCotangent[] = [];
  const byAxis = new Map<number, { begin: number; end: number; piece: SliceCotangent }[]>();
  for (const p of pieces) {
    let axis = -1;
    let ok = r > 0;
    for (let d = 0; d < r && ok; d++) {
      const full = p.iattrs[d] === 0 && p.iattrs[r + d] === 1 && p.g.shape[d] === x.shape[d];
      if (full) continue;
      if (axis >= 0 || p.iattrs[r + d] !== 1 || p.g.shape[d] === 0) ok = false;
      axis = d;
    }
    if (!ok) {
      rest.push(p);
      continue;
    }
    if (axis < 0) axis = 0;
    const begin = p.iattrs[axis]!;
    let group = byAxis.get(axis);
    if (group === undefined) byAxis.set(axis, (group = []));
    group.push({ begin, end: begin + p.g.shape[axis]!, piece: p });
  }
  const terms: Tensor[] = [];
  for (const [axis, group] of byAxis) {
    group.sort((u, v) => u.begin - v.begin); // stable: equal starts keep their order
    const lanes: { end: number; items: typeof group }[] = [];
    for (const item of group) {
      let lane = lanes.find((l) => l.end <= item.begin);
      if (lane === undefined) lanes.push((lane = { end: 0, items: [] }));
      lane.items.push(item);
      lane.end = item.end;
    }
    const dim = x.shape[axis]!;
    const zeros = (len: number): Tensor => broadcastTo(new Tensor(x.graph.scalar(0, x.dtype), x.graph), x.shape.map((d, i) => (i === axis ? len : d)));
    for (const lane of lanes) {
      if (lane.items.length === 1) {
        terms.push(sliceVjp(lane.items[0]!.piece.g, lane.items[0]!.piece.iattrs, x));
        continue;
      }
      const parts: Tensor[] = [];
      let at = 0;
      for (const item of lane.items) {
        if (item.begin > at) parts.push(zeros(item.begin - at));
        parts.push(item.piece.g);
        at = item.end;
      }
      if (at < dim) parts.push(zeros(dim - at));
      terms.push(concatTree(x.graph, x.dtype, parts, axis));
    }
  }
  for (const p of rest) terms.push(sliceVjp(p.g, p.iattrs, x));
  let sum = terms[0]!;
  for (let k = 1; k < terms.length; k++) sum = add(sum, terms[k]!);
  return sum;
}

/** @internal Cotangents of x and value for `pad`. */
export function padVjp(g: Tensor, iattrs: readonly number[], x: Tensor): [Tensor, Tensor] {
  const r = x.rank;
  const gx = emit(g.graph, 'slice', [g], x.shape, g.dtype, [...iattrs.slice(0, r), ...iattrs.slice(2 * r, 3 * r).map((i) => i + 1)]);
  // Σ g over the padding: g times a mask that is 1 on the padding, 0 where x sits.
  const zero = broadcastTo(new Tensor(g.graph.scalar(0, g.dtype), g.graph), x.shape);
  const mask = padIR(zero, new Tensor(g.graph.scalar(1, g.dtype), g.graph), iattrs.slice(0, r), iattrs.slice(r, 2 * r), iattrs.slice(2 * r, 3 * r));
  return [gx, reduceSum(mul(g, mask), g.shape.map((_, i) => i), false)];
}

/** @internal Cotangents of the two operands of `concat`. */
export function concatVjp(g: Tensor, axis: number, a: Tensor): [Tensor, Tensor] {
  const n = a.shape[axis]!;
  const begin = g.shape.map((_, i) => (i === axis ? n : 0));
  return [slice(g, g.shape.map(() => 0), a.shape), slice(g, begin)];
}

/** @internal Cotangent of x for `gather`: g scatter-added into zeros of x's shape. */
export function gatherVjp(g: Tensor, axis: number, x: Tensor, indices: Tensor): Tensor {
  const zero = broadcastTo(new Tensor(g.graph.scalar(0, g.dtype), g.graph), x.shape);
  return emit(g.graph, 'scatter_add', [zero, indices, g], x.shape, g.dtype, [axis]);
}

/** @internal Cotangent of `updates` for `scatter_add`: g gathered at the indices. */
export function scatterAddVjp(g: Tensor, axis: number, indices: Tensor, updates: Tensor): Tensor {
  return emit(g.graph, 'gather', [g, indices], updates.shape, g.dtype, [axis]);
}

/** @internal Cotangent of `cast`: cast back between floats; none to or from int32. */
export function castVjp(g: Tensor, x: Tensor, out: Tensor): Tensor | undefined {
  if (x.dtype === 'int32' || out.dtype === 'int32') return undefined;
  return cast(g, x.dtype);
}
