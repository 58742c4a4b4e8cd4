// The SSE2 instruction set's elementwise kernels (isa.h):
// simd/isa_body.h compiled for x86-64's baseline (SSE2: no target pragma needed).
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

#define WENGERT_ISA_NS isa_sse2
#define WENGERT_PACKET_F64 simd::Sse2d
#define WENGERT_PACKET_F32 simd::Sse2f
#define WENGERT_ISA_LOOPS 0
#include "simd/packet_sse2.h"
#include "simd/isa_body.h"
#define WENGERT_GEMM_MR 4
#define WENGERT_GEMM_NV 2
#include "simd/gemm_body.h"

#else
namespace wengert {
namespace isa_sse2 {
KernelFn select(OpCode, DType) { return nullptr; }
VecArrayFn vec_fn(VecOp, DType) { return nullptr; }
void gemm_f32(const GemmShape&, const float*, const float*, float*, const Parallel*) {}
void gemm_f64(const GemmShape&, const double*, const double*, double*, const Parallel*) {}
}  // namespace isa_sse2
}  // namespace wengert
#endif
