// The vector math (native/src/simd/vecmath.h) on every instruction set this CPU runs, and the
// run-time choice of instruction set (native/src/isa.h).
//   group simd       every supported instruction set, called directly: maximum ulp error against
//                    a long double reference over dense sweeps of each function's stated range
//                    plus special values (asserting kVecOpSpecs), agreement with the scalar
//                    reference path, tail lengths 0..2·width+1 and in-place runs.
//   group simd_isa   the instruction set WENGERT_ISA forced (ctest runs it once per ISA): the
//                    engine's kernels are that ISA's; exits 77 (ctest: skipped) with
//                    "skipped: CPU lacks ..." when this CPU cannot run it.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "simd_ulp.h"
#include "test.h"

namespace wt {
namespace {

using wengert::DType;
using wengert::Isa;
using wengert::VecOp;

struct VecCase {
  const char* name;
  VecOp op;
  long double (*ref)(long double);
};

long double ref_sigmoid(long double x) { return x >= 0 ? 1.0L / (1.0L + expl(-x)) : expl(x) / (1.0L + expl(x)); }

const VecCase kCases[] = {
    {"exp", VecOp::exp, [](long double x) { return expl(x); }},
    {"log", VecOp::log, [](long double x) { return logl(x); }},
    {"log1p", VecOp::log1p, [](long double x) { return log1pl(x); }},
    {"expm1", VecOp::expm1, [](long double x) { return expm1l(x); }},
    {"tanh", VecOp::tanh, [](long double x) { return tanhl(x); }},
    {"sigmoid", VecOp::sigmoid, ref_sigmoid},
    {"sin", VecOp::sin, [](long double x) { return sinl(x); }},
    {"cos", VecOp::cos, [](long double x) { return cosl(x); }},
};

int width(Isa isa, DType dt) {
  const int bytes = isa == Isa::avx512 ? 64 : isa == Isa::avx2 ? 32 : isa == Isa::scalar ? 0 : 16;
  return bytes == 0 ? 1 : bytes / int(dt == DType::f64 ? 8 : 4);
}

// Dense sweep: random bit patterns (every binade) and uniform points inside [lo, hi], plus
// special values and each function's thresholds.
template <class T>
std::vector<T> sweep(const wengert::vm::VecOpSpec& s) {
  const bool f64 = sizeof(T) == 8;
  const long double lo = f64 ? s.lo_f64 : s.lo_f32, hi = f64 ? s.hi_f64 : s.hi_f32;
  std::mt19937_64 rng(1234);
  std::vector<T> v;
  const int n = 150000;
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  while (int(v.size()) < n) {
    const Bits b = Bits(rng());
    T x;
    std::memcpy(&x, &b, sizeof x);
    if (x >= lo && x <= hi) v.push_back(x);
  }
  const long double clo = std::max(lo, -1e6L), chi = std::min(hi, 1e6L);
  std::uniform_real_distribution<long double> u(clo, chi);
  for (int i = 0; i < n; ++i) v.push_back(T(u(rng)));
  std::uniform_real_distribution<long double> small(-4, 4);
  for (int i = 0; i < n / 4; ++i) v.push_back(T(small(rng)));
  const T inf = std::numeric_limits<T>::infinity();
  const T specials[] = {T(0), T(-0.0), inf, -inf, std::numeric_limits<T>::quiet_NaN(),
                        std::numeric_limits<T>::min(), -std::numeric_limits<T>::min(),
                        std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
                        std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(), T(1), T(-1),
                        std::nextafter(T(-1), T(0)), std::nextafter(T(-1), T(-2)), std::nextafter(T(1), T(2)),
                        T(709.782712893384), T(709.7827128933841), T(709.79), T(-745.1332191019411),
                        T(-745.1332191019412), T(-745.14), T(-708.39641853226408), T(88.72283905206835),
                        T(88.7228394), T(-103.972084), T(-87.3365479), T(19.0615), T(9.01), T(22), T(10),
                        T(1.5707963267948966), T(3.141592653589793), T(1048576), T(1048577), T(4096), T(4097),
                        T(1e-300), T(1e-30), T(1e-8), T(-1e-8), T(0.34657359), T(-0.34657359)};
  for (T x : specials) v.push_back(x);
  return v;
}

template <class T>
void check_function(const VecCase& c, const std::vector<Isa>& isas) {
  const wengert::vm::VecOpSpec* spec = vec_spec(c.name);
  REQUIRE(spec != nullptr);
  const DType dt = sizeof(T) == 8 ? DType::f64 : DType::f32;
  const double bound = sizeof(T) == 8 ? spec->ulp_f64 : spec->ulp_f32;
  const std::vector<T> x = sweep<T>(*spec);
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = c.ref((long double)x[i]);
  std::vector<T> scalar_y(x.size());
  wengert::isa_vec_fn(Isa::scalar, c.op, dt)(x.data(), scalar_y.data(), x.size());
  for (Isa isa : isas) {
    const auto fn = wengert::isa_vec_fn(isa, c.op, dt);
    REQUIRE(fn != nullptr);
    std::vector<T> y(x.size());
    fn(x.data(), y.data(), x.size());
    long double worst = 0, worst_vs_scalar = 0;
    T worst_x = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const long double e = ulp_error(y[i], ref[i]);
      if (e > worst || std::isnan(e)) {
        worst = e;
        worst_x = x[i];
      }
      worst_vs_scalar = std::max(worst_vs_scalar, ulp_distance(y[i], scalar_y[i]));
    }
    std::printf("  %-7s %s %-6s max error %.3Lf ulp (at %.17g; bound %g), vs scalar %.3Lf ulp\n", c.name,
                sizeof(T) == 8 ? "f64" : "f32", wengert::isa_name(isa), worst, double(worst_x), bound,
                worst_vs_scalar);
    if (!(worst <= bound)) fail(__FILE__, __LINE__, std::string(c.name) + " on " + wengert::isa_name(isa) + " exceeds its bound");
    if (!(worst_vs_scalar <= bound)) fail(__FILE__, __LINE__, std::string(c.name) + " on " + wengert::isa_name(isa) + " disagrees with the scalar path");

    // Tails and in-place runs: every length up to 2·width+1 gives the same bits as the long run,
    // writes nothing past its end, and the same in place.
    const int w = width(isa, dt);
    for (int len = 0; len <= 2 * w + 1; ++len) {
      const std::size_t off = 1000;  // a stretch of ordinary values
      std::vector<T> out(len + 3, T(-7));
      fn(x.data() + off, out.data(), uint64_t(len));
      std::vector<T> inplace(x.begin() + off, x.begin() + off + len);
      fn(inplace.data(), inplace.data(), uint64_t(len));
      for (int i = 0; i < len; ++i) {
        const T want = y[off + i];
        if (std::memcmp(&out[i], &want, sizeof(T)) != 0 || std::memcmp(&inplace[i], &want, sizeof(T)) != 0) {
          fail(__FILE__, __LINE__, std::string(c.name) + " tail length " + std::to_string(len) + " on " + wengert::isa_name(isa));
        }
      }
      for (int i = len; i < len + 3; ++i) CHECK(out[i] == T(-7));
    }
  }
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> v;
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    const Isa isa = Isa(i);
    if (wengert::isa_supported(isa)) {
      v.push_back(isa);
    } else {
      std::printf("  %s: skipped: %s\n", wengert::isa_name(isa), wengert::isa_unsupported_reason(isa));
    }
  }
  return v;
}

