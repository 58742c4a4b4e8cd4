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
  /** `e^this - 1`, exact near 0. See {@link ops.expm1}. */
  expm1(): Tensor {
    return ops.expm1(this);
  }
  /** `log(1 + this)`, exact near 0. See {@link ops.log1p}. */
  log1p(): Tensor {
    return ops.log1p(this);
  }
  /** Base-2 logarithm. See {@link ops.log2}. */
  log2(): Tensor {
    return ops.log2(this);
  }
  /** `1/√this`. See {@link ops.rsqrt}. */
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  /** `1/this`. See {@link ops.reciprocal}. */
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  /** Tangent. See {@link ops.tan}. */
  tan(): Tensor {
    return ops.tan(this);
  }
  /** Inverse sine. See {@link ops.asin}. */
  asin(): Tensor {
    return ops.asin(this);
  }
  /** Inverse cosine. See {@link ops.acos}. */
  acos(): Tensor {
    return ops.acos(this);
  }
  /** Inverse tangent. See {@link ops.atan}. */
  atan(): Tensor {
    return ops.atan(this);
  }
  /** Hyperbolic sine. */
  sinh(): Tensor {
    return ops.sinh(this);
  }
  /** Hyperbolic cosine. */
  cosh(): Tensor {
    return ops.cosh(this);
  }
  /** Inverse hyperbolic sine. See {@link ops.asinh}. */
  asinh(): Tensor {
    return ops.asinh(this);
  }
  /** Inverse hyperbolic cosine. See {@link ops.acosh}. */
  acosh(): Tensor {
    return ops.acosh(this);
  }
  /** Inverse hyperbolic tangent. See {@link ops.atanh}. */
  atanh(): Tensor {
    return ops.atanh(this);
  }
  /** Error function. See {@link ops.erf}. */
  erf(): Tensor {
    return ops.erf(this);
  }
  /** Complementary error function. See {@link ops.erfc}. */
  erfc(): Tensor {
    return ops.erfc(this);
  }
  /** `log|Γ(this)|`. See {@link ops.lgamma}. */
  lgamma(): Tensor {
    return ops.lgamma(this);
  }
  /** Digamma ψ. See {@link ops.digamma}. */
  digamma(): Tensor {
    return ops.digamma(this);
  }
  /** `log σ(this)`, stable. See {@link ops.logSigmoid}. */
  logSigmoid(): Tensor {
    return ops.logSigmoid(this);
  }
  /** Exact (erf) GELU. See {@link ops.gelu}. */
  gelu(): Tensor {
    return ops.gelu(this);
  }
  /** Largest integer ≤ each element. See {@link ops.floor}. */
  floor(): Tensor {
    return ops.floor(this);
  }
  /** Smallest integer ≥ each element. See {@link ops.ceil}. */
  ceil(): Tensor {
    return ops.ceil(this);
  }
  /** Nearest integer, halves to even. See {@link ops.round}. */
  round(): Tensor {
    return ops.round(this);
  }
  /** The same value with derivative zero. See {@link ops.stopGradient}. */
  stopGradient(): Tensor {
    return ops.stopGradient(this);
  }
  /** Leaky ReLU with slope `alpha` (default 0.01) below 0. See {@link ops.leakyRelu}. */
  leakyRelu(alpha?: TensorLike): Tensor {
    return ops.leakyRelu(this, alpha);
  }
  /** ELU with scale `alpha` (default 1). See {@link ops.elu}. */
  elu(alpha?: TensorLike): Tensor {
    return ops.elu(this, alpha);
  }
  /** `atan2(this, x)`: the angle of (x, this). See {@link ops.atan2}. */
  atan2(x: TensorLike): Tensor {
    return ops.atan2(this, x);
  }
  /** Elementwise minimum, broadcasting. See {@link ops.minimum}. */
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  /** Elementwise maximum, broadcasting. See {@link ops.maximum}. */
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  /** `this mod other`, sign of the divisor. See {@link ops.mod}. */
  mod(other: TensorLike): Tensor {
    return ops.mod(this, other);
  }
  /** 1 where `this ≥ other`, else 0. See {@link ops.greaterEqual}. */
  greaterEqual(other: TensorLike): Tensor {
    return ops.greaterEqual(this, other);
  }
  /** 1 where `this < other`, else 0. See {@link ops.less}. */
  less(other: TensorLike): Tensor {
    return ops.less(this, other);
  }
  /** 1 where `this ≤ other`, else 0. See {@link ops.lessEqual}. */
  lessEqual(other: TensorLike): Tensor {
    return ops.lessEqual(this, other);
  }
  /** 1 where `this == other`, else 0. See {@link ops.equal}. */
  equal(other: TensorLike): Tensor {
    return ops.equal(this, other);
  }
  /** 1 where `this != other`, else 0. See {@link ops.notEqual}. */
  notEqual(other: TensorLike): Tensor {
    return ops.notEqual(this, other);
  }
  /** Limited to [lo, hi] (either may be undefined). See {@link ops.clamp}. */
  clamp(lo?: TensorLike, hi?: TensorLike): Tensor {
    return ops.clamp(this, lo, hi);
  }
  /** Sum over all or the given axes. See {@link ops.sum}. */
  sum(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.sum(this, axes, options);
  }
  /** Mean over all or the given axes. See {@link ops.mean}. */
  mean(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.mean(this, axes, options);
  }
  /** Product over all or the given axes. See {@link ops.prod}. */
  prod(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.prod(this, axes, options);
  }
  /** Largest element over all or the given axes. See {@link ops.max}. */
  max(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.max(this, axes, options);
  }
  /** Smallest element over all or the given axes. See {@link ops.min}. */
  min(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.min(this, axes, options);
  }
  /** log Σ exp over all or the given axes, stable. See {@link ops.logSumExp}. */
  logSumExp(axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.logSumExp(this, axes, options);
  }
  /** Variance (population by default). See {@link ops.variance}. */
  variance(axes?: number | readonly number[], options?: ops.VarianceOptions): Tensor {
    return ops.variance(this, axes, options);
  }
  /** Standard deviation (population by default). See {@link ops.std}. */
  std(axes?: number | readonly number[], options?: ops.VarianceOptions): Tensor {
    return ops.std(this, axes, options);
  }
  /** Vector p-norm (p = 1, 2, Infinity). See {@link ops.norm}. */
  norm(p?: number, axes?: number | readonly number[], options?: ops.ReduceOptions): Tensor {
    return ops.norm(this, p, axes, options);
  }
  /** Softmax along an axis (default the last). See {@link ops.softmax}. */
  softmax(axis?: number): Tensor {
    return ops.softmax(this, axis);
  }
  /** Log-softmax along an axis (default the last). See {@link ops.logSoftmax}. */
  logSoftmax(axis?: number): Tensor {
    return ops.logSoftmax(this, axis);
  }
  /** int32 index of the largest element (first on ties). See {@link ops.argmax}. */
  argmax(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmax(this, axis, options);
  }
  /** int32 index of the smallest element (first on ties). See {@link ops.argmin}. */
  argmin(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmin(this, axis, options);
  }
  /** Matrix product. See {@link ops.matmul}. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** Inner product of two vectors. See {@link ops.dot}. */
  dot(other: Tensor): Tensor {
    return ops.dot(this, other);
  }
  /** Lower Cholesky factor of a symmetric positive definite matrix. See {@link ops.cholesky}. */
  cholesky(): Tensor {
    return ops.cholesky(this);
  }
  /** Matrix inverse. See {@link ops.inverse}. */
  inverse(): Tensor {
    return ops.inverse(this);
  }
  /** Sum of the main diagonal. See {@link ops.trace}. */
  trace(): Tensor {
    return ops.trace(this);
  }
  /** Diagonal matrix of a vector, or the main diagonal of a matrix. See {@link ops.diag}. */
  diag(): Tensor {
    return ops.diag(this);
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
  /** A strided window. See {@link ops.slice}. */
  slice(begin: readonly number[], size?: readonly number[], options?: ops.SliceOptions): Tensor {
    return ops.slice(this, begin, size, options);
  }
  /** A new axis of size 1. See {@link ops.expandDims}. */
  expandDims(axis: number): Tensor {
    return ops.expandDims(this, axis);
  }
  /** Axes of size 1 removed. See {@link ops.squeeze}. */
  squeeze(axes?: number | readonly number[]): Tensor {
    return ops.squeeze(this, axes);
  }
  /** Reversed along axes. See {@link ops.flip}. */
  flip(axes?: number | readonly number[]): Tensor {
    return ops.flip(this, axes);
  }
  /** Elements picked along an axis by int32 indices. See {@link ops.gather}. */
  gather(indices: Tensor | Int32Array | readonly number[] | number, axis?: number): Tensor {
    return ops.gather(this, indices, axis);
  }
  /** Converted to another dtype. See {@link ops.cast}. */
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
}
