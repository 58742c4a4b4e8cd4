/** Elementwise ops: NumPy broadcasting; derivative rules are the partials listed in ops.json. */
import { argError, binary, context, describe, emit, lift, shapeError, unary } from './core.js';
import { broadcastShapes, fmt, type Shape } from '../shape.js';
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
 * b·a^(b-1) in `a` (0 where b = 0, even at a = 0); a^b·log(a) in `b`, taken as 0 where a^b = 0
 * (so at a = 0 with b > 0 it is 0, not 0·(-inf) = NaN), and NaN for a < 0 (use a number exponent
 * when `a` may be negative).
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

/** `e^x - 1`, exact for small |x| (no cancellation near 0). Derivative e^x. */
export function expm1(x: TensorLike): Tensor {
  return unary('expm1', x);
}
/** `log(1 + x)`, exact for small |x|; domain x > -1 (-inf at -1). Derivative 1/(1 + x). */
export function log1p(x: TensorLike): Tensor {
  return unary('log1p', x);
}
/** Base-2 logarithm; domain x > 0. Derivative 1/(x·ln 2). */
export function log2(x: TensorLike): Tensor {
  return unary('log2', x);
}
/**
 * `1/√x`; domain x > 0 (+inf at 0). Derivative -x^(-3/2)/2, infinite at 0; a zero cotangent
 * there gives a zero gradient, not NaN.
 */
export function rsqrt(x: TensorLike): Tensor {
  return unary('rsqrt', x);
}
/** `1/x` (±inf at ±0). Derivative -1/x²; a zero cotangent at 0 gives a zero gradient, not NaN. */
export function reciprocal(x: TensorLike): Tensor {
  return unary('reciprocal', x);
}
/** Tangent (radians). Derivative 1 + tan²(x). */
export function tan(x: TensorLike): Tensor {
  return unary('tan', x);
}
/** Inverse sine; domain [-1, 1] (NaN outside). Derivative 1/√(1 - x²), infinite at ±1. */
export function asin(x: TensorLike): Tensor {
  return unary('asin', x);
}
/** Inverse cosine; domain [-1, 1] (NaN outside). Derivative -1/√(1 - x²), infinite at ±1. */
export function acos(x: TensorLike): Tensor {
  return unary('acos', x);
}
/** Inverse tangent, in (-π/2, π/2). Derivative 1/(1 + x²). */
export function atan(x: TensorLike): Tensor {
  return unary('atan', x);
}
/** Hyperbolic sine. Derivative cosh(x). */
export function sinh(x: TensorLike): Tensor {
  return unary('sinh', x);
}
/** Hyperbolic cosine. Derivative sinh(x). */
export function cosh(x: TensorLike): Tensor {
  return unary('cosh', x);
}
/** Inverse hyperbolic sine. Derivative 1/√(1 + x²) (computed as 1/cosh(asinh x): no overflow). */
export function asinh(x: TensorLike): Tensor {
  return unary('asinh', x);
}
/**
 * Inverse hyperbolic cosine; domain x ≥ 1 (NaN below). Derivative 1/√(x² - 1) (computed as
 * 1/sinh(acosh x): no overflow for large x), infinite at x = 1.
 */
export function acosh(x: TensorLike): Tensor {
  return unary('acosh', x);
}
/**
 * Inverse hyperbolic tangent; domain [-1, 1]: ±inf at ±1, NaN outside. Derivative
 * 1/((1 - x)(1 + x)), infinite at ±1.
 */
export function atanh(x: TensorLike): Tensor {
  return unary('atanh', x);
}
/** Error function erf(x) = 2/√π ∫₀ˣ e^(-t²) dt. Derivative 2/√π·e^(-x²). */
export function erf(x: TensorLike): Tensor {
  return unary('erf', x);
}
/**
 * Complementary error function 1 - erf(x), with full relative precision for large x (erfc(10) ≈
 * 2.1e-45 in float64, where 1 - erf(10) is 0). Derivative -2/√π·e^(-x²).
 */
export function erfc(x: TensorLike): Tensor {
  return unary('erfc', x);
}
/**
 * `log|Γ(x)|`, defined for every x except the poles 0, -1, -2, … (+inf there). Derivative
 * digamma(x); its derivatives of every order exist (trigamma, then {@link polygamma}).
 */
export function lgamma(x: TensorLike): Tensor {
  return unary('lgamma', x);
}
/**
 * The digamma function ψ(x) = Γ'(x)/Γ(x) = d/dx log|Γ(x)|; ψ(+0) = -inf, ψ(-0) = +inf, NaN at the
 * negative integers. Relative error ≲ 1e-14 in float64 (absolute ~1e-16 near its zeros).
 * Derivative trigamma(x) = polygamma(1, x) (the IR op `trigamma`, whose derivative is
 * polygamma(2, x)), so derivatives of every order exist.
 */
