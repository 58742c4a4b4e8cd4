// Hostile graphs, checked by the fuzzer's own oracle (native/fuzz/fuzz_check.h): every input the
// fuzzer (scripts/fuzz.mjs) finds crashing the engine is fixed and added here, with the bytes it
// found. Until then, the graphs below are the hand-made ones that hit the limits the fuzzer is
// least likely to reach by mutation: dims whose products wrap 64-bit element and byte counts,
// attributes at the int64 limits, and index values at the int32 limits. Each states the outcome
// it must have (a code from compile or run), and the oracle checks the rest (two identical runs,
// no write past an output).
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../fuzz/fuzz_check.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;

constexpr uint32_t kMaxDim = 0x7fffffffu;
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

struct Outcome {
  ErrorCode compile;  // ok, bad_graph or arena_limit
  bool runs;          // the oracle ran the compiled program
};

// Checks `bytes` with the fuzzer's oracle and the expected compile code; returns the message.
std::string expect_outcome(const std::vector<uint8_t>& bytes, Outcome want, const char* name) {
  Status compiled;
  bool ran = false;
  const std::string wrong = wengert::fuzz::check_graph_bytes(bytes.data(), bytes.size(), &compiled, &ran);
  if (!wrong.empty()) fail(__FILE__, __LINE__, std::string(name) + ": " + wrong);
  if (compiled.code != want.compile) {
    fail(__FILE__, __LINE__, std::string(name) + ": compiled with " + wengert::error_code_name(compiled.code) + " (" +
                                 compiled.message + "), expected " + wengert::error_code_name(want.compile));
  }
  if (ran != want.runs) fail(__FILE__, __LINE__, std::string(name) + (want.runs ? ": did not run" : ": ran"));
  return compiled.message;
}

// exp of one float64 argument of the given dims (the arg record and both node records carry them).
std::vector<uint8_t> exp_of(const Dims& dims) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, dims);
  b.output(b.node(OpCode::exp, DType::f64, dims, {x}));
  return b.bytes();
}

TEST(fuzz, element_and_byte_counts_that_wrap_64_bits_are_bad_graph) {
  // 2^16 four times is 2^64 elements: a wrapping product would be 0 and the graph would "fit".
  const std::string m = expect_outcome(exp_of({65536, 65536, 65536, 65536}), {ErrorCode::bad_graph, false}, "2^64 elements");
  CHECK(m.find("overflows") != std::string::npos);
  // 2^61 float64 elements: 2^64 bytes, also a wrap to 0 (and past 2^53 elements).
  expect_outcome(exp_of({1u << 31 >> 1, 1u << 30, 2}), {ErrorCode::bad_graph, false}, "2^61 elements");
  expect_outcome(exp_of({kMaxDim, kMaxDim, kMaxDim, kMaxDim, kMaxDim, kMaxDim, kMaxDim, kMaxDim}), {ErrorCode::bad_graph, false},
                 "eight dims of 2^31 - 1");
  // A zero dim makes every other dim harmless: nothing to hold, and the program runs.
  expect_outcome(exp_of({0, kMaxDim, kMaxDim, kMaxDim}), {ErrorCode::ok, true}, "zero dim");
}

TEST(fuzz, shapes_that_fit_the_format_but_not_memory_are_arena_limit) {
  // 2^52 elements, 2^55 bytes: a valid shape; the plan refuses it before allocating anything.
  expect_outcome(exp_of({1u << 26, 1u << 26}), {ErrorCode::arena_limit, false}, "2^55 bytes");
  // oneHot of one index with depth 2^31 - 1: a 16 GiB output.
  GraphBuilder b;
  const uint32_t i = b.input(DType::i32, {1});
  b.output(b.node(OpCode::one_hot, DType::f64, {1, kMaxDim}, {i}));
  expect_outcome(b.bytes(), {ErrorCode::arena_limit, false}, "one_hot depth 2^31 - 1");
}

