// Tests of the native least_squares (native/src/optim/least_squares.cpp): NIST StRD nonlinear
// regression problems with hand-coded analytic Jacobians (certified parameters and standard
// deviations, from both NIST starts), MGH least-squares problems against their published minima,
// bounds, weights, robust losses, covariance, option validation, cancellation, non-finite
// residuals, and a timing print for the batch curve-fitting workload (W5).
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nist_data.h"
#include "optim/optim.h"
#include "test.h"

using wengert::ErrorCode;
using wengert::Status;
using namespace wengert::optim;

namespace {

const char* reason(StopReason r) {
  switch (r) {
    case StopReason::gradient_tolerance: return "gradient-tolerance";
    case StopReason::step_tolerance: return "step-tolerance";
    case StopReason::function_tolerance: return "function-tolerance";
    case StopReason::max_iterations: return "max-iterations";
    case StopReason::max_evaluations: return "max-evaluations";
    case StopReason::non_finite: return "non-finite";
    case StopReason::aborted: return "aborted";
    case StopReason::failed: return "failed";
  }
  return "?";
}

bool converged(StopReason r) {
  return r == StopReason::gradient_tolerance || r == StopReason::step_tolerance ||
         r == StopReason::function_tolerance;
}

// Residuals from a callable filling r (and J when jac != nullptr).
class Fn : public Residuals {
 public:
  using F = std::function<void(const double* x, double* r, double* jac)>;
  Fn(int n, int m, F f) : n_(n), m_(m), f_(std::move(f)) {}
  int n() const override { return n_; }
  int m() const override { return m_; }
  Status residuals(const double* x, double* r) override {
    ++calls;
    f_(x, r, nullptr);
    return {};
  }
  Status residuals_jacobian(const double* x, double* r, double* jac) override {
    ++calls;
    f_(x, r, jac);
    return {};
  }
  int calls = 0;

 private:
  int n_, m_;
  F f_;
};

// A one-predictor regression model: value at x and d value / d b_j into g.
using Model = double (*)(const double* b, double x, double* g);

// Residuals r_i = y_i - model(b, x_i) of a NIST problem.
class Regression : public Residuals {
 public:
  Regression(const NistData& d, Model model) : d_(d), model_(model) {}
  int n() const override { return static_cast<int>(d_.certified.size()); }
  int m() const override { return static_cast<int>(d_.x.size()); }
  Status residuals(const double* b, double* r) override {
    double g[16];
    for (int i = 0; i < m(); ++i) r[i] = d_.y[i] - model_(b, d_.x[i], g);
    return {};
  }
  Status residuals_jacobian(const double* b, double* r, double* jac) override {
    const int n = this->n();
    for (int i = 0; i < m(); ++i) {
      double g[16];
      r[i] = d_.y[i] - model_(b, d_.x[i], g);
      for (int j = 0; j < n; ++j) jac[i * n + j] = -g[j];
    }
    return {};
  }

