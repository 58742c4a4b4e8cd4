// Linear algebra kernels, batched over the leading axes: each [n, n] matrix of a stack is
// factored or solved on its own, in a fixed loop order, so results are deterministic. Nothing is
// allocated: cholesky and lu build their factor in their own output, and the solves copy the
// right-hand side into their output and substitute in place. Numerical failure is not an error
// (the data is the caller's): cholesky of a matrix that is not positive definite gives a matrix
// of NaN; lu of a singular matrix divides by a zero pivot, so the solves give inf or NaN. Only a
// pivot index that is not a row of the matrix (lu_solve fed data that lu did not make) is a fault.
#include "kernels_linalg.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gemm.h"

namespace wengert {

namespace {

// The number of matrices in a stack of shape [...B, rows, cols].
uint64_t batch_count(const Shape& s) {
  uint64_t b = 1;
  for (int d = 0; d + 2 < s.rank; ++d) b *= s.dims[d];
  return b;
}

// cholesky: the lower factor L of A = L·Lᵀ, read from A's lower triangle (the strict upper triangle
// is never read); L's strict upper triangle is zero. Column by column (Cholesky–Banachiewicz order
// within a column): L[j][j] = sqrt(A[j][j] - Σ_{k<j} L[j][k]²), L[i][j] = (A[i][j] - Σ_{k<j}
// L[i][k]·L[j][k]) / L[j][j]. A pivot that is not a positive finite number (A not positive
// definite, or not finite) makes the whole matrix NaN.
template <class T>
void cholesky_kernel(const KernelCall& c) {
  const Shape& s = c.node->shape;
  const uint64_t n = s.dims[s.rank - 1];
  const uint64_t batch = batch_count(s);
  const T* A = static_cast<const T*>(c.in[0]);
  T* L = static_cast<T*>(c.out);
  for (uint64_t b = 0; b < batch; ++b) {
    const T* a = A + b * n * n;
    T* l = L + b * n * n;
    bool ok = true;
    for (uint64_t j = 0; j < n && ok; ++j) {
      T d = a[j * n + j];
      for (uint64_t k = 0; k < j; ++k) d -= l[j * n + k] * l[j * n + k];
      if (!(d > T(0)) || !std::isfinite(d)) {
        ok = false;
        break;
      }
      const T ljj = std::sqrt(d);
      l[j * n + j] = ljj;
      for (uint64_t k = j + 1; k < n; ++k) l[j * n + k] = T(0);
      for (uint64_t i = j + 1; i < n; ++i) {
        T v = a[i * n + j];
        for (uint64_t k = 0; k < j; ++k) v -= l[i * n + k] * l[j * n + k];
        l[i * n + j] = v / ljj;
      }
    }
    if (!ok) {
      for (uint64_t e = 0; e < n * n; ++e) l[e] = std::numeric_limits<T>::quiet_NaN();
    }
  }
}

// Solves M·X = X in place for a triangular M given by the accessor m(i, j): X is [n, k] row-major
// and holds the right-hand side on entry. Lower M: forward substitution, rows top to bottom;
// upper: backward, bottom to top. Each row is updated by the rows already solved, in increasing
// (lower) or decreasing (upper) order, then divided by the diagonal unless `unit`.
template <class T, class M>
void substitute(T* x, uint64_t n, uint64_t k, bool lower, bool unit, M m) {
  for (uint64_t step = 0; step < n; ++step) {
    const uint64_t i = lower ? step : n - 1 - step;
    T* xi = x + i * k;
    for (uint64_t t = 0; t < step; ++t) {
      const uint64_t j = lower ? t : n - 1 - t;
      const T mij = m(i, j);
      const T* xj = x + j * k;
      for (uint64_t col = 0; col < k; ++col) xi[col] -= mij * xj[col];
    }
    if (!unit) {
      const T d = m(i, i);
      for (uint64_t col = 0; col < k; ++col) xi[col] /= d;
    }
  }
}

// triangular_solve [lower, transpose]: X with op(A)·X = B, op(A) = A or Aᵀ, A triangular (only the
// triangle named by `lower`, diagonal included, is read). A [...B, n, n], B and X [...B, n, k].
template <class T>
void triangular_solve_kernel(const KernelCall& c) {
  const Shape& s = c.node->shape;
  const uint64_t n = s.dims[s.rank - 2], k = s.dims[s.rank - 1];
  const uint64_t batch = batch_count(s);
  const bool lower = c.iattrs[0] != 0, trans = c.iattrs[1] != 0;
  const T* A = static_cast<const T*>(c.in[0]);
  T* X = static_cast<T*>(c.out);
  if (c.node->bytes != 0) std::memcpy(X, c.in[1], c.node->bytes);
  for (uint64_t b = 0; b < batch; ++b) {
    const T* a = A + b * n * n;
    T* x = X + b * n * k;
    // op(A) is lower triangular when A is lower and not transposed, or upper and transposed.
    if (trans) {
      substitute(x, n, k, !lower, false, [a, n](uint64_t i, uint64_t j) { return a[j * n + i]; });
    } else {
      substitute(x, n, k, lower, false, [a, n](uint64_t i, uint64_t j) { return a[i * n + j]; });
    }
  }
}

// lu: P·A = L·U by Gaussian elimination with partial pivoting (the first row of largest |value|
// in the column is the pivot). Output [...B, n, n + 1]: columns 0..n-1 hold U on and above the
// diagonal and the multipliers of the unit lower L below it; column n of row k holds, as a float,
// the row swapped with row k at step k (P is the product of those swaps, step 0 first).
template <class T>
void lu_kernel(const KernelCall& c) {
  const Shape& s = c.node->shape;
  const uint64_t n = s.dims[s.rank - 2], w = n + 1;
  const uint64_t batch = batch_count(s);
  const T* A = static_cast<const T*>(c.in[0]);
  T* F = static_cast<T*>(c.out);
  for (uint64_t b = 0; b < batch; ++b) {
    const T* a = A + b * n * n;
    T* f = F + b * n * w;
    for (uint64_t i = 0; i < n; ++i) std::memcpy(f + i * w, a + i * n, n * sizeof(T));
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t p = k;
      T best = std::abs(f[k * w + k]);
      for (uint64_t i = k + 1; i < n; ++i) {
        const T v = std::abs(f[i * w + k]);
        if (v > best) {
          best = v;
          p = i;
        }
      }
      f[k * w + n] = T(p);
      if (p != k) {
        for (uint64_t j = 0; j < n; ++j) {
          const T t = f[k * w + j];
          f[k * w + j] = f[p * w + j];
          f[p * w + j] = t;
        }
      }
      const T pivot = f[k * w + k];
      for (uint64_t i = k + 1; i < n; ++i) {
        T* fi = f + i * w;
        const T l = fi[k] / pivot;  // a zero pivot (singular A) gives inf or NaN, by design
        fi[k] = l;
        const T* fk = f + k * w;
        for (uint64_t j = k + 1; j < n; ++j) fi[j] -= l * fk[j];
      }
    }
  }
}

// Swaps rows i and j of x ([n, k] row-major).
template <class T>
void swap_rows(T* x, uint64_t k, uint64_t i, uint64_t j) {
  if (i == j) return;
  for (uint64_t col = 0; col < k; ++col) {
    const T t = x[i * k + col];
    x[i * k + col] = x[j * k + col];
    x[j * k + col] = t;
  }
}

// lu_solve [transpose]: X with op(A)·X = B from lu's factor of A. Inputs A (not read: carried for
// the derivative rule), the factor [...B, n, n + 1] and B [...B, n, k]. With P·A = L·U:
//   A·X = B:  X = U⁻¹·L⁻¹·(P·B)      (swaps in step order, then L forward, U backward);
//   Aᵀ·X = B: X = Pᵀ·L⁻ᵀ·U⁻ᵀ·B       (Uᵀ forward, Lᵀ backward, then swaps in reverse order).
// A pivot entry that is not an integer in [k, n) at step k is reported as a fault.
template <class T>
void lu_solve_kernel(const KernelCall& c) {
  const Shape& s = c.node->shape;
  const uint64_t n = s.dims[s.rank - 2], k = s.dims[s.rank - 1], w = n + 1;
  const uint64_t batch = batch_count(s);
  const bool trans = c.iattrs[0] != 0;
  const T* F = static_cast<const T*>(c.in[1]);
  T* X = static_cast<T*>(c.out);
  // Validate every pivot before touching memory with it.
  for (uint64_t b = 0; b < batch; ++b) {
    for (uint64_t r = 0; r < n; ++r) {
      const T p = F[b * n * w + r * w + n];
      if (!(p >= T(r) && p < T(n)) || p != std::floor(p)) {
        c.fault->code = ErrorCode::index_out_of_range;
        c.fault->what = "pivot row";
        c.fault->value = std::isfinite(p) && std::abs(p) < T(1e15) ? int64_t(p) : -1;
        c.fault->position = int64_t(b * n * w + r * w + n);
        c.fault->limit = int64_t(n);
        return;
      }
    }
  }
  if (c.node->bytes != 0) std::memcpy(X, c.in[2], c.node->bytes);
  for (uint64_t b = 0; b < batch; ++b) {
    const T* f = F + b * n * w;
    T* x = X + b * n * k;
    const auto piv = [f, w, n](uint64_t r) { return uint64_t(f[r * w + n]); };
    if (!trans) {
      for (uint64_t r = 0; r < n; ++r) swap_rows(x, k, r, piv(r));
      substitute(x, n, k, true, true, [f, w](uint64_t i, uint64_t j) { return f[i * w + j]; });
      substitute(x, n, k, false, false, [f, w](uint64_t i, uint64_t j) { return f[i * w + j]; });
    } else {
      substitute(x, n, k, true, false, [f, w](uint64_t i, uint64_t j) { return f[j * w + i]; });
      substitute(x, n, k, false, true, [f, w](uint64_t i, uint64_t j) { return f[j * w + i]; });
      for (uint64_t r = n; r-- > 0;) swap_rows(x, k, r, piv(r));
    }
  }
}

// matmul [transpose_a, transpose_b]: batched [m, k] × [k, n] through the engine's GEMM (gemm.h),
// which reads transposed operands in place and splits large products over the threads.
template <class T>
void matmul_kernel(const KernelCall& c) {
  const Shape& as = *c.in_shapes[0];
  const Shape& bs = *c.in_shapes[1];
  const int r = as.rank;
  GemmShape g;
  g.ta = c.iattrs[0] != 0;
  g.tb = c.iattrs[1] != 0;
  g.m = g.ta ? as.dims[r - 1] : as.dims[r - 2];
  g.k = g.ta ? as.dims[r - 2] : as.dims[r - 1];
  g.n = g.tb ? bs.dims[r - 2] : bs.dims[r - 1];
  g.batch = batch_count(as);
  gemm(g, static_cast<const T*>(c.in[0]), static_cast<const T*>(c.in[1]), static_cast<T*>(c.out), c.parallel);
}

}  // namespace

KernelFn select_linalg_kernel(OpCode code, DType dtype) {
  const bool f64 = dtype == DType::f64;
  if (!f64 && dtype != DType::f32) return nullptr;
  switch (code) {
    case OpCode::matmul: return f64 ? &matmul_kernel<double> : &matmul_kernel<float>;
    case OpCode::cholesky: return f64 ? &cholesky_kernel<double> : &cholesky_kernel<float>;
    case OpCode::triangular_solve: return f64 ? &triangular_solve_kernel<double> : &triangular_solve_kernel<float>;
    case OpCode::lu: return f64 ? &lu_kernel<double> : &lu_kernel<float>;
    case OpCode::lu_solve: return f64 ? &lu_solve_kernel<double> : &lu_solve_kernel<float>;
    default: return nullptr;
  }
}

}  // namespace wengert
