#include "program.h"

#include "isa.h"
#include "sum_order.h"

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

// The scalar region, where every slot is kScalarSlot bytes: freed slots are kept on a stack and
// handed out again most recently freed first (still in cache). Any free slot fits, so the region
// grows only when none is free, to the peak number of live scalars, as best fit would make it;
// each operation is O(1) and allocates nothing once the stack has grown.
class ScalarSlots {
 public:
  uint64_t allocate() {
    if (free_.empty()) {
      top_ += kScalarSlot;
      return top_ - kScalarSlot;
    }
    const uint64_t at = free_.back();
    free_.pop_back();
    return at;
  }
  void release(uint64_t at) { free_.push_back(at); }
  uint64_t top() const { return top_; }

 private:
  std::vector<uint64_t> free_;
  uint64_t top_ = 0;
};

// Step `id`'s kernel call on `values` (one pointer per node): the generic path builds one per step
// of a run, the fast path one per step of an arena (Program::acquire_arena) and patches it per run.
KernelCall kernel_call(const Graph& g, uint32_t id, void* const* values, KernelFault* fault, const Parallel* parallel) {
  const Node& nd = g.nodes[id];
  KernelCall call{};
  call.fault = fault;
  call.parallel = parallel;
  call.node = &nd;
  call.iattrs = g.iattrs_of(nd);
  call.out = values[id];
  for (int k = 0; k < nd.n_inputs; ++k) {
    call.in[k] = values[nd.inputs[k]];
    call.in_shapes[k] = &g.nodes[nd.inputs[k]].shape;
  }
  return call;
}

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

// ": element <i> is <NaN|Infinity|-Infinity>", for checkFinite messages.
std::string non_finite_text(uint64_t at, double v) {
  return ": element " + std::to_string(at) + " is " + (v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
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
  return non_finite_text(at, v);
}

// Small steps (Program::plan_calls()): the loops of ops whose value is one IEEE operation (or a
// copy, or safe_mul's masked product), so any loop over them gives the kernel's bits; B says which operand, if any, is a single
// element broadcast over the n (the kernel's cases for equal counts and a scalar operand).
enum class Broadcast { none, x, y };

template <class T, class F>
void small_unary(void* z, const void* x, const void*, uint64_t n) {
  const T* a = static_cast<const T*>(x);
  T* r = static_cast<T*>(z);
  for (uint64_t i = 0; i < n; ++i) r[i] = F::apply(a[i]);
}

template <class T, class F, Broadcast B>
void small_binary(void* z, const void* x, const void* y, uint64_t n) {
  const T* a = static_cast<const T*>(x);
  const T* b = static_cast<const T*>(y);
  T* r = static_cast<T*>(z);
  for (uint64_t i = 0; i < n; ++i) r[i] = F::apply(a[B == Broadcast::x ? 0 : i], b[B == Broadcast::y ? 0 : i]);
}

#if defined(__GNUC__) || defined(__clang__)
// safe_mul, 16 bytes at a time in vector registers: compiled for the baseline instruction set,
// the plain loop stays scalar (a compare, a flag move and an integer `and` per element, four times
// the instructions of add). The compare mask gives emath::safe_mul's bits: the product where
// x != 0 (NaN included), +0 where x is ±0.
template <class T, Broadcast B>
void small_safe_mul(void* z, const void* x, const void* y, uint64_t n) {
  typedef T V __attribute__((vector_size(16)));
  using M = decltype(V{} != V{});
  constexpr uint64_t kLanes = 16 / sizeof(T);
  const T* a = static_cast<const T*>(x);
  const T* b = static_cast<const T*>(y);
  T* r = static_cast<T*>(z);
  if (n == 0) return;
  V a_splat, b_splat;
  for (uint64_t k = 0; k < kLanes; ++k) a_splat[k] = a[0], b_splat[k] = b[0];
  uint64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V va = a_splat, vb = b_splat;
    if constexpr (B != Broadcast::x) std::memcpy(&va, a + i, sizeof va);
    if constexpr (B != Broadcast::y) std::memcpy(&vb, b + i, sizeof vb);
    const M keep = va != V{};
    const V product = va * vb;
    const V result = reinterpret_cast<V>(reinterpret_cast<M>(product) & keep);
    std::memcpy(r + i, &result, sizeof result);
  }
  for (; i < n; ++i) r[i] = scalar::safe_mul::apply(a[B == Broadcast::x ? 0 : i], b[B == Broadcast::y ? 0 : i]);
}
#define WENGERT_SMALL_SAFE_MUL(T, B) &small_safe_mul<T, B>
#else
#define WENGERT_SMALL_SAFE_MUL(T, B) &small_binary<T, scalar::safe_mul, B>
#endif

// A full sum of n elements: the kernel's own function (sum_order.h), serial, as the kernel runs
// it below kSplitMin elements.
template <class T>
void small_sum(void* z, const void* x, const void*, uint64_t n) {
  *static_cast<T*>(z) = full_sum(static_cast<const T*>(x), n, nullptr);
}

#define WENGERT_SMALL_UNARY_OPS(X) X(neg) X(abs) X(square) X(sqrt) X(identity) X(stop_gradient)
#define WENGERT_SMALL_BINARY_OPS(X) X(add) X(sub) X(mul) X(div)

using SmallLoop = void (*)(void* z, const void* x, const void* y, uint64_t n);

