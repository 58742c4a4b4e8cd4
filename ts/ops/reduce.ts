/** Reductions over all or given axes. */
import { argError, context, describe, emit, shapeError, tensorArg } from './core.js';
import { dtypeCode } from '../dtype.js';
import { abs, add, div, exp, greater, log, mul, sqrt, square, sub } from './elementwise.js';
import { reshape } from './shape.js';
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

// ---------------------------------------------------------------------------------------------
// prod, max, min, logSumExp, variance, std, norm, softmax, logSoftmax. Unless stated otherwise,
// `axes` is all axes when omitted, or a number or a list (negative axes count from the end), and
// reduced axes are dropped unless `keepDims` is set, as for {@link sum}.

/** Options of {@link variance} and {@link std}. */
export interface VarianceOptions extends ReduceOptions {
  /**
   * Subtracted from the element count in the divisor (default 0: the population variance; 1 gives
   * the unbiased sample variance). A divisor ≤ 0 gives Infinity or NaN, as in NumPy.
   */
  readonly correction?: number;
}

/** The shape of reducing `shape` over `axes`. */
function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** A keep-dims reduction of `x` over `axes` as the caller asked for it (reduced axes dropped unless keepDims). */
function finish(r: Tensor, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  return keepDims ? r : reshape(r, reducedShape(x.shape, axes, false));
}

function countOf(x: Tensor, axes: readonly number[]): number {
  let n = 1;
  for (const a of axes) n *= x.shape[a]!;
  return n;
}

/** 1 where `x` is exactly 0, else 0 (NaN counts as zero here; it propagates anyway). */
function isZero(x: Tensor): Tensor {
  return sub(1, greater(abs(x), 0));
}

/** @internal The raw IR reductions reduce_max / reduce_min / reduce_prod (axes already normalized). */
export function reduceIR(op: 'reduce_max' | 'reduce_min' | 'reduce_prod', x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  if (axes.length === 0) return x;
  return emit(x.graph, op, [x], reducedShape(x.shape, axes, keepDims), x.dtype, [keepDims ? 1 : 0, ...axes]);
}

/** @internal A reduction's cotangent `g` (reduced shape) with the reduced axes put back as size 1. */
export function keptCotangent(g: Tensor, x: Tensor, iattrs: readonly number[]): Tensor {
  const axes = iattrs.slice(1);
  return iattrs[0] === 1 ? g : reshape(g, reducedShape(x.shape, axes, true));
}

/**
 * @internal Reverse-mode rule of reduce_max / reduce_min: the cotangent split evenly among the
 * elements equal to the extremum (mask / count), zero elsewhere.
 */
export function extremumVjp(g: Tensor, iattrs: readonly number[], x: Tensor, out: Tensor, isMax: boolean): Tensor {
  const axes = iattrs.slice(1);
  const z = keptCotangent(out, x, iattrs);
  // x ≤ max everywhere, so "not max > x" is "x equals the max" (likewise for min).
  const mask = sub(1, isMax ? greater(z, x) : greater(x, z));
  const count = reduceSum(mask, axes, true);
  return mul(mask, div(keptCotangent(g, x, iattrs), count));
}

/**
 * @internal Reverse-mode rule of reduce_prod: the cotangent times the product of the other
 * elements, computed without dividing by a zero: with P the product of the nonzero elements and c
 * the number of zeros, the derivative is P / x at a nonzero x when c = 0, P at the zero when c = 1,
 * and 0 otherwise.
 */
export function prodVjp(g: Tensor, iattrs: readonly number[], x: Tensor): Tensor {
  const axes = iattrs.slice(1);
  const zero = isZero(x);
  const nonzeroX = add(x, zero); // x with each zero replaced by 1
  const p = reduceIR('reduce_prod', nonzeroX, axes, true);
  const c = reduceSum(zero, axes, true);
  const noZeros = sub(1, greater(c, 0));
  const oneZero = sub(greater(c, 0.5), greater(c, 1.5));
  const others = mul(p, add(mul(zero, oneZero), div(mul(sub(1, zero), noZeros), nonzeroX)));
  return mul(keptCotangent(g, x, iattrs), others);
}

/**
 * Product of the elements over all or the given axes; the product over zero elements is 1. The
 * elements are multiplied in row-major order. Derivative: the product of the other elements,
 * finite also where inputs are zero (with one zero, only that element's derivative is nonzero;
 * with two or more, all are zero).
 */
export function prod(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const t = tensorArg('prod', x, 'x');
  return reduceIR('reduce_prod', t, normalizeAxes('prod', t.rank, axes, t.shape), options.keepDims === true);
}

