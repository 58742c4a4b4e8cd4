// The scalar tape's interpreter (the encoding is scalar_tape.h). simd/isa_body.h includes this
// inside each instruction set's target region, so every instruction set compiles its own copy.
//
// run_tape_threaded (GCC, Clang): threaded dispatch. Each instruction's `handler` indexes a table
// of label addresses and every handler ends with its own indirect jump to the next one, so the
// branch predictor sees one jump site per handler (op-to-op patterns) instead of a single switch
// jump for the whole tape; pair handlers run two instructions per jump, and a linked instruction
// takes the previous one's value from a register (scalar_tape.h). run_tape_switch: the
// portable loop, one switch per instruction on `code` (handlers ignored), for other compilers.
// Both run every instruction through the same TapeExec, so they give the same bits.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "scalar_tape.h"

// The threaded runner needs computed goto (GCC, clang) and reads instructions as little-endian
// words. -DWENGERT_TAPE_THREADED=0 forces the portable switch loop: the fuzz build sets it,
// because clang's sanitizer and coverage instrumentation of the threaded runner's one large
// function took 5 minutes and more per isa_*.cpp (8 s for isa_scalar.cpp with the switch loop).
#ifndef WENGERT_TAPE_THREADED
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WENGERT_TAPE_THREADED 1
#else
#define WENGERT_TAPE_THREADED 0
#endif
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

// One instruction of tape code C: its element type T and its value from its operands' values
// (a unary op ignores y).
template <class Vec, TapeCode C>
struct TapeExec;

#define WENGERT_TAPE_EXEC_UNARY(name)                                          \
  template <class Vec>                                                         \
  struct TapeExec<Vec, TapeCode::name##_f64> {                                 \
    using T = double;                                                          \
    static T apply(T x, T) { return tape_unary<Vec, OpCode::name, scalar::name>(x); } \
  };                                                                           \
  template <class Vec>                                                         \
  struct TapeExec<Vec, TapeCode::name##_f32> {                                 \
    using T = float;                                                           \
    static T apply(T x, T) { return tape_unary<Vec, OpCode::name, scalar::name>(x); } \
  };
#define WENGERT_TAPE_EXEC_BINARY(name)                                         \
  template <class Vec>                                                         \
  struct TapeExec<Vec, TapeCode::name##_f64> {                                 \
    using T = double;                                                          \
    static T apply(T x, T y) { return tape_binary<scalar::name>(x, y); }       \
  };                                                                           \
  template <class Vec>                                                         \
  struct TapeExec<Vec, TapeCode::name##_f32> {                                 \
    using T = float;                                                           \
    static T apply(T x, T y) { return tape_binary<scalar::name>(x, y); }       \
  };
WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_EXEC_UNARY)
WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_EXEC_BINARY)
#undef WENGERT_TAPE_EXEC_UNARY
#undef WENGERT_TAPE_EXEC_BINARY

// Runs instruction `o` of code C through memory: value(dst) = op(value(a), value(b)).
template <class Vec, TapeCode C>
inline void tape_exec(const TapeOp& o, uint8_t* v) {
  using T = typename TapeExec<Vec, C>::T;
  tape_slot<T>(v, o.dst) = TapeExec<Vec, C>::apply(tape_slot<T>(v, o.a), tape_slot<T>(v, o.b));
}

template <class Vec>
void run_tape_switch(const TapeOp* ops, std::size_t n, uint8_t* v) {
  for (std::size_t i = 0; i < n; ++i) {
    switch (ops[i].code) {
#define WENGERT_TAPE_CASE(name)                                                                   \
  case TapeCode::name##_f64: tape_exec<Vec, TapeCode::name##_f64>(ops[i], v); break; \
  case TapeCode::name##_f32: tape_exec<Vec, TapeCode::name##_f32>(ops[i], v); break;
      WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_CASE)
      WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_CASE)
#undef WENGERT_TAPE_CASE
    }
  }
}

#if WENGERT_TAPE_THREADED
// The threaded runner reads an instruction as two little-endian 64-bit words, head (code, handler,
// dst) and body (a, b): two loads instead of one per field.
inline uint64_t tape_word(const TapeOp* op, int k) {
  uint64_t w;
  std::memcpy(&w, reinterpret_cast<const uint8_t*>(op) + 8 * k, sizeof w);
  return w;
}
inline uint16_t tape_head_handler(uint64_t head) { return static_cast<uint16_t>(head >> 16); }
inline int32_t tape_high(uint64_t w) { return static_cast<int32_t>(static_cast<uint32_t>(w >> 32)); }
inline int32_t tape_low(uint64_t w) { return static_cast<int32_t>(static_cast<uint32_t>(w)); }
static_assert(offsetof(TapeOp, handler) == 2 && offsetof(TapeOp, dst) == 4 && offsetof(TapeOp, a) == 8 &&
              offsetof(TapeOp, b) == 12);

