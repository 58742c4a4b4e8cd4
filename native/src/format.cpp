#include "format.h"

#include <cstring>
#include <sstream>

namespace wengert {

namespace {

template <class... A>
std::string cat(const A&... a) {
  std::ostringstream s;
  (s << ... << a);
  return s.str();
}

Status bad(std::string message) { return Status::error(ErrorCode::bad_graph, std::move(message)); }

// Reads little-endian fields from the buffer; every read is bounds-checked.
class Reader {
 public:
  Reader(const uint8_t* data, std::size_t size, std::size_t pos) : data_(data), size_(size), pos_(pos) {}

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return size_ - pos_; }

  bool u8(uint8_t* v) { return read(v); }
  bool u16(uint16_t* v) { return read(v); }
  bool u32(uint32_t* v) { return read(v); }
  bool i64(int64_t* v) {
    uint64_t u;
    if (!read(&u)) return false;
    std::memcpy(v, &u, sizeof u);
    return true;
  }
  bool f64(double* v) {
    uint64_t u;
    if (!read(&u)) return false;
    std::memcpy(v, &u, sizeof u);
    return true;
  }

 private:
  template <class U>
  bool read(U* v) {
    if (remaining() < sizeof(U)) return false;
    U x = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) x |= static_cast<U>(static_cast<U>(data_[pos_ + i]) << (8 * i));
    *v = x;
    pos_ += sizeof(U);
    return true;
  }

  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_;
};

uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

bool checked_numel(const Shape& s, uint64_t* out) {
  for (int d = 0; d < s.rank; ++d) {
    if (s.dims[d] == 0) {
      *out = 0;
      return true;
    }
  }
  uint64_t n = 1;
  for (int d = 0; d < s.rank; ++d) {
    if (__builtin_mul_overflow(n, uint64_t{s.dims[d]}, &n) || n > kMaxElements) return false;
  }
  *out = n;
  return true;
}

// Reads `rank` dims (each <= kMaxDim) into `s`. `where()` names the record, for errors only.
template <class Where>
Status read_shape(Reader& r, uint8_t rank, Shape* s, const Where& where) {
  if (rank > kMaxRank) return bad(cat(where(), ": rank ", unsigned{rank}, " exceeds the maximum of ", kMaxRank));
  s->rank = rank;
  for (int d = 0; d < rank; ++d) {
    const std::size_t at = r.pos();
    if (!r.u32(&s->dims[d])) return bad(cat(where(), ": truncated in its dims at byte ", at));
    if (s->dims[d] > kMaxDim) {
      return bad(cat(where(), ": dim ", d, " is ", s->dims[d], ", over the maximum of 2^31 - 1 (at byte ", at, ")"));
    }
  }
  return {};
}

// The NumPy broadcast of a and b, or false if they do not broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  const int r = a.rank > b.rank ? a.rank : b.rank;
  out->rank = static_cast<uint8_t>(r);
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank), ib = i - (r - b.rank);
    const uint32_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da == db || db == 1) {
      out->dims[i] = da;
    } else if (da == 1) {
      out->dims[i] = db;
    } else {
      return false;
    }
  }
  return true;
}

// True if `in` broadcasts to exactly `to`.
bool broadcasts_to(const Shape& in, const Shape& to) {
  if (in.rank > to.rank) return false;
  for (int i = 0; i < in.rank; ++i) {
    const uint32_t d = in.dims[i], t = to.dims[i + (to.rank - in.rank)];
    if (d != t && d != 1) return false;
  }
  return true;
}

// Checks the op-specific rules of node `i` (its record fields are already read and in range).
class NodeChecker {
 public:
  NodeChecker(const Graph& g, uint32_t index, const Node& n, std::vector<bool>& arg_used)
      : g_(g), i_(index), n_(n), arg_used_(arg_used), attrs_(g.iattrs.data() + n.iattr_begin) {}

  Status check() {
    if (n_.n_fattrs != 0) return fail(cat("has ", unsigned{n_.n_fattrs}, " float attributes; no version 1 op takes any"));
    if (Status s = check_dtypes(); !s.ok()) return s;
    switch (n_.op->kind) {
      case OpKind::input: return check_input();
      case OpKind::constant: return check_constant();
      case OpKind::unary: return check_unary();
      case OpKind::binary: return check_binary();
      case OpKind::reduce: return check_reduce();
      case OpKind::reshape: return check_reshape();
      case OpKind::broadcast: return check_broadcast();
      case OpKind::transpose: return check_transpose();
      case OpKind::matmul: return check_matmul();
      case OpKind::slice: return check_slice();
      case OpKind::concat: return check_concat();
      case OpKind::pad: return check_pad();
      case OpKind::gather: return check_gather();
      case OpKind::scatter: return check_scatter();
      case OpKind::one_hot: return check_one_hot();
      case OpKind::cast: return check_cast();
      case OpKind::linalg: return check_linalg();
      case OpKind::ternary: return check_ternary();
      case OpKind::arg_reduce: return check_arg_reduce();
    }
    return fail("has an op kind this engine does not know");
  }

