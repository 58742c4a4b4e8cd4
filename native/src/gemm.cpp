// The matrix product's run-time dispatch (gemm.h): the per-instruction-set implementations are
// compiled in isa_<name>.cpp from simd/gemm_body.h.
#include "gemm.h"

namespace wengert {

GemmFn<float> gemm_f32_for(Isa isa) {
  if (!isa_supported(isa)) return nullptr;
  switch (isa) {
    case Isa::scalar: return &isa_scalar::gemm_f32;
    case Isa::sse2: return &isa_sse2::gemm_f32;
    case Isa::avx2: return &isa_avx2::gemm_f32;
    case Isa::avx512: return &isa_avx512::gemm_f32;
    case Isa::neon: return &isa_neon::gemm_f32;
  }
  return nullptr;
}

GemmFn<double> gemm_f64_for(Isa isa) {
  if (!isa_supported(isa)) return nullptr;
  switch (isa) {
    case Isa::scalar: return &isa_scalar::gemm_f64;
    case Isa::sse2: return &isa_sse2::gemm_f64;
    case Isa::avx2: return &isa_avx2::gemm_f64;
    case Isa::avx512: return &isa_avx512::gemm_f64;
    case Isa::neon: return &isa_neon::gemm_f64;
  }
  return nullptr;
}

void gemm(const GemmShape& s, const float* a, const float* b, float* c, const Parallel* parallel) {
  static const GemmFn<float> fn = gemm_f32_for(isa_choice().isa);
  fn(s, a, b, c, parallel);
}

void gemm(const GemmShape& s, const double* a, const double* b, double* c, const Parallel* parallel) {
  static const GemmFn<double> fn = gemm_f64_for(isa_choice().isa);
  fn(s, a, b, c, parallel);
}

}  // namespace wengert
