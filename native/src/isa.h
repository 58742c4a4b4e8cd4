// Run-time choice of the instruction set the elementwise kernels use (issue 5). One translation
// unit per instruction set (isa_scalar.cpp, isa_sse2.cpp, isa_avx2.cpp, isa_avx512.cpp,
// isa_neon.cpp), each compiled for its own target by a pragma at its top (so both build systems
// compile them from the same source lists, with no per-file flags), each exporting the same two
// functions in its own namespace. The choice is made once, on first use, from the CPU's features
// in priority order (avx512 > avx2 > sse2 > scalar on x86-64; neon > scalar on arm64), or forced
// by the environment variable WENGERT_ISA=scalar|sse2|avx2|avx512|neon. A forced instruction set
// this CPU (or this build) lacks falls back to the best available, with a note saying so. The
// choice is the only process-wide state, immutable once made.
//
// What a choice changes: the unary ops with a "simd" entry in ops.json run the vector math of
// simd/vecmath.h on that instruction set's packets (the scalar choice runs the same algorithm one
// element at a time); on avx2 and avx512 the other unary and binary elementwise ops run loops
// compiled for that target (the compiler vectorizes them; IEEE results are unchanged). Everything
// else, and every op on the scalar, sse2 and neon choices, uses the baseline kernels (kernels.cpp).
#pragma once

#include <cstdint>

#include "generated/ops.h"
#include "kernels.h"

namespace wengert {

enum class Isa : uint8_t { scalar, sse2, avx2, avx512, neon };
inline constexpr int kNumIsas = 5;
const char* isa_name(Isa isa);

// The vector math functions, from the "simd" fields of ops.json.
enum class VecOp : uint8_t {
#define WENGERT_VEC_OP_ENUM(op, fn) fn,
  WENGERT_FOR_EACH_SIMD_OP(WENGERT_VEC_OP_ENUM)
#undef WENGERT_VEC_OP_ENUM
};
#define WENGERT_VEC_OP_COUNT(op, fn) +1
inline constexpr int kNumVecOps = 0 WENGERT_FOR_EACH_SIMD_OP(WENGERT_VEC_OP_COUNT);
#undef WENGERT_VEC_OP_COUNT

// y[i] = f(x[i]) for i < n, over arrays of the dtype it was selected for; y == x is allowed.
using VecArrayFn = void (*)(const void* x, void* y, uint64_t n);

struct IsaChoice {
  Isa isa;            // the instruction set in use
  bool forced;        // WENGERT_ISA was set
  const char* requested;  // its value ("" if unset)
  char note[200];     // why the choice differs from the request, or ""
};

// The choice, made on first call (thread-safe) and never changed.
const IsaChoice& isa_choice();
// Whether this build has `isa` and this CPU runs it.
bool isa_supported(Isa isa);
// Why an instruction set is unsupported here (e.g. "CPU lacks avx512f"), or "" if it is supported.
const char* isa_unsupported_reason(Isa isa);
// The chosen instruction set's kernel for an elementwise op, or nullptr (use the baseline kernel).
KernelFn select_isa_kernel(OpCode code, DType dtype);
// A vector math function on a given (supported) instruction set, for tests and benchmarks.
VecArrayFn isa_vec_fn(Isa isa, VecOp op, DType dtype);

#define WENGERT_DECLARE_ISA(ns)                       \
  namespace ns {                                      \
  KernelFn select(OpCode code, DType dtype);          \
  VecArrayFn vec_fn(VecOp op, DType dtype);           \
  }
WENGERT_DECLARE_ISA(isa_scalar)
WENGERT_DECLARE_ISA(isa_sse2)
WENGERT_DECLARE_ISA(isa_avx2)
WENGERT_DECLARE_ISA(isa_avx512)
WENGERT_DECLARE_ISA(isa_neon)
#undef WENGERT_DECLARE_ISA

}  // namespace wengert
