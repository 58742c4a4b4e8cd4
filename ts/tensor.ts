/** The symbolic tensor a traced function receives and returns. */
import type { DType } from './dtype.js';
import type { Graph, Node } from './graph.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';
import * as ops from './ops/index.js';

/** A tensor or a plain number (a number takes the dtype of the tensor it meets). */
export type TensorLike = Tensor | number;

/**
 * A symbolic value inside a traced function: it has a static shape and dtype but no data. Ops on
 * it record nodes in the graph that {@link compile} sends to the engine.
 */
export class Tensor {
  /** @internal */
  constructor(
    /** @internal */ readonly node: Node,
    /** @internal */ readonly graph: Graph,
  ) {}

  /** The static shape; `[]` for a scalar. */
  get shape(): readonly number[] {
    return this.node.shape;
  }
  /** The element type. */
  get dtype(): DType {
    return this.node.dtype;
  }
  /** Number of axes. */
  get rank(): number {
    return this.node.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.node.shape);
  }

  /** `this + other`, broadcasting. See {@link ops.add}. */
  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  /** `this - other`, broadcasting. See {@link ops.sub}. */
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  /** `this · other`, broadcasting. See {@link ops.mul}. */
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  /** `this / other`, broadcasting. See {@link ops.div}. */
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  /** `this ^ exponent`, broadcasting. See {@link ops.pow}. */
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  /** 1 where `this > other`, else 0. See {@link ops.greater}. */
  greater(other: TensorLike): Tensor {
    return ops.greater(this, other);
  }
  /** `-this`. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** `|this|`. See {@link ops.abs}. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** Sign of each element. See {@link ops.sign}. */
  sign(): Tensor {
    return ops.sign(this);
  }
  /** `e^this`. */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** Natural logarithm. See {@link ops.log}. */
  log(): Tensor {
    return ops.log(this);
  }
  /** Square root. See {@link ops.sqrt}. */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** `this²`. */
  square(): Tensor {
    return ops.square(this);
  }
  /** Sine. */
  sin(): Tensor {
    return ops.sin(this);
  }
  /** Cosine. */
  cos(): Tensor {
    return ops.cos(this);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** Logistic sigmoid. See {@link ops.sigmoid}. */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** `log(1 + e^this)`, stable. See {@link ops.softplus}. */
  softplus(): Tensor {
    return ops.softplus(this);
  }
  /** `max(this, 0)`. See {@link ops.relu}. */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** Sum over all or the given axes. See {@link ops.sum}. */
  sum(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.sum(this, axes, options);
  }
  /** Mean over all or the given axes. See {@link ops.mean}. */
  mean(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.mean(this, axes, options);
  }
  /** Matrix product. See {@link ops.matmul}. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** The same elements under a new shape. See {@link ops.reshape}. */
  reshape(shape: Shape): Tensor {
    return ops.reshape(this, shape);
  }
  /** Axes permuted. See {@link ops.transpose}. */
  transpose(perm?: readonly number[]): Tensor {
    return ops.transpose(this, perm);
  }
  /** Broadcast to a shape. See {@link ops.broadcastTo}. */
  broadcastTo(shape: Shape): Tensor {
    return ops.broadcastTo(this, shape);
  }
}
