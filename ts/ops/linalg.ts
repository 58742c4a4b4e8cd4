/** Linear algebra. */
import { argError, binary, context, describe, emit, shapeError, tensorArg } from './core.js';
import { mul, log } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { broadcastTo, reshape, transpose } from './shape.js';
import { arrayType, type DType, type FloatDType } from '../dtype.js';
import type { Graph } from '../graph.js';
import { broadcastShapes, fmt } from '../shape.js';
import { Tensor } from '../tensor.js';

/** @internal The IR matmul: `[...B, m, k] × [...B, k, n]`, operands optionally read transposed. */
export function matmulIR(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const ra = a.rank;
  const rb = b.rank;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  return emit(a.graph, 'matmul', [a, b], [...a.shape.slice(0, ra - 2), m, n], a.dtype, [transposeA ? 1 : 0, transposeB ? 1 : 0]);
}

/**
 * Matrix product. `[m,k] × [k,n] → [m,n]`; a vector operand is a row (`[k] × [k,n] → [n]`) or a
 * column (`[m,k] × [k] → [m]`), and two vectors give their dot product. Operands of rank > 2 are
 * stacks of matrices whose leading (batch) axes broadcast. Derivatives: `g·bᵀ` and `aᵀ·g`.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  context('matmul', [a, b]);
  const ta = tensorArg('matmul', a, 'a');
  const tb = tensorArg('matmul', b, 'b');
  if (ta.rank === 0 || tb.rank === 0) {
    throw shapeError('matmul', `operands must have rank >= 1, got shapes ${fmt(ta.shape)} and ${fmt(tb.shape)}`);
  }
  const am = ta.rank === 1 ? reshape(ta, [1, ta.shape[0]!]) : ta;
  const bm = tb.rank === 1 ? reshape(tb, [tb.shape[0]!, 1]) : tb;
  const k1 = am.shape[am.rank - 1]!;
  const k2 = bm.shape[bm.rank - 2]!;
  if (k1 !== k2) {
    throw shapeError('matmul', `inner dimensions differ: shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} (${k1} vs ${k2})`);
  }
  const batchA = am.shape.slice(0, -2);
  const batchB = bm.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  if (batch === undefined) {
    throw shapeError('matmul', `batch dimensions of shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} do not broadcast`);
  }
  const a2 = broadcastTo(am, [...batch, ...am.shape.slice(-2)]);
  const b2 = broadcastTo(bm, [...batch, ...bm.shape.slice(-2)]);
  let out = matmulIR(a2, b2, false, false);
  if (ta.rank === 1 || tb.rank === 1) {
    const shape = [...batch];
    if (ta.rank !== 1) shape.push(am.shape[am.rank - 2]!);
    if (tb.rank !== 1) shape.push(bm.shape[bm.rank - 1]!);
    out = reshape(out, shape);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Vectors

/** A rank-1 operand of a vector op, or a shape error naming both operands. */
function vectors(op: string, a: unknown, b: unknown): [Tensor, Tensor] {
  context(op, [a, b]);
  const ta = tensorArg(op, a, 'a');
  const tb = tensorArg(op, b, 'b');
  if (ta.rank !== 1 || tb.rank !== 1) {
    const hint = op === 'dot' ? '; for matrices use wg.matmul, for elementwise products wg.mul' : '';
    throw shapeError(op, `operands must be vectors (rank 1), got shapes ${fmt(ta.shape)} and ${fmt(tb.shape)}${hint}`);
  }
  return [ta, tb];
}

/**
 * Inner product of two vectors of equal length: `Σ_i a_i·b_i`, a scalar. Operands of any other
 * rank are refused with a shape error (use {@link matmul} for matrices). Derivatives: `b` and `a`.
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  const [ta, tb] = vectors('dot', a, b);
  if (ta.shape[0] !== tb.shape[0]) throw shapeError('dot', `vector lengths differ: shapes ${fmt(ta.shape)} and ${fmt(tb.shape)}`);
  return reduceSum(mul(ta, tb), [0], false);
}

/**
 * Outer product of two vectors: `[m] ⊗ [n] → [m, n]` with entries `a_i·b_j`. Operands must have
 * rank 1. Derivatives: `Ḡ·b` for `a` and `Ḡᵀ·a` for `b`.
 */
