// Programs: the memory plan (alignment, reuse, limit), run-time checks of the caller's buffers,
// zero allocation in steady state, determinism and concurrent runs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;

// x: f64[n] -> `len` chained elementwise ops -> output.
GraphBuilder chain(uint32_t n, int len) {
  GraphBuilder b;
  uint32_t v = b.input(DType::f64, {n});
  for (int i = 0; i < len; ++i) v = b.node(i % 2 ? OpCode::sin : OpCode::square, DType::f64, {n}, {v});
  b.output(v);
  return b;
}

// A small model: tanh(x @ w + bias) summed over rows, plus a broadcast product.
GraphBuilder model() {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {8, 5});
  const uint32_t w = b.input(DType::f64, {5, 3});
  const uint32_t bias = b.constant(DType::f64, {3}, {0.1, -0.2, 0.3});
  const uint32_t h = b.node(OpCode::matmul, DType::f64, {8, 3}, {x, w}, {0, 0});
  const uint32_t hb = b.node(OpCode::add, DType::f64, {8, 3}, {h, bias});
  const uint32_t t = b.node(OpCode::tanh, DType::f64, {8, 3}, {hb});
  const uint32_t s = b.node(OpCode::reduce_sum, DType::f64, {3}, {t}, {0, 0});
  const uint32_t g = b.node(OpCode::matmul, DType::f64, {5, 5}, {x, x}, {1, 0});
  const uint32_t q = b.node(OpCode::mul, DType::f64, {5, 5}, {g, g});
  b.output(s);
  b.output(q);
  b.output(t);
  return b;
}

std::vector<std::vector<double>> model_inputs() {
  std::mt19937_64 rng(42);
  return {random_values<double>(40, rng), random_values<double>(15, rng)};
}

TEST(program, slots_are_aligned_and_reused) {
  const int len = 10;
  ProgramPtr p;
  REQUIRE(compile(chain(100, len).bytes(), &p).ok());
  const std::size_t slot = (100 * 8 + 63) / 64 * 64;
  for (uint32_t i = 1; i <= static_cast<uint32_t>(len); ++i) {
    CHECK(p->slot_offset(i) >= 0);
    CHECK_EQ(p->slot_offset(i) % 64, 0);
    CHECK(i < 2 || p->slot_offset(i) != p->slot_offset(i - 1));  // a kernel never writes over its input
  }
  CHECK_EQ(p->slot_offset(0), -1);  // the input is read in place
  CHECK_EQ(p->arena_bytes(), 2 * slot);
  CHECK(p->arena_bytes() < len * slot);

  ProgramPtr m;
  REQUIRE(compile(model().bytes(), &m).ok());
  for (uint32_t i = 0; i < 9; ++i) CHECK(m->slot_offset(i) % 64 == 0 || m->slot_offset(i) == -1);
}

TEST(program, aligned_buffer_is_64_byte_aligned) {
  for (std::size_t n : {1, 63, 64, 65, 1000}) {
    wengert::AlignedBuffer b(n);
    CHECK_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  }
}

TEST(program, outputs_stay_live_to_the_end) {
  // Node 1 is an output and also read by node 2: its slot must never be reused.
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {16});
  const uint32_t a = b.node(OpCode::exp, DType::f64, {16}, {x});
  const uint32_t c = b.node(OpCode::neg, DType::f64, {16}, {a});
  const uint32_t d = b.node(OpCode::sin, DType::f64, {16}, {c});
  const uint32_t e = b.node(OpCode::cos, DType::f64, {16}, {d});
  b.output(a);
  b.output(e);
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  for (uint32_t i : {c, d, e}) CHECK(p->slot_offset(i) != p->slot_offset(a));
  std::vector<std::vector<double>> in = {std::vector<double>(16, 0.5)}, out;
  REQUIRE(run(*p, in, &out).ok());
  // exp, sin and cos run the vector math (native/src/simd/vecmath.h): within a few ulp of libm.
  CHECK(std::fabs(out[0][3] - std::exp(0.5)) <= 1e-15);
  CHECK(std::fabs(out[1][3] - std::cos(std::sin(-std::exp(0.5)))) <= 1e-15);
}