 private:
  const NistData& d_;
  Model model_;
};

double misra1a(const double* b, double x, double* g) {
  const double e = std::exp(-b[1] * x);
  g[0] = 1 - e;
  g[1] = b[0] * x * e;
  return b[0] * (1 - e);
}
double mgh09(const double* b, double x, double* g) {
  const double num = x * x + x * b[1], den = x * x + x * b[2] + b[3];
  g[0] = num / den;
  g[1] = b[0] * x / den;
  g[2] = -b[0] * num * x / (den * den);
  g[3] = -b[0] * num / (den * den);
  return b[0] * num / den;
}
double mgh10(const double* b, double x, double* g) {
  const double e = std::exp(b[1] / (x + b[2]));
  g[0] = e;
  g[1] = b[0] * e / (x + b[2]);
  g[2] = -b[0] * e * b[1] / ((x + b[2]) * (x + b[2]));
  return b[0] * e;
}
double thurber(const double* b, double x, double* g) {
  const double x2 = x * x, x3 = x2 * x;
  const double num = b[0] + b[1] * x + b[2] * x2 + b[3] * x3;
  const double den = 1 + b[4] * x + b[5] * x2 + b[6] * x3;
  const double q = num / den;
  g[0] = 1 / den;
  g[1] = x / den;
  g[2] = x2 / den;
  g[3] = x3 / den;
  g[4] = -q * x / den;
  g[5] = -q * x2 / den;
  g[6] = -q * x3 / den;
  return q;
}
double eckerle4(const double* b, double x, double* g) {
  const double u = (x - b[2]) / b[1];
  const double e = std::exp(-0.5 * u * u);
  const double v = b[0] / b[1] * e;
  g[0] = e / b[1];
  g[1] = -v / b[1] + v * u * u / b[1];
  g[2] = v * u / b[1];
  return v;
}
double rat43(const double* b, double x, double* g) {
  const double e = std::exp(b[1] - b[2] * x);
  const double base = 1 + e;
  const double v = b[0] * std::pow(base, -1 / b[3]);
  g[0] = v / b[0];
  g[1] = -v / b[3] * e / base;
  g[2] = v / b[3] * e * x / base;
  g[3] = v * std::log(base) / (b[3] * b[3]);
  return v;
}
double bennett5(const double* b, double x, double* g) {
  const double base = b[1] + x;
  const double v = b[0] * std::pow(base, -1 / b[2]);
  g[0] = v / b[0];
  g[1] = -v / (b[2] * base);
  g[2] = v * std::log(base) / (b[2] * b[2]);
  return v;
}
double lanczos(const double* b, double x, double* g) {
  double v = 0;
  for (int k = 0; k < 3; ++k) {
    const double e = std::exp(-b[2 * k + 1] * x);
    g[2 * k] = e;
    g[2 * k + 1] = -b[2 * k] * x * e;
    v += b[2 * k] * e;
  }
  return v;
}
double misra1b(const double* b, double x, double* g) {
  const double u = 1 + b[1] * x / 2;
  g[0] = 1 - 1 / (u * u);
  g[1] = b[0] * x / (u * u * u);
  return b[0] * g[0];
}
double chwirut(const double* b, double x, double* g) {
  const double e = std::exp(-b[0] * x), den = b[1] + b[2] * x;
  const double v = e / den;
  g[0] = -x * v;
  g[1] = -v / den;
  g[2] = -v * x / den;
  return v;
}
double danwood(const double* b, double x, double* g) {
  const double p = std::pow(x, b[1]);
  g[0] = p;
  g[1] = b[0] * p * std::log(x);
  return b[0] * p;
}
double rat42(const double* b, double x, double* g) {
  const double e = std::exp(b[1] - b[2] * x);
  const double v = b[0] / (1 + e);
  g[0] = 1 / (1 + e);
  g[1] = -v * e / (1 + e);
  g[2] = v * e * x / (1 + e);
  return v;
}

Model model_for(const std::string& name) {
  if (name == "Misra1a" || name == "BoxBOD") return misra1a;
  if (name == "MGH09") return mgh09;
  if (name == "MGH10") return mgh10;
  if (name == "Thurber") return thurber;
  if (name == "Eckerle4") return eckerle4;
  if (name == "Rat43") return rat43;
  if (name == "Bennett5") return bennett5;
  if (name == "Lanczos1" || name == "Lanczos3") return lanczos;
  if (name == "Misra1b") return misra1b;
  if (name == "Chwirut2") return chwirut;
  if (name == "DanWood") return danwood;
  if (name == "Rat42") return rat42;
  return nullptr;
}

// Log relative error: digits of agreement (capped at 15 for exact agreement).
double lre(double est, double cert) {
  if (!std::isfinite(est)) return 0;
  const double rel = cert == 0 ? std::fabs(est) : std::fabs(est - cert) / std::fabs(cert);
  return rel == 0 ? 15 : std::min(15.0, -std::log10(rel));
}

}  // namespace