TEST(simd, vector_math_every_isa) {
  const std::vector<Isa> isas = supported_isas();
  for (const VecCase& c : kCases) {
    check_function<double>(c, isas);
    check_function<float>(c, isas);
  }
}

TEST(simd, every_simd_op_has_a_spec) {
  int n = 0;
#define WT_SIMD_SPEC(op, fn) CHECK(vec_spec(#fn) != nullptr), ++n;
  WENGERT_FOR_EACH_SIMD_OP(WT_SIMD_SPEC)
#undef WT_SIMD_SPEC
  CHECK_EQ(n, int(sizeof kCases / sizeof kCases[0]));
}

// The forced instruction set is the one in use, or the run is reported as skipped.
TEST(simd_isa, forced_isa_is_used) {
  const wengert::IsaChoice& c = wengert::isa_choice();
  const char* env = std::getenv("WENGERT_ISA");
  std::printf("  isa %s%s%s\n", wengert::isa_name(c.isa), c.note[0] ? ": " : "", c.note);
  if (env == nullptr || env[0] == '\0') return;
  if (std::strcmp(env, wengert::isa_name(c.isa)) != 0) {
    CHECK(c.note[0] != '\0');  // a fallback always says why
    for (int i = 0; i < wengert::kNumIsas; ++i) {
      if (std::strcmp(env, wengert::isa_name(Isa(i))) == 0) {
        std::printf("skipped: %s\n", wengert::isa_unsupported_reason(Isa(i)));
        std::fflush(stdout);
        std::exit(77);
      }
    }
    return;
  }
  // The engine's kernels for the vector ops are this ISA's: same bits as its vector function.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-20, 20);
  std::vector<double> x(37);
  for (double& v : x) v = u(rng);
  for (const VecCase& vc : kCases) {
    wengert::OpCode code{};
    bool found = false;
#define WT_SIMD_CODE(opname, fn) \
  if (vc.op == VecOp::fn) code = wengert::OpCode::opname, found = true;
    WENGERT_FOR_EACH_SIMD_OP(WT_SIMD_CODE)
#undef WT_SIMD_CODE
    REQUIRE(found);
    const wengert::KernelFn k = wengert::select_kernel(code, DType::f64);
    REQUIRE(k != nullptr);
    wengert::Node node{};
    node.dtype = DType::f64;
    node.numel = x.size();
    node.bytes = x.size() * 8;
    std::vector<double> y(x.size()), want(x.size());
    wengert::KernelCall call{};
    call.node = &node;
    call.in[0] = x.data();
    call.out = y.data();
    k(call);
    wengert::isa_vec_fn(c.isa, vc.op, DType::f64)(x.data(), want.data(), x.size());
    CHECK(std::memcmp(y.data(), want.data(), y.size() * 8) == 0);
  }
}

}  // namespace
}  // namespace wt
