// The AVX2 + FMA instruction set's elementwise kernels (isa.h):
// simd/isa_body.h compiled for avx2,fma by a target pragma.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "gemm.h"
#include "isa.h"
#include "kernels.h"
#include "scalar_tape.h"  // before any target pragma: its standard headers must not be compiled for one target
#include "strides.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>  // before the target pragma: the intrinsics carry their own targets

// The target applies to every function defined from here to the matching pop (GCC, Clang);
// MSVC needs no flag to emit these intrinsics.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define WENGERT_ISA_NS isa_avx2
#define WENGERT_PACKET_F64 simd::Avx2d
#define WENGERT_PACKET_F32 simd::Avx2f
#define WENGERT_ISA_LOOPS 1
#include "simd/packet_avx2.h"
#include "simd/isa_body.h"
#define WENGERT_GEMM_MR 6
#define WENGERT_GEMM_NV 2
#include "simd/gemm_body.h"
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#else
namespace wengert {
namespace isa_avx2 {
KernelFn select(OpCode, DType) { return nullptr; }
VecArrayFn vec_fn(VecOp, DType) { return nullptr; }
void gemm_f32(const GemmShape&, const float*, const float*, float*, const Parallel*) {}
void gemm_f64(const GemmShape&, const double*, const double*, double*, const Parallel*) {}
}  // namespace isa_avx2
}  // namespace wengert
#endif
