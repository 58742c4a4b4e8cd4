#include "kernels.h"

#include <cstring>

namespace wengert {

namespace {

// Contiguous row-major strides of a shape, in elements.
void contiguous_strides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s.dims[d];
  }
}

// Strides (in elements) that read `in` broadcast to `out`: 0 on broadcast axes.
void broadcast_strides(const Shape& in, const Shape& out, int64_t* st) {
  int64_t contig[kMaxRank];
  contiguous_strides(in, contig);
  const int lead = out.rank - in.rank;
  for (int d = 0; d < out.rank; ++d) {
    const int di = d - lead;
    st[d] = (di < 0 || in.dims[di] == 1) ? 0 : contig[di];
  }
}

// Visits the output of shape `s` in row-major order, one innermost row at a time, with N
// operands read at the given strides. f(out_offset, row_length, offsets, inner_strides) handles
// one row; the loop order is fixed.
template <int N, class F>
void for_each_row(const Shape& s, const int64_t* const (&strides)[N], F&& f) {
  const uint64_t total = s.numel();
  if (total == 0) return;
  if (s.rank == 0) {
    int64_t off[N] = {};
    int64_t inner[N] = {};
    f(uint64_t{0}, uint64_t{1}, off, inner);
    return;
  }
  const int r = s.rank;
  const uint64_t row = s.dims[r - 1];
  int64_t inner[N];
  for (int k = 0; k < N; ++k) inner[k] = strides[k][r - 1];
  uint32_t idx[kMaxRank] = {};
  int64_t off[N] = {};
  for (uint64_t o = 0; o < total; o += row) {
    f(o, row, off, inner);
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) off[k] += strides[k][d];
      if (idx[d] < s.dims[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= strides[k][d] * int64_t{s.dims[d]};
      idx[d] = 0;
    }
  }
}

template <class T, class F>
void unary_kernel(const KernelCall& c) {
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  const uint64_t n = c.node->numel;
  for (uint64_t i = 0; i < n; ++i) z[i] = F::apply(x[i]);
}

template <class T, class F>
void binary_kernel(const KernelCall& c) {
  const T* x = static_cast<const T*>(c.in[0]);
  const T* y = static_cast<const T*>(c.in[1]);
  T* z = static_cast<T*>(c.out);
  const Shape& zs = c.node->shape;
  const uint64_t n = c.node->numel;
  const uint64_t nx = c.in_shapes[0]->numel(), ny = c.in_shapes[1]->numel();
  if (nx == n && ny == n) {  // equal element counts: broadcasting adds only leading 1s
    for (uint64_t i = 0; i < n; ++i) z[i] = F::apply(x[i], y[i]);
    return;
  }
  if (nx == 1 && ny == n) {
    const T a = x[0];
    for (uint64_t i = 0; i < n; ++i) z[i] = F::apply(a, y[i]);
    return;
  }
  if (ny == 1 && nx == n) {
    const T b = y[0];
    for (uint64_t i = 0; i < n; ++i) z[i] = F::apply(x[i], b);
    return;
  }
  int64_t sx[kMaxRank], sy[kMaxRank];
  broadcast_strides(*c.in_shapes[0], zs, sx);
  broadcast_strides(*c.in_shapes[1], zs, sy);
  const int64_t* const strides[2] = {sx, sy};
  for_each_row<2>(zs, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
    const T* xr = x + off[0];
    const T* yr = y + off[1];
    T* zr = z + o;
    for (uint64_t j = 0; j < len; ++j) zr[j] = F::apply(xr[int64_t(j) * in[0]], yr[int64_t(j) * in[1]]);
  });
}

// Copies the input read at `strides` into the output, visiting the output in row-major order.
template <class T>
void gather(const KernelCall& c, const int64_t* st) {
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  const int64_t* const strides[1] = {st};
  for_each_row<1>(c.node->shape, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
    const T* xr = x + off[0];
    T* zr = z + o;
    for (uint64_t j = 0; j < len; ++j) zr[j] = xr[int64_t(j) * in[0]];
  });
}

}  // namespace

// The kernel of each non-elementwise op. Adding an op of an existing kind to ops.json needs only
// a specialization here; select_kernel finds it through the generated X-macro lists.
template <OpCode>
struct OpKernel;

template <>
struct OpKernel<OpCode::reduce_sum> {
  // Accumulates the input in row-major order into the output, so the summation order is fixed.
  template <class T>
  static void run(const KernelCall& c) {
    const Shape& in = *c.in_shapes[0];
    const T* x = static_cast<const T*>(c.in[0]);
    T* z = static_cast<T*>(c.out);
    for (uint64_t i = 0; i < c.node->numel; ++i) z[i] = T(0);
    bool reduced[kMaxRank] = {};
    for (int k = 1; k < c.node->n_iattrs; ++k) reduced[c.iattrs[k]] = true;
    // Output strides per input axis: 0 on reduced axes.
    int64_t st[kMaxRank];
    int64_t acc = 1;
    for (int d = in.rank - 1; d >= 0; --d) {
      st[d] = reduced[d] ? 0 : acc;
      if (!reduced[d]) acc *= in.dims[d];
    }
    const int64_t* const strides[1] = {st};
    for_each_row<1>(in, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* inner) {
      const T* xr = x + o;
      T* zr = z + off[0];
      if (inner[0] == 0) {
        T s = zr[0];
        for (uint64_t j = 0; j < len; ++j) s += xr[j];
        zr[0] = s;
      } else {
        for (uint64_t j = 0; j < len; ++j) zr[j] += xr[j];
      }
    });
  }
};

