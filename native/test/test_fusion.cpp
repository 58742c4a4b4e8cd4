// Elementwise fusion (fused.h): a fused program gives the bits of the same program compiled
// unfused, on random graphs of every elementwise op, with sums, scalar operands, fills, values
// read after a group and group breakers; on 1, 2 and 4 threads; with checkFinite naming the same
// node and element; and its arena is smaller.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;
using wengert::RunOptions;

constexpr OpCode kUnary[] = {
#define WT_OP(name) OpCode::name,
    WENGERT_FOR_EACH_UNARY_OP(WT_OP)
#undef WT_OP
};
constexpr OpCode kBinary[] = {
#define WT_OP(name) OpCode::name,
    WENGERT_FOR_EACH_BINARY_OP(WT_OP)
#undef WT_OP
};

// A random program over values of n elements: inputs x0, x1 (n elements), s (one element) and a
// constant; then `steps` random steps: unary, binary (one operand of one element at times),
// where, fills, identity reshapes, full sums (which later steps may read as scalars, so a group
// must end before them), one-element steps (run on the scalar tape), and transposes, which are
// not elementwise and so end a group. Some
// values are outputs; the last one always is.
template <class T>
GraphBuilder random_program(std::mt19937_64& rng, uint32_t n, int steps, int* unary_seen, int* binary_seen) {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  std::vector<uint32_t> full = {b.input(t, {n}), b.input(t, {n})};
  std::vector<uint32_t> one = {b.input(t, {}), b.constant(t, {}, {0.75})};
  const uint32_t wide = b.input(t, {n + 5});  // read through contiguous slices
  const auto pick = [&](const std::vector<uint32_t>& v) { return v[rng() % v.size()]; };
  uint32_t last = full[0];
  for (int i = 0; i < steps; ++i) {
    const unsigned r = rng() % 100;
    uint32_t v;
    if (r < 40) {
      const std::size_t k = rng() % std::size(kUnary);
      ++unary_seen[k];
      v = b.node(kUnary[k], t, {n}, {pick(full)});
    } else if (r < 75) {
      const std::size_t k = rng() % std::size(kBinary);
      ++binary_seen[k];
      uint32_t x = pick(full), y = pick(full);
      if (rng() % 4 == 0) (rng() % 2 ? x : y) = pick(one);
      v = b.node(kBinary[k], t, {n}, {x, y});
    } else if (r < 80) {
      v = b.node(OpCode::where, t, {n}, {pick(full), pick(full), rng() % 3 ? pick(full) : pick(one)});
    } else if (r < 84) {
      v = b.node(OpCode::broadcast_to, t, {n}, {pick(one)});
    } else if (r < 86) {
      v = b.node(OpCode::reshape, t, {n}, {pick(full)});
    } else if (r < 88) {
      v = b.node(OpCode::slice, t, {n}, {wide}, {static_cast<int64_t>(rng() % 6), 1});
    } else if (r < 90) {  // a shorter value padded back to n: its own group, then a placement
      const uint32_t u = b.node(OpCode::slice, t, {n - 3}, {pick(full)}, {static_cast<int64_t>(rng() % 4), 1});
      const int64_t lo = static_cast<int64_t>(rng() % 4);
      v = b.node(OpCode::pad, t, {n}, {u, pick(one)}, {lo, 3 - lo, 0});
    } else if (r < 95) {
      const uint32_t s = b.node(OpCode::reduce_sum, t, {}, {pick(full)}, {0, 0});
      one.push_back(s);
      if (rng() % 2) b.output(s);
      continue;
    } else if (r < 97) {  // a one-element step (the scalar tape), often reading a sum
      const uint32_t s = b.node(kBinary[rng() % std::size(kBinary)], t, {}, {one.back(), pick(one)});
      one.push_back(s);
      b.output(s);
      continue;
    } else {
      v = b.node(OpCode::transpose, t, {n}, {pick(full)}, {0});
    }
    full.push_back(v);
    last = v;
    if (rng() % 5 == 0) b.output(v);
  }
  b.output(last);
  return b;
}

