// The scalar tape's interpreter (scalar_tape.h, scalar_tape_run.h): the threaded runner with its
// pair handlers against the portable switch runner and against the plain scalar functors, the
// handler numbering, and whole programs of the paired ops against the generic kernel path. In
// the `kernels` group, so ctest runs these on every instruction set this CPU has.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "scalar_tape.h"
#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::TapeCode;
using wengert::TapeOp;

constexpr TapeCode kPairOps64[] = {
#define WT_PAIR_OP(name) TapeCode::name##_f64,
    WENGERT_FOR_EACH_TAPE_PAIR_OP(WT_PAIR_OP)
#undef WT_PAIR_OP
};

TapeCode as_f32(TapeCode c) { return static_cast<TapeCode>(static_cast<uint16_t>(c) | 1); }

TEST(kernels, tape_handlers_are_distinct_and_linked_only_for_pair_ops) {
  std::set<uint16_t> seen;
  for (TapeCode a : kPairOps64) {
    for (bool f32 : {false, true}) {
      const TapeCode x = f32 ? as_f32(a) : a;
      CHECK_EQ(wengert::tape_single_handler(x, 0), uint16_t(x));
      for (uint16_t link = 1; link < wengert::kTapeLinks; ++link) {
        const uint16_t h = wengert::tape_single_handler(x, link);
        CHECK(h >= wengert::kTapeLinkedSingles && h < wengert::kTapePairs);
        CHECK(seen.insert(h).second);
      }
      for (TapeCode b : kPairOps64) {
        const TapeCode y = f32 ? as_f32(b) : b;
        for (uint16_t link = 0; link < wengert::kTapeLinks; ++link) {
          for (uint16_t entry = 0; entry < wengert::kTapeLinks; ++entry) {
            const uint16_t h = wengert::tape_pair_handler(x, y, link, entry);
            CHECK(h >= wengert::kTapePairs && h < wengert::kTapeHandlers);
            CHECK(seen.insert(h).second);
            // Mixed dtypes never pair.
            CHECK_EQ(wengert::tape_pair_handler(x, f32 ? b : as_f32(b), link, entry), 0);
          }
        }
        CHECK_EQ(wengert::tape_pair_handler(x, y, wengert::kTapeLinks, 0), 0);
        CHECK_EQ(wengert::tape_pair_handler(x, y, 0, wengert::kTapeLinks), 0);
      }
    }
  }
  // Every handler above kTapeCodes but the linked singles' unused link-0 numbers.
  CHECK_EQ(seen.size() + 2 * wengert::kTapePairOps, std::size_t{wengert::kTapeHandlers - wengert::kTapeCodes});
  CHECK_EQ(wengert::tape_pair_handler(TapeCode::exp_f64, TapeCode::add_f64), 0);
  CHECK_EQ(wengert::tape_pair_handler(TapeCode::add_f64, TapeCode::div_f64), 0);
  CHECK_EQ(wengert::tape_single_handler(TapeCode::exp_f64, wengert::kTapeLinkA), uint16_t(TapeCode::exp_f64));

  // The link of an instruction to the previous one: its a, b or both are the previous dst (a
  // unary op's b is its a), in one dtype.
  const TapeOp prev{TapeCode::mul_f64, 0, 16, 0, 8};
  CHECK_EQ(wengert::tape_link(prev, TapeOp{TapeCode::add_f64, 0, 24, 16, 8}), wengert::kTapeLinkA);
  CHECK_EQ(wengert::tape_link(prev, TapeOp{TapeCode::add_f64, 0, 24, 8, 16}), wengert::kTapeLinkB);
  CHECK_EQ(wengert::tape_link(prev, TapeOp{TapeCode::mul_f64, 0, 16, 16, 16}), wengert::kTapeLinkA | wengert::kTapeLinkB);
  CHECK_EQ(wengert::tape_link(prev, TapeOp{TapeCode::neg_f64, 0, 24, 16, 16}), wengert::kTapeLinkA | wengert::kTapeLinkB);
  CHECK_EQ(wengert::tape_link(prev, TapeOp{TapeCode::add_f64, 0, 16, 0, 8}), 0);
  CHECK_EQ(wengert::tape_link(prev, TapeOp{as_f32(TapeCode::add_f64), 0, 24, 16, 8}), 0);

  // Pairing within a run, greedily: add mul | exp | sub sub | add (the last alone: nothing
  // follows). Links: mul reads add's dst (b: the pair's inner link), exp reads mul's (exp has no
  // linked variants: it reads memory), the first sub reads exp's value (a: the pair's entry), the
  // second sub nothing before it, the last add the second sub's value (a and b).
  std::vector<TapeOp> ops = {{TapeCode::add_f64, 0, 0, 8, 16},    {TapeCode::mul_f64, 0, 24, 32, 0},
                             {TapeCode::exp_f64, 0, 48, 24, 24},  {TapeCode::sub_f64, 0, 64, 48, 80},
                             {TapeCode::sub_f64, 0, 88, 96, 104}, {TapeCode::add_f64, 0, 112, 88, 88}};
  wengert::tape_assign_handlers(ops.data(), ops.size());
  CHECK_EQ(ops[0].handler, wengert::tape_pair_handler(TapeCode::add_f64, TapeCode::mul_f64, wengert::kTapeLinkB, 0));
  CHECK_EQ(ops[1].handler, uint16_t(TapeCode::mul_f64));
  CHECK_EQ(ops[2].handler, uint16_t(TapeCode::exp_f64));
  CHECK_EQ(ops[3].handler, wengert::tape_pair_handler(TapeCode::sub_f64, TapeCode::sub_f64, 0, wengert::kTapeLinkA));
  CHECK_EQ(ops[5].handler,
           wengert::tape_single_handler(TapeCode::add_f64, wengert::kTapeLinkA | wengert::kTapeLinkB));
  // A run's first instruction has no link, whatever its operands.
  std::vector<TapeOp> tail(ops.begin() + 5, ops.end());
  wengert::tape_assign_handlers(tail.data(), tail.size());
  CHECK_EQ(tail[0].handler, uint16_t(TapeCode::add_f64));
}

