/**
 * The public ops. Each checks its arguments' shapes and dtypes while tracing (errors name the op,
 * the shapes and the user's call site) and records IR nodes (native/ops/ops.json). Composite ops
 * (`mean`, vector `matmul`) are written here from primitives and need no derivative rule of their own.
 */
import type { DType, FloatArray } from './dtype.js';
import { dtypeOf } from './dtype.js';
import { WengertError } from './errors.js';
import { activeGraph, type Graph } from './graph.js';
import { userCallSite } from './callsite.js';
import type { OpName } from './generated/ops.js';
import { MAX_RANK, broadcastShapes, broadcastsTo, fmt, isShape, sameShape, sizeOf, unbroadcastAxes, type Shape } from './shape.js';
import { Tensor, type TensorLike } from './tensor.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep each reduced axis with size 1 (default false). */
  readonly keepDims?: boolean;
}

function shapeError(op: string, detail: string): WengertError {
  return new WengertError('WENGERT_SHAPE_MISMATCH', `wg.${op}: ${detail} (at ${userCallSite()})`);
}

function argError(op: string, detail: string): WengertError {
  return new WengertError('WENGERT_INVALID_ARGUMENT', `wg.${op}: ${detail} (at ${userCallSite()})`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? ((x as object).constructor?.name ?? 'an object') : typeof x;
}

/** The graph and dtype shared by an op's operands (numbers adopt the tensors' dtype). */
function context(op: string, operands: readonly unknown[]): { graph: Graph; dtype: DType } {
  let graph: Graph | undefined;
  let dtype: DType | undefined;
  for (const [i, x] of operands.entries()) {
    if (x instanceof Tensor) {
      if (graph !== undefined && x.graph !== graph) {
        throw new WengertError('WENGERT_TRACE', `wg.${op}: operands come from different traced functions (at ${userCallSite()})`);
      }
      if (dtype !== undefined && x.dtype !== dtype) {
        throw new WengertError(
          'WENGERT_DTYPE_MISMATCH',
          `wg.${op}: operand dtypes ${dtype} and ${x.dtype} differ; convert one explicitly (at ${userCallSite()})`,
        );
      }
      graph = x.graph;
      dtype = x.dtype;
    } else if (typeof x !== 'number') {
      throw new WengertError(
        'WENGERT_INVALID_ARGUMENT',
        `wg.${op}: operand ${i} must be a wg.Tensor or a number, got ${describe(x)} (at ${userCallSite()})`,
      );
    }
  }
  return { graph: graph ?? activeGraph(op), dtype: dtype ?? 'float64' };
}

function lift(x: TensorLike, graph: Graph, dtype: DType): Tensor {
  return x instanceof Tensor ? x : new Tensor(graph.scalar(x, dtype), graph);
}

function emit(graph: Graph, op: OpName, inputs: readonly Tensor[], shape: Shape, dtype: DType, iattrs: readonly number[] = []): Tensor {
  if (shape.length > MAX_RANK) {
    throw shapeError(op, `the result would have rank ${shape.length} (shape ${fmt(shape)}); the engine supports rank <= ${MAX_RANK}`);
  }
  return new Tensor(
    graph.add(
      op,
      inputs.map((t) => t.node),
      shape,
      dtype,
      iattrs,
    ),
    graph,
  );
}

/** @internal Record an elementwise unary IR op. */
export function unary(op: OpName, x: TensorLike): Tensor {
  const { graph, dtype } = context(op, [x]);
  const t = lift(x, graph, dtype);
  return emit(graph, op, [t], t.shape, dtype);
}

/** @internal Record an elementwise binary IR op with NumPy broadcasting. */
export function binary(op: OpName, a: TensorLike, b: TensorLike): Tensor {
  const { graph, dtype } = context(op, [a, b]);
  const ta = lift(a, graph, dtype);
  const tb = lift(b, graph, dtype);
  const shape = broadcastShapes(ta.shape, tb.shape);
  if (shape === undefined) throw shapeError(op, `shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} do not broadcast`);
  return emit(graph, op, [ta, tb], shape, dtype);
}

function normalizeAxes(op: string, rank: number, axes: number | readonly number[] | undefined, shape: Shape): number[] {
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

function reduceSum(x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  if (axes.length === 0) return x;
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return emit(x.graph, 'reduce_sum', [x], shape, x.dtype, [keepDims ? 1 : 0, ...axes]);
}

function tensorArg(op: string, x: unknown, what: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') {
    const { graph, dtype } = context(op, [x]);
    return lift(x, graph, dtype);
  }
  throw argError(op, `${what} must be a wg.Tensor or a number, got ${describe(x)}`);
}

// ---------------------------------------------------------------------------------------------
// Elementwise binary ops

/** `a + b`, elementwise with NumPy broadcasting. Derivative: 1 in each operand. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', a, b);
}
/** `a - b`, elementwise with NumPy broadcasting. Derivatives: 1 and -1. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', a, b);
}
/** `a · b`, elementwise with NumPy broadcasting. Derivatives: b and a. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', a, b);
}
/** `a / b`, elementwise with NumPy broadcasting. Derivatives: 1/b and -a/b². */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', a, b);
}
/**
 * `a ^ b`, elementwise with NumPy broadcasting; `b` may be a number or a tensor. Derivatives:
 * b·a^(b-1) in `a`; a^b·log(a) in `b`, which is finite only for a > 0 (use a number exponent when
 * `a` may be negative or zero).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) {
    if (b === 1) return a;
    if (b === 2) return square(a);
  }
  return binary('pow', a, b);
}
/** 1 where `a > b`, else 0, in the operands' dtype (a mask). No derivative (zero). */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return binary('greater', a, b);
}

