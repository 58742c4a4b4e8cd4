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
//   mod       x - y·floor(x/y) with the sign of the divisor, computed as NumPy does (fmod, then
//             one correction), so the result is exact: fmod is exact and the correction adds y to
//             a remainder of the opposite sign. mod(x, 0) is NaN; a zero result has y's sign.
#pragma once

#include <math.h>

#include <cmath>
#include <limits>

namespace wengert {
namespace emath {

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
