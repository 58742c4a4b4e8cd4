// The scalar fast path. A run of consecutive steps that each compute one element (numel 1) of a
// unary or binary elementwise op is compiled into a tape of compact instructions, run by one
// interpreter call instead of one kernel call per step. The opcodes come from the generated op
// lists (generated/ops.h), so ops.json stays the single source.
//
// This header holds the encoding (what Program builds); the interpreter is scalar_tape_run.h,
// which each instruction set compiles for itself (simd/isa_body.h includes it inside its target
// region): an op reaches the same code through the tape as through its kernel (the vector math
// ops call the same vector function on one element), so the tape gives the same bits as the
// generic path on the instruction set in use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "format.h"

namespace wengert {

// One code per (unary or binary elementwise op, float dtype).
enum class TapeCode : uint16_t {
#define WENGERT_TAPE_CODE(name) name##_f64, name##_f32,
  WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_CODE) WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_CODE)
#undef WENGERT_TAPE_CODE
};
#define WENGERT_TAPE_COUNT(name) +2
inline constexpr uint16_t kTapeCodes = 0 WENGERT_FOR_EACH_UNARY_OP(WENGERT_TAPE_COUNT)
    WENGERT_FOR_EACH_BINARY_OP(WENGERT_TAPE_COUNT);
#undef WENGERT_TAPE_COUNT

// Superinstructions: the threaded interpreter runs two consecutive instructions whose ops are
// both in this list (the arithmetic that reverse-mode gradients of scalar code are made of) as
// one handler, so one indirect jump dispatches two ops. Each op of a pair computes exactly what
// it computes alone, in order: the bits do not change.
//
// Links: every handler leaves the value it computed last in a register. An instruction of these
// ops whose `a`, `b` or both are the previous instruction's `dst` (a link) takes that operand
// from the register instead of memory: its handler is a variant for that link (for a pair, one
// per link of each of its two ops). Values are still stored, for later readers; a store and a
// reload give back the same bits, so links change nothing but the time: a dependency on the
// previous instruction no longer waits for a store and a reload.
#define WENGERT_FOR_EACH_TAPE_PAIR_OP(X) X(add) X(sub) X(mul) X(safe_mul) X(neg)
// The same list again, each entry with a first op (a macro cannot expand itself, so the pairs'
// second ops need their own copy; tape_pair_lists_agree() checks that both lists are equal).
#define WENGERT_FOR_EACH_TAPE_PAIR_SECOND(X, first) \
  X(first, add) X(first, sub) X(first, mul) X(first, safe_mul) X(first, neg)
#define WENGERT_TAPE_COUNT(name) +1
inline constexpr uint16_t kTapePairOps = 0 WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_COUNT);
#undef WENGERT_TAPE_COUNT
constexpr bool tape_pair_lists_agree() {
  const OpCode outer[] = {
#define WENGERT_TAPE_OUTER(name) OpCode::name,
      WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_OUTER)
#undef WENGERT_TAPE_OUTER
  };
  const OpCode inner[] = {
#define WENGERT_TAPE_INNER(first, name) OpCode::name,
      WENGERT_FOR_EACH_TAPE_PAIR_SECOND(WENGERT_TAPE_INNER, unused)
#undef WENGERT_TAPE_INNER
  };
  if (std::size(outer) != std::size(inner)) return false;
  for (std::size_t i = 0; i < std::size(outer); ++i) {
    if (outer[i] != inner[i]) return false;
  }
  return true;
}
static_assert(tape_pair_lists_agree(), "WENGERT_FOR_EACH_TAPE_PAIR_OP and _SECOND must list the same ops");
// An instruction's link to the previous one: kTapeLinkA if its `a` is the previous `dst`,
// kTapeLinkB if its `b` is, both, or neither (0). A unary op's `b` is its `a`.
inline constexpr uint16_t kTapeLinkA = 1, kTapeLinkB = 2, kTapeLinks = 4;
// Handler numbers: 0 .. kTapeCodes-1 run one instruction with no link (handler == code); then one
// instruction of a pair op with link 0..3, f64 then f32 ops; then the pairs of f64 ops, then those
// of f32 ops, each (first op, second op) as kTapeLinks² variants (the second op's link to the
// first, then the first op's link to the previous instruction).
inline constexpr uint16_t kTapeLinkedSingles = kTapeCodes;
inline constexpr uint16_t kTapePairs = kTapeLinkedSingles + 2 * kTapePairOps * kTapeLinks;
inline constexpr uint16_t kTapeHandlers = kTapePairs + 2 * kTapePairOps * kTapePairOps * kTapeLinks * kTapeLinks;

// value(dst) = op(value(a)) or op(value(a), value(b)); dst, a and b are byte offsets from the start
// of the arena's scalar region to one element: mostly of 8-byte scalar slots (a value of either
// float dtype sits at the start of its slot), negative for an element of a small vector in the
// aligned region before it (an element copy of a concat, as `identity`). `code` is the op;
// `handler` is where the threaded interpreter enters for this instruction: `code` itself, a
// variant of it for its link, or a pair handler that also runs the next instruction.
struct TapeOp {
  TapeCode code;
  uint16_t handler;
  int32_t dst;
  int32_t a;
  int32_t b;
};
static_assert(sizeof(TapeOp) == 16);

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

