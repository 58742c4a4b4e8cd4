// Every kernel against a naive reference, for float64 and float32. Elementwise ops are covered
// through the generated X-macro lists, so a new op in ops.json is tested without a test edit; a
// test fails if any op in kOps is covered by no test here.
#include <algorithm>
#include <set>
#include <string>

#include "simd_ulp.h"
#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

template <class T, class F>
void check_unary(const char* name) {
  std::mt19937_64 rng(7);
  GraphBuilder b;
  const Dims d = {3, 4};
  const uint32_t x = b.input(dtype_of<T>(), d);
  b.output(b.node(op_named(name), dtype_of<T>(), d, {x}));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, std::string(name) + ": " + s.message);
  std::vector<std::vector<T>> in = {random_values<T>(12, rng)}, out;
  in[0][0] = T(0);
  in[0][1] = T(-0.0);
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  // An op with vector math (ops.json "simd") agrees with its C-library functor within the
  // function's stated bound plus the C library's own error (2 ulp); every other op exactly.
  const wengert::vm::VecOpSpec* spec = vec_spec(name);
  const long double tol = spec ? (sizeof(T) == 8 ? spec->ulp_f64 : spec->ulp_f32) + 2 : 0;
  for (std::size_t i = 0; i < 12; ++i) {
    const T want = F::template apply<T>(in[0][i]);
    if (spec ? !(ulp_distance(out[0][i], want) <= tol) : !same(out[0][i], want)) {
      fail(__FILE__, __LINE__, std::string(name) + " element " + std::to_string(i));
    }
  }
}

struct ShapePair {
  Dims a, b;
};
const std::vector<ShapePair> kBinaryShapes = {
    {{3, 4}, {3, 4}},       {{3, 1}, {1, 4}}, {{}, {2, 3}},       {{2, 3}, {}},     {{4}, {2, 3, 4}},
    {{2, 1, 4}, {3, 1}},    {{1, 3}, {3}},    {{2, 3, 1}, {2, 1, 5}}, {{0, 3}, {1, 3}}, {{1}, {1}},
};

template <class T, class F>
void check_binary(const char* name) {
  std::mt19937_64 rng(11);
  for (const ShapePair& sp : kBinaryShapes) {
    const Dims od = broadcast_dims(sp.a, sp.b);
    GraphBuilder b;
    const uint32_t x = b.input(dtype_of<T>(), sp.a);
    const uint32_t y = b.input(dtype_of<T>(), sp.b);
    b.output(b.node(op_named(name), dtype_of<T>(), od, {x, y}));
    ProgramPtr p;
    const Status s = compile(b.bytes(), &p);
    if (!s.ok()) return fail(__FILE__, __LINE__, std::string(name) + ": " + s.message);
    std::vector<std::vector<T>> in = {random_values<T>(count(sp.a), rng, 0.1, 3),
                                      random_values<T>(count(sp.b), rng, -2, 2)},
                                out;
    if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
    for (uint64_t i = 0; i < count(od); ++i) {
      const Dims idx = unravel(i, od);
      const T want = F::template apply<T>(in[0][broadcast_index(idx, sp.a)], in[1][broadcast_index(idx, sp.b)]);
      if (!same(out[0][i], want)) {
        fail(__FILE__, __LINE__, std::string(name) + " element " + std::to_string(i));
        break;
      }
    }
  }
}

}  // namespace
}  // namespace wt


