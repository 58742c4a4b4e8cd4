/**
 * What every op shares: operand checking (dtype, graph, plain numbers), the errors that name the op,
 * the shapes and the user's call site, and the recording of IR nodes. The public ops live beside
 * this file, one module per family (elementwise, reduce, shape, linalg, constant).
 */
import type { DType } from '../dtype.js';
import { WengertError } from '../errors.js';
import { NO_IATTRS, activeGraph, type Graph, type Node } from '../graph.js';
import { userCallSite } from '../callsite.js';
import type { OpName } from '../generated/ops.js';
import { MAX_RANK, broadcastShapes, fmt, sameShape, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';

/** A `WENGERT_SHAPE_MISMATCH` error naming the op and the call site. */
export function shapeError(op: string, detail: string): WengertError {
  return new WengertError('WENGERT_SHAPE_MISMATCH', `wg.${op}: ${detail} (at ${userCallSite()})`);
}

/** A `WENGERT_INVALID_ARGUMENT` error naming the op and the call site. */
export function argError(op: string, detail: string): WengertError {
  return new WengertError('WENGERT_INVALID_ARGUMENT', `wg.${op}: ${detail} (at ${userCallSite()})`);
}

/** A short description of a value's type, for messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? ((x as object).constructor?.name ?? 'an object') : typeof x;
}

/**
 * The graph and dtype shared by an op's operands (numbers adopt the tensors' dtype). Operands must
 * agree in dtype; int32 operands are refused unless `allowInt` (arithmetic is on floats: int32
 * tensors are indices).
 */
export function context(op: string, operands: readonly unknown[], allowInt = false): { graph: Graph; dtype: DType } {
  let graph: Graph | undefined;
  let dtype: DType | undefined;
  for (let i = 0; i < operands.length; i++) {
    const x = operands[i];
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
      if (x.dtype === 'int32' && !allowInt) {
        throw new WengertError(
          'WENGERT_DTYPE_MISMATCH',
          `wg.${op}: operand ${i} is int32 ${fmt(x.shape)}; arithmetic needs float64 or float32 (int32 tensors are indices; convert with wg.cast) (at ${userCallSite()})`,
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

/** A number as a scalar constant of `dtype`; a tensor as itself. */
export function lift(x: TensorLike, graph: Graph, dtype: DType): Tensor {
  return x instanceof Tensor ? x : new Tensor(graph.scalar(x, dtype), graph);
}

/** Record an IR node and return its tensor. */
export function emit(graph: Graph, op: OpName, inputs: readonly Tensor[], shape: Shape, dtype: DType, iattrs: readonly number[] = NO_IATTRS): Tensor {
  if (shape.length > MAX_RANK) {
    throw shapeError(op, `the result would have rank ${shape.length} (shape ${fmt(shape)}); the engine supports rank <= ${MAX_RANK}`);
  }
  const nodes = new Array<Node>(inputs.length);
  for (let i = 0; i < inputs.length; i++) nodes[i] = inputs[i]!.node;
  return new Tensor(graph.add(op, nodes, shape, dtype, iattrs), graph);
}

/** @internal Record an elementwise unary IR op. */
export function unary(op: OpName, x: TensorLike): Tensor {
  if (x instanceof Tensor && x.node.dtype !== 'int32') return new Tensor(x.graph.addElementwise(op, x.node, undefined, x.node.shape, x.node.dtype), x.graph);
  const { graph, dtype } = context(op, [x]);
  const t = lift(x, graph, dtype);
  return emit(graph, op, [t], t.shape, dtype);
}

/** @internal Record an elementwise binary IR op with NumPy broadcasting. */
export function binary(op: OpName, a: TensorLike, b: TensorLike): Tensor {
  // The common cases first, recording the node directly: two float tensors of one trace, or a
  // float tensor and a number (a scalar constant, so the tensor's shape is the result's). The
  // result's rank is an operand's, so it is within MAX_RANK. Anything else takes the general path
  // below, which checks and reports every operand.
  if (a instanceof Tensor) {
    const an = a.node;
    if (an.dtype !== 'int32') {
      if (b instanceof Tensor) {
        const bn = b.node;
        if (a.graph === b.graph && an.dtype === bn.dtype) {
          const shape = sameShape(an.shape, bn.shape) ? an.shape : broadcastShapes(an.shape, bn.shape);
          if (shape === undefined) throw shapeError(op, `shapes ${fmt(an.shape)} and ${fmt(bn.shape)} do not broadcast`);
          return new Tensor(a.graph.addElementwise(op, an, bn, shape, an.dtype), a.graph);
        }
      } else if (typeof b === 'number') {
        const graph = a.graph;
        return new Tensor(graph.addElementwise(op, an, graph.scalar(b, an.dtype), an.shape, an.dtype), graph);
      }
    }
  } else if (typeof a === 'number' && b instanceof Tensor) {
    const bn = b.node;
    if (bn.dtype !== 'int32') {
      const graph = b.graph;
      return new Tensor(graph.addElementwise(op, graph.scalar(a, bn.dtype), bn, bn.shape, bn.dtype), graph);
    }
  }
  const { graph, dtype } = context(op, [a, b]);
  const ta = lift(a, graph, dtype);
  const tb = lift(b, graph, dtype);
  const shape = broadcastShapes(ta.shape, tb.shape);
  if (shape === undefined) throw shapeError(op, `shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} do not broadcast`);
  return emit(graph, op, [ta, tb], shape, dtype);
}

/** An operand that must be a tensor (a number becomes a scalar constant). */
export function tensorArg(op: string, x: unknown, what: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') {
    const { graph, dtype } = context(op, [x]);
    return lift(x, graph, dtype);
  }
  throw argError(op, `${what} must be a wg.Tensor or a number, got ${describe(x)}`);
}

/** All operands as tensors of their shared dtype (numbers adopt it), checked as by {@link context}. */
export function tensors(op: string, operands: readonly TensorLike[]): Tensor[] {
  const { graph, dtype } = context(op, operands);
  return operands.map((x) => lift(x, graph, dtype));
}
