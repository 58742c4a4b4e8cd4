// The reductions beyond reduce_sum: reduce_max, reduce_min and reduce_prod over every axis set of
// a rank-3 input against a naive reference (float64 and float32, NaN propagation, empty
// reductions), and argmax / argmin (int32 out: first index on ties, NaN wins) with their
// validation rules.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;


// Runs reduce op `name` on `x` and compares with combining the elements in row-major order.
template <class T, class F>
void check_reduce_op(const char* name, const Dims& in_dims, const std::vector<int64_t>& axes, bool keep,
                     const std::vector<T>& x, T init, F combine) {
  const Dims od = reduced_dims(in_dims, axes, keep);
  GraphBuilder b;
  const uint32_t xi = b.input(dtype_of<T>(), in_dims);
  std::vector<int64_t> attrs = {keep ? 1 : 0};
  attrs.insert(attrs.end(), axes.begin(), axes.end());
  b.output(b.node(op_named(name), dtype_of<T>(), od, {xi}, attrs));
  ProgramPtr p;
  const Status s = compile(b.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> out;
  if (Status r = run(*p, std::vector<std::vector<T>>{x}, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  std::vector<T> want(count(od), init);
  for (uint64_t i = 0; i < count(in_dims); ++i) {
    Dims idx = unravel(i, in_dims), oidx;
    for (std::size_t d = 0; d < in_dims.size(); ++d) {
      const bool red = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
      if (!red) oidx.push_back(idx[d]);
      else if (keep) oidx.push_back(0);
    }
    T& w = want[ravel(oidx, od)];
    w = combine(w, x[i]);
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!same(out[0][i], want[i])) {
      fail(__FILE__, __LINE__, std::string(name) + " element " + std::to_string(i) + ": " + std::to_string(out[0][i]) +
                                   " vs " + std::to_string(want[i]));
      break;
    }
  }
}

template <class T>
T max_nan(T s, T v) {
  return (std::isnan(s) || std::isnan(v)) ? std::numeric_limits<T>::quiet_NaN() : std::max(s, v);
}
template <class T>
T min_nan(T s, T v) {
  return (std::isnan(s) || std::isnan(v)) ? std::numeric_limits<T>::quiet_NaN() : std::min(s, v);
}

template <class T>
void check_all_reduce_ops(const Dims& d, const std::vector<int64_t>& axes, bool keep, const std::vector<T>& x) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  check_reduce_op<T>("reduce_max", d, axes, keep, x, -inf, max_nan<T>);
  check_reduce_op<T>("reduce_min", d, axes, keep, x, inf, min_nan<T>);
  check_reduce_op<T>("reduce_prod", d, axes, keep, x, T(1), [](T s, T v) { return s * v; });
}

TEST(kernels, max_min_prod_over_each_axis_set) {
  std::mt19937_64 rng(5);
  const Dims d = {2, 3, 4};
  const std::vector<std::vector<int64_t>> axis_sets = {{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (const auto& axes : axis_sets) {
    for (bool keep : {false, true}) {
      check_all_reduce_ops<double>(d, axes, keep, random_values<double>(24, rng));
      check_all_reduce_ops<float>(d, axes, keep, random_values<float>(24, rng));
    }
  }
  check_all_reduce_ops<double>({37}, {0}, false, random_values<double>(37, rng));
  // Empty reductions give the identity: -inf, +inf, 1.
  check_all_reduce_ops<double>({0, 3}, {0}, true, {});
  check_all_reduce_ops<float>({3, 0}, {1}, false, {});
}

TEST(kernels, nan_propagates_wherever_it_is) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int at = 0; at < 4; ++at) {
    std::vector<double> x = {1, -2, 3, 0.5};
    x[at] = nan;
    check_all_reduce_ops<double>({4}, {0}, false, x);
    check_all_reduce_ops<double>({2, 2}, {1}, false, x);
  }
}

// argmax / argmin graphs: f64 or f32 input of in_dims, int32 output.
GraphBuilder arg_graph(const char* name, DType in_dtype, const Dims& in_dims, std::vector<int64_t> attrs, const Dims& out_dims,
                       DType out_dtype = DType::i32) {
  GraphBuilder b;
  const uint32_t x = b.input(in_dtype, in_dims);
  b.output(b.node(op_named(name), out_dtype, out_dims, {x}, std::move(attrs)));
  return b;
}

template <class T>
std::vector<int32_t> run_arg(const char* name, const Dims& in_dims, int64_t axis, bool keep, const std::vector<T>& x) {
  Dims od = reduced_dims(in_dims, {axis}, keep);
  ProgramPtr p;
  const Status s = compile(arg_graph(name, dtype_of<T>(), in_dims, {int64_t(dtype_of<T>()), keep ? 1 : 0, axis}, od).bytes(), &p);
  if (!s.ok()) {
    fail(__FILE__, __LINE__, s.message);
    return {};
  }
  std::vector<int32_t> out(count(od));
  const InputView in{x.data(), dtype_of<T>(), x.size()};
  const OutputView o{out.data(), DType::i32, out.size()};
  if (Status r = p->run(std::span<const InputView>(&in, 1), std::span<const OutputView>(&o, 1)); !r.ok()) {
    fail(__FILE__, __LINE__, r.message);
  }
  return out;
}

template <class T>
void check_arg_axes(std::mt19937_64& rng) {
  const Dims d = {2, 3, 4};
  const std::vector<T> x = random_values<T>(24, rng);
  for (int64_t axis = 0; axis < 3; ++axis) {
    for (bool keep : {false, true}) {
      for (bool is_max : {true, false}) {
        const std::vector<int32_t> got = run_arg<T>(is_max ? "argmax" : "argmin", d, axis, keep, x);
        const Dims od = reduced_dims(d, {axis}, false);
        for (uint64_t o = 0; o < count(od); ++o) {
          Dims oidx = unravel(o, od);
          int32_t best = 0;
          for (uint32_t k = 0; k < d[axis]; ++k) {
            Dims idx = oidx, bidx = oidx;
            idx.insert(idx.begin() + axis, k);
            bidx.insert(bidx.begin() + axis, uint32_t(best));
            const T v = x[ravel(idx, d)], b = x[ravel(bidx, d)];
            if (is_max ? v > b : v < b) best = int32_t(k);
          }
          CHECK_EQ(got.at(o), best);
        }
      }
    }
  }
}

TEST(kernels, argmax_argmin_along_each_axis) {
  std::mt19937_64 rng(9);
  check_arg_axes<double>(rng);
  check_arg_axes<float>(rng);
}

TEST(kernels, argmax_argmin_ties_and_nan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Copies: CHECK_EQ binds references to its arguments.
  auto first = [](const std::vector<int32_t>& v) { return v.empty() ? int32_t(-1) : v[0]; };
  CHECK_EQ(first(run_arg<double>("argmax", {5}, 0, false, {1, 3, 3, 2, 3})), 1);
  CHECK_EQ(first(run_arg<double>("argmin", {4}, 0, false, {2, 1, 1, 5})), 1);
  CHECK_EQ(first(run_arg<float>("argmax", {3}, 0, true, {4, 4, 4})), 0);
  CHECK_EQ(first(run_arg<double>("argmax", {4}, 0, false, {1, nan, 5, nan})), 1);
  CHECK_EQ(first(run_arg<double>("argmin", {4}, 0, false, {nan, -1, -5, nan})), 0);
  CHECK_EQ(first(run_arg<double>("argmax", {1}, 0, false, {-7})), 0);
}


TEST(format, arg_reduce_rules) {
  const DType f64 = DType::f64, f32 = DType::f32, i32 = DType::i32;
  {
    ProgramPtr p;
    CHECK(compile(arg_graph("argmax", f64, {2, 3}, {0, 1, 1}, {2, 1}).bytes(), &p).ok());
    CHECK(compile(arg_graph("argmin", f32, {2, 3}, {1, 0, 0}, {3}).bytes(), &p).ok());
  }
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 0, 1}, {2}, f64), "is float64 but an arg reduction returns int32");
  EXPECT_BAD(arg_graph("argmax", i32, {2, 3}, {2, 0, 1}, {2}), "input 0 is int32");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 1}, {2}), "expected 3 (from_dtype, keep_dims, axis)");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {1, 0, 1}, {2}), "from_dtype is 1 but input 0 is float64");
  EXPECT_BAD(arg_graph("argmin", f32, {2, 3}, {1, 2, 1}, {2}), "keep_dims is 2");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 0, 2}, {2}), "axis 2 is out of range for input shape [2,3]");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 0, -1}, {2}), "axis -1 is out of range");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 0}, {0, 0, 1}, {2}), "axis 1 of input shape [2,0] is empty");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 0, 1}, {3}), "reducing [2,3] gives [2], not the node's shape [3]");
  EXPECT_BAD(arg_graph("argmax", f64, {2, 3}, {0, 1, 1}, {2}), "gives [2,1]");
}

}  // namespace
}  // namespace wt