 private:
  Status fail(const std::string& what) const {
    return bad(cat("node ", i_, " (", n_.op->name, "): ", what, " (record at byte ", n_.offset, ")"));
  }
  Status want_iattrs(unsigned count, const char* what) const {
    if (n_.n_iattrs != count) return fail(cat("has ", unsigned{n_.n_iattrs}, " integer attributes, expected ", count, " (", what, ")"));
    return {};
  }
  const Shape& in_shape(int k) const { return g_.nodes[n_.inputs[k]].shape; }
  DType in_dtype(int k) const { return g_.nodes[n_.inputs[k]].dtype; }

  // Input k must have dtype `want`.
  Status want_dtype(int k, DType want) const {
    if (in_dtype(k) == want) return {};
    return fail(cat("input ", k, " (node ", n_.inputs[k], ", ", g_.nodes[n_.inputs[k]].op->name, ") is ",
                    dtype_name(in_dtype(k)), " but must be ", dtype_name(want)));
  }

  // Dtype rules by kind. Arithmetic is on floats: the node is float64 or float32 and every input
  // has its dtype. Leaves have any dtype; the shape ops move any dtype (inputs have the node's);
  // the index ops read int32 indices; cast converts.
  Status check_dtypes() const {
    int same = n_.n_inputs;  // the first `same` inputs must have the node's dtype
    bool int_ok = false;
    switch (n_.op->kind) {
      case OpKind::input:
      case OpKind::constant: return {};
      case OpKind::reshape:
      case OpKind::broadcast:
      case OpKind::transpose:
      case OpKind::slice:
      case OpKind::concat:
      case OpKind::pad: int_ok = true; break;
      case OpKind::gather:  // x (any dtype), indices
        if (Status s = want_dtype(1, DType::i32); !s.ok()) return s;
        int_ok = true;
        same = 1;
        break;
      case OpKind::scatter:  // x, indices, updates (float)
        if (Status s = want_dtype(1, DType::i32); !s.ok()) return s;
        if (Status s = want_dtype(2, n_.dtype); !s.ok()) return s;
        same = 1;
        break;
      case OpKind::one_hot: return want_dtype(0, DType::i32);  // any output dtype
      case OpKind::cast: return {};                            // any to any
      case OpKind::arg_reduce:                                 // float in, int32 indices out
        if (n_.dtype != DType::i32) return fail(cat("is ", dtype_name(n_.dtype), " but an arg reduction returns int32 indices"));
        if (in_dtype(0) == DType::i32) return fail("input 0 is int32; an arg reduction reads float64 or float32");
        return {};
      default: break;
    }
    if (!int_ok && n_.dtype == DType::i32) {
      return fail("is int32, but this op computes on floats (int32 tensors are indices: leaves, shape, index and cast ops)");
    }
    for (int k = 0; k < same; ++k) {
      if (in_dtype(k) != n_.dtype) {
        return fail(cat("input ", k, " (node ", n_.inputs[k], ", ", g_.nodes[n_.inputs[k]].op->name, ") is ",
                        dtype_name(in_dtype(k)), " but the node is ", dtype_name(n_.dtype)));
      }
    }
    return {};
  }

  Status check_input() {
    if (Status s = want_iattrs(1, "arg_index"); !s.ok()) return s;
    const int64_t a = attrs_[0];
    if (a < 0 || static_cast<uint64_t>(a) >= g_.args.size()) {
      return fail(cat("arg_index ", a, " is out of range for ", g_.args.size(), " args"));
    }
    if (arg_used_[a]) return fail(cat("arg ", a, " is already read by another input node"));
    arg_used_[a] = true;
    const Arg& arg = g_.args[a];
    if (arg.dtype != n_.dtype || !(arg.shape == n_.shape)) {
      return fail(cat("is ", dtype_name(n_.dtype), n_.shape.str(), " but arg ", a, " is ", dtype_name(arg.dtype),
                      arg.shape.str()));
    }
    return {};
  }