export function outer(a: Tensor, b: Tensor): Tensor {
  const [ta, tb] = vectors('outer', a, b);
  return mul(reshape(ta, [ta.shape[0]!, 1]), reshape(tb, [1, tb.shape[0]!]));
}

// ---------------------------------------------------------------------------------------------
// Masks and shape helpers

/**
 * @internal A constant [rows, cols] matrix of `dtype` with entries `f(i, j)` (exact small values:
 * 0, ±1, 0.5), broadcast by the ops it meets over any batch axes.
 */
export function matrixConstant(graph: Graph, dtype: DType, rows: number, cols: number, f: (i: number, j: number) => number): Tensor {
  const data = new (arrayType(dtype as FloatDType))(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j);
  return new Tensor(graph.add('constant', [], [rows, cols], dtype, [], data), graph);
}

/** @internal The last two axes of `x` swapped (a batched matrix transpose). */
export function transposeLast(x: Tensor): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return transpose(x, perm);
}

/** A float operand that is a stack of square matrices `[..., n, n]`; returns it and n. */
function squareArg(op: string, x: unknown, what = 'A'): { t: Tensor; n: number } {
  context(op, [x]);
  const t = tensorArg(op, x, what);
  const n = t.shape[t.rank - 1];
  if (t.rank < 2 || t.shape[t.rank - 2] !== n || n === undefined) {
    throw shapeError(op, `${what} must be a square matrix or a stack of them [..., n, n], got shape ${fmt(t.shape)}`);
  }
  return { t, n };
}

/**
 * The operands of a solve, `A [..., n, n]` and `B`, broadcast to common batch axes: `B` of rank 1
 * is one vector `[n]` (solved as `[n, 1]`, the result has shape `[..., n]`); otherwise `B` is
 * `[..., n, k]` and its batch axes broadcast with A's.
 */
function solveOperands(op: string, a: unknown, b: unknown): { a: Tensor; b: Tensor; n: number; out: (x: Tensor) => Tensor } {
  context(op, [a, b]);
  const { t: ta, n } = squareArg(op, a);
  const tb = tensorArg(op, b, 'B');
  if (tb.rank === 0 || tb.shape[tb.rank - (tb.rank === 1 ? 1 : 2)] !== n) {
    throw shapeError(op, `B must be [${n}] or [..., ${n}, k] for A of shape ${fmt(ta.shape)}, got shape ${fmt(tb.shape)}`);
  }
  const vector = tb.rank === 1;
  const bm = vector ? reshape(tb, [n, 1]) : tb;
  const batch = broadcastShapes(ta.shape.slice(0, -2), bm.shape.slice(0, -2));
  if (batch === undefined) {
    throw shapeError(op, `batch dimensions of A ${fmt(ta.shape)} and B ${fmt(tb.shape)} do not broadcast`);
  }
  const k = bm.shape[bm.rank - 1]!;
  return {
    a: broadcastTo(ta, [...batch, n, n]),
    b: broadcastTo(bm, [...batch, n, k]),
    n,
    out: (x) => (vector ? reshape(x, [...batch, n]) : x),
  };
}

// ---------------------------------------------------------------------------------------------
// IR ops (used by the public functions below and by the derivative rules in ts/autodiff.ts)

/** @internal The IR cholesky of a stack of square matrices. */
export function choleskyIR(a: Tensor): Tensor {
  return emit(a.graph, 'cholesky', [a], a.shape, a.dtype);
}