// A random stencil-shaped program, as the gradients of shifted slices are: values of n - 3 to n
// elements (slices of the inputs), elementwise steps within one length, and pads that place a
// value a few elements on into a longer one, which fuse with their input's group through a halo
// (fused.h); with fills, sums of any length (the blocks of a group then run past the summed
// length), one-element steps, slices of computed values (a part of a member ends a group) and
// transposes (not elementwise).
template <class T>
GraphBuilder random_stencil_program(std::mt19937_64& rng, uint32_t n, int steps, int* unary_seen, int* binary_seen) {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const uint32_t x = b.input(t, {n}), y = b.input(t, {n});
  std::vector<uint32_t> one = {b.input(t, {}), b.constant(t, {}, {0.75})};
  const uint32_t wide = b.input(t, {n + 5});
  std::vector<uint32_t> by_len[4];  // by_len[d]: values of n - d elements
  for (uint32_t d = 0; d < 4; ++d) {
    by_len[d].push_back(b.node(OpCode::slice, t, {n - d}, {wide}, {static_cast<int64_t>(rng() % 6), 1}));
    for (uint32_t src : {x, y}) by_len[d].push_back(d == 0 ? src : b.node(OpCode::slice, t, {n - d}, {src}, {static_cast<int64_t>(rng() % (d + 1)), 1}));
  }
  const auto pick = [&](const std::vector<uint32_t>& v) { return v[rng() % v.size()]; };
  uint32_t last = x;
  for (int i = 0; i < steps; ++i) {
    const unsigned r = rng() % 100;
    uint32_t d = static_cast<uint32_t>(rng() % 4);
    const std::vector<uint32_t>& pool = by_len[d];
    uint32_t v;
    if (r < 28) {
      const std::size_t k = rng() % std::size(kUnary);
      ++unary_seen[k];
      v = b.node(kUnary[k], t, {n - d}, {pick(pool)});
    } else if (r < 52) {
      const std::size_t k = rng() % std::size(kBinary);
      ++binary_seen[k];
      uint32_t p = pick(pool), q = pick(pool);
      if (rng() % 4 == 0) (rng() % 2 ? p : q) = pick(one);
      v = b.node(kBinary[k], t, {n - d}, {p, q});
    } else if (r < 56) {
      v = b.node(OpCode::broadcast_to, t, {n - d}, {pick(one)});
    } else if (r < 76) {  // place a shorter value into a longer one, lo elements on
      const uint32_t from = 1 + static_cast<uint32_t>(rng() % 3);
      d = static_cast<uint32_t>(rng() % from);
      const int64_t grow = from - d, lo = static_cast<int64_t>(rng() % (grow + 1));
      v = b.node(OpCode::pad, t, {n - d}, {pick(by_len[from]), pick(one)}, {lo, grow - lo, 0});
    } else if (r < 80) {  // a part of a computed value
      d = 1;
      v = b.node(OpCode::slice, t, {n - 1}, {by_len[0].back()}, {static_cast<int64_t>(rng() % 2), 1});
    } else if (r < 90) {
      const uint32_t s = b.node(OpCode::reduce_sum, t, {}, {pick(pool)}, {0, 0});
      one.push_back(s);
      if (rng() % 2) b.output(s);
      continue;
    } else if (r < 95) {
      const uint32_t s = b.node(kBinary[rng() % std::size(kBinary)], t, {}, {one.back(), pick(one)});
      one.push_back(s);
      b.output(s);
      continue;
    } else {
      v = b.node(OpCode::transpose, t, {n - d}, {pick(pool)}, {0});
    }
    by_len[d].push_back(v);
    last = v;
    if (rng() % 5 == 0) b.output(v);
  }
  b.output(last);
  return b;
}

