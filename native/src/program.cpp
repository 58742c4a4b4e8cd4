#include "program.h"

#include "isa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <new>
#include <set>
#include <string>

namespace wengert {

namespace {

constexpr int64_t kNoSlot = -1;
constexpr uint32_t kNoNode = UINT32_MAX;
constexpr uint64_t kScalarSlot = 8;

// Best-fit allocation of slots in one arena: the smallest free block that fits, the lowest offset
// among equal sizes. Freed blocks are coalesced with their neighbours. Each operation is
// O(log free blocks), so planning stays near-linear for programs of millions of steps.
class SlotAllocator {
 public:
  uint64_t allocate(uint64_t size) {
    if (size == 0) return 0;
    const auto fit = by_size_.lower_bound({size, 0});
    if (fit != by_size_.end()) {
      const auto [block, at] = *fit;
      erase(at, block);
      if (block > size) insert(at + size, block - size);
      return at;
    }
    // No block fits: grow the arena, starting inside a free block that ends at the top.
    uint64_t at = top_;
    if (!by_offset_.empty()) {
      const auto last = std::prev(by_offset_.end());
      if (last->first + last->second == top_) {
        at = last->first;
        erase(last->first, last->second);
      }
    }
    top_ = at + size;
    return at;
  }

  void release(uint64_t offset, uint64_t size) {
    if (size == 0) return;
    const auto next = by_offset_.lower_bound(offset);
    if (next != by_offset_.end() && offset + size == next->first) {
      size += next->second;
      erase(next->first, next->second);
    }
    const auto after = by_offset_.lower_bound(offset);
    if (after != by_offset_.begin()) {
      const auto prev = std::prev(after);
      if (prev->first + prev->second == offset) {
        offset = prev->first;
        size += prev->second;
        erase(prev->first, prev->second);
      }
    }
    insert(offset, size);
  }

  uint64_t top() const { return top_; }