  Status check_constant() {
    if (Status s = want_iattrs(2, "byte_offset, byte_length"); !s.ok()) return s;
    const int64_t off = attrs_[0], len = attrs_[1];
    if (off < 0 || len < 0 || static_cast<uint64_t>(off) > g_.pool_length ||
        static_cast<uint64_t>(len) > g_.pool_length - static_cast<uint64_t>(off)) {
      return fail(cat("bytes [", off, ", ", off, " + ", len, ") are not inside the ", g_.pool_length, "-byte pool"));
    }
    if (off % 8 != 0) return fail(cat("byte_offset ", off, " is not a multiple of 8"));
    if (static_cast<uint64_t>(len) != n_.bytes) {
      return fail(cat("byte_length ", len, " does not equal ", n_.bytes, ", the size of ", dtype_name(n_.dtype),
                      n_.shape.str()));
    }
    return {};
  }

  Status check_unary() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    if (!(in_shape(0) == n_.shape)) return fail(cat("input shape ", in_shape(0).str(), " differs from the node's shape ", n_.shape.str()));
    return {};
  }

  Status check_binary() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    Shape b;
    if (!broadcast_shapes(in_shape(0), in_shape(1), &b) || !(b == n_.shape)) {
      return fail(cat("input shapes ", in_shape(0).str(), " and ", in_shape(1).str(), " do not broadcast to ", n_.shape.str()));
    }
    return {};
  }

  // where: (cond, a, b) broadcast together, three ways, to the node's shape.
  Status check_ternary() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    Shape ab, abc;
    if (!broadcast_shapes(in_shape(1), in_shape(2), &ab) || !broadcast_shapes(in_shape(0), ab, &abc) || !(abc == n_.shape)) {
      return fail(cat("input shapes ", in_shape(0).str(), ", ", in_shape(1).str(), " and ", in_shape(2).str(),
                      " do not broadcast to ", n_.shape.str()));
    }
    return {};
  }

  // argmax, argmin: iattrs = [from_dtype, keep_dims, axis]; the axis is reduced and must not be empty.
  Status check_arg_reduce() {
    if (Status s = want_iattrs(3, "from_dtype, keep_dims, axis"); !s.ok()) return s;
    const int64_t from = attrs_[0], keep = attrs_[1], axis = attrs_[2];
    if (from != static_cast<int64_t>(in_dtype(0))) {
      return fail(cat("from_dtype is ", from, " but input 0 is ", dtype_name(in_dtype(0)), " (code ", static_cast<int>(in_dtype(0)), ")"));
    }
    if (keep != 0 && keep != 1) return fail(cat("keep_dims is ", keep, ", not 0 or 1"));
    const Shape& in = in_shape(0);
    if (axis < 0 || axis >= in.rank) return fail(cat("axis ", axis, " is out of range for input shape ", in.str()));
    if (in.dims[axis] == 0) return fail(cat("axis ", axis, " of input shape ", in.str(), " is empty: no index to return"));
    Shape want;
    for (int d = 0; d < in.rank; ++d) {
      if (d != axis) {
        want.dims[want.rank++] = in.dims[d];
      } else if (keep == 1) {
        want.dims[want.rank++] = 1;
      }
    }
    if (!(want == n_.shape)) return fail(cat("reducing ", in.str(), " gives ", want.str(), ", not the node's shape ", n_.shape.str()));
    return {};
  }

  Status check_reduce() {
    if (n_.n_iattrs < 1) return fail("has no integer attributes, expected [keep_dims, axes...]");
    const int64_t keep = attrs_[0];
    if (keep != 0 && keep != 1) return fail(cat("keep_dims is ", keep, ", not 0 or 1"));
    const Shape& in = in_shape(0);
    bool reduced[kMaxRank] = {};
    int64_t prev = -1;
    for (int k = 1; k < n_.n_iattrs; ++k) {
      const int64_t ax = attrs_[k];
      if (ax <= prev || ax >= in.rank) {
        return fail(cat("axis ", ax, " is not strictly ascending and < ", unsigned{in.rank}, " (input shape ", in.str(), ")"));
      }
      reduced[ax] = true;
      prev = ax;
    }
    Shape want;
    for (int d = 0; d < in.rank; ++d) {
      if (!reduced[d]) {
        want.dims[want.rank++] = in.dims[d];
      } else if (keep == 1) {
        want.dims[want.rank++] = 1;
      }
    }
    if (!(want == n_.shape)) {
      return fail(cat("reducing ", in.str(), " gives ", want.str(), ", not the node's shape ", n_.shape.str()));
    }
    return {};
  }

  Status check_reshape() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    const Node& in = g_.nodes[n_.inputs[0]];
    if (in.numel != n_.numel) {
      return fail(cat("input shape ", in.shape.str(), " has ", in.numel, " elements but the node's shape ", n_.shape.str(),
                      " has ", n_.numel));
    }
    return {};
  }

  Status check_broadcast() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    if (!broadcasts_to(in_shape(0), n_.shape)) {
      return fail(cat("input shape ", in_shape(0).str(), " does not broadcast to ", n_.shape.str()));
    }
    return {};
  }

  Status check_transpose() {
    const Shape& in = in_shape(0);
    if (n_.n_iattrs != in.rank) {
      return fail(cat("has ", unsigned{n_.n_iattrs}, " perm entries for an input of rank ", unsigned{in.rank}));
    }
    bool seen[kMaxRank] = {};
    Shape want;
    want.rank = in.rank;
    for (int k = 0; k < in.rank; ++k) {
      const int64_t p = attrs_[k];
      if (p < 0 || p >= in.rank || seen[p]) return fail(cat("perm is not a permutation of 0..", in.rank - 1));
      seen[p] = true;
      want.dims[k] = in.dims[p];
    }
    if (!(want == n_.shape)) {
      return fail(cat("transposing ", in.str(), " gives ", want.str(), ", not the node's shape ", n_.shape.str()));
    }
    return {};
  }

  Status check_matmul() {
    if (Status s = want_iattrs(2, "transpose_a, transpose_b"); !s.ok()) return s;
    const int64_t ta = attrs_[0], tb = attrs_[1];
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1)) return fail(cat("transpose flags ", ta, ", ", tb, " are not 0 or 1"));
    const Shape& a = in_shape(0);
    const Shape& b = in_shape(1);
    const auto shapes = [&] { return cat("input shapes ", a.str(), " and ", b.str()); };
    if (a.rank < 2 || b.rank < 2) return fail(cat(shapes(), ": both need rank >= 2"));
    if (a.rank != b.rank) return fail(cat(shapes(), ": batch dims differ"));
    const int r = a.rank;
    for (int d = 0; d < r - 2; ++d) {
      if (a.dims[d] != b.dims[d]) return fail(cat(shapes(), ": batch dims differ"));
    }
    const uint32_t m = ta ? a.dims[r - 1] : a.dims[r - 2], ka = ta ? a.dims[r - 2] : a.dims[r - 1];
    const uint32_t kb = tb ? b.dims[r - 1] : b.dims[r - 2], n = tb ? b.dims[r - 2] : b.dims[r - 1];
    if (ka != kb) {
      return fail(cat(shapes(), " (transpose_a ", ta, ", transpose_b ", tb, "): contraction dims ", ka, " and ", kb, " differ"));
    }
    Shape want = a;
    want.dims[r - 2] = m;
    want.dims[r - 1] = n;
    if (!(want == n_.shape)) return fail(cat(shapes(), " give ", want.str(), ", not the node's shape ", n_.shape.str()));
    return {};
  }

  // The linear algebra ops (cholesky, triangular_solve, lu, lu_solve): square matrices [...B, n, n]
  // and right-hand sides [...B, n, k] with identical batch dims.
  Status check_linalg() {
    const Shape& a = in_shape(0);
    if (a.rank < 2 || a.dims[a.rank - 2] != a.dims[a.rank - 1]) {
      return fail(cat("input 0 has shape ", a.str(), "; a stack of square matrices [..., n, n] is needed"));
    }
    const int r = a.rank;
    const uint32_t n = a.dims[r - 1];
    // Shape s is [...B of a, n, cols] (cols < 0: any).
    const auto stacked = [&](const Shape& s, int64_t cols) {
      if (s.rank != r || s.dims[r - 2] != n || (cols >= 0 && s.dims[r - 1] != cols)) return false;
      for (int d = 0; d < r - 2; ++d) {
        if (s.dims[d] != a.dims[d]) return false;
      }
      return true;
    };
    const auto flag = [&](int k) { return attrs_[k] == 0 || attrs_[k] == 1; };
    switch (static_cast<OpCode>(n_.op->code)) {
      case OpCode::cholesky:
        if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
        if (!(n_.shape == a)) return fail(cat("the node's shape ", n_.shape.str(), " differs from the input's ", a.str()));
        return {};
      case OpCode::lu:
        if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
        if (!stacked(n_.shape, int64_t{n} + 1)) {
          return fail(cat("the node's shape ", n_.shape.str(), " is not [..., n, n + 1] for the input ", a.str()));
        }
        return {};
      case OpCode::triangular_solve:
        if (Status s = want_iattrs(2, "lower, transpose"); !s.ok()) return s;
        if (!flag(0) || !flag(1)) return fail(cat("flags lower ", attrs_[0], ", transpose ", attrs_[1], " are not 0 or 1"));
        if (!stacked(in_shape(1), -1) || !(n_.shape == in_shape(1))) {
          return fail(cat("A ", a.str(), ", B ", in_shape(1).str(), " and the node's shape ", n_.shape.str(),
                          " are not [...B, n, n], [...B, n, k], [...B, n, k]"));
        }
        return {};
      case OpCode::lu_solve:
        if (Status s = want_iattrs(1, "transpose"); !s.ok()) return s;
        if (!flag(0)) return fail(cat("flag transpose ", attrs_[0], " is not 0 or 1"));
        if (!stacked(in_shape(1), int64_t{n} + 1) || !stacked(in_shape(2), -1) || !(n_.shape == in_shape(2))) {
          return fail(cat("A ", a.str(), ", its factor ", in_shape(1).str(), ", B ", in_shape(2).str(), " and the node's shape ",
                          n_.shape.str(), " are not [...B, n, n], [...B, n, n + 1], [...B, n, k], [...B, n, k]"));
        }
        return {};
      default: return fail("is not a linear algebra op this engine knows");
    }
  }

  // iattrs = [begin..., step...], one of each per axis; the node's dims are the counts.
  Status check_slice() {
    const Shape& in = in_shape(0);
    if (n_.n_iattrs != 2 * in.rank) {
      return fail(cat("has ", unsigned{n_.n_iattrs}, " integer attributes, expected ", 2 * in.rank,
                      " (begin and step per axis of ", in.str(), ")"));
    }
    if (n_.shape.rank != in.rank) return fail(cat("node shape ", n_.shape.str(), " and input shape ", in.str(), " differ in rank"));
    for (int d = 0; d < in.rank; ++d) {
      const int64_t begin = attrs_[d], step = attrs_[in.rank + d], count = n_.shape.dims[d], dim = in.dims[d];
      const auto axis = [&] { return cat("axis ", d, " (begin ", begin, ", step ", step, ", count ", count, ", input shape ", in.str(), ")"); };
      if (step == 0 || step > int64_t{kMaxDim} || step < -int64_t{kMaxDim}) {
        return fail(cat(axis(), ": step must be non-zero with |step| <= 2^31 - 1"));
      }
      if (count == 0) {
        if (begin < 0 || begin > dim) return fail(cat(axis(), ": begin is outside [0, ", dim, "]"));
        continue;
      }
      if (begin < 0 || begin >= dim) return fail(cat(axis(), ": reads outside [0, ", dim, ")"));
      const int64_t last = begin + (count - 1) * step;  // |begin|, |(count - 1) · step| < 2^62: no overflow
      if (last < 0 || last >= dim) return fail(cat(axis(), ": reads outside [0, ", dim, ")"));
    }
    return {};
  }

  // iattrs = [axis]; the inputs agree on every other dim.
  Status check_concat() {
    if (Status s = want_iattrs(1, "axis"); !s.ok()) return s;
    const Shape& a = in_shape(0);
    const Shape& b = in_shape(1);
    const int64_t axis = attrs_[0];
    const auto shapes = [&] { return cat("input shapes ", a.str(), " and ", b.str(), ", axis ", axis); };
    if (a.rank != b.rank || axis < 0 || axis >= a.rank) return fail(cat(shapes(), ": ranks differ or the axis is out of range"));
    for (int d = 0; d < a.rank; ++d) {
      if (d != axis && a.dims[d] != b.dims[d]) return fail(cat(shapes(), ": dim ", d, " differs"));
    }
    const uint64_t joined = uint64_t{a.dims[axis]} + b.dims[axis];
    if (joined > kMaxDim) return fail(cat(shapes(), ": the joined dim ", joined, " is over 2^31 - 1"));
    Shape want = a;
    want.dims[axis] = static_cast<uint32_t>(joined);
    if (!(want == n_.shape)) return fail(cat(shapes(), " give ", want.str(), ", not the node's shape ", n_.shape.str()));
    return {};
  }

  // iattrs = [lo..., hi..., interior...], each in [0, 2^31 - 1]; the second input is a scalar.
  Status check_pad() {
    const Shape& in = in_shape(0);
    if (n_.n_iattrs != 3 * in.rank) {
      return fail(cat("has ", unsigned{n_.n_iattrs}, " integer attributes, expected ", 3 * in.rank,
                      " (lo, hi and interior per axis of ", in.str(), ")"));
    }
    if (in_shape(1).rank != 0) return fail(cat("the padding value has shape ", in_shape(1).str(), ", not a scalar"));
    if (n_.shape.rank != in.rank) return fail(cat("node shape ", n_.shape.str(), " and input shape ", in.str(), " differ in rank"));
    for (int d = 0; d < in.rank; ++d) {
      const int64_t lo = attrs_[d], hi = attrs_[in.rank + d], interior = attrs_[2 * in.rank + d];
      const int64_t max = kMaxDim, n = in.dims[d];
      if (lo < 0 || hi < 0 || interior < 0 || lo > max || hi > max || interior > max) {
        return fail(cat("axis ", d, ": lo ", lo, ", hi ", hi, ", interior ", interior, " must each be in [0, 2^31 - 1]"));
      }
      const int64_t want = lo + hi + (n == 0 ? 0 : n + (n - 1) * interior);  // < 2^63: no overflow
      if (want != int64_t{n_.shape.dims[d]}) {
        return fail(cat("axis ", d, ": padding ", n, " elements by lo ", lo, ", hi ", hi, ", interior ", interior, " gives ",
                        want, ", not the node's ", n_.shape.dims[d]));
      }
    }
    return {};
  }

  // The shape of x with axis `axis` replaced by the dims of `idx` (false if its rank is over 8).
  static bool gathered_shape(const Shape& x, const Shape& idx, int axis, Shape* out) {
    if (x.rank - 1 + idx.rank > kMaxRank) return false;
    out->rank = 0;
    for (int d = 0; d < axis; ++d) out->dims[out->rank++] = x.dims[d];
    for (int d = 0; d < idx.rank; ++d) out->dims[out->rank++] = idx.dims[d];
    for (int d = axis + 1; d < x.rank; ++d) out->dims[out->rank++] = x.dims[d];
    return true;
  }

  // iattrs = [axis]; inputs x and int32 indices.
  Status check_gather() {
    if (Status s = want_iattrs(1, "axis"); !s.ok()) return s;
    const Shape& x = in_shape(0);
    const int64_t axis = attrs_[0];
    if (axis < 0 || axis >= x.rank) return fail(cat("axis ", axis, " is out of range for input shape ", x.str()));
    Shape want;
    if (!gathered_shape(x, in_shape(1), static_cast<int>(axis), &want) || !(want == n_.shape)) {
      return fail(cat("gathering ", x.str(), " along axis ", axis, " by indices ", in_shape(1).str(),
                      " does not give the node's shape ", n_.shape.str()));
    }
    return {};
  }

  // iattrs = [axis]; inputs x, int32 indices and updates shaped like gather(x, indices, axis).
  Status check_scatter() {
    if (Status s = want_iattrs(1, "axis"); !s.ok()) return s;
    const Shape& x = in_shape(0);
    const int64_t axis = attrs_[0];
    if (axis < 0 || axis >= x.rank) return fail(cat("axis ", axis, " is out of range for input shape ", x.str()));
    if (!(x == n_.shape)) return fail(cat("input shape ", x.str(), " differs from the node's shape ", n_.shape.str()));
    Shape want;
    if (!gathered_shape(x, in_shape(1), static_cast<int>(axis), &want) || !(want == in_shape(2))) {
      return fail(cat("updates of shape ", in_shape(2).str(), " do not match ", x.str(), " along axis ", axis,
                      " indexed by ", in_shape(1).str()));
    }
    return {};
  }

  // No iattrs; the node's shape is the indices' with the depth appended.
  Status check_one_hot() {
    if (Status s = want_iattrs(0, "none"); !s.ok()) return s;
    const Shape& idx = in_shape(0);
    if (n_.shape.rank != idx.rank + 1) {
      return fail(cat("indices ", idx.str(), " need a node of rank ", idx.rank + 1, ", got ", n_.shape.str()));
    }
    Shape want = idx;
    want.dims[want.rank++] = n_.shape.dims[idx.rank];
    if (!(want == n_.shape)) return fail(cat("indices ", idx.str(), " do not give the node's shape ", n_.shape.str()));
    return {};
  }

  // iattrs = [from_dtype], the input's dtype code.
  Status check_cast() {
    if (Status s = want_iattrs(1, "from_dtype"); !s.ok()) return s;
    if (attrs_[0] != static_cast<int64_t>(in_dtype(0))) {
      return fail(cat("from_dtype ", attrs_[0], " is not the input's dtype code ", static_cast<int>(in_dtype(0)), " (",
                      dtype_name(in_dtype(0)), ")"));
    }
    if (!(in_shape(0) == n_.shape)) return fail(cat("input shape ", in_shape(0).str(), " differs from the node's shape ", n_.shape.str()));
    return {};
  }

  const Graph& g_;
  uint32_t i_;
  const Node& n_;
  std::vector<bool>& arg_used_;
  const int64_t* attrs_;
};

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f64: return "float64";
    case DType::f32: return "float32";
    case DType::i32: return "int32";
  }
  return "?";
}

