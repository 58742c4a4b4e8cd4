// The one-time choice of instruction set (isa.h).
#include "isa.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if (defined(__x86_64__) || defined(_M_X64)) && defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace wengert {

namespace {

constexpr const char* kNames[kNumIsas] = {"scalar", "sse2", "avx2", "avx512", "neon"};

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER) && !defined(__clang__)
// cpuid leaf 7 (ebx: avx2 bit 5, avx512f bit 16), leaf 1 (ecx: fma 12, osxsave 27, avx 28), and
// the OS's saved-state mask (xgetbv: ymm state 0x6, zmm state 0xe6).
bool cpu_has(Isa isa) {
  int r1[4], r7[4];
  __cpuid(r1, 1);
  __cpuidex(r7, 7, 0);
  const bool osxsave = (r1[2] >> 27) & 1;
  const unsigned long long xcr0 = osxsave ? _xgetbv(0) : 0;
  const bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
  switch (isa) {
    case Isa::sse2: return true;
    case Isa::avx2: return ymm && ((r1[2] >> 28) & 1) && ((r1[2] >> 12) & 1) && ((r7[1] >> 5) & 1);
    case Isa::avx512: return zmm && ((r7[1] >> 16) & 1);
    default: return false;
  }
}
#else
// The compiler runtime's CPU model, which also checks that the OS saves the wider registers.
bool cpu_has(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::sse2: return true;
    case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512: return __builtin_cpu_supports("avx512f");
    default: return false;
  }
}
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
// Advanced SIMD (NEON) is part of the AArch64 baseline: every arm64 CPU has it.
bool cpu_has(Isa isa) { return isa == Isa::neon; }
#else
bool cpu_has(Isa) { return false; }
#endif

bool compiled_in(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::sse2: return isa_sse2::vec_fn(VecOp(0), DType::f64) != nullptr;
    case Isa::avx2: return isa_avx2::vec_fn(VecOp(0), DType::f64) != nullptr;
    case Isa::avx512: return isa_avx512::vec_fn(VecOp(0), DType::f64) != nullptr;
    case Isa::neon: return isa_neon::vec_fn(VecOp(0), DType::f64) != nullptr;
  }
  return false;
}

// Best first.
constexpr Isa kPriority[kNumIsas] = {Isa::avx512, Isa::avx2, Isa::neon, Isa::sse2, Isa::scalar};

IsaChoice choose() {
  IsaChoice c{};
  c.isa = Isa::scalar;
  for (Isa isa : kPriority) {
    if (isa_supported(isa)) {
      c.isa = isa;
      break;
    }
  }
  const char* env = std::getenv("WENGERT_ISA");
  c.requested = "";
  c.note[0] = '\0';
  if (env == nullptr || env[0] == '\0') return c;
  c.forced = true;
  for (int i = 0; i < kNumIsas; ++i) {
    if (std::strcmp(env, kNames[i]) == 0) {
      c.requested = kNames[i];
      const Isa want = Isa(i);
      if (isa_supported(want)) {
        c.isa = want;
      } else {
        std::snprintf(c.note, sizeof c.note, "WENGERT_ISA=%s is not available (%s); using %s", kNames[i],
                      isa_unsupported_reason(want), kNames[int(c.isa)]);
      }
      return c;
    }
  }
  c.requested = "(unknown)";
  std::snprintf(c.note, sizeof c.note, "WENGERT_ISA=%.40s is not one of scalar, sse2, avx2, avx512, neon; using %s",
                env, kNames[int(c.isa)]);
  return c;
}

}  // namespace

const char* isa_name(Isa isa) { return kNames[int(isa)]; }

bool isa_supported(Isa isa) { return isa == Isa::scalar || (compiled_in(isa) && cpu_has(isa)); }

const char* isa_unsupported_reason(Isa isa) {
  if (isa_supported(isa)) return "";
  if (!compiled_in(isa)) return "not built for this architecture";
  switch (isa) {
    case Isa::avx2: return "CPU lacks avx2+fma";
    case Isa::avx512: return "CPU lacks avx512f";
    default: return "CPU lacks it";
  }
}

const IsaChoice& isa_choice() {
  static const IsaChoice choice = choose();
  return choice;
}

VecArrayFn isa_vec_fn(Isa isa, VecOp op, DType dtype) {
  if (!isa_supported(isa)) return nullptr;
  switch (isa) {
    case Isa::scalar: return isa_scalar::vec_fn(op, dtype);
    case Isa::sse2: return isa_sse2::vec_fn(op, dtype);
    case Isa::avx2: return isa_avx2::vec_fn(op, dtype);
    case Isa::avx512: return isa_avx512::vec_fn(op, dtype);
    case Isa::neon: return isa_neon::vec_fn(op, dtype);
  }
  return nullptr;
}

KernelFn select_isa_kernel(OpCode code, DType dtype) {
  switch (isa_choice().isa) {
    case Isa::scalar: return isa_scalar::select(code, dtype);
    case Isa::sse2: return isa_sse2::select(code, dtype);
    case Isa::avx2: return isa_avx2::select(code, dtype);
    case Isa::avx512: return isa_avx512::select(code, dtype);
    case Isa::neon: return isa_neon::select(code, dtype);
  }
  return nullptr;
}

}  // namespace wengert
