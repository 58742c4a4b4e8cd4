// The NEON instruction set's elementwise kernels (isa.h):
// simd/isa_body.h compiled for AArch64's baseline (NEON: no target pragma needed).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "isa.h"
#include "kernels.h"
#include "strides.h"

#if defined(__aarch64__) || defined(_M_ARM64)

#define WENGERT_ISA_NS isa_neon
#define WENGERT_PACKET_F64 simd::NeonD
#define WENGERT_PACKET_F32 simd::NeonF
#define WENGERT_ISA_LOOPS 0
#include "simd/packet_neon.h"
#include "simd/isa_body.h"

#else
namespace wengert {
namespace isa_neon {
KernelFn select(OpCode, DType) { return nullptr; }
VecArrayFn vec_fn(VecOp, DType) { return nullptr; }
}  // namespace isa_neon
}  // namespace wengert
#endif
