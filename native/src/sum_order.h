// The order in which the engine adds the values of a full sum (reduce_sum to one element, fused
// or not). Eight running sums: element i of a run goes to sum i mod 8, and the eight are combined
// as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)). Eight independent chains keep the adder
// pipelined (one chain waits on every add) and vectorize on any instruction set; each is the same
// sequence of IEEE additions on every instruction set, so the bits are the same everywhere.
// A large sum is cut into chunks of full_reduce_chunk(n) elements (parallel.h), each added this
// way; the chunk totals are then added in chunk order, starting from 0.
#pragma once

#include <algorithm>
#include <cstdint>

#include "parallel.h"

namespace wengert {

template <class T>
struct LaneSum {
  T s[8] = {};
  // Adds x[0, n). Runs added one after another continue the lanes only when every run but the
  // last has a multiple of 8 elements (callers add whole blocks, then one tail).
  void add(const T* x, uint64_t n) {
    T l[8];  // local lanes: x cannot alias them, so the loop vectorizes
    for (int k = 0; k < 8; ++k) l[k] = s[k];
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int k = 0; k < 8; ++k) l[k] += x[i + k];
    }
    for (int k = 0; i < n; ++i, ++k) l[k] += x[i];
    for (int k = 0; k < 8; ++k) s[k] = l[k];
  }
  T total() const { return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7])); }
};

// The number of chunks of a full sum of n elements, and their length.
inline uint64_t full_sum_chunk(uint64_t n) { return n < kSplitMin ? std::max<uint64_t>(n, 1) : full_reduce_chunk(n); }

// The full sum of x[0, n), chunks on `parallel`'s threads.
template <class T>
T full_sum(const T* x, uint64_t n, const Parallel* parallel) {
  const uint64_t chunk = full_sum_chunk(n);
  const uint64_t parts = (n + chunk - 1) / chunk;
  T partial[kMaxPartials];
  parallel_for(parallel, parts, [&](uint64_t p) {
    LaneSum<T> s;
    s.add(x + p * chunk, std::min(n, p * chunk + chunk) - p * chunk);
    partial[p] = s.total();
  });
  T total = T(0);
  for (uint64_t p = 0; p < parts; ++p) total += partial[p];
  return total;
}

}  // namespace wengert