function extremum(op: 'max' | 'min', x: TensorLike, axes: number | readonly number[] | undefined, options: ReduceOptions): Tensor {
  const t = tensorArg(op, x, 'x');
  const list = normalizeAxes(op, t.rank, axes, t.shape);
  if (countOf(t, list) === 0) {
    throw shapeError(op, `cannot reduce zero elements of shape ${fmt(t.shape)} (the ${op} of nothing is undefined)`);
  }
  return reduceIR(op === 'max' ? 'reduce_max' : 'reduce_min', t, list, options.keepDims === true);
}

/**
 * Largest element over all or the given axes (NaN if any is NaN). Reducing zero elements is a
 * shape error. Derivative: 1 at the maximum and 0 elsewhere; where several elements tie for the
 * maximum, the derivative is split evenly among them (1/k each for k ties), so the gradient still
 * sums to 1.
 */
export function max(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return extremum('max', x, axes, options);
}

/**
 * Smallest element over all or the given axes (NaN if any is NaN). Reducing zero elements is a
 * shape error. Derivative: 1 at the minimum and 0 elsewhere; ties split it evenly (1/k each).
 */
export function min(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return extremum('min', x, axes, options);
}

/** log Σ exp(x) over `axes`, keeping them, shifted by the max: never overflows for finite x. */
function logSumExpKept(t: Tensor, axes: readonly number[]): Tensor {
  const m = reduceIR('reduce_max', t, axes, true);
  return add(m, log(reduceSum(exp(sub(t, m)), axes, true)));
}

/**
 * log Σ exp(x) over all or the given axes, computed as m + log Σ exp(x - m) with m the maximum, so
 * it neither overflows nor underflows for any finite input (1e300 gives 1e300, not Infinity);
 * -Infinity over zero elements. All elements -Infinity gives NaN. Derivative: softmax(x) over the
 * reduced axes (the shift contributes nothing, up to rounding).
 */
export function logSumExp(x: TensorLike, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const t = tensorArg('logSumExp', x, 'x');
  const list = normalizeAxes('logSumExp', t.rank, axes, t.shape);
  if (list.length === 0) return t;
  return finish(logSumExpKept(t, list), t, list, options.keepDims === true);
}

function varianceKept(op: string, t: Tensor, axes: readonly number[], correction: unknown): Tensor {
  if (typeof correction !== 'number' || !Number.isFinite(correction)) {
    throw argError(op, `correction must be a finite number, got ${describe(correction)} ${String(correction)}`);
  }
  const n = countOf(t, axes);
  const d = sub(t, mul(reduceSum(t, axes, true), 1 / n));
  return div(reduceSum(square(d), axes, true), n - correction);
}

/**
 * Variance over all or the given axes: Σ (x - mean)² / (n - correction), with n the number of
 * elements reduced. `correction` defaults to 0, the population variance (NumPy's default, ddof = 0);
 * pass 1 for the unbiased sample variance. Computed in two passes (mean first), so no cancellation;
 * NaN over zero elements.
 * Derivative: 2 (x - mean) / (n - correction).
 */
export function variance(x: TensorLike, axes?: number | readonly number[], options: VarianceOptions = {}): Tensor {
  const t = tensorArg('variance', x, 'x');
  const list = normalizeAxes('variance', t.rank, axes, t.shape);
  return finish(varianceKept('variance', t, list, options.correction ?? 0), t, list, options.keepDims === true);
}

/**
 * Standard deviation: √{@link variance} with the same options (population by default). Derivative
 * (x - mean) / ((n - correction) · std); where the variance is exactly zero (all reduced elements
 * equal) std is not differentiable and its derivative is taken to be 0 (finite, never NaN).
 */
export function std(x: TensorLike, axes?: number | readonly number[], options: VarianceOptions = {}): Tensor {
  const t = tensorArg('std', x, 'x');
  const list = normalizeAxes('std', t.rank, axes, t.shape);
  const v = varianceKept('std', t, list, options.correction ?? 0);
  // sqrt of the variance where positive; at zero, sqrt(1)·0, whose derivative is 0, not ∞·0.
  const positive = greater(v, 0);
  const s = mul(sqrt(add(v, sub(1, positive))), positive);
  return finish(s, t, list, options.keepDims === true);
}

/**
 * Vector norm over all or the given axes (the elements reduced are taken as one vector):
 * p = 2 (default) √Σ x², p = 1 Σ |x|, p = Infinity max |x|. The 2-norm is scaled by max |x|, so
 * it neither overflows nor underflows (elements of 1e200 give 1e200·√n); infinite elements give
 * NaN for p = 2. Derivatives: x / ‖x‖ (p = 2), sign(x) (p = 1), and for p = Infinity 1·sign(x) at
 * the elements of largest magnitude, ties split evenly. Conventions at the non-smooth points: the
 * derivative at x = 0 is 0 for every p (a subgradient), and sign(0) = 0 for p = 1.
 */
