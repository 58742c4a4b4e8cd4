// Plain-JavaScript references for the special functions JavaScript's Math lacks (erf, erfc,
// lgamma, digamma, polygamma), written independently of the engine's (native/src/elementwise_math.h and the
// C library): different series, thresholds and recurrences. Each states its float64 accuracy on
// the ranges the tests use.

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erf(x) = 2/√π·e^(-x²)·Σ_{n≥0} 2ⁿx^(2n+1)/(1·3·…·(2n+1)) for |x| < 3: every term has the sign of x,
 * so nothing cancels; relative error a few ulp (≲ 1e-15). For |x| ≥ 3 it is ±(1 - erfc(|x|)).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) >= 3) return Math.sign(x) * (1 - erfc(Math.abs(x)));
  let term = x;
  let sum = x;
  for (let n = 1; n < 300; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/**
 * erfc(x): 1 - erf(x) below 2 (erfc(2) ≈ 4.7e-3, so the relative error is ≲ 5e-14); from 2 on the
 * continued fraction e^(-x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated backward from
 * depth 400 (converged to ≲ 1e-16 relative for x ≥ 2).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 2) return 1 - erf(x);
  let f = x;
  for (let k = 400; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / SQRT_PI / f;
}

/**
 * log|Γ(x)|: reflection log(π/|sin πx|) - lgamma(1 - x) below 0.5; the recurrence
 * lgamma(x) = lgamma(x + 1) - log(x) up to x ≥ 15; Stirling's series to the x^-9 term (truncation
 * < 1e-17 at 15). Absolute error ≲ 1e-14 (the recurrence subtracts sums of about 30).
 */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const r = 1 / x;
  const r2 = r * r;
  const series = r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188)))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/**
 * ψ(x): reflection ψ(1 - x) - π/tan(πx) below 0.5; the recurrence ψ(x) = ψ(x + 1) - 1/x up to
 * x ≥ 20; the asymptotic series to the x^-10 term (truncation < 1e-17 at 20). Absolute error
 * ≲ 1e-15 on the test ranges.
 */
export function digamma(x: number): number {
  if (x < 0.5) return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  let acc = 0;
  while (x < 20) {
    acc -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return acc + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** B₂ₖ/(2k)! for k = 1 … 8, from the Bernoulli numbers 1/6, -1/30, 1/42, -1/30, 5/66, -691/2730, 7/6, -3617/510. */
const BERNOULLI_OVER_FACTORIAL = [
  1 / 6 / 2,
  -1 / 30 / 24,
  1 / 42 / 720,
  -1 / 30 / 40320,
  5 / 66 / 3628800,
  -691 / 2730 / 479001600,
  7 / 6 / 87178291200,
  -3617 / 510 / 20922789888000,
];

/**
 * The Hurwitz zeta function ζ(s, x) = Σ_{k≥0} (x + k)^-s for an integer s ≥ 2 and any x that is
 * not 0, -1, -2, …: the first N = 30 + max(0, ⌈-x⌉) terms summed directly (signed terms for
 * negative x), then the Euler–Maclaurin tail at a = x + N ≥ 30: a^(1-s)/(s - 1) + a^-s/2 +
 * Σ_{k=1..8} B₂ₖ/(2k)!·s(s+1)…(s+2k-2)·a^(-s-2k+1). For s ≤ 10 the first omitted term is below
 * 1e-20 of the tail; the error is the rounding of the N terms, ≲ 30·2^-53 ≈ 4e-15 relative to
 * Σ|terms| (relative to the result for x > 0 or even s, where no term is negative).
 */
export function hurwitzZeta(s: number, x: number): number {
  const n = 30 + Math.max(0, Math.ceil(-x));
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.pow(x + k, -s);
  const a = x + n;
  let tail = Math.pow(a, 1 - s) / (s - 1) + Math.pow(a, -s) / 2;
  let rising = s; // s(s+1)…(s+2k-2)
  for (let k = 1; k <= BERNOULLI_OVER_FACTORIAL.length; k++) {
    tail += BERNOULLI_OVER_FACTORIAL[k - 1]! * rising * Math.pow(a, -s - 2 * k + 1);
    rising *= (s + 2 * k - 1) * (s + 2 * k);
  }
  return sum + tail;
}

/**
 * ψ⁽ⁿ⁾(x): digamma above for n = 0, else (-1)^(n+1)·n!·ζ(n + 1, x) (hurwitzZeta). Relative error
 * ≲ 5e-15 for x > 0 and n ≤ 9; for negative x and even n the terms of ζ cancel, and the error is
 * ≲ 5e-15·Σ|terms|.
 */
export function polygamma(n: number, x: number): number {
  if (n === 0) return digamma(x);
  let factorial = 1;
  for (let k = 2; k <= n; k++) factorial *= k;
  return (n % 2 === 1 ? 1 : -1) * factorial * hurwitzZeta(n + 1, x);
}

/**
 * The exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)), from the functions above; for x < 0 as
 * 0.5·x·erfc(-x/√2), since 1 + erf(x/√2) cancels there.
 */
export const gelu = (x: number): number => (x < 0 ? 0.5 * x * erfc(-x / Math.SQRT2) : 0.5 * x * (1 + erf(x / Math.SQRT2)));

/** NumPy's round: halves to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** NumPy's mod: x - y·floor(x/y), the sign of the divisor. */
export function mod(x: number, y: number): number {
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
}
