// The NEON instruction set's elementwise kernels (isa.h):
// simd/isa_body.h compiled for AArch64's baseline (NEON: no target pragma needed).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "gemm.h"
#include "isa.h"
#include "kernels.h"
#include "scalar_tape.h"  // before any target pragma: its standard headers must not be compiled for one target
#include "strides.h"

#if defined(__aarch64__) || defined(_M_ARM64)

#define WENGERT_ISA_NS isa_neon
#define WENGERT_PACKET_F64 simd::NeonD
#define WENGERT_PACKET_F32 simd::NeonF
#define WENGERT_ISA_LOOPS 0
#include "simd/packet_neon.h"
#include "simd/isa_body.h"
#define WENGERT_GEMM_MR 8
#define WENGERT_GEMM_NV 2
#include "simd/gemm_body.h"

#else
namespace wengert {
namespace isa_neon {
KernelFn select(OpCode, DType) { return nullptr; }
VecArrayFn vec_fn(VecOp, DType) { return nullptr; }
void gemm_f32(const GemmShape&, const float*, const float*, float*, const Parallel*) {}
void gemm_f64(const GemmShape&, const double*, const double*, double*, const Parallel*) {}
}  // namespace isa_neon
}  // namespace wengert
#endif
