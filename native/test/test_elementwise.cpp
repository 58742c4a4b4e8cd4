// The elementwise family beyond the X-macro checks of test_kernels.cpp: the `where` kernel and its
// validation rule (kind ternary), and the special functions of native/src/elementwise_math.h
// against known values, at the accuracy their header states.
#include <cmath>
#include <limits>
#include <string>

#include "../src/elementwise_math.h"
#include "test.h"
#include "test_util.h"

namespace wt {
namespace {

using wengert::ErrorCode;
namespace em = wengert::emath;

struct Triple {
  Dims c, a, b;
};

template <class T>
void check_where(const Triple& t) {
  std::mt19937_64 rng(21);
  const Dims od = broadcast_dims(broadcast_dims(t.c, t.a), t.b);
  GraphBuilder g;
  const uint32_t c = g.input(dtype_of<T>(), t.c);
  const uint32_t a = g.input(dtype_of<T>(), t.a);
  const uint32_t b = g.input(dtype_of<T>(), t.b);
  g.output(g.node(OpCode::where, dtype_of<T>(), od, {c, a, b}));
  ProgramPtr p;
  const Status s = compile(g.bytes(), &p);
  if (!s.ok()) return fail(__FILE__, __LINE__, s.message);
  std::vector<std::vector<T>> in = {random_values<T>(count(t.c), rng), random_values<T>(count(t.a), rng),
                                    random_values<T>(count(t.b), rng)},
                              out;
  // A mask of 0 and nonzero values, with a NaN (which selects a) when there is room.
  for (std::size_t i = 0; i < in[0].size(); ++i) in[0][i] = (i % 3 == 0) ? T(0) : in[0][i];
  if (in[0].size() > 2) in[0][2] = std::numeric_limits<T>::quiet_NaN();
  if (Status r = run(*p, in, &out); !r.ok()) return fail(__FILE__, __LINE__, r.message);
  for (uint64_t i = 0; i < count(od); ++i) {
    const Dims idx = unravel(i, od);
    const T cv = in[0][broadcast_index(idx, t.c)];
    const T want = cv != T(0) ? in[1][broadcast_index(idx, t.a)] : in[2][broadcast_index(idx, t.b)];
    if (!same(out[0][i], want)) return fail(__FILE__, __LINE__, "where element " + std::to_string(i));
  }
}

TEST(kernels, where_three_way_broadcast) {
  const std::vector<Triple> shapes = {
      {{3, 4}, {3, 4}, {3, 4}}, {{3, 1}, {1, 4}, {}},   {{2, 1, 4}, {3, 1}, {4}}, {{}, {2, 3}, {3}},
      {{4}, {3, 1}, {2, 1, 1}}, {{5, 1, 7}, {1, 3, 1}, {5, 3, 7}}, {{0, 3}, {1, 3}, {3}}, {{1}, {1}, {1}},
  };
  for (const Triple& t : shapes) {
    check_where<double>(t);
    check_where<float>(t);
  }
}

TEST(format, ternary_rules) {
  GraphBuilder g;
  uint32_t c = g.input(DType::f64, {3, 1});
  uint32_t a = g.input(DType::f64, {4});
  uint32_t b = g.input(DType::f64, {5});
  g.output(g.node(OpCode::where, DType::f64, {3, 4}, {c, a, b}));
  ProgramPtr p;
  Status s = compile(g.bytes(), &p);
  CHECK(s.code == ErrorCode::bad_graph);
  CHECK(s.message.find("node 3 (where): input shapes [3,1], [4] and [5] do not broadcast to [3,4]") != std::string::npos);

  g = GraphBuilder();
  c = g.input(DType::f64, {3, 1});
  a = g.input(DType::f64, {4});
  b = g.input(DType::f64, {1});
  g.output(g.node(OpCode::where, DType::f64, {3, 1}, {c, a, b}));
  s = compile(g.bytes(), &p);
  CHECK(s.code == ErrorCode::bad_graph);
  CHECK(s.message.find("do not broadcast to [3,1]") != std::string::npos);

  g = GraphBuilder();
  c = g.input(DType::f64, {2});
  a = g.input(DType::f64, {2});
  b = g.input(DType::f64, {2});
  g.output(g.node(OpCode::where, DType::f64, {2}, {c, a, b}, {1}));
  s = compile(g.bytes(), &p);
  CHECK(s.code == ErrorCode::bad_graph);
  CHECK(s.message.find("integer attributes, expected 0") != std::string::npos);

  g = GraphBuilder();
  c = g.input(DType::f32, {2});
  a = g.input(DType::f64, {2});
  b = g.input(DType::f64, {2});
  g.output(g.node(OpCode::where, DType::f64, {2}, {c, a, b}));
  s = compile(g.bytes(), &p);
  CHECK(s.code == ErrorCode::bad_graph);
  CHECK(s.message.find("input 0 (node 0, input) is float32") != std::string::npos);

  g = GraphBuilder();
  c = g.input(DType::f64, {1, 3});
  a = g.input(DType::f64, {2, 1});
  b = g.input(DType::f64, {});
  g.output(g.node(OpCode::where, DType::f64, {2, 3}, {c, a, b}));
  CHECK(compile(g.bytes(), &p).ok());
}

bool rel_close(double got, double want, double rtol) { return std::abs(got - want) <= rtol * std::abs(want); }

TEST(special, digamma_and_trigamma_known_values) {
  const double pi = em::kPi, gamma = 0.57721566490153286061, ln2 = 0.69314718055994530942;
  // The header's bound: relative error <= 1e-14 away from the zeros.
  CHECK(rel_close(em::digamma(1), -gamma, 1e-14));
  CHECK(rel_close(em::digamma(0.5), -gamma - 2 * ln2, 1e-14));
  CHECK(rel_close(em::digamma(-0.5), -gamma - 2 * ln2 + 2, 1e-14));
  CHECK(rel_close(em::digamma(0.25), -gamma - pi / 2 - 3 * ln2, 1e-14));
  double h = 0;  // ψ(n) = H(n-1) - γ
  for (int n = 1; n < 100; ++n) h += 1.0 / n;
  CHECK(rel_close(em::digamma(100), h - gamma, 1e-14));
  CHECK(rel_close(em::digamma(1e300), std::log(1e300), 1e-15));
  CHECK(rel_close(em::digamma(1e-300), -1e300, 1e-15));
  CHECK(em::digamma(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(em::digamma(-0.0) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(em::digamma(-3)));
  CHECK(std::isnan(em::digamma(-std::numeric_limits<double>::infinity())));
  CHECK(em::digamma(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());

  CHECK(rel_close(em::trigamma(1), pi * pi / 6, 1e-14));
  CHECK(rel_close(em::trigamma(0.5), pi * pi / 2, 1e-14));
  CHECK(rel_close(em::trigamma(-0.5), pi * pi / 2 + 4, 1e-14));  // ψ₁(x) = ψ₁(x + 1) + 1/x²
  CHECK(rel_close(em::trigamma(1e300), 1e-300, 1e-15));
  CHECK(em::trigamma(0.0) == std::numeric_limits<double>::infinity());
  CHECK(em::trigamma(-2) == std::numeric_limits<double>::infinity());
  CHECK(em::trigamma(std::numeric_limits<double>::infinity()) == 0);

  CHECK(rel_close(em::lgamma(0.5), 0.5 * std::log(pi), 1e-15));
  CHECK(em::lgamma(1) == 0 && em::lgamma(2) == 0);
  CHECK(em::lgamma(0.0) == std::numeric_limits<double>::infinity());
  CHECK(em::lgamma(-1) == std::numeric_limits<double>::infinity());
}

TEST(special, polygamma_at_the_stated_accuracy) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Point {
    int n;
    double x, want;  // ψ⁽ⁿ⁾(x) to 20 digits (mpmath, 40-digit arithmetic)
  };
  // The header's bounds: relative 1e-14 for x > 0, 5e-16·(n + 1) for x < 0 (none of these points is
  // near a zero of ψ⁽ⁿ⁾). Orders 2 … 100, both sides of the recurrence threshold n + 10, tiny x,
  // x = 1e150 (whose x^-3 underflows while ψ''(x) ≈ -1e-300 does not) and both reflection branches.
  const Point points[] = {
      {2, 1.0, -2.4041138063191885708},  // -2ζ(3)
      {2, 0.5, -1.6828796644234319996e+1},
      {3, 0.25, 1.538782144009188396e+3},
      {4, 7.5, -2.4574829893685549885e-3},
      {5, 0.01, 1.2000000000011505251e+14},
      {2, 123.456, -6.6144443363940406274e-5},
      {7, 0.001, 5.0399999999999991607e+27},
      {10, 33.3, -2.5071381429054695707e-10},
      {30, 2.5, -1.2232990235199245034e+20},
      {50, 60.25, -9.0028779631767652926e-27},
      {100, 1.75, -2.6494805604965154048e+133},
      {100, 200.0, -9.3569133020406978575e-75},
      {2, 1e+150, -1.0000000000000000383e-300},
      {2, -0.5, -8.287966442343199956e-1},
      {3, -1.25, 1.5582209125348505998e+3},
      {4, -2.9, -2.399973876716334131e+6},
      {5, -0.001, 1.1999999999999998513e+20},
      {10, -3.7, -2.0482848930187293358e+12},
      {50, -0.6, -5.9981222673735912488e+84},
      {100, -5.3, 6.0361069759370938357e+210},
  };
  for (const Point& p : points) {
    const double tol = p.x > 0 ? 1e-14 : 5e-16 * (p.n + 1);
    const double got = em::polygamma(p.n, p.x);
    if (!rel_close(got, p.want, tol)) {
      return fail(__FILE__, __LINE__, "polygamma(" + std::to_string(p.n) + ", " + std::to_string(p.x) + ") = " +
                                          std::to_string(got) + ", want " + std::to_string(p.want));
    }
  }
  // Orders 0 and 1 are digamma and trigamma.
  CHECK(em::polygamma(0, 2.5) == em::digamma(2.5));
  CHECK(em::polygamma(1, -2.5) == em::trigamma(-2.5));
  // The recurrence ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (-1)^n·n!/x^(n+1), across the threshold and through 0.
  CHECK(rel_close(em::polygamma(3, 12.5), em::polygamma(3, 13.5) + 6 / std::pow(12.5, 4), 1e-14));
  CHECK(rel_close(em::polygamma(2, -0.25), em::polygamma(2, 0.75) + 2 / std::pow(0.25, 3), 1e-14));
  // Orders: NaN unless an integer in [0, 100].
  for (double n : {-1.0, 0.5, 2.25, 101.0, inf, std::numeric_limits<double>::quiet_NaN()}) CHECK(std::isnan(em::polygamma(n, 1.5)));
  CHECK(std::isnan(em::polygamma(2, std::numeric_limits<double>::quiet_NaN())));
  // Poles: odd n +inf; even n by the side (the sign of zero), NaN at the negative integers.
  CHECK(em::polygamma(3, 0.0) == inf && em::polygamma(3, -0.0) == inf && em::polygamma(3, -4) == inf);
  CHECK(em::polygamma(2, 0.0) == -inf && em::polygamma(2, -0.0) == inf && std::isnan(em::polygamma(2, -4)));
  // Overflow only where the value does: ψ⁽¹⁰⁰⁾ at 1e-3 is beyond double, at 10 it is not.
  CHECK(em::polygamma(100, 1e-3) == -inf);
  CHECK(std::isfinite(em::polygamma(100, 10)));
  CHECK(em::polygamma(2, inf) == 0 && std::signbit(em::polygamma(2, inf)));
  CHECK(em::polygamma(3, inf) == 0 && !std::signbit(em::polygamma(3, inf)));
  CHECK(std::isnan(em::polygamma(3, -inf)));
  CHECK(em::polygamma(3, 1e300) == 0);  // 2/x³ underflows to +0
}

TEST(special, mod_has_the_sign_of_the_divisor) {
  CHECK(em::mod(5.0, 3.0) == 2);
  CHECK(em::mod(-5.0, 3.0) == 1);
  CHECK(em::mod(5.0, -3.0) == -1);
  CHECK(em::mod(-5.0, -3.0) == -2);
  CHECK(em::mod(6.0, -3.0) == 0 && std::signbit(em::mod(6.0, -3.0)));
  CHECK(em::mod(-6.0, 3.0) == 0 && !std::signbit(em::mod(-6.0, 3.0)));
  CHECK(std::isnan(em::mod(1.0, 0.0)));
  CHECK(em::mod(5.5f, 2.0f) == 1.5f);
  CHECK(em::mod(-0.25, 1e300) == 1e300);  // -0.25 + 1e300 rounds to 1e300, as NumPy gives
}

}  // namespace
}  // namespace wt
