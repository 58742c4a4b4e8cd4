// The slicing, indexing and conversion ops (kernels_shape.cpp) and the int32 rules of the
// validator: each kernel against a naive reference in float64, float32 and (where allowed) int32;
// out-of-range indices fail the run with index_out_of_range and never read out of bounds (the
// ASan build checks that); one negative test per validation rule.
#include <climits>
#include <string>

#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;

template <class T>
constexpr DType dt() {
  if constexpr (std::is_same_v<T, int32_t>) return DType::i32;
  return sizeof(T) == 8 ? DType::f64 : DType::f32;
}

// An int32 constant node (the builder's constant() writes floats).
uint32_t int_constant(GraphBuilder& b, Dims dims, const std::vector<int32_t>& values) {
  while (b.pool.size() % 8 != 0) b.pool.push_back(0xAB);
  const std::size_t off = b.pool.size();
  for (int32_t v : values) put_u32(b.pool, static_cast<uint32_t>(v));
  return b.node(OpCode::constant, DType::i32, std::move(dims), {}, {static_cast<int64_t>(off), static_cast<int64_t>(b.pool.size() - off)});
}

// Runs p with inputs and outputs of mixed dtypes, given as raw buffers.
struct Buf {
  DType dtype;
  std::vector<uint8_t> bytes;
  template <class T>
  static Buf of(const std::vector<T>& v) {
    Buf b{dt<T>(), std::vector<uint8_t>(v.size() * sizeof(T))};
    if (!v.empty()) std::memcpy(b.bytes.data(), v.data(), b.bytes.size());
    return b;
  }
  template <class T>
  std::vector<T> as() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
  uint64_t length() const { return bytes.size() / wengert::dtype_size(dtype); }
};

Status run_mixed(const Program& p, const std::vector<Buf>& inputs, std::vector<Buf>* outs) {
  std::vector<InputView> in;
  for (const Buf& b : inputs) in.push_back(InputView{b.bytes.data(), b.dtype, b.length()});
  outs->clear();
  for (const auto& s : p.output_specs()) outs->push_back(Buf{s.dtype, std::vector<uint8_t>(s.length * wengert::dtype_size(s.dtype))});
  std::vector<OutputView> out;
  for (Buf& b : *outs) out.push_back(OutputView{b.bytes.data(), b.dtype, b.length()});
  return p.run(in, out);
}

template <class T>
std::vector<T> iota_values(uint64_t n) {
  std::vector<T> v(n);
  for (uint64_t i = 0; i < n; ++i) v[i] = static_cast<T>(int64_t(i) * 3 - 7);
  return v;
}

template <class T>
void check_slice() {
  // x [4,5,3]; begin [3,1,0], step [-1,2,1], counts [3,2,3].
  const Dims xd{4, 5, 3}, od{3, 2, 3};
  const int64_t begin[3] = {3, 1, 0}, step[3] = {-1, 2, 1};
  GraphBuilder b;
  const uint32_t x = b.input(dt<T>(), xd);
  b.output(b.node(OpCode::slice, dt<T>(), od, {x}, {3, 1, 0, -1, 2, 1}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  const auto xv = iota_values<T>(count(xd));
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {Buf::of(xv)}, &outs).ok());
  const auto z = outs[0].as<T>();
  for (uint64_t k = 0; k < count(od); ++k) {
    const Dims i = unravel(k, od);
    Dims src(3);
    for (int d = 0; d < 3; ++d) src[d] = static_cast<uint32_t>(begin[d] + int64_t(i[d]) * step[d]);
    CHECK(z[k] == xv[ravel(src, xd)]);
  }
}

