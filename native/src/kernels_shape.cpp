#include "kernels_shape.h"
#include "strides.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace wengert {

namespace {

// Visits the elements of shape `s` in row-major order: f(k, src) for the k-th element, where src
// starts at `base` and moves by st[d] along axis d. The loop order is fixed.
template <class F>
void strided_walk(const Shape& s, const int64_t* st, int64_t base, F&& f) {
  const uint64_t total = s.numel();
  if (total == 0) return;
  if (s.rank == 0) {
    f(uint64_t{0}, base);
    return;
  }
  const int r = s.rank;
  const uint64_t row = s.dims[r - 1];
  const int64_t inner = st[r - 1];
  uint32_t idx[kMaxRank] = {};
  int64_t off = base;
  for (uint64_t k = 0; k < total; k += row) {
    for (uint64_t j = 0; j < row; ++j) f(k + j, off + int64_t(j) * inner);
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      off += st[d];
      if (idx[d] < s.dims[d]) break;
      off -= st[d] * int64_t{s.dims[d]};
      idx[d] = 0;
    }
  }
}

// Reads the input at strides `st` from `base`, writing the output contiguously.
template <class T>
void strided_copy(const KernelCall& c, const int64_t* st, int64_t base) {
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  strided_walk(c.node->shape, st, base, [&](uint64_t k, int64_t src) { z[k] = x[src]; });
}

template <class T>
void reshape_kernel(const KernelCall& c) {
  if (c.node->bytes != 0) std::memcpy(c.out, c.in[0], c.node->bytes);
}

template <class T>
void broadcast_kernel(const KernelCall& c) {
  const Shape& in = *c.in_shapes[0];
  const Shape& out = c.node->shape;
  int64_t contig[kMaxRank], st[kMaxRank];
  contiguous_strides(in, contig);
  const int lead = out.rank - in.rank;
  for (int d = 0; d < out.rank; ++d) {
    const int di = d - lead;
    st[d] = (di < 0 || in.dims[di] == 1) ? 0 : contig[di];
  }
  strided_copy<T>(c, st, 0);
}

template <class T>
void transpose_kernel(const KernelCall& c) {
  int64_t contig[kMaxRank], st[kMaxRank];
  contiguous_strides(*c.in_shapes[0], contig);
  for (int d = 0; d < c.node->shape.rank; ++d) st[d] = contig[c.iattrs[d]];
  strided_copy<T>(c, st, 0);
}

// iattrs = [begin..., step...]: output element i along axis d reads input begin[d] + i·step[d].
template <class T>
void slice_kernel(const KernelCall& c) {
  const Shape& in = *c.in_shapes[0];
  int64_t contig[kMaxRank], st[kMaxRank];
  contiguous_strides(in, contig);
  int64_t base = 0;
  for (int d = 0; d < in.rank; ++d) {
    base += c.iattrs[d] * contig[d];
    st[d] = c.iattrs[in.rank + d] * contig[d];
  }
  if (c.node->numel == 0) return;
  strided_copy<T>(c, st, base);
}

// The inputs joined along iattrs[0]: for each index of the leading axes, a block of x then one of y.
template <class T>
void concat_kernel(const KernelCall& c) {
  const Shape& xs = *c.in_shapes[0];
  const Shape& ys = *c.in_shapes[1];
  const int axis = static_cast<int>(c.iattrs[0]);
  uint64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= xs.dims[d];
  for (int d = axis + 1; d < xs.rank; ++d) inner *= xs.dims[d];
  const uint64_t bx = xs.dims[axis] * inner, by = ys.dims[axis] * inner;
  const T* x = static_cast<const T*>(c.in[0]);
  const T* y = static_cast<const T*>(c.in[1]);
  T* z = static_cast<T*>(c.out);
  for (uint64_t o = 0; o < outer; ++o) {
    for (uint64_t j = 0; j < bx; ++j) z[j] = x[o * bx + j];
    z += bx;
    for (uint64_t j = 0; j < by; ++j) z[j] = y[o * by + j];
    z += by;
  }
}

// iattrs = [lo..., hi..., interior...]: the output is filled with the scalar second input, then
// input element i along axis d is written at lo[d] + i·(interior[d] + 1).
template <class T>
void pad_kernel(const KernelCall& c) {
  const Shape& in = *c.in_shapes[0];
  const T value = *static_cast<const T*>(c.in[1]);
  T* z = static_cast<T*>(c.out);
  for (uint64_t k = 0; k < c.node->numel; ++k) z[k] = value;
  int64_t contig[kMaxRank], st[kMaxRank];
  contiguous_strides(c.node->shape, contig);
  int64_t base = 0;
  for (int d = 0; d < in.rank; ++d) {
    base += c.iattrs[d] * contig[d];
    st[d] = (c.iattrs[2 * in.rank + d] + 1) * contig[d];
  }
  const T* x = static_cast<const T*>(c.in[0]);
  strided_walk(in, st, base, [&](uint64_t k, int64_t dst) { z[dst] = x[k]; });
}

// Checks every index in [0, limit); on the first that is not, records the fault and returns false.
bool indices_in_range(const KernelCall& c, const int32_t* idx, uint64_t count, int64_t limit) {
  for (uint64_t j = 0; j < count; ++j) {
    if (idx[j] < 0 || idx[j] >= limit) {
      c.fault->code = ErrorCode::index_out_of_range;
      c.fault->what = "index";
      c.fault->value = idx[j];
      c.fault->position = static_cast<int64_t>(j);
      c.fault->limit = limit;
      return false;
    }
  }
  return true;
}

