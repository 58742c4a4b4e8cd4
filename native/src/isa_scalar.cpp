// The scalar instruction set's elementwise kernels (isa.h): the vector math of simd/vecmath.h on
// one-lane packets, compiled with the baseline flags. Every build has it, on every CPU; it is the
// reference the SIMD paths are tested against.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "isa.h"
#include "kernels.h"
#include "scalar_tape.h"  // before any target pragma: its standard headers must not be compiled for one target
#include "strides.h"
#include "simd/packet_scalar.h"

#define WENGERT_ISA_NS isa_scalar
#define WENGERT_PACKET_F64 simd::ScalarPacket<double>
#define WENGERT_PACKET_F32 simd::ScalarPacket<float>
#define WENGERT_ISA_LOOPS 0
#include "simd/isa_body.h"
#define WENGERT_GEMM_MR 4
#define WENGERT_GEMM_NV 4
#include "simd/gemm_body.h"
