// Scalar special functions that elementwise ops in ops.json call from their `cpp` expressions
// (native/src/generated/ops.h includes this file). Each computes in double; a float op rounds the
// double result once, so float results are correctly rounded or within one ulp.
//
//   lgamma    log|Γ(x)| through the re-entrant lgamma_r (std::lgamma may write the global
//             `signgam`, a data race when programs run on several threads). Error: the C
//             library's, a few ulp away from its zeros at 1 and 2. Poles (x = 0, -1, -2, …): +inf.
//   digamma   ψ(x) = Γ'(x)/Γ(x): reflection ψ(x) = ψ(1 - x) - π·cot(πx) for x < 0, the recurrence
//             ψ(x) = ψ(x + 1) - 1/x up to x ≥ 10, then the asymptotic series to the x^-14 term
//             (truncation below 1e-17 relative at x = 10). Relative error ≲ 1e-14 except within
//             ~1e-3 of its zero at 1.4616… and of each negative root, where the error is ~1e-16
//             absolute. ψ(±0) = ∓inf; ψ at negative integers is NaN (poles of both signs).
//   trigamma  ψ₁(x) = ψ'(x): reflection ψ₁(x) = π²/sin²(πx) - ψ₁(1 - x) for x < 0, the recurrence
//             ψ₁(x) = ψ₁(x + 1) + 1/x² up to x ≥ 10, then the asymptotic series to the x^-15 term
//             (truncation below 1e-15 relative at x = 10). Poles (x = 0, -1, …): +inf.
//   polygamma ψ⁽ⁿ⁾(x), the n-th derivative of digamma, for integer orders 0 ≤ n ≤ 100 (n = 0, 1 are
//             digamma and trigamma). For n ≥ 2 and x > 0 it is (-1)^(n+1)·n!·ζ(n+1, x) with ζ the
//             Hurwitz zeta function: the recurrence ζ(s, x) = x^-s + ζ(s, x + 1) up to
//             x + m ≥ n + 10, then the Euler–Maclaurin (asymptotic) series at a = x + m to the
//             B₂₄ term (truncation below 2e-20 relative for every n ≤ 100). The sum is kept scaled
//             by x^-s (terms (x/(x + j))^s = e^(-s·log1p(j/x)), so a large s does not amplify the
//             rounding of x + j) and the factors n!, the sum and x^-s are multiplied by their
//             mantissas and exponents separately, so no intermediate overflows or underflows:
//             the result is ±inf or ±0 only when ψ⁽ⁿ⁾(x) itself is out of double's range.
//             n! is rounded once (a double-double product). For x < 0 (not an integer) the
//             reflection ψ⁽ⁿ⁾(x) = (-1)^n·ψ⁽ⁿ⁾(1 - x) - πⁿ⁺¹·Pₙ(cot πx), with dⁿ/dxⁿ cot(πx) =
//             πⁿ⁺¹·Pₙ(cot πx), P₀(c) = c, Pₖ₊₁(c) = -(1 + c²)·Pₖ'(c): the coefficients are built
//             in a fixed array (O(n²) work per element) and all have the sign (-1)^n, so Pₙ
//             is evaluated without cancellation; cot is taken of π·(x - nearest integer) (exact), or
//             as tan(π(1/2 - |x - k|)) near its zeros.
//             Error (native/test/test_elementwise.cpp asserts it at 40-digit reference values):
//             x > 0, relative ≤ 1e-14 for every n ≤ 100 (measured ≤ 9e-16 on 5000 random points
//             over x in [e^-6, e^7] and up to 1e300). x < 0: relative ≤ 5e-16·(n + 1) (measured
//             ≤ 2.3e-14 at n = 100, ≤ 3e-15 for n ≤ 10): the order n + 1 amplifies the rounding
//             of cot πx near a pole, as it amplifies that of x itself; where ψ⁽ⁿ⁾ has a zero (even
//             n, between two poles) the two reflection terms cancel and the bound holds relative
//             to |ψ⁽ⁿ⁾(1 - x)| + |πⁿ⁺¹·Pₙ(cot πx)| instead. Special values: a non-integer,
//             negative or NaN order, or n > 100, gives NaN. At the poles x = 0, -1, -2, …: +inf
//             for odd n; for even n the sign depends on the side, so -inf at +0, +inf at -0 and
//             NaN at the negative integers (as digamma). ψ⁽ⁿ⁾(+inf) = ±0 with the sign (-1)^(n+1);
//             ψ⁽ⁿ⁾(-inf) is NaN.
//   mod       x - y·floor(x/y) with the sign of the divisor, computed as NumPy does (fmod, then
//             one correction), so the result is exact: fmod is exact and the correction adds y to
//             a remainder of the opposite sign. mod(x, 0) is NaN; a zero result has y's sign.
#pragma once