export function digamma(x: TensorLike): Tensor {
  return unary('digamma', x);
}
/**
 * The polygamma function ψ⁽ⁿ⁾(x) = dⁿ/dxⁿ digamma(x) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x), broadcasting n against x.
 * `n` is a number or float tensor holding a non-negative integer order, at most 100; any other n
 * (negative, non-integer, NaN, above 100) gives NaN. polygamma(0, x) is digamma(x) and
 * polygamma(1, x) is trigamma(x); for n ≥ 1 and x > 0, ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹·n!·Σₖ 1/(x + k)ⁿ⁺¹.
 * Domain: every real x except the poles 0, -1, -2, …, where the result is +inf for odd n and, for
 * even n, -inf at +0, +inf at -0 and NaN at the negative integers (the sign depends on the side).
 * Negative x use the reflection formula. Accuracy in float64: relative error ≲ 1e-14 for x > 0; for
 * x < 0 the same relative to the size of the reflection terms, so fewer correct digits near the zeros
 * of ψ⁽ⁿ⁾ between poles (even n); float32 is computed in float64 and rounded once.
 * Derivative in x: polygamma(n + 1, x) (so every order is differentiable; the derivative of order 100
 * is NaN). No derivative in n (zero): the order is an integer.
 */
export function polygamma(n: TensorLike, x: TensorLike): Tensor {
  return binary('polygamma', n, x);
}
/**
 * `log σ(x) = -softplus(-x) = -log(1 + e^-x)`, stable: exact for very negative x (≈ x), no
 * overflow for large |x| (≈ -e^-x for large x). Derivative σ(-x) = 1 - σ(x).
 */
export function logSigmoid(x: TensorLike): Tensor {
  return neg(softplus(neg(x)));
}
/**
 * Leaky ReLU: x for x > 0, alpha·x for x ≤ 0 (alpha a number or tensor, default 0.01). Derivative
 * 1 for x > 0 and alpha for x ≤ 0, so leakyRelu'(0) = alpha (relu'(0) = 0 when alpha = 0); the
 * derivative in alpha is min(x, 0).
 */
export function leakyRelu(x: TensorLike, alpha: TensorLike = 0.01): Tensor {
  context('leakyRelu', [x, alpha]);
  return where(greater(x, 0), x, mul(x, alpha));
}
/**
 * ELU: x for x > 0, alpha·(e^x - 1) for x ≤ 0 (alpha a number or tensor, default 1; e^x - 1 by
 * expm1). Derivative 1 for x > 0 and alpha·e^x for x ≤ 0, so elu'(0) = alpha (continuous when
 * alpha = 1); finite for every finite x.
 */
export function elu(x: TensorLike, alpha: TensorLike = 1): Tensor {
  context('elu', [x, alpha]);
  return where(greater(x, 0), x, mul(alpha, expm1(x)));
}
/**
 * Exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (the erf form, not the tanh approximation),
 * evaluated as 0.5·x·erfc(-x/√2) for full precision at negative x. Derivative Φ(x) + x·φ(x).
 */
export function gelu(x: TensorLike): Tensor {
  return unary('gelu', x);
}
/** Largest integer ≤ x. No derivative (zero). */
export function floor(x: TensorLike): Tensor {
  return unary('floor', x);
}
/** Smallest integer ≥ x. No derivative (zero). */
export function ceil(x: TensorLike): Tensor {
  return unary('ceil', x);
}
/**
 * Nearest integer, halves rounded to even like NumPy's `round` (0.5 → 0, 1.5 → 2, -2.5 → -2), not
 * away from zero like `Math.round`. No derivative (zero).
 */
export function round(x: TensorLike): Tensor {
  return unary('round', x);
}
/**
 * `x` itself, treated as a constant by every derivative: the value passes through unchanged and
 * the derivative is zero, in reverse mode, forward mode and nested `wg.grad`. Use it to hold a
 * quantity fixed while differentiating (a target computed from the parameters, a baseline):
 * d/dx [x · stopGradient(x)] = x, not 2x.
 */
export function stopGradient(x: TensorLike): Tensor {
  return unary('stop_gradient', x);
}

// ---------------------------------------------------------------------------------------------
// Binary elementwise functions beyond arithmetic, and comparisons.

/**
 * `atan2(y, x)`: the angle of the point (x, y) in (-π, π], NumPy's argument order (ordinate
 * first); broadcasting. Derivatives x/(x² + y²) in y and -y/(x² + y²) in x (NaN at the origin,
 * where the angle is not differentiable).
 */
