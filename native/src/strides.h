// Strided iteration shared by the kernel families: row-major strides, broadcast strides and a
// fixed-order row walk. Header-only so each kernel file inlines them.
#pragma once

#include <algorithm>
#include <cstdint>

#include "format.h"
#include "parallel.h"

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

// Advances (idx, off) from one innermost row of `s` to the next in row-major order.
template <int N>
inline void next_row(const Shape& s, const int64_t* const (&strides)[N], uint32_t* idx, int64_t* off) {
  for (int d = s.rank - 2; d >= 0; --d) {
    ++idx[d];
    for (int k = 0; k < N; ++k) off[k] += strides[k][d];
    if (idx[d] < s.dims[d]) break;
    for (int k = 0; k < N; ++k) off[k] -= strides[k][d] * int64_t{s.dims[d]};
    idx[d] = 0;
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
    next_row<N>(s, strides, idx, off);
  }
}

// As for_each_row, split into chunks of about kChunk output elements (whole rows, or pieces of
// kChunk elements of a longer row: a split derived from the shape only) run on `parallel`'s
// threads once the output has at least kSplitMin elements. Each element is visited exactly once;
// f must touch only the output it is given.
template <int N, class F>
void for_each_row_split(const Parallel* parallel, const Shape& s, const int64_t* const (&strides)[N], F&& f) {
  const uint64_t total = s.numel();
  if (total < kSplitMin || s.rank == 0) {
    for_each_row<N>(s, strides, f);
    return;
  }
  const int r = s.rank;
  const uint64_t row = s.dims[r - 1];  // > 0: total > 0
  const uint64_t rows = total / row;
  // Either `per` whole rows per chunk, or `pieces` chunks per row.
  const uint64_t per = std::max<uint64_t>(1, kChunk / row);
  const uint64_t pieces = (row + kChunk - 1) / kChunk;
  const uint64_t chunks = per > 1 ? (rows + per - 1) / per : rows * pieces;
  int64_t inner[N];
  for (int k = 0; k < N; ++k) inner[k] = strides[k][r - 1];
  parallel_for(parallel, chunks, [&](uint64_t chunk) {
    const uint64_t first = per > 1 ? chunk * per : chunk / pieces;
    const uint64_t last = per > 1 ? std::min(rows, first + per) : first + 1;
    uint32_t idx[kMaxRank] = {};
    int64_t off[N] = {};
    uint64_t q = first;
    for (int d = r - 2; d >= 0; --d) {
      idx[d] = static_cast<uint32_t>(q % s.dims[d]);
      q /= s.dims[d];
      for (int k = 0; k < N; ++k) off[k] += strides[k][d] * int64_t{idx[d]};
    }
    if (per == 1 && pieces > 1) {  // one piece of one row
      const uint64_t b = (chunk % pieces) * kChunk, len = std::min(row, b + kChunk) - b;
      int64_t piece_off[N];
      for (int k = 0; k < N; ++k) piece_off[k] = off[k] + int64_t(b) * inner[k];
      f(first * row + b, len, static_cast<const int64_t*>(piece_off), static_cast<const int64_t*>(inner));
      return;
    }
    for (uint64_t i = first; i < last; ++i) {
      f(i * row, row, static_cast<const int64_t*>(off), static_cast<const int64_t*>(inner));
      next_row<N>(s, strides, idx, off);
    }
  });
}

}  // namespace wengert
