// Bench-only harness for wengert's matrix product (native/src/gemm.h), built and run by
// bench/gemm.mjs. Times wengert's GEMM on every instruction set this CPU runs, and OpenBLAS's
// cblas_?gemm / cblas_?gemv side by side (thread CPU time, see thread_seconds) when libopenblas can be loaded at run time (dlopen: it
// is never linked, so it is not a dependency of anything). One thread unless --threads N. Prints one line per
// (shape, dtype, implementation): GFLOP/s (median of interleaved timed rounds) and the ratio to
// OpenBLAS. Also checks that both agree, so a fast wrong answer cannot pass unnoticed.
#include <dlfcn.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gemm.h"
#include "threadpool.h"

using namespace wengert;

namespace {

// CBLAS enums: row-major 101, no-trans 111, trans 112.
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*,
                       int);
using Sgemv = void (*)(int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using Dgemv = void (*)(int, int, int, int, double, const double*, int, const double*, int, double, double*, int);

struct Blas {
  Sgemm sgemm = nullptr;
  Dgemm dgemm = nullptr;
  Sgemv sgemv = nullptr;
  Dgemv dgemv = nullptr;
  bool ok() const { return sgemm && dgemm && sgemv && dgemv; }
};

Blas load_blas(int threads) {
  Blas b;
  void* h = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"}) {
    h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h) break;
  }
  if (!h) return b;
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"))) set(threads);
  b.sgemm = reinterpret_cast<Sgemm>(dlsym(h, "cblas_sgemm"));
  b.dgemm = reinterpret_cast<Dgemm>(dlsym(h, "cblas_dgemm"));
  b.sgemv = reinterpret_cast<Sgemv>(dlsym(h, "cblas_sgemv"));
  b.dgemv = reinterpret_cast<Dgemv>(dlsym(h, "cblas_dgemv"));
  return b;
}

struct Case {
  const char* name;
  GemmShape s;
};

// CPU time of the calling thread: on a shared machine, time slices given to other processes are
// not counted (their cache pollution still is), so the figures say what the code does per core.
// With --threads N (N > 1) the work runs on several threads, so the figure is wall-clock time
// instead, and is only meaningful on a quiet machine.
int g_threads = 0;