template <>
struct OpKernel<OpCode::reshape> {
  template <class T>
  static void run(const KernelCall& c) {
    if (c.node->bytes != 0) std::memcpy(c.out, c.in[0], c.node->bytes);
  }
};

template <>
struct OpKernel<OpCode::broadcast_to> {
  template <class T>
  static void run(const KernelCall& c) {
    int64_t st[kMaxRank];
    broadcast_strides(*c.in_shapes[0], c.node->shape, st);
    gather<T>(c, st);
  }
};

template <>
struct OpKernel<OpCode::transpose> {
  // Output axis d is input axis perm[d].
  template <class T>
  static void run(const KernelCall& c) {
    int64_t contig[kMaxRank], st[kMaxRank];
    contiguous_strides(*c.in_shapes[0], contig);
    for (int d = 0; d < c.node->shape.rank; ++d) st[d] = contig[c.iattrs[d]];
    gather<T>(c, st);
  }
};

template <>
struct OpKernel<OpCode::matmul> {
  // Batched [m, k] x [k, n]. The transpose flags only change the strides the operands are read
  // at, and pick the loop order that reads both operands along contiguous rows:
  //   plain              i-p-j: a row of a scales contiguous rows of b into a row of the output;
  //   transpose_a        p-i-j: row p of the stored a (column p of op(a)) and row p of b update
  //                      the whole output, so a tall stored a is streamed once, not m times;
  //   transpose_b        i-j-p: dot products of contiguous rows of a and of the stored b;
  //   both               i-j-p with a read at stride m.
  // Every output element sums its k products in increasing p, so results are deterministic.
  template <class T>
  static void run(const KernelCall& c) {
    const Shape& as = *c.in_shapes[0];
    const Shape& bs = *c.in_shapes[1];
    const int r = as.rank;
    const bool ta = c.iattrs[0] != 0, tb = c.iattrs[1] != 0;
    const uint64_t m = ta ? as.dims[r - 1] : as.dims[r - 2];
    const uint64_t k = ta ? as.dims[r - 2] : as.dims[r - 1];
    const uint64_t n = tb ? bs.dims[r - 2] : bs.dims[r - 1];
    uint64_t batch = 1;
    for (int d = 0; d < r - 2; ++d) batch *= as.dims[d];
    const int64_t sa_i = ta ? 1 : int64_t(k), sa_p = ta ? int64_t(m) : 1;
    const T* A = static_cast<const T*>(c.in[0]);
    const T* B = static_cast<const T*>(c.in[1]);
    T* Z = static_cast<T*>(c.out);
    for (uint64_t b = 0; b < batch; ++b) {
      const T* a = A + b * m * k;
      const T* bb = B + b * k * n;
      T* z = Z + b * m * n;
      if (tb) {
        for (uint64_t i = 0; i < m; ++i) {
          const T* ar = a + int64_t(i) * sa_i;
          for (uint64_t j = 0; j < n; ++j) {
            const T* br = bb + j * k;
            T s = T(0);
            for (uint64_t p = 0; p < k; ++p) s += ar[int64_t(p) * sa_p] * br[p];
            z[i * n + j] = s;
          }
        }
        continue;
      }
      for (uint64_t e = 0; e < m * n; ++e) z[e] = T(0);
      if (ta) {
        for (uint64_t p = 0; p < k; ++p) {
          const T* ap = a + p * m;
          const T* br = bb + p * n;
          for (uint64_t i = 0; i < m; ++i) {
            const T aip = ap[i];
            T* zr = z + i * n;
            for (uint64_t j = 0; j < n; ++j) zr[j] += aip * br[j];
          }
        }
      } else {
        for (uint64_t i = 0; i < m; ++i) {
          const T* ar = a + i * k;
          T* zr = z + i * n;
          for (uint64_t p = 0; p < k; ++p) {
            const T aip = ar[p];
            const T* br = bb + p * n;
            for (uint64_t j = 0; j < n; ++j) zr[j] += aip * br[j];
          }
        }
      }
    }
  }
};

KernelFn select_kernel(OpCode code, DType dtype) {
  const bool f64 = dtype == DType::f64;
  if (!f64 && dtype != DType::f32) return nullptr;
  switch (code) {
#define WENGERT_UNARY_CASE(name) \
  case OpCode::name: return f64 ? &unary_kernel<double, scalar::name> : &unary_kernel<float, scalar::name>;
#define WENGERT_BINARY_CASE(name) \
  case OpCode::name: return f64 ? &binary_kernel<double, scalar::name> : &binary_kernel<float, scalar::name>;
#define WENGERT_OP_KERNEL_CASE(name) \
  case OpCode::name:                 \
    return f64 ? &OpKernel<OpCode::name>::template run<double> : &OpKernel<OpCode::name>::template run<float>;
    WENGERT_FOR_EACH_UNARY_OP(WENGERT_UNARY_CASE)
    WENGERT_FOR_EACH_BINARY_OP(WENGERT_BINARY_CASE)
    WENGERT_FOR_EACH_REDUCE_OP(WENGERT_OP_KERNEL_CASE)
    WENGERT_FOR_EACH_RESHAPE_OP(WENGERT_OP_KERNEL_CASE)
    WENGERT_FOR_EACH_BROADCAST_OP(WENGERT_OP_KERNEL_CASE)
    WENGERT_FOR_EACH_TRANSPOSE_OP(WENGERT_OP_KERNEL_CASE)
    WENGERT_FOR_EACH_MATMUL_OP(WENGERT_OP_KERNEL_CASE)
#undef WENGERT_UNARY_CASE
#undef WENGERT_BINARY_CASE
#undef WENGERT_OP_KERNEL_CASE
    default: return nullptr;
  }
}

}  // namespace wengert