template <class T>
SmallLoop small_loop(OpCode code, Broadcast b) {
  SmallLoop fn = nullptr;
  switch (code) {
#define WENGERT_SMALL_UNARY_CASE(name) \
  case OpCode::name: fn = &small_unary<T, scalar::name>; break;
#define WENGERT_SMALL_BINARY_CASE(name)                                                  \
  case OpCode::name:                                                                     \
    fn = b == Broadcast::x   ? &small_binary<T, scalar::name, Broadcast::x>              \
         : b == Broadcast::y ? &small_binary<T, scalar::name, Broadcast::y>              \
                             : &small_binary<T, scalar::name, Broadcast::none>;          \
    break;
    WENGERT_SMALL_UNARY_OPS(WENGERT_SMALL_UNARY_CASE)
    WENGERT_SMALL_BINARY_OPS(WENGERT_SMALL_BINARY_CASE)
#undef WENGERT_SMALL_UNARY_CASE
#undef WENGERT_SMALL_BINARY_CASE
    case OpCode::safe_mul:
      fn = b == Broadcast::x   ? WENGERT_SMALL_SAFE_MUL(T, Broadcast::x)
           : b == Broadcast::y ? WENGERT_SMALL_SAFE_MUL(T, Broadcast::y)
                               : WENGERT_SMALL_SAFE_MUL(T, Broadcast::none);
      break;
    case OpCode::reduce_sum: fn = &small_sum<T>; break;
    default: break;
  }
  return fn;
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
                        std::shared_ptr<const Program>* out, bool fuse) {
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
    p->steps_.reserve(n);
    p->root_of_.resize(n);
    for (uint32_t i = 0; i < n; ++i) p->root_of_[i] = i;
    p->root_bytes_.assign(n, 0);
    for (uint32_t i = 0; i < n; ++i) {
      const Node& nd = g.nodes[i];
      if (!live[i]) continue;
      if (nd.op->kind == OpKind::input) {
        p->arg_node_[static_cast<std::size_t>(g.iattrs_of(nd)[0])] = i;
      } else if (nd.op->kind == OpKind::constant) {
        p->fixed_[i] = p->constants_.data() + g.iattrs_of(nd)[0];
      } else if (uint64_t at = 0; p->view(i, &at)) {
        // Not a step: a pointer into the value it views (element `at` on), which stays live as
        // long as the view is read.
        const uint32_t src = nd.inputs[0];
        const uint64_t bytes = at * dtype_size(nd.dtype);
        if (p->fixed_[src] != nullptr) {
          p->fixed_[i] = static_cast<const uint8_t*>(p->fixed_[src]) + bytes;
        } else {
          p->root_of_[i] = p->root_of_[src];
          p->root_bytes_[i] = p->root_bytes_[src] + bytes;
          const View v{i, p->root_of_[i], p->root_bytes_[i]};
          (g.nodes[v.root].op->kind == OpKind::input ? p->input_views_ : p->arena_views_).push_back(v);
        }
      } else {
        const KernelFn fn = select_kernel(nd.code(), nd.dtype);
        if (fn == nullptr) return Status::error(ErrorCode::internal, describe(g, i) + ": the engine has no kernel for it");
        if (!p->fold(i, fn)) p->steps_.push_back(Step{fn, i});
      }
    }
    // Capping the limit keeps every sum in the plan far from overflow.
    const uint64_t limit = std::min<uint64_t>(max_arena_bytes, uint64_t{1} << 62);
    p->fuse(fuse && fusion_enabled());
    if (Status s = p->plan(limit); !s.ok()) return s;
    p->collapse_groups();
    p->build_tape();
    p->plan_direct_outputs();
    p->plan_calls();
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

// Whether `small` sits in `big` as one contiguous run of its row-major elements, at `start[d]`
// along each axis with spacing[d] == `unit` (no gaps): all axes before the first that differs
// have length 1 in `small`, all after it are whole. *offset = the run's first element in `big`.
static bool contiguous_run(const Shape& small, const Shape& big, const int64_t* start, const int64_t* spacing,
                           int64_t unit, uint64_t* offset) {
  int k = 0;
  while (k < big.rank && small.dims[k] == big.dims[k]) ++k;  // the first axis that differs
  uint64_t stride = 1, at = 0;
  for (int d = big.rank - 1; d >= 0; --d) {
    if (spacing[d] != unit) return false;
    if (d > k && small.dims[d] != big.dims[d]) return false;
    if (d < k && small.dims[d] != 1) return false;
    at += static_cast<uint64_t>(start[d]) * stride;
    stride *= big.dims[d];
  }
  *offset = at;
  return true;
}

// A slice with unit steps that reads one contiguous run of its input (iattrs: begin..., step...).
static bool contiguous_slice(const Graph& g, const Node& nd, uint64_t* offset) {
  const Shape& in = g.nodes[nd.inputs[0]].shape;
  const int64_t* begin = g.iattrs_of(nd);
  return contiguous_run(nd.shape, in, begin, begin + in.rank, 1, offset);
}

// A pad with no interior padding that places its input as one contiguous run of the output
// (iattrs: lo..., hi..., interior...).
static bool contiguous_pad(const Graph& g, const Node& nd, uint64_t* offset) {
  const Shape& in = g.nodes[nd.inputs[0]].shape;
  const int64_t* lo = g.iattrs_of(nd);
  return contiguous_run(in, nd.shape, lo, lo + 2 * in.rank, 0, offset);
}

// Whether node `id` is a view rather than a step: a reshape (the same elements), or a slice that
// reads one contiguous run of its input (element *at on). A one-element view of a computed value
// stays a step: the scalar tape reads its operands from slots of their own.
bool Program::view(uint32_t id, uint64_t* at) const {
  const Node& nd = graph_.nodes[id];
  if (nd.op->kind != OpKind::reshape && !(nd.op->kind == OpKind::slice && contiguous_slice(graph_, nd, at))) return false;
  if (nd.op->kind == OpKind::reshape) *at = 0;
  const uint32_t root = root_of_[nd.inputs[0]];
  const OpKind root_kind = graph_.nodes[root].op->kind;
  return nd.numel > 1 || root_kind == OpKind::input || fixed_[nd.inputs[0]] != nullptr;
}

// Elementwise fusion (fused.h): consecutive steps that are elementwise, over lengths within
// kMaxFuseHalo of each other, with operands of their own length or of one element, form a group;
// a full sum of one of its members joins it, and so does a pad that places a member (its halo
// permitting). A member is stored in its arena slot when a step after the group reads it or it is
// an output; the others get block buffers (or, past kMaxFuseBuffers, arena slots) and no slot.
void Program::fuse(bool enabled) {
  const Graph& g = graph_;
  const uint32_t n = static_cast<uint32_t>(g.nodes.size());
  group_of_.assign(n, kNoGroup);
  if (!enabled) return;
  std::vector<uint16_t> member_at(n, 0);  // a node's index in its group
  FusedGroup cur;
  const auto in_cur = [&](uint32_t id) { return !cur.members.empty() && group_of_[id] == groups_.size(); };
  const auto close = [&] {
    const bool any_elementwise = std::any_of(cur.members.begin(), cur.members.end(), [](const FusedMember& m) { return m.sum < 0; });
    if (cur.members.size() >= 2 && any_elementwise) {
      groups_.push_back(std::move(cur));
    } else {
      for (const FusedMember& m : cur.members) group_of_[m.node] = kNoGroup;
    }
    cur = FusedGroup{};
  };
  // The member of the open group whose blocks operand `in` is (the member itself, or a view of
  // all of it); -1 if `in` was computed before the group; -2 if it views part of a member, which
  // only the whole, finished member can give.
  const auto member_of = [&](uint32_t in) -> int {
    const uint32_t root = root_of_[in];
    if (!in_cur(root)) return -1;
    if (root_bytes_[in] != 0 || g.nodes[in].numel != g.nodes[root].numel) return -2;
    return member_at[root];
  };
  // The halos of the open group's members if member `j` must also compute the `need` elements
  // before each block (and so what it reads, too); false if some halo would pass kMaxFuseHalo.
  const auto raise_halo = [&](std::vector<uint32_t>& halo, uint16_t j, uint64_t need) {
    std::vector<std::pair<uint16_t, uint64_t>> todo = {{j, need}};
    while (!todo.empty()) {
      const auto [i, h] = todo.back();
      todo.pop_back();
      if (h > kMaxFuseHalo) return false;
      if (halo[i] >= h) continue;
      halo[i] = static_cast<uint32_t>(h);
      const FusedMember& mb = cur.members[i];
      for (int k = 0; k < mb.n_inputs; ++k) {
        if (mb.in[k].kind == FusedOperand::value) todo.push_back({mb.in[k].member, h + (mb.place ? mb.place_at : 0)});
      }
    }
    return true;
  };
  const auto join = [&](uint32_t id, FusedMember&& m) {
    member_at[id] = static_cast<uint16_t>(cur.members.size());
    group_of_[id] = static_cast<uint32_t>(groups_.size());
    cur.members.push_back(std::move(m));
  };
  std::vector<uint32_t> halo;
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    bool elementwise = false;
    uint64_t offset = 0;  // pad: where the input is placed
    switch (nd.op->kind) {
      case OpKind::unary:
      case OpKind::binary:
      case OpKind::ternary: elementwise = true; break;
      case OpKind::broadcast: elementwise = g.nodes[nd.inputs[0]].numel == 1; break;  // a fill
      case OpKind::pad: elementwise = contiguous_pad(g, nd, &offset); break;
      default: break;
    }
    elementwise = elementwise && (nd.dtype == DType::f64 || nd.dtype == DType::f32) && nd.numel >= kFuseMin;
    const bool windowed = nd.op->kind == OpKind::pad;
    if (elementwise) {
      bool valid = true;
      bool fits = !cur.members.empty() && cur.dtype == nd.dtype && cur.members.size() < kMaxFuseMembers &&
                  std::max(cur.n, nd.numel) - std::min(cur.n_min, nd.numel) <= kMaxFuseHalo;
      if (windowed) {  // a pad may raise the halos of what it reads
        halo.resize(cur.members.size());
        for (std::size_t i = 0; i < cur.members.size(); ++i) halo[i] = cur.members[i].halo;
      }
      for (int k = 0; k < nd.n_inputs; ++k) {
        const uint32_t in = nd.inputs[k];
        const Node& x = g.nodes[in];
        valid = valid && x.dtype == nd.dtype && (x.numel == nd.numel || x.numel == 1 || (windowed && k == 0));
        const int mk = member_of(in);
        // A sum and a part of a member are complete only after the group; a pad reads its
        // input `offset` elements back, which that member computes in its halo.
        if (mk == -2 || (mk >= 0 && cur.members[mk].sum >= 0)) fits = false;
        if (windowed && k == 0 && mk >= 0 && fits) fits = raise_halo(halo, static_cast<uint16_t>(mk), offset);
      }
      if (!fits || !valid) close();
      if (!valid) continue;
      if (cur.members.empty()) {
        cur.dtype = nd.dtype;
        cur.n = cur.n_min = nd.numel;
      } else {
        if (windowed) {
          for (std::size_t i = 0; i < halo.size(); ++i) cur.members[i].halo = halo[i];
        }
        cur.n = std::max(cur.n, nd.numel);
        cur.n_min = std::min(cur.n_min, nd.numel);
      }
      FusedMember m;
      m.node = s.node;
      m.n = nd.numel;
      m.fn = s.fn;
      m.n_inputs = nd.n_inputs;
      for (int k = 0; k < nd.n_inputs; ++k) {
        const uint32_t in = nd.inputs[k];
        if (const int mk = member_of(in); mk >= 0) {
          const FusedMember& x = cur.members[mk];
          const bool fill = g.nodes[x.node].op->kind == OpKind::broadcast;
          // An elementwise member reads a fill's one element as a scalar operand, and a uniform
          // member's one value.
          if (fill && !windowed) {
            m.in[k] = FusedOperand{FusedOperand::scalar, g.nodes[x.node].inputs[0], 0};
          } else if (x.uniform && !windowed) {
            m.in[k] = FusedOperand{FusedOperand::uniform, in, static_cast<uint16_t>(mk)};
          } else {
            m.in[k] = FusedOperand{FusedOperand::value, in, static_cast<uint16_t>(mk)};
          }
        } else if (windowed && k == 0) {
          m.in[k] = FusedOperand{FusedOperand::full, in, 0};
        } else {
          m.in[k] = FusedOperand{g.nodes[in].numel == 1 ? FusedOperand::scalar : FusedOperand::full, in, 0};
        }
      }
      if (nd.op->kind == OpKind::pad) {
        m.fn = nullptr;
        m.place = true;
        m.place_at = offset;
        m.place_len = g.nodes[nd.inputs[0]].numel;
      } else if (nd.op->kind != OpKind::broadcast) {
        m.uniform = std::all_of(m.in.begin(), m.in.begin() + m.n_inputs, [](const FusedOperand& o) {
          return o.kind == FusedOperand::scalar || o.kind == FusedOperand::uniform;
        });
      }
      join(s.node, std::move(m));
      continue;
    }
    const int summed = nd.code() == OpCode::reduce_sum && nd.numel == 1 ? member_of(nd.inputs[0]) : -1;
    if (summed >= 0 && nd.dtype == cur.dtype && cur.members[summed].sum < 0 && cur.n_sums < kMaxFuseSums &&
        cur.members.size() < kMaxFuseMembers && (cur.n_sums == 0 || cur.sum_n == cur.members[summed].n)) {
      FusedMember m;
      m.node = s.node;
      m.n = cur.members[summed].n;
      m.n_inputs = 1;
      m.in[0] = FusedOperand{FusedOperand::value, nd.inputs[0], static_cast<uint16_t>(summed)};
      m.stored = true;
      m.sum = static_cast<int16_t>(cur.n_sums++);
      cur.sum_n = m.n;
      join(s.node, std::move(m));
      continue;
    }
    close();
  }
  close();
  if (groups_.empty()) return;

  // Members read after their group (or through a view), and outputs, are stored.
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    for (int k = 0; k < nd.n_inputs; ++k) {
      const uint32_t in = root_of_[nd.inputs[k]];
      if (group_of_[in] != kNoGroup && group_of_[in] != group_of_[s.node]) groups_[group_of_[in]].members[member_at[in]].stored = true;
    }
  }
  for (uint32_t id : g.outputs) {
    const uint32_t root = root_of_[id];
    if (group_of_[root] != kNoGroup) groups_[group_of_[root]].members[member_at[root]].stored = true;
  }
  // Block buffers by liveness inside the group: a member's buffer is taken before its operands'
  // buffers are given back, so no kernel writes over its own input. A fill that is read only as
  // a scalar operand is not run at all. A pad's block inside its placed run is read straight from
  // its input's block (fused.cpp), so a read of a pad also keeps the input's buffer (and, for a
  // pad of a pad, its input's) alive.
  for (FusedGroup& grp : groups_) {
    const std::size_t m = grp.members.size();
    std::vector<std::size_t> last(m, 0);
    std::vector<bool> read(m, false);
    for (std::size_t i = 0; i < m; ++i) {
      grp.halo = std::max(grp.halo, grp.members[i].halo);
      for (int k = 0; k < grp.members[i].n_inputs; ++k) {
        if (grp.members[i].in[k].kind != FusedOperand::value) continue;
        uint32_t r = grp.members[i].in[k].member;
        last[r] = i, read[r] = true;
        while (grp.members[r].place && grp.members[r].in[0].kind == FusedOperand::value) {
          r = grp.members[r].in[0].member;
          last[r] = i;
        }
      }
    }
    std::vector<uint16_t> free_buffers;
    uint16_t used = 0;
    for (std::size_t i = 0; i < m; ++i) {
      FusedMember& mb = grp.members[i];
      mb.elided = (mb.uniform || g.nodes[mb.node].op->kind == OpKind::broadcast) && !mb.stored && !read[i];
      if ((!mb.stored || mb.halo != 0) && mb.sum < 0 && !mb.elided) {
        if (!free_buffers.empty()) {
          mb.buffer = free_buffers.back();
          mb.buffered = true;
          free_buffers.pop_back();
        } else if (used < kMaxFuseBuffers) {
          mb.buffer = used++;
          mb.buffered = true;
        } else {
          grp.serial = grp.serial || mb.halo != 0;
          mb.stored = true;
        }
      }
      for (std::size_t r = 0; r < i; ++r) {
        if (read[r] && last[r] == i && grp.members[r].buffered) free_buffers.push_back(grp.members[r].buffer);
      }
    }
    grp.n_buffers = used;
  }
  in_buffer_.assign(n, false);
  for (const FusedGroup& grp : groups_) {
    for (const FusedMember& mb : grp.members) in_buffer_[mb.node] = !mb.stored;
  }
}

