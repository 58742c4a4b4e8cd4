// The unary and binary elementwise kernels over a scalar functor (generated/ops.h), with
// broadcasting. Included by kernels.cpp (baseline) and by the avx2/avx512 instruction-set files
// after their target pragmas, so the compiler vectorizes the same loops for each target. The
// templates are in an unnamed namespace on purpose: each translation unit gets its own copies,
// compiled for its own target, and the linker can never substitute one target's copy for another's.
#pragma once

#include "kernels.h"
#include "strides.h"

namespace wengert {
namespace {

template <class T, class F>
void unary_kernel(const KernelCall& c) {
  const T* x = static_cast<const T*>(c.in[0]);
  T* z = static_cast<T*>(c.out);
  for_chunks(c.parallel, c.node->numel, [&](uint64_t b, uint64_t e) {
    for (uint64_t i = b; i < e; ++i) z[i] = F::apply(x[i]);
  });
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
    for_chunks(c.parallel, n, [&](uint64_t b, uint64_t e) {
      for (uint64_t i = b; i < e; ++i) z[i] = F::apply(x[i], y[i]);
    });
    return;
  }
  if (nx == 1 && ny == n) {
    const T a = x[0];
    for_chunks(c.parallel, n, [&](uint64_t b, uint64_t e) {
      for (uint64_t i = b; i < e; ++i) z[i] = F::apply(a, y[i]);
    });
    return;
  }
  if (ny == 1 && nx == n) {
    const T s = y[0];
    for_chunks(c.parallel, n, [&](uint64_t b, uint64_t e) {
      for (uint64_t i = b; i < e; ++i) z[i] = F::apply(x[i], s);
    });
    return;
  }
  int64_t sx[kMaxRank], sy[kMaxRank];
  broadcast_strides(*c.in_shapes[0], zs, sx);
  broadcast_strides(*c.in_shapes[1], zs, sy);
  const int64_t* const strides[2] = {sx, sy};
  for_each_row_split<2>(c.parallel, zs, strides, [&](uint64_t o, uint64_t len, const int64_t* off, const int64_t* in) {
    const T* xr = x + off[0];
    const T* yr = y + off[1];
    T* zr = z + o;
    // Rows of broadcast operands are mostly contiguous or one repeated element: those loops
    // vectorize; the element order and arithmetic are the same on every path.
    if (in[0] == 1 && in[1] == 1) {
      for (uint64_t j = 0; j < len; ++j) zr[j] = F::apply(xr[j], yr[j]);
    } else if (in[0] == 0 && in[1] == 1) {
      const T a = xr[0];
      for (uint64_t j = 0; j < len; ++j) zr[j] = F::apply(a, yr[j]);
    } else if (in[0] == 1 && in[1] == 0) {
      const T b = yr[0];
      for (uint64_t j = 0; j < len; ++j) zr[j] = F::apply(xr[j], b);
    } else {
      for (uint64_t j = 0; j < len; ++j) zr[j] = F::apply(xr[int64_t(j) * in[0]], yr[int64_t(j) * in[1]]);
    }
  });
}

}  // namespace
}  // namespace wengert
