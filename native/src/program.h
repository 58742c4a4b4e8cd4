// A compiled program: a validated graph, its constants, the kernel of every step and a memory
// plan. Compiling plans all memory: every computed value gets a 64-byte aligned offset in one
// arena, reused by liveness. Running needs only an arena from the program's pool, so a
// steady-state run allocates nothing, and concurrent runs of one program each use their own
// arena.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "format.h"
#include "fused.h"
#include "isa.h"
#include "kernels.h"
#include "parallel.h"
#include "scalar_tape.h"

namespace wengert {

inline constexpr std::size_t kAlign = 64;

// 64-byte aligned, uninitialized bytes.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes);  // throws std::bad_alloc
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();

  uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A caller's buffer: an input (read in place) or an output (written at the end of a run).
struct InputView {
  const void* data;
  DType dtype;
  uint64_t length;  // elements
};
struct OutputView {
  void* data;
  DType dtype;
  uint64_t length;  // elements
};

// How one run is carried out. The defaults give a plain serial run.
struct RunOptions {
  // Polled between steps (and inside long kernels where they choose to): once it reads true the
  // run stops, returns its arena to the pool and fails with ErrorCode::aborted.
  const std::atomic<bool>* cancel = nullptr;
  // Scan every float input, then every step's value: the first that holds a NaN or an infinity
  // fails the run with ErrorCode::non_finite. The message is "input <arg> (<dtype><shape>): element
  // <i> is <NaN|Infinity|-Infinity>" for an input, "node <id> (<op>, <dtype><shape>): element ..."
  // for a step. When false it costs one predictable branch per step.
  bool check_finite = false;
  // Threads for kernels that split large work (see parallel.h); nullptr runs serially.
  const Parallel* parallel = nullptr;
  // Run every step through its kernel, without the scalar fast path (for tests: both paths give
  // the same bits). check_finite implies it. Fused groups (fused.h) run fused either way.
  bool generic_only = false;
};

// What a run needs from the caller: one buffer per arg, one per output.
struct IoSpec {
  DType dtype;
  uint64_t length;  // elements
};

class Program {
 public:
  // Parses, validates and plans. Fails with bad_graph, arena_limit (the plan needs more than
  // max_arena_bytes) or out_of_memory. Never throws. `fuse` false compiles without elementwise
  // fusion (fused.h), for tests and benchmarks that compare the two.
  static Status compile(const uint8_t* data, std::size_t size, std::size_t max_arena_bytes,
                        std::shared_ptr<const Program>* out, bool fuse = true);

  // Runs once: checks the buffers (input_count, input_dtype, input_length, output_spec), takes an
  // arena from the pool, runs every step and copies the outputs out (most are computed straight
  // into the output buffers, so a run that fails may leave them partly written). Safe to call
  // concurrently from several threads. Never throws; allocates only when every pooled arena is in
  // use.
  Status run(std::span<const InputView> inputs, std::span<const OutputView> outputs,
             const RunOptions& options = {}) const;

  const std::vector<IoSpec>& arg_specs() const { return arg_specs_; }
  const std::vector<IoSpec>& output_specs() const { return output_specs_; }
  std::size_t arena_bytes() const { return arena_bytes_; }

  // For tests: the arena offset of a computed node, or -1 if the node has no slot (inputs,
  // constants, values no output depends on).
  int64_t slot_offset(uint32_t node) const { return offsets_[node]; }
  std::size_t num_steps() const { return steps_.size(); }
  // For tests: how many steps run on the scalar fast path (scalar_tape.h).
  std::size_t num_tape_ops() const { return tape_.size(); }
  // For tests: how many fused groups of elementwise steps the fast path runs (fused.h), and how
  // many steps they hold in all.
  std::size_t num_fused_groups() const { return groups_.size(); }
  std::size_t num_fused_steps() const;
  std::size_t num_pooled_arenas() const;
  // For tests: how many steps run on the small-step path (plan_calls()).
  std::size_t num_small_steps() const;

 private:
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  // A kernel call for one node; or (fn == nullptr) the fused group groups_[group], whose first
  // member is `node`; or (fn == nullptr, no group) tape_[tape_begin, tape_begin + tape_count).
  // A small step's loop (plan_calls()): z = op(x) or op(x, y) over n elements.
  using SmallFn = void (*)(void* z, const void* x, const void* y, uint64_t n);
  struct Step {
    KernelFn fn;
    uint32_t node;
    uint32_t tape_begin = 0;
    uint32_t tape_count = 0;
    uint32_t group = kNoGroup;
    // A kernel step of a few elements may instead run as a plain loop (small) or the vector math
    // function (vec) on its prebuilt call's pointers, over small_n elements (plan_calls()).
    uint32_t small_n = 0;
    SmallFn small = nullptr;
    VecArrayFn vec = nullptr;
  };
  struct Arena {
    AlignedBuffer memory;
    std::unique_ptr<void*[]> values;  // every node's value in runs on this arena (inputs: set per run)
    // The fast path's kernel calls, one per fast step (only those of kernel steps are used), or
    // empty (no prebuilt calls: see plan_calls()). Built once per arena; a run patches only the
    // pointers that change between runs (call_patches_) and `parallel` when it changes.
    std::unique_ptr<KernelCall[]> calls;
    KernelFault fault;                   // where the prebuilt calls report bad data
    const Parallel* parallel = nullptr;  // what every prebuilt call's `parallel` holds
  };