export function atan2(y: TensorLike, x: TensorLike): Tensor {
  return binary('atan2', y, x);
}
/**
 * The smaller of a and b elementwise, NaN if either is NaN; broadcasting. Derivative 1 to the
 * smaller operand and 0 to the other; at ties the cotangent is split evenly, 0.5 to each.
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', a, b);
}
/**
 * The larger of a and b elementwise, NaN if either is NaN; broadcasting. Derivative 1 to the
 * larger operand and 0 to the other; at ties the cotangent is split evenly, 0.5 to each.
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', a, b);
}
/**
 * `x mod y = x - y·floor(x/y)`: the remainder with the sign of the divisor, like NumPy's `mod`
 * (`Math`'s `%` takes the dividend's sign instead); exact; NaN where y = 0. Derivatives 1 in x and
 * -floor(x/y) in y (the jumps where x/y is an integer are not differentiable).
 */
export function mod(x: TensorLike, y: TensorLike): Tensor {
  return binary('mod', x, y);
}
/** 1 where `a ≥ b`, else 0, in the operands' dtype (a mask). No derivative (zero). */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return binary('greater_equal', a, b);
}
/** 1 where `a < b`, else 0, in the operands' dtype (a mask). No derivative (zero). */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return binary('less', a, b);
}
/** 1 where `a ≤ b`, else 0, in the operands' dtype (a mask). No derivative (zero). */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return binary('less_equal', a, b);
}
/** 1 where `a == b`, else 0, in the operands' dtype (a mask; NaN equals nothing). No derivative. */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return binary('equal', a, b);
}
/** 1 where `a != b`, else 0, in the operands' dtype (a mask; NaN differs from all). No derivative. */
export function notEqual(a: TensorLike, b: TensorLike): Tensor {
  return binary('not_equal', a, b);
}

/** The NumPy broadcast of the operands' shapes, or a shape error naming `op` and every shape. */
function broadcastAll(op: string, names: readonly string[], operands: readonly TensorLike[]): Shape {
  const shapes = operands.map((t) => (t instanceof TensorClass ? t.shape : []));
  let shape: Shape | undefined = [];
  for (const s of shapes) shape = shape === undefined ? undefined : broadcastShapes(shape, s);
  if (shape === undefined) {
    const list = shapes.map((s, i) => `${names[i]} ${fmt(s)}`).join(', ');
    throw shapeError(op, `shapes ${list} do not broadcast together`);
  }
  return shape;
}

/**
 * `a` where `cond` is nonzero, else `b`: NumPy's `where` with the three operands broadcast
 * together. `cond` is a float mask in the operands' dtype (the comparisons make one); any nonzero
 * value, NaN included, selects `a`. Derivatives: the cotangent where cond is nonzero flows to `a`,
 * elsewhere to `b`; none to `cond`. The unselected branch may be inf or NaN without harm.
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const { graph, dtype } = context('where', [cond, a, b]);
  const ts = [cond, a, b].map((v) => lift(v, graph, dtype));
  const shape = broadcastAll('where', ['cond', 'a', 'b'], ts);
  return emit(graph, 'where', ts, shape, dtype);
}

/**
 * `x` limited to [lo, hi], elementwise with broadcasting; `lo` and `hi` are numbers or tensors, and
 * either may be undefined (no bound on that side). Computed as NumPy's `clip`, min(max(x, lo), hi),
 * so where lo > hi the result is hi; NaN in x stays NaN. Derivatives: 1 in x for lo ≤ x ≤ hi and
 * 0 outside — at a bound the derivative goes to x, not to the bound (a value sitting on a bound
 * still moves with x); 1 in lo where x < lo ≤ hi; 1 in hi where max(x, lo) > hi.
 */
export function clamp(x: TensorLike, lo?: TensorLike, hi?: TensorLike): Tensor {
  const operands = [x, lo, hi].filter((v): v is TensorLike => v !== undefined);
  for (const v of [lo, hi]) {
    if (v !== undefined && typeof v !== 'number' && !(v instanceof TensorClass)) {
      throw argError('clamp', `bounds must be numbers, wg.Tensors or undefined, got ${describe(v)}`);
    }
  }
  context('clamp', operands);
  if (lo === undefined && hi === undefined) throw argError('clamp', 'needs a lower bound, an upper bound or both');
  broadcastAll(
    'clamp',
    [x, lo, hi].flatMap((v, i) => (v === undefined ? [] : [['x', 'lo', 'hi'][i]!])),
    operands,
  );
  let out: TensorLike = x;
  if (lo !== undefined) out = where(less(out, lo), lo, out);
  if (hi !== undefined) out = where(greater(out, hi), hi, out);
  return out as Tensor;
}
