// The AVX-512F instruction set's elementwise kernels (isa.h):
// simd/isa_body.h compiled for avx512f by a target pragma.
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
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx512f")
// GCC 12's avx512fintrin.h trips its own -Wmaybe-uninitialized (GCC bug 105593: the
// _mm512_undefined_* placeholders of the masked intrinsics); the warning is about the header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define WENGERT_ISA_NS isa_avx512
#define WENGERT_PACKET_F64 simd::Avx512d
#define WENGERT_PACKET_F32 simd::Avx512f
#define WENGERT_ISA_LOOPS 1
#include "simd/packet_avx512.h"
#include "simd/isa_body.h"
#define WENGERT_GEMM_MR 8
#define WENGERT_GEMM_NV 2
#include "simd/gemm_body.h"
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif
#else
namespace wengert {
namespace isa_avx512 {
KernelFn select(OpCode, DType) { return nullptr; }
VecArrayFn vec_fn(VecOp, DType) { return nullptr; }
void gemm_f32(const GemmShape&, const float*, const float*, float*, const Parallel*) {}
void gemm_f64(const GemmShape&, const double*, const double*, double*, const Parallel*) {}
}  // namespace isa_avx512
}  // namespace wengert
#endif