TEST(program, dead_values_are_not_computed) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {4});
  b.node(OpCode::exp, DType::f64, {4}, {x});  // no output depends on it
  b.output(b.node(OpCode::neg, DType::f64, {4}, {x}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  CHECK_EQ(p->num_steps(), 1u);
  CHECK_EQ(p->slot_offset(1), -1);
}

TEST(program, arena_limit) {
  ProgramPtr p;
  const auto bytes = chain(100, 4).bytes();
  const Status s = compile(bytes, &p, 1000);
  CHECK(s.code == ErrorCode::arena_limit);
  CHECK(s.message.find("over the limit of 1000") != std::string::npos);
  CHECK(compile(bytes, &p, 2 * 832).ok());
  CHECK(compile(bytes, &p, 2 * 832 - 1).code == ErrorCode::arena_limit);
  // A single huge value (2^53 bytes) fails on the limit at compile time, not on an allocation.
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {1});
  b.output(b.node(OpCode::broadcast_to, DType::f64, {0x7FFFFFFF, 0x7FFFF}, {x}));
  CHECK(compile(b.bytes(), &p, std::size_t{1} << 40).code == ErrorCode::arena_limit);
}

TEST(program, run_checks_the_callers_buffers) {
  ProgramPtr p;
  REQUIRE(compile(model().bytes(), &p).ok());
  std::vector<double> x(40), w(15), s(3), q(25), t(24);
  std::vector<float> xf(40);
  auto in = [&](std::vector<InputView> v) { return v; };
  std::vector<OutputView> outs = {{s.data(), DType::f64, 3}, {q.data(), DType::f64, 25}, {t.data(), DType::f64, 24}};
  CHECK(p->run(in({{x.data(), DType::f64, 40}, {w.data(), DType::f64, 15}}), outs).ok());
  CHECK(p->run(in({{x.data(), DType::f64, 40}}), outs).code == ErrorCode::input_count);
  CHECK(p->run(in({{xf.data(), DType::f32, 40}, {w.data(), DType::f64, 15}}), outs).code == ErrorCode::input_dtype);
  CHECK(p->run(in({{x.data(), DType::f64, 39}, {w.data(), DType::f64, 15}}), outs).code == ErrorCode::input_length);
  const auto good_in = in({{x.data(), DType::f64, 40}, {w.data(), DType::f64, 15}});
  std::vector<OutputView> two(outs.begin(), outs.begin() + 2);
  CHECK(p->run(good_in, two).code == ErrorCode::output_spec);
  auto bad_len = outs;
  bad_len[1].length = 24;
  CHECK(p->run(good_in, bad_len).code == ErrorCode::output_spec);
  auto bad_type = outs;
  bad_type[0].dtype = DType::f32;
  CHECK(p->run(good_in, bad_type).code == ErrorCode::output_spec);
}

TEST(program, steady_state_run_allocates_nothing) {
  ProgramPtr p;
  REQUIRE(compile(model().bytes(), &p).ok());
  const auto inputs = model_inputs();
  std::vector<double> s(3), q(25), t(24);
  const std::vector<InputView> in = {{inputs[0].data(), DType::f64, 40}, {inputs[1].data(), DType::f64, 15}};
  const std::vector<OutputView> out = {{s.data(), DType::f64, 3}, {q.data(), DType::f64, 25}, {t.data(), DType::f64, 24}};
  const uint64_t a0 = allocation_count();
  REQUIRE(p->run(in, out).ok());
  const uint64_t a1 = allocation_count();
  CHECK(a1 > a0);  // the first run creates the arena
  for (int i = 0; i < 3; ++i) REQUIRE(p->run(in, out).ok());
  CHECK_EQ(allocation_count() - a1, 0u);
  CHECK_EQ(p->num_pooled_arenas(), 1u);
}