// Outputs a run may compute straight into the caller's buffer (see run()): the first 64 outputs
// that a kernel or a fused group computes into a slot of their own in the aligned region, each
// listed once and viewed by no view. (The others are copied at the end of a run.)
void Program::plan_direct_outputs() {
  const Graph& g = graph_;
  std::vector<bool> input_view(g.nodes.size(), false), viewed(g.nodes.size(), false), kernel_out(g.nodes.size(), false);
  for (const View& v : input_views_) input_view[v.node] = true;
  for (const View& v : arena_views_) viewed[v.root] = true;
  // Written through its value pointer on both paths: by a kernel, or by a fused group (the tape
  // writes slots by offset).
  for (const Step& s : fast_steps_) {
    if (s.fn != nullptr) kernel_out[s.node] = true;
  }
  for (const FusedGroup& grp : groups_) {
    for (const FusedMember& m : grp.members) kernel_out[m.node] = m.stored;
  }
  for (uint32_t id : g.outputs) output_in_input_.push_back(g.nodes[id].op->kind == OpKind::input || input_view[id]);
  for (std::size_t o = 0; o < g.outputs.size() && o < 64; ++o) {
    const uint32_t id = g.outputs[o];
    if (!kernel_out[id] || offsets_[id] == kNoSlot || g.nodes[id].bytes <= kScalarSlot) continue;
    if (std::count(g.outputs.begin(), g.outputs.end(), id) != 1) continue;
    if (viewed[id]) continue;  // a view of it points into its slot for the life of the arena
    direct_.push_back(DirectOutput{static_cast<uint32_t>(o), id});
  }
}

