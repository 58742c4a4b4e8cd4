// ULP distances for the vector math tests (test_simd.cpp, test_kernels.cpp).
#pragma once

#include <cmath>
#include <cstring>
#include <limits>

#include "isa.h"
#include "simd/vecmath.h"

namespace wt {

// The spacing of T at |ref| (the ulp of the correctly rounded result), in long double.
template <class T>
long double ulp_at(long double ref) {
  using L = std::numeric_limits<T>;
  const long double a = std::fabs(ref);
  if (!(a >= (long double)L::min())) return (long double)L::denorm_min();
  int e = 0;
  std::frexp(a, &e);  // a = m·2^e, m ∈ [0.5, 1)
  return std::ldexp(1.0L, e - L::digits);
}

// |y - ref| in ulps of T at ref; 0 if both are the same NaN/inf; +inf for a NaN or inf mismatch.
template <class T>
long double ulp_error(T y, long double ref) {
  if (std::isnan(ref) || std::isnan(y)) return (std::isnan(ref) && std::isnan(y)) ? 0 : INFINITY;
  const T r = T(ref);  // correctly rounded (an overflowing ref rounds to ±inf)
  if (std::isinf(r) || std::isinf(y)) return r == y ? 0 : INFINITY;
  return std::fabs((long double)y - ref) / ulp_at<T>(ref);
}

// The ulp distance between two values of T (0 if both NaN or equal).
template <class T>
long double ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return (std::isnan(a) && std::isnan(b)) ? 0 : INFINITY;
  if (a == b) return 0;
  if (std::isinf(a) || std::isinf(b)) return INFINITY;
  return std::fabs((long double)a - (long double)b) / ulp_at<T>(std::fabs(a) < std::fabs(b) ? a : b);
}

inline const wengert::vm::VecOpSpec* vec_spec(const char* name) {
  for (const auto& s : wengert::vm::kVecOpSpecs) {
    if (std::strcmp(s.name, name) == 0) return &s;
  }
  return nullptr;
}

}  // namespace wt