/** @internal The IR triangular_solve: X with op(A)·X = B, identical batch axes. */
export function triangularSolveIR(a: Tensor, b: Tensor, lower: boolean, transposeA: boolean): Tensor {
  return emit(a.graph, 'triangular_solve', [a, b], b.shape, a.dtype, [lower ? 1 : 0, transposeA ? 1 : 0]);
}

/** @internal The IR lu: the packed factor `[..., n, n + 1]` of P·A = L·U. */
export function luIR(a: Tensor): Tensor {
  const n = a.shape[a.rank - 1]!;
  return emit(a.graph, 'lu', [a], [...a.shape.slice(0, -1), n + 1], a.dtype);
}

/** @internal The IR lu_solve: X with op(A)·X = B from `factor = luIR(A)`, identical batch axes. */
export function luSolveIR(a: Tensor, factor: Tensor, b: Tensor, transposeA: boolean): Tensor {
  return emit(a.graph, 'lu_solve', [a, factor, b], b.shape, a.dtype, [transposeA ? 1 : 0]);
}

// ---------------------------------------------------------------------------------------------
// Factorizations and solves

/**
 * Cholesky factor: the lower triangular `L` with positive diagonal and `A = L·Lᵀ`, for a
 * symmetric positive definite `A` of shape `[n, n]` or a stack `[..., n, n]` (each matrix on its
 * own). Only the lower triangle of `A` (diagonal included) is read; `L`'s strict upper triangle is
 * 0. Domain: A positive definite. A matrix that is not (a pivot ≤ 0, or not finite) gives a
 * matrix of NaN, for the value and the derivative; no error is thrown.
 *
 * Derivative: with respect to the lower triangle that is read, `Ā = Φ(S + Sᵀ)` where
 * `S = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹` and Φ keeps the lower triangle with its diagonal halved; the upper
 * triangle of `A` gets 0. For a symmetric parametrization `A = f(θ)` (e.g. `S·Sᵀ + c·I`) this is
 * the usual derivative; a perturbation of the upper triangle alone does not change the result.
 */
export function cholesky(a: Tensor): Tensor {
  const { t } = squareArg('cholesky', a);
  return choleskyIR(t);
}

/** Options of {@link triangularSolve}. */
export interface TriangularSolveOptions {
  /** A is lower triangular (default true); false: upper. Only that triangle is read. */
  readonly lower?: boolean;
  /** Solve `Aᵀ·X = B` instead of `A·X = B` (default false). */
  readonly transpose?: boolean;
}

/**
 * Solves `op(A)·X = B` for X, with `op(A) = A` (or `Aᵀ` when `transpose`), A triangular
 * `[..., n, n]` (lower by default; only that triangle, diagonal included, is read) and B a vector
 * `[n]` (X `[..., n]`) or matrices `[..., n, k]` (X `[..., n, k]`); batch axes broadcast.
 * Domain: a nonzero diagonal; a zero on it gives inf or NaN, no error.
 * Derivatives: `B̄ = op(A)⁻ᵀ·X̄` (another triangular solve) and, for A, `−B̄·Xᵀ` (`−X·B̄ᵀ` when
 * transposed) restricted to the triangle that is read (0 elsewhere).
 */
export function triangularSolve(a: Tensor, b: Tensor | number, options: TriangularSolveOptions = {}): Tensor {
  if (typeof options !== 'object' || options === null) {
    throw argError('triangularSolve', `options must be an object { lower?, transpose? }, got ${describe(options)}`);
  }
  const lower = options.lower ?? true;
  const trans = options.transpose ?? false;
  if (typeof lower !== 'boolean' || typeof trans !== 'boolean') {
    throw argError('triangularSolve', `options.lower and options.transpose must be booleans, got ${describe(lower)} and ${describe(trans)}`);
  }
  const s = solveOperands('triangularSolve', a, b);
  return s.out(triangularSolveIR(s.a, s.b, lower, trans));
}