 private:
  void insert(uint64_t offset, uint64_t size) {
    by_offset_.emplace(offset, size);
    by_size_.emplace(size, offset);
  }
  void erase(uint64_t offset, uint64_t size) {
    by_offset_.erase(offset);
    by_size_.erase({size, offset});
  }
  std::map<uint64_t, uint64_t> by_offset_;          // free blocks: offset -> size, never adjacent
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // the same blocks as (size, offset)
  uint64_t top_ = 0;
};

std::string describe(const Graph& g, uint32_t id) {
  const Node& n = g.nodes[id];
  return "node " + std::to_string(id) + " (" + n.op->name + ", " + dtype_name(n.dtype) + n.shape.str() + ")";
}

// The first element of a float array that is NaN or an infinity, or n if there is none.
template <class T>
uint64_t first_non_finite(const T* x, uint64_t n) {
  // x - x is 0 exactly when x is finite (NaN otherwise): the branch-free pass vectorizes, and
  // only a failing block is searched element by element.
  constexpr uint64_t kBlock = 256;
  for (uint64_t b = 0; b < n; b += kBlock) {
    const uint64_t e = std::min(n, b + kBlock);
    bool bad = false;
    for (uint64_t i = b; i < e; ++i) bad |= (x[i] - x[i]) != T(0);
    if (!bad) continue;
    for (uint64_t i = b; i < e; ++i) {
      if (!std::isfinite(x[i])) return i;
    }
  }
  return n;
}

// For checkFinite: where a float value of `numel` elements first holds a non-finite number, as
// ": element <i> is <NaN|Infinity|-Infinity>", or "" if it holds none (or is not a float).
std::string non_finite_at(const void* data, DType dtype, uint64_t numel) {
  uint64_t at = numel;
  double v = 0;
  if (dtype == DType::f64) {
    const double* x = static_cast<const double*>(data);
    at = first_non_finite(x, numel);
    if (at < numel) v = x[at];
  } else if (dtype == DType::f32) {
    const float* x = static_cast<const float*>(data);
    at = first_non_finite(x, numel);
    if (at < numel) v = double(x[at]);
  }
  if (at == numel) return {};
  return ": element " + std::to_string(at) + " is " + (v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}

}  // namespace

AlignedBuffer::AlignedBuffer(std::size_t bytes) : size_(bytes) {
  const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  data_ = static_cast<uint8_t*>(::operator new(rounded == 0 ? kAlign : rounded, std::align_val_t(kAlign)));
}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& o) noexcept {
  if (this != &o) {
    this->~AlignedBuffer();
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() {
  if (data_ != nullptr) ::operator delete(data_, std::align_val_t(kAlign));
  data_ = nullptr;
}

Status Program::compile(const uint8_t* data, std::size_t size, std::size_t max_arena_bytes,
                        std::shared_ptr<const Program>* out) {
  try {
    std::shared_ptr<Program> p(new Program());
    if (Status s = parse_graph(data, size, &p->graph_); !s.ok()) return s;
    const Graph& g = p->graph_;
    const uint32_t n = static_cast<uint32_t>(g.nodes.size());

    // The constant pool is copied once; a constant's value is read in place from the copy.
    p->constants_ = AlignedBuffer(g.pool_length);
    if (g.pool_length != 0) std::memcpy(p->constants_.data(), g.pool, g.pool_length);
    p->graph_.pool = nullptr;

    p->arg_node_.assign(g.args.size(), kNoNode);
    for (const Arg& a : g.args) p->arg_specs_.push_back(IoSpec{a.dtype, a.numel});
    for (uint32_t id : g.outputs) p->output_specs_.push_back(IoSpec{g.nodes[id].dtype, g.nodes[id].numel});

    // Only values some output depends on are computed.
    std::vector<bool> live(n, false);
    for (uint32_t id : g.outputs) live[id] = true;
    for (uint32_t i = n; i-- > 0;) {
      if (!live[i]) continue;
      const Node& nd = g.nodes[i];
      for (int k = 0; k < nd.n_inputs; ++k) live[nd.inputs[k]] = true;
    }
    p->fixed_.assign(n, nullptr);
    for (uint32_t i = 0; i < n; ++i) {
      const Node& nd = g.nodes[i];
      if (!live[i]) continue;
      if (nd.op->kind == OpKind::input) {
        p->arg_node_[static_cast<std::size_t>(g.iattrs_of(nd)[0])] = i;
      } else if (nd.op->kind == OpKind::constant) {
        p->fixed_[i] = p->constants_.data() + g.iattrs_of(nd)[0];
      } else {
        const KernelFn fn = select_kernel(nd.code(), nd.dtype);
        if (fn == nullptr) return Status::error(ErrorCode::internal, describe(g, i) + ": the engine has no kernel for it");
        if (!p->fold(i, fn)) p->steps_.push_back(Step{fn, i});
      }
    }
    // Capping the limit keeps every sum in the plan far from overflow.
    const uint64_t limit = std::min<uint64_t>(max_arena_bytes, uint64_t{1} << 62);
    if (Status s = p->plan(limit); !s.ok()) return s;
    p->build_tape();
    *out = std::move(p);
    return {};
  } catch (const std::bad_alloc&) {
    return Status::error(ErrorCode::out_of_memory, "out of memory while compiling the graph");
  } catch (...) {
    return Status::error(ErrorCode::internal, "unexpected failure while compiling the graph");
  }
}

// Constant folding: a small node whose inputs are all constants (or folded) is computed here, once,
// by the kernel a run would call, so its value has the same bits; runs read it like a constant.
// (Transforms build such nodes, e.g. the identity seeding a forward-mode Jacobian, and the slices
// and reshapes of it.) A node whose kernel reports bad data, or whose float value is not finite,
// stays a step, so runs still fail, or checkFinite still reports it, exactly as before.
bool Program::fold(uint32_t id, KernelFn fn) {
  constexpr uint64_t kMaxFoldBytes = 64 * 1024;  // a folded value stays in the program for its lifetime
  const Graph& g = graph_;
  const Node& nd = g.nodes[id];
  if (nd.bytes > kMaxFoldBytes) return false;
  for (int k = 0; k < nd.n_inputs; ++k) {
    if (fixed_[nd.inputs[k]] == nullptr) return false;
  }
  AlignedBuffer value(static_cast<std::size_t>(nd.bytes));
  KernelFault fault;
  KernelCall call{};
  call.fault = &fault;
  call.parallel = nullptr;
  call.node = &nd;
  call.iattrs = g.iattrs_of(nd);
  call.out = value.data();
  for (int k = 0; k < nd.n_inputs; ++k) {
    call.in[k] = fixed_[nd.inputs[k]];
    call.in_shapes[k] = &g.nodes[nd.inputs[k]].shape;
  }
  fn(call);
  if (fault.code != ErrorCode::ok || !non_finite_at(value.data(), nd.dtype, nd.numel).empty()) return false;
  fixed_[id] = value.data();
  folded_.push_back(std::move(value));
  return true;
}

// Liveness: a value's slot is taken when its node runs and freed after its last reader runs;
// outputs stay live to the end. A node's slot is taken before its inputs' slots are freed, so no
// kernel writes over its own inputs. Values of at most 8 bytes (scalars) get 8-byte slots in a
// region of their own after the 64-byte aligned ones: a scalar program's live values stay dense
// in cache, and the scalar tape addresses them by index. Inputs and constants that tape steps
// read get a scalar slot for the whole run too, filled when a run on the fast path starts.
Status Program::plan(uint64_t max_arena_bytes) {
  const Graph& g = graph_;
  const uint32_t n = static_cast<uint32_t>(g.nodes.size());
  offsets_.assign(n, kNoSlot);
  tape_leaf_.assign(n, kNoSlot);
  std::vector<uint32_t> last_use(n, 0);
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    last_use[s.node] = s.node;
    for (int k = 0; k < nd.n_inputs; ++k) last_use[nd.inputs[k]] = s.node;
  }
  for (uint32_t id : g.outputs) last_use[id] = kNoNode;

  SlotAllocator slots, scalars;
  const auto is_scalar = [&](uint32_t id) { return g.nodes[id].bytes != 0 && g.nodes[id].bytes <= kScalarSlot; };
  const auto slot_size = [&](uint32_t id) {
    return is_scalar(id) ? kScalarSlot : (g.nodes[id].bytes + kAlign - 1) / kAlign * kAlign;  // bytes <= 2^56
  };
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    TapeCode code;
    if (!tape_step(s.node, &code)) continue;
    for (int k = 0; k < nd.n_inputs; ++k) {
      const uint32_t in = nd.inputs[k];
      const OpKind kind = g.nodes[in].op->kind;
      if ((kind == OpKind::input || fixed_[in] != nullptr) && tape_leaf_[in] == kNoSlot) {
        tape_leaf_[in] = static_cast<int64_t>(scalars.allocate(kScalarSlot));
        preloads_.push_back(Preload{in, 0});
      }
    }
  }
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    const uint64_t at = is_scalar(s.node) ? scalars.allocate(kScalarSlot) : slots.allocate(slot_size(s.node));
    const uint64_t top = (slots.top() + kAlign - 1) / kAlign * kAlign + scalars.top();
    if (top > max_arena_bytes) {
      return Status::error(ErrorCode::arena_limit,
                           "the memory plan needs at least " + std::to_string(top) + " arena bytes at " +
                               describe(g, s.node) + ", over the limit of " + std::to_string(max_arena_bytes) +
                               " (maxArenaBytes)");
    }
    offsets_[s.node] = static_cast<int64_t>(at);
    for (int k = 0; k < nd.n_inputs; ++k) {
      const uint32_t in = nd.inputs[k];
      bool seen = false;  // an input read twice (x * x) is freed once
      for (int j = 0; j < k; ++j) seen = seen || nd.inputs[j] == in;
      if (!seen && offsets_[in] != kNoSlot && last_use[in] == s.node) {
        (is_scalar(in) ? scalars : slots).release(static_cast<uint64_t>(offsets_[in]), slot_size(in));
      }
    }
  }
  // Scalar offsets were relative to their region; it starts after the aligned slots.
  scalar_base_ = (slots.top() + kAlign - 1) / kAlign * kAlign;
  for (const Step& s : steps_) {
    if (is_scalar(s.node)) offsets_[s.node] += static_cast<int64_t>(scalar_base_);
  }
  arena_bytes_ = static_cast<std::size_t>(scalar_base_ + scalars.top());
  return {};
}