template <class T>
void check_random_programs(bool stencil) {
  ThreadsGuard guard;
  std::mt19937_64 rng((dtype_of<T>() == DType::f64 ? 2024 : 2025) + (stencil ? 100 : 0));
  int unary_seen[std::size(kUnary)] = {}, binary_seen[std::size(kBinary)] = {};
  std::size_t groups = 0, fused_steps = 0, sums = 0, pads_in_group = 0, fused_arena = 0, plain_arena = 0;
  // Sizes: below one block boundary, several blocks with a tail, and above kSplitMin (chunks
  // and a split sum) with a tail. Stencils: also lengths one past a sum's chunk (16384 and
  // 2 × 16384 elements summed, a group of one element more).
  const std::vector<uint32_t> sizes = stencil ? std::vector<uint32_t>{1027u, 1500u, 4099u, 16385u, 32769u, 70001u}
                                              : std::vector<uint32_t>{1024u, 1500u, 4096u, 40000u, 70001u};
  for (uint32_t n : sizes) {
    const int programs = n > 10000 ? 12 : 60;
    for (int trial = 0; trial < programs; ++trial) {
      const int steps = 4 + static_cast<int>(rng() % 28);
      const GraphBuilder gb = stencil ? random_stencil_program<T>(rng, n, steps, unary_seen, binary_seen)
                                      : random_program<T>(rng, n, steps, unary_seen, binary_seen);
      ProgramPtr fused, plain;
      const Status s1 = Program::compile(gb.bytes().data(), gb.bytes().size(), std::size_t{1} << 30, &fused, true);
      const Status s2 = Program::compile(gb.bytes().data(), gb.bytes().size(), std::size_t{1} << 30, &plain, false);
      REQUIRE(s1.ok());
      REQUIRE(s2.ok());
      CHECK_EQ(plain->num_fused_groups(), 0u);
      fused_arena += fused->arena_bytes();
      plain_arena += plain->arena_bytes();
      groups += fused->num_fused_groups();
      fused_steps += fused->num_fused_steps();
      for (const auto& node : gb.nodes) sums += node.opcode == static_cast<uint16_t>(OpCode::reduce_sum);
      // A pad in a block buffer whose input is in one too: it ran in its input's group.
      for (const auto& node : gb.nodes) {
        if (node.opcode != static_cast<uint16_t>(OpCode::pad)) continue;
        const uint32_t id = static_cast<uint32_t>(&node - gb.nodes.data()), in = node.inputs[0];
        const auto op = static_cast<OpCode>(gb.nodes[in].opcode);
        pads_in_group += fused->slot_offset(id) == -1 && op != OpCode::input && op != OpCode::slice && fused->slot_offset(in) == -1;
      }
      const std::vector<std::vector<T>> in = {random_values<T>(n, rng, -2, 2), random_values<T>(n, rng, 0.1, 3),
                                              random_values<T>(1, rng, -1.5, 1.5), random_values<T>(n + 5, rng, -2, 2)};
      const std::vector<std::vector<T>> expected = run_with_options<T>(*plain, in, RunOptions{});
      std::string where;
      if (!same_bits(expected, run_with_options<T>(*fused, in, RunOptions{}), &where)) {
        fail(__FILE__, __LINE__, "n = " + std::to_string(n) + ", program " + std::to_string(trial) + ": " + where);
        return;
      }
      for (unsigned threads : {2u, 4u}) {
        REQUIRE(wengert::set_engine_threads(threads));
        RunOptions opts;
        opts.parallel = &wengert::engine_threads();
        if (!same_bits(expected, run_with_options<T>(*fused, in, opts), &where)) {
          fail(__FILE__, __LINE__, std::to_string(threads) + " threads, n = " + std::to_string(n) + ": " + where);
          return;
        }
      }
      wengert::set_engine_threads(1);
      // checkFinite stops at the same node and element (or passes on both).
      RunOptions check;
      check.check_finite = true;
      Status sf, sp;
      run_with_options<T>(*fused, in, check, &sf);
      run_with_options<T>(*plain, in, check, &sp);
      CHECK(sf.code == sp.code);
      if (sf.message != sp.message) fail(__FILE__, __LINE__, "checkFinite: \"" + sf.message + "\" vs \"" + sp.message + "\"");
    }
  }
  std::printf("fusion: %zu groups of %zu steps in all, %zu pads in their input's group; arenas %zu bytes fused, %zu unfused\n", groups,
              fused_steps, pads_in_group, fused_arena, plain_arena);
  if (stencil) CHECK(pads_in_group > 50);
  // The random programs did fuse, with sums, and reached every elementwise op.
  CHECK(groups > 100);
  CHECK(fused_steps > 3 * groups);
  CHECK(sums > 50);
  for (int k : unary_seen) CHECK(k > 0);
  for (int k : binary_seen) CHECK(k > 0);
}

TEST(fusion, random_programs_f64_same_bits_as_unfused) { check_random_programs<double>(false); }
TEST(fusion, random_programs_f32_same_bits_as_unfused) { check_random_programs<float>(false); }
TEST(fusion, random_stencils_f64_same_bits_as_unfused) { check_random_programs<double>(true); }
TEST(fusion, random_stencils_f32_same_bits_as_unfused) { check_random_programs<float>(true); }