// A value a gradient meets: ordinary numbers, zeros of both signs, infinities, NaN.
template <class T>
T tape_value(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0: return T(0);
    case 1: return -T(0);
    case 2: return std::numeric_limits<T>::infinity();
    case 3: return std::numeric_limits<T>::quiet_NaN();
    default: return static_cast<T>(std::uniform_real_distribution<double>(-3, 3)(rng));
  }
}

// slots[dst] = op(slots[a], slots[b]) with the op's scalar functor, one instruction at a time.
template <class T>
void reference_tape(const std::vector<TapeOp>& ops, std::vector<uint8_t>* slots) {
  for (const TapeOp& o : ops) {
    T x, y, z{};
    std::memcpy(&x, slots->data() + o.a, sizeof(T));
    std::memcpy(&y, slots->data() + o.b, sizeof(T));
    const uint16_t f64_code = static_cast<uint16_t>(o.code) & ~uint16_t{1};
#define WT_REF(name)                                                                                \
  if (f64_code == uint16_t(TapeCode::name##_f64)) z = wengert::scalar::name::apply(x, y);
#define WT_REF_UNARY(name) \
  if (f64_code == uint16_t(TapeCode::name##_f64)) z = wengert::scalar::name::apply(x);
    WT_REF(add) WT_REF(sub) WT_REF(mul) WT_REF(safe_mul) WT_REF_UNARY(neg)
#undef WT_REF
#undef WT_REF_UNARY
    std::memcpy(slots->data() + o.dst, &z, sizeof(T));
  }
}

// Random tapes of the paired ops (every pair many times, chains through recent slots, operands
// that alias the destination), run in runs of random length as Program splits them: the threaded
// runner, the portable runner and the scalar functors agree bit for bit.
template <class T>
void check_runners_agree(uint64_t seed) {
  std::mt19937_64 rng(seed);
  constexpr uint32_t kSlots = 24;
  std::vector<TapeOp> ops;
  for (int i = 0; i < 4000; ++i) {
    TapeCode c = kPairOps64[rng() % std::size(kPairOps64)];
    if (sizeof(T) == 4) c = as_f32(c);
    // Operands are often the previous op's result, so many pairs are linked (each way).
    const auto slot = [&]() {
      if (!ops.empty() && rng() % 3 == 0) return ops.back().dst;
      return static_cast<int32_t>(rng() % kSlots) * 8;
    };
    const int32_t a = slot();
    const int32_t b = c == TapeCode::neg_f64 || c == as_f32(TapeCode::neg_f64) ? a : slot();
    ops.push_back(TapeOp{c, 0, static_cast<int32_t>(rng() % kSlots) * 8, a, b});
  }
  std::vector<uint8_t> init(kSlots * 8);
  for (uint32_t s = 0; s < kSlots; ++s) {
    const T x = tape_value<T>(rng);
    std::memcpy(init.data() + s * 8, &x, sizeof(T));
  }
  std::vector<uint8_t> threaded = init, portable = init, expected = init;
  const wengert::TapeRunner fast = wengert::select_tape_runner();
  const wengert::TapeRunner slow = wengert::select_tape_runner(true);
  // Runs in each linked variant: [link of the pair's second op][link of the pair's first op] and
  // singles by link.
  std::size_t paired = 0, pair_links[wengert::kTapeLinks][wengert::kTapeLinks] = {}, single_links[wengert::kTapeLinks] = {};
  for (std::size_t begin = 0; begin < ops.size();) {
    const std::size_t n = std::min<std::size_t>(ops.size() - begin, 1 + rng() % 9);
    wengert::tape_assign_handlers(ops.data() + begin, n);
    for (std::size_t i = begin; i < begin + n; ++i) {
      const uint16_t entry = i == begin ? 0 : wengert::tape_link(ops[i - 1], ops[i]);
      if (ops[i].handler >= wengert::kTapePairs) {
        ++paired;
        const uint16_t link = wengert::tape_link(ops[i], ops[i + 1]);
        ++pair_links[link][entry];
        CHECK_EQ(ops[i].handler, wengert::tape_pair_handler(ops[i].code, ops[i + 1].code, link, entry));
        ++i;
      } else {
        ++single_links[entry];
        CHECK_EQ(ops[i].handler, wengert::tape_single_handler(ops[i].code, entry));
      }
    }
    fast(ops.data() + begin, n, threaded.data());
    slow(ops.data() + begin, n, portable.data());
    begin += n;
  }
  CHECK(paired > ops.size() / 4);  // most runs are long enough to pair
  for (uint16_t link = 0; link < wengert::kTapeLinks; ++link) {
    for (uint16_t entry = 0; entry < wengert::kTapeLinks; ++entry) CHECK(pair_links[link][entry] > 5);  // each variant runs
    CHECK(single_links[link] > 5);
  }
  reference_tape<T>(ops, &expected);
  for (uint32_t s = 0; s < kSlots; ++s) {
    T x, y, z;
    std::memcpy(&x, threaded.data() + s * 8, sizeof(T));
    std::memcpy(&y, portable.data() + s * 8, sizeof(T));
    std::memcpy(&z, expected.data() + s * 8, sizeof(T));
    if (!same(x, z) || !same(y, z)) {
      return fail(__FILE__, __LINE__, "slot " + std::to_string(s) + ": threaded " + std::to_string(x) + ", portable " +
                                          std::to_string(y) + ", functors " + std::to_string(z));
    }
  }
}

TEST(kernels, tape_runners_agree_on_paired_ops_f64) {
  for (uint64_t seed = 1; seed <= 20; ++seed) check_runners_agree<double>(seed);
}
TEST(kernels, tape_runners_agree_on_paired_ops_f32) {
  for (uint64_t seed = 1; seed <= 20; ++seed) check_runners_agree<float>(seed);
}

// safe_mul (computed without a branch on the tape) where its first operand is +0 or -0 is +0,
// whatever the second (inf, NaN); otherwise the product, with its sign.
template <class T>
void check_safe_mul_bits() {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T xs[] = {T(0), -T(0), T(2), -T(3), inf, nan};
  const T ys[] = {T(0), -T(0), T(5), -T(1.5), inf, -inf, nan};
  const TapeCode code = sizeof(T) == 8 ? TapeCode::safe_mul_f64 : as_f32(TapeCode::safe_mul_f64);
  for (T x : xs) {
    for (T y : ys) {
      for (bool portable : {false, true}) {
        uint8_t slots[24] = {};
        std::memcpy(slots, &x, sizeof(T));
        std::memcpy(slots + 8, &y, sizeof(T));
        TapeOp op{code, 0, 16, 0, 8};
        wengert::tape_assign_handlers(&op, 1);
        wengert::select_tape_runner(portable)(&op, 1, slots);
        T z;
        std::memcpy(&z, slots + 16, sizeof(T));
        const T want = wengert::scalar::safe_mul::apply(x, y);
        if (!same(z, want)) {
          fail(__FILE__, __LINE__, "safe_mul(" + std::to_string(x) + ", " + std::to_string(y) + ") = " +
                                       std::to_string(z) + ", want " + std::to_string(want));
        }
        if (x == T(0)) CHECK(!std::signbit(z) && z == T(0));
      }
    }
  }
}

TEST(kernels, tape_safe_mul_keeps_the_functors_bits) {
  check_safe_mul_bits<double>();
  check_safe_mul_bits<float>();
}

// A linked pair passes the product to the sum in a register: the sum must still round the product
// first (as the kernels do), never fuse both into one FMA. With x = 1 + e and y = 1 - e (e = 2^-30
// in f64, 2^-13 in f32) the product 1 - e² rounds to 1, so x·y - 1, x·y + (-1) and 1 - x·y are 0;
// fused, they would be ∓e².
template <class T>
void check_linked_product_is_rounded() {
  const T e = sizeof(T) == 8 ? T(std::ldexp(1.0, -30)) : T(std::ldexp(1.0, -13));
  const T values[] = {T(1) + e, T(1) - e, T(-1), T(1)};
  const TapeCode mul = sizeof(T) == 8 ? TapeCode::mul_f64 : as_f32(TapeCode::mul_f64);
  const TapeCode add = sizeof(T) == 8 ? TapeCode::add_f64 : as_f32(TapeCode::add_f64);
  const TapeCode sub = sizeof(T) == 8 ? TapeCode::sub_f64 : as_f32(TapeCode::sub_f64);
  // slots 0..3: the values; 32: the product; 40: the result; 48: scratch. The sum runs in a pair
  // with the product (linked inside the pair) or, after an unrelated first instruction that
  // pairs with the product, as a single linked to the pair.
  const TapeOp seconds[] = {{add, 0, 40, 32, 16}, {add, 0, 40, 16, 32}, {sub, 0, 40, 32, 24}, {sub, 0, 40, 24, 32}};
  for (const TapeOp& second : seconds) {
    for (bool across : {false, true}) {
      for (bool portable : {false, true}) {
        uint8_t slots[56] = {};
        for (int k = 0; k < 4; ++k) std::memcpy(slots + 8 * k, &values[k], sizeof(T));
        std::vector<TapeOp> ops = {{mul, 0, 32, 0, 8}, second};
        if (across) ops.insert(ops.begin(), TapeOp{add, 0, 48, 0, 8});
        wengert::tape_assign_handlers(ops.data(), ops.size());
        const std::size_t last = ops.size() - 1;
        const uint16_t link = wengert::tape_link(ops[last - 1], ops[last]);
        CHECK(link != 0);
        if (across) {
          CHECK_EQ(ops[last].handler, wengert::tape_single_handler(second.code, link));
        } else {
          CHECK_EQ(ops[0].handler, wengert::tape_pair_handler(mul, second.code, link));
        }
        wengert::select_tape_runner(portable)(ops.data(), ops.size(), slots);
        T product, z;
        std::memcpy(&product, slots + 32, sizeof(T));
        std::memcpy(&z, slots + 40, sizeof(T));
        CHECK_EQ(product, T(1));
        if (!same(z, T(0))) fail(__FILE__, __LINE__, "linked product: " + std::to_string(double(z)) + ", want 0");
      }
    }
  }
}

TEST(kernels, tape_linked_products_are_rounded_before_the_sum) {
  check_linked_product_is_rounded<double>();
  check_linked_product_is_rounded<float>();
}

// A long program of the paired ops on scalars (more instructions than one tape run holds, so
// pairs meet run ends), through Program: the fast path gives the generic kernels' bits.
template <class T>
void check_paired_program(uint64_t seed) {
  const OpCode kOps[] = {OpCode::add, OpCode::sub, OpCode::mul, OpCode::safe_mul, OpCode::neg};
  std::mt19937_64 rng(seed);
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const std::vector<uint32_t> inputs = {b.input(t, {}), b.input(t, {}), b.input(t, {})};
  // Blocks of 12 ops, each reading the inputs and its own recent values, so values stay finite
  // (one long chain of products would overflow). Every value is an output, so every op runs.
  std::vector<uint32_t> block;
  for (int i = 0; i < 9000; ++i) {
    const OpCode op = kOps[rng() % std::size(kOps)];
    const auto pick = [&]() {
      if (block.empty() || rng() % 3 == 0) return inputs[rng() % 3];
      return block[block.size() - 1 - rng() % std::min<std::size_t>(block.size(), 4)];
    };
    const uint32_t x = pick();
    block.push_back(op == OpCode::neg ? b.node(op, t, {}, {x}) : b.node(op, t, {}, {x, pick()}));
    b.output(block.back());
    if (block.size() == 12) block.clear();
  }
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  CHECK_EQ(p->num_tape_ops(), std::size_t{9000});
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<std::vector<T>> in;
    for (int k = 0; k < 3; ++k) in.push_back({trial == 0 && k == 0 ? T(0) : static_cast<T>(0.9 + 0.2 * (rng() % 1000) / 1000.0)});
    wengert::RunOptions generic_only;
    generic_only.generic_only = true;
    Status fast_status, generic_status;
    const std::vector<std::vector<T>> fast = run_with_options<T>(*p, in, wengert::RunOptions{}, &fast_status);
    const std::vector<std::vector<T>> generic = run_with_options<T>(*p, in, generic_only, &generic_status);
    REQUIRE(fast_status.ok());
    REQUIRE(generic_status.ok());
    for (std::size_t o = 0; o < fast.size(); ++o) {
      if (!same(fast[o][0], generic[o][0])) {
        return fail(__FILE__, __LINE__, "output " + std::to_string(o) + ": tape " + std::to_string(fast[o][0]) +
                                            ", kernels " + std::to_string(generic[o][0]));
      }
    }
  }
}

TEST(kernels, tape_paired_programs_give_the_kernels_bits) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    check_paired_program<double>(seed);
    check_paired_program<float>(seed);
  }
}

// Small concats of computed values join the tape as element copies, in the kernel's order for
// any axis; one with an input operand, or a large one, stays a kernel call. Fast and generic
// runs give the same bits.
template <class T>
void check_concat_copies() {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const uint32_t x = b.input(t, {}), y = b.input(t, {}), v = b.input(t, {2});
  const uint32_t s1 = b.node(OpCode::mul, t, {}, {x, y}), s2 = b.node(OpCode::sub, t, {}, {x, y});
  const uint32_t r1 = b.node(OpCode::reshape, t, {1}, {s1}), r2 = b.node(OpCode::reshape, t, {1}, {s2});
  const uint32_t c2 = b.node(OpCode::concat, t, {2}, {r1, r2}, {0});      // 2 copies
  const uint32_t c3 = b.node(OpCode::concat, t, {3}, {r2, c2}, {0});      // 3 copies
  const uint32_t c5 = b.node(OpCode::concat, t, {5}, {c3, c2}, {0});      // 5 copies
  // Matrices built by concats (a reshape of more than one element is a view, which has no slot
  // for the tape to read, so its concat stays a kernel).
  const uint32_t q1 = b.node(OpCode::reshape, t, {1, 1}, {s1}), q2 = b.node(OpCode::reshape, t, {1, 1}, {s2});
  const uint32_t m = b.node(OpCode::concat, t, {2, 1}, {q1, q2}, {0});    // 2 copies
  const uint32_t row = b.node(OpCode::concat, t, {1, 2}, {q1, q2}, {1});  // 2 copies
  const uint32_t w = b.node(OpCode::concat, t, {2, 2}, {row, row}, {0});  // 4 copies
  const uint32_t c23 = b.node(OpCode::concat, t, {2, 3}, {m, w}, {1});    // axis 1: 6 copies
  const uint32_t cin = b.node(OpCode::concat, t, {4}, {c2, v}, {0});      // an input operand: a kernel
  uint32_t big = c5;
  // [10]: 10 copies; [20], [40]: kernels.
  for (int i = 0; i < 3; ++i) big = b.node(OpCode::concat, t, {b.nodes[big].dims[0] * 2}, {big, big}, {0});
  // A scalar computed from the concats, so tape runs continue after them.
  const uint32_t e = b.node(OpCode::add, t, {}, {s1, b.node(OpCode::reshape, t, {}, {b.node(OpCode::slice, t, {1}, {c5}, {3, 1})})});
  for (uint32_t o : {c2, c3, c5, c23, cin, big, e}) b.output(o);
  ProgramPtr p;
  const Status st = compile(b.bytes(), &p);
  if (!st.ok()) return fail(__FILE__, __LINE__, st.message);
  CHECK_EQ(p->num_tape_ops(), std::size_t{3 + 2 + 3 + 5 + 2 + 2 + 4 + 6 + 10});  // mul, sub, add and the copies
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 10; ++trial) {
    const std::vector<std::vector<T>> in = {{tape_value<T>(rng)}, {tape_value<T>(rng)}, {tape_value<T>(rng), T(1.5)}};
    std::vector<std::vector<T>> fast, generic;
    REQUIRE(run(*p, in, &fast).ok());
    std::vector<InputView> iv;
    for (const auto& a : in) iv.push_back(InputView{a.data(), t, a.size()});
    for (const auto& spec : p->output_specs()) generic.emplace_back(spec.length);
    std::vector<OutputView> ov;
    for (auto& o : generic) ov.push_back(OutputView{o.data(), t, o.size()});
    wengert::RunOptions generic_only;
    generic_only.generic_only = true;
    REQUIRE(p->run(iv, ov, generic_only).ok());
    for (std::size_t o = 0; o < fast.size(); ++o) {
      for (std::size_t k = 0; k < fast[o].size(); ++k) {
        if (!same(fast[o][k], generic[o][k])) {
          return fail(__FILE__, __LINE__, "output " + std::to_string(o) + "[" + std::to_string(k) + "]: tape " +
                                              std::to_string(fast[o][k]) + ", kernels " + std::to_string(generic[o][k]));
        }
      }
    }
    // The axis-1 concat of [[a], [b]] and [[a, b], [a, b]] is [[a, a, b], [b, a, b]].
    const std::vector<T>& z = fast[3];
    CHECK(same(z[0], fast[0][0]) && same(z[1], fast[0][0]) && same(z[2], fast[0][1]));
    CHECK(same(z[3], fast[0][1]) && same(z[4], fast[0][0]) && same(z[5], fast[0][1]));
  }
}