#include <math.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace wengert {
namespace emath {

// x · y, or +0 where x is ±0 (even when y is infinite or NaN). The product is computed for every
// element and masked with integer operations, so loops of it vectorize: the compiler may not
// evaluate a floating-point product that a conditional expression skips.
template <class T>
inline T safe_mul(T x, T y) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  const U keep = U(0) - U(x != T(0));  // all ones, or zero where x is ±0
  return std::bit_cast<T>(static_cast<U>(std::bit_cast<U>(x * y) & keep));
}

inline constexpr double kPi = 3.141592653589793238462643383279502884;

inline double lgamma(double x) {
#if defined(_WIN32)
  return std::lgamma(x);
#else
  int sign = 0;
  return ::lgamma_r(x, &sign);
#endif
}

inline double digamma(double x) {
  if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) return x;
  if (x == 0) return std::signbit(x) ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  if (x < 0 && x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();  // also -inf
  double acc = 0;
  if (x < 0) {
    // x - floor(x) is exact and in (0, 1): cot(πx) = cot(π·frac(x)) without the rounding of πx.
    const double f = x - std::floor(x);
    acc = -kPi * std::cos(kPi * f) / std::sin(kPi * f);
    x = 1 - x;
  }
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  const double series =
      f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))));
  return acc + std::log(x) - 0.5 / x + series;
}

inline double trigamma(double x) {
  if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) return x == x ? 0.0 : x;
  if (x <= 0 && x == std::floor(x)) return std::numeric_limits<double>::infinity();  // poles (and -inf)
  if (x < 0) {
    const double s = std::sin(kPi * (x - std::floor(x)));
    return kPi * kPi / (s * s) - trigamma(1 - x);
  }
  double acc = 0;
  while (x < 10) {
    acc += 1 / (x * x);
    x += 1;
  }
  const double r = 1 / x;
  const double f = r * r;
  const double series =
      r + f * (0.5 + r * (1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30 + f * (5.0 / 66 + f * (-691.0 / 2730 + f * (7.0 / 6))))))));
  return acc + series;
}

/// The largest order polygamma computes; a larger order gives NaN.
inline constexpr int kPolygammaMaxOrder = 100;

namespace detail {

/// n! rounded once: the running product is kept as an unevaluated sum hi + lo, each step's
/// product hi·k split exactly (k < 2^7, so the 26-bit halves of hi times k are exact).
inline double factorial(int n) {
  double hi = 1, lo = 0;
  for (int k = 2; k <= n; ++k) {
    const double c = 134217729.0 * hi;  // 2^27 + 1: Veltkamp split of hi into hh + hl
    const double hh = c - (c - hi);
    const double hl = hi - hh;
    const double a = hh * k, b = hl * k;  // both exact
    const double s = a + b;               // two-sum: s + e = a + b exactly
    const double bb = s - a;
    const double e = (a - (s - bb)) + (b - bb);
    lo = lo * k + e;
    hi = s + lo;
    lo -= hi - s;
  }
  return hi + lo;
}

/// B₂ₖ/(2k)! for k = 1 … 12 (the Bernoulli numbers over factorials, rounded to double).
inline constexpr double kBernoulliOverFactorial[12] = {
    8.33333333333333287e-02,  -1.38888888888888894e-03, 3.30687830687830710e-05,  -8.26719576719576754e-07,
    2.08767569878681002e-08,  -5.28419013868749322e-10, 1.33825365306846789e-11,  -3.38968029632258272e-13,
    8.58606205627784517e-15,  -2.17486869855806192e-16, 5.50900282836022953e-18,  -1.39544646858125223e-19,
};

/// a^s·ζ(s, a) by the Euler–Maclaurin series a/(s - 1) + 1/2 + Σₖ B₂ₖ/(2k)!·s(s+1)…(s+2k-2)·a^(1-2k),
/// k = 1 … 12; for a ≥ s + 9 the first omitted term is below 2e-20 of the sum.
inline double zeta_scaled_asymptotic(double s, double a) {
  double series = 0;
  double p = s / a;  // s(s+1)…(s+2k-2)·a^(1-2k)
  for (int k = 0; k < 12; ++k) {
    series += kBernoulliOverFactorial[k] * p;
    p *= (s + 2 * k + 1) * (s + 2 * k + 2) / (a * a);
  }
  return a / (s - 1) + 0.5 + series;
}

/// ψ⁽ⁿ⁾(x) for 2 ≤ n ≤ kPolygammaMaxOrder and finite x > 0 (the header comment above gives the method).
inline double polygamma_positive(int n, double x) {
  const double s = n + 1;
  const double a0 = n + 10;
  // ζ(s, x) = x^-s · sum.
  double sum = 1;
  double a = x;
  if (x < a0) {
    const int m = static_cast<int>(std::ceil(a0 - x));
    bool tail = true;
    for (int j = 1; j < m; ++j) {
      const double t = std::exp(-s * std::log1p(j / x));
      sum += t;
      // The rest (terms and tail) is below t·(1 + (x + j)/(s - 1)) ≤ 111·t: negligible.
      if (t < 1e-20 * sum) {
        tail = false;
        break;
      }
    }
    a = x + m;
    if (tail) {
      const double r = std::exp(-s * std::log1p(m / x));  // (x/a)^s
      if (r > 0) sum += r * zeta_scaled_asymptotic(s, a);
    }
  } else {
    sum = zeta_scaled_asymptotic(s, a);
  }
  // n!·sum·x^-s from mantissas and exponents: x = mx·2^ex, so x^-s = mx^-s·2^(-ex·s).
  int ex = 0, ef = 0, es = 0;
  const double mx = std::frexp(x, &ex);
  const double mf = std::frexp(factorial(n), &ef);
  const double ms = std::frexp(sum, &es);
  const double mag = mf * ms * std::pow(mx, -s);  // in (2^-2, 2^(s))
  long e = static_cast<long>(ef) + es - static_cast<long>(ex) * (n + 1);
  e = std::clamp(e, -4000L, 4000L);
  const double r = std::ldexp(mag, static_cast<int>(e));
  return (n % 2 == 0) ? -r : r;
}

}  // namespace detail

