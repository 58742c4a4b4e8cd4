/**
 * wengert: reverse-mode automatic differentiation for Node.js. Trace a function on symbolic
 * tensors with {@link compile}; the native engine returns exact values and gradients.
 *
 * @packageDocumentation
 */
export { compile, f64, f32, i32, Program } from './program.js';
export type { AsyncOptions, JacobianAsyncOptions, CompileOptions, InputValue, MemoryReport, TracedFunction, ValueAndGrad, JvpResult, VjpResult, HvpResult, DirectionValue } from './program.js';
export { Tensor } from './tensor.js';
export type { JacobianOptions, JacobianResult, HessianResult } from './program.js';
export type { JacobianMode } from './batch.js';
export { grad, customVjp, customJvp } from './transforms.js';
export type { GradOptions, JvpFunction, TensorFunction, VjpFunction } from './transforms.js';
export type { TensorLike } from './tensor.js';
export type { ArgSpec } from './graph.js';
export type { DType, FloatDType, FloatArray, DataArray } from './dtype.js';
export type { Shape } from './shape.js';
export { WengertError, WengertTypeError, WengertRangeError, AbortError } from './errors.js';
export { configure } from './config.js';
export type { ConfigureOptions, Configuration } from './config.js';
export type { ErrorCode } from './errors.js';
export type { TriangularSolveOptions } from './ops/index.js';
export type { ReduceOptions, VarianceOptions } from './ops/index.js';
export type { SliceOptions } from './ops/index.js';
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
  expm1,
  log1p,
  log2,
  rsqrt,
  reciprocal,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  erf,
  erfc,
  lgamma,
  digamma,
  polygamma,
  logSigmoid,
  leakyRelu,
  elu,
  gelu,
  floor,
  ceil,
  round,
  stopGradient,
  atan2,
  minimum,
  maximum,
  mod,
  greaterEqual,
  less,
  lessEqual,
  equal,
  notEqual,
  where,
  clamp,
  sum,
  mean,
  prod,
  max,
  min,
  logSumExp,
  variance,
  std,
  norm,
  softmax,
  logSoftmax,
  argmax,
  argmin,
  reshape,
  broadcastTo,
  transpose,
  expandDims,
  squeeze,
  slice,
  flip,
  concat,
  stack,
  split,
  gather,
  scatterAdd,
  pad,
  tile,
  oneHot,
  cast,
  zeros,
  ones,
  full,
  eye,
  linspace,
  arange,
  matmul,
  dot,
  outer,
  cholesky,
  triangularSolve,
  solve,
  inverse,
  logDet,
  trace,
  diag,
  constant,
  mse,
  huber,
  binaryCrossEntropyWithLogits,
  softmaxCrossEntropy,
  logNormalPdf,
} from './ops/index.js';
