// The scalar fast path. A run of consecutive steps that each compute one element (numel 1) of a
// unary or binary elementwise op is compiled into a tape of compact instructions, run by one
// switch loop instead of one kernel call per step. The cases come from the generated op lists
// (generated/ops.h), so ops.json stays the single source.
//
// Each instruction set compiles its own runner (simd/isa_body.h includes this header inside its
// target region): an op reaches the same code through the tape as through its kernel (the vector
// math ops call the same vector function on one element), so the tape gives the same bits as the
// generic path on the instruction set in use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "format.h"

namespace wengert {

// One code per (unary or binary elementwise op, float dtype).
enum class TapeCode : uint16_t {
#define WENGERT_TAPE_CODE(name) name##_f64, name##_f32,
  WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_CODE) WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_CODE)
#undef WENGERT_TAPE_CODE
};

// slot[dst] = op(slot[a]) or op(slot[a], slot[b]): indices of 8-byte scalar slots (a value of
// either float dtype sits at the start of its slot).
struct TapeOp {
  TapeCode code;
  uint32_t dst;
  uint32_t a;
  uint32_t b;
};

using TapeRunner = void (*)(const TapeOp* ops, std::size_t n, uint8_t* slots);

// Whether node `code` of `dtype` has a tape code, and which.
inline bool tape_code(OpCode code, DType dtype, TapeCode* out) {
  if (dtype != DType::f64 && dtype != DType::f32) return false;
  const uint16_t f32 = dtype == DType::f32 ? 1 : 0;
  switch (code) {
#define WENGERT_TAPE_CASE(name)                                                   \
  case OpCode::name:                                                              \
    *out = static_cast<TapeCode>(static_cast<uint16_t>(TapeCode::name##_f64) + f32); \
    return true;
    WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_CASE)
    WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_CASE)
#undef WENGERT_TAPE_CASE
    default: return false;
  }
}

// The position of an op in the vector math list (WENGERT_FOR_EACH_SIMD_OP, the order of VecOp),
// or -1 if its kernel is a plain loop over its scalar functor.
constexpr int tape_vec_index(OpCode code) {
  int i = 0;
#define WENGERT_TAPE_VEC(op, fn) \
  if (code == OpCode::op) return i; \
  ++i;
  WENGERT_FOR_EACH_SIMD_OP(WENGERT_TAPE_VEC)
#undef WENGERT_TAPE_VEC
  return -1;
}

// The runner of the instruction set in use (isa.h), chosen once.
TapeRunner select_tape_runner();

// The interpreter. Vec::template apply<T, k>(x) is vector math function k (tape_vec_index) of
// one element, exactly as that instruction set's kernel computes it.
template <class Vec, OpCode C, class F, class T>
inline T tape_unary(T x) {
  if constexpr (tape_vec_index(C) >= 0) {
    return Vec::template apply<T, tape_vec_index(C)>(x);
  } else {
    return F::apply(x);
  }
}

template <class T>
inline T& tape_slot(uint8_t* slots, uint32_t i) {
  return *reinterpret_cast<T*>(slots + std::size_t{i} * 8);
}

template <class Vec>
void run_tape_with(const TapeOp* ops, std::size_t n, uint8_t* v) {
  for (std::size_t i = 0; i < n; ++i) {
    const TapeOp& op = ops[i];
    switch (op.code) {
#define WENGERT_TAPE_UNARY(name)                                                                        \
  case TapeCode::name##_f64:                                                                            \
    tape_slot<double>(v, op.dst) =                                                                  \
        tape_unary<Vec, OpCode::name, scalar::name>(tape_slot<double>(v, op.a));              \
    break;                                                                                              \
  case TapeCode::name##_f32:                                                                            \
    tape_slot<float>(v, op.dst) = tape_unary<Vec, OpCode::name, scalar::name>(tape_slot<float>(v, op.a)); \
    break;
#define WENGERT_TAPE_BINARY(name)                                                                       \
  case TapeCode::name##_f64:                                                                            \
    tape_slot<double>(v, op.dst) =                                                                  \
        scalar::name::apply(tape_slot<double>(v, op.a), tape_slot<double>(v, op.b)); \
    break;                                                                                              \
  case TapeCode::name##_f32:                                                                            \
    tape_slot<float>(v, op.dst) =                                                                   \
        scalar::name::apply(tape_slot<float>(v, op.a), tape_slot<float>(v, op.b));  \
    break;
      WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_UNARY)
      WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_BINARY)
#undef WENGERT_TAPE_UNARY
#undef WENGERT_TAPE_BINARY
    }
  }
}

#define WENGERT_DECLARE_TAPE_RUNNER(ns)                                \
  namespace ns {                                                       \
  void run_tape(const TapeOp* ops, std::size_t n, uint8_t* slots);     \
  }
WENGERT_DECLARE_TAPE_RUNNER(isa_scalar)
WENGERT_DECLARE_TAPE_RUNNER(isa_sse2)
WENGERT_DECLARE_TAPE_RUNNER(isa_avx2)
WENGERT_DECLARE_TAPE_RUNNER(isa_avx512)
WENGERT_DECLARE_TAPE_RUNNER(isa_neon)
#undef WENGERT_DECLARE_TAPE_RUNNER

}  // namespace wengert
