#include "kernels.h"
#include "elementwise_loops.h"
#include "isa.h"
#include "kernels_linalg.h"
#include "kernels_reduce.h"
#include "kernels_shape.h"
#include "strides.h"

#include <cstring>
#include <limits>

namespace wengert {

namespace {

// Copies the input read at `strides` into the output, visiting the output in row-major order.
template <class T>
void gather(const KernelCall& c, const int64_t* st) {
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  const Shape& s = c.node->shape;
  if (s.rank == 2 && st[0] == 1 && st[1] != 1) {
    // A matrix transpose: the output's columns are contiguous in the input, so copy column by
    // column (long contiguous reads instead of many short strided rows). A copy: same result.
    const uint64_t rows = s.dims[0], cols = s.dims[1];
    for (uint64_t j = 0; j < cols; ++j) {
      const T* xc = x + int64_t(j) * st[1];
      T* zc = z + j;
      for (uint64_t i = 0; i < rows; ++i) zc[i * cols] = xc[i];
    }
    return;
  }
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

// The reductions: each output element starts at `init` and combines the input elements it reduces
// in row-major input order (one pass over the input), so results are deterministic.
namespace {
template <class T, class Combine>
void reduce_with(const KernelCall& c, T init, Combine combine) {
  const Shape& in = *c.in_shapes[0];
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  for (uint64_t i = 0; i < c.node->numel; ++i) z[i] = init;
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
      for (uint64_t j = 0; j < len; ++j) s = combine(s, xr[j]);
      zr[0] = s;
    } else {
      for (uint64_t j = 0; j < len; ++j) zr[j] = combine(zr[j], xr[j]);
    }
  });
}
}  // namespace

template <>
struct OpKernel<OpCode::reduce_sum> {
  template <class T>
  static void run(const KernelCall& c) {
    reduce_with<T>(c, T(0), [](T s, T v) { return s + v; });
  }
};

template <>
struct OpKernel<OpCode::reduce_max> {
  template <class T>
  static void run(const KernelCall& c) {
    reduce_with<T>(c, -std::numeric_limits<T>::infinity(), [](T s, T v) { return (v > s || v != v) ? v : s; });
  }
};

template <>
struct OpKernel<OpCode::reduce_min> {
  template <class T>
  static void run(const KernelCall& c) {
    reduce_with<T>(c, std::numeric_limits<T>::infinity(), [](T s, T v) { return (v < s || v != v) ? v : s; });
  }
};

template <>
struct OpKernel<OpCode::reduce_prod> {
  template <class T>
  static void run(const KernelCall& c) {
    reduce_with<T>(c, T(1), [](T s, T v) { return s * v; });
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
struct OpKernel<OpCode::where> {
  // z = cond != 0 ? a : b, with (cond, a, b) broadcast to the output; NaN in cond selects a.
  template <class T>
  static void run(const KernelCall& c) {
    const T* s = static_cast<const T*>(c.in[0]);
    const T* a = static_cast<const T*>(c.in[1]);
    const T* b = static_cast<const T*>(c.in[2]);
    T* z = static_cast<T*>(c.out);
    const Shape& zs = c.node->shape;
    const uint64_t n = c.node->numel;
    if (c.in_shapes[0]->numel() == n && c.in_shapes[1]->numel() == n && c.in_shapes[2]->numel() == n) {
      for (uint64_t i = 0; i < n; ++i) z[i] = (s[i] != T(0)) ? a[i] : b[i];
      return;
    }
    int64_t ss[kMaxRank], sa[kMaxRank], sb[kMaxRank];
    broadcast_strides(*c.in_shapes[0], zs, ss);
    broadcast_strides(*c.in_shapes[1], zs, sa);
    broadcast_strides(*c.in_shapes[2], zs, sb);
    const int64_t* const strides[3] = {ss, sa, sb};
    for_each_row<3>(zs, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
      const T* sr = s + off[0];
      const T* ar = a + off[1];
      const T* br = b + off[2];
      T* zr = z + o;
      for (uint64_t j = 0; j < len; ++j) {
        const int64_t jj = int64_t(j);
        zr[j] = (sr[jj * in[0]] != T(0)) ? ar[jj * in[1]] : br[jj * in[2]];
      }
    });
  }
};

KernelFn select_kernel(OpCode code, DType dtype) {
  if (KernelFn k = select_shape_kernel(code, dtype)) return k;  // slicing, indexing, cast, int32 copies
  if (KernelFn k = select_reduce_kernel(code, dtype)) return k;  // argmax, argmin (int32 out)
  const bool f64 = dtype == DType::f64;
  if (!f64 && dtype != DType::f32) return nullptr;
  if (KernelFn k = select_isa_kernel(code, dtype)) return k;  // vector math, per-ISA loops (isa.h)
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
#define WENGERT_LINALG_CASE(name) \
  case OpCode::name: return select_linalg_kernel(OpCode::name, dtype);
    WENGERT_FOR_EACH_MATMUL_OP(WENGERT_LINALG_CASE)
    WENGERT_FOR_EACH_LINALG_OP(WENGERT_LINALG_CASE)
#undef WENGERT_LINALG_CASE
    WENGERT_FOR_EACH_TERNARY_OP(WENGERT_OP_KERNEL_CASE)
#undef WENGERT_UNARY_CASE
#undef WENGERT_BINARY_CASE
#undef WENGERT_OP_KERNEL_CASE
    default: return nullptr;
  }
}

}  // namespace wengert
