#include "fused.h"

#include "sum_order.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace wengert {

bool fusion_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("WENGERT_FUSION");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return enabled;
}

namespace {

// Runs the group over elements [begin, end) (block boundaries: multiples of kFuseBlock), adding
// each fused sum's elements, in order, to sums[k].
// For checkFinite: the first non-finite element of each member, by member (serial runs only).
struct Scan {
  bool found[kMaxFuseMembers] = {};
  uint64_t element[kMaxFuseMembers] = {};
  double value[kMaxFuseMembers] = {};
  template <class T>
  void block(std::size_t i, const T* z, uint64_t first, uint64_t len) {
    if (found[i]) return;
    for (uint64_t j = 0; j < len; ++j) {
      if (!std::isfinite(z[j])) {
        found[i] = true;
        element[i] = first + j;
        value[i] = double(z[j]);
        return;
      }
    }
  }
};

template <class T>
void run_range(const FusedGroup& g, const Graph& graph, void* const* values, uint64_t begin, uint64_t end,
               LaneSum<T>* sums, Scan* scan) {
  alignas(64) T buffers[kMaxFuseBuffers * kFuseBlock];
  // Each member's kernel sees a one-dimensional node of one block: operands of n elements have
  // the block's shape, operands of one element the shape [1] (broadcast by the kernel).
  Node nodes[kMaxFuseMembers];
  const T* out[kMaxFuseMembers];
  const std::size_t m = g.members.size();
  for (std::size_t i = 0; i < m; ++i) nodes[i] = graph.nodes[g.members[i].node];
  Shape block, one;
  block.rank = 1;
  one.rank = 1;
  one.dims[0] = 1;
  KernelFault fault;  // elementwise kernels never fail
  for (uint64_t b = begin; b < end; b += kFuseBlock) {
    const uint64_t len = std::min(kFuseBlock, end - b);
    block.dims[0] = static_cast<uint32_t>(len);
    for (std::size_t i = 0; i < m; ++i) {
      const FusedMember& mb = g.members[i];
      const auto operand = [&](const FusedOperand& o) -> const T* {
        switch (o.kind) {
          case FusedOperand::full: return static_cast<const T*>(values[o.node]) + b;
          case FusedOperand::scalar: return static_cast<const T*>(values[o.node]);
          case FusedOperand::value: return out[o.member];
        }
        return nullptr;
      };
      if (mb.sum >= 0) {
        sums[mb.sum].add(operand(mb.in[0]), len);  // whole blocks, then the chunk's tail
        continue;
      }
      if (mb.place) {  // z = the input where it was placed, the pad value elsewhere
        T* z = mb.stored ? static_cast<T*>(values[mb.node]) + b : buffers + std::size_t{mb.buffer} * kFuseBlock;
        const T* x = static_cast<const T*>(values[mb.in[0].node]);
        const T v = *static_cast<const T*>(values[mb.in[1].node]);
        const uint64_t e = b + len;
        const uint64_t lo = std::clamp(mb.place_at, b, e), hi = std::clamp(mb.place_at + mb.place_len, lo, e);
        for (uint64_t k = b; k < lo; ++k) z[k - b] = v;
        if (hi > lo) std::memcpy(z + (lo - b), x + (lo - mb.place_at), (hi - lo) * sizeof(T));
        for (uint64_t k = hi; k < e; ++k) z[k - b] = v;
        out[i] = z;
        if (scan != nullptr) [[unlikely]] scan->block(i, z, b, len);
        continue;
      }
      Node& nd = nodes[i];
      nd.shape = block;
      nd.numel = len;
      nd.bytes = len * sizeof(T);
      T* z = mb.stored ? static_cast<T*>(values[mb.node]) + b : buffers + std::size_t{mb.buffer} * kFuseBlock;
      KernelCall call{};
      call.node = &nd;
      call.iattrs = graph.iattrs_of(graph.nodes[mb.node]);
      call.out = z;
      call.fault = &fault;
      call.parallel = nullptr;
      for (int k = 0; k < mb.n_inputs; ++k) {
        call.in[k] = operand(mb.in[k]);
        call.in_shapes[k] = mb.in[k].kind == FusedOperand::scalar ? &one : &block;
      }
      mb.fn(call);
      out[i] = z;
      if (scan != nullptr) [[unlikely]] scan->block(i, z, b, len);
    }
  }
}

template <class T>
void run_typed(const FusedGroup& g, const Graph& graph, void* const* values, const Parallel* parallel, Scan* scan) {
  const uint64_t n = g.n;
  if (scan != nullptr) parallel = nullptr;  // chunks in order, so each member's first find is its first element
  if (g.n_sums == 0) {
    // Chunks of kChunk elements, as the unfused kernels split them.
    for_chunks(parallel, n, [&](uint64_t b, uint64_t e) { run_range<T>(g, graph, values, b, e, static_cast<LaneSum<T>*>(nullptr), scan); });
    return;
  }
  // The order of full_sum (sum_order.h): chunks in lanes, then the chunk totals in order.
  const uint64_t chunk = full_sum_chunk(n);
  const uint64_t parts = (n + chunk - 1) / chunk;
  T partial[kMaxFuseSums][kMaxPartials];
  parallel_for(parallel, parts, [&](uint64_t p) {
    LaneSum<T> s[kMaxFuseSums];
    run_range<T>(g, graph, values, p * chunk, std::min(n, p * chunk + chunk), s, scan);
    for (uint16_t k = 0; k < g.n_sums; ++k) partial[k][p] = s[k].total();
  });
  T result[kMaxFuseSums] = {};
  for (uint16_t k = 0; k < g.n_sums; ++k) {
    for (uint64_t p = 0; p < parts; ++p) result[k] += partial[k][p];
  }
  for (std::size_t i = 0; i < g.members.size(); ++i) {
    const FusedMember& mb = g.members[i];
    if (mb.sum < 0) continue;
    *static_cast<T*>(values[mb.node]) = result[mb.sum];
    if (scan != nullptr) scan->block(i, &result[mb.sum], 0, 1);
  }
}

}  // namespace

void run_fused(const FusedGroup& group, const Graph& graph, void* const* values, const Parallel* parallel,
               FusedNonFinite* check) {
  Scan scan;
  Scan* s = check != nullptr ? &scan : nullptr;
  if (group.dtype == DType::f64) {
    run_typed<double>(group, graph, values, parallel, s);
  } else {
    run_typed<float>(group, graph, values, parallel, s);
  }
  if (check == nullptr) return;
  for (std::size_t i = 0; i < group.members.size(); ++i) {
    if (scan.found[i]) {
      *check = FusedNonFinite{true, group.members[i].node, scan.element[i], scan.value[i]};
      return;
    }
  }
}

}  // namespace wengert