// x, as a value the compiler cannot see into: a linked instruction reads the previous one's value
// from a register, and GCC (whose C++ default is -ffp-contract=fast) could otherwise fuse a
// product and the sum that reads it into one FMA, which the kernels (one op per call) never do.
template <class T>
inline T tape_opaque(T x) {
#if defined(__x86_64__) || defined(__i386__)
  asm("" : "+x"(x));
#elif defined(__aarch64__)
  asm("" : "+w"(x));
#else
  asm("" : "+m"(x));
#endif
  return x;
}

// The instruction at `op` (head already read), whose link to the previous instruction is L and
// `last` that instruction's value: stores its value and returns it.
template <class Vec, TapeCode C, int L>
inline typename TapeExec<Vec, C>::T tape_run_one(const TapeOp* op, uint64_t head, uint8_t* v,
                                                 typename TapeExec<Vec, C>::T last) {
  using T = typename TapeExec<Vec, C>::T;
  const uint64_t body = tape_word(op, 1);
  const T x = (L & kTapeLinkA) != 0 ? last : tape_slot<T>(v, tape_low(body));
  const T y = (L & kTapeLinkB) != 0 ? last : tape_slot<T>(v, tape_high(body));
  const T r = TapeExec<Vec, C>::apply(x, y);
  tape_slot<T>(v, tape_high(head)) = r;
  return r;
}

// The register each handler leaves its value in (scalar_tape.h, links): one per dtype.
template <class T>
inline T& tape_last(double& last_f64, float& last_f32) {
  if constexpr (std::is_same_v<T, double>) {
    return last_f64;
  } else {
    return last_f32;
  }
}

// One instruction, linked by E to the previous one.
template <class Vec, TapeCode C, int E>
inline void tape_single(const TapeOp* op, uint64_t head, uint8_t* v, double& last_f64, float& last_f32) {
  using T = typename TapeExec<Vec, C>::T;
  T& last = tape_last<T>(last_f64, last_f32);
  last = tape_opaque(tape_run_one<Vec, C, E>(op, head, v, last));
}

// The pair at op[0], op[1]: the first op linked by E to the previous instruction, the second by L
// to the first.
template <class Vec, TapeCode C1, TapeCode C2, int L, int E>
inline void tape_pair(const TapeOp* op, uint64_t head, uint8_t* v, double& last_f64, float& last_f32) {
  using T = typename TapeExec<Vec, C1>::T;
  static_assert(std::is_same_v<T, typename TapeExec<Vec, C2>::T>);
  T& last = tape_last<T>(last_f64, last_f32);
  const T first = tape_opaque(tape_run_one<Vec, C1, E>(op, head, v, last));
  last = tape_opaque(tape_run_one<Vec, C2, L>(op + 1, tape_word(op + 1, 0), v, first));
}

// ops[0, n) with tape_assign_handlers' handlers (a pair never starts at ops[n - 1]).
template <class Vec>
void run_tape_threaded(const TapeOp* op, std::size_t n, uint8_t* v) {
  if (n == 0) return;
  // In handler-number order (scalar_tape.h): one per tape code; the linked singles, f64 then f32;
  // the f64 pairs, the f32 pairs, each as its links (second to first) 0..3 of entries 0..3.
  static const void* const kHandlers[kTapeHandlers] = {
#define WENGERT_TAPE_LABEL(name) &&single_##name##_f64, &&single_##name##_f32,
      WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_LABEL) WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_LABEL)
#undef WENGERT_TAPE_LABEL
#define WENGERT_TAPE_LINKED_LABEL(name) &&linked_##name##_f64_0, &&linked_##name##_f64_1, &&linked_##name##_f64_2, &&linked_##name##_f64_3,
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_LINKED_LABEL)
#undef WENGERT_TAPE_LINKED_LABEL
#define WENGERT_TAPE_LINKED_LABEL(name) &&linked_##name##_f32_0, &&linked_##name##_f32_1, &&linked_##name##_f32_2, &&linked_##name##_f32_3,
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_LINKED_LABEL)
#undef WENGERT_TAPE_LINKED_LABEL
#define WENGERT_TAPE_PAIR_ENTRIES(first, second, t, link)                                                \
  &&pair_##first##_##second##_##t##_##link##_0, &&pair_##first##_##second##_##t##_##link##_1,             \
      &&pair_##first##_##second##_##t##_##link##_2, &&pair_##first##_##second##_##t##_##link##_3,
#define WENGERT_TAPE_PAIR_LABEL(first, second)                                                          \
  WENGERT_TAPE_PAIR_ENTRIES(first, second, f64, 0) WENGERT_TAPE_PAIR_ENTRIES(first, second, f64, 1)       \
  WENGERT_TAPE_PAIR_ENTRIES(first, second, f64, 2) WENGERT_TAPE_PAIR_ENTRIES(first, second, f64, 3)