// A slice of a matrix is a view when it reads one contiguous run; a pad joins a group when it
// places its input as one.
TEST(fusion, slices_and_pads_of_matrices) {
  const uint32_t r = 6, c = 1000;
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {r, c});
  const uint32_t y = b.input(DType::f64, {2, c});
  const uint32_t zero = b.constant(DType::f64, {}, {0.5});
  const uint32_t cols = b.node(OpCode::slice, DType::f64, {2, c}, {x}, {0, 0, 3, 1});     // every third row: not
  const uint32_t part = b.node(OpCode::slice, DType::f64, {r, 500}, {x}, {0, 100, 1, 1});  // a column block: not
  const uint32_t t = b.node(OpCode::tanh, DType::f64, {r, 500}, {part});
  const uint32_t wide = b.node(OpCode::pad, DType::f64, {r, c}, {t, zero}, {0, 100, 0, 400, 0, 0});  // not contiguous
  const uint32_t rows = b.node(OpCode::slice, DType::f64, {2, c}, {x}, {3, 0, 1, 1});  // rows 3-4: contiguous
  const uint32_t e = b.node(OpCode::exp, DType::f64, {2, c}, {rows});
  const uint32_t m = b.node(OpCode::mul, DType::f64, {2, c}, {e, cols});
  const uint32_t a = b.node(OpCode::add, DType::f64, {2, c}, {m, y});
  const uint32_t placed = b.node(OpCode::pad, DType::f64, {r, c}, {a, zero}, {1, 0, 3, 0, 0, 0});  // contiguous
  const uint32_t sq = b.node(OpCode::square, DType::f64, {r, c}, {placed});
  const uint32_t z = b.node(OpCode::sub, DType::f64, {r, c}, {sq, wide});
  b.output(b.node(OpCode::reduce_sum, DType::f64, {}, {z}, {0, 0, 1}));
  b.output(a);
  ProgramPtr fused, plain;
  REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &fused, true).ok());
  REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &plain, false).ok());
  // rows is a view (no step, no slot); {exp, mul, add} and {placed, square, sub, sum} fuse;
  // cols, part, tanh and wide run alone.
  CHECK_EQ(fused->num_fused_groups(), 2u);
  CHECK_EQ(fused->num_fused_steps(), 7u);
  CHECK_EQ(fused->slot_offset(rows), -1);
  CHECK(fused->slot_offset(cols) >= 0);
  CHECK(plain->slot_offset(cols) >= 0);
  std::mt19937_64 rng(9);
  const std::vector<std::vector<double>> in = {random_values<double>(r * c, rng), random_values<double>(2 * c, rng)};
  std::string where;
  CHECK(same_bits(run_with_options<double>(*plain, in, RunOptions{}), run_with_options<double>(*fused, in, RunOptions{}), &where));
}

