// The linear algebra kernels (cholesky, triangular_solve, lu, lu_solve) against naive references
// in double, for float64 and float32, on stacks of matrices: residuals op(A)·X - B, the factor
// against a textbook Cholesky, the triangle that must not be read filled with NaN, the documented
// NaN / inf results for matrices outside the domain, and the pivot fault.
#include <cmath>
#include <limits>
#include <string>

#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using Mat = std::vector<double>;

// Stacks of `count` random [n, n] matrices: general (entries in [-1, 1), pivoting needed), or
// SPD (B·Bᵀ/n + I) as the kernel's float type sees them (rounded to T).
template <class T>
std::vector<T> general(uint64_t count, uint64_t n, std::mt19937_64& rng) {
  return random_values<T>(count * n * n, rng, -1, 1);
}

template <class T>
std::vector<T> spd(uint64_t count, uint64_t n, std::mt19937_64& rng) {
  const std::vector<double> b = random_values<double>(count * n * n, rng, -2, 2);
  std::vector<T> a(count * n * n);
  for (uint64_t m = 0; m < count; ++m) {
    for (uint64_t i = 0; i < n; ++i) {
      for (uint64_t j = 0; j < n; ++j) {
        double s = i == j ? 1 : 0;
        for (uint64_t k = 0; k < n; ++k) s += b[m * n * n + i * n + k] * b[m * n * n + j * n + k] / double(n);
        a[m * n * n + i * n + j] = T(s);
      }
    }
  }
  return a;
}

// Tolerance for a residual or a factor of well-conditioned matrices of size n: n·eps·scale with
// a margin of 100 (float64 ~1e-13, float32 ~5e-5 relative).
template <class T>
double tol(uint64_t n) {
  return 100.0 * double(n + 1) * double(std::numeric_limits<T>::epsilon());
}

Dims with_batch(const Dims& batch, uint32_t r, uint32_t c) {
  Dims d = batch;
  d.push_back(r);
  d.push_back(c);
  return d;
}

template <class T>
void check_cholesky(const Dims& batch, uint32_t n) {
  std::mt19937_64 rng(21 + n);
  const uint64_t count_m = count(batch);
  GraphBuilder b;
  const Dims d = with_batch(batch, n, n);
  const uint32_t x = b.input(dtype_of<T>(), d);
  b.output(b.node(op_named("cholesky"), dtype_of<T>(), d, {x}));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {spd<T>(count_m, n, rng)}, out;
  // The strict upper triangle must not be read.
  std::vector<T> a = in[0];
  for (uint64_t m = 0; m < count_m; ++m) {
    for (uint64_t i = 0; i < n; ++i) {
      for (uint64_t j = i + 1; j < n; ++j) in[0][m * n * n + i * n + j] = std::numeric_limits<T>::quiet_NaN();
    }
  }
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  for (uint64_t m = 0; m < count_m; ++m) {
    const T* l = out[0].data() + m * n * n;
    const T* am = a.data() + m * n * n;
    // Naive reference factor in double.
    Mat ref(n * n, 0.0);
    for (uint64_t j = 0; j < n; ++j) {
      double dsum = double(am[j * n + j]);
      for (uint64_t k = 0; k < j; ++k) dsum -= ref[j * n + k] * ref[j * n + k];
      ref[j * n + j] = std::sqrt(dsum);
      for (uint64_t i = j + 1; i < n; ++i) {
        double v = double(am[i * n + j]);
        for (uint64_t k = 0; k < j; ++k) v -= ref[i * n + k] * ref[j * n + k];
        ref[i * n + j] = v / ref[j * n + j];
      }
    }
    for (uint64_t i = 0; i < n; ++i) {
      for (uint64_t j = 0; j < n; ++j) {
        const double got = double(l[i * n + j]);
        if (j > i && got != 0.0) return fail(__FILE__, __LINE__, "cholesky: nonzero above the diagonal");
        if (!(std::abs(got - ref[i * n + j]) <= tol<T>(n) * (1 + std::abs(ref[i * n + j])))) {
          return fail(__FILE__, __LINE__, "cholesky n=" + std::to_string(n) + " element " + std::to_string(i) + "," + std::to_string(j));
        }
      }
    }
  }
}