/**
 * Solves `A·X = B` for X: A square `[..., n, n]` (LU factorization with partial pivoting), B a
 * vector `[n]` (X `[..., n]`) or matrices `[..., n, k]` (X `[..., n, k]`); batch axes broadcast.
 * Domain: A invertible. A singular A divides by a zero pivot: the result holds inf or NaN, no
 * error. Accuracy degrades with A's condition number, as for any LU solve.
 * Derivatives: `B̄ = A⁻ᵀ·X̄` (solved with the same factorization) and `Ā = −B̄·Xᵀ`.
 */
export function solve(a: Tensor, b: Tensor | number): Tensor {
  const s = solveOperands('solve', a, b);
  return s.out(luSolveIR(s.a, luIR(s.a), s.b, false));
}

/**
 * Matrix inverse `A⁻¹` of a square A `[n, n]` or of each matrix of a stack `[..., n, n]`, as
 * `solve(A, I)`. Domain: A invertible; a singular A gives inf or NaN, no error.
 * Derivative: `Ā = −A⁻ᵀ·Ȳ·A⁻ᵀ`.
 */
export function inverse(a: Tensor): Tensor {
  const { t, n } = squareArg('inverse', a);
  const eye = broadcastTo(matrixConstant(t.graph, t.dtype, n, n, (i, j) => (i === j ? 1 : 0)), t.shape);
  return luSolveIR(t, luIR(t), eye, false);
}

/**
 * Natural logarithm of the determinant of a symmetric positive definite A `[n, n]` (or of each
 * matrix of a stack `[..., n, n]`), as `2·Σ_i log L_ii` with `L = cholesky(A)`: finite for any
 * positive definite A whose Cholesky factor is representable (e.g. `1e±150·I`), where the
 * determinant itself would overflow or underflow. Only A's lower triangle is read. Domain: A
 * positive definite; otherwise NaN. Derivative: `A⁻¹` (symmetric), through cholesky's rule, so
 * only the lower triangle receives it (doubled off the diagonal, as for {@link cholesky}).
 */
export function logDet(a: Tensor): Tensor {
  const { t } = squareArg('logDet', a);
  return mul(reduceSum(log(diag(choleskyIR(t))), [t.rank - 2], false), 2);
}

/**
 * The diagonal. A vector `x [n]` gives the diagonal matrix `[n, n]` with `x` on its diagonal; a
 * matrix `[m, n]` (or a stack `[..., m, n]`) gives its main diagonal `[..., min(m, n)]`. Built
 * with an identity mask applied by safe_mul, so entries off the diagonal (even inf or NaN) never
 * leak into the result. Derivative: the cotangent placed on (or read from) the diagonal.
 */
export function diag(x: Tensor): Tensor {
  context('diag', [x]);
  const t = tensorArg('diag', x, 'x');
  if (t.rank === 0) throw shapeError('diag', `x must be a vector [n] or a matrix [..., m, n], got shape ${fmt(t.shape)}`);
  if (t.rank === 1) {
    const n = t.shape[0]!;
    const eye = matrixConstant(t.graph, t.dtype, n, n, (i, j) => (i === j ? 1 : 0));
    return binary('safe_mul', eye, reshape(t, [1, n]));
  }
  const m = t.shape[t.rank - 2]!;
  const n = t.shape[t.rank - 1]!;
  const eye = matrixConstant(t.graph, t.dtype, m, n, (i, j) => (i === j ? 1 : 0));
  return reduceSum(binary('safe_mul', eye, t), [m <= n ? t.rank - 1 : t.rank - 2], false);
}

/**
 * Trace: the sum of the main diagonal of a matrix `[m, n]`, or of each matrix of a stack
 * `[..., m, n]` (result `[...]`). Derivative: the identity pattern times the cotangent.
 */
export function trace(a: Tensor): Tensor {
  context('trace', [a]);
  const t = tensorArg('trace', a, 'A');
  if (t.rank < 2) throw shapeError('trace', `A must be a matrix [..., m, n], got shape ${fmt(t.shape)}`);
  return reduceSum(diag(t), [t.rank - 2], false);
}