bool Program::tape_step(uint32_t id, TapeCode* code) const {
  const Node& nd = graph_.nodes[id];
  if (nd.numel != 1 || !tape_code(nd.code(), nd.dtype, code)) return false;
  for (int k = 0; k < nd.n_inputs; ++k) {
    if (graph_.nodes[nd.inputs[k]].numel != 1) return false;
  }
  return true;
}

// Runs of consecutive tape steps become one step each, of at most kMaxTapeRun ops, so
// cancellation is still polled often. Operands are scalar slot indices (plan()).
void Program::build_tape() {
  constexpr uint32_t kMaxTapeRun = 4096;
  tape_runner_ = select_tape_runner();
  fast_steps_.reserve(steps_.size());
  const auto index = [&](uint32_t id) {
    const int64_t at = tape_leaf_[id] != kNoSlot ? tape_leaf_[id] : offsets_[id] - static_cast<int64_t>(scalar_base_);
    return static_cast<uint32_t>(at / int64_t{kScalarSlot});
  };
  for (const Step& s : steps_) {
    const Node& nd = graph_.nodes[s.node];
    TapeCode code;
    if (!tape_step(s.node, &code)) {
      fast_steps_.push_back(s);
      continue;
    }
    if (fast_steps_.empty() || fast_steps_.back().fn != nullptr || fast_steps_.back().tape_count == kMaxTapeRun) {
      fast_steps_.push_back(Step{nullptr, s.node, static_cast<uint32_t>(tape_.size()), 0});
    }
    ++fast_steps_.back().tape_count;
    const uint32_t a = index(nd.inputs[0]);
    tape_.push_back(TapeOp{code, index(s.node), a, nd.n_inputs > 1 ? index(nd.inputs[1]) : a});
  }
  fast_steps_.shrink_to_fit();
  for (Preload& p : preloads_) p.slot = index(p.node);
  tape_leaf_.clear();
  tape_leaf_.shrink_to_fit();
}