// x viewed as [outer, n, inner] around `axis`.
struct AxisView {
  uint64_t outer = 1, n = 1, inner = 1;
  AxisView(const Shape& s, int axis) {
    for (int d = 0; d < axis; ++d) outer *= s.dims[d];
    n = s.dims[axis];
    for (int d = axis + 1; d < s.rank; ++d) inner *= s.dims[d];
  }
};

// out[o, j, i] = x[o, idx[j], i]. Every index is checked before any is used.
template <class T>
void gather_kernel(const KernelCall& c) {
  const AxisView v(*c.in_shapes[0], static_cast<int>(c.iattrs[0]));
  const int32_t* idx = static_cast<const int32_t*>(c.in[1]);
  const uint64_t m = c.in_shapes[1]->numel();
  if (!indices_in_range(c, idx, m, static_cast<int64_t>(v.n))) return;
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  for (uint64_t o = 0; o < v.outer; ++o) {
    const T* xo = x + o * v.n * v.inner;
    for (uint64_t j = 0; j < m; ++j) {
      const T* src = xo + uint64_t(idx[j]) * v.inner;
      for (uint64_t i = 0; i < v.inner; ++i) z[i] = src[i];
      z += v.inner;
    }
  }
}

// out = x; out[o, idx[j], i] += updates[o, j, i], in row-major order of the updates, so repeated
// indices accumulate in a fixed order. Every index is checked before any is used.
template <class T>
void scatter_add_kernel(const KernelCall& c) {
  const AxisView v(*c.in_shapes[0], static_cast<int>(c.iattrs[0]));
  const int32_t* idx = static_cast<const int32_t*>(c.in[1]);
  const uint64_t m = c.in_shapes[1]->numel();
  if (!indices_in_range(c, idx, m, static_cast<int64_t>(v.n))) return;
  const T* x = static_cast<const T*>(c.in[0]);
  const T* u = static_cast<const T*>(c.in[2]);
  T* z = static_cast<T*>(c.out);
  for (uint64_t k = 0; k < c.node->numel; ++k) z[k] = x[k];
  for (uint64_t o = 0; o < v.outer; ++o) {
    T* zo = z + o * v.n * v.inner;
    for (uint64_t j = 0; j < m; ++j) {
      T* dst = zo + uint64_t(idx[j]) * v.inner;
      for (uint64_t i = 0; i < v.inner; ++i) dst[i] += u[i];
      u += v.inner;
    }
  }
}

// out[j, k] = (idx[j] == k), depth = the node's last dim.
template <class T>
void one_hot_kernel(const KernelCall& c) {
  const int32_t* idx = static_cast<const int32_t*>(c.in[0]);
  const uint64_t m = c.in_shapes[0]->numel();
  const uint64_t depth = c.node->shape.dims[c.node->shape.rank - 1];
  if (!indices_in_range(c, idx, m, static_cast<int64_t>(depth))) return;
  T* z = static_cast<T*>(c.out);
  for (uint64_t k = 0; k < c.node->numel; ++k) z[k] = T(0);
  for (uint64_t j = 0; j < m; ++j) z[j * depth + uint64_t(idx[j])] = T(1);
}

// A float to int32: toward zero, saturating, NaN to 0 (a plain conversion would be undefined
// behaviour outside the int32 range).
template <class F>
int32_t to_int32(F v) {
  if (std::isnan(v)) return 0;
  if (v >= F(2147483647.0)) return INT32_MAX;  // float32: 2^31 exactly, also saturated
  if (v <= F(-2147483648.0)) return INT32_MIN;
  return static_cast<int32_t>(v);
}

template <class To, class From>
void convert(const KernelCall& c) {
  const From* x = static_cast<const From*>(c.in[0]);
  To* z = static_cast<To*>(c.out);
  const uint64_t n = c.node->numel;
  if constexpr (std::is_same_v<To, int32_t> && !std::is_same_v<From, int32_t>) {
    for (uint64_t i = 0; i < n; ++i) z[i] = to_int32(x[i]);
  } else {
    for (uint64_t i = 0; i < n; ++i) z[i] = static_cast<To>(x[i]);
  }
}

// iattrs = [from_dtype] (validated to be the input's): one conversion loop per pair.
template <class To>
void cast_kernel(const KernelCall& c) {
  switch (static_cast<DType>(c.iattrs[0])) {
    case DType::f64: return convert<To, double>(c);
    case DType::f32: return convert<To, float>(c);
    case DType::i32: return convert<To, int32_t>(c);
  }
}

}  // namespace

KernelFn select_shape_kernel(OpCode code, DType dtype) {
#define WENGERT_PICK(fn) (dtype == DType::f64 ? &fn<double> : dtype == DType::f32 ? &fn<float> : &fn<int32_t>)
  const bool is_int = dtype == DType::i32;
  switch (code) {
    case OpCode::reshape: return is_int ? &reshape_kernel<int32_t> : nullptr;
    case OpCode::broadcast_to: return is_int ? &broadcast_kernel<int32_t> : nullptr;
    case OpCode::transpose: return is_int ? &transpose_kernel<int32_t> : nullptr;
    case OpCode::slice: return WENGERT_PICK(slice_kernel);
    case OpCode::concat: return WENGERT_PICK(concat_kernel);
    case OpCode::pad: return WENGERT_PICK(pad_kernel);
    case OpCode::gather: return WENGERT_PICK(gather_kernel);
    case OpCode::scatter_add: return is_int ? nullptr : WENGERT_PICK(scatter_add_kernel);
    case OpCode::one_hot: return WENGERT_PICK(one_hot_kernel);
    case OpCode::cast: return WENGERT_PICK(cast_kernel);
    default: return nullptr;
  }
#undef WENGERT_PICK
}

}  // namespace wengert
