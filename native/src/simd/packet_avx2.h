// AVX2 + FMA packets: 4 doubles, 8 floats (see packet_scalar.h for the interface). Included only by
// isa_avx2.cpp, after its target pragma. Multiply-add is fused (one rounding), so this path
// may differ from the scalar packet in the last bit, within the stated error bounds.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace wengert {
namespace simd {

struct Avx2d {
  using Scalar = double;
  using Bits = uint64_t;
  static constexpr int N = 4;
  struct M {
    __m256d m;
  };
  __m256d v;
  static Avx2d set1(double x) { return {_mm256_set1_pd(x)}; }
  static Avx2d set1_bits(uint64_t b) { return {_mm256_castsi256_pd(_mm256_set1_epi64x(int64_t(b)))}; }
  static Avx2d load(const double* p) { return {_mm256_loadu_pd(p)}; }
};
inline void store(double* p, Avx2d a) { _mm256_storeu_pd(p, a.v); }
inline Avx2d operator+(Avx2d a, Avx2d b) { return {_mm256_add_pd(a.v, b.v)}; }
inline Avx2d operator-(Avx2d a, Avx2d b) { return {_mm256_sub_pd(a.v, b.v)}; }
inline Avx2d operator*(Avx2d a, Avx2d b) { return {_mm256_mul_pd(a.v, b.v)}; }
inline Avx2d operator/(Avx2d a, Avx2d b) { return {_mm256_div_pd(a.v, b.v)}; }
inline Avx2d operator-(Avx2d a) { return {_mm256_xor_pd(a.v, _mm256_set1_pd(-0.0))}; }
inline Avx2d madd(Avx2d a, Avx2d b, Avx2d c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
inline Avx2d::M lt(Avx2d a, Avx2d b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ)}; }
inline Avx2d::M gt(Avx2d a, Avx2d b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ)}; }
inline Avx2d::M le(Avx2d a, Avx2d b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_LE_OQ)}; }
inline Avx2d::M ge(Avx2d a, Avx2d b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ)}; }
inline Avx2d::M eq(Avx2d a, Avx2d b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_EQ_OQ)}; }
inline Avx2d::M isnan(Avx2d a) { return {_mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q)}; }
inline Avx2d select(Avx2d::M m, Avx2d a, Avx2d b) { return {_mm256_blendv_pd(b.v, a.v, m.m)}; }
inline Avx2d::M m_or(Avx2d::M a, Avx2d::M b) { return {_mm256_or_pd(a.m, b.m)}; }
inline bool any(Avx2d::M m) { return _mm256_movemask_pd(m.m) != 0; }
inline Avx2d band(Avx2d a, Avx2d b) { return {_mm256_and_pd(a.v, b.v)}; }
inline Avx2d bor(Avx2d a, Avx2d b) { return {_mm256_or_pd(a.v, b.v)}; }
inline Avx2d bxor(Avx2d a, Avx2d b) { return {_mm256_xor_pd(a.v, b.v)}; }
inline Avx2d bandnot(Avx2d a, Avx2d b) { return {_mm256_andnot_pd(a.v, b.v)}; }
template <int k>
Avx2d shl(Avx2d a) { return {_mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(a.v), k))}; }
template <int k>
Avx2d shr(Avx2d a) { return {_mm256_castsi256_pd(_mm256_srli_epi64(_mm256_castpd_si256(a.v), k))}; }

struct Avx2f {
  using Scalar = float;
  using Bits = uint32_t;
  static constexpr int N = 8;
  struct M {
    __m256 m;
  };
  __m256 v;
  static Avx2f set1(float x) { return {_mm256_set1_ps(x)}; }
  static Avx2f set1_bits(uint32_t b) { return {_mm256_castsi256_ps(_mm256_set1_epi32(int32_t(b)))}; }
  static Avx2f load(const float* p) { return {_mm256_loadu_ps(p)}; }
};
inline void store(float* p, Avx2f a) { _mm256_storeu_ps(p, a.v); }
inline Avx2f operator+(Avx2f a, Avx2f b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Avx2f operator-(Avx2f a, Avx2f b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Avx2f operator*(Avx2f a, Avx2f b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Avx2f operator/(Avx2f a, Avx2f b) { return {_mm256_div_ps(a.v, b.v)}; }
inline Avx2f operator-(Avx2f a) { return {_mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f))}; }
inline Avx2f madd(Avx2f a, Avx2f b, Avx2f c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline Avx2f::M lt(Avx2f a, Avx2f b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline Avx2f::M gt(Avx2f a, Avx2f b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline Avx2f::M le(Avx2f a, Avx2f b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline Avx2f::M ge(Avx2f a, Avx2f b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline Avx2f::M eq(Avx2f a, Avx2f b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline Avx2f::M isnan(Avx2f a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline Avx2f select(Avx2f::M m, Avx2f a, Avx2f b) { return {_mm256_blendv_ps(b.v, a.v, m.m)}; }
inline Avx2f::M m_or(Avx2f::M a, Avx2f::M b) { return {_mm256_or_ps(a.m, b.m)}; }
inline bool any(Avx2f::M m) { return _mm256_movemask_ps(m.m) != 0; }
inline Avx2f band(Avx2f a, Avx2f b) { return {_mm256_and_ps(a.v, b.v)}; }
inline Avx2f bor(Avx2f a, Avx2f b) { return {_mm256_or_ps(a.v, b.v)}; }
inline Avx2f bxor(Avx2f a, Avx2f b) { return {_mm256_xor_ps(a.v, b.v)}; }
inline Avx2f bandnot(Avx2f a, Avx2f b) { return {_mm256_andnot_ps(a.v, b.v)}; }
template <int k>
Avx2f shl(Avx2f a) { return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(a.v), k))}; }
template <int k>
Avx2f shr(Avx2f a) { return {_mm256_castsi256_ps(_mm256_srli_epi32(_mm256_castps_si256(a.v), k))}; }

}  // namespace simd
}  // namespace wengert
