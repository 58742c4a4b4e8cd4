// The scalar tape's interpreter (the encoding is scalar_tape.h). simd/isa_body.h includes this
// inside each instruction set's target region, so every instruction set compiles its own copy.
//
// run_tape_threaded (GCC, Clang): threaded dispatch. Each instruction's `handler` indexes a table
// of label addresses and every handler ends with its own indirect jump to the next one, so the
// branch predictor sees one jump site per handler (op-to-op patterns) instead of a single switch
// jump for the whole tape; pair handlers run two instructions per jump. run_tape_switch: the
// portable loop, one switch per instruction on `code` (handlers ignored), for other compilers.
// Both run every instruction through the same TapeExec, so they give the same bits.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "scalar_tape.h"

#if defined(__GNUC__) || defined(__clang__)
#define WENGERT_TAPE_THREADED 1
#else
#define WENGERT_TAPE_THREADED 0
#endif

namespace wengert {

// Vec::template apply<T, k>(x) is vector math function k (tape_vec_index) of one element, exactly
// as that instruction set's kernel computes it.
template <class Vec, OpCode C, class F, class T>
inline T tape_unary(T x) {
  if constexpr (tape_vec_index(C) >= 0) {
    return Vec::template apply<T, tape_vec_index(C)>(x);
  } else {
    return F::apply(x);
  }
}

#if WENGERT_TAPE_THREADED
// GCC/Clang vector types: one 16-byte register, of which the tape uses lane 0.
typedef double TapeV2d __attribute__((vector_size(16)));
typedef float TapeV4f __attribute__((vector_size(16)));
#endif

// F's value. safe_mul, (x == 0) ? 0 : x·y, is computed without a branch (a data-dependent branch
// on gradient values mispredicts): the product, masked to +0 where x == 0 (x != 0 is true for
// NaN, which keeps the NaN product), the same bits.
template <class F, class T>
inline T tape_binary(T x, T y) {
  if constexpr (std::is_same_v<F, scalar::safe_mul>) {
#if WENGERT_TAPE_THREADED
    // A compare mask and an and in vector registers (GCC turns the integer form below into
    // moves to general registers and flag tests).
    using V = std::conditional_t<sizeof(T) == 8, TapeV2d, TapeV4f>;
    using M = decltype(V{} != V{});
    const V xv = {x}, product = {x * y};
    const M keep = xv != V{};
    return reinterpret_cast<V>(reinterpret_cast<M>(product) & keep)[0];
#else
    using U = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
    const U keep = U(0) - U(x != T(0));
    return std::bit_cast<T>(std::bit_cast<U>(x * y) & keep);
#endif
  } else {
    return F::apply(x, y);
  }
}

template <class T>
inline T& tape_slot(uint8_t* slots, int32_t byte_offset) {
  return *reinterpret_cast<T*>(slots + byte_offset);
}

// One instruction of tape code C.
template <class Vec, TapeCode C>
struct TapeExec;

#define WENGERT_TAPE_EXEC_UNARY(name)                                                                 \
  template <class Vec>                                                                                \
  struct TapeExec<Vec, TapeCode::name##_f64> {                                                        \
    static void run(const TapeOp& o, uint8_t* v) {                                                    \
      tape_slot<double>(v, o.dst) = tape_unary<Vec, OpCode::name, scalar::name>(tape_slot<double>(v, o.a)); \
    }                                                                                                 \
  };                                                                                                  \
  template <class Vec>                                                                                \
  struct TapeExec<Vec, TapeCode::name##_f32> {                                                        \
    static void run(const TapeOp& o, uint8_t* v) {                                                    \
      tape_slot<float>(v, o.dst) = tape_unary<Vec, OpCode::name, scalar::name>(tape_slot<float>(v, o.a)); \
    }                                                                                                 \
  };
#define WENGERT_TAPE_EXEC_BINARY(name)                                                                \
  template <class Vec>                                                                                \
  struct TapeExec<Vec, TapeCode::name##_f64> {                                                        \
    static void run(const TapeOp& o, uint8_t* v) {                                                    \
      tape_slot<double>(v, o.dst) =                                                                   \
          tape_binary<scalar::name>(tape_slot<double>(v, o.a), tape_slot<double>(v, o.b));            \
    }                                                                                                 \
  };                                                                                                  \
  template <class Vec>                                                                                \
  struct TapeExec<Vec, TapeCode::name##_f32> {                                                        \
    static void run(const TapeOp& o, uint8_t* v) {                                                    \
      tape_slot<float>(v, o.dst) = tape_binary<scalar::name>(tape_slot<float>(v, o.a), tape_slot<float>(v, o.b)); \
    }                                                                                                 \
  };
WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_EXEC_UNARY)
WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_EXEC_BINARY)
#undef WENGERT_TAPE_EXEC_UNARY
#undef WENGERT_TAPE_EXEC_BINARY

template <class Vec>
void run_tape_switch(const TapeOp* ops, std::size_t n, uint8_t* v) {
  for (std::size_t i = 0; i < n; ++i) {
    switch (ops[i].code) {
#define WENGERT_TAPE_CASE(name)                                                                   \
  case TapeCode::name##_f64: TapeExec<Vec, TapeCode::name##_f64>::run(ops[i], v); break; \
  case TapeCode::name##_f32: TapeExec<Vec, TapeCode::name##_f32>::run(ops[i], v); break;
      WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_CASE)
      WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_CASE)
#undef WENGERT_TAPE_CASE
    }
  }
}

#if WENGERT_TAPE_THREADED
// ops[0, n) with tape_assign_handlers' handlers (a pair never starts at ops[n - 1]).
template <class Vec>
void run_tape_threaded(const TapeOp* op, std::size_t n, uint8_t* v) {
  if (n == 0) return;
  // In handler-number order (scalar_tape.h): one per tape code, then the f64 pairs, the f32 pairs.
  static const void* const kHandlers[kTapeHandlers] = {
#define WENGERT_TAPE_LABEL(name) &&single_##name##_f64, &&single_##name##_f32,
      WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_LABEL) WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_LABEL)
#undef WENGERT_TAPE_LABEL
#define WENGERT_TAPE_PAIR_LABEL(first, second) &&pair_##first##_##second##_f64,
#define WENGERT_TAPE_PAIR_ROW(first) WENGERT_FOR_EACH_TAPE_PAIR_SECOND(WENGERT_TAPE_PAIR_LABEL, first)
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_LABEL
#define WENGERT_TAPE_PAIR_LABEL(first, second) &&pair_##first##_##second##_f32,
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_LABEL
#undef WENGERT_TAPE_PAIR_ROW
  };
  const TapeOp* const end = op + n;
#define WENGERT_TAPE_NEXT(k)      \
  op += (k);                      \
  if (op == end) return;          \
  goto* kHandlers[op->handler];

  goto* kHandlers[op->handler];
#define WENGERT_TAPE_SINGLE(name)                               \
  single_##name##_f64 : TapeExec<Vec, TapeCode::name##_f64>::run(*op, v); \
  WENGERT_TAPE_NEXT(1)                                          \
  single_##name##_f32 : TapeExec<Vec, TapeCode::name##_f32>::run(*op, v); \
  WENGERT_TAPE_NEXT(1)
  WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_SINGLE)
  WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_SINGLE)
#undef WENGERT_TAPE_SINGLE
#define WENGERT_TAPE_PAIR(first, second)                                         \
  pair_##first##_##second##_f64 : TapeExec<Vec, TapeCode::first##_f64>::run(op[0], v); \
  TapeExec<Vec, TapeCode::second##_f64>::run(op[1], v);                          \
  WENGERT_TAPE_NEXT(2)                                                           \
  pair_##first##_##second##_f32 : TapeExec<Vec, TapeCode::first##_f32>::run(op[0], v); \
  TapeExec<Vec, TapeCode::second##_f32>::run(op[1], v);                          \
  WENGERT_TAPE_NEXT(2)
#define WENGERT_TAPE_PAIR_ROW(first) WENGERT_FOR_EACH_TAPE_PAIR_SECOND(WENGERT_TAPE_PAIR, first)
  WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_ROW
#undef WENGERT_TAPE_PAIR
#undef WENGERT_TAPE_NEXT
}
#endif

// The runner Program uses.
template <class Vec>
void run_tape_with(const TapeOp* ops, std::size_t n, uint8_t* slots) {
#if WENGERT_TAPE_THREADED
  run_tape_threaded<Vec>(ops, n, slots);
#else
  run_tape_switch<Vec>(ops, n, slots);
#endif
}

}  // namespace wengert
