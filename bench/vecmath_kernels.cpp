// Timing (not a test) of the vector math kernels alone, per instruction set: exp, log, tanh over
// 1e6 float64 / float32 elements, median of 11 runs, plus the C library's exp as a yardstick.
// Needs the engine library of a CMake build (node scripts/native-tests.mjs builds one):
//   g++ -std=c++20 -O2 -Inative/src bench/vecmath_kernels.cpp
//       build-native-tests/libwengert_engine.a -o /tmp/vecmath_kernels   (one line)
//   /tmp/vecmath_kernels
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "isa.h"

using namespace wengert;

template <class F>
double median_ms(F&& f) {
  std::vector<double> t;
  for (int r = 0; r < 11; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[5];
}

int main() {
  const int n = 1000000;
  std::vector<double> x(n), y(n);
  std::vector<float> xf(n), yf(n);
  const struct {
    const char* name;
    VecOp op;
  } ops[] = {{"exp", VecOp::exp}, {"log", VecOp::log}, {"tanh", VecOp::tanh}};
  std::printf("| op | dtype |");
  for (int i = 0; i < kNumIsas; ++i) {
    if (isa_supported(Isa(i))) std::printf(" %s |", isa_name(Isa(i)));
  }
  std::printf("\n");
  for (const auto& o : ops) {
    for (int i = 0; i < n; ++i) {
      x[i] = o.op == VecOp::log ? 1e-3 + 1e3 * i / n : -20 + 40.0 * i / n;
      xf[i] = float(x[i]);
    }
    for (int f32 = 0; f32 < 2; ++f32) {
      std::printf("| %s | %s |", o.name, f32 ? "float32" : "float64");
      for (int i = 0; i < kNumIsas; ++i) {
        if (!isa_supported(Isa(i))) continue;
        const VecArrayFn fn = isa_vec_fn(Isa(i), o.op, f32 ? DType::f32 : DType::f64);
        std::printf(" %.2f |", median_ms([&] { f32 ? fn(xf.data(), yf.data(), n) : fn(x.data(), y.data(), n); }));
      }
      std::printf("\n");
    }
  }
  for (int i = 0; i < n; ++i) x[i] = -20 + 40.0 * i / n;
  std::printf("C library std::exp, float64: %.2f ms\n", median_ms([&] {
                for (int i = 0; i < n; ++i) y[i] = std::exp(x[i]);
              }));
}
