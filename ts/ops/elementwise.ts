/** Elementwise ops: NumPy broadcasting; derivative rules are the partials listed in ops.json. */
import { binary, unary } from './core.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { Tensor as TensorClass } from '../tensor.js';

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
  if (typeof b === 'number' && a instanceof TensorClass) {
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
