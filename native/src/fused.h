// Elementwise fusion. A run of consecutive steps that are elementwise over the same number of
// elements n (unary, binary and ternary ops, fills of one value, pads that place their input as
// one contiguous run), with full sums of them, runs as one fused step: block by block (kFuseBlock elements), every member's
// own kernel computes its block, so a value read only inside the group lives in a small block
// buffer that stays in the first-level cache instead of a pass over memory. Members whose values
// are read after the group (or are outputs) are written to their arena slots as usual; the others
// have no slot at all.
//
// The bits are those of the unfused steps: an elementwise kernel computes each element alone, so
// cutting n into blocks changes nothing, and a fused sum adds the same elements in the same order
// as the reduce_sum kernel (full_sum, sum_order.h). Native tests compare fused programs
// with the same programs compiled unfused.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "format.h"
#include "kernels.h"
#include "parallel.h"

namespace wengert {

// Elements per block: a multiple of every packet width, and a divisor of kChunk, so that chunk
// boundaries are block boundaries.
inline constexpr uint64_t kFuseBlock = 512;
static_assert(kChunk % kFuseBlock == 0);
// Only values of at least this many elements are fused (smaller ones gain nothing from it).
inline constexpr uint64_t kFuseMin = 1024;
// Limits of one group: members, block buffers (kMaxFuseBuffers × kFuseBlock × 8 bytes of stack
// per running chunk), and fused sums.
inline constexpr std::size_t kMaxFuseMembers = 64;
inline constexpr std::size_t kMaxFuseBuffers = 16;
inline constexpr std::size_t kMaxFuseSums = 4;

// Where a member reads one operand from: the n elements of a value computed before the group
// (full), the one element of such a value (scalar), or the block of an earlier member (value).
struct FusedOperand {
  enum Kind : uint8_t { full, scalar, value } kind = full;
  uint32_t node = 0;    // the node read
  uint16_t member = 0;  // value: its index in the group
};

struct FusedMember {
  uint32_t node = 0;
  KernelFn fn = nullptr;  // the node's own kernel; nullptr for a fused sum
  uint8_t n_inputs = 0;
  std::array<FusedOperand, kMaxInputs> in{};
  bool stored = false;   // written to the node's arena slot (read after the group, or an output)
  uint16_t buffer = 0;   // otherwise: its block buffer
  int16_t sum = -1;      // a fused sum of in[0] (all of it, into one element): its accumulator
  // A pad that places all of in[0] (place_len elements) at element place_at of the n, and the
  // scalar in[1] everywhere else (no kernel: run_fused copies and fills each block).
  bool place = false;
  uint64_t place_at = 0, place_len = 0;
};

struct FusedGroup {
  DType dtype = DType::f64;
  uint64_t n = 0;  // elements of every elementwise member
  std::vector<FusedMember> members;
  uint16_t n_buffers = 0;
  uint16_t n_sums = 0;
};

// Whether programs are compiled with fusion: yes unless the environment variable WENGERT_FUSION
// is "0" (read once; for benchmarks that compare against unfused runs).
bool fusion_enabled();

// For checkFinite: the first member, in step order, whose value holds a NaN or an infinity, its
// first such element and that element's value.
struct FusedNonFinite {
  bool found = false;
  uint32_t node = 0;
  uint64_t element = 0;
  double value = 0;
};

// Runs a group: `values` holds every node's value pointer (arena slots, inputs, constants).
// With `check`, the run is serial and every member's blocks are scanned, so the first non-finite
// value is found in the same member, at the same element, as an unfused run would find it.
void run_fused(const FusedGroup& group, const Graph& graph, void* const* values, const Parallel* parallel,
               FusedNonFinite* check = nullptr);

}  // namespace wengert
