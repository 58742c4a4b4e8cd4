// The engine's matrix product (native/src/gemm.h) on every instruction set this CPU runs, for
// float32 and float64, against a long double reference:
//   - shapes with every tail (0, 1, 2, 3, 7, 17, 65 rows / columns; contractions across the KC
//     block boundary) and a product spanning several row, column and contraction blocks, all four
//     transpose combinations, stacks of products;
//   - error bound, per element: |C - ref| <= (k + 1)·eps·(|op(A)|·|op(B)|)_ij, i.e. k roundings
//     of the products and sums in any order (eps = the dtype's machine epsilon = 2u);
//   - the output is written, never read (it starts as NaN), and nothing past it is touched;
//   - narrow products (computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, written transposed) at W2's shapes, and
//     bit for bit equal to the same columns of a wide product (the orientation never changes bits);
//   - bit-identical results for 1, 2 and 4 threads (a test-only std::thread Parallel), and for
//     the serial (null) Parallel, on products split into many tiles and matrix–vector products
//     split by rows and by columns.
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gemm.h"
#include "test.h"

namespace wt {
namespace {

using wengert::GemmFn;
using wengert::GemmShape;
using wengert::Isa;
using wengert::Parallel;

template <class T>
GemmFn<T> gemm_for(Isa isa) {
  if constexpr (sizeof(T) == 4) {
    return wengert::gemm_f32_for(isa);
  } else {
    return wengert::gemm_f64_for(isa);
  }
}

template <class T>
std::vector<T> random_matrix(uint64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = T(u(rng));
  return v;
}

// op(X)[i][j] of a stored row-major matrix: X is [rows, cols] as op(X), or stored [cols, rows].
template <class T>
T at(const T* x, bool trans, uint64_t rows, uint64_t cols, uint64_t i, uint64_t j) {
  (void)rows;
  return trans ? x[j * rows + i] : x[i * cols + j];
}

constexpr uint64_t kGuard = 37;

// Runs one product (a stack of s.batch) and checks every element against the reference bound,
// the guard elements past C, and that a NaN-filled C was overwritten. Returns false on failure.
template <class T>
bool check_product(GemmFn<T> fn, const GemmShape& s, uint64_t seed, const std::string& what) {
  std::mt19937_64 rng(seed);
  const uint64_t sa = s.m * s.k, sb = s.k * s.n, sc = s.m * s.n;
  const std::vector<T> a = random_matrix<T>(s.batch * sa, rng);
  const std::vector<T> b = random_matrix<T>(s.batch * sb, rng);
  std::vector<T> c(s.batch * sc + kGuard, std::numeric_limits<T>::quiet_NaN());
  const T sentinel = T(12345.5);
  for (uint64_t g = 0; g < kGuard; ++g) c[s.batch * sc + g] = sentinel;
  fn(s, a.data(), b.data(), c.data(), nullptr);
  const long double eps = std::numeric_limits<T>::epsilon();
  for (uint64_t q = 0; q < s.batch; ++q) {
    const T* aq = a.data() + q * sa;
    const T* bq = b.data() + q * sb;
    for (uint64_t i = 0; i < s.m; ++i) {
      for (uint64_t j = 0; j < s.n; ++j) {
        long double ref = 0, mag = 0;
        for (uint64_t p = 0; p < s.k; ++p) {
          const long double x = at(aq, s.ta, s.m, s.k, i, p), y = at(bq, s.tb, s.k, s.n, p, j);
          ref += x * y;
          mag += std::fabs(x * y);
        }
        const T got = c[q * sc + i * s.n + j];
        const long double bound = (long double)(s.k + 1) * eps * mag;
        if (!(std::fabs((long double)got - ref) <= bound)) {
          fail(__FILE__, __LINE__,
               what + ": element [" + std::to_string(q) + "][" + std::to_string(i) + "][" + std::to_string(j) +
                   "] = " + std::to_string(double(got)) + ", reference " + std::to_string(double(ref)) + " (bound " +
                   std::to_string(double(bound)) + ")");
          return false;
        }
      }
    }
  }
  for (uint64_t g = 0; g < kGuard; ++g) {
    if (c[s.batch * sc + g] != sentinel) {
      fail(__FILE__, __LINE__, what + ": wrote past the output");
      return false;
    }
  }
  return true;
}

std::string describe(Isa isa, const char* dt, const GemmShape& s) {
  return std::string(wengert::isa_name(isa)) + " " + dt + " batch " + std::to_string(s.batch) + " m " +
         std::to_string(s.m) + " n " + std::to_string(s.n) + " k " + std::to_string(s.k) + " ta " +
         std::to_string(int(s.ta)) + " tb " + std::to_string(int(s.tb));
}

template <class T>
void small_shapes(Isa isa) {
  const GemmFn<T> fn = gemm_for<T>(isa);
  REQUIRE(fn != nullptr);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  const uint64_t mn[] = {0, 1, 2, 3, 7, 17, 65};
  // 300 crosses the contraction block (256 / 128); 31 and 64 are near the panel widths.
  const uint64_t ks[] = {0, 1, 3, 31, 64, 300};
  uint64_t seed = 1;
  for (uint64_t m : mn) {
    for (uint64_t n : mn) {
      for (uint64_t k : ks) {
        for (int t = 0; t < 4; ++t) {
          GemmShape s;
          s.m = m, s.n = n, s.k = k, s.ta = t & 1, s.tb = t >> 1;
          if (!check_product<T>(fn, s, seed++, describe(isa, dt, s))) return;
        }
      }
    }
  }
}

template <class T>
void large_and_batched(Isa isa) {
  const GemmFn<T> fn = gemm_for<T>(isa);
  REQUIRE(fn != nullptr);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  for (int t = 0; t < 4; ++t) {
    // Several row blocks (96) and tiles (384 rows), column blocks (128) and contraction blocks.
    GemmShape s;
    s.m = 397, s.n = 261, s.k = 300, s.ta = t & 1, s.tb = t >> 1;
    if (!check_product<T>(fn, s, 100 + t, describe(isa, dt, s))) return;
    // A stack: each product reads its own A and B and writes its own C.
    GemmShape st;
    st.batch = 3, st.m = 19, st.n = 33, st.k = 129, st.ta = t & 1, st.tb = t >> 1;
    if (!check_product<T>(fn, st, 200 + t, describe(isa, dt, st))) return;
    // Stacks of matrix–vector products, both orientations.
    GemmShape mv;
    mv.batch = 2, mv.m = 131, mv.n = 1, mv.k = 70, mv.ta = t & 1, mv.tb = t >> 1;
    if (!check_product<T>(fn, mv, 300 + t, describe(isa, dt, mv))) return;
    GemmShape vm;
    vm.batch = 2, vm.m = 1, vm.n = 131, vm.k = 70, vm.ta = t & 1, vm.tb = t >> 1;
    if (!check_product<T>(fn, vm, 400 + t, describe(isa, dt, vm))) return;
  }
  // Matrix–vector products long enough to be split into row blocks (partial sums) or column blocks.
  GemmShape tall;
  tall.m = 100, tall.n = 1, tall.k = 9000, tall.ta = true;
  check_product<T>(fn, tall, 500, describe(isa, dt, tall));
  GemmShape wide;
  wide.m = 1100, wide.n = 1, wide.k = 300, wide.ta = true;
  check_product<T>(fn, wide, 501, describe(isa, dt, wide));
}

// Narrow products (n below the register tile's width, W2's last layer) in every orientation and
// as stacks: each is checked against the reference, and its bits against the first n columns of
// a wide product (n + 40 columns, not narrow) of the same operands.
template <class T>
void narrow(Isa isa) {
  const GemmFn<T> fn = gemm_for<T>(isa);
  REQUIRE(fn != nullptr);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  struct Shape {
    uint64_t batch, m, n, k;
  };
  // W2: 256×512·512×10 (forward), 512×256ᵀ·256×10 (weight gradient); others cross block edges.
  const Shape shapes[] = {{1, 256, 10, 512}, {1, 512, 10, 256}, {2, 65, 3, 300}, {1, 397, 15, 31}, {3, 100, 2, 7}};
  uint64_t seed = 700;
  for (const Shape& sh : shapes) {
    for (int t = 0; t < 4; ++t) {
      GemmShape s;
      s.batch = sh.batch, s.m = sh.m, s.n = sh.n, s.k = sh.k, s.ta = t & 1, s.tb = t >> 1;
      const std::string what = describe(isa, dt, s);
      if (!check_product<T>(fn, s, seed++, what)) return;
      GemmShape w = s;
      w.n = s.n + 40;
      std::mt19937_64 rng(seed++);
      const uint64_t sa = s.m * s.k, sb = s.k * s.n, sbw = w.k * w.n;
      const std::vector<T> a = random_matrix<T>(s.batch * sa, rng);
      const std::vector<T> bw = random_matrix<T>(s.batch * sbw, rng);
      // B = the first n columns of op(B_wide): stored [k, n] (rows cut) or [n, k] (leading rows).
      std::vector<T> b(s.batch * sb);
      for (uint64_t q = 0; q < s.batch; ++q) {
        for (uint64_t p = 0; p < s.k; ++p) {
          for (uint64_t j = 0; j < s.n; ++j) {
            if (s.tb) {
              b[q * sb + j * s.k + p] = bw[q * sbw + j * s.k + p];
            } else {
              b[q * sb + p * s.n + j] = bw[q * sbw + p * w.n + j];
            }
          }
        }
      }
      std::vector<T> c(s.batch * s.m * s.n), cw(s.batch * w.m * w.n);
      fn(s, a.data(), b.data(), c.data(), nullptr);
      fn(w, a.data(), bw.data(), cw.data(), nullptr);
      bool same = true;
      for (uint64_t q = 0; q < s.batch && same; ++q) {
        for (uint64_t i = 0; i < s.m && same; ++i) {
          same = std::memcmp(&c[(q * s.m + i) * s.n], &cw[(q * w.m + i) * w.n], s.n * sizeof(T)) == 0;
        }
      }
      if (!same) {
        fail(__FILE__, __LINE__, what + ": differs from the same columns of a wide product");
        return;
      }
    }
  }
}

TEST(gemm, narrow_products_every_isa) {
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    if (!wengert::isa_supported(Isa(i))) continue;
    narrow<float>(Isa(i));
    narrow<double>(Isa(i));
  }
}

TEST(gemm, small_shapes_every_isa) {
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    if (!wengert::isa_supported(Isa(i))) continue;
    small_shapes<float>(Isa(i));
    small_shapes<double>(Isa(i));
  }
}