template <class T>
void check_concat_pad() {
  GraphBuilder b;
  const uint32_t x = b.input(dt<T>(), {2, 3});
  const uint32_t y = b.input(dt<T>(), {2, 1});
  const uint32_t c = b.node(OpCode::concat, dt<T>(), {2, 4}, {x, y}, {1});
  const uint32_t v = b.input(dt<T>(), {});
  // lo [1,0], hi [0,2], interior [0,1]: [2,4] -> [3, 4 + 3 + 2] = [3,9]
  b.output(b.node(OpCode::pad, dt<T>(), {3, 9}, {c, v}, {1, 0, 0, 2, 0, 1}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  const std::vector<T> xv{1, 2, 3, 4, 5, 6}, yv{7, 8}, vv{-9};
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {Buf::of(xv), Buf::of(yv), Buf::of(vv)}, &outs).ok());
  const std::vector<T> want{-9, -9, -9, -9, -9, -9, -9, -9, -9,  //
                            1,  -9, 2,  -9, 3,  -9, 7,  -9, -9,  //
                            4,  -9, 5,  -9, 6,  -9, 8,  -9, -9};
  CHECK(outs[0].as<T>() == want);
}

template <class T>
void check_gather_one_hot() {
  // gather x [2,4,3] along axis 1 by idx [2,2] (repeats) -> [2,2,2,3]
  const Dims xd{2, 4, 3}, od{2, 2, 2, 3};
  GraphBuilder b;
  const uint32_t x = b.input(dt<T>(), xd);
  const uint32_t i = b.input(DType::i32, {2, 2});
  b.output(b.node(OpCode::gather, dt<T>(), od, {x, i}, {1}));
  b.output(b.node(OpCode::one_hot, dt<T>(), {2, 2, 4}, {i}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  const auto xv = iota_values<T>(count(xd));
  const std::vector<int32_t> iv{3, 0, 3, 1};
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {Buf::of(xv), Buf::of(iv)}, &outs).ok());
  const auto z = outs[0].as<T>();
  for (uint64_t k = 0; k < count(od); ++k) {
    const Dims j = unravel(k, od);
    CHECK(z[k] == xv[ravel({j[0], static_cast<uint32_t>(iv[j[1] * 2 + j[2]]), j[3]}, xd)]);
  }
  const auto h = outs[1].as<T>();
  for (uint64_t k = 0; k < 16; ++k) CHECK(h[k] == T(iv[k / 4] == int32_t(k % 4) ? 1 : 0));

  // Out of range: negative, = length, INT32_MAX, INT32_MIN; nothing is read outside x.
  for (int32_t bad : {-1, 4, INT32_MAX, INT32_MIN}) {
    const std::vector<int32_t> badv{0, 1, bad, 2};
    const Status s = run_mixed(*p, {Buf::of(xv), Buf::of(badv)}, &outs);
    CHECK(s.code == ErrorCode::index_out_of_range);
    CHECK(s.message.find("index " + std::to_string(bad) + " at position 2 is out of range [0, 4)") != std::string::npos);
  }
  CHECK(run_mixed(*p, {Buf::of(xv), Buf::of(iv)}, &outs).ok());  // the program still runs
}

