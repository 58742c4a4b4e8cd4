// SSE2 packets: 2 doubles, 4 floats (see packet_scalar.h for the interface). Included only by
// isa_sse2.cpp, after its target pragma. Multiply-add is unfused (SSE2 has no FMA), so this path
// gives the same bits as the scalar packet.
#pragma once

#include <emmintrin.h>

#include <cstdint>

namespace wengert {
namespace simd {

struct Sse2d {
  using Scalar = double;
  using Bits = uint64_t;
  static constexpr int N = 2;
  struct M {
    __m128d m;
  };
  __m128d v;
  static Sse2d set1(double x) { return {_mm_set1_pd(x)}; }
  static Sse2d set1_bits(uint64_t b) { return {_mm_castsi128_pd(_mm_set1_epi64x(int64_t(b)))}; }
  static Sse2d load(const double* p) { return {_mm_loadu_pd(p)}; }
};
inline void store(double* p, Sse2d a) { _mm_storeu_pd(p, a.v); }
inline Sse2d operator+(Sse2d a, Sse2d b) { return {_mm_add_pd(a.v, b.v)}; }
inline Sse2d operator-(Sse2d a, Sse2d b) { return {_mm_sub_pd(a.v, b.v)}; }
inline Sse2d operator*(Sse2d a, Sse2d b) { return {_mm_mul_pd(a.v, b.v)}; }
inline Sse2d operator/(Sse2d a, Sse2d b) { return {_mm_div_pd(a.v, b.v)}; }
inline Sse2d operator-(Sse2d a) { return {_mm_xor_pd(a.v, _mm_set1_pd(-0.0))}; }
inline Sse2d madd(Sse2d a, Sse2d b, Sse2d c) { return {_mm_add_pd(_mm_mul_pd(a.v, b.v), c.v)}; }
inline Sse2d::M lt(Sse2d a, Sse2d b) { return {_mm_cmplt_pd(a.v, b.v)}; }
inline Sse2d::M gt(Sse2d a, Sse2d b) { return {_mm_cmpgt_pd(a.v, b.v)}; }
inline Sse2d::M le(Sse2d a, Sse2d b) { return {_mm_cmple_pd(a.v, b.v)}; }
inline Sse2d::M ge(Sse2d a, Sse2d b) { return {_mm_cmpge_pd(a.v, b.v)}; }
inline Sse2d::M eq(Sse2d a, Sse2d b) { return {_mm_cmpeq_pd(a.v, b.v)}; }
inline Sse2d::M isnan(Sse2d a) { return {_mm_cmpunord_pd(a.v, a.v)}; }
inline Sse2d select(Sse2d::M m, Sse2d a, Sse2d b) { return {_mm_or_pd(_mm_and_pd(m.m, a.v), _mm_andnot_pd(m.m, b.v))}; }
inline Sse2d::M m_or(Sse2d::M a, Sse2d::M b) { return {_mm_or_pd(a.m, b.m)}; }
inline bool any(Sse2d::M m) { return _mm_movemask_pd(m.m) != 0; }
inline Sse2d band(Sse2d a, Sse2d b) { return {_mm_and_pd(a.v, b.v)}; }
inline Sse2d bor(Sse2d a, Sse2d b) { return {_mm_or_pd(a.v, b.v)}; }
inline Sse2d bxor(Sse2d a, Sse2d b) { return {_mm_xor_pd(a.v, b.v)}; }
inline Sse2d bandnot(Sse2d a, Sse2d b) { return {_mm_andnot_pd(a.v, b.v)}; }
template <int k>
Sse2d shl(Sse2d a) { return {_mm_castsi128_pd(_mm_slli_epi64(_mm_castpd_si128(a.v), k))}; }
template <int k>
Sse2d shr(Sse2d a) { return {_mm_castsi128_pd(_mm_srli_epi64(_mm_castpd_si128(a.v), k))}; }

struct Sse2f {
  using Scalar = float;
  using Bits = uint32_t;
  static constexpr int N = 4;
  struct M {
    __m128 m;
  };
  __m128 v;
  static Sse2f set1(float x) { return {_mm_set1_ps(x)}; }
  static Sse2f set1_bits(uint32_t b) { return {_mm_castsi128_ps(_mm_set1_epi32(int32_t(b)))}; }
  static Sse2f load(const float* p) { return {_mm_loadu_ps(p)}; }
};
inline void store(float* p, Sse2f a) { _mm_storeu_ps(p, a.v); }
inline Sse2f operator+(Sse2f a, Sse2f b) { return {_mm_add_ps(a.v, b.v)}; }
inline Sse2f operator-(Sse2f a, Sse2f b) { return {_mm_sub_ps(a.v, b.v)}; }
inline Sse2f operator*(Sse2f a, Sse2f b) { return {_mm_mul_ps(a.v, b.v)}; }
inline Sse2f operator/(Sse2f a, Sse2f b) { return {_mm_div_ps(a.v, b.v)}; }
inline Sse2f operator-(Sse2f a) { return {_mm_xor_ps(a.v, _mm_set1_ps(-0.0f))}; }
inline Sse2f madd(Sse2f a, Sse2f b, Sse2f c) { return {_mm_add_ps(_mm_mul_ps(a.v, b.v), c.v)}; }
inline Sse2f::M lt(Sse2f a, Sse2f b) { return {_mm_cmplt_ps(a.v, b.v)}; }
inline Sse2f::M gt(Sse2f a, Sse2f b) { return {_mm_cmpgt_ps(a.v, b.v)}; }
inline Sse2f::M le(Sse2f a, Sse2f b) { return {_mm_cmple_ps(a.v, b.v)}; }
inline Sse2f::M ge(Sse2f a, Sse2f b) { return {_mm_cmpge_ps(a.v, b.v)}; }
inline Sse2f::M eq(Sse2f a, Sse2f b) { return {_mm_cmpeq_ps(a.v, b.v)}; }
inline Sse2f::M isnan(Sse2f a) { return {_mm_cmpunord_ps(a.v, a.v)}; }
inline Sse2f select(Sse2f::M m, Sse2f a, Sse2f b) { return {_mm_or_ps(_mm_and_ps(m.m, a.v), _mm_andnot_ps(m.m, b.v))}; }
inline Sse2f::M m_or(Sse2f::M a, Sse2f::M b) { return {_mm_or_ps(a.m, b.m)}; }
inline bool any(Sse2f::M m) { return _mm_movemask_ps(m.m) != 0; }
inline Sse2f band(Sse2f a, Sse2f b) { return {_mm_and_ps(a.v, b.v)}; }
inline Sse2f bor(Sse2f a, Sse2f b) { return {_mm_or_ps(a.v, b.v)}; }
inline Sse2f bxor(Sse2f a, Sse2f b) { return {_mm_xor_ps(a.v, b.v)}; }
inline Sse2f bandnot(Sse2f a, Sse2f b) { return {_mm_andnot_ps(a.v, b.v)}; }
template <int k>
Sse2f shl(Sse2f a) { return {_mm_castsi128_ps(_mm_slli_epi32(_mm_castps_si128(a.v), k))}; }
template <int k>
Sse2f shr(Sse2f a) { return {_mm_castsi128_ps(_mm_srli_epi32(_mm_castps_si128(a.v), k))}; }

}  // namespace simd
}  // namespace wengert
