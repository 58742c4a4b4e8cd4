#include "kernels_reduce.h"

#include <cstdint>

namespace wengert {

namespace {

// iattrs = [from_dtype, keep_dims, axis]. The input is viewed as [outer, n, inner] around `axis`;
// output element (o, i) is the first k in [0, n) whose value is the largest (argmax) or smallest
// (argmin). A NaN beats every number (as in NumPy), and the first NaN wins. n > 0 (validated).
template <class T, bool kMax>
void arg_reduce(const KernelCall& c) {
  const Shape& in = *c.in_shapes[0];
  const int axis = static_cast<int>(c.iattrs[2]);
  uint64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in.dims[d];
  for (int d = axis + 1; d < in.rank; ++d) inner *= in.dims[d];
  const uint64_t n = in.dims[axis];
  const T* x = static_cast<const T*>(c.in[0]);
  int32_t* z = static_cast<int32_t*>(c.out);
  for (uint64_t o = 0; o < outer; ++o) {
    for (uint64_t i = 0; i < inner; ++i) {
      const T* row = x + o * n * inner + i;
      T best = row[0];
      uint64_t at = 0;
      for (uint64_t k = 1; k < n && best == best; ++k) {
        const T v = row[k * inner];
        if ((kMax ? v > best : v < best) || v != v) {
          best = v;
          at = k;
        }
      }
      z[o * inner + i] = static_cast<int32_t>(at);
    }
  }
}

template <bool kMax>
void arg_reduce_any(const KernelCall& c) {
  if (static_cast<DType>(c.iattrs[0]) == DType::f64) {
    arg_reduce<double, kMax>(c);
  } else {
    arg_reduce<float, kMax>(c);
  }
}

}  // namespace

KernelFn select_reduce_kernel(OpCode code, DType /*dtype*/) {
  switch (code) {
    case OpCode::argmax: return &arg_reduce_any<true>;
    case OpCode::argmin: return &arg_reduce_any<false>;
    default: return nullptr;
  }
}

}  // namespace wengert