// Outputs are computed straight into the caller's buffers, except where a buffer overlaps
// another of the run: an output passed over its own input gives the answer of separate buffers.
TEST(fusion, outputs_in_place_and_over_inputs) {
  const uint32_t n = 5000;
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {n});
  const uint32_t e = b.node(OpCode::exp, DType::f64, {n}, {x});
  const uint32_t sx = b.node(OpCode::slice, DType::f64, {n - 1}, {x}, {1, 1});  // a view of the input
  const uint32_t r = b.node(OpCode::reshape, DType::f64, {n}, {e});           // a view of a step
  const uint32_t m = b.node(OpCode::mul, DType::f64, {n}, {r, x});
  b.output(m);
  b.output(e);
  b.output(sx);
  b.output(b.node(OpCode::reduce_sum, DType::f64, {}, {m}, {0, 0}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  CHECK_EQ(p->slot_offset(sx), -1);
  CHECK_EQ(p->slot_offset(r), -1);
  std::mt19937_64 rng(3);
  const std::vector<double> in = random_values<double>(n, rng, -1, 1);
  std::vector<std::vector<double>> expected;
  REQUIRE(run<double>(*p, {in}, &expected).ok());
  for (uint64_t i = 0; i < n; ++i) {
    CHECK(same(expected[0][i], std::exp(in[i]) * in[i]) || std::abs(expected[0][i] - std::exp(in[i]) * in[i]) < 1e-15);
  }
  CHECK(expected[2][0] == in[1]);
  // Output 0 written over the input buffer itself; output 1 over the front of output 2's buffer.
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<double> buf = in, out1(n), out2(n + n), out3(1);
    const InputView iv{buf.data(), DType::f64, n};
    std::vector<OutputView> ov;
    if (variant == 0) {
      ov = {OutputView{buf.data(), DType::f64, n}, OutputView{out1.data(), DType::f64, n},
            OutputView{out2.data(), DType::f64, n - 1}, OutputView{out3.data(), DType::f64, 1}};
    } else {
      ov = {OutputView{out2.data() + 1, DType::f64, n}, OutputView{out2.data(), DType::f64, n},
            OutputView{out1.data(), DType::f64, n - 1}, OutputView{out3.data(), DType::f64, 1}};
    }
    REQUIRE(p->run(std::span<const InputView>(&iv, 1), ov).ok());
    if (variant == 0) {
      CHECK(std::memcmp(buf.data(), expected[0].data(), n * 8) == 0);
      CHECK(std::memcmp(out1.data(), expected[1].data(), n * 8) == 0);
      CHECK(std::memcmp(out2.data(), expected[2].data(), (n - 1) * 8) == 0);
    } else {
      // Overlapping outputs are copied in order: output 1 lands last over output 0's front.
      CHECK(std::memcmp(out2.data(), expected[1].data(), n * 8) == 0);
      CHECK(out2[n] == expected[0][n - 1]);
      CHECK(std::memcmp(out1.data(), expected[2].data(), (n - 1) * 8) == 0);
    }
    CHECK(same(out3[0], expected[3][0]));
  }
}

// A chain of ten elementwise ops and a sum: one group; only the sum has a slot.
TEST(fusion, chain_keeps_values_in_block_buffers) {
  const uint32_t n = 100000;
  GraphBuilder b;
  uint32_t v = b.input(DType::f64, {n});
  std::vector<uint32_t> chain;
  for (int i = 0; i < 10; ++i) chain.push_back(v = b.node(i % 2 ? OpCode::sin : OpCode::square, DType::f64, {n}, {v}));
  const uint32_t s = b.node(OpCode::reduce_sum, DType::f64, {}, {v}, {0, 0});
  b.output(s);
  ProgramPtr fused, plain;
  REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &fused, true).ok());
  REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &plain, false).ok());
  CHECK_EQ(fused->num_fused_groups(), 1u);
  CHECK_EQ(fused->num_fused_steps(), 11u);
  CHECK_EQ(fused->num_steps(), 1u);
  for (uint32_t id : chain) CHECK_EQ(fused->slot_offset(id), -1);
  CHECK(fused->slot_offset(s) >= 0);
  CHECK(fused->arena_bytes() <= 64);
  CHECK(plain->arena_bytes() >= 2 * n * 8);
  std::mt19937_64 rng(5);
  const std::vector<std::vector<double>> in = {random_values<double>(n, rng)};
  std::string where;
  CHECK(same_bits(run_with_options<double>(*plain, in, RunOptions{}), run_with_options<double>(*fused, in, RunOptions{}), &where));
}