inline double polygamma(double order, double x) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (!(order >= 0 && order <= kPolygammaMaxOrder) || order != std::floor(order) || std::isnan(x)) return kNaN;
  const int n = static_cast<int>(order);
  if (n == 0) return digamma(x);
  if (n == 1) return trigamma(x);
  const bool even = n % 2 == 0;
  if (x == kInf) return even ? -0.0 : 0.0;
  if (x == -kInf) return kNaN;
  if (x == 0) return !even ? kInf : (std::signbit(x) ? kInf : -kInf);
  if (x > 0) return detail::polygamma_positive(n, x);
  const double k = std::nearbyint(x);
  if (x == k) return even ? kNaN : kInf;
  // Reflection. d = x - k in [-0.5, 0.5] is exact, and cot(πx) = cot(πd); for |d| > 1/4,
  // cot(πd) = ±tan(π(1/2 - |d|)) with 1/2 - |d| exact, so c keeps full relative accuracy near 0
  // (cos(πd) near πd = ±π/2 would amplify the rounding of πd).
  const double d = x - k;
  const double c = std::abs(d) <= 0.25 ? std::cos(kPi * d) / std::sin(kPi * d)
                                       : std::copysign(std::tan(kPi * (0.5 - std::abs(d))), d);
  // Pₙ(c) = Σ coef[j]·c^j over j of the parity of n + 1; all coefficients have the sign (-1)^n.
  double coef[kPolygammaMaxOrder + 2] = {0, 1};  // P₀(c) = c
  for (int deg = 1; deg <= n; ++deg) {
    // P_deg(c) = -(1 + c²)·P'_{deg-1}(c): coefficient j is -(j + 1)·coef[j + 1] - (j - 1)·coef[j - 1].
    double prev = 0;  // coef[j - 1] of the previous polynomial
    for (int j = 0; j <= deg + 1; ++j) {
      const double cur = coef[j];
      const double next = (j + 1 <= deg) ? coef[j + 1] : 0;
      coef[j] = -(j + 1) * next - (j - 1) * prev;
      prev = cur;
    }
  }
  const double c2 = c * c;
  double p = 0;
  for (int j = n + 1; j >= 0; j -= 2) p = p * c2 + coef[j];
  if ((n + 1) % 2 == 1) p *= c;
  // π^(n+1) with π's rounding corrected to first order (π = kPi + 1.2246e-16).
  const double pis = std::pow(kPi, n + 1) * (1 + (n + 1) * (1.2246467991473532e-16 / kPi));
  const double reflected = detail::polygamma_positive(n, 1 - x);
  return (even ? reflected : -reflected) - pis * p;
}

template <class T>
inline T mod(T x, T y) {
  T r = std::fmod(x, y);
  if (y == T(0)) return r;  // NaN
  if (r != T(0)) {
    if ((r < T(0)) != (y < T(0))) r += y;
  } else {
    r = std::copysign(T(0), y);
  }
  return r;
}

}  // namespace emath
}  // namespace wengert
