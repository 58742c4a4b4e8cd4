/** Shape ops: reshape, broadcastTo, transpose. */
import { argError, emit, shapeError, tensorArg } from './core.js';
import { reduceSum } from './reduce.js';
import { broadcastsTo, fmt, isShape, sameShape, sizeOf, unbroadcastAxes, type Shape } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';

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