TEST(fuzz, attributes_at_the_int64_limits_are_bad_graph) {
  const Dims d = {4, 3};
  for (int64_t v : {kI64Min, kI64Min + 1, int64_t{-1}, kI64Max, int64_t{kMaxDim} + 1}) {
    const std::string at = std::to_string(v);
    {  // slice: begin and step
      GraphBuilder b;
      const uint32_t x = b.input(DType::f64, d);
      b.output(b.node(OpCode::slice, DType::f64, {2, 3}, {x}, {v, 0, 1, 1}));
      expect_outcome(b.bytes(), {ErrorCode::bad_graph, false}, ("slice begin " + at).c_str());
      GraphBuilder c;
      const uint32_t y = c.input(DType::f64, d);
      c.output(c.node(OpCode::slice, DType::f64, {2, 3}, {y}, {0, 0, v, 1}));
      expect_outcome(c.bytes(), {ErrorCode::bad_graph, false}, ("slice step " + at).c_str());
    }
    {  // pad: interior padding
      GraphBuilder b;
      const uint32_t x = b.input(DType::f64, d);
      const uint32_t z = b.constant(DType::f64, {}, {0.0});
      b.output(b.node(OpCode::pad, DType::f64, {4, 3}, {x, z}, {0, 0, 0, 0, v, 0}));
      expect_outcome(b.bytes(), {ErrorCode::bad_graph, false}, ("pad interior " + at).c_str());
    }
    {  // reduction axis, transpose permutation, gather axis, concat axis
      GraphBuilder b;
      const uint32_t x = b.input(DType::f64, d);
      b.output(b.node(OpCode::reduce_sum, DType::f64, {4}, {x}, {0, v}));
      expect_outcome(b.bytes(), {ErrorCode::bad_graph, false}, ("reduce axis " + at).c_str());
      GraphBuilder t;
      const uint32_t y = t.input(DType::f64, d);
      t.output(t.node(OpCode::transpose, DType::f64, {3, 4}, {y}, {v, 0}));
      expect_outcome(t.bytes(), {ErrorCode::bad_graph, false}, ("transpose perm " + at).c_str());
      GraphBuilder g;
      const uint32_t gx = g.input(DType::f64, d);
      const uint32_t gi = g.input(DType::i32, {2});
      g.output(g.node(OpCode::gather, DType::f64, {2, 3}, {gx, gi}, {v}));
      expect_outcome(g.bytes(), {ErrorCode::bad_graph, false}, ("gather axis " + at).c_str());
      GraphBuilder c;
      const uint32_t ca = c.input(DType::f64, d);
      const uint32_t cb = c.input(DType::f64, d);
      c.output(c.node(OpCode::concat, DType::f64, {8, 3}, {ca, cb}, {v}));
      expect_outcome(c.bytes(), {ErrorCode::bad_graph, false}, ("concat axis " + at).c_str());
    }
  }
}

TEST(fuzz, joined_and_padded_dims_past_2_31_are_bad_graph) {
  GraphBuilder c;
  const uint32_t a = c.input(DType::f64, {kMaxDim, 0});
  const uint32_t b = c.input(DType::f64, {kMaxDim, 0});
  c.output(c.node(OpCode::concat, DType::f64, {0, 0}, {a, b}, {0}));  // the joined dim 2^32 - 2 fits nothing
  CHECK(expect_outcome(c.bytes(), {ErrorCode::bad_graph, false}, "concat 2^32 - 2").find("over 2^31 - 1") != std::string::npos);
  GraphBuilder p;
  const uint32_t x = p.input(DType::f64, {2, 0});
  const uint32_t z = p.constant(DType::f64, {}, {0.0});
  // 2 elements with interior padding 2^31 - 1 need 2^31 + 1: no node dim can say so.
  p.output(p.node(OpCode::pad, DType::f64, {kMaxDim, 0}, {x, z}, {0, 0, 0, 0, int64_t{kMaxDim}, 0}));
  expect_outcome(p.bytes(), {ErrorCode::bad_graph, false}, "pad to 2^31 + 1");
}

TEST(fuzz, index_values_at_the_int32_limits_are_index_out_of_range) {
  // gather, scatter_add and one_hot of indices read from an argument; the oracle feeds int32
  // arguments values that include -1, INT32_MAX and INT32_MIN, so here the run itself is checked.
  GraphBuilder g;
  const uint32_t x = g.input(DType::f64, {5});
  const uint32_t i = g.input(DType::i32, {3});
  g.output(g.node(OpCode::gather, DType::f64, {3}, {x, i}, {0}));
  ProgramPtr p;
  REQUIRE(compile(g.bytes(), &p).ok());
  const std::vector<double> xs = {10, 11, 12, 13, 14};
  std::vector<double> out(3, 0);
  for (int32_t bad : {int32_t{-1}, int32_t{5}, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}) {
    const std::vector<int32_t> idx = {0, 1, bad};
    const InputView in[] = {{xs.data(), DType::f64, 5}, {idx.data(), DType::i32, 3}};
    const OutputView o[] = {{out.data(), DType::f64, 3}};
    const Status s = p->run(in, o);
    CHECK(s.code == ErrorCode::index_out_of_range);
    CHECK(s.message.find(std::to_string(bad) + " at position 2 is out of range [0, 5)") != std::string::npos);
  }
  expect_outcome(g.bytes(), {ErrorCode::ok, true}, "gather");
}

}  // namespace
}  // namespace wt
