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

TEST(kernels, tape_pair_handlers_are_distinct_and_only_for_pair_ops) {
  std::set<uint16_t> seen;
  for (TapeCode a : kPairOps64) {
    for (TapeCode b : kPairOps64) {
      for (bool f32 : {false, true}) {
        const TapeCode x = f32 ? as_f32(a) : a, y = f32 ? as_f32(b) : b;
        const uint16_t h = wengert::tape_pair_handler(x, y);
        CHECK(h >= wengert::kTapeCodes && h < wengert::kTapeHandlers);
        CHECK(seen.insert(h).second);
        // Mixed dtypes never pair.
        CHECK_EQ(wengert::tape_pair_handler(x, f32 ? b : as_f32(b)), 0);
      }
    }
  }
  CHECK_EQ(seen.size(), std::size_t{wengert::kTapeHandlers - wengert::kTapeCodes});
  CHECK_EQ(wengert::tape_pair_handler(TapeCode::exp_f64, TapeCode::add_f64), 0);
  CHECK_EQ(wengert::tape_pair_handler(TapeCode::add_f64, TapeCode::div_f64), 0);

  // Greedy pairing within a run: add mul | exp | sub sub | add (the last alone: nothing follows).
  std::vector<TapeOp> ops = {{TapeCode::add_f64, 0, 0, 0, 0}, {TapeCode::mul_f64, 0, 0, 0, 0},
                             {TapeCode::exp_f64, 0, 0, 0, 0}, {TapeCode::sub_f64, 0, 0, 0, 0},
                             {TapeCode::sub_f64, 0, 0, 0, 0}, {TapeCode::add_f64, 0, 0, 0, 0}};
  wengert::tape_assign_handlers(ops.data(), ops.size());
  CHECK_EQ(ops[0].handler, wengert::tape_pair_handler(TapeCode::add_f64, TapeCode::mul_f64));
  CHECK_EQ(ops[1].handler, uint16_t(TapeCode::mul_f64));
  CHECK_EQ(ops[2].handler, uint16_t(TapeCode::exp_f64));
  CHECK_EQ(ops[3].handler, wengert::tape_pair_handler(TapeCode::sub_f64, TapeCode::sub_f64));
  CHECK_EQ(ops[5].handler, uint16_t(TapeCode::add_f64));
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
    const auto slot = [&]() { return static_cast<uint32_t>(rng() % kSlots) * 8; };
    const uint32_t a = slot();
    ops.push_back(TapeOp{c, 0, slot(), a, c == TapeCode::neg_f64 || c == as_f32(TapeCode::neg_f64) ? a : slot()});
  }
  std::vector<uint8_t> init(kSlots * 8);
  for (uint32_t s = 0; s < kSlots; ++s) {
    const T x = tape_value<T>(rng);
    std::memcpy(init.data() + s * 8, &x, sizeof(T));
  }
  std::vector<uint8_t> threaded = init, portable = init, expected = init;
  const wengert::TapeRunner fast = wengert::select_tape_runner();
  const wengert::TapeRunner slow = wengert::select_tape_runner(true);
  std::size_t paired = 0;
  for (std::size_t begin = 0; begin < ops.size();) {
    const std::size_t n = std::min<std::size_t>(ops.size() - begin, 1 + rng() % 9);
    wengert::tape_assign_handlers(ops.data() + begin, n);
    for (std::size_t i = begin; i < begin + n; ++i) paired += ops[i].handler >= wengert::kTapeCodes;
    fast(ops.data() + begin, n, threaded.data());
    slow(ops.data() + begin, n, portable.data());
    begin += n;
  }
  CHECK(paired > ops.size() / 4);  // most runs are long enough to pair
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
    std::vector<InputView> iv;
    for (const auto& x : in) iv.push_back(InputView{x.data(), t, x.size()});
    std::vector<std::vector<T>> fast, generic;
    for (auto* outs : {&fast, &generic}) {
      for (const auto& spec : p->output_specs()) outs->emplace_back(spec.length);
    }
    const auto views = [&](std::vector<std::vector<T>>& outs) {
      std::vector<OutputView> ov;
      for (auto& o : outs) ov.push_back(OutputView{o.data(), t, o.size()});
      return ov;
    };
    wengert::RunOptions generic_only;
    generic_only.generic_only = true;
    REQUIRE(p->run(iv, views(fast)).ok());
    REQUIRE(p->run(iv, views(generic), generic_only).ok());
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

}  // namespace
}  // namespace wt