TEST(least_squares, nist_strd_certified_values_from_both_starts) {
  std::printf("  %-9s start  status              iters evals  min LRE(b)  min LRE(sd)  LRE(rss)\n", "problem");
  for (const NistData& d : nist_data()) {
    const Model model = model_for(d.name);
    REQUIRE(model != nullptr);
    for (int start = 1; start <= 2; ++start) {
      Regression problem(d, model);
      LeastSquaresResult res;
      const std::vector<double>& x0 = start == 1 ? d.start1 : d.start2;
      const Status s = least_squares(problem, x0.data(), LeastSquaresOptions{}, &res);
      REQUIRE(s.ok());
      double lb = 15, ls = 15;
      for (size_t j = 0; j < d.certified.size(); ++j) {
        lb = std::min(lb, lre(res.x[j], d.certified[j]));
        ls = std::min(ls, lre(res.std_errors[j], d.certified_sd[j]));
      }
      const double lr = lre(res.value, d.certified_rss);
      std::printf("  %-9s %d      %-19s %5d %5d  %10.1f  %11.1f  %8.1f\n", d.name, start, reason(res.status),
                  res.iterations, res.evaluations, lb, ls, lr);
      CHECK(converged(res.status));
      if (lb < 6 || ls < 4) wt::fail(__FILE__, __LINE__, std::string(d.name) + " start " + std::to_string(start) +
                                                              ": LRE below 6 (parameters) or 4 (std devs)");
      CHECK(lr >= 6);
    }
  }
}