TEST(program, runs_are_deterministic) {
  ProgramPtr p;
  REQUIRE(compile(model().bytes(), &p).ok());
  std::vector<std::vector<double>> a, b;
  REQUIRE(run(*p, model_inputs(), &a).ok());
  REQUIRE(run(*p, model_inputs(), &b).ok());
  REQUIRE(a.size() == b.size());
  for (std::size_t o = 0; o < a.size(); ++o) CHECK(std::memcmp(a[o].data(), b[o].data(), a[o].size() * 8) == 0);
  // A second compile of the same bytes gives the same bits too.
  ProgramPtr p2;
  REQUIRE(compile(model().bytes(), &p2).ok());
  REQUIRE(run(*p2, model_inputs(), &b).ok());
  for (std::size_t o = 0; o < a.size(); ++o) CHECK(std::memcmp(a[o].data(), b[o].data(), a[o].size() * 8) == 0);
}

TEST(program, concurrent_runs_of_one_program) {
  ProgramPtr p;
  REQUIRE(compile(model().bytes(), &p).ok());
  std::vector<std::vector<double>> want;
  REQUIRE(run(*p, model_inputs(), &want).ok());
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      const auto in = model_inputs();
      std::vector<std::vector<double>> got;
      bool all = true;
      for (int i = 0; i < 200; ++i) all = all && run(*p, in, &got).ok() && got == want;
      ok[k] = all;
    });
  }
  for (auto& t : threads) t.join();
  for (int k = 0; k < 4; ++k) CHECK(ok[k]);
  CHECK(p->num_pooled_arenas() >= 1u);
}

// A Parallel that, the first time a kernel splits its work, runs the same program again from
// inside the run (then runs the chunks serially): the outer run holds an arena, so the inner one
// must get another.
struct ReentrantParallel final : wengert::Parallel {
  const wengert::Program* program = nullptr;
  std::vector<InputView> in;
  std::vector<OutputView> out;
  mutable int calls = 0;
  mutable wengert::Status inner;
  unsigned threads() const override { return 2; }
  void run(uint64_t n, void (*fn)(void*, uint64_t), void* ctx) const override {
    if (calls++ == 0) inner = program->run(in, out);
    for (uint64_t i = 0; i < n; ++i) fn(ctx, i);
  }
};

TEST(program, a_run_inside_a_run_gets_its_own_arena) {
  constexpr uint32_t n = 40000;  // over kSplitMin: the exp kernel splits its work
  GraphBuilder b;
  b.output(b.node(OpCode::exp, DType::f64, {n}, {b.input(DType::f64, {n})}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::mt19937_64 rng(7);
  const std::vector<double> x = random_values<double>(n, rng);
  std::vector<double> outer(n), inner(n);
  ReentrantParallel par;
  par.program = p.get();
  par.in = {{x.data(), DType::f64, n}};
  par.out = {{inner.data(), DType::f64, n}};
  wengert::RunOptions options;
  options.parallel = &par;
  const std::vector<OutputView> out = {{outer.data(), DType::f64, n}};
  REQUIRE(p->run(par.in, out, options).ok());
  REQUIRE(par.calls >= 1);
  CHECK(par.inner.ok());
  CHECK(outer == inner);
  CHECK(std::abs(outer[n - 1] - std::exp(x[n - 1])) <= 1e-15 * std::exp(x[n - 1]));
  // Both arenas went back, and later runs, alone or nested, reuse them.
  CHECK_EQ(p->num_pooled_arenas(), 2u);
  const uint64_t a0 = allocation_count();
  for (int i = 0; i < 3; ++i) REQUIRE(p->run(par.in, out).ok());
  par.calls = 0;
  REQUIRE(p->run(par.in, out, options).ok());
  CHECK(par.inner.ok());
  CHECK_EQ(allocation_count() - a0, 0u);
  CHECK_EQ(p->num_pooled_arenas(), 2u);
}

TEST(program, zero_sized_values) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {0, 3});
  const uint32_t y = b.node(OpCode::exp, DType::f64, {0, 3}, {x});
  b.output(b.node(OpCode::reduce_sum, DType::f64, {3}, {y}, {0, 0}));
  b.output(y);
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::vector<std::vector<double>> in = {{}}, out;
  REQUIRE(run(*p, in, &out).ok());
  CHECK((out[0] == std::vector<double>{0, 0, 0}));
  CHECK(out[1].empty());
}