export function norm(x: TensorLike, p: number = 2, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const t = tensorArg('norm', x, 'x');
  if (p !== 1 && p !== 2 && p !== Infinity) throw argError('norm', `p must be 1, 2 or Infinity, got ${String(p)}`);
  const list = normalizeAxes('norm', t.rank, axes, t.shape);
  const keepDims = options.keepDims === true;
  const a = abs(t);
  if (p === 1) return reduceSum(a, list, keepDims);
  if (list.length === 0) return a;
  if (p === Infinity) {
    if (countOf(t, list) === 0) return reduceSum(a, list, keepDims); // 0, the norm of nothing
    return reduceIR('reduce_max', a, list, keepDims);
  }
  if (countOf(t, list) === 0) return reduceSum(a, list, keepDims);
  const m = reduceIR('reduce_max', a, list, true);
  const scale = add(m, sub(1, greater(m, 0))); // max |x|, or 1 where every element is 0
  const r = mul(m, sqrt(reduceSum(square(div(t, scale)), list, true)));
  return finish(r, t, list, keepDims);
}

function oneAxis(op: string, t: Tensor, axis: unknown): number[] {
  if (typeof axis !== 'number') throw argError(op, `axis must be a number, got ${describe(axis)}`);
  return normalizeAxes(op, t.rank, axis, t.shape);
}

/**
 * exp(x) / Σ exp(x) along `axis` (default the last), computed as exp(x - max) / Σ exp(x - max),
 * so finite for any finite input. Derivative: softmax·(g - Σ g·softmax) (the Jacobian
 * diag(s) - s sᵀ).
 */
export function softmax(x: TensorLike, axis: number = -1): Tensor {
  const t = tensorArg('softmax', x, 'x');
  const list = oneAxis('softmax', t, axis);
  const e = exp(sub(t, reduceIR('reduce_max', t, list, true)));
  return div(e, reduceSum(e, list, true));
}

/**
 * log softmax(x) = x - logSumExp(x) along `axis` (default the last), computed as
 * (x - max) - log Σ exp(x - max): finite for any finite input and exact far into the tail where
 * softmax underflows. Derivative: g - softmax·Σ g.
 */
export function logSoftmax(x: TensorLike, axis: number = -1): Tensor {
  const t = tensorArg('logSoftmax', x, 'x');
  const list = oneAxis('logSoftmax', t, axis);
  const d = sub(t, reduceIR('reduce_max', t, list, true));
  return sub(d, log(reduceSum(exp(d), list, true)));
}

function argReduce(op: 'argmax' | 'argmin', x: TensorLike, axis: number | undefined, options: ReduceOptions): Tensor {
  const t = tensorArg(op, x, 'x');
  context(op, [t]); // refuses int32 input
  if (axis !== undefined && typeof axis !== 'number') throw argError(op, `axis must be a number or omitted, got ${describe(axis)}`);
  const keepDims = options.keepDims === true;
  // Flattened (axis omitted): the index into the row-major elements.
  const flat = axis === undefined;
  const src = flat ? reshape(t, [t.size]) : t;
  const ax = flat ? 0 : normalizeAxes(op, t.rank, axis, t.shape)[0]!;
  if (src.shape[ax] === 0) throw shapeError(op, `cannot take the ${op} of an empty axis (shape ${fmt(t.shape)})`);
  const keep = keepDims && !flat;
  const r = emit(src.graph, op, [src], reducedShape(src.shape, [ax], keep), 'int32', [dtypeCode(t.dtype), keep ? 1 : 0, ax]);
  return flat && keepDims ? reshape(r, t.shape.map(() => 1)) : r;
}

/**
 * The int32 index of the largest element along `axis`, or into the flattened (row-major) elements
 * when `axis` is omitted; with `keepDims` the reduced axis (all axes when flattened) is kept with
 * size 1. The first index wins on ties; a NaN counts as larger than every number (the first NaN
 * wins). An empty axis is a shape error. No derivative (the result is an integer index).
 */
export function argmax(x: TensorLike, axis?: number, options: ReduceOptions = {}): Tensor {
  return argReduce('argmax', x, axis, options);
}

/**
 * The int32 index of the smallest element along `axis`, or into the flattened elements when
 * `axis` is omitted; as {@link argmax} otherwise (first index on ties, NaN wins, no derivative).
 */
export function argmin(x: TensorLike, axis?: number, options: ReduceOptions = {}): Tensor {
  return argReduce('argmin', x, axis, options);
}