namespace wt {
namespace {

TEST(kernels, unary_ops_match_scalar_reference) {
#define WT_UNARY(name)                                         \
  check_unary<double, wengert::scalar::name>(#name);           \
  check_unary<float, wengert::scalar::name>(#name);
  WENGERT_FOR_EACH_UNARY_OP(WT_UNARY)
#undef WT_UNARY
}

TEST(kernels, binary_ops_broadcast_like_numpy) {
#define WT_BINARY(name)                                        \
  check_binary<double, wengert::scalar::name>(#name);          \
  check_binary<float, wengert::scalar::name>(#name);
  WENGERT_FOR_EACH_BINARY_OP(WT_BINARY)
#undef WT_BINARY
}

template <class T>
void check_reduce(const Dims& in_dims, const std::vector<int64_t>& axes, bool keep) {
  std::mt19937_64 rng(3);
  const Dims od = reduced_dims(in_dims, axes, keep);
  GraphBuilder b;
  const uint32_t x = b.input(dtype_of<T>(), in_dims);
  std::vector<int64_t> attrs = {keep ? 1 : 0};
  attrs.insert(attrs.end(), axes.begin(), axes.end());
  b.output(b.node(OpCode::reduce_sum, dtype_of<T>(), od, {x}, attrs));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {random_values<T>(count(in_dims), rng)}, out;
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  // Reference: every output element summed over its input elements in row-major order.
  std::vector<T> want(count(od), T(0));
  for (uint64_t i = 0; i < count(in_dims); ++i) {
    Dims idx = unravel(i, in_dims), oidx;
    for (std::size_t d = 0; d < in_dims.size(); ++d) {
      const bool red = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
      if (!red) oidx.push_back(idx[d]);
      else if (keep) oidx.push_back(0);
    }
    want[ravel(oidx, od)] += in[0][i];
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!close(out[0][i], want[i])) {
      fail(__FILE__, __LINE__, "reduce_sum element " + std::to_string(i));
      break;
    }
  }
}

TEST(kernels, reduce_sum_over_each_axis_set) {
  const Dims d = {2, 3, 4};
  const std::vector<std::vector<int64_t>> axis_sets = {{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (const auto& axes : axis_sets) {
    for (bool keep : {false, true}) {
      check_reduce<double>(d, axes, keep);
      check_reduce<float>(d, axes, keep);
    }
  }
  check_reduce<double>({}, {}, false);
  check_reduce<double>({5}, {0}, false);
  check_reduce<double>({0, 3}, {0}, true);
  check_reduce<double>({3, 0}, {1}, false);
}

template <class T>
void check_gather(OpCode op, const Dims& in_dims, const Dims& out_dims, const std::vector<int64_t>& attrs) {
  std::mt19937_64 rng(5);
  GraphBuilder b;
  const uint32_t x = b.input(dtype_of<T>(), in_dims);
  b.output(b.node(op, dtype_of<T>(), out_dims, {x}, attrs));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {random_values<T>(count(in_dims), rng)}, out;
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  for (uint64_t i = 0; i < count(out_dims); ++i) {
    const Dims idx = unravel(i, out_dims);
    uint64_t src = i;
    if (op == OpCode::broadcast_to) src = broadcast_index(idx, in_dims);
    if (op == OpCode::transpose) {
      Dims in_idx(in_dims.size());
      for (std::size_t k = 0; k < attrs.size(); ++k) in_idx[attrs[k]] = idx[k];
      src = ravel(in_idx, in_dims);
    }
    if (!same(out[0][i], in[0][src])) {
      fail(__FILE__, __LINE__, "element " + std::to_string(i));
      break;
    }
  }
}

TEST(kernels, reshape_copies_in_order) {
  check_gather<double>(OpCode::reshape, {2, 3, 4}, {4, 6}, {});
  check_gather<float>(OpCode::reshape, {2, 3, 4}, {24}, {});
  check_gather<double>(OpCode::reshape, {1, 1}, {}, {});
  check_gather<double>(OpCode::reshape, {0, 3}, {3, 0}, {});
}

TEST(kernels, broadcast_to_matches_reference) {
  check_gather<double>(OpCode::broadcast_to, {3, 1}, {2, 3, 4}, {});
  check_gather<float>(OpCode::broadcast_to, {}, {2, 2}, {});
  check_gather<double>(OpCode::broadcast_to, {4}, {3, 4}, {});
  check_gather<double>(OpCode::broadcast_to, {1, 1}, {1, 1}, {});
  check_gather<float>(OpCode::broadcast_to, {2, 1, 3}, {2, 5, 3}, {});
}

TEST(kernels, transpose_every_perm) {
  std::vector<int64_t> perm = {0, 1, 2};
  const Dims d = {2, 3, 4};
  do {
    const Dims od = {d[perm[0]], d[perm[1]], d[perm[2]]};
    check_gather<double>(OpCode::transpose, d, od, perm);
    check_gather<float>(OpCode::transpose, d, od, perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
  check_gather<double>(OpCode::transpose, {2, 3}, {3, 2}, {1, 0});
  check_gather<double>(OpCode::transpose, {5}, {5}, {0});
  check_gather<double>(OpCode::transpose, {}, {}, {});
  check_gather<double>(OpCode::transpose, {2, 1, 3, 2}, {2, 3, 2, 1}, {3, 2, 0, 1});
}

template <class T>
void check_matmul(const Dims& batch, uint32_t m, uint32_t k, uint32_t n, bool ta, bool tb) {
  std::mt19937_64 rng(13);
  Dims ad = batch, bd = batch, od = batch;
  ad.push_back(ta ? k : m), ad.push_back(ta ? m : k);
  bd.push_back(tb ? n : k), bd.push_back(tb ? k : n);
  od.push_back(m), od.push_back(n);
  GraphBuilder b;
  const uint32_t x = b.input(dtype_of<T>(), ad);
  const uint32_t y = b.input(dtype_of<T>(), bd);
  b.output(b.node(OpCode::matmul, dtype_of<T>(), od, {x, y}, {ta ? 1 : 0, tb ? 1 : 0}));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {random_values<T>(count(ad), rng), random_values<T>(count(bd), rng)}, out;
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  const uint64_t nb = count(batch);
  for (uint64_t bi = 0; bi < nb; ++bi) {
    for (uint32_t i = 0; i < m; ++i) {
      for (uint32_t j = 0; j < n; ++j) {
        T acc = T(0);
        for (uint32_t p2 = 0; p2 < k; ++p2) {
          const T av = in[0][bi * m * k + (ta ? p2 * m + i : i * k + p2)];
          const T bv = in[1][bi * k * n + (tb ? j * k + p2 : p2 * n + j)];
          acc += av * bv;
        }
        if (!close(out[0][bi * m * n + i * n + j], acc)) {
          return fail(__FILE__, __LINE__, "matmul ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
        }
      }
    }
  }
}

TEST(kernels, matmul_all_transpose_flags_and_batches) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check_matmul<double>({}, 3, 4, 5, ta, tb);
      check_matmul<double>({2}, 3, 4, 5, ta, tb);
      check_matmul<float>({2}, 3, 4, 5, ta, tb);
      check_matmul<double>({2, 3}, 2, 3, 1, ta, tb);
      check_matmul<double>({}, 1, 1, 1, ta, tb);
      check_matmul<double>({2}, 3, 0, 2, ta, tb);
      check_matmul<double>({}, 17, 33, 9, ta, tb);
    }
  }
}

TEST(kernels, constants_are_read_from_the_pool) {
  for (DType t : {DType::f64, DType::f32}) {
    GraphBuilder b;
    const uint32_t c = b.constant(t, {2, 2}, {1.5, -2, 3.25, 4});
    const uint32_t c2 = b.constant(t, {}, {10});
    const uint32_t x = b.input(t, {2, 2});
    b.output(b.node(OpCode::add, t, {2, 2}, {c, x}));
    b.output(c);
    b.output(b.node(OpCode::mul, t, {2, 2}, {c2, c}));
    ProgramPtr p;
    const Status s = compile(b.bytes(), &p);
    REQUIRE(s.ok());
    if (t == DType::f64) {
      std::vector<std::vector<double>> in = {{1, 2, 3, 4}}, out;
      REQUIRE(run(*p, in, &out).ok());
      CHECK((out[0] == std::vector<double>{2.5, 0, 6.25, 8}));
      CHECK((out[1] == std::vector<double>{1.5, -2, 3.25, 4}));
      CHECK((out[2] == std::vector<double>{15, -20, 32.5, 40}));
    } else {
      std::vector<std::vector<float>> in = {{1, 2, 3, 4}}, out;
      REQUIRE(run(*p, in, &out).ok());
      CHECK((out[0] == std::vector<float>{2.5f, 0, 6.25f, 8}));
      CHECK((out[2] == std::vector<float>{15, -20, 32.5f, 40}));
    }
  }
}

TEST(kernels, every_op_is_covered) {
  // Elementwise ops are covered through the X-macros above; the rest by the tests named here.
  std::set<std::string> covered = {"input", "constant", "reduce_sum", "reshape", "broadcast_to", "transpose", "matmul"};
  covered.insert({"cholesky", "triangular_solve", "lu", "lu_solve"});  // test_linalg.cpp
  covered.insert("where");  // test_elementwise.cpp
  covered.insert({"slice", "concat", "pad", "gather", "scatter_add", "one_hot", "cast"});  // test_shape_ops.cpp
  covered.insert({"reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin"});  // test_reduce.cpp
#define WT_COVER(name) covered.insert(#name);
  WENGERT_FOR_EACH_UNARY_OP(WT_COVER)
  WENGERT_FOR_EACH_BINARY_OP(WT_COVER)
#undef WT_COVER
  for (const wengert::OpInfo& op : wengert::kOps) {
    if (!covered.count(op.name)) fail(__FILE__, __LINE__, std::string("op ") + op.name + " has no kernel test");
    const bool leaf = op.kind == wengert::OpKind::input || op.kind == wengert::OpKind::constant;
    if (!leaf) {
      CHECK(wengert::select_kernel(static_cast<OpCode>(op.code), DType::f64) != nullptr);
      CHECK(wengert::select_kernel(static_cast<OpCode>(op.code), DType::f32) != nullptr);
    }
  }
}

// The scalar fast path (scalar_tape.h) against the generic path: random programs over every unary
// and binary elementwise op on scalars, with vector steps and reductions in between (so tapes
// are split), give the same bits with and without the tape, on the instruction set in use.
template <class T>
void check_tape_matches_kernels(uint64_t seed) {
  static const OpCode kUnary[] = {
#define WT_OP(name) OpCode::name,
      WENGERT_FOR_EACH_UNARY_OP(WT_OP)};
  static const OpCode kBinary[] = {WENGERT_FOR_EACH_BINARY_OP(WT_OP)
#undef WT_OP
  };
  std::mt19937_64 rng(seed);
  const DType t = dtype_of<T>();
  GraphBuilder b;
  std::vector<uint32_t> scalars = {b.input(t, {}), b.input(t, {}), b.constant(t, {}, {0.75})};
  // Whether each scalar depends on an input: one computed from the constant alone is folded at
  // compile time instead of running on the tape.
  std::vector<bool> varies = {true, true, false};
  std::size_t folded = 0;
  const uint32_t vec = b.input(t, {5});
  const std::size_t n_unary = std::size(kUnary), n_binary = std::size(kBinary);
  // Every op at least twice (one pass in order, one shuffled), then random ones.
  std::vector<std::size_t> order;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<std::size_t> o(n_unary + n_binary);
    for (std::size_t i = 0; i < o.size(); ++i) o[i] = i;
    if (pass == 1) std::shuffle(o.begin(), o.end(), rng);
    order.insert(order.end(), o.begin(), o.end());
  }
  for (int i = 0; i < 200; ++i) order.push_back(rng() % (n_unary + n_binary));
  for (std::size_t k = 0; k < order.size(); ++k) {
    // Prefer recent values (long dependency chains), with some reach back.
    bool var = false;
    auto pick = [&]() {
      const std::size_t at = scalars.size() - 1 - rng() % std::min<std::size_t>(scalars.size(), 6);
      var = var || varies[at];
      return scalars[at];
    };
    const std::size_t i = order[k];
    uint32_t v;
    if (i < n_unary) {
      v = b.node(kUnary[i], t, {}, {pick()});
    } else {
      const uint32_t x = pick(), y = pick();
      v = b.node(kBinary[i - n_unary], t, {}, {x, y});
    }
    scalars.push_back(v);
    varies.push_back(var);
    if (!var) ++folded;
    if (k % 37 == 36) {  // a vector step and a reduction back to a scalar
      const uint32_t m = b.node(OpCode::mul, t, {5}, {vec, v});
      scalars.push_back(b.node(OpCode::reduce_sum, t, {}, {m}, {0, 0}));
      varies.push_back(true);
    }
    b.output(v);  // every op is live, so every one is computed
  }
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  CHECK(p->num_tape_ops() + folded >= order.size());
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::vector<T>> in = {random_values<T>(1, rng, -2, 2), random_values<T>(1, rng, 0, 3),
                                      random_values<T>(5, rng, -1, 1)};
    wengert::RunOptions generic_only;
    generic_only.generic_only = true;
    Status fast_status, generic_status;
    const std::vector<std::vector<T>> fast = run_with_options<T>(*p, in, wengert::RunOptions{}, &fast_status);
    const std::vector<std::vector<T>> generic = run_with_options<T>(*p, in, generic_only, &generic_status);
    REQUIRE(fast_status.ok());
    REQUIRE(generic_status.ok());
    for (std::size_t o = 0; o < fast.size(); ++o) {
      for (std::size_t e = 0; e < fast[o].size(); ++e) {
        if (!same(fast[o][e], generic[o][e])) {
          return fail(__FILE__, __LINE__, "output " + std::to_string(o) + " differs: " + std::to_string(fast[o][e]) +
                                              " (tape) vs " + std::to_string(generic[o][e]) + " (kernels)");
        }
      }
    }
  }
}

TEST(kernels, scalar_tape_gives_the_kernels_bits_f64) {
  for (uint64_t seed = 1; seed <= 8; ++seed) check_tape_matches_kernels<double>(seed);
}
TEST(kernels, scalar_tape_gives_the_kernels_bits_f32) {
  for (uint64_t seed = 1; seed <= 8; ++seed) check_tape_matches_kernels<float>(seed);
}
}  // namespace
}  // namespace wt