// ---------------------------------------------------------------------------------------------
// Elementwise unary ops

/** `-x`. */
export function neg(x: TensorLike): Tensor {
  return unary('neg', x);
}
/** `|x|`. Derivative sign(x); by convention abs'(0) = 0. */
export function abs(x: TensorLike): Tensor {
  return unary('abs', x);
}
/** -1, 0 or 1 by the sign of x. No derivative (zero). */
export function sign(x: TensorLike): Tensor {
  return unary('sign', x);
}
/** `e^x`. Derivative e^x. */
export function exp(x: TensorLike): Tensor {
  return unary('exp', x);
}
/** Natural logarithm; domain x > 0. Derivative 1/x. */
export function log(x: TensorLike): Tensor {
  return unary('log', x);
}
/** Square root; domain x ≥ 0. Derivative 1/(2√x), infinite at 0. */
export function sqrt(x: TensorLike): Tensor {
  return unary('sqrt', x);
}
/** `x²`. Derivative 2x. */
export function square(x: TensorLike): Tensor {
  return unary('square', x);
}
/** Sine (radians). Derivative cos(x). */
export function sin(x: TensorLike): Tensor {
  return unary('sin', x);
}
/** Cosine (radians). Derivative -sin(x). */
export function cos(x: TensorLike): Tensor {
  return unary('cos', x);
}
/** Hyperbolic tangent. Derivative 1 - tanh(x)². */
export function tanh(x: TensorLike): Tensor {
  return unary('tanh', x);
}
/** Logistic sigmoid 1/(1 + e^-x), computed without overflow for any x. Derivative σ(x)(1 - σ(x)). */
export function sigmoid(x: TensorLike): Tensor {
  return unary('sigmoid', x);
}
/**
 * `log(1 + e^x)`, computed as max(x, 0) + log1p(e^-|x|): no overflow for large x, full precision
 * for very negative x. Derivative σ(x).
 */
export function softplus(x: TensorLike): Tensor {
  return unary('softplus', x);
}
/** `max(x, 0)`. Derivative 1 for x > 0 and 0 for x ≤ 0 (relu'(0) = 0 by convention). */
export function relu(x: TensorLike): Tensor {
  return unary('relu', x);
}

// ---------------------------------------------------------------------------------------------
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
// Constants

/**
 * A constant tensor inside a traced function. `data` is copied (later changes to the array do not
 * change the program); its dtype is the array's (a plain number array or a number gives float64).
 * `shape` defaults to `[data.length]` (`[]` for a number).
 */
export function constant(data: FloatArray | readonly number[] | number, shape?: Shape): Tensor {
  const graph = activeGraph('constant');
  if (typeof data === 'number') {
    if (shape !== undefined && shape.length !== 0) return broadcastTo(new Tensor(graph.scalar(data, 'float64'), graph), shape);
    return new Tensor(graph.scalar(data, 'float64'), graph);
  }
  const dtype: DType | undefined = Array.isArray(data) ? 'float64' : dtypeOf(data);
  if (dtype === undefined) {
    throw new WengertError(
      'WENGERT_INVALID_ARGUMENT',
      `wg.constant: data must be a Float64Array, a Float32Array, an array of numbers or a number, got ${describe(data)} (at ${userCallSite()})`,
    );
  }
  const values = dtype === 'float64' ? Float64Array.from(data as ArrayLike<number>) : Float32Array.from(data as ArrayLike<number>);
  const s = shape ?? [values.length];
  if (!isShape(s)) throw argError('constant', `shape must be an array of non-negative integers, got ${String(s)}`);
  if (sizeOf(s) !== values.length) {
    throw shapeError('constant', `data has ${values.length} elements but shape ${fmt(s)} needs ${sizeOf(s)}`);
  }
  return new Tensor(graph.add('constant', [], s, dtype, [], values), graph);
}

/** @internal Sum `g` down to `shape`, undoing NumPy broadcasting (used by every derivative rule). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  return reshape(reduceSum(g, unbroadcastAxes(shape, g.shape), false), shape);
}

/** @internal The raw IR reduction, for derivative rules. */
export { reduceSum };
