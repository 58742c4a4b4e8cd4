// Strided iteration shared by the kernel families: row-major strides, broadcast strides and a
// fixed-order row walk. Header-only so each kernel file inlines them.
#pragma once

#include <cstdint>

#include "format.h"

namespace wengert {

// Contiguous row-major strides of a shape, in elements.
inline void contiguous_strides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s.dims[d];
  }
}

// Strides (in elements) that read `in` broadcast to `out`: 0 on broadcast axes.
inline void broadcast_strides(const Shape& in, const Shape& out, int64_t* st) {
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

}  // namespace wengert