TEST(kernels, cholesky_matches_reference_and_reads_the_lower_triangle) {
  for (uint32_t n : {1u, 2u, 5u, 17u}) {
    check_cholesky<double>({}, n);
    check_cholesky<float>({}, n);
  }
  check_cholesky<double>({2, 3}, 4);
  check_cholesky<float>({3}, 6);
  check_cholesky<double>({0}, 3);
  check_cholesky<double>({}, 0);
}

TEST(kernels, cholesky_of_a_matrix_not_positive_definite_is_nan) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {3, 2, 2});
  b.output(b.node(op_named("cholesky"), DType::f64, {3, 2, 2}, {x}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  // An SPD matrix, an indefinite one (pivot 1 - 4 < 0) and one with a zero pivot.
  std::vector<std::vector<double>> in = {{4, 0, 2, 3, 1, 99, 2, 1, 0, 0, 0, 1}}, out;
  REQUIRE(run(*p, in, &out).ok());
  CHECK(out[0][0] == 2 && out[0][1] == 0 && out[0][2] == 1 && out[0][3] == std::sqrt(2.0));
  for (int e = 4; e < 12; ++e) CHECK(std::isnan(out[0][e]));
}

// op(A)·X for A [n, n] (only `triangle` read: 1 lower, -1 upper, 0 all) and X [n, k], in double.
template <class T>
Mat apply(const T* a, const T* x, uint64_t n, uint64_t k, bool trans, int triangle) {
  Mat y(n * k, 0.0);
  for (uint64_t i = 0; i < n; ++i) {
    for (uint64_t j = 0; j < n; ++j) {
      const uint64_t r = trans ? j : i, c = trans ? i : j;
      if ((triangle == 1 && c > r) || (triangle == -1 && c < r)) continue;
      for (uint64_t col = 0; col < k; ++col) y[i * k + col] += double(a[r * n + c]) * double(x[j * k + col]);
    }
  }
  return y;
}

template <class T>
bool residual_ok(const Mat& ax, const T* bm, uint64_t len, uint64_t n, double scale) {
  for (uint64_t e = 0; e < len; ++e) {
    if (!(std::abs(ax[e] - double(bm[e])) <= tol<T>(n) * scale)) return false;
  }
  return true;
}

template <class T>
void check_triangular_solve(const Dims& batch, uint32_t n, uint32_t k, bool lower, bool trans) {
  std::mt19937_64 rng(31 + n + k);
  const uint64_t cm = count(batch);
  GraphBuilder b;
  const uint32_t a = b.input(dtype_of<T>(), with_batch(batch, n, n));
  const uint32_t rhs = b.input(dtype_of<T>(), with_batch(batch, n, k));
  b.output(b.node(op_named("triangular_solve"), dtype_of<T>(), with_batch(batch, n, k), {a, rhs}, {lower ? 1 : 0, trans ? 1 : 0}));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {general<T>(cm, n, rng), random_values<T>(cm * n * k, rng)}, out;
  for (uint64_t m = 0; m < cm; ++m) {
    for (uint64_t i = 0; i < n; ++i) {
      T& d = in[0][m * n * n + i * n + i];
      d = T(n) + (d < 0 ? -d : d);  // a dominant diagonal: well conditioned
      for (uint64_t j = 0; j < n; ++j) {
        if (lower ? j > i : j < i) in[0][m * n * n + i * n + j] = std::numeric_limits<T>::quiet_NaN();  // never read
      }
    }
  }
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  for (uint64_t m = 0; m < cm; ++m) {
    const Mat ax = apply(in[0].data() + m * n * n, out[0].data() + m * n * k, n, k, trans, lower ? 1 : -1);
    if (!residual_ok(ax, in[1].data() + m * n * k, n * k, n, 3.0)) {
      return fail(__FILE__, __LINE__,
                  "triangular_solve lower=" + std::to_string(lower) + " transpose=" + std::to_string(trans) + " n=" + std::to_string(n));
    }
  }
}

TEST(kernels, triangular_solve_all_flags_and_batches) {
  for (bool lower : {true, false}) {
    for (bool trans : {false, true}) {
      check_triangular_solve<double>({}, 4, 3, lower, trans);
      check_triangular_solve<float>({}, 4, 3, lower, trans);
      check_triangular_solve<double>({2, 2}, 5, 1, lower, trans);
      check_triangular_solve<float>({3}, 1, 2, lower, trans);
      check_triangular_solve<double>({}, 19, 7, lower, trans);
      check_triangular_solve<double>({2}, 3, 0, lower, trans);
    }
  }
}

// lu then lu_solve on general matrices (pivoting happens), both transpose flags.
template <class T>
void check_lu_solve(const Dims& batch, uint32_t n, uint32_t k, bool trans) {
  std::mt19937_64 rng(41 + n + k);
  const uint64_t cm = count(batch);
  GraphBuilder b;
  const uint32_t a = b.input(dtype_of<T>(), with_batch(batch, n, n));
  const uint32_t rhs = b.input(dtype_of<T>(), with_batch(batch, n, k));
  const uint32_t f = b.node(op_named("lu"), dtype_of<T>(), with_batch(batch, n, n + 1), {a});
  b.output(b.node(op_named("lu_solve"), dtype_of<T>(), with_batch(batch, n, k), {a, f, rhs}, {trans ? 1 : 0}));
  b.output(f);
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {general<T>(cm, n, rng), random_values<T>(cm * n * k, rng)}, out;
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  const uint64_t w = n + 1;
  for (uint64_t m = 0; m < cm; ++m) {
    const T* am = in[0].data() + m * n * n;
    const T* fm = out[1].data() + m * n * w;
    // The factor: P·A = L·U with |L| ≤ 1 (partial pivoting) and pivots that are rows k..n-1.
    Mat pa(am, am + n * n);
    for (uint64_t r = 0; r < n; ++r) {
      const double pv = double(fm[r * w + n]);
      if (!(pv >= double(r) && pv < double(n) && pv == std::floor(pv))) return fail(__FILE__, __LINE__, "lu: bad pivot");
      for (uint64_t j = 0; j < n; ++j) std::swap(pa[r * n + j], pa[uint64_t(pv) * n + j]);
    }
    double scale = 1;
    for (uint64_t i = 0; i < n; ++i) {
      for (uint64_t j = 0; j < n; ++j) {
        double lu = 0;
        for (uint64_t q = 0; q <= std::min(i, j); ++q) lu += (q == i ? 1.0 : double(fm[i * w + q])) * double(fm[q * w + j]);
        if (i > j && !(std::abs(double(fm[i * w + j])) <= 1)) return fail(__FILE__, __LINE__, "lu: multiplier above 1");
        scale = std::max(scale, std::abs(double(fm[i * w + j])));
        if (!(std::abs(lu - pa[i * n + j]) <= tol<T>(n) * scale)) return fail(__FILE__, __LINE__, "lu: P·A != L·U");
      }
    }
    // The solve: op(A)·X = B. A random matrix's condition number is modest at these sizes; the
    // residual is checked relative to |A|·|X|.
    const T* xm = out[0].data() + m * n * k;
    double xs = 1;
    for (uint64_t e = 0; e < n * k; ++e) xs = std::max(xs, std::abs(double(xm[e])));
    const Mat ax = apply(am, xm, n, k, trans, 0);
    if (!residual_ok(ax, in[1].data() + m * n * k, n * k, n, double(n) * xs)) {
      return fail(__FILE__, __LINE__, "lu_solve transpose=" + std::to_string(trans) + " n=" + std::to_string(n));
    }
  }
}

TEST(kernels, lu_and_lu_solve_with_pivoting) {
  for (bool trans : {false, true}) {
    check_lu_solve<double>({}, 4, 3, trans);
    check_lu_solve<float>({}, 4, 3, trans);
    check_lu_solve<double>({2, 3}, 5, 2, trans);
    check_lu_solve<float>({2}, 6, 1, trans);
    check_lu_solve<double>({}, 23, 4, trans);
    check_lu_solve<double>({}, 1, 1, trans);
    check_lu_solve<double>({3}, 0, 2, trans);
  }
}

TEST(kernels, lu_solve_of_a_singular_matrix_is_not_finite) {
  GraphBuilder b;
  const uint32_t a = b.input(DType::f64, {2, 2});
  const uint32_t rhs = b.input(DType::f64, {2, 1});
  const uint32_t f = b.node(op_named("lu"), DType::f64, {2, 3}, {a});
  b.output(b.node(op_named("lu_solve"), DType::f64, {2, 1}, {a, f, rhs}, {0}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::vector<std::vector<double>> in = {{1, 2, 2, 4}, {1, 1}}, out;
  REQUIRE(run(*p, in, &out).ok());
  CHECK(!std::isfinite(out[0][0]) || !std::isfinite(out[0][1]));
}

TEST(kernels, lu_solve_with_a_bad_pivot_is_a_fault) {
  // A factor that lu did not make: pivot entries must be integers in [row, n).
  for (double bad : {7.0, -1.0, 0.5, std::numeric_limits<double>::quiet_NaN(), 1e300}) {
    GraphBuilder b;
    const uint32_t a = b.input(DType::f64, {2, 2});
    const uint32_t f = b.input(DType::f64, {2, 3});
    const uint32_t rhs = b.input(DType::f64, {2, 1});
    b.output(b.node(op_named("lu_solve"), DType::f64, {2, 1}, {a, f, rhs}, {0}));
    ProgramPtr p;
    REQUIRE(compile(b.bytes(), &p).ok());
    std::vector<std::vector<double>> in = {{1, 0, 0, 1}, {1, 0, 0, 0, 1, bad}, {1, 1}}, out;
    const Status r = run(*p, in, &out);
    CHECK(r.code == wengert::ErrorCode::index_out_of_range);
    CHECK(r.message.find("pivot row") != std::string::npos);
  }
}

TEST(kernels, linalg_shapes_are_validated) {
  ProgramPtr p;
  {  // not square
    GraphBuilder b;
    const uint32_t x = b.input(DType::f64, {2, 3});
    b.output(b.node(op_named("cholesky"), DType::f64, {2, 3}, {x}));
    CHECK(compile(b.bytes(), &p).code == wengert::ErrorCode::bad_graph);
  }
  {  // lu output not [n, n + 1]
    GraphBuilder b;
    const uint32_t x = b.input(DType::f64, {3, 3});
    b.output(b.node(op_named("lu"), DType::f64, {3, 3}, {x}));
    CHECK(compile(b.bytes(), &p).code == wengert::ErrorCode::bad_graph);
  }
  {  // triangular_solve flag out of range, and batch dims that differ
    GraphBuilder b;
    const uint32_t x = b.input(DType::f64, {3, 3});
    const uint32_t y = b.input(DType::f64, {3, 2});
    b.output(b.node(op_named("triangular_solve"), DType::f64, {3, 2}, {x, y}, {2, 0}));
    CHECK(compile(b.bytes(), &p).code == wengert::ErrorCode::bad_graph);
    GraphBuilder c;
    const uint32_t x2 = c.input(DType::f64, {2, 3, 3});
    const uint32_t y2 = c.input(DType::f64, {3, 3, 2});
    c.output(c.node(op_named("triangular_solve"), DType::f64, {3, 3, 2}, {x2, y2}, {1, 0}));
    CHECK(compile(c.bytes(), &p).code == wengert::ErrorCode::bad_graph);
  }
  {  // lu_solve with a factor of the wrong size
    GraphBuilder b;
    const uint32_t x = b.input(DType::f64, {3, 3});
    const uint32_t f = b.input(DType::f64, {3, 3});
    const uint32_t y = b.input(DType::f64, {3, 1});
    b.output(b.node(op_named("lu_solve"), DType::f64, {3, 1}, {x, f, y}, {0}));
    CHECK(compile(b.bytes(), &p).code == wengert::ErrorCode::bad_graph);
  }
}

}  // namespace
}  // namespace wt
