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

// Runs the group over the blocks of [begin, end) (kFuseBlock elements from begin), adding each
// fused sum's elements, in order, to sums[k]. Member i computes, per block [b, e), its elements
// [b - halo_i, e) that exist; its element v is at at(i, v).
template <class T>
void run_range(const FusedGroup& g, const Graph& graph, void* const* values, uint64_t begin, uint64_t end,
               LaneSum<T>* sums, Scan* scan) {
  constexpr uint64_t kStride = kFuseBlock + kMaxFuseHalo;  // a multiple of 8: buffers stay 64-byte aligned
  static_assert(kStride % 8 == 0);
  alignas(64) T buffers[kMaxFuseBuffers * kStride];
  Node nodes[kMaxFuseMembers];
  KernelCall calls[kMaxFuseMembers];
  const T* ptr[kMaxFuseMembers] = {};  // this block's values of each member, from element first[i]
  uint64_t first[kMaxFuseMembers] = {};
  T uni[kMaxFuseMembers];  // the value of each uniform member
  Shape one;
  one.rank = 1;
  one.dims[0] = 1;
  KernelFault fault;  // elementwise kernels never fail
  const auto operand = [&](const FusedOperand& o, uint64_t v) -> const T* {
    switch (o.kind) {
      case FusedOperand::full: return static_cast<const T*>(values[o.node]) + v;
      case FusedOperand::scalar: return static_cast<const T*>(values[o.node]);
      case FusedOperand::uniform: return &uni[o.member];
      case FusedOperand::value: return ptr[o.member] + (v - first[o.member]);
    }
    return nullptr;
  };
  const std::size_t m = g.members.size();
  for (std::size_t i = 0; i < m; ++i) {
    const FusedMember& mb = g.members[i];
    if (mb.fn == nullptr) continue;
    // The kernel's view of one block: a one-dimensional node; operands of the member's length
    // have its shape, operands of one element the shape [1] (broadcast by the kernel).
    Node& nd = nodes[i];
    nd = graph.nodes[mb.node];
    nd.shape = one;
    KernelCall& call = calls[i];
    call = KernelCall{};
    call.node = &nd;
    call.iattrs = graph.iattrs_of(graph.nodes[mb.node]);
    call.fault = &fault;
    call.parallel = nullptr;
    for (int k = 0; k < mb.n_inputs; ++k) {
      const bool single = mb.in[k].kind == FusedOperand::scalar || mb.in[k].kind == FusedOperand::uniform;
      call.in_shapes[k] = single ? &one : &nd.shape;
    }
    if (mb.uniform) {  // operands that stay the same for the whole group: computed once
      nd.numel = 1;
      nd.bytes = sizeof(T);
      call.out = &uni[i];
      for (int k = 0; k < mb.n_inputs; ++k) call.in[k] = operand(mb.in[k], 0);
      mb.fn(call);
    }
  }
  for (uint64_t b = begin; b < end; b += kFuseBlock) {
    const uint64_t e = std::min(b + kFuseBlock, end);
    for (std::size_t i = 0; i < m; ++i) {
      const FusedMember& mb = g.members[i];
      if (mb.sum >= 0) {  // the input's elements of this block: whole blocks, then the tail
        if (const uint64_t hi = std::min(e, mb.n); hi > b) sums[mb.sum].add(operand(mb.in[0], b), hi - b);
        continue;
      }
      const uint64_t lo = b - std::min<uint64_t>(b, mb.halo), hi = std::min(e, mb.n);
      if (mb.elided) {  // read only as a scalar operand; checkFinite still sees its value
        if (scan != nullptr && hi > b) [[unlikely]] scan->block(i, mb.uniform ? &uni[i] : static_cast<const T*>(values[mb.in[0].node]), b, 1);
        continue;
      }
      if (hi <= lo) continue;  // a shorter member past its end
      const uint64_t len = hi - lo;
      T* slot = mb.stored ? static_cast<T*>(values[mb.node]) : nullptr;
      T* z = mb.buffered ? buffers + std::size_t{mb.buffer} * kStride + (lo + g.halo - b) : slot + lo;
      const T* data = z;  // where the block's values are read from
      if (mb.place && mb.buffered && mb.place_at <= lo && hi <= mb.place_at + mb.place_len) {
        // A block inside the placed run is the input's own elements: read them where they are.
        // (Program::fuse keeps the input's block buffer until the pad's last reader.)
        data = operand(mb.in[0], lo - mb.place_at);
      } else if (mb.place) {  // z = the input where it was placed (element v reads v - place_at), the pad value elsewhere
        const T v = *static_cast<const T*>(values[mb.in[1].node]);
        const uint64_t p_lo = std::clamp(mb.place_at, lo, hi), p_hi = std::clamp(mb.place_at + mb.place_len, p_lo, hi);
        for (uint64_t k = lo; k < p_lo; ++k) z[k - lo] = v;
        if (p_hi > p_lo) std::memcpy(z + (p_lo - lo), operand(mb.in[0], p_lo - mb.place_at), (p_hi - p_lo) * sizeof(T));
        for (uint64_t k = p_hi; k < hi; ++k) z[k - lo] = v;
      } else if (mb.uniform) {
        std::fill(z, z + len, uni[i]);
      } else {
        Node& nd = nodes[i];
        nd.shape.dims[0] = static_cast<uint32_t>(len);
        nd.numel = len;
        nd.bytes = len * sizeof(T);
        KernelCall& call = calls[i];
        call.out = z;
        for (int k = 0; k < mb.n_inputs; ++k) call.in[k] = operand(mb.in[k], lo);
        mb.fn(call);
      }
      ptr[i] = data;
      first[i] = lo;
      if (hi > b) {
        if (slot != nullptr && mb.buffered) std::memcpy(slot + b, data + (b - lo), (hi - b) * sizeof(T));
        if (scan != nullptr) [[unlikely]] scan->block(i, data + (b - lo), b, hi - b);
      }
    }
  }
}

template <class T>
void run_typed(const FusedGroup& g, const Graph& graph, void* const* values, const Parallel* parallel, Scan* scan) {
  const uint64_t n = g.n;
  if (scan != nullptr || g.serial) parallel = nullptr;  // chunks in order, so each member's first find is its first element
  if (g.n_sums == 0) {
    // Chunks of kChunk elements, as the unfused kernels split them.
    for_chunks(parallel, n, [&](uint64_t b, uint64_t e) { run_range<T>(g, graph, values, b, e, static_cast<LaneSum<T>*>(nullptr), scan); });
    return;
  }
  // The order of full_sum (sum_order.h) over the sums' sum_n elements: chunks in lanes, then the
  // chunk totals in order. Members up to kMaxFuseHalo longer may add one chunk at the end.
  const uint64_t chunk = full_sum_chunk(g.sum_n);
  const uint64_t parts = (n + chunk - 1) / chunk, sum_parts = (g.sum_n + chunk - 1) / chunk;
  T partial[kMaxFuseSums][kMaxPartials + 1];
  parallel_for(parallel, parts, [&](uint64_t p) {
    LaneSum<T> s[kMaxFuseSums];
    run_range<T>(g, graph, values, p * chunk, std::min(n, p * chunk + chunk), s, scan);
    for (uint16_t k = 0; k < g.n_sums; ++k) partial[k][p] = s[k].total();
  });
  T result[kMaxFuseSums] = {};
  for (uint16_t k = 0; k < g.n_sums; ++k) {
    for (uint64_t p = 0; p < sum_parts; ++p) result[k] += partial[k][p];
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
