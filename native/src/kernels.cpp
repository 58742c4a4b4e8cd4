#include "kernels.h"
#include "elementwise_loops.h"
#include "isa.h"
#include "kernels_linalg.h"
#include "kernels_reduce.h"
#include "kernels_shape.h"
#include "strides.h"
#include "sum_order.h"

#include <algorithm>
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
  for_each_row_split<1>(c.parallel, c.node->shape, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
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
// in row-major input order (one pass over the input), so results are deterministic. Large inputs
// are split over threads without depending on the thread count:
//   - a full reduction sums fixed-size chunks into per-chunk partials (a bounded stack array),
//     then combines the partials in chunk order: the order depends only on the input size (a
//     full sum adds each chunk in eight interleaved lanes: sum_order.h);
//   - when the reduced axes are the trailing ones (each output reduces one contiguous run) or the
//     leading ones (each output reduces one column), blocks of outputs run on different threads,
//     each output keeping the single-pass order;
//   - any other reduction runs serially.
namespace {

// How the reduced axes lie, ignoring axes of length 1 (which reduce nothing).
enum class ReduceLayout { other, trailing, leading };

ReduceLayout reduce_layout(const Shape& in, const bool* reduced) {
  int first = -1, changes = 0;
  bool prev = false;
  for (int d = 0; d < in.rank; ++d) {
    if (in.dims[d] == 1) continue;
    if (first < 0) {
      first = d;
    } else if (reduced[d] != prev) {
      ++changes;
    }
    prev = reduced[d];
  }
  if (changes != 1) return ReduceLayout::other;  // full, a copy, or interleaved axes
  return reduced[first] ? ReduceLayout::leading : ReduceLayout::trailing;
}

template <class T, class Combine>
void reduce_with(const KernelCall& c, T init, Combine combine) {
  const Shape& in = *c.in_shapes[0];
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  const uint64_t n_in = in.numel(), n_out = c.node->numel;
  bool reduced[kMaxRank] = {};
  for (int k = 1; k < c.node->n_iattrs; ++k) reduced[c.iattrs[k]] = true;
  if (n_in >= kSplitMin && n_out == 1) {
    const uint64_t chunk = full_reduce_chunk(n_in);
    const uint64_t parts = (n_in + chunk - 1) / chunk;
    T partial[kMaxPartials];
    parallel_for(c.parallel, parts, [&](uint64_t p) {
      const uint64_t b = p * chunk, e = std::min(n_in, b + chunk);
      T s = init;
      for (uint64_t i = b; i < e; ++i) s = combine(s, x[i]);
      partial[p] = s;
    });
    T s = init;
    for (uint64_t p = 0; p < parts; ++p) s = combine(s, partial[p]);
    z[0] = s;
    return;
  }
  if (n_in >= kSplitMin && n_out > 1) {
    const ReduceLayout layout = reduce_layout(in, reduced);
    if (layout == ReduceLayout::trailing) {  // output o reduces x[o*len, (o+1)*len)
      const uint64_t len = n_in / n_out;
      const uint64_t per = std::max<uint64_t>(1, kChunk / len);
      parallel_for(c.parallel, (n_out + per - 1) / per, [&](uint64_t k) {
        const uint64_t first = k * per, last = std::min(n_out, first + per);
        for (uint64_t o = first; o < last; ++o) {
          const T* xr = x + o * len;
          T s = init;
          for (uint64_t j = 0; j < len; ++j) s = combine(s, xr[j]);
          z[o] = s;
        }
      });
      return;
    }
    if (layout == ReduceLayout::leading) {  // output j reduces x[r*n_out + j] over rows r
      const uint64_t rows = n_in / n_out;
      const uint64_t width = std::max<uint64_t>(64, kChunk / rows);
      parallel_for(c.parallel, (n_out + width - 1) / width, [&](uint64_t k) {
        const uint64_t first = k * width, last = std::min(n_out, first + width);
        for (uint64_t j = first; j < last; ++j) z[j] = init;
        for (uint64_t r = 0; r < rows; ++r) {
          const T* xr = x + r * n_out;
          for (uint64_t j = first; j < last; ++j) z[j] = combine(z[j], xr[j]);
        }
      });
      return;
    }
  }
  for (uint64_t i = 0; i < n_out; ++i) z[i] = init;
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
    if (c.node->numel == 1) {  // a full sum: the input in row-major order is one contiguous run
      *static_cast<T*>(c.out) = full_sum(static_cast<const T*>(c.in[0]), c.in_shapes[0]->numel(), c.parallel);
      return;
    }
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
      for_chunks(c.parallel, n, [&](uint64_t lo, uint64_t hi) {
        for (uint64_t i = lo; i < hi; ++i) z[i] = (s[i] != T(0)) ? a[i] : b[i];
      });
      return;
    }
    int64_t ss[kMaxRank], sa[kMaxRank], sb[kMaxRank];
    broadcast_strides(*c.in_shapes[0], zs, ss);
    broadcast_strides(*c.in_shapes[1], zs, sa);
    broadcast_strides(*c.in_shapes[2], zs, sb);
    const int64_t* const strides[3] = {ss, sa, sb};
    for_each_row_split<3>(c.parallel, zs, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
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
