// Elementwise fusion. A run of consecutive steps that are elementwise (unary, binary and ternary
// ops, fills of one value, pads that place their input as one contiguous run), with full sums of
// them, runs as one fused step: block by block (kFuseBlock elements), every member's own kernel
// computes its block, so a value read only inside the group lives in a small block buffer that
// stays in the first-level cache instead of a pass over memory. Members whose values are read
// after the group (or are outputs) are written to their arena slots as usual; the others have no
// slot at all.
//
// Members may differ in length by up to kMaxFuseHalo elements: element i of every member belongs
// to block i / kFuseBlock. A pad that places a member's value at element s > 0 reads it s elements
// back, so that member (and what it reads) also computes the `halo` elements before each block:
// the stencil of a gradient such as pad(g, lo = 0) + pad(g', lo = 1) runs in one pass, the
// elements at block edges computed twice (each computation of an element gives the same bits).
//
// The bits are those of the unfused steps: an elementwise kernel computes each element alone, so
// cutting the work into blocks changes nothing, and a fused sum adds the same elements in the
// same order as the reduce_sum kernel (full_sum, sum_order.h). Native tests compare fused
// programs with the same programs compiled unfused.
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
// The most elements a member computes before each block (see above), and so the most by which
// the lengths of a group's members differ.
inline constexpr uint64_t kMaxFuseHalo = 64;

// Where a member reads one operand from: the elements of a value computed before the group
// (full), the one element of such a value (scalar), the one value of an earlier uniform member
// (uniform), or the block of an earlier member (value).
struct FusedOperand {
  enum Kind : uint8_t { full, scalar, uniform, value } kind = full;
  uint32_t node = 0;    // the node read
  uint16_t member = 0;  // uniform, value: its index in the group
};

struct FusedMember {
  uint32_t node = 0;
  uint64_t n = 0;         // elements (a fused sum: of its input)
  uint32_t halo = 0;      // elements before each block it computes too, for pads that read it
  KernelFn fn = nullptr;  // the node's own kernel; nullptr for a fused sum
  uint8_t n_inputs = 0;
  std::array<FusedOperand, kMaxInputs> in{};
  bool stored = false;    // written to the node's arena slot (read after the group, or an output)
  bool buffered = false;  // computed in block buffer `buffer` (and, if stored, copied to the slot)
  uint16_t buffer = 0;
  int16_t sum = -1;      // a fused sum of in[0] (all of it, into one element): its accumulator
  // A pad that places all of in[0] (place_len elements) at element place_at of its n, and the
  // scalar in[1] everywhere else (no kernel: run_fused copies and fills each block).
  bool place = false;
  uint64_t place_at = 0, place_len = 0;
  // Uniform: an elementwise member whose operands are all one element (scalar or uniform), so
  // every element is the same: its kernel computes one, once per run of the group, and members
  // read it as a uniform operand.
  bool uniform = false;
  // A fill (a broadcast of one element) or a uniform member that no member reads as a block and
  // no step after the group reads: the members read its one element instead, so no block of it
  // is made.
  bool elided = false;
};

struct FusedGroup {
  DType dtype = DType::f64;
  uint64_t n = 0;      // elements of the longest member: the blocks cover [0, n)
  uint64_t n_min = 0;  // of the shortest (n - n_min <= kMaxFuseHalo)
  uint64_t sum_n = 0;  // elements of the input of every fused sum (all the same length)
  uint32_t halo = 0;   // the largest member halo
  // Run serially: a stored member with a halo that got no block buffer computes its halo
  // elements into its slot, where the chunk before writes them too (the same bits).
  bool serial = false;
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