TEST(kernels, tape_small_concats_are_element_copies) {
  check_concat_copies<double>();
  check_concat_copies<float>();
}

// Constants the tape reads share a slot when their bits are equal (+0 and -0 do not), so each
// still reads its own value.
template <class T>
void check_shared_constants() {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const uint32_t x = b.input(t, {});
  const uint32_t two_a = b.constant(t, {}, {2.0}), two_b = b.constant(t, {}, {2.0});
  const uint32_t zero = b.constant(t, {}, {0.0}), minus_zero = b.constant(t, {}, {-0.0});
  b.output(b.node(OpCode::mul, t, {}, {x, two_a}));
  b.output(b.node(OpCode::add, t, {}, {x, two_b}));
  b.output(b.node(OpCode::div, t, {}, {x, zero}));
  b.output(b.node(OpCode::div, t, {}, {x, minus_zero}));
  ProgramPtr p;
  const Status st = compile(b.bytes(), &p);
  if (!st.ok()) return fail(__FILE__, __LINE__, st.message);
  CHECK_EQ(p->num_tape_ops(), std::size_t{4});
  std::vector<std::vector<T>> out;
  for (int rep = 0; rep < 2; ++rep) {  // the second run on the pooled arena
    REQUIRE(run(*p, std::vector<std::vector<T>>{{T(1)}}, &out).ok());
    CHECK_EQ(out[0][0], T(2));
    CHECK_EQ(out[1][0], T(3));
    CHECK(std::isinf(out[2][0]) && out[2][0] > 0);
    CHECK(std::isinf(out[3][0]) && out[3][0] < 0);
  }
}