// After planning, each group becomes one step, at its first member's place.
void Program::collapse_groups() {
  if (!groups_.empty()) {
    std::vector<Step> steps;
    steps.reserve(steps_.size());
    for (const Step& s : steps_) {
      const uint32_t group = group_of_[s.node];
      if (group == kNoGroup) {
        steps.push_back(s);
      } else if (groups_[group].members.front().node == s.node) {
        steps.push_back(Step{nullptr, s.node, 0, 0, group});
      }
    }
    steps_ = std::move(steps);
  }
  group_of_.clear();
  group_of_.shrink_to_fit();
  in_buffer_.clear();
  in_buffer_.shrink_to_fit();
  root_of_.clear();
  root_of_.shrink_to_fit();
  root_bytes_.clear();
  root_bytes_.shrink_to_fit();
}

std::size_t Program::num_fused_steps() const {
  std::size_t k = 0;
  for (const FusedGroup& g : groups_) k += g.members.size();
  return k;
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
  // Whether a step's value goes in the scalar region: read here, in order, so that the allocation
  // loop below need not read the node array at random.
  std::vector<uint8_t> scalar(n, 0);
  // Reading a view reads its root.
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    scalar[s.node] = nd.bytes != 0 && nd.bytes <= kScalarSlot;
    last_use[s.node] = s.node;
    for (int k = 0; k < nd.n_inputs; ++k) last_use[root_of_[nd.inputs[k]]] = s.node;
  }
  for (uint32_t id : g.outputs) last_use[root_of_[id]] = kNoNode;
  // A fused group runs as one step: what its members read stays live until its last member.
  for (const Step& s : steps_) {
    if (group_of_[s.node] == kNoGroup) continue;
    const Node& nd = g.nodes[s.node];
    const uint32_t end = groups_[group_of_[s.node]].members.back().node;
    for (int k = 0; k < nd.n_inputs; ++k) {
      if (last_use[root_of_[nd.inputs[k]]] == s.node) last_use[root_of_[nd.inputs[k]]] = end;
    }
  }
  // The computed values each step frees, after taking its own slot.
  std::vector<uint32_t> dies_begin(std::size_t{n} + 1, 0), dying;
  for (const Step& s : steps_) {
    if (last_use[s.node] != kNoNode) ++dies_begin[last_use[s.node] + 1];
  }
  for (uint32_t i = 0; i < n; ++i) dies_begin[i + 1] += dies_begin[i];
  dying.resize(dies_begin[n]);
  {
    std::vector<uint32_t> fill(dies_begin.begin(), dies_begin.end() - 1);
    for (const Step& s : steps_) {
      if (last_use[s.node] != kNoNode) dying[fill[last_use[s.node]]++] = s.node;
    }
  }

  SlotAllocator slots;
  ScalarSlots scalars;
  const auto slot_size = [&](uint32_t id) { return (g.nodes[id].bytes + kAlign - 1) / kAlign * kAlign; };  // bytes <= 2^56
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    TapeCode code;
    if (!tape_step(s.node, &code)) continue;
    for (int k = 0; k < nd.n_inputs; ++k) {
      const uint32_t in = nd.inputs[k];
      const OpKind kind = g.nodes[in].op->kind;
      if ((kind == OpKind::input || fixed_[in] != nullptr || root_of_[in] != in) && tape_leaf_[in] == kNoSlot) {
        tape_leaf_[in] = static_cast<int64_t>(scalars.allocate());
        preloads_.push_back(Preload{in, 0});
      }
    }
  }
  for (const Step& s : steps_) {
    if (!in_buffer_.empty() && in_buffer_[s.node]) continue;  // lives in a fused group's block buffer
    const uint64_t at = scalar[s.node] ? scalars.allocate() : slots.allocate(slot_size(s.node));
    const uint64_t top = (slots.top() + kAlign - 1) / kAlign * kAlign + scalars.top();
    if (top > max_arena_bytes) {
      return Status::error(ErrorCode::arena_limit,
                           "the memory plan needs at least " + std::to_string(top) + " arena bytes at " +
                               describe(g, s.node) + ", over the limit of " + std::to_string(max_arena_bytes) +
                               " (maxArenaBytes)");
    }
    offsets_[s.node] = static_cast<int64_t>(at);
    for (uint32_t j = dies_begin[s.node]; j < dies_begin[s.node + 1]; ++j) {
      const uint32_t id = dying[j];
      if (offsets_[id] == kNoSlot) continue;
      if (scalar[id]) {
        scalars.release(static_cast<uint64_t>(offsets_[id]));
      } else {
        slots.release(static_cast<uint64_t>(offsets_[id]), slot_size(id));
      }
    }
  }
  // Scalar offsets were relative to their region; it starts after the aligned slots.
  scalar_base_ = (slots.top() + kAlign - 1) / kAlign * kAlign;
  for (const Step& s : steps_) {
    if (scalar[s.node] && offsets_[s.node] != kNoSlot) offsets_[s.node] += static_cast<int64_t>(scalar_base_);
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
// cancellation is still polled often. Operands are byte offsets from the scalar region (plan());
// an arena too large for 32-bit signed offsets (over 2 GiB) gets no tape, its steps stay kernel
// calls. A small float concat whose inputs both live in the arena (the gradient of a split of
// scalars is a tree of them) joins the tape too, as one element copy (identity) per output
// element: a copy gives the kernel's bits. Then each run's instructions get their handlers
// (pairs, scalar_tape.h).
void Program::build_tape() {
  constexpr uint32_t kMaxTapeRun = 4096;
  constexpr uint64_t kMaxTapeConcat = 16;  // elements; beyond, the kernel's loop beats one instruction each
  tape_runner_ = select_tape_runner();
  fast_steps_.reserve(steps_.size());
  const Graph& g = graph_;
  const auto offset = [&](uint32_t id) {
    const int64_t at = tape_leaf_[id] != kNoSlot ? tape_leaf_[id] : offsets_[id] - static_cast<int64_t>(scalar_base_);
    return static_cast<int32_t>(at);
  };
  const bool addressable = arena_bytes_ <= std::size_t{INT32_MAX};
  // Constants and folded values the tape reads hold the same bits in every run: ones of equal
  // dtype and bits share one slot, so a run preloads each distinct value once (the gradient of a
  // sum of n scalar terms folds n equal seeds, each its own value).
  {
    std::map<std::pair<DType, uint64_t>, int64_t> shared;
    std::vector<Preload> distinct;
    for (const Preload& p : preloads_) {
      const Node& leaf = g.nodes[p.node];
      if (fixed_[p.node] != nullptr && leaf.bytes <= sizeof(uint64_t)) {
        uint64_t bits = 0;
        std::memcpy(&bits, fixed_[p.node], leaf.bytes);
        const auto [at, fresh] = shared.emplace(std::make_pair(leaf.dtype, bits), tape_leaf_[p.node]);
        if (!fresh) {
          tape_leaf_[p.node] = at->second;
          continue;
        }
      }
      distinct.push_back(p);
    }
    preloads_ = std::move(distinct);
  }
  const auto concat_copies = [&](const Node& nd, TapeCode* code) {
    const bool small = nd.code() == OpCode::concat && nd.numel <= kMaxTapeConcat &&
                       (nd.dtype == DType::f64 || nd.dtype == DType::f32);
    if (!small || offsets_[nd.inputs[0]] == kNoSlot || offsets_[nd.inputs[1]] == kNoSlot) return false;
    return tape_code(OpCode::identity, nd.dtype, code);
  };
  const auto start_run = [&](uint32_t node) {
    if (fast_steps_.empty() || fast_steps_.back().fn != nullptr || fast_steps_.back().group != kNoGroup ||
        fast_steps_.back().tape_count == kMaxTapeRun) {
      fast_steps_.push_back(Step{nullptr, node, static_cast<uint32_t>(tape_.size()), 0});
    }
  };
  for (const Step& s : steps_) {
    const Node& nd = g.nodes[s.node];
    TapeCode code;
    if (addressable && tape_step(s.node, &code)) {
      start_run(s.node);
      ++fast_steps_.back().tape_count;
      const int32_t a = offset(nd.inputs[0]);
      tape_.push_back(TapeOp{code, 0, offset(s.node), a, nd.n_inputs > 1 ? offset(nd.inputs[1]) : a});
    } else if (addressable && concat_copies(nd, &code)) {
      // The concat kernel's order: for each index of the leading axes, a block of x then one of y.
      const Shape& xs = g.nodes[nd.inputs[0]].shape;
      const Shape& ys = g.nodes[nd.inputs[1]].shape;
      const int axis = static_cast<int>(g.iattrs_of(nd)[0]);
      uint64_t outer = 1, inner = 1;
      for (int d = 0; d < axis; ++d) outer *= xs.dims[d];
      for (int d = axis + 1; d < xs.rank; ++d) inner *= xs.dims[d];
      const uint64_t block[2] = {xs.dims[axis] * inner, ys.dims[axis] * inner};
      const int32_t size = nd.dtype == DType::f64 ? 8 : 4;
      int32_t dst = offset(s.node);
      for (uint64_t o = 0; o < outer; ++o) {
        for (int k = 0; k < 2; ++k) {
          for (uint64_t j = 0; j < block[k]; ++j) {
            start_run(s.node);
            const int32_t src = offset(nd.inputs[k]) + static_cast<int32_t>((o * block[k] + j) * size);
            ++fast_steps_.back().tape_count;
            tape_.push_back(TapeOp{code, 0, dst, src, src});
            dst += size;
          }
        }
      }
    } else {
      fast_steps_.push_back(s);
    }
  }
  fast_steps_.shrink_to_fit();
  for (const Step& s : fast_steps_) {
    if (s.fn == nullptr && s.group == kNoGroup) tape_assign_handlers(tape_.data() + s.tape_begin, s.tape_count);
  }
  // Preloads only feed the tape: slot indices, as run() reads them.
  if (!addressable) preloads_.clear();
  for (Preload& p : preloads_) p.slot = static_cast<uint32_t>(offset(p.node) / int32_t{kScalarSlot});
  tape_leaf_.clear();
  tape_leaf_.shrink_to_fit();
}

TapeRunner select_tape_runner(bool portable) {
  switch (isa_choice().isa) {
    case Isa::scalar: return portable ? &isa_scalar::run_tape_portable : &isa_scalar::run_tape;
    case Isa::sse2: return portable ? &isa_sse2::run_tape_portable : &isa_sse2::run_tape;
    case Isa::avx2: return portable ? &isa_avx2::run_tape_portable : &isa_avx2::run_tape;
    case Isa::avx512: return portable ? &isa_avx512::run_tape_portable : &isa_avx512::run_tape;
    case Isa::neon: return portable ? &isa_neon::run_tape_portable : &isa_neon::run_tape;
  }
  return portable ? &isa_scalar::run_tape_portable : &isa_scalar::run_tape;
}

// Instruction sets this architecture lacks are never chosen; their runners are never called.
#if !(defined(__x86_64__) || defined(_M_X64))
namespace isa_sse2 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
void run_tape_portable(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_sse2
namespace isa_avx2 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
void run_tape_portable(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_avx2
namespace isa_avx512 {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
void run_tape_portable(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_avx512
#endif
#if !(defined(__aarch64__) || defined(_M_ARM64))
namespace isa_neon {
void run_tape(const TapeOp*, std::size_t, uint8_t*) {}
void run_tape_portable(const TapeOp*, std::size_t, uint8_t*) {}
}  // namespace isa_neon
#endif

// The fast path's kernel calls are built once per arena (acquire_arena) instead of once per step
// of every run: a tiny program's run is mostly steps on a few elements each, where filling a
// KernelCall cost more than the kernel. Every pointer in a call stays the same from run to run but
// those of inputs (and views of them) and of direct outputs, which a run patches. A program of more
// than kMaxPrebuiltCalls steps (whose calls would cost memory in every arena) builds each call as
// it runs it, as the generic path does.
// A kernel step of at most kMaxSmall elements whose kernel is one loop over them runs that loop
// directly (the kernel's work without its dispatch, a third of a small step's instructions): an
// op of WENGERT_SMALL_UNARY_OPS or _BINARY_OPS (operands of n elements or one), a full sum, or a
// vector math op, through the vector function its kernel calls (isa.h) on the same elements.
// Each gives the kernel's bits.
void Program::choose_small(Step* s) const {
  constexpr uint64_t kMaxSmall = 64;
  const Graph& g = graph_;
  const Node& nd = g.nodes[s->node];
  if (nd.dtype != DType::f64 && nd.dtype != DType::f32) return;
  const bool f64 = nd.dtype == DType::f64;
  const OpKind kind = nd.op->kind;
  if (nd.code() == OpCode::reduce_sum) {
    const uint64_t n = g.nodes[nd.inputs[0]].numel;
    if (nd.numel != 1 || n > kMaxSmall || g.nodes[nd.inputs[0]].dtype != nd.dtype) return;
    s->small = f64 ? small_loop<double>(nd.code(), Broadcast::none) : small_loop<float>(nd.code(), Broadcast::none);
    s->small_n = static_cast<uint32_t>(n);
    return;
  }
  if ((kind != OpKind::unary && kind != OpKind::binary) || nd.numel > kMaxSmall) return;
  Broadcast b = Broadcast::none;
  for (int k = 0; k < nd.n_inputs; ++k) {
    const Node& in = g.nodes[nd.inputs[k]];
    if (in.dtype != nd.dtype) return;
    if (in.numel == nd.numel) continue;
    if (in.numel != 1 || nd.n_inputs != 2 || b != Broadcast::none) return;
    b = k == 0 ? Broadcast::x : Broadcast::y;
  }
  if (const int v = tape_vec_index(nd.code()); v >= 0) {
    if (kind != OpKind::unary) return;
    s->vec = isa_vec_fn(isa_choice().isa, static_cast<VecOp>(v), nd.dtype);
  } else {
    s->small = f64 ? small_loop<double>(nd.code(), b) : small_loop<float>(nd.code(), b);
  }
  if (s->small != nullptr || s->vec != nullptr) s->small_n = static_cast<uint32_t>(nd.numel);
}

std::size_t Program::num_small_steps() const {
  return static_cast<std::size_t>(std::count_if(fast_steps_.begin(), fast_steps_.end(), [](const Step& s) {
    return s.small != nullptr || s.vec != nullptr;
  }));
}

void Program::plan_calls() {
  constexpr std::size_t kMaxPrebuiltCalls = 4096;
  if (fast_steps_.size() > kMaxPrebuiltCalls) return;
  const Graph& g = graph_;
  std::vector<bool> varies(g.nodes.size(), false);
  for (uint32_t id : arg_node_) {
    if (id != kNoNode) varies[id] = true;
  }
  for (const View& v : input_views_) varies[v.node] = true;
  for (const DirectOutput& d : direct_) varies[d.node] = true;
  for (std::size_t i = 0; i < fast_steps_.size(); ++i) {
    Step& s = fast_steps_[i];
    if (s.fn == nullptr) continue;
    const Node& nd = g.nodes[s.node];
    const uint32_t step = static_cast<uint32_t>(i);
    choose_small(&s);
    for (int k = 0; k < nd.n_inputs; ++k) {
      if (varies[nd.inputs[k]]) call_patches_.push_back(CallPatch{step, nd.inputs[k], static_cast<uint8_t>(k)});
    }
    if (varies[s.node]) call_patches_.push_back(CallPatch{step, s.node, kCallOut});
  }
  prebuilt_calls_ = true;
}

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
  for (const View& v : arena_views_) a->values[v.node] = static_cast<uint8_t*>(a->values[v.root]) + v.bytes;
  if (prebuilt_calls_) {
    a->calls = std::make_unique<KernelCall[]>(fast_steps_.size());
    for (std::size_t i = 0; i < fast_steps_.size(); ++i) {
      if (fast_steps_[i].fn != nullptr) a->calls[i] = kernel_call(graph_, fast_steps_[i].node, a->values.get(), &a->fault, nullptr);
    }
  }
  return a;
}

void Program::release_arena(std::unique_ptr<Arena> arena) const noexcept {
  for (const DirectOutput& d : direct_) arena->values[d.node] = arena->memory.data() + offsets_[d.node];
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
  for (const View& v : input_views_) values[v.node] = static_cast<uint8_t*>(values[v.root]) + v.bytes;
  // Outputs computed straight into the caller's buffers where they overlap no other buffer of the
  // run (an input read in place must not be written while it may still be read).
  uint64_t direct_mask = 0;
  for (const DirectOutput& d : direct_) {
    const uint8_t* lo = static_cast<const uint8_t*>(outputs[d.output].data);
    const uint8_t* hi = lo + g.nodes[d.node].bytes;
    const auto apart = [&](const void* data, uint64_t bytes) {
      const uint8_t* b = static_cast<const uint8_t*>(data);
      return bytes == 0 || b + bytes <= lo || hi <= b;
    };
    bool alone = true;
    for (std::size_t a = 0; a < inputs.size() && alone; ++a) alone = apart(inputs[a].data, inputs[a].length * dtype_size(inputs[a].dtype));
    for (std::size_t o = 0; o < outputs.size() && alone; ++o) {
      alone = o == d.output || apart(outputs[o].data, outputs[o].length * dtype_size(outputs[o].dtype));
    }
    if (!alone) continue;
    values[d.node] = outputs[d.output].data;
    direct_mask |= uint64_t{1} << d.output;
  }
  KernelFault fault;
  const bool fast = !options.check_finite && !options.generic_only;
  const std::vector<Step>& steps = fast ? fast_steps_ : steps_;
  // The fast path's prebuilt kernel calls (plan_calls()), with this run's pointers.
  KernelCall* const calls = fast ? arena->calls.get() : nullptr;
  if (fast) {
    uint8_t* scalar_slots = arena->memory.data() + scalar_base_;
    for (const Preload& p : preloads_) {
      std::memcpy(scalar_slots + std::size_t{p.slot} * kScalarSlot, values[p.node], g.nodes[p.node].bytes);
    }
    if (calls != nullptr) {
      if (arena->parallel != options.parallel) {
        for (std::size_t i = 0; i < steps.size(); ++i) calls[i].parallel = options.parallel;
        arena->parallel = options.parallel;
      }
      for (const CallPatch& c : call_patches_) {
        KernelCall& call = calls[c.step];
        if (c.field == kCallOut) {
          call.out = values[c.node];
        } else {
          call.in[c.field] = values[c.node];
        }
      }
    }
  }
  const auto fault_status = [&](const KernelFault& f, uint32_t node) {
    return Status::error(f.code, "node " + std::to_string(node) + " (" + g.nodes[node].op->name + "): " + f.what + " " +
                                     std::to_string(f.value) + " at position " + std::to_string(f.position) +
                                     " is out of range [0, " + std::to_string(f.limit) + ")");
  };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
      release_arena(std::move(arena));
      return Status::error(ErrorCode::aborted, "the run was aborted");
    }
    if (s.fn == nullptr) {
      if (s.group != kNoGroup) {
        if (!options.check_finite) {
          run_fused(groups_[s.group], g, values, options.parallel);
          continue;
        }
        FusedNonFinite bad;
        run_fused(groups_[s.group], g, values, options.parallel, &bad);
        if (bad.found) {
          release_arena(std::move(arena));
          return Status::error(ErrorCode::non_finite, describe(g, bad.node) + non_finite_text(bad.element, bad.value));
        }
        continue;
      }
      tape_runner_(tape_.data() + s.tape_begin, s.tape_count, arena->memory.data() + scalar_base_);
      continue;
    }
    if (calls != nullptr) {
      const KernelCall& call = calls[i];
      if (s.small != nullptr) {
        s.small(call.out, call.in[0], call.in[1], s.small_n);
        continue;
      }
      if (s.vec != nullptr) {
        s.vec(call.in[0], call.out, s.small_n);
        continue;
      }
      s.fn(call);
      if (arena->fault.code != ErrorCode::ok) [[unlikely]] {
        const Status st = fault_status(arena->fault, s.node);
        arena->fault = KernelFault{};
        release_arena(std::move(arena));
        return st;
      }
      continue;
    }
    const Node& nd = g.nodes[s.node];
    const KernelCall call = kernel_call(g, s.node, values, &fault, options.parallel);
    s.fn(call);
    if (fault.code != ErrorCode::ok) {
      release_arena(std::move(arena));
      return fault_status(fault, s.node);
    }
    if (options.check_finite) [[unlikely]] {
      const std::string where = non_finite_at(call.out, nd.dtype, nd.numel);
      if (!where.empty()) {
        release_arena(std::move(arena));
        return Status::error(ErrorCode::non_finite, describe(g, s.node) + where);
      }
    }
  }
  // Outputs whose values are (views of) inputs first: an output buffer may overlap an input.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const Node& nd = g.nodes[g.outputs[o]];
      if (o < 64 && (direct_mask >> o & 1) != 0) continue;  // already there
      if (output_in_input_[o] != (pass == 0)) continue;
      if (nd.bytes != 0) std::memmove(outputs[o].data, values[g.outputs[o]], nd.bytes);
    }
  }
  release_arena(std::move(arena));
  return {};
}

}  // namespace wengert