TEST(gemm, large_and_batched_every_isa) {
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    if (!wengert::isa_supported(Isa(i))) continue;
    large_and_batched<float>(Isa(i));
    large_and_batched<double>(Isa(i));
  }
}

TEST(gemm, unsupported_isa_has_no_function) {
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    const bool supported = wengert::isa_supported(Isa(i));
    CHECK_EQ(wengert::gemm_f32_for(Isa(i)) != nullptr, supported);
    CHECK_EQ(wengert::gemm_f64_for(Isa(i)) != nullptr, supported);
  }
}

// A test-only Parallel: `threads` std::threads take chunk indices from a shared counter, so
// chunks run concurrently and in no fixed order.
class ThreadParallel final : public Parallel {
 public:
  explicit ThreadParallel(unsigned threads) : threads_(threads) {}
  unsigned threads() const override { return threads_; }
  void run(uint64_t n, void (*fn)(void*, uint64_t), void* ctx) const override {
    std::atomic<uint64_t> next{0};
    const auto work = [&] {
      for (uint64_t i; (i = next.fetch_add(1)) < n;) fn(ctx, i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads_; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
  }

 private:
  unsigned threads_;
};

template <class T>
void thread_invariance(Isa isa) {
  const GemmFn<T> fn = gemm_for<T>(isa);
  REQUIRE(fn != nullptr);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  std::vector<GemmShape> shapes;
  const auto add = [&](uint64_t batch, uint64_t m, uint64_t n, uint64_t k, bool ta, bool tb) {
    GemmShape s;
    s.batch = batch, s.m = m, s.n = n, s.k = k, s.ta = ta, s.tb = tb;
    shapes.push_back(s);
  };
  add(1, 800, 300, 300, false, false);  // 3 × 3 tiles, 2 contraction blocks (f32) / 3 (f64)
  add(2, 400, 140, 130, true, true);    // a stack of 2 × 2 tiles
  add(1, 1000, 10, 300, false, false);  // narrow, computed as Cᵀ: 8 tiles of C's rows
  add(2, 900, 5, 70, true, true);       // a stack of narrow products
  add(1, 20000, 1, 100, false, false);  // X·w: row blocks
  add(1, 100, 1, 20000, true, false);   // Xᵀ·g: partial sums of row blocks
  add(1, 1500, 1, 700, true, false);    // Aᵀ·x with many outputs: column blocks
  add(1, 1, 1500, 700, false, false);   // x·B
  add(1, 1, 20000, 64, false, true);    // x·Bᵀ
  const ThreadParallel one(1), two(2), four(4);
  for (const GemmShape& s : shapes) {
    std::mt19937_64 rng(s.m * 31 + s.n);
    const std::vector<T> a = random_matrix<T>(s.batch * s.m * s.k, rng);
    const std::vector<T> b = random_matrix<T>(s.batch * s.k * s.n, rng);
    const uint64_t nc = s.batch * s.m * s.n;
    std::vector<T> serial(nc), c1(nc), c2(nc), c4(nc);
    fn(s, a.data(), b.data(), serial.data(), nullptr);
    fn(s, a.data(), b.data(), c1.data(), &one);
    fn(s, a.data(), b.data(), c2.data(), &two);
    fn(s, a.data(), b.data(), c4.data(), &four);
    const std::string what = describe(isa, dt, s);
    const std::size_t bytes = nc * sizeof(T);
    if (std::memcmp(serial.data(), c1.data(), bytes) != 0) fail(__FILE__, __LINE__, what + ": 1 thread differs from serial");
    if (std::memcmp(serial.data(), c2.data(), bytes) != 0) fail(__FILE__, __LINE__, what + ": 2 threads differ from serial");
    if (std::memcmp(serial.data(), c4.data(), bytes) != 0) fail(__FILE__, __LINE__, what + ": 4 threads differ from serial");
  }
}

TEST(gemm, bits_do_not_depend_on_thread_count) {
  for (int i = 0; i < wengert::kNumIsas; ++i) {
    if (!wengert::isa_supported(Isa(i))) continue;
    thread_invariance<float>(Isa(i));
    thread_invariance<double>(Isa(i));
  }
}

// The product of the run-time choice (what the matmul kernel calls) is the chosen ISA's.
TEST(gemm, dispatch_uses_the_chosen_isa) {
  GemmShape s;
  s.m = 70, s.n = 50, s.k = 90;
  std::mt19937_64 rng(9);
  const std::vector<double> a = random_matrix<double>(s.m * s.k, rng), b = random_matrix<double>(s.k * s.n, rng);
  std::vector<double> want(s.m * s.n), got(s.m * s.n);
  wengert::gemm_f64_for(wengert::isa_choice().isa)(s, a.data(), b.data(), want.data(), nullptr);
  wengert::gemm(s, a.data(), b.data(), got.data(), nullptr);
  CHECK(std::memcmp(want.data(), got.data(), want.size() * sizeof(double)) == 0);
}

}  // namespace
}  // namespace wt