// The value and gradient of Σ 100(x[i+1] − x[i]²)² + (1 − x[i])², as the gradient of its two
// slices builds them: the loss, the reverse sweep over n − 1 elements and the two pads placing its
// results back into n (one a step on, read through a halo) run as one group in one pass; nothing
// but the outputs has a slot (the gradient's is used only when its buffer overlaps another).
TEST(fusion, shifted_slices_gradient_is_one_pass) {
  for (uint32_t n : {1025u, 100003u}) {
    GraphBuilder b;
    const DType t = DType::f64;
    const uint32_t x = b.input(t, {n});
    const uint32_t a = b.node(OpCode::slice, t, {n - 1}, {x}, {0, 1});
    const uint32_t c = b.node(OpCode::slice, t, {n - 1}, {x}, {1, 1});
    const uint32_t d = b.node(OpCode::sub, t, {n - 1}, {c, b.node(OpCode::square, t, {n - 1}, {a})});
    const uint32_t hundred = b.constant(t, {}, {100});
    const uint32_t onec = b.constant(t, {}, {1});
    const uint32_t e = b.node(OpCode::sub, t, {n - 1}, {onec, a});
    const uint32_t terms = b.node(OpCode::add, t, {n - 1}, {b.node(OpCode::mul, t, {n - 1}, {b.node(OpCode::square, t, {n - 1}, {d}), hundred}),
                                                           b.node(OpCode::square, t, {n - 1}, {e})});
    const uint32_t loss = b.node(OpCode::reduce_sum, t, {}, {terms}, {0, 0});
    const uint32_t seed = b.node(OpCode::broadcast_to, t, {n - 1}, {b.node(OpCode::reshape, t, {1}, {onec})});
    const uint32_t two = b.constant(t, {}, {2});
    const uint32_t ge = b.node(OpCode::neg, t, {n - 1}, {b.node(OpCode::safe_mul, t, {n - 1}, {seed, b.node(OpCode::mul, t, {n - 1}, {two, e})})});
    const uint32_t gd = b.node(OpCode::safe_mul, t, {n - 1}, {b.node(OpCode::safe_mul, t, {n - 1}, {seed, hundred}), b.node(OpCode::mul, t, {n - 1}, {two, d})});
    const uint32_t ga = b.node(OpCode::safe_mul, t, {n - 1}, {b.node(OpCode::neg, t, {n - 1}, {gd}), b.node(OpCode::mul, t, {n - 1}, {two, a})});
    const uint32_t zero = b.constant(t, {}, {0});
    const uint32_t front = b.node(OpCode::pad, t, {n}, {b.node(OpCode::add, t, {n - 1}, {ge, ga}), zero}, {0, 1, 0});
    const uint32_t back = b.node(OpCode::pad, t, {n}, {gd, zero}, {1, 0, 0});
    b.output(loss);
    b.output(b.node(OpCode::add, t, {n}, {front, back}));
    ProgramPtr fused, plain;
    REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &fused, true).ok());
    REQUIRE(Program::compile(b.bytes().data(), b.bytes().size(), std::size_t{1} << 30, &plain, false).ok());
    CHECK_EQ(fused->num_fused_groups(), 1u);
    CHECK_EQ(fused->num_steps(), 1u);
    const uint64_t outputs = (uint64_t{n} * 8 + 63) / 64 * 64 + 8;
    if (fused->arena_bytes() != outputs) fail(__FILE__, __LINE__, "arena " + std::to_string(fused->arena_bytes()) + " bytes, want " + std::to_string(outputs));
    CHECK(plain->arena_bytes() >= 3 * (n - 1) * 8);
    std::mt19937_64 rng(n);
    std::vector<std::vector<double>> in = {random_values<double>(n, rng, -2, 2)};
    const std::vector<std::vector<double>> expected = run_with_options<double>(*plain, in, RunOptions{});
    // The hand-written gradient, to the rounding of the sum.
    double f = 0;
    for (uint32_t i = 0; i + 1 < n; ++i) {
      const double u = in[0][i + 1] - in[0][i] * in[0][i], v = 1 - in[0][i];
      f += 100 * u * u + v * v;
      const double gi = -400 * u * in[0][i] - 2 * v + (i > 0 ? 200 * (in[0][i] - in[0][i - 1] * in[0][i - 1]) : 0);
      CHECK(std::abs(expected[1][i] - gi) <= 1e-12 * (1 + std::abs(gi)));
    }
    CHECK(std::abs(expected[0][0] - f) <= 1e-12 * f);
    std::string where;
    ThreadsGuard guard;
    for (unsigned threads : {1u, 2u, 4u}) {
      REQUIRE(wengert::set_engine_threads(threads));
      RunOptions opts;
      opts.parallel = &wengert::engine_threads();
      CHECK(same_bits(expected, run_with_options<double>(*fused, in, opts), &where));
    }
    // checkFinite: x[512] = 1e300 overflows x[i]² at element 512 (a block's first) and
    // (x[i+1] − x[i]²)² at element 511, which the next block's halo computes again; the message
    // is the unfused run's.
    RunOptions check;
    check.check_finite = true;
    Status sf, sp;
    run_with_options<double>(*fused, in, check, &sf);
    CHECK(sf.ok());
    in[0][512] = 1e300;
    run_with_options<double>(*fused, in, check, &sf);
    run_with_options<double>(*plain, in, check, &sp);
    CHECK(sf.code == ErrorCode::non_finite);
    CHECK_EQ(sf.message, sp.message);
  }
}