namespace {

struct MghCase {
  const char* name;
  int n, m;
  std::vector<double> x0;
  double fmin;  // published F* = sum r^2 (no 1/2)
  std::vector<double> xmin;  // empty: not checked
  Fn::F f;
};

std::vector<MghCase> mgh_cases() {
  std::vector<MghCase> c;
  c.push_back({"rosenbrock", 2, 2, {-1.2, 1}, 0, {1, 1}, [](const double* x, double* r, double* J) {
                 r[0] = 10 * (x[1] - x[0] * x[0]);
                 r[1] = 1 - x[0];
                 if (J) {
                   J[0] = -20 * x[0], J[1] = 10;
                   J[2] = -1, J[3] = 0;
                 }
               }});
  // From the standard start LM reaches the local minimum 48.9842... (as MINPACK does).
  c.push_back({"freudenstein_roth", 2, 2, {0.5, -2}, 48.9842536792, {}, [](const double* x, double* r, double* J) {
                 r[0] = -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1];
                 r[1] = -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1];
                 if (J) {
                   J[0] = 1, J[1] = 10 * x[1] - 3 * x[1] * x[1] - 2;
                   J[2] = 1, J[3] = 3 * x[1] * x[1] + 2 * x[1] - 14;
                 }
               }});
  c.push_back({"powell_singular", 4, 4, {3, -1, 0, 1}, 0, {}, [](const double* x, double* r, double* J) {
                 const double s5 = std::sqrt(5.0), s10 = std::sqrt(10.0);
                 r[0] = x[0] + 10 * x[1];
                 r[1] = s5 * (x[2] - x[3]);
                 r[2] = (x[1] - 2 * x[2]) * (x[1] - 2 * x[2]);
                 r[3] = s10 * (x[0] - x[3]) * (x[0] - x[3]);
                 if (J) {
                   for (int k = 0; k < 16; ++k) J[k] = 0;
                   J[0] = 1, J[1] = 10;
                   J[6] = s5, J[7] = -s5;
                   J[9] = 2 * (x[1] - 2 * x[2]), J[10] = -4 * (x[1] - 2 * x[2]);
                   J[12] = 2 * s10 * (x[0] - x[3]), J[15] = -2 * s10 * (x[0] - x[3]);
                 }
               }});
  c.push_back({"bard", 3, 15, {1, 1, 1}, 0.00821487730658, {}, [](const double* x, double* r, double* J) {
                 static const double y[15] = {0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39,
                                              0.37, 0.58, 0.73, 0.96, 1.34, 2.1,  4.39};
                 for (int i = 1; i <= 15; ++i) {
                   const double u = i, v = 16 - i, w = std::min(u, v), den = v * x[1] + w * x[2];
                   r[i - 1] = y[i - 1] - (x[0] + u / den);
                   if (J) {
                     double* Ji = J + (i - 1) * 3;
                     Ji[0] = -1;
                     Ji[1] = u * v / (den * den);
                     Ji[2] = u * w / (den * den);
                   }
                 }
               }});
  c.push_back({"meyer", 3, 16, {0.02, 4000, 250}, 87.9458551706, {}, [](const double* x, double* r, double* J) {
                 static const double y[16] = {34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744,
                                              8261,  7030,  6005,  5147,  4427,  3820,  3307,  2872};
                 for (int i = 1; i <= 16; ++i) {
                   const double t = 45 + 5 * i, e = std::exp(x[1] / (t + x[2]));
                   r[i - 1] = x[0] * e - y[i - 1];
                   if (J) {
                     double* Ji = J + (i - 1) * 3;
                     Ji[0] = e;
                     Ji[1] = x[0] * e / (t + x[2]);
                     Ji[2] = -x[0] * e * x[1] / ((t + x[2]) * (t + x[2]));
                   }
                 }
               }});
  c.push_back({"osborne1", 5, 33, {0.5, 1.5, -1, 0.01, 0.02}, 5.46489469748e-05, {},
               [](const double* x, double* r, double* J) {
                 static const double y[33] = {0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.85,  0.818,
                                              0.784, 0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.58,  0.558,
                                              0.538, 0.522, 0.506, 0.49,  0.478, 0.467, 0.457, 0.448, 0.438,
                                              0.431, 0.424, 0.42,  0.414, 0.411, 0.406};
                 for (int i = 0; i < 33; ++i) {
                   const double t = 10.0 * i, e3 = std::exp(-t * x[3]), e4 = std::exp(-t * x[4]);
                   r[i] = y[i] - (x[0] + x[1] * e3 + x[2] * e4);
                   if (J) {
                     double* Ji = J + i * 5;
                     Ji[0] = -1, Ji[1] = -e3, Ji[2] = -e4, Ji[3] = x[1] * t * e3, Ji[4] = x[2] * t * e4;
                   }
                 }
               }});
  c.push_back({"osborne2", 11, 65, {1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5}, 0.0401377, {},
               [](const double* x, double* r, double* J) {
                 static const double y[65] = {
                     1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
                     0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
                     0.612, 0.558, 0.533, 0.495, 0.5,   0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
                     0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
                     0.597, 0.625, 0.739, 0.71,  0.729, 0.72,  0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054};
                 for (int i = 0; i < 65; ++i) {
                   const double t = i / 10.0;
                   const double e0 = std::exp(-t * x[4]);
                   double v = x[0] * e0;
                   double* Ji = J ? J + i * 11 : nullptr;
                   if (Ji) {
                     for (int k = 0; k < 11; ++k) Ji[k] = 0;
                     Ji[0] = -e0;
                     Ji[4] = x[0] * t * e0;
                   }
                   for (int k = 0; k < 3; ++k) {
                     const double d = t - x[8 + k], e = std::exp(-d * d * x[5 + k]);
                     v += x[1 + k] * e;
                     if (Ji) {
                       Ji[1 + k] = -e;
                       Ji[5 + k] = x[1 + k] * d * d * e;
                       Ji[8 + k] = -x[1 + k] * e * 2 * d * x[5 + k];
                     }
                   }
                   r[i] = y[i] - v;
                 }
               }});
  return c;
}

}  // namespace

TEST(least_squares, mgh_problems_reach_the_published_minima) {
  for (const MghCase& c : mgh_cases()) {
    Fn problem(c.n, c.m, c.f);
    LeastSquaresResult res;
    REQUIRE(least_squares(problem, c.x0.data(), LeastSquaresOptions{}, &res).ok());
    // The objective in the MGH convention is sum r^2, which is `value` (= 2 cost).
    const double f = res.value;
    const bool ok = c.fmin == 0 ? f <= 1e-20 : std::fabs(f - c.fmin) <= 1e-6 * c.fmin;
    std::printf("  %-18s %-19s iters %4d evals %4d  F = %.12g (published %.9g)\n", c.name, reason(res.status),
                res.iterations, res.evaluations, f, c.fmin);
    CHECK(converged(res.status));
    if (!ok) wt::fail(__FILE__, __LINE__, std::string(c.name) + " did not reach the published minimum");
    for (size_t j = 0; j < c.xmin.size(); ++j) CHECK(std::fabs(res.x[j] - c.xmin[j]) <= 1e-8);
  }
}
