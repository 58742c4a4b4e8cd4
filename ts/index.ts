/**
 * wengert: reverse-mode automatic differentiation for Node.js. Trace a function on symbolic
 * tensors with {@link compile}; the native engine returns exact values and gradients.
 *
 * @packageDocumentation
 */
export { compile, f64, f32, i32, Program } from './program.js';
export type { CompileOptions, InputValue, MemoryReport, TracedFunction, ValueAndGrad } from './program.js';
export { Tensor } from './tensor.js';
export type { TensorLike } from './tensor.js';
export type { ArgSpec } from './graph.js';
export type { DType, FloatDType, FloatArray, DataArray } from './dtype.js';
export type { Shape } from './shape.js';
export { WengertError, WengertTypeError, WengertRangeError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ReduceOptions } from './ops/index.js';
export {
  add,
  sub,
  mul,
  div,
  pow,
  greater,
  neg,
  abs,
  sign,
  exp,
  log,
  sqrt,
  square,
  sin,
  cos,
  tanh,
  sigmoid,
  softplus,
  relu,
  sum,
  mean,
  reshape,
  broadcastTo,
  transpose,
  matmul,
  constant,
} from './ops/index.js';