double thread_seconds() {
  timespec ts;
  clock_gettime(g_threads > 1 ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Seconds per call of each function, timed in interleaved rounds (f0, f1, ..., f0, f1, ...) so that
// a change in the machine's load hits every implementation alike; median over the rounds.
std::vector<double> seconds_per_call(const std::vector<std::function<void()>>& fns, double budget) {
  std::vector<int> reps(fns.size(), 1);
  for (std::size_t i = 0; i < fns.size(); ++i) {
    fns[i]();  // warm up
    for (;;) {
      const double t0 = thread_seconds();
      for (int r = 0; r < reps[i]; ++r) fns[i]();
      const double t = thread_seconds() - t0;
      if (t > budget / 8 || reps[i] > (1 << 20)) break;
      reps[i] *= 2;
    }
  }
  constexpr int kRounds = 7;
  std::vector<std::vector<double>> times(fns.size());
  for (int round = 0; round < kRounds; ++round) {
    for (std::size_t i = 0; i < fns.size(); ++i) {
      const double t0 = thread_seconds();
      for (int r = 0; r < reps[i]; ++r) fns[i]();
      times[i].push_back((thread_seconds() - t0) / reps[i]);
    }
  }
  std::vector<double> median;
  for (auto& t : times) {
    std::sort(t.begin(), t.end());
    median.push_back(t[kRounds / 2]);
  }
  return median;
}

template <class T>
void blas_call(const Blas& blas, const GemmShape& s, const T* a, const T* b, T* c) {
  const int m = int(s.m), n = int(s.n), k = int(s.k);
  const int lda = s.ta ? m : k, ldb = s.tb ? k : n;
  if (s.n == 1 || s.m == 1) {
    // y = op(A)·x with the matrix operand as stored; same cases as gemm_body.h.
    const T* mat;
    const T* x;
    int rows, cols, trans;
    if (s.n == 1) {
      mat = a, x = b, rows = s.ta ? k : m, cols = s.ta ? m : k, trans = s.ta ? 112 : 111;
    } else {
      mat = b, x = a, rows = s.tb ? n : k, cols = s.tb ? k : n, trans = s.tb ? 111 : 112;
    }
    if constexpr (sizeof(T) == 4) {
      blas.sgemv(101, trans, rows, cols, 1.0f, mat, cols, x, 1, 0.0f, c, 1);
    } else {
      blas.dgemv(101, trans, rows, cols, 1.0, mat, cols, x, 1, 0.0, c, 1);
    }
    return;
  }
  if constexpr (sizeof(T) == 4) {
    blas.sgemm(101, s.ta ? 112 : 111, s.tb ? 112 : 111, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
  } else {
    blas.dgemm(101, s.ta ? 112 : 111, s.tb ? 112 : 111, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
  }
}

template <class T>
void run_case(const Case& cs, const Blas& blas, double budget, const char* only_isa) {
  const GemmShape& s = cs.s;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> a(s.m * s.k), b(s.k * s.n), ref(s.m * s.n);
  for (auto& v : a) v = T(u(rng));
  for (auto& v : b) v = T(u(rng));
  const double flop = 2.0 * double(s.m) * double(s.n) * double(s.k);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  std::vector<std::function<void()>> fns;
  std::vector<const char*> names;
  std::vector<std::vector<T>> outs;
  if (blas.ok()) {
    names.push_back("openblas");
    fns.push_back([&] { blas_call<T>(blas, s, a.data(), b.data(), ref.data()); });
    outs.emplace_back();
  }
  std::vector<GemmFn<T>> gemms;
  for (int i = 0; i < kNumIsas; ++i) {
    const Isa isa = Isa(i);
    if (only_isa && std::strcmp(only_isa, isa_name(isa)) != 0) continue;
    GemmFn<T> fn;
    if constexpr (sizeof(T) == 4) {
      fn = gemm_f32_for(isa);
    } else {
      fn = gemm_f64_for(isa);
    }
    if (fn) gemms.push_back(fn), names.push_back(isa_name(isa)), outs.emplace_back(s.m * s.n);
  }
  for (std::size_t g = 0; g < gemms.size(); ++g) {
    const std::size_t o = outs.size() - gemms.size() + g;
    const Parallel* par = g_threads > 0 ? &engine_threads() : nullptr;
    fns.push_back([&, g, o, par] { gemms[g](s, a.data(), b.data(), outs[o].data(), par); });
  }
  const std::vector<double> t = seconds_per_call(fns, budget);
  const double blas_gflops = blas.ok() ? flop / t[0] * 1e-9 : 0;
  for (std::size_t i = 0; i < fns.size(); ++i) {
    const double g = flop / t[i] * 1e-9;
    const bool is_blas = blas.ok() && i == 0;
    std::printf("%-24s %s %-9s %8.2f GFLOP/s  %8.3f ms", cs.name, dt, names[i], g, t[i] * 1e3);
    if (blas.ok() && !is_blas) {
      double err = 0, scale = 0;
      for (uint64_t e = 0; e < ref.size(); ++e) {
        err = std::max(err, std::abs(double(outs[i][e]) - double(ref[e])));
        scale = std::max(scale, std::abs(double(ref[e])));
      }
      std::printf("  ratio %.2f  max rel diff %.1e", g / blas_gflops, err / (scale > 0 ? scale : 1));
    }
    std::printf("\n");
  }
}

GemmShape shape(uint64_t m, uint64_t k, uint64_t n, bool ta, bool tb) {
  GemmShape s;
  s.m = m, s.n = n, s.k = k, s.ta = ta, s.tb = tb;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double budget = 0.3;
  const char* only_isa = nullptr;
  const char* only_case = nullptr;
  const char* only_dtype = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--budget") == 0 && i + 1 < argc) budget = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--isa") == 0 && i + 1 < argc) only_isa = argv[++i];
    if (std::strcmp(argv[i], "--case") == 0 && i + 1 < argc) only_case = argv[++i];
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) g_threads = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--dtype") == 0 && i + 1 < argc) only_dtype = argv[++i];
  }
  if (g_threads > 0 && !set_engine_threads(unsigned(g_threads))) {
    std::printf("--threads: 1 to %u\n", kMaxEngineThreads);
    return 1;
  }
  const Blas blas = load_blas(g_threads > 0 ? g_threads : 1);
  if (!blas.ok()) std::printf("OpenBLAS not found (libopenblas.so.0): wengert only, no ratios\n");
  // W2 (batch 256, 784-512-512-10): the forward products X·W, and the backward ones: Xᵀ·dY
  // (weight gradients, transpose_a) and dY·Wᵀ (input gradients, transpose_b).
  // W1 (100000 × 100): X·w and Xᵀ·g, matrix–vector products.
  const Case cases[] = {
      {"W2 fwd 256x784*784x512", shape(256, 784, 512, false, false)},
      {"W2 fwd 256x512*512x512", shape(256, 512, 512, false, false)},
      {"W2 fwd 256x512*512x10", shape(256, 512, 10, false, false)},
      {"W2 bwd 784x256'*256x512", shape(784, 256, 512, true, false)},
      {"W2 bwd 512x256'*256x512", shape(512, 256, 512, true, false)},
      {"W2 bwd 512x256'*256x10", shape(512, 256, 10, true, false)},
      {"W2 bwd 256x10*10x512'", shape(256, 10, 512, false, true)},
      {"W2 bwd 256x512*512x512'", shape(256, 512, 512, false, true)},
      {"W1 X*w 100000x100", shape(100000, 100, 1, false, false)},
      {"W1 X'*g 100000x100", shape(100, 100000, 1, true, false)},
  };
  for (const Case& cs : cases) {
    if (only_case && std::strstr(cs.name, only_case) == nullptr) continue;
    if (!only_dtype || std::strcmp(only_dtype, "f32") == 0) run_case<float>(cs, blas, budget, only_isa);
    if (!only_dtype || std::strcmp(only_dtype, "f64") == 0) run_case<double>(cs, blas, budget, only_isa);
  }
  return 0;
}
