// AVX-512F packets: 8 doubles, 16 floats (see packet_scalar.h for the interface), with k-register
// masks. Only AVX-512F instructions are used (bitwise ops go through the integer forms, since the
// floating-point ones need AVX-512DQ). Included only by isa_avx512.cpp, after its target pragma.
// Multiply-add is fused, like AVX2's, so this path gives the same bits as the AVX2 path.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace wengert {
namespace simd {

struct Avx512d {
  using Scalar = double;
  using Bits = uint64_t;
  static constexpr int N = 8;
  struct M {
    __mmask8 m;
  };
  __m512d v;
  static __m512i i(__m512d a) { return _mm512_castpd_si512(a); }
  static Avx512d d(__m512i a) { return {_mm512_castsi512_pd(a)}; }
  static Avx512d set1(double x) { return {_mm512_set1_pd(x)}; }
  static Avx512d set1_bits(uint64_t b) { return d(_mm512_set1_epi64(int64_t(b))); }
  static Avx512d load(const double* p) { return {_mm512_loadu_pd(p)}; }
};
inline void store(double* p, Avx512d a) { _mm512_storeu_pd(p, a.v); }
inline Avx512d operator+(Avx512d a, Avx512d b) { return {_mm512_add_pd(a.v, b.v)}; }
inline Avx512d operator-(Avx512d a, Avx512d b) { return {_mm512_sub_pd(a.v, b.v)}; }
inline Avx512d operator*(Avx512d a, Avx512d b) { return {_mm512_mul_pd(a.v, b.v)}; }
inline Avx512d operator/(Avx512d a, Avx512d b) { return {_mm512_div_pd(a.v, b.v)}; }
inline Avx512d operator-(Avx512d a) { return Avx512d::d(_mm512_xor_si512(Avx512d::i(a.v), _mm512_set1_epi64(INT64_MIN))); }
inline Avx512d madd(Avx512d a, Avx512d b, Avx512d c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
inline Avx512d::M lt(Avx512d a, Avx512d b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Avx512d::M gt(Avx512d a, Avx512d b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Avx512d::M le(Avx512d a, Avx512d b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline Avx512d::M ge(Avx512d a, Avx512d b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline Avx512d::M eq(Avx512d a, Avx512d b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline Avx512d::M isnan(Avx512d a) { return {_mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline Avx512d select(Avx512d::M m, Avx512d a, Avx512d b) { return {_mm512_mask_blend_pd(m.m, b.v, a.v)}; }
inline Avx512d::M m_or(Avx512d::M a, Avx512d::M b) { return {static_cast<decltype(a.m)>(a.m | b.m)}; }
inline bool any(Avx512d::M m) { return m.m != 0; }
inline Avx512d band(Avx512d a, Avx512d b) { return Avx512d::d(_mm512_and_si512(Avx512d::i(a.v), Avx512d::i(b.v))); }
inline Avx512d bor(Avx512d a, Avx512d b) { return Avx512d::d(_mm512_or_si512(Avx512d::i(a.v), Avx512d::i(b.v))); }
inline Avx512d bxor(Avx512d a, Avx512d b) { return Avx512d::d(_mm512_xor_si512(Avx512d::i(a.v), Avx512d::i(b.v))); }
inline Avx512d bandnot(Avx512d a, Avx512d b) { return Avx512d::d(_mm512_andnot_si512(Avx512d::i(a.v), Avx512d::i(b.v))); }
template <int k>
Avx512d shl(Avx512d a) { return Avx512d::d(_mm512_slli_epi64(Avx512d::i(a.v), k)); }
template <int k>
Avx512d shr(Avx512d a) { return Avx512d::d(_mm512_srli_epi64(Avx512d::i(a.v), k)); }

struct Avx512f {
  using Scalar = float;
  using Bits = uint32_t;
  static constexpr int N = 16;
  struct M {
    __mmask16 m;
  };
  __m512 v;
  static __m512i i(__m512 a) { return _mm512_castps_si512(a); }
  static Avx512f f(__m512i a) { return {_mm512_castsi512_ps(a)}; }
  static Avx512f set1(float x) { return {_mm512_set1_ps(x)}; }
  static Avx512f set1_bits(uint32_t b) { return f(_mm512_set1_epi32(int32_t(b))); }
  static Avx512f load(const float* p) { return {_mm512_loadu_ps(p)}; }
};
inline void store(float* p, Avx512f a) { _mm512_storeu_ps(p, a.v); }
inline Avx512f operator+(Avx512f a, Avx512f b) { return {_mm512_add_ps(a.v, b.v)}; }
inline Avx512f operator-(Avx512f a, Avx512f b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline Avx512f operator*(Avx512f a, Avx512f b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline Avx512f operator/(Avx512f a, Avx512f b) { return {_mm512_div_ps(a.v, b.v)}; }
inline Avx512f operator-(Avx512f a) { return Avx512f::f(_mm512_xor_si512(Avx512f::i(a.v), _mm512_set1_epi32(INT32_MIN))); }
inline Avx512f madd(Avx512f a, Avx512f b, Avx512f c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline Avx512f::M lt(Avx512f a, Avx512f b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Avx512f::M gt(Avx512f a, Avx512f b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Avx512f::M le(Avx512f a, Avx512f b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline Avx512f::M ge(Avx512f a, Avx512f b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline Avx512f::M eq(Avx512f a, Avx512f b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline Avx512f::M isnan(Avx512f a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline Avx512f select(Avx512f::M m, Avx512f a, Avx512f b) { return {_mm512_mask_blend_ps(m.m, b.v, a.v)}; }
inline Avx512f::M m_or(Avx512f::M a, Avx512f::M b) { return {static_cast<decltype(a.m)>(a.m | b.m)}; }
inline bool any(Avx512f::M m) { return m.m != 0; }
inline Avx512f band(Avx512f a, Avx512f b) { return Avx512f::f(_mm512_and_si512(Avx512f::i(a.v), Avx512f::i(b.v))); }
inline Avx512f bor(Avx512f a, Avx512f b) { return Avx512f::f(_mm512_or_si512(Avx512f::i(a.v), Avx512f::i(b.v))); }
inline Avx512f bxor(Avx512f a, Avx512f b) { return Avx512f::f(_mm512_xor_si512(Avx512f::i(a.v), Avx512f::i(b.v))); }
inline Avx512f bandnot(Avx512f a, Avx512f b) { return Avx512f::f(_mm512_andnot_si512(Avx512f::i(a.v), Avx512f::i(b.v))); }
template <int k>
Avx512f shl(Avx512f a) { return Avx512f::f(_mm512_slli_epi32(Avx512f::i(a.v), k)); }
template <int k>
Avx512f shr(Avx512f a) { return Avx512f::f(_mm512_srli_epi32(Avx512f::i(a.v), k)); }

}  // namespace simd
}  // namespace wengert
