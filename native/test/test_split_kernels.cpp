// Large elementwise and reduction kernels split their work over the engine's threads in chunks
// chosen from the problem size alone, so a program gives the same bits for any thread count.
// These programs are large enough to split (parallel.h: kSplitMin) and cover the split paths:
// unary loops and vector math, binary with equal shapes, a scalar and a broadcast row, where,
// full reductions (sum, max, prod), axis reductions over leading, trailing and mixed axes, and
// gathers (broadcast_to with rows longer than a chunk, transpose).
#include <algorithm>
#include <thread>

#include "test.h"
#include "test_util.h"
#include "threadpool.h"

namespace wt {
namespace {

using wengert::RunOptions;

struct SplitCase {
  ProgramPtr program;
  std::vector<uint32_t> out_nodes;
};

// x, y: [R, C]; row: [C]; z: [A, B, C3] (a mixed-axis reduction).
constexpr uint32_t R = 96, C = 700, A = 40, B = 30, C3 = 50;

template <class T>
ProgramPtr build_program() {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const uint32_t x = b.input(t, {R, C});
  const uint32_t y = b.input(t, {R, C});
  const uint32_t row = b.input(t, {C});
  const uint32_t z = b.input(t, {A, B, C3});
  const uint32_t two = b.constant(t, {}, {2.0});
  const uint32_t row2 = b.constant(t, {2, 1}, {-1.5, 4.25});
  b.output(b.node(op_named("exp"), t, {R, C}, {x}));                // vector math, per ISA
  b.output(b.node(op_named("neg"), t, {R, C}, {x}));                // plain unary loop
  b.output(b.node(op_named("mul"), t, {R, C}, {x, y}));             // equal shapes
  b.output(b.node(op_named("sub"), t, {R, C}, {two, y}));           // scalar, array
  b.output(b.node(op_named("div"), t, {R, C}, {x, two}));           // array, scalar
  b.output(b.node(op_named("add"), t, {R, C}, {x, row}));           // broadcast row (strided walk)
  b.output(b.node(OpCode::where, t, {R, C}, {x, y, row}));          // where, broadcast
  b.output(b.node(OpCode::reduce_sum, t, {}, {x}, {0, 0, 1}));      // full sum
  b.output(b.node(OpCode::reduce_max, t, {}, {y}, {0, 0, 1}));      // full max
  b.output(b.node(OpCode::reduce_prod, t, {1, 1}, {y}, {1, 0, 1}));  // full product, kept dims
  b.output(b.node(OpCode::reduce_sum, t, {C}, {x}, {0, 0}));        // leading axis
  b.output(b.node(OpCode::reduce_sum, t, {R}, {x}, {0, 1}));        // trailing axis
  b.output(b.node(OpCode::reduce_min, t, {A}, {z}, {0, 1, 2}));     // trailing axes
  b.output(b.node(OpCode::reduce_sum, t, {B}, {z}, {0, 0, 2}));     // mixed: serial
  b.output(b.node(OpCode::broadcast_to, t, {2, R * C}, {row2}));     // rows longer than a chunk
  b.output(b.node(OpCode::transpose, t, {C, R}, {x}, {1, 0}));       // strided gather
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) fail(__FILE__, __LINE__, s.message);
  return p;
}

template <class T>
std::vector<std::vector<T>> inputs() {
  std::mt19937_64 rng(11);
  std::vector<std::vector<T>> in = {random_values<T>(R * C, rng, -1, 1), random_values<T>(R * C, rng, 0.999, 1.001),
                                    random_values<T>(C, rng), random_values<T>(A * B * C3, rng)};
  for (std::size_t i = 0; i < in[0].size(); i += 7) in[0][i] = T(0);  // where: pick y there
  return in;
}

template <class T>
std::vector<std::vector<T>> run_with(const Program& p, const std::vector<std::vector<T>>& in, const wengert::Parallel* par) {
  RunOptions opts;
  opts.parallel = par;
  return run_with_options<T>(p, in, opts);
}

template <class T>
void check_split_bits() {
  ProgramPtr p = build_program<T>();
  if (!p) return;
  const auto in = inputs<T>();
  const auto serial = run_with<T>(*p, in, nullptr);
  // The serial values are right: each output against a plain reference.
  const auto& x = in[0];
  const auto& y = in[1];
  const auto& row = in[2];
  const auto& z = in[3];
  // A sum of n terms is within n ulp of the terms' absolute sum (f32 chunks hold 16K terms).
  const auto near = [](T got, double want, double abs_sum) {
    return std::abs(double(got) - want) <= (sizeof(T) == 8 ? 1e-12 : 1e-4) * (1 + abs_sum);
  };
  double abs_sum = 0;
  double sum = 0, colsum0 = 0, rowsum0 = 0, mixed0 = 0, prod = 1;
  T mx = y[0];
  for (std::size_t i = 0; i < x.size(); ++i) {
    sum += x[i];
    abs_sum += std::abs(double(x[i]));
    prod *= y[i];
    mx = std::max(mx, y[i]);
    if (i % C == 0) colsum0 += x[i];
    if (i < C) rowsum0 += x[i];
  }
  for (uint32_t a = 0; a < A; ++a)
    for (uint32_t c = 0; c < C3; ++c) mixed0 += z[(a * B + 0) * C3 + c];
  T zmin = z[0];
  for (uint32_t i = 0; i < B * C3; ++i) zmin = std::min(zmin, z[i]);
  const std::size_t last = x.size() - 1;
  CHECK(same(serial[1][last], T(-x[last])));
  CHECK(same(serial[2][last], T(x[last] * y[last])));
  CHECK(same(serial[3][last], T(T(2) - y[last])));
  CHECK(same(serial[4][last], T(x[last] / T(2))));
  CHECK(same(serial[5][last], T(x[last] + row[C - 1])));
  CHECK(same(serial[6][7 * 1000], x[7000] != T(0) ? y[7000] : row[7000 % C]));
  CHECK(near(serial[7][0], sum, abs_sum));
  CHECK(same(serial[8][0], mx));
  CHECK(std::abs(double(serial[9][0]) / prod - 1) < (sizeof(T) == 8 ? 1e-12 : 1e-3));
  CHECK(near(serial[10][0], colsum0, R));
  CHECK(near(serial[11][0], rowsum0, C));
  CHECK(same(serial[12][0], zmin));
  CHECK(near(serial[13][0], mixed0, 3.0 * A * C3));
  CHECK(same(serial[14][R * C - 1], T(-1.5)));
  CHECK(same(serial[14][R * C + 20000], T(4.25)));
  CHECK(same(serial[15][(C - 1) * R + 5], x[5 * C + C - 1]));
  // And the same bits on the engine's threads, for 1, 2 and 4 of them.
  ThreadsGuard guard;
  for (unsigned threads : {1u, 2u, 4u}) {
    REQUIRE(wengert::set_engine_threads(threads));
    for (int rep = 0; rep < 3; ++rep) {
      std::string where;
      if (!same_bits(serial, run_with<T>(*p, in, &wengert::engine_threads()), &where)) {
        fail(__FILE__, __LINE__, std::to_string(threads) + " threads: " + where + " differs from serial");
      }
    }
  }
}

}  // namespace

TEST(kernels, split_kernels_give_the_same_bits_for_any_thread_count_f64) { check_split_bits<double>(); }
TEST(kernels, split_kernels_give_the_same_bits_for_any_thread_count_f32) { check_split_bits<float>(); }

}  // namespace wt