#define WENGERT_TAPE_PAIR_ROW(first) WENGERT_FOR_EACH_TAPE_PAIR_SECOND(WENGERT_TAPE_PAIR_LABEL, first)
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_LABEL
#define WENGERT_TAPE_PAIR_LABEL(first, second)                                                          \
  WENGERT_TAPE_PAIR_ENTRIES(first, second, f32, 0) WENGERT_TAPE_PAIR_ENTRIES(first, second, f32, 1)       \
  WENGERT_TAPE_PAIR_ENTRIES(first, second, f32, 2) WENGERT_TAPE_PAIR_ENTRIES(first, second, f32, 3)
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_LABEL
#undef WENGERT_TAPE_PAIR_ROW
#undef WENGERT_TAPE_PAIR_ENTRIES
  };
  const TapeOp* const end = op + n;
  double last_f64 = 0;
  float last_f32 = 0;
  uint64_t head = tape_word(op, 0);
#define WENGERT_TAPE_NEXT(k)     \
  op += (k);                     \
  if (op == end) return;         \
  head = tape_word(op, 0);       \
  goto* kHandlers[tape_head_handler(head)];

  goto* kHandlers[tape_head_handler(head)];
#define WENGERT_TAPE_SINGLE(name)                                                                     \
  single_##name##_f64 : tape_single<Vec, TapeCode::name##_f64, 0>(op, head, v, last_f64, last_f32); \
  WENGERT_TAPE_NEXT(1)                                                                                \
  single_##name##_f32 : tape_single<Vec, TapeCode::name##_f32, 0>(op, head, v, last_f64, last_f32); \
  WENGERT_TAPE_NEXT(1)
  WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_SINGLE)
  WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_SINGLE)
#undef WENGERT_TAPE_SINGLE
#define WENGERT_TAPE_LINKED_ONE(name, t, link)                                                                 \
  linked_##name##_##t##_##link : tape_single<Vec, TapeCode::name##_##t, link>(op, head, v, last_f64, last_f32); \
  WENGERT_TAPE_NEXT(1)
#define WENGERT_TAPE_LINKED(name)                                                                   \
  WENGERT_TAPE_LINKED_ONE(name, f64, 0) WENGERT_TAPE_LINKED_ONE(name, f64, 1)                       \
  WENGERT_TAPE_LINKED_ONE(name, f64, 2) WENGERT_TAPE_LINKED_ONE(name, f64, 3)                       \
  WENGERT_TAPE_LINKED_ONE(name, f32, 0) WENGERT_TAPE_LINKED_ONE(name, f32, 1)                       \
  WENGERT_TAPE_LINKED_ONE(name, f32, 2) WENGERT_TAPE_LINKED_ONE(name, f32, 3)
  WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_LINKED)
#undef WENGERT_TAPE_LINKED
#undef WENGERT_TAPE_LINKED_ONE
#define WENGERT_TAPE_PAIR_ONE(first, second, t, link, entry)                                                       \
  pair_##first##_##second##_##t##_##link##_##entry                                                                 \
      : tape_pair<Vec, TapeCode::first##_##t, TapeCode::second##_##t, link, entry>(op, head, v, last_f64, last_f32); \
  WENGERT_TAPE_NEXT(2)
#define WENGERT_TAPE_PAIR_LINK(first, second, t, link)                                            \
  WENGERT_TAPE_PAIR_ONE(first, second, t, link, 0) WENGERT_TAPE_PAIR_ONE(first, second, t, link, 1) \
  WENGERT_TAPE_PAIR_ONE(first, second, t, link, 2) WENGERT_TAPE_PAIR_ONE(first, second, t, link, 3)
#define WENGERT_TAPE_PAIR(first, second)                                                               \
  WENGERT_TAPE_PAIR_LINK(first, second, f64, 0) WENGERT_TAPE_PAIR_LINK(first, second, f64, 1)          \
  WENGERT_TAPE_PAIR_LINK(first, second, f64, 2) WENGERT_TAPE_PAIR_LINK(first, second, f64, 3)          \
  WENGERT_TAPE_PAIR_LINK(first, second, f32, 0) WENGERT_TAPE_PAIR_LINK(first, second, f32, 1)          \
  WENGERT_TAPE_PAIR_LINK(first, second, f32, 2) WENGERT_TAPE_PAIR_LINK(first, second, f32, 3)
#define WENGERT_TAPE_PAIR_ROW(first) WENGERT_FOR_EACH_TAPE_PAIR_SECOND(WENGERT_TAPE_PAIR, first)
  WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_ROW)
#undef WENGERT_TAPE_PAIR_ROW
#undef WENGERT_TAPE_PAIR
#undef WENGERT_TAPE_PAIR_LINK
#undef WENGERT_TAPE_PAIR_ONE
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