TEST(kernels, tape_equal_constants_share_a_slot) {
  check_shared_constants<double>();
  check_shared_constants<float>();
}

}  // namespace
}  // namespace wt

namespace wt {
namespace {

// W6-like programs (Σ sin(x)·x + exp(−x²) and its gradient's ops) on values of n elements, with a
// scalar broadcast on either side of a binary op: steps of at most 64 elements run as small steps
// (Program::plan_calls), and give the kernels' bits (a NaN's sign aside): against the generic
// path, on the engine's threads, and over repeated runs of one arena with new inputs and outputs
// each time.
template <class T>
void check_small_steps(uint32_t n) {
  const DType t = dtype_of<T>();
  GraphBuilder b;
  const uint32_t x = b.input(t, {n});
  const uint32_t y = b.input(t, {});
  const uint32_t sx = b.node(OpCode::sin, t, {n}, {x});
  const uint32_t m = b.node(OpCode::mul, t, {n}, {sx, x});
  const uint32_t e = b.node(OpCode::exp, t, {n}, {b.node(OpCode::neg, t, {n}, {b.node(OpCode::square, t, {n}, {x})})});
  const uint32_t f = b.node(OpCode::add, t, {n}, {m, e});
  b.output(b.node(OpCode::reduce_sum, t, {}, {f}, {0, 0}));
  // The gradient's shape of ops: cos(x)·x + sin(x), −2x·exp(−x²), scaled by the scalar y.
  const uint32_t c = b.node(OpCode::cos, t, {n}, {x});
  const uint32_t g1 = b.node(OpCode::add, t, {n}, {b.node(OpCode::safe_mul, t, {n}, {c, x}), sx});
  const uint32_t g2 = b.node(OpCode::mul, t, {n}, {b.node(OpCode::mul, t, {n}, {x, e}), b.constant(t, {}, {-2.0})});
  const uint32_t g = b.node(OpCode::safe_mul, t, {n}, {y, b.node(OpCode::add, t, {n}, {g1, g2})});
  b.output(g);
  b.output(b.node(OpCode::div, t, {n}, {b.node(OpCode::sub, t, {n}, {g, y}), b.node(OpCode::abs, t, {n}, {f})}));
  b.output(f);
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  if (n > 1 && n <= 64) {
    CHECK(p->num_small_steps() >= 15);
  } else if (n > 64) {
    CHECK_EQ(p->num_small_steps(), std::size_t{0});
  }
  std::mt19937_64 rng(n);
  wengert::RunOptions generic_only, threaded;
  generic_only.generic_only = true;
  threaded.parallel = &wengert::engine_threads();
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<std::vector<T>> in = {std::vector<T>(n), {static_cast<T>(trial == 0 ? 0.0 : 0.5 + 0.25 * trial)}};
    for (uint32_t i = 0; i < n; ++i) in[0][i] = static_cast<T>(((rng() % 20001) / 10000.0 - 1.0) * 3);
    if (trial == 1) in[0][0] = T(0);  // safe_mul's zero
    if (trial == 3) {  // safe_mul keeps a NaN product and masks −0 to +0
      in[0][0] = -T(0);
      if (n > 1) in[0][n / 2] = std::numeric_limits<T>::quiet_NaN();
    }
    Status fs, gs;
    const auto fast = run_with_options<T>(*p, in, trial % 2 == 0 ? wengert::RunOptions{} : threaded, &fs);
    const auto generic = run_with_options<T>(*p, in, generic_only, &gs);
    REQUIRE(fs.ok());
    REQUIRE(gs.ok());
    // The same bits, but a NaN's sign and payload: which operand's NaN a product or sum of two
    // NaNs passes on depends on the order the compiler gave the operands in each loop.
    for (std::size_t o = 0; o < fast.size(); ++o) {
      for (std::size_t i = 0; i < fast[o].size(); ++i) {
        const T u = fast[o][i], v = generic[o][i];
        if (std::isnan(u) ? std::isnan(v) : std::memcmp(&u, &v, sizeof u) == 0) continue;
        return fail(__FILE__, __LINE__, "n = " + std::to_string(n) + ": output " + std::to_string(o) + " element " +
                                            std::to_string(i) + ": " + std::to_string(double(u)) + " vs " +
                                            std::to_string(double(v)));
      }
    }
    // The value is the W6 sum, added in the engine's order (sum_order.h), checked against a
    // plain sum within rounding: the small path computes the sum, not a stale value.
    if (trial == 3) continue;
    double plain = 0;
    for (uint32_t i = 0; i < n; ++i) plain += double(fast[3][i]);
    CHECK(std::fabs(double(fast[0][0]) - plain) <= 1e-5 * (1 + std::fabs(plain)));
  }
}

TEST(kernels, small_steps_give_the_kernels_bits) {
  for (uint32_t n = 1; n <= 33; ++n) {
    check_small_steps<double>(n);
    check_small_steps<float>(n);
  }
  for (uint32_t n : {63u, 64u, 65u, 100u}) {
    check_small_steps<double>(n);
    check_small_steps<float>(n);
  }
}

// A bad index still fails a run whose other steps are small steps, with the kernel's message, and
// the arena (with its prebuilt calls) serves the next run.
TEST(kernels, small_steps_keep_kernel_faults) {
  GraphBuilder b;
  const uint32_t x = b.input(DType::f64, {4});
  const uint32_t idx = b.input(DType::i32, {2});
  const uint32_t sx = b.node(OpCode::neg, DType::f64, {4}, {x});
  b.output(b.node(OpCode::gather, DType::f64, {2}, {sx, idx}, {0}));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  CHECK_EQ(p->num_small_steps(), std::size_t{1});
  const std::vector<double> xv = {1, 2, 3, 4};
  for (int32_t bad : {7, 1}) {
    const std::vector<int32_t> iv = {0, bad};
    std::vector<double> out(2);
    const InputView ins[] = {{xv.data(), DType::f64, 4}, {iv.data(), DType::i32, 2}};
    const OutputView outs[] = {{out.data(), DType::f64, 2}};
    const Status r = p->run(ins, outs);
    if (bad == 7) {
      CHECK(!r.ok());
      CHECK(r.message.find("gather") != std::string::npos);
    } else {
      REQUIRE(r.ok());
      CHECK_EQ(out[0], -1.0);
      CHECK_EQ(out[1], -2.0);
    }
  }
}

}  // namespace
}  // namespace wt
