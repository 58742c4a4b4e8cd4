// wengert's matrix product: C = op(A)·op(B) for stacks of row-major matrices, op(X) = X or Xᵀ.
//
// Structure (simd/gemm_body.h, compiled once per instruction set): op(B) is packed into panels of
// NR columns and op(A) into panels of MR rows, over blocks of KC steps of the contraction, and an
// MR×NR register-blocked micro-kernel multiplies a pair of panels. The packing routines absorb the
// transposes, so no transposed copy of an operand is ever made. A narrow product (fewer columns
// than the micro-kernel's NR, e.g. a layer with 10 outputs) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ,
// written transposed, when that leaves fewer padded tile rows and columns: each element's sum is
// formed the same way in either orientation, so this changes speed only. Products with a single
// output row or column (matrix–vector) take a dedicated streaming path instead.
//
// Determinism: every block size is a function of the dtype and the shape only. Work is split over
// threads by output tiles (and, for a matrix–vector product with few outputs, by fixed blocks of
// the contraction whose partial sums are added in block order), so each output element's sum is
// formed in the same order for any number of threads. Different instruction sets may differ in
// the last bits (fused multiply-add on avx2, avx512 and neon; separate multiply and add on sse2
// and scalar).
//
// Memory: nothing is allocated; packed panels live on the stack of the thread computing a tile
// (at most kGemmStackBytes).
#pragma once

#include <cstdint>

#include "isa.h"
#include "parallel.h"

namespace wengert {

struct GemmShape {
  uint64_t batch = 1;      // number of products in the stack
  uint64_t m = 0, n = 0, k = 0;  // op(A) is [m, k], op(B) is [k, n], C is [m, n]
  bool ta = false;         // A is stored [k, m] (read transposed)
  bool tb = false;         // B is stored [n, k] (read transposed)
};

// Per product of the stack, A holds m·k values, B k·n and C m·n, consecutively. C must not
// overlap A or B (the engine's memory plan never gives an op an output aliasing an input).
template <class T>
using GemmFn = void (*)(const GemmShape& s, const T* a, const T* b, T* c, const Parallel* parallel);

// The product on the instruction set chosen at run time (isa_choice()).
void gemm(const GemmShape& s, const float* a, const float* b, float* c, const Parallel* parallel);
void gemm(const GemmShape& s, const double* a, const double* b, double* c, const Parallel* parallel);

// The product on a given instruction set, or nullptr if this build or CPU lacks it (tests, bench).
GemmFn<float> gemm_f32_for(Isa isa);
GemmFn<double> gemm_f64_for(Isa isa);

// Stack used by the packed panels of one tile.
inline constexpr uint64_t kGemmStackBytes = 224 * 1024;

#define WENGERT_DECLARE_ISA_GEMM(ns)                                                                        \
  namespace ns {                                                                                            \
  void gemm_f32(const GemmShape& s, const float* a, const float* b, float* c, const Parallel* parallel);    \
  void gemm_f64(const GemmShape& s, const double* a, const double* b, double* c, const Parallel* parallel); \
  }
WENGERT_DECLARE_ISA_GEMM(isa_scalar)
WENGERT_DECLARE_ISA_GEMM(isa_sse2)
WENGERT_DECLARE_ISA_GEMM(isa_avx2)
WENGERT_DECLARE_ISA_GEMM(isa_avx512)
WENGERT_DECLARE_ISA_GEMM(isa_neon)
#undef WENGERT_DECLARE_ISA_GEMM

}  // namespace wengert