TapeRunner select_tape_runner() {
  switch (isa_choice().isa) {
    case Isa::scalar: return &isa_scalar::run_tape;
    case Isa::sse2: return &isa_sse2::run_tape;
    case Isa::avx2: return &isa_avx2::run_tape;
    case Isa::avx512: return &isa_avx512::run_tape;
    case Isa::neon: return &isa_neon::run_tape;
  }
  return &isa_scalar::run_tape;
}

// Instruction sets this architecture lacks are never chosen; their runners are never called.
#if !(defined(__x86_64__) || defined(_M_X64))
namespace isa_sse2 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_sse2
namespace isa_avx2 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_avx2
namespace isa_avx512 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_avx512
#endif
#if !(defined(__aarch64__) || defined(_M_ARM64))
namespace isa_neon {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_neon
#endif

std::size_t Program::num_pooled_arenas() const {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  return pool_.size() + (cached_.arena.load(std::memory_order_acquire) != nullptr ? 1 : 0);
}

std::unique_ptr<Program::Arena> Program::acquire_arena() const {
  // The fast path: the arena the last run released, if no other run holds it.
  if (Arena* a = cached_.arena.exchange(nullptr, std::memory_order_acquire)) return std::unique_ptr<Arena>(a);
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!pool_.empty()) {
      std::unique_ptr<Arena> a = std::move(pool_.back());
      pool_.pop_back();
      return a;
    }
    // Room for every arena that exists, so release_arena never allocates.
    pool_.reserve(pool_.capacity() + 1);
  }
  auto a = std::make_unique<Arena>();
  a->memory = AlignedBuffer(arena_bytes_);
  // Every value but an input's lives at the same place in every run on this arena: in its slot or
  // in the program (constants, folded values). A run sets only the inputs' pointers.
  const std::size_t n = graph_.nodes.size();
  a->values = std::make_unique<void*[]>(n);
  for (std::size_t i = 0; i < n; ++i) {
    a->values[i] = offsets_[i] != kNoSlot ? a->memory.data() + offsets_[i] : const_cast<void*>(fixed_[i]);
  }
  return a;
}

void Program::release_arena(std::unique_ptr<Arena> arena) const noexcept {
  Arena* expected = nullptr;
  if (cached_.arena.compare_exchange_strong(expected, arena.get(), std::memory_order_release, std::memory_order_relaxed)) {
    (void)arena.release();  // now owned by cached_
    return;
  }
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (pool_.size() < pool_.capacity()) pool_.push_back(std::move(arena));
}

Status Program::check_io(std::span<const InputView> inputs, std::span<const OutputView> outputs) const {
  const Graph& g = graph_;
  if (inputs.size() != arg_specs_.size()) {
    return Status::error(ErrorCode::input_count, "expected " + std::to_string(arg_specs_.size()) + " inputs, got " +
                                                     std::to_string(inputs.size()));
  }
  for (std::size_t a = 0; a < inputs.size(); ++a) {
    const Arg& arg = g.args[a];
    if (inputs[a].dtype != arg.dtype) {
      return Status::error(ErrorCode::input_dtype, "input " + std::to_string(a) + " must be " + dtype_name(arg.dtype) +
                                                       " data, got " + dtype_name(inputs[a].dtype));
    }
    if (inputs[a].length != arg.numel || (inputs[a].data == nullptr && arg.numel != 0)) {
      return Status::error(ErrorCode::input_length, "input " + std::to_string(a) + " must have " +
                                                        std::to_string(arg.numel) + " elements (" +
                                                        dtype_name(arg.dtype) + arg.shape.str() + "), got " +
                                                        std::to_string(inputs[a].length));
    }
  }
  if (outputs.size() != output_specs_.size()) {
    return Status::error(ErrorCode::output_spec, "expected " + std::to_string(output_specs_.size()) +
                                                     " output buffers, got " + std::to_string(outputs.size()));
  }
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const Node& nd = g.nodes[g.outputs[o]];
    if (outputs[o].dtype != nd.dtype || outputs[o].length != nd.numel || (outputs[o].data == nullptr && nd.numel != 0)) {
      return Status::error(ErrorCode::output_spec, "output " + std::to_string(o) + " must be " + dtype_name(nd.dtype) +
                                                       " with " + std::to_string(nd.numel) + " elements (" +
                                                       dtype_name(nd.dtype) + nd.shape.str() + "), got " +
                                                       dtype_name(outputs[o].dtype) + " with " +
                                                       std::to_string(outputs[o].length));
    }
  }
  return {};
}