// checkFinite in a group names the first member in step order that holds a non-finite value,
// even when a later member's bad element comes earlier in the array.
TEST(fusion, check_finite_names_the_first_member) {
  const uint32_t n = 50000;
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {n});
  const uint32_t y = b.node(OpCode::square, DType::f64, {n}, {x});
  const uint32_t l = b.node(OpCode::log, DType::f64, {n}, {x});      // NaN where x < 0
  const uint32_t r = b.node(OpCode::reciprocal, DType::f64, {n}, {y});  // inf where x == 0
  const uint32_t z = b.node(OpCode::add, DType::f64, {n}, {l, r});
  b.output(b.node(OpCode::reduce_sum, DType::f64, {}, {z}, {0, 0}));
  ProgramPtr p;
  REQUIRE(compile(b.bytes(), &p).ok());
  CHECK_EQ(p->num_fused_groups(), 1u);
  std::vector<double> in(n, 1.0);
  in[40000] = -1.0;  // log: NaN at 40000
  in[30000] = 0.0;   // log: -inf at 30000, reciprocal: inf at 30000
  RunOptions check;
  check.check_finite = true;
  Status s;
  run_with_options<double>(*p, {in}, check, &s);
  CHECK(s.code == ErrorCode::non_finite);
  CHECK(s.message.find("node 2 (log, float64[50000]): element 30000 is -Infinity") != std::string::npos);
  in[30000] = 2.0;
  run_with_options<double>(*p, {in}, check, &s);
  CHECK(s.message.find("node 2 (log, float64[50000]): element 40000 is NaN") != std::string::npos);
}

// A full sum adds in the documented order (sum_order.h): chunks of 16384 elements (larger when
// there would be over 256 of them), each in eight lanes, then the chunk totals in order; fused
// or not, on any thread count.
template <class T>
T lane_order_sum(const std::vector<T>& x) {
  const uint64_t n = x.size();
  uint64_t chunk = n < 32768 ? std::max<uint64_t>(n, 1) : 16384;
  if (n >= 32768 && (n + chunk - 1) / chunk > 256) chunk = ((n + 255) / 256 + 16383) / 16384 * 16384;
  T total = 0;
  for (uint64_t b = 0; b < n; b += chunk) {
    T lane[8] = {};
    for (uint64_t i = b; i < std::min(n, b + chunk); ++i) lane[(i - b) % 8] += x[i];
    total += ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
  }
  return total;
}

template <class T>
void check_sum_order() {
  ThreadsGuard guard;
  std::mt19937_64 rng(17);
  for (uint32_t n : {1u, 7u, 8u, 9u, 1000u, 1500u, 40000u, 70001u, 5000003u}) {
    for (bool fuse_it : {false, true}) {
      GraphBuilder b;
      const uint32_t x = b.input(dtype_of<T>(), {n});
      const uint32_t y = fuse_it ? b.node(OpCode::square, dtype_of<T>(), {n}, {x}) : x;
      b.output(b.node(OpCode::reduce_sum, dtype_of<T>(), {}, {y}, {0, 0}));
      ProgramPtr p;
      REQUIRE(compile(b.bytes(), &p).ok());
      CHECK_EQ(p->num_fused_groups(), fuse_it && n >= wengert::kFuseMin ? 1u : 0u);
      std::vector<std::vector<T>> in = {random_values<T>(n, rng, -1, 1)};
      std::vector<T> summed = in[0];
      if (fuse_it) {
        for (T& v : summed) v = v * v;
      }
      const T expected = lane_order_sum(summed);
      for (unsigned threads : {1u, 2u, 4u}) {
        REQUIRE(wengert::set_engine_threads(threads));
        RunOptions opts;
        opts.parallel = &wengert::engine_threads();
        const T got = run_with_options<T>(*p, in, opts)[0][0];
        if (std::memcmp(&got, &expected, sizeof(T)) != 0) {
          fail(__FILE__, __LINE__, "n = " + std::to_string(n) + (fuse_it ? " fused" : "") + ", " + std::to_string(threads) +
                                       " threads: " + std::to_string(double(got)) + " vs " + std::to_string(double(expected)));
        }
      }
    }
  }
}

TEST(fusion, full_sums_add_in_the_documented_order_f64) { check_sum_order<double>(); }
TEST(fusion, full_sums_add_in_the_documented_order_f32) { check_sum_order<float>(); }

}  // namespace
}  // namespace wt