template <class T>
void check_scatter_add() {
  // x [3,2] += updates [5,2] at rows idx [5] with repeats, in row-major order of the updates.
  GraphBuilder b;
  const uint32_t x = b.input(dt<T>(), {3, 2});
  const uint32_t i = b.input(DType::i32, {5});
  const uint32_t u = b.input(dt<T>(), {5, 2});
  b.output(b.node(OpCode::scatter_add, dt<T>(), {3, 2}, {x, i, u}, {0}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  const std::vector<T> xv{1, 2, 3, 4, 5, 6}, uv{10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  const std::vector<int32_t> iv{2, 0, 2, 2, 0};
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {Buf::of(xv), Buf::of(iv), Buf::of(uv)}, &outs).ok());
  const std::vector<T> want{1 + 30 + 90, 2 + 40 + 100, 3, 4, 5 + 10 + 50 + 70, 6 + 20 + 60 + 80};
  CHECK(outs[0].as<T>() == want);
  const std::vector<int32_t> badv{0, 1, 2, 3, 0};
  CHECK(run_mixed(*p, {Buf::of(xv), Buf::of(badv), Buf::of(uv)}, &outs).code == ErrorCode::index_out_of_range);
}

TEST(kernels, slice_all_dtypes) {
  check_slice<double>();
  check_slice<float>();
  check_slice<int32_t>();
}

TEST(kernels, concat_and_pad_all_dtypes) {
  check_concat_pad<double>();
  check_concat_pad<float>();
  check_concat_pad<int32_t>();
}

TEST(kernels, gather_and_one_hot_check_every_index) {
  check_gather_one_hot<double>();
  check_gather_one_hot<float>();
  check_gather_one_hot<int32_t>();
}

TEST(kernels, scatter_add_accumulates_in_order) {
  check_scatter_add<double>();
  check_scatter_add<float>();
}

TEST(kernels, int32_copies_and_constants) {
  // int32 constant -> reshape -> transpose -> broadcast_to, output int32.
  GraphBuilder b;
  const uint32_t c = int_constant(b, {6}, {1, -2, 3, INT32_MAX, INT32_MIN, 0});
  const uint32_t r = b.node(OpCode::reshape, DType::i32, {2, 3}, {c});
  const uint32_t t = b.node(OpCode::transpose, DType::i32, {3, 2}, {r}, {1, 0});
  const uint32_t e = b.node(OpCode::reshape, DType::i32, {1, 3, 2}, {t});
  b.output(b.node(OpCode::broadcast_to, DType::i32, {2, 3, 2}, {e}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {}, &outs).ok());
  const std::vector<int32_t> once{1, INT32_MAX, -2, INT32_MIN, 3, 0};
  std::vector<int32_t> want = once;
  want.insert(want.end(), once.begin(), once.end());
  CHECK(outs[0].as<int32_t>() == want);
}

TEST(kernels, cast_truncates_saturates_and_maps_nan_to_zero) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> xv{2.7, -2.7, -0.5, 1e10, -1e10, std::nan(""), inf, -inf, 2147483647.0, -2147483648.0};
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {10});
  const uint32_t i = b.node(OpCode::cast, DType::i32, {10}, {x}, {0});
  const uint32_t f = b.node(OpCode::cast, DType::f32, {10}, {i}, {2});
  b.output(i);
  b.output(f);
  b.output(b.node(OpCode::cast, DType::f32, {10}, {x}, {0}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::vector<Buf> outs;
  REQUIRE(run_mixed(*p, {Buf::of(xv)}, &outs).ok());
  const std::vector<int32_t> want{2, -2, 0, INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN};
  CHECK(outs[0].as<int32_t>() == want);
  const auto fi = outs[1].as<float>();
  for (int k = 0; k < 10; ++k) CHECK(fi[k] == static_cast<float>(want[k]));
  const auto ff = outs[2].as<float>();
  for (int k = 0; k < 10; ++k) CHECK(same(ff[k], static_cast<float>(xv[k])));
}

// ---------------------------------------------------------------------------------------------
// Validation rules.


TEST(format, int32_rules) {
  {  // int32 outputs and int32 constants are allowed
    GraphBuilder g;
    g.output(int_constant(g, {2}, {1, 2}));
    ProgramPtr p;
    CHECK(compile(g.bytes(), &p).ok());
  }
  {  // arithmetic on int32 is not
    GraphBuilder g;
    const uint32_t c = int_constant(g, {2}, {1, 2});
    g.output(g.node(OpCode::add, DType::i32, {2}, {c, c}));
    EXPECT_BAD(g, "is int32, but this op computes on floats");
  }
  {  // indices must be int32; scatter_add is float only
    GraphBuilder g;
    const uint32_t x = g.input(DType::f64, {3});
    const uint32_t i = g.input(DType::f64, {2});
    g.output(g.node(OpCode::gather, DType::f64, {2}, {x, i}, {0}));
    EXPECT_BAD(g, "input 1 (node 1, input) is float64 but must be int32");
  }
  {
    GraphBuilder g;
    const uint32_t x = g.input(DType::i32, {3});
    const uint32_t i = g.input(DType::i32, {2});
    g.output(g.node(OpCode::scatter_add, DType::i32, {3}, {x, i, i}, {0}));
    EXPECT_BAD(g, "is int32, but this op computes on floats");
  }
  {  // gather keeps x's dtype
    GraphBuilder g;
    const uint32_t x = g.input(DType::f32, {3});
    const uint32_t i = g.input(DType::i32, {2});
    g.output(g.node(OpCode::gather, DType::f64, {2}, {x, i}, {0}));
    EXPECT_BAD(g, "input 0 (node 0, input) is float32 but the node is float64");
  }
}

TEST(format, slice_rules) {
  auto make = [](Dims out, std::vector<int64_t> attrs) {
    GraphBuilder g;
    const uint32_t x = g.input(DType::f64, {4, 5});
    g.output(g.node(OpCode::slice, DType::f64, std::move(out), {x}, std::move(attrs)));
    return g;
  };
  ProgramPtr p;
  CHECK(compile(make({2, 3}, {3, 4, -2, -1}).bytes(), &p).ok());
  CHECK(compile(make({0, 3}, {4, 0, 1, 1}).bytes(), &p).ok());
  EXPECT_BAD(make({2, 3}, {0, 0, 1}), "expected 4 (begin and step per axis");
  EXPECT_BAD(make({2, 3}, {0, 0, 0, 1}), "step must be non-zero");
  EXPECT_BAD(make({2, 3}, {0, 0, 1, int64_t{1} << 40}), "step must be non-zero");
  EXPECT_BAD(make({2, 3}, {3, 0, 1, 1}), "reads outside [0, 4)");
  EXPECT_BAD(make({2, 3}, {-1, 0, 1, 1}), "reads outside [0, 4)");
  EXPECT_BAD(make({2, 3}, {1, 3, 1, -2}), "reads outside [0, 5)");
  EXPECT_BAD(make({2, 3}, {INT64_MAX, 0, 1, 1}), "reads outside");
  EXPECT_BAD(make({0, 3}, {5, 0, 1, 1}), "begin is outside [0, 4]");
  EXPECT_BAD(make({2, 3, 1}, {0, 0, 1, 1}), "differ in rank");
}

TEST(format, concat_pad_rules) {
  auto concat = [](Dims a, Dims b, Dims out, int64_t axis) {
    GraphBuilder g;
    const uint32_t x = g.input(DType::f64, std::move(a));
    const uint32_t y = g.input(DType::f64, std::move(b));
    g.output(g.node(OpCode::concat, DType::f64, std::move(out), {x, y}, {axis}));
    return g;
  };
  ProgramPtr p;
  CHECK(compile(concat({2, 3}, {2, 1}, {2, 4}, 1).bytes(), &p).ok());
  EXPECT_BAD(concat({2, 3}, {3, 1}, {2, 4}, 1), "dim 0 differs");
  EXPECT_BAD(concat({2, 3}, {2, 1}, {2, 4}, 2), "axis is out of range");
  EXPECT_BAD(concat({2, 3}, {2, 1}, {2, 5}, 1), "not the node's shape [2,5]");
  EXPECT_BAD(concat({2, 3}, {2}, {2, 4}, 0), "ranks differ");
  EXPECT_BAD(concat({0x7fffffff}, {1}, {0x7fffffff}, 0), "over 2^31 - 1");

  auto pad = [](Dims out, std::vector<int64_t> attrs, Dims value = {}) {
    GraphBuilder g;
    const uint32_t x = g.input(DType::f64, {2, 3});
    const uint32_t v = g.input(DType::f64, std::move(value));
    g.output(g.node(OpCode::pad, DType::f64, std::move(out), {x, v}, std::move(attrs)));
    return g;
  };
  CHECK(compile(pad({5, 8}, {1, 0, 2, 1, 0, 2}).bytes(), &p).ok());
  EXPECT_BAD(pad({5, 8}, {1, 0, 2, 1, 0}), "expected 6 (lo, hi and interior");
  EXPECT_BAD(pad({5, 8}, {1, 0, 2, 1, 0, 2}, {1}), "not a scalar");
  EXPECT_BAD(pad({5, 8}, {-1, 0, 2, 1, 0, 2}), "must each be in [0, 2^31 - 1]");
  EXPECT_BAD(pad({5, 8}, {1, 0, INT64_MAX, 1, 0, 2}), "must each be in [0, 2^31 - 1]");
  EXPECT_BAD(pad({5, 9}, {1, 0, 2, 1, 0, 2}), "gives 8, not the node's 9");
}

TEST(format, index_and_cast_rules) {
  auto gather = [](Dims x, Dims i, Dims out, int64_t axis) {
    GraphBuilder g;
    const uint32_t a = g.input(DType::f64, std::move(x));
    const uint32_t b = g.input(DType::i32, std::move(i));
    g.output(g.node(OpCode::gather, DType::f64, std::move(out), {a, b}, {axis}));
    return g;
  };
  ProgramPtr p;
  CHECK(compile(gather({4, 3}, {2, 5}, {4, 2, 5}, 1).bytes(), &p).ok());
  CHECK(compile(gather({4, 3}, {}, {3}, 0).bytes(), &p).ok());
  EXPECT_BAD(gather({4, 3}, {2}, {2, 3}, 2), "axis 2 is out of range");
  EXPECT_BAD(gather({4, 3}, {2}, {3, 2}, 0), "does not give the node's shape");
  EXPECT_BAD(gather({2, 2, 2, 2, 2, 2, 2, 2}, {2, 2}, {2, 2, 2, 2, 2, 2, 2, 2}, 0), "does not give the node's shape");

  auto scatter = [](Dims u, Dims out) {
    GraphBuilder g;
    const uint32_t x = g.input(DType::f64, {4, 3});
    const uint32_t i = g.input(DType::i32, {5});
    const uint32_t v = g.input(DType::f64, std::move(u));
    g.output(g.node(OpCode::scatter_add, DType::f64, std::move(out), {x, i, v}, {0}));
    return g;
  };
  CHECK(compile(scatter({5, 3}, {4, 3}).bytes(), &p).ok());
  EXPECT_BAD(scatter({5, 1}, {4, 3}), "updates of shape [5,1] do not match");
  EXPECT_BAD(scatter({5, 3}, {5, 3}), "differs from the node's shape");

  auto one_hot = [](Dims out) {
    GraphBuilder g;
    const uint32_t i = g.input(DType::i32, {2, 3});
    g.output(g.node(OpCode::one_hot, DType::f32, std::move(out), {i}));
    return g;
  };
  CHECK(compile(one_hot({2, 3, 7}).bytes(), &p).ok());
  EXPECT_BAD(one_hot({2, 3}), "need a node of rank 3");
  EXPECT_BAD(one_hot({3, 2, 7}), "do not give the node's shape");

  auto cast = [](DType to, int64_t from, Dims out) {
    GraphBuilder g;
    const uint32_t x = g.input(DType::f32, {3});
    g.output(g.node(OpCode::cast, to, std::move(out), {x}, {from}));
    return g;
  };
  CHECK(compile(cast(DType::i32, 1, {3}).bytes(), &p).ok());
  EXPECT_BAD(cast(DType::i32, 0, {3}), "from_dtype 0 is not the input's dtype code 1");
  EXPECT_BAD(cast(DType::f64, 1, {4}), "differs from the node's shape");
}

}  // namespace
}  // namespace wt