Status Program::run(std::span<const InputView> inputs, std::span<const OutputView> outputs,
                    const RunOptions& options) const {
  if (Status s = check_io(inputs, outputs); !s.ok()) return s;
  std::unique_ptr<Arena> arena;
  try {
    arena = acquire_arena();
  } catch (const std::bad_alloc&) {
    return Status::error(ErrorCode::out_of_memory, "out of memory allocating a " + std::to_string(arena_bytes_) +
                                                       "-byte arena");
  } catch (...) {
    return Status::error(ErrorCode::internal, "unexpected failure allocating an arena");
  }

  const Graph& g = graph_;
  if (options.check_finite) {
    for (std::size_t a = 0; a < inputs.size(); ++a) {
      const std::string where = non_finite_at(inputs[a].data, inputs[a].dtype, inputs[a].length);
      if (!where.empty()) {
        release_arena(std::move(arena));
        return Status::error(ErrorCode::non_finite, "input " + std::to_string(a) + " (" + dtype_name(g.args[a].dtype) +
                                                        g.args[a].shape.str() + ")" + where);
      }
    }
  }
  void** values = arena->values.get();
  for (std::size_t a = 0; a < inputs.size(); ++a) {
    if (arg_node_[a] != kNoNode) values[arg_node_[a]] = const_cast<void*>(inputs[a].data);
  }
  KernelFault fault;
  const bool fast = !options.check_finite && !options.generic_only;
  const std::vector<Step>& steps = fast ? fast_steps_ : steps_;
  if (fast) {
    uint8_t* scalar_slots = arena->memory.data() + scalar_base_;
    for (const Preload& p : preloads_) {
      std::memcpy(scalar_slots + std::size_t{p.slot} * kScalarSlot, values[p.node], g.nodes[p.node].bytes);
    }
  }
  for (const Step& s : steps) {
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
      release_arena(std::move(arena));
      return Status::error(ErrorCode::aborted, "the run was aborted");
    }
    if (s.fn == nullptr) {
      tape_runner_(tape_.data() + s.tape_begin, s.tape_count, arena->memory.data() + scalar_base_);
      continue;
    }
    const Node& nd = g.nodes[s.node];
    KernelCall call{};
    call.fault = &fault;
    call.parallel = options.parallel;
    call.node = &nd;
    call.iattrs = g.iattrs_of(nd);
    call.out = values[s.node];
    for (int k = 0; k < nd.n_inputs; ++k) {
      call.in[k] = values[nd.inputs[k]];
      call.in_shapes[k] = &g.nodes[nd.inputs[k]].shape;
    }
    s.fn(call);
    if (fault.code != ErrorCode::ok) {
      release_arena(std::move(arena));
      return Status::error(fault.code, "node " + std::to_string(s.node) + " (" + nd.op->name + "): " + fault.what + " " +
                                           std::to_string(fault.value) + " at position " + std::to_string(fault.position) +
                                           " is out of range [0, " + std::to_string(fault.limit) + ")");
    }
    if (options.check_finite) [[unlikely]] {
      const std::string where = non_finite_at(call.out, nd.dtype, nd.numel);
      if (!where.empty()) {
        release_arena(std::move(arena));
        return Status::error(ErrorCode::non_finite, describe(g, s.node) + where);
      }
    }
  }
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const Node& nd = g.nodes[g.outputs[o]];
    if (nd.bytes != 0) std::memmove(outputs[o].data, values[g.outputs[o]], nd.bytes);
  }
  release_arena(std::move(arena));
  return {};
}

}  // namespace wengert