  Program() = default;
  bool view(uint32_t id, uint64_t* at) const;
  void fuse(bool enabled);
  Status plan(uint64_t max_arena_bytes);
  void collapse_groups();
  void plan_direct_outputs();
  void build_tape();
  void plan_calls();
  void choose_small(Step* s) const;
  bool tape_step(uint32_t node, TapeCode* code) const;
  bool fold(uint32_t node, KernelFn fn);
  std::unique_ptr<Arena> acquire_arena() const;  // may throw std::bad_alloc
  void release_arena(std::unique_ptr<Arena> arena) const noexcept;
  Status check_io(std::span<const InputView> inputs, std::span<const OutputView> outputs) const;

  Graph graph_;                   // validated; graph_.pool is not valid after compile
  std::vector<Step> steps_;       // one per computed node, in order
  std::vector<Step> fast_steps_;  // the same, with runs of scalar elementwise steps as tape steps
  std::vector<TapeOp> tape_;
  std::vector<FusedGroup> groups_;
  std::vector<uint32_t> group_of_;  // while compiling: the group of each node, or kNoGroup
  std::vector<bool> in_buffer_;      // while compiling: a member kept in a block buffer (no slot)
  // Views (view()): node reads `bytes` into the value of `root`, an input or a step.
  struct View {
    uint32_t node;
    uint32_t root;
    uint64_t bytes;
  };
  struct DirectOutput {
    uint32_t output;  // its index in the outputs (< 64)
    uint32_t node;
  };
  std::vector<DirectOutput> direct_;  // outputs a run may write in place (plan_direct_outputs)
  std::vector<bool> output_in_input_;  // per output: its value is an input's, or a view of one
  std::vector<View> input_views_;  // rooted at an input: set per run
  std::vector<View> arena_views_;  // rooted at a step: set once per arena
  std::vector<uint32_t> root_of_;  // while compiling: the node whose memory each node's value is in
  std::vector<uint64_t> root_bytes_;  // while compiling: and where in it
  TapeRunner tape_runner_ = nullptr;
  std::size_t scalar_base_ = 0;         // arena offset of the 8-byte scalar slots (see plan())
  std::vector<int64_t> tape_leaf_;      // while compiling: the scalar slot of an input/constant the tape reads
  struct Preload {
    uint32_t node;  // an input or constant read by the tape
    uint32_t slot;  // its scalar slot, filled at the start of a fast run
  };
  std::vector<Preload> preloads_;
  // A pointer of a prebuilt kernel call (Arena::calls) that changes between runs: fast step
  // `step`'s input `field` (or its output, kCallOut) is node's value, an input's (or a view of
  // one) or a direct output's.
  static constexpr uint8_t kCallOut = kMaxInputs;
  struct CallPatch {
    uint32_t step;
    uint32_t node;
    uint8_t field;
  };
  bool prebuilt_calls_ = false;
  std::vector<CallPatch> call_patches_;
  std::vector<int64_t> offsets_;  // arena offset per node, -1 if none
  // The value of a constant, or of a node computed once at compile time because it depends only
  // on constants (fold()), per node; nullptr for every other node.
  std::vector<const void*> fixed_;
  std::vector<AlignedBuffer> folded_;  // the values of folded nodes
  std::vector<uint32_t> arg_node_;      // the input node reading each arg, or UINT32_MAX
  AlignedBuffer constants_;
  std::size_t arena_bytes_ = 0;
  std::vector<IoSpec> arg_specs_;
  std::vector<IoSpec> output_specs_;

  // Idle arenas. The last one released waits in cached_, taken and put back with one atomic
  // exchange, so the common case of one caller at a time never locks; the others (concurrent
  // runs) are kept in pool_ under pool_mutex_.
  struct CachedArena {
    std::atomic<Arena*> arena{nullptr};
    ~CachedArena() { delete arena.load(std::memory_order_relaxed); }
  };
  mutable CachedArena cached_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::unique_ptr<Arena>> pool_;
};

}  // namespace wengert
