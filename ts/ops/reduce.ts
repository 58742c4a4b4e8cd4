/** Reductions over all or given axes. */
import { argError, describe, emit, shapeError, tensorArg } from './core.js';
import { mul } from './elementwise.js';
import { fmt, type Shape } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep each reduced axis with size 1 (default false). */
  readonly keepDims?: boolean;
}

/** Axes as sorted, distinct, non-negative indices (all axes when `axes` is undefined). */
export function normalizeAxes(op: string, rank: number, axes: number | readonly number[] | undefined, shape: Shape): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) throw argError(op, `axes must be a number or an array of numbers, got ${describe(axes)}`);
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw shapeError(op, `axis ${String(a)} is out of range for shape ${fmt(shape)} (rank ${rank})`);
    }
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw shapeError(op, `axis ${String(a)} is listed twice for shape ${fmt(shape)}`);
    out.push(n);
  }
  return out.sort((p, q) => p - q);
}

/** @internal The raw IR reduction (no axis normalization). */
export function reduceSum(x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  if (axes.length === 0) return x;
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return emit(x.graph, 'reduce_sum', [x], shape, x.dtype, [keepDims ? 1 : 0, ...axes]);
}

// Reductions

/**
 * Sum over all axes (`axes` omitted) or the given axes (a number or a list; negative axes count
 * from the end). Reduced axes are dropped unless `keepDims` is set. Derivative: the cotangent
 * broadcast back over the reduced axes.
 */
export function sum(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const t = tensorArg('sum', x, 'x');
  return reduceSum(t, normalizeAxes('sum', t.rank, axes, t.shape), options.keepDims === true);
}

/**
 * Arithmetic mean over all axes (`axes` omitted) or the given axes; options as for {@link sum}.
 * The mean over zero elements is NaN.
 */
export function mean(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const t = tensorArg('mean', x, 'x');
  const list = normalizeAxes('mean', t.rank, axes, t.shape);
  let count = 1;
  for (const a of list) count *= t.shape[a]!;
  return mul(reduceSum(t, list, options.keepDims === true), 1 / count);
}