// The position of a tape code's op in WENGERT_FOR_EACH_TAPE_PAIR_OP, or -1.
constexpr int tape_pair_index(TapeCode code) {
  const uint16_t f64_code = static_cast<uint16_t>(code) & ~uint16_t{1};
  int i = 0;
#define WENGERT_TAPE_PAIR_INDEX(name)                                          \
  if (f64_code == static_cast<uint16_t>(TapeCode::name##_f64)) return i; \
  ++i;
  WENGERT_FOR_EACH_TAPE_PAIR_OP(WENGERT_TAPE_PAIR_INDEX)
#undef WENGERT_TAPE_PAIR_INDEX
  return -1;
}

// The handler of one instruction of `code` with `link` to the previous one: `code` itself if
// link is 0 or the op has no linked variants (then it reads its operands from memory).
constexpr uint16_t tape_single_handler(TapeCode code, uint16_t link = 0) {
  const int i = tape_pair_index(code);
  if (link == 0 || link >= kTapeLinks || i < 0) return static_cast<uint16_t>(code);
  const uint16_t f32 = static_cast<uint16_t>(code) & 1;
  return static_cast<uint16_t>(kTapeLinkedSingles + (f32 * kTapePairOps + i) * kTapeLinks + link);
}

// The handler number of the pair (first, second), where `link` is the second's link to the first
// and `entry` the first's link to the previous instruction, or 0 if there is none (both must be
// pair ops of the same dtype).
constexpr uint16_t tape_pair_handler(TapeCode first, TapeCode second, uint16_t link = 0, uint16_t entry = 0) {
  const int i = tape_pair_index(first), j = tape_pair_index(second);
  const uint16_t f32 = static_cast<uint16_t>(first) & 1;
  if (i < 0 || j < 0 || f32 != (static_cast<uint16_t>(second) & 1) || link >= kTapeLinks || entry >= kTapeLinks) {
    return 0;
  }
  return static_cast<uint16_t>(kTapePairs +
                               (((f32 * kTapePairOps + i) * kTapePairOps + j) * kTapeLinks + link) * kTapeLinks + entry);
}

// The link of `next` to `prev` (kTapeLinkA | kTapeLinkB, or 0): which operands of `next` are at
// `prev`'s dst, the same element, when both have one dtype.
constexpr uint16_t tape_link(const TapeOp& prev, const TapeOp& next) {
  if (((static_cast<uint16_t>(prev.code) ^ static_cast<uint16_t>(next.code)) & 1) != 0) return 0;
  return static_cast<uint16_t>((next.a == prev.dst ? kTapeLinkA : 0) | (next.b == prev.dst ? kTapeLinkB : 0));
}

// Sets the handlers of one run of instructions (ops[0, n), run by one runner call): pairs
// greedily from the start (the most pairs a run can hold), every other instruction alone, each
// with its links. The run's first instruction has none: nothing ran before it in the run.
inline void tape_assign_handlers(TapeOp* ops, std::size_t n) {
  const auto link_to_previous = [&](std::size_t i) { return i == 0 ? uint16_t{0} : tape_link(ops[i - 1], ops[i]); };
  for (std::size_t i = 0; i < n;) {
    if (i + 1 < n && tape_pair_handler(ops[i].code, ops[i + 1].code) != 0) {
      ops[i].handler = tape_pair_handler(ops[i].code, ops[i + 1].code, link_to_previous(i + 1), link_to_previous(i));
      ops[i + 1].handler = static_cast<uint16_t>(ops[i + 1].code);
      i += 2;
    } else {
      ops[i].handler = tape_single_handler(ops[i].code, link_to_previous(i));
      i += 1;
    }
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

// The runner of the instruction set in use (isa.h); `portable`: its switch loop (for tests).
TapeRunner select_tape_runner(bool portable = false);

// Each instruction set's runners (scalar_tape_run.h): run_tape is the one Program uses (threaded
// dispatch where the compiler supports it); run_tape_portable is the switch loop, which ignores
// the handlers, kept for compilers without computed goto and compared with run_tape by the tests.
#define WENGERT_DECLARE_TAPE_RUNNER(ns)                                         \
  namespace ns {                                                                \
  void run_tape(const TapeOp* ops, std::size_t n, uint8_t* slots);              \
  void run_tape_portable(const TapeOp* ops, std::size_t n, uint8_t* slots);     \
  }
WENGERT_DECLARE_TAPE_RUNNER(isa_scalar)
WENGERT_DECLARE_TAPE_RUNNER(isa_sse2)
WENGERT_DECLARE_TAPE_RUNNER(isa_avx2)
WENGERT_DECLARE_TAPE_RUNNER(isa_avx512)
WENGERT_DECLARE_TAPE_RUNNER(isa_neon)
#undef WENGERT_DECLARE_TAPE_RUNNER

}  // namespace wengert