uint64_t Shape::numel() const {
  uint64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= dims[d];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] != o.dims[d]) return false;
  }
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int d = 0; d < rank; ++d) {
    if (d) s += ',';
    s += std::to_string(dims[d]);
  }
  return s + "]";
}

uint32_t crc32(const uint8_t* data, std::size_t size) {
  // Slicing by 8: table k gives the CRC of a byte followed by k zero bytes, so eight bytes are
  // folded per step with eight independent lookups instead of eight dependent ones.
  static constexpr auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k) {
      for (uint32_t i = 0; i < 256; ++i) t[k][i] = t[0][t[k - 1][i] & 0xFF] ^ (t[k - 1][i] >> 8);
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint32_t lo = c ^ load_u32(data + i), hi = load_u32(data + i + 4);
    c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24] ^
        tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
  }
  for (; i < size; ++i) c = tables[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Status parse_graph(const uint8_t* data, std::size_t size, Graph* g) {
  *g = Graph{};
  if (data == nullptr && size != 0) return bad("the graph buffer is null");
  if (size < kHeaderBytes) return bad(cat("the buffer is ", size, " bytes, shorter than the ", kHeaderBytes, "-byte header"));
  if (std::memcmp(data, "WGRT", 4) != 0) return bad("bad magic at byte 0: not a wengert graph");
  const uint16_t version = static_cast<uint16_t>(data[4] | (data[5] << 8));
  if (version != kFormatVersion) {
    return bad(cat("format version ", version, " at byte 4 is not supported (this engine reads version ", kFormatVersion, ")"));
  }
  const uint16_t flags = static_cast<uint16_t>(data[6] | (data[7] << 8));
  if (flags != 0) return bad(cat("flags at byte 6 are ", flags, ", must be 0"));
  const uint32_t byte_length = load_u32(data + 8);
  if (byte_length != size) return bad(cat("byte_length at byte 8 is ", byte_length, " but the buffer is ", size, " bytes"));
  const uint32_t want_crc = load_u32(data + 12), got_crc = crc32(data + 16, size - 16);
  if (want_crc != got_crc) {
    return bad(cat("CRC-32 mismatch: the header at byte 12 says 0x", std::hex, want_crc, " but bytes [16, ", std::dec,
                   size, ") give 0x", std::hex, got_crc));
  }
  const uint32_t n_args = load_u32(data + 16), n_nodes = load_u32(data + 20), n_outputs = load_u32(data + 24),
                 pool_length = load_u32(data + 28);

  // Bound every count by the bytes its records need at least, before reserving anything.
  const uint64_t min_bytes = uint64_t{n_args} * 4 + uint64_t{n_nodes} * 8 + uint64_t{n_outputs} * 4 + pool_length;
  if (min_bytes > size - kHeaderBytes) {
    return bad(cat("the header (bytes 16..31) declares ", n_args, " args, ", n_nodes, " nodes, ", n_outputs,
                   " outputs and a ", pool_length, "-byte pool, needing at least ", min_bytes, " bytes, but ",
                   size - kHeaderBytes, " follow the header"));
  }
  g->pool_length = pool_length;
  g->args.reserve(n_args);
  g->nodes.reserve(n_nodes);
  g->outputs.reserve(n_outputs);

  Reader r(data, size, kHeaderBytes);
  for (uint32_t a = 0; a < n_args; ++a) {
    const std::size_t at = r.pos();
    // Messages name the record; built only on the error path.
    const auto where = [&] { return cat("arg ", a, " (record at byte ", at, ")"); };
    uint8_t dtype, rank;
    uint16_t reserved;
    if (!r.u8(&dtype) || !r.u8(&rank) || !r.u16(&reserved)) return bad(cat(where(), ": truncated"));
    if (dtype > 2) return bad(cat(where(), ": unknown dtype ", unsigned{dtype}));
    if (reserved != 0) return bad(cat(where(), ": reserved field is ", reserved, ", must be 0"));
    Arg arg;
    arg.dtype = static_cast<DType>(dtype);
    if (Status s = read_shape(r, rank, &arg.shape, where); !s.ok()) return s;
    if (!checked_numel(arg.shape, &arg.numel)) return bad(cat(where(), ": element count of ", arg.shape.str(), " overflows"));
    g->args.push_back(arg);
  }

  std::vector<bool> arg_used(n_args, false);
  // One record at a time, in a Node reused across records (zeroing a fresh one per record cost
  // more than reading it): every field is assigned below, and dims and inputs past the record's
  // rank and arity are kept zero, as in a new Node.
  Node n;
  for (uint32_t i = 0; i < n_nodes; ++i) {
    n.offset = static_cast<uint32_t>(r.pos());
    uint16_t opcode;
    uint8_t dtype, rank, n_inputs, n_iattrs, n_fattrs, reserved;
    if (!r.u16(&opcode) || !r.u8(&dtype) || !r.u8(&rank) || !r.u8(&n_inputs) || !r.u8(&n_iattrs) || !r.u8(&n_fattrs) ||
        !r.u8(&reserved)) {
      return bad(cat("node ", i, ": record truncated at byte ", n.offset));
    }
    n.op = find_op(opcode);
    if (n.op == nullptr) return bad(cat("node ", i, ": unknown opcode ", opcode, " (record at byte ", n.offset, ")"));
    const auto where = [&] { return cat("node ", i, " (", n.op->name, ") (record at byte ", n.offset, ")"); };
    if (dtype > 2) return bad(cat(where(), ": unknown dtype ", unsigned{dtype}));
    if (reserved != 0) return bad(cat(where(), ": reserved field is ", unsigned{reserved}, ", must be 0"));
    if (n_inputs != n.op->arity) {
      return bad(cat(where(), ": has ", unsigned{n_inputs}, " inputs, but ", n.op->name, " takes ", unsigned{n.op->arity}));
    }
    n.dtype = static_cast<DType>(dtype);
    if (Status s = read_shape(r, rank, &n.shape, where); !s.ok()) return s;
    for (int d = rank; d < kMaxRank; ++d) n.shape.dims[d] = 0;
    if (!checked_numel(n.shape, &n.numel)) return bad(cat(where(), ": element count of ", n.shape.str(), " overflows"));
    n.bytes = n.numel * dtype_size(n.dtype);  // numel <= 2^53, so this cannot overflow
    n.n_inputs = n_inputs;
    for (int k = n_inputs; k < kMaxInputs; ++k) n.inputs[k] = 0;
    for (int k = 0; k < n_inputs; ++k) {
      const std::size_t at = r.pos();
      if (!r.u32(&n.inputs[k])) return bad(cat(where(), ": truncated in its inputs at byte ", at));
      if (n.inputs[k] >= i) {
        return bad(cat(where(), ": input ", k, " is node ", n.inputs[k], ", not an earlier node (at byte ", at, ")"));
      }
    }
    n.n_iattrs = n_iattrs;
    n.iattr_begin = static_cast<uint32_t>(g->iattrs.size());
    for (int k = 0; k < n_iattrs; ++k) {
      int64_t v;
      if (!r.i64(&v)) return bad(cat(where(), ": truncated in its integer attributes at byte ", r.pos()));
      g->iattrs.push_back(v);
    }
    n.n_fattrs = n_fattrs;
    n.fattr_begin = static_cast<uint32_t>(g->fattrs.size());
    for (int k = 0; k < n_fattrs; ++k) {
      double v;
      if (!r.f64(&v)) return bad(cat(where(), ": truncated in its float attributes at byte ", r.pos()));
      g->fattrs.push_back(v);
    }
    g->nodes.push_back(n);
    if (Status s = NodeChecker(*g, i, g->nodes.back(), arg_used).check(); !s.ok()) return s;
  }

  if (n_outputs == 0) return bad("the graph has no outputs (n_outputs at byte 24 is 0)");
  for (uint32_t o = 0; o < n_outputs; ++o) {
    const std::size_t at = r.pos();
    uint32_t id;
    if (!r.u32(&id)) return bad(cat("output ", o, ": truncated at byte ", at));
    if (id >= n_nodes) return bad(cat("output ", o, " is node ", id, ", but there are ", n_nodes, " nodes (at byte ", at, ")"));
    g->outputs.push_back(id);
  }
  if (r.remaining() != pool_length) {
    return bad(cat("the pool starts at byte ", r.pos(), " and should be ", pool_length, " bytes, but ", r.remaining(),
                   " bytes remain"));
  }
  g->pool = data + r.pos();
  return {};
}

}  // namespace wengert