TEST(program, int32_args_are_checked_and_unused) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {2});
  b.input(DType::i32, {3});
  b.output(b.node(OpCode::neg, DType::f64, {2}, {x}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  std::vector<double> xv = {1, 2}, o(2);
  std::vector<int32_t> iv = {1, 2, 3};
  std::vector<InputView> in = {{xv.data(), DType::f64, 2}, {iv.data(), DType::i32, 3}};
  std::vector<OutputView> out = {{o.data(), DType::f64, 2}};
  REQUIRE(p->run(in, out).ok());
  CHECK(o[1] == -2);
  in[1].dtype = DType::f32;
  CHECK(p->run(in, out).code == ErrorCode::input_dtype);
}

// Runs p on one element type with the given options.
template <class T>
Status run_with(const Program& p, const std::vector<std::vector<T>>& inputs, std::vector<std::vector<T>>* outs,
                const wengert::RunOptions& options) {
  std::vector<InputView> in;
  for (const auto& v : inputs) in.push_back(InputView{v.data(), dtype_of<T>(), v.size()});
  outs->clear();
  for (const auto& s : p.output_specs()) outs->emplace_back(s.length);
  std::vector<OutputView> out;
  for (auto& v : *outs) out.push_back(OutputView{v.data(), dtype_of<T>(), v.size()});
  return p.run(in, out, options);
}

// Nodes depending only on constants are computed once at compile time, by the same kernels, so a
// run gives the same bits as computing them every run; a non-finite one stays a step.
TEST(program, constant_subgraphs_are_folded) {
  const std::vector<double> k = {0.5, -1.25, 2.0};
  // x * exp(k) + broadcast(k)[..]: with k a constant, exp(k) is folded; with k an input, it runs.
  const auto build = [](bool k_is_constant, const std::vector<double>& kv) {
    GraphBuilder b;
    const uint32_t x = b.input(DType::f64, {2, 3});
    const uint32_t kn = k_is_constant ? b.constant(DType::f64, {3}, kv) : b.input(DType::f64, {3});
    const uint32_t e = b.node(OpCode::exp, DType::f64, {3}, {kn});
    const uint32_t kb = b.node(OpCode::broadcast_to, DType::f64, {2, 3}, {kn});
    const uint32_t m = b.node(OpCode::mul, DType::f64, {2, 3}, {x, e});
    b.output(b.node(OpCode::add, DType::f64, {2, 3}, {m, kb}));
    return b;
  };
  ProgramPtr folded, unfolded;
  REQUIRE(compile(build(true, k).bytes(), &folded).ok());
  REQUIRE(compile(build(false, k).bytes(), &unfolded).ok());
  CHECK_EQ(folded->num_steps(), 2u);  // mul, add
  CHECK_EQ(unfolded->num_steps(), 4u);
  const std::vector<double> x = {1, 2, 3, -4, 5, 0.25};
  std::vector<std::vector<double>> a, b;
  REQUIRE(run_with<double>(*folded, {x}, &a, {}).ok());
  REQUIRE(run_with<double>(*unfolded, {x, k}, &b, {}).ok());
  CHECK(std::memcmp(a[0].data(), b[0].data(), 6 * sizeof(double)) == 0);
  CHECK(std::fabs(a[0][1] - (2 * std::exp(-1.25) - 1.25)) <= 1e-15);

  // log of a negative constant is NaN: not folded, so checkFinite still names the step.
  ProgramPtr bad;
  GraphBuilder g;
  const uint32_t x2 = g.input(DType::f64, {3});
  const uint32_t c = g.constant(DType::f64, {3}, {1, -2, 3});
  const uint32_t l = g.node(OpCode::log, DType::f64, {3}, {c});
  g.output(g.node(OpCode::mul, DType::f64, {3}, {x2, l}));
  REQUIRE(compile(g.bytes(), &bad).ok());
  CHECK_EQ(bad->num_steps(), 2u);
  wengert::RunOptions check;
  check.check_finite = true;
  const Status s = run_with<double>(*bad, {{1, 1, 1}}, &a, check);
  CHECK(s.code == ErrorCode::non_finite);
  CHECK_EQ(s.message, "node " + std::to_string(l) + " (log, float64[3]): element 1 is NaN");
}

// x -> log(x) -> exp -> sum: log of a negative element is the first non-finite step.
template <class T>
void check_finite_names_the_first_bad_step() {
  GraphBuilder b;
  const DType t = dtype_of<T>();
  const uint32_t x = b.input(t, {2, 3});
  const uint32_t l = b.node(OpCode::log, t, {2, 3}, {x});
  const uint32_t e = b.node(OpCode::exp, t, {2, 3}, {l});
  b.output(b.node(OpCode::reduce_sum, t, {}, {e}, {0, 0, 1}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  wengert::RunOptions check;
  check.check_finite = true;
  std::vector<std::vector<T>> out;
  REQUIRE(run_with<T>(*p, {{1, 2, 3, 4, 5, 6}}, &out, check).ok());
  CHECK(std::abs(out[0][0] - T(21)) < T(1e-4));

  const std::vector<std::vector<T>> bad = {{1, 2, 3, 4, -5, 6}};
  // Off: the NaN flows silently to the output.
  REQUIRE(run_with<T>(*p, bad, &out, {}).ok());
  CHECK(std::isnan(out[0][0]));
  // On: the log step is named, with the element and its value.
  const Status s = run_with<T>(*p, bad, &out, check);
  CHECK(s.code == ErrorCode::non_finite);
  const std::string want = std::string("node ") + std::to_string(l) + " (log, " + wengert::dtype_name(t) + "[2,3]): element 4 is NaN";
  CHECK_EQ(s.message, want);
  // A zero gives -Infinity; the arena went back to the pool.
  CHECK_EQ(run_with<T>(*p, {{1, 0, 3, 4, 5, 6}}, &out, check).message,
           std::string("node 1 (log, ") + wengert::dtype_name(t) + "[2,3]): element 1 is -Infinity");
  CHECK_EQ(p->num_pooled_arenas(), 1u);
  // A non-finite input is reported before any step runs, naming the argument.
  const T inf = std::numeric_limits<T>::infinity();
  const Status si = run_with<T>(*p, {{1, 2, 3, inf, -5, 6}}, &out, check);
  CHECK(si.code == ErrorCode::non_finite);
  CHECK_EQ(si.message, std::string("input 0 (") + wengert::dtype_name(t) + "[2,3]): element 3 is Infinity");
}

TEST(program, check_finite_f64) { check_finite_names_the_first_bad_step<double>(); }
TEST(program, check_finite_f32) { check_finite_names_the_first_bad_step<float>(); }

TEST(program, check_finite_scans_every_element_of_large_values) {
  // Blocks of the scan: the bad element is in the last, partial block; overflow makes +Infinity.
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {1000});
  const uint32_t e = b.node(OpCode::exp, DType::f64, {1000}, {x});
  b.output(b.node(OpCode::neg, DType::f64, {1000}, {e}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  wengert::RunOptions check;
  check.check_finite = true;
  std::vector<double> v(1000, 1.0);
  std::vector<std::vector<double>> out;
  REQUIRE(run_with<double>(*p, {v}, &out, check).ok());
  for (uint64_t at : {0u, 255u, 256u, 999u}) {
    std::vector<double> w = v;
    w[at] = 800;  // exp(800) overflows
    const Status s = run_with<double>(*p, {w}, &out, check);
    CHECK_EQ(s.message, "node 1 (exp, float64[1000]): element " + std::to_string(at) + " is Infinity");
  }
  // Large finite values are not flagged.
  std::vector<double> big(1000, 700.0);
  CHECK(run_with<double>(*p, {big}, &out, check).ok());
}

// The serialized bytes of a gradient-shaped program of about `ops` scalar steps, written directly
// (a GraphBuilder keeps a record per node): a forward chain v[i] = sin(v[i-1]) * c, then a
// reverse chain g = g * cos(v[i]) that reads the forward values in reverse order, so every
// forward value is live until the reverse sweep reaches it, as in a real gradient.
std::vector<uint8_t> gradient_shaped_bytes(uint32_t ops) {
  const uint32_t forward = ops / 4;  // 2 steps per forward element, 2 per reverse element
  std::vector<uint8_t> b;
  b.reserve(std::size_t{ops} * 20 + 64);
  for (char ch : {'W', 'G', 'R', 'T'}) b.push_back(static_cast<uint8_t>(ch));
  put_u16(b, 1);
  put_u16(b, 0);
  put_u32(b, 0);  // byte_length
  put_u32(b, 0);  // crc32
  put_u32(b, 1);  // args
  const std::size_t n_nodes_at = b.size();
  put_u32(b, 0);  // nodes, set below
  put_u32(b, 1);  // outputs
  put_u32(b, 8);  // pool: one f64 constant
  put_u8(b, uint8_t(DType::f64));  // arg 0: f64[]
  put_u8(b, 0);
  put_u16(b, 0);
  uint32_t n = 0;
  auto node = [&](OpCode op, std::initializer_list<uint32_t> inputs, std::initializer_list<int64_t> iattrs) {
    put_u16(b, static_cast<uint16_t>(op));
    put_u8(b, uint8_t(DType::f64));
    put_u8(b, 0);  // rank 0
    put_u8(b, static_cast<uint8_t>(inputs.size()));
    put_u8(b, static_cast<uint8_t>(iattrs.size()));
    put_u8(b, 0);
    put_u8(b, 0);
    for (uint32_t i : inputs) put_u32(b, i);
    for (int64_t v : iattrs) put_u64(b, static_cast<uint64_t>(v));
    return n++;
  };
  const uint32_t x = node(OpCode::input, {}, {0});
  const uint32_t c = node(OpCode::constant, {}, {0, 8});
  std::vector<uint32_t> v(forward + 1);
  v[0] = x;
  for (uint32_t i = 1; i <= forward; ++i) v[i] = node(OpCode::mul, {node(OpCode::sin, {v[i - 1]}, {}), c}, {});
  uint32_t g = v[forward];
  for (uint32_t i = forward; i-- > 0;) g = node(OpCode::mul, {g, node(OpCode::cos, {v[i]}, {})}, {});
  put_u32(b, g);  // the output
  const double half = 0.5;
  uint64_t u;
  std::memcpy(&u, &half, 8);
  put_u64(b, u);
  set_u32(b, n_nodes_at, n);
  set_u32(b, 8, static_cast<uint32_t>(b.size()));
  fix_crc(b);
  return b;
}

// Compiles a program of `ops` steps; prints the compile time and the plan's arena size.
void compile_big(uint32_t ops) {
  const std::vector<uint8_t> bytes = gradient_shaped_bytes(ops);
  const auto t0 = std::chrono::steady_clock::now();
  ProgramPtr p;
  const Status s = compile(bytes, &p, std::size_t{1} << 40);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(s.ok());
  const uint32_t forward = ops / 4;
  CHECK_EQ(p->num_steps(), std::size_t{4} * forward);
  // Every forward value (one 8-byte scalar slot each) is live at the turn, plus a few in flight.
  CHECK(p->arena_bytes() >= uint64_t{forward} * 8);
  CHECK(p->arena_bytes() <= uint64_t{forward + 8} * 8);
  std::printf("    compile of %u steps (%zu MB of graph): %.2f s, arena %zu KB\n", 4 * forward, bytes.size() >> 20, sec,
              p->arena_bytes() >> 10);
  // The same program with a limit below its plan fails cleanly, naming the limit.
  ProgramPtr q;
  const Status l = compile(bytes, &q, 65536);
  CHECK(l.code == ErrorCode::arena_limit);
  CHECK(l.message.find("over the limit of 65536 (maxArenaBytes)") != std::string::npos);
  CHECK(q == nullptr);
}

TEST(program, a_million_op_program_compiles) { compile_big(1'000'000); }

// Ten million ops need about 2 GB while compiling: run with WENGERT_TEST_BIG=1.
TEST(program, a_ten_million_op_program_compiles) {
  const char* big = std::getenv("WENGERT_TEST_BIG");
  if (big == nullptr || std::string(big) != "1") return;
  compile_big(10'000'000);
}

}  // namespace
}  // namespace wt
