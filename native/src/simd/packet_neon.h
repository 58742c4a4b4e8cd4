// NEON (AArch64 Advanced SIMD) packets: 2 doubles, 4 floats (see packet_scalar.h for the
// interface). NEON is part of the AArch64 baseline, so isa_neon.cpp needs no target flags.
// Multiply-add is fused (vfmaq), like AVX2's.
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace wengert {
namespace simd {

struct NeonD {
  using Scalar = double;
  using Bits = uint64_t;
  static constexpr int N = 2;
  struct M {
    uint64x2_t m;
  };
  float64x2_t v;
  static uint64x2_t u(float64x2_t a) { return vreinterpretq_u64_f64(a); }
  static NeonD d(uint64x2_t a) { return {vreinterpretq_f64_u64(a)}; }
  static NeonD set1(double x) { return {vdupq_n_f64(x)}; }
  static NeonD set1_bits(uint64_t b) { return d(vdupq_n_u64(b)); }
  static NeonD load(const double* p) { return {vld1q_f64(p)}; }
};
inline void store(double* p, NeonD a) { vst1q_f64(p, a.v); }
inline NeonD operator+(NeonD a, NeonD b) { return {vaddq_f64(a.v, b.v)}; }
inline NeonD operator-(NeonD a, NeonD b) { return {vsubq_f64(a.v, b.v)}; }
inline NeonD operator*(NeonD a, NeonD b) { return {vmulq_f64(a.v, b.v)}; }
inline NeonD operator/(NeonD a, NeonD b) { return {vdivq_f64(a.v, b.v)}; }
inline NeonD operator-(NeonD a) { return {vnegq_f64(a.v)}; }
inline NeonD madd(NeonD a, NeonD b, NeonD c) { return {vfmaq_f64(c.v, a.v, b.v)}; }
inline NeonD::M lt(NeonD a, NeonD b) { return {vcltq_f64(a.v, b.v)}; }
inline NeonD::M gt(NeonD a, NeonD b) { return {vcgtq_f64(a.v, b.v)}; }
inline NeonD::M le(NeonD a, NeonD b) { return {vcleq_f64(a.v, b.v)}; }
inline NeonD::M ge(NeonD a, NeonD b) { return {vcgeq_f64(a.v, b.v)}; }
inline NeonD::M eq(NeonD a, NeonD b) { return {vceqq_f64(a.v, b.v)}; }
inline NeonD::M isnan(NeonD a) {
  return {vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(a.v, a.v))))};
}
inline NeonD select(NeonD::M m, NeonD a, NeonD b) { return {vbslq_f64(m.m, a.v, b.v)}; }
inline NeonD::M m_or(NeonD::M a, NeonD::M b) { return {vorrq_u64(a.m, b.m)}; }
inline bool any(NeonD::M m) { return vmaxvq_u32(vreinterpretq_u32_u64(m.m)) != 0; }
inline NeonD band(NeonD a, NeonD b) { return NeonD::d(vandq_u64(NeonD::u(a.v), NeonD::u(b.v))); }
inline NeonD bor(NeonD a, NeonD b) { return NeonD::d(vorrq_u64(NeonD::u(a.v), NeonD::u(b.v))); }
inline NeonD bxor(NeonD a, NeonD b) { return NeonD::d(veorq_u64(NeonD::u(a.v), NeonD::u(b.v))); }
inline NeonD bandnot(NeonD a, NeonD b) { return NeonD::d(vbicq_u64(NeonD::u(b.v), NeonD::u(a.v))); }
template <int k>
NeonD shl(NeonD a) { return NeonD::d(vshlq_n_u64(NeonD::u(a.v), k)); }
template <int k>
NeonD shr(NeonD a) { return NeonD::d(vshrq_n_u64(NeonD::u(a.v), k)); }

struct NeonF {
  using Scalar = float;
  using Bits = uint32_t;
  static constexpr int N = 4;
  struct M {
    uint32x4_t m;
  };
  float32x4_t v;
  static uint32x4_t u(float32x4_t a) { return vreinterpretq_u32_f32(a); }
  static NeonF f(uint32x4_t a) { return {vreinterpretq_f32_u32(a)}; }
  static NeonF set1(float x) { return {vdupq_n_f32(x)}; }
  static NeonF set1_bits(uint32_t b) { return f(vdupq_n_u32(b)); }
  static NeonF load(const float* p) { return {vld1q_f32(p)}; }
};
inline void store(float* p, NeonF a) { vst1q_f32(p, a.v); }
inline NeonF operator+(NeonF a, NeonF b) { return {vaddq_f32(a.v, b.v)}; }
inline NeonF operator-(NeonF a, NeonF b) { return {vsubq_f32(a.v, b.v)}; }
inline NeonF operator*(NeonF a, NeonF b) { return {vmulq_f32(a.v, b.v)}; }
inline NeonF operator/(NeonF a, NeonF b) { return {vdivq_f32(a.v, b.v)}; }
inline NeonF operator-(NeonF a) { return {vnegq_f32(a.v)}; }
inline NeonF madd(NeonF a, NeonF b, NeonF c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
inline NeonF::M lt(NeonF a, NeonF b) { return {vcltq_f32(a.v, b.v)}; }
inline NeonF::M gt(NeonF a, NeonF b) { return {vcgtq_f32(a.v, b.v)}; }
inline NeonF::M le(NeonF a, NeonF b) { return {vcleq_f32(a.v, b.v)}; }
inline NeonF::M ge(NeonF a, NeonF b) { return {vcgeq_f32(a.v, b.v)}; }
inline NeonF::M eq(NeonF a, NeonF b) { return {vceqq_f32(a.v, b.v)}; }
inline NeonF::M isnan(NeonF a) { return {vmvnq_u32(vceqq_f32(a.v, a.v))}; }
inline NeonF select(NeonF::M m, NeonF a, NeonF b) { return {vbslq_f32(m.m, a.v, b.v)}; }
inline NeonF::M m_or(NeonF::M a, NeonF::M b) { return {vorrq_u32(a.m, b.m)}; }
inline bool any(NeonF::M m) { return vmaxvq_u32(m.m) != 0; }
inline NeonF band(NeonF a, NeonF b) { return NeonF::f(vandq_u32(NeonF::u(a.v), NeonF::u(b.v))); }
inline NeonF bor(NeonF a, NeonF b) { return NeonF::f(vorrq_u32(NeonF::u(a.v), NeonF::u(b.v))); }
inline NeonF bxor(NeonF a, NeonF b) { return NeonF::f(veorq_u32(NeonF::u(a.v), NeonF::u(b.v))); }
inline NeonF bandnot(NeonF a, NeonF b) { return NeonF::f(vbicq_u32(NeonF::u(b.v), NeonF::u(a.v))); }
template <int k>
NeonF shl(NeonF a) { return NeonF::f(vshlq_n_u32(NeonF::u(a.v), k)); }
template <int k>
NeonF shr(NeonF a) { return NeonF::f(vshrq_n_u32(NeonF::u(a.v), k)); }

}  // namespace simd
}  // namespace wengert
