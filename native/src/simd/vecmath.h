// Vector math: exp, log, log1p, expm1, tanh, sigmoid, sin, cos in float64 and float32, each written
// once over the packet interface (packet_scalar.h), so the scalar packet runs exactly the algorithm
// the SIMD packets run and is their reference. Every function handles ±0, ±inf and NaN as the C
// library does; NaN inputs are returned unchanged. Error bounds are in ULPs of the exact result
// (measured against long double / double references by native/test/test_simd.cpp over dense
// sweeps of the valid range plus special values; kVecOpSpecs below is what that test asserts).
//
//   exp    n = round(x·log2 e), r = x − n·ln2 (Cody–Waite, two-part ln2), |r| ≤ ln2/2; e^r by its
//          Taylor polynomial (degree 13 f64, 7 f32; truncation < 0.05 ulp); scaled by 2^n as two
//          exact powers of two, so results near overflow and gradual underflow round once.
//          x is clamped to [-746, 710] (f32 [-104, 89]) first: e^x overflows to +inf above
//          709.78 (88.72) and underflows to +0 below -745.13 (-103.97). exp(±0) = 1, exp(-inf) = 0.
//          Max error f64 2 ulp, f32 2 ulp (measured 1.12 unfused, 0.89 with FMA).
//   log    x = m·2^e with m ∈ [√½, √2) (subnormals scaled by 2^54 / 2^25 first), f = m − 1,
//          s = f/(2+f), log(1+f) = f − (f²/2 − s·(f²/2 + R(s²))) with R the atanh series
//          (10 terms f64, 5 f32), plus e·ln2 in two parts. log(±0) = -inf, log(x<0) = NaN,
//          log(+inf) = +inf. Max error f64 1 ulp, f32 1 ulp (measured 0.79, 0.75).
//   log1p  u = 1 + x rounded, its rounding error c recovered exactly (Fast2Sum), then the log
//          kernel of u with c/u added to the low part. log1p(-1) = -inf, NaN below -1, ±0 kept.
//          Max error f64 1 ulp, f32 1 ulp (measured 0.76, 0.74).
//   expm1  As exp, with the polynomial for e^r − 1 and the result 2^n·(e^r − 1) + (2^n − 1)
//          (n ≤ mantissa bits + 2; above, (e^r − 1 + 1)·2^n). expm1(±0) = ±0, expm1(-inf) = -1.
//          Max error f64 2 ulp, f32 2 ulp (measured 1.79, 1.51).
//   tanh   sign(x)·t(|x|), t(a) = expm1(2a)/(expm1(2a) + 2), |x| saturated at 22 (f32 10),
//          where tanh rounds to ±1. tanh(±0) = ±0, tanh(±inf) = ±1. Max error f64 3 ulp,
//          f32 3 ulp (measured 2.21, 2.21).
//   sigmoid  e = exp(-|x|), σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) below: never overflows.
//          σ(+inf) = 1, σ(-inf) = 0. Max error f64 3 ulp, f32 3 ulp (measured 2.35, 2.14).
//   sin, cos  q = round(x·2/π), r = x − q·π/2 with π/2 in three parts (f64 33+33+53 bits, exact
//          products for |q| < 2^20; f32 12+12+24 bits), Taylor polynomials on |r| ≤ π/4 (sin to
//          r^17, cos to r^16; f32 r^9, r^10), the quadrant chosen from q's low bits. Valid range of
//          the vector reduction: |x| ≤ 2^20 (f32 4096); lanes beyond it (and ±inf, which give NaN)
//          are recomputed by the C library in double. sin(±0) = ±0. Max error f64 3 ulp,
//          f32 3 ulp (measured 2.21, 1.96: the reduced argument is rounded twice; carrying it as
//          a double-double would bring this near 1 ulp).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace wengert {
namespace vm {

// Never called: they make `shl<k>(p)` and `shr<k>(p)` parse as template calls in every compiler
// (clang before 16 does not apply C++20's rule for a template-id found only by argument-dependent
// lookup); the packets' own shl/shr are still found by that lookup.
template <int k>
void shl() = delete;
template <int k>
void shr() = delete;

template <class T>
struct Fp;
template <>
struct Fp<double> {
  static constexpr int kMant = 52;
  static constexpr uint64_t kSign = 0x8000000000000000ull;
  static constexpr uint64_t kMantMask = 0x000FFFFFFFFFFFFFull;
  static constexpr double kTwoMant = 4503599627370496.0;    // 2^52
  static constexpr double kRoundMagic = 6755399441055744.0;  // 1.5·2^52
  static constexpr double kBias = 1023.0;
  static constexpr double kSubnormalScale = 18014398509481984.0;  // 2^54
  static constexpr double kSubnormalShift = 54.0;
  static constexpr double kMinNormal = 2.2250738585072014e-308;
  static constexpr double kExpHi = 710.0, kExpLo = -746.0;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
  static constexpr double kTanhSat = 22.0;
  static constexpr double kTrigLimit = 1048576.0;  // 2^20
  static constexpr double kPio2[3] = {1.5707963267341256, 6.077100506303966e-11, 2.0222662487959506e-21};
};
template <>
struct Fp<float> {
  static constexpr int kMant = 23;
  static constexpr uint32_t kSign = 0x80000000u;
  static constexpr uint32_t kMantMask = 0x007FFFFFu;
  static constexpr float kTwoMant = 8388608.0f;     // 2^23
  static constexpr float kRoundMagic = 12582912.0f;  // 1.5·2^23
  static constexpr float kBias = 127.0f;
  static constexpr float kSubnormalScale = 33554432.0f;  // 2^25
  static constexpr float kSubnormalShift = 25.0f;
  static constexpr float kMinNormal = 1.17549435e-38f;
  static constexpr float kExpHi = 89.0f, kExpLo = -104.0f;
  static constexpr float kLn2Hi = 0.693359375f;  // 12 significant bits
  static constexpr float kLn2Lo = -2.12194440e-4f;
  static constexpr float kTanhSat = 10.0f;
  static constexpr float kTrigLimit = 4096.0f;
  static constexpr float kPio2[3] = {1.57080078125f, -4.453584551811218e-06f, -8.705515752716053e-10f};
};

// Taylor coefficients, highest degree first.
template <class T>
struct Poly;
template <>
struct Poly<double> {
  // 1/13!, …, 1/2!: e^r = 1 + r + r²·(…); expm1 uses the same tail.
  static constexpr double kExp[12] = {1.6059043836821613e-10, 2.08767569878681e-09, 2.505210838544172e-08,
                                      2.755731922398589e-07,  2.7557319223985893e-06, 2.48015873015873e-05,
                                      0.0001984126984126984,  0.001388888888888889,  0.008333333333333333,
                                      0.041666666666666664,   0.16666666666666666,   0.5};
  // atanh series tail: 2/21, …, 2/3 (R(z) = z·(2/3 + 2z/5 + …)).
  static constexpr double kLog[10] = {2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13,
                                      2.0 / 11, 2.0 / 9,  2.0 / 7,  2.0 / 5,  2.0 / 3};
  // sin r = r + r³·S(r²): S = -1/3! + z/5! − … to r^17.
  static constexpr double kSin[8] = {2.8114572543455206e-15, -7.647163731819816e-13, 1.6059043836821613e-10,
                                     -2.505210838544172e-08, 2.7557319223985893e-06, -0.0001984126984126984,
                                     0.008333333333333333,   -0.16666666666666666};
  // cos r = 1 − r²/2 + r⁴·C(r²): C = 1/4! − z/6! + … to r^16.
  static constexpr double kCos[7] = {4.779477332387385e-14, -1.1470745597729725e-11, 2.08767569878681e-09,
                                     -2.755731922398589e-07, 2.48015873015873e-05,  -0.001388888888888889,
                                     0.041666666666666664};
};
template <>
struct Poly<float> {
  static constexpr float kExp[6] = {1.98412698e-4f, 1.38888889e-3f, 8.33333333e-3f, 4.16666667e-2f, 1.66666667e-1f, 0.5f};
  static constexpr float kLog[5] = {2.0f / 11, 2.0f / 9, 2.0f / 7, 2.0f / 5, 2.0f / 3};
  static constexpr float kSin[4] = {2.75573192e-6f, -1.98412698e-4f, 8.33333333e-3f, -1.66666667e-1f};
  static constexpr float kCos[4] = {-2.75573192e-7f, 2.48015873e-5f, -1.38888889e-3f, 4.16666667e-2f};
};

template <class P>
using ScalarOf = typename P::Scalar;

template <class P>
inline P k(ScalarOf<P> v) {
  return P::set1(v);
}

template <class P, class T, int n>
inline P horner(P z, const T (&c)[n]) {
  P p = P::set1(c[0]);
  for (int i = 1; i < n; ++i) p = madd(p, z, P::set1(c[i]));
  return p;
}

// Nearest integer (ties to even), exact for |x| < 2^(mantissa bits - 1).
template <class P>
inline P round_int(P x) {
  const P m = k<P>(Fp<ScalarOf<P>>::kRoundMagic);
  return (x + m) - m;
}

template <class P>
inline P sign_mask() {
  return P::set1_bits(Fp<ScalarOf<P>>::kSign);
}

template <class P>
inline P abs(P x) {
  return bandnot(sign_mask<P>(), x);
}

// |mag| with the sign of sgn.
template <class P>
inline P copysign(P mag, P sgn) {
  const P s = sign_mask<P>();
  return bor(bandnot(s, mag), band(s, sgn));
}

// 2^n for integer-valued n in the normal exponent range.
template <class P>
inline P pow2i(P n) {
  using F = Fp<ScalarOf<P>>;
  return shl<F::kMant>(n + k<P>(F::kBias + F::kTwoMant));
}

template <class P>
inline P inf() {
  return k<P>(std::numeric_limits<ScalarOf<P>>::infinity());
}

// Range reduction shared by exp and expm1: x = n·ln2 + r.
template <class P>
struct ExpReduced {
  P n, r;
};
template <class P>
inline ExpReduced<P> exp_reduce(P x) {
  using F = Fp<ScalarOf<P>>;
  P xc = select(gt(x, k<P>(F::kExpHi)), k<P>(F::kExpHi), x);
  xc = select(lt(xc, k<P>(F::kExpLo)), k<P>(F::kExpLo), xc);
  const P n = round_int(xc * k<P>(ScalarOf<P>(1.4426950408889634074)));
  P r = madd(n, k<P>(-F::kLn2Hi), xc);
  r = madd(n, k<P>(-F::kLn2Lo), r);
  return {n, r};
}

template <class P>
inline P exp(P x) {
  using T = ScalarOf<P>;
  const ExpReduced<P> e = exp_reduce(x);
  const P r = e.r;
  P p = horner(r, Poly<T>::kExp);  // (e^r - 1 - r)/r²
  p = madd(p, r, k<P>(T(1)));      // (e^r - 1)/r
  p = madd(p, r, k<P>(T(1)));      // e^r
  const P h = round_int(e.n * k<P>(T(0.5)));
  const P y = (p * pow2i(h)) * pow2i(e.n - h);
  return select(isnan(x), x, y);
}

template <class P>
inline P expm1(P x) {
  using T = ScalarOf<P>;
  using F = Fp<T>;
  const ExpReduced<P> e = exp_reduce(x);
  const P r = e.r;
  const P q = horner(r, Poly<T>::kExp);
  const P p = madd(r * r, q, r);  // e^r - 1
  const P h = round_int(e.n * k<P>(T(0.5)));
  const P s1 = pow2i(h), s2 = pow2i(e.n - h);
  const P t = s1 * s2;
  const P small = madd(t, p, t - k<P>(T(1)));
  const P big = ((p + k<P>(T(1))) * s1) * s2;
  P y = select(gt(e.n, k<P>(T(F::kMant + 2))), big, small);
  y = select(eq(x, k<P>(T(0))), x, y);
  return select(isnan(x), x, y);
}

// e·ln2 + log(1 + f) + lo, for f ∈ [√½ − 1, √2 − 1] and a small correction lo.
template <class P>
inline P log_kernel(P e, P f, P lo) {
  using T = ScalarOf<P>;
  using F = Fp<T>;
  const P s = f / (k<P>(T(2)) + f);
  const P z = s * s;
  const P R = z * horner(z, Poly<T>::kLog);
  const P hfsq = k<P>(T(0.5)) * f * f;
  const P t = madd(s, hfsq + R, madd(e, k<P>(F::kLn2Lo), lo));
  const P y = f - (hfsq - t);
  return madd(e, k<P>(F::kLn2Hi), y);
}

// For finite x > 0: x = (1 + f)·2^e with 1 + f ∈ [√½, √2).
template <class P>
inline void log_split(P x, P& e, P& f) {
  using T = ScalarOf<P>;
  using F = Fp<T>;
  const auto sub = lt(x, k<P>(F::kMinNormal));
  x = select(sub, x * k<P>(F::kSubnormalScale), x);
  const P adj = select(sub, k<P>(-F::kSubnormalShift), k<P>(T(0)));
  e = (bor(shr<F::kMant>(x), k<P>(F::kTwoMant)) - k<P>(F::kTwoMant + F::kBias)) + adj;
  P m = bor(band(x, P::set1_bits(F::kMantMask)), k<P>(T(1)));
  const auto hi = gt(m, k<P>(T(1.41421356237309504880)));
  m = select(hi, m * k<P>(T(0.5)), m);
  e = select(hi, e + k<P>(T(1)), e);
  f = m - k<P>(T(1));
}

template <class P>
inline P log(P x) {
  using T = ScalarOf<P>;
  P e, f;
  log_split(x, e, f);
  P y = log_kernel(e, f, k<P>(T(0)));
  y = select(eq(x, k<P>(T(0))), -inf<P>(), y);
  y = select(lt(x, k<P>(T(0))), k<P>(std::numeric_limits<T>::quiet_NaN()), y);
  y = select(eq(x, inf<P>()), x, y);
  return select(isnan(x), x, y);
}

template <class P>
inline P log1p(P x) {
  using T = ScalarOf<P>;
  const P one = k<P>(T(1));
  const P u = one + x;
  const P c = select(gt(x, one), one - (u - x), x - (u - one));  // (1 + x) - u, exactly
  P e, f;
  log_split(u, e, f);
  P y = log_kernel(e, f, c / u);
  y = select(eq(x, -one), -inf<P>(), y);
  y = select(lt(x, -one), k<P>(std::numeric_limits<T>::quiet_NaN()), y);
  y = select(m_or(eq(x, inf<P>()), eq(x, k<P>(T(0)))), x, y);
  return select(isnan(x), x, y);
}

template <class P>
inline P tanh(P x) {
  using T = ScalarOf<P>;
  const P sat = k<P>(Fp<T>::kTanhSat);
  P a = abs(x);
  a = select(gt(a, sat), sat, a);
  const P em = expm1(a + a);
  return copysign(em / (em + k<P>(T(2))), x);
}

template <class P>
inline P sigmoid(P x) {
  using T = ScalarOf<P>;
  const P e = exp(-abs(x));
  return select(ge(x, k<P>(T(0))), k<P>(T(1)), e) / (k<P>(T(1)) + e);
}

// sin (kCos false) or cos of x.
template <class P, bool kCos>
inline P sincos(P x) {
  using T = ScalarOf<P>;
  using F = Fp<T>;
  const P q = round_int(x * k<P>(T(0.63661977236758134308)));
  P r = madd(q, k<P>(-F::kPio2[0]), x);
  r = madd(q, k<P>(-F::kPio2[1]), r);
  r = madd(q, k<P>(-F::kPio2[2]), r);
  const P z = r * r;
  const P sin_r = madd(r * z, horner(z, Poly<T>::kSin), r);
  const P hz = k<P>(T(0.5)) * z;
  const P w = k<P>(T(1)) - hz;
  const P cos_r = w + (((k<P>(T(1)) - w) - hz) + (z * z) * horner(z, Poly<T>::kCos));
  // Quadrant of x (cos x = sin(x + π/2)): odd quadrants swap sin and cos, bit 1 flips the sign.
  const P qq = kCos ? q + k<P>(T(1)) : q;
  const P half = qq * k<P>(T(0.5));
  const P base = select(eq(half, round_int(half)), sin_r, cos_r);
  const P flip = band(shl<int(sizeof(T) * 8) - 2>(qq + k<P>(F::kRoundMagic)), sign_mask<P>());
  P y = bxor(base, flip);
  if (!kCos) y = select(eq(x, k<P>(T(0))), x, y);
  const auto wide = gt(abs(x), k<P>(F::kTrigLimit));
  if (any(wide)) {  // beyond the reduction's range (or ±inf): the C library, lane by lane
    T xs[P::N], ys[P::N];
    store(xs, x);
    store(ys, y);
    for (int i = 0; i < P::N; ++i) {
      if (std::fabs(xs[i]) > F::kTrigLimit) ys[i] = T(kCos ? std::cos(double(xs[i])) : std::sin(double(xs[i])));
    }
    y = P::load(ys);
  }
  return select(isnan(x), x, y);
}

template <class P>
inline P sin(P x) {
  return sincos<P, false>(x);
}
template <class P>
inline P cos(P x) {
  return sincos<P, true>(x);
}

// What the tests assert for each function: its maximum error and the range swept densely.
struct VecOpSpec {
  const char* name;
  double ulp_f64, ulp_f32;
  double lo_f64, hi_f64, lo_f32, hi_f32;
};
inline constexpr VecOpSpec kVecOpSpecs[] = {
    {"exp", 2, 2, -746, 710, -104, 89},
    {"log", 1, 1, 0, 1.7976931348623157e308, 0, 3.4028235e38},
    {"log1p", 1, 1, -1, 1.7976931348623157e308, -1, 3.4028235e38},
    {"expm1", 2, 2, -746, 710, -104, 89},
    {"tanh", 3, 3, -30, 30, -12, 12},
    {"sigmoid", 3, 3, -750, 750, -110, 110},
    {"sin", 3, 3, -1e7, 1e7, -1e5, 1e5},
    {"cos", 3, 3, -1e7, 1e7, -1e5, 1e5},
};

}  // namespace vm
}  // namespace wengert
