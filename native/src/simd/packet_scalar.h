// The scalar packet: one lane of T. It implements the packet interface that vecmath.h is written
// against (see packet interface below), so the scalar path runs exactly the vector algorithm, one
// element at a time, and is the reference the SIMD packets are tested against. Compiled with the
// baseline flags only; its multiply-add is unfused (a*b + c, two roundings), like SSE2's.
//
// The packet interface (each ISA's packet type P provides the same):
//   P::T, P::N (lanes), P::M (lane mask), P::set1(T), P::set1_bits(bits), P::load(p), store(p, v)
//   + - * / and unary -, madd(a, b, c) = a*b + c (fused where the ISA has FMA)
//   lt gt le ge eq (ordered: false with NaN), isnan, select(m, a, b) (m ? a : b), m_or, any
//   band bor bxor bandnot(a, b) = ~a & b, shl<k>, shr<k>: bitwise, on each lane's bit pattern
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace wengert {
namespace simd {

struct ScalarMask {
  bool m;
};

template <class T>
struct ScalarPacket {
  using Scalar = T;
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  using M = ScalarMask;
  static constexpr int N = 1;
  T v;
  static ScalarPacket set1(T x) { return {x}; }
  static ScalarPacket set1_bits(Bits b) { return {std::bit_cast<T>(b)}; }
  static ScalarPacket load(const T* p) { return {*p}; }
  friend void store(T* p, ScalarPacket a) { *p = a.v; }
  friend ScalarPacket operator+(ScalarPacket a, ScalarPacket b) { return {a.v + b.v}; }
  friend ScalarPacket operator-(ScalarPacket a, ScalarPacket b) { return {a.v - b.v}; }
  friend ScalarPacket operator*(ScalarPacket a, ScalarPacket b) { return {a.v * b.v}; }
  friend ScalarPacket operator/(ScalarPacket a, ScalarPacket b) { return {a.v / b.v}; }
  friend ScalarPacket operator-(ScalarPacket a) { return {-a.v}; }
  friend ScalarPacket madd(ScalarPacket a, ScalarPacket b, ScalarPacket c) {
    const T p = a.v * b.v;  // a separate statement: never contracted into an fma
    return {p + c.v};
  }
  friend M lt(ScalarPacket a, ScalarPacket b) { return {a.v < b.v}; }
  friend M gt(ScalarPacket a, ScalarPacket b) { return {a.v > b.v}; }
  friend M le(ScalarPacket a, ScalarPacket b) { return {a.v <= b.v}; }
  friend M ge(ScalarPacket a, ScalarPacket b) { return {a.v >= b.v}; }
  friend M eq(ScalarPacket a, ScalarPacket b) { return {a.v == b.v}; }
  friend M isnan(ScalarPacket a) { return {a.v != a.v}; }
  friend ScalarPacket select(M m, ScalarPacket a, ScalarPacket b) { return m.m ? a : b; }
  static Bits bits(ScalarPacket a) { return std::bit_cast<Bits>(a.v); }
  static ScalarPacket from(Bits b) { return {std::bit_cast<T>(b)}; }
  friend ScalarPacket band(ScalarPacket a, ScalarPacket b) { return from(bits(a) & bits(b)); }
  friend ScalarPacket bor(ScalarPacket a, ScalarPacket b) { return from(bits(a) | bits(b)); }
  friend ScalarPacket bxor(ScalarPacket a, ScalarPacket b) { return from(bits(a) ^ bits(b)); }
  friend ScalarPacket bandnot(ScalarPacket a, ScalarPacket b) { return from(~bits(a) & bits(b)); }
};

inline ScalarMask m_or(ScalarMask a, ScalarMask b) { return {a.m || b.m}; }
inline bool any(ScalarMask m) { return m.m; }

template <int k, class T>
ScalarPacket<T> shl(ScalarPacket<T> a) {
  using P = ScalarPacket<T>;
  return P::from(typename P::Bits(P::bits(a) << k));
}
template <int k, class T>
ScalarPacket<T> shr(ScalarPacket<T> a) {
  using P = ScalarPacket<T>;
  return P::from(typename P::Bits(P::bits(a) >> k));
}

}  // namespace simd
}  // namespace wengert
