// Tests of the native least_squares (native/src/optim/least_squares.cpp): NIST StRD nonlinear
// regression problems with hand-coded analytic Jacobians (certified parameters and standard
// deviations, from both NIST starts), MGH least-squares problems against their published minima,
// bounds, weights, robust losses, covariance, option validation, cancellation, non-finite
// residuals, and a timing print for the batch curve-fitting workload (W5).
#include <atomic>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nist_data.h"
#include "optim/lm_core.h"
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

// A regression model: value at (x, x2) and d value / d b_j into g (x2: Nelson's second predictor).
using Model = double (*)(const double* b, double x, double x2, double* g);

// Residuals r_i = y_i - model(b, x_i) of a NIST problem.
class Regression : public Residuals {
 public:
  Regression(const NistData& d, Model model) : d_(d), model_(model) {
    for (double v : d.y) y_.push_back(d.log_response ? std::log(v) : v);
    for (size_t i = 0; i < d.x.size(); ++i) x2_.push_back(d.x2.empty() ? 0.0 : d.x2[i]);
  }
  int n() const override { return static_cast<int>(d_.certified.size()); }
  int m() const override { return static_cast<int>(d_.x.size()); }
  Status residuals(const double* b, double* r) override {
    double g[16];
    for (int i = 0; i < m(); ++i) r[i] = y_[i] - model_(b, d_.x[i], x2_[i], g);
    return {};
  }
  Status residuals_jacobian(const double* b, double* r, double* jac) override {
    const int n = this->n();
    for (int i = 0; i < m(); ++i) {
      double g[16];
      r[i] = y_[i] - model_(b, d_.x[i], x2_[i], g);
      for (int j = 0; j < n; ++j) jac[i * n + j] = -g[j];
    }
    return {};
  }

 private:
  const NistData& d_;
  Model model_;
  std::vector<double> y_, x2_;
};

double misra1a(const double* b, double x, double, double* g) {
  const double e = std::exp(-b[1] * x);
  g[0] = 1 - e;
  g[1] = b[0] * x * e;
  return b[0] * (1 - e);
}
double mgh09(const double* b, double x, double, double* g) {
  const double num = x * x + x * b[1], den = x * x + x * b[2] + b[3];
  g[0] = num / den;
  g[1] = b[0] * x / den;
  g[2] = -b[0] * num * x / (den * den);
  g[3] = -b[0] * num / (den * den);
  return b[0] * num / den;
}
double mgh10(const double* b, double x, double, double* g) {
  const double e = std::exp(b[1] / (x + b[2]));
  g[0] = e;
  g[1] = b[0] * e / (x + b[2]);
  g[2] = -b[0] * e * b[1] / ((x + b[2]) * (x + b[2]));
  return b[0] * e;
}
double thurber(const double* b, double x, double, double* g) {
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
double eckerle4(const double* b, double x, double, double* g) {
  const double u = (x - b[2]) / b[1];
  const double e = std::exp(-0.5 * u * u);
  const double v = b[0] / b[1] * e;
  g[0] = e / b[1];
  g[1] = -v / b[1] + v * u * u / b[1];
  g[2] = v * u / b[1];
  return v;
}
double rat43(const double* b, double x, double, double* g) {
  const double e = std::exp(b[1] - b[2] * x);
  const double base = 1 + e;
  const double v = b[0] * std::pow(base, -1 / b[3]);
  g[0] = v / b[0];
  g[1] = -v / b[3] * e / base;
  g[2] = v / b[3] * e * x / base;
  g[3] = v * std::log(base) / (b[3] * b[3]);
  return v;
}
double bennett5(const double* b, double x, double, double* g) {
  const double base = b[1] + x;
  const double v = b[0] * std::pow(base, -1 / b[2]);
  g[0] = v / b[0];
  g[1] = -v / (b[2] * base);
  g[2] = v * std::log(base) / (b[2] * b[2]);
  return v;
}
double lanczos(const double* b, double x, double, double* g) {
  double v = 0;
  for (int k = 0; k < 3; ++k) {
    const double e = std::exp(-b[2 * k + 1] * x);
    g[2 * k] = e;
    g[2 * k + 1] = -b[2 * k] * x * e;
    v += b[2 * k] * e;
  }
  return v;
}
double misra1b(const double* b, double x, double, double* g) {
  const double u = 1 + b[1] * x / 2;
  g[0] = 1 - 1 / (u * u);
  g[1] = b[0] * x / (u * u * u);
  return b[0] * g[0];
}
double chwirut(const double* b, double x, double, double* g) {
  const double e = std::exp(-b[0] * x), den = b[1] + b[2] * x;
  const double v = e / den;
  g[0] = -x * v;
  g[1] = -v / den;
  g[2] = -v * x / den;
  return v;
}
double danwood(const double* b, double x, double, double* g) {
  const double p = std::pow(x, b[1]);
  g[0] = p;
  g[1] = b[0] * p * std::log(x);
  return b[0] * p;
}
double rat42(const double* b, double x, double, double* g) {
  const double e = std::exp(b[1] - b[2] * x);
  const double v = b[0] / (1 + e);
  g[0] = 1 / (1 + e);
  g[1] = -v * e / (1 + e);
  g[2] = v * e * x / (1 + e);
  return v;
}

constexpr double kPi = 3.14159265358979323846;

double gauss(const double* b, double x, double, double* g) {
  const double e0 = std::exp(-b[1] * x);
  const double u1 = (x - b[3]) / b[4], e1 = std::exp(-u1 * u1);
  const double u2 = (x - b[6]) / b[7], e2 = std::exp(-u2 * u2);
  g[0] = e0, g[1] = -b[0] * x * e0;
  g[2] = e1, g[3] = b[2] * e1 * 2 * u1 / b[4], g[4] = b[2] * e1 * 2 * u1 * u1 / b[4];
  g[5] = e2, g[6] = b[5] * e2 * 2 * u2 / b[7], g[7] = b[5] * e2 * 2 * u2 * u2 / b[7];
  return b[0] * e0 + b[2] * e1 + b[5] * e2;
}
double kirby2(const double* b, double x, double, double* g) {
  const double num = b[0] + b[1] * x + b[2] * x * x, den = 1 + b[3] * x + b[4] * x * x, q = num / den;
  g[0] = 1 / den, g[1] = x / den, g[2] = x * x / den, g[3] = -q * x / den, g[4] = -q * x * x / den;
  return q;
}
double nelson(const double* b, double x1, double x2, double* g) {
  const double e = std::exp(-b[2] * x2);
  g[0] = 1, g[1] = -x1 * e, g[2] = b[1] * x1 * x2 * e;
  return b[0] - b[1] * x1 * e;
}
double mgh17(const double* b, double x, double, double* g) {
  const double e4 = std::exp(-x * b[3]), e5 = std::exp(-x * b[4]);
  g[0] = 1, g[1] = e4, g[2] = e5, g[3] = -b[1] * x * e4, g[4] = -b[2] * x * e5;
  return b[0] + b[1] * e4 + b[2] * e5;
}
double misra1c(const double* b, double x, double, double* g) {
  const double u = 1 + 2 * b[1] * x, p = 1 / std::sqrt(u);
  g[0] = 1 - p, g[1] = b[0] * x * p / u;
  return b[0] * (1 - p);
}
double misra1d(const double* b, double x, double, double* g) {
  const double u = 1 + b[1] * x;
  g[0] = b[1] * x / u, g[1] = b[0] * x / (u * u);
  return b[0] * b[1] * x / u;
}
double roszman1(const double* b, double x, double, double* g) {
  const double d = x - b[3], q = b[2] / d, den = kPi * (1 + q * q);
  g[0] = 1, g[1] = -x, g[2] = -1 / (d * den), g[3] = -q / (d * den);
  return b[0] - b[1] * x - std::atan(q) / kPi;
}
double enso(const double* b, double x, double, double* g) {
  const double w = 2 * kPi * x / 12, w4 = 2 * kPi * x / b[3], w7 = 2 * kPi * x / b[6];
  const double c4 = std::cos(w4), s4 = std::sin(w4), c7 = std::cos(w7), s7 = std::sin(w7);
  g[0] = 1, g[1] = std::cos(w), g[2] = std::sin(w);
  g[4] = c4, g[5] = s4, g[7] = c7, g[8] = s7;
  g[3] = (b[4] * s4 - b[5] * c4) * w4 / b[3];  // d/d b4 of b5 cos(w4) + b6 sin(w4), dw4/db4 = -w4/b4
  g[6] = (b[7] * s7 - b[8] * c7) * w7 / b[6];
  return b[0] + b[1] * g[1] + b[2] * g[2] + b[4] * c4 + b[5] * s4 + b[7] * c7 + b[8] * s7;
}

Model model_for(const std::string& name) {
  if (name == "Misra1a" || name == "BoxBOD") return misra1a;
  if (name == "MGH09") return mgh09;
  if (name == "MGH10") return mgh10;
  if (name == "Thurber") return thurber;
  if (name == "Eckerle4") return eckerle4;
  if (name == "Rat43") return rat43;
  if (name == "Bennett5") return bennett5;
  if (name == "Lanczos1" || name == "Lanczos2" || name == "Lanczos3") return lanczos;
  if (name == "Gauss1" || name == "Gauss2" || name == "Gauss3") return gauss;
  if (name == "Kirby2") return kirby2;
  if (name == "Hahn1") return thurber;
  if (name == "Nelson") return nelson;
  if (name == "MGH17") return mgh17;
  if (name == "Misra1c") return misra1c;
  if (name == "Misra1d") return misra1d;
  if (name == "Roszman1") return roszman1;
  if (name == "ENSO") return enso;
  if (name == "Chwirut1") return chwirut;
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
      if (lb < 6) wt::fail(__FILE__, __LINE__, std::string(d.name) + " start " + std::to_string(start) + ": parameter LRE below 6");
      if (std::string(d.name) == "Lanczos1") {
        // Known limit, not of the solver: the certified RSS (1.4e-25, residuals ~1e-13) is below
        // what double precision resolves in y - model(b) (y ~ 2.5, ulp 4.4e-16), so neither the
        // RSS nor the standard deviations (which scale with sqrt(RSS)) can agree to 4 digits.
        // Check that this is the reason: moving any one parameter by one ulp changes the RSS by
        // more than 1e-4 relative.
        Regression at(d, model);
        std::vector<double> rv(d.x.size()), b(res.x);
        auto rss_at = [&]() {
          (void)at.residuals(b.data(), rv.data());
          double t = 0;
          for (double v : rv) t += v * v;
          return t;
        };
        const double base = rss_at();
        double change = 0;
        for (size_t j = 0; j < b.size(); ++j) {
          b[j] = std::nextafter(res.x[j], INFINITY);
          change = std::max(change, std::fabs(rss_at() - base) / base);
          b[j] = res.x[j];
        }
        std::printf("  %-9s   (one ulp in one parameter changes the RSS by up to %.1e relative)\n", d.name, change);
        CHECK(change > 1e-4);
        continue;
      }
      if (ls < 4) wt::fail(__FILE__, __LINE__, std::string(d.name) + " start " + std::to_string(start) + ": std-dev LRE below 4");
      CHECK(lr >= 6);
    }
  }
}

namespace {

struct MghCase {
  const char* name;
  int n, m;
  std::vector<double> x0;
  double fmin;  // F* = sum r^2 (no 1/2): shared/data/mgh.json's f_computed where it gives one, else f
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
  c.push_back({"osborne2", 11, 65, {1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5}, 0.0401377362935, {},
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
    std::printf("  %-18s %-19s iters %4d evals %4d  F = %.12g (reference %.12g)\n", c.name, reason(res.status),
                res.iterations, res.evaluations, f, c.fmin);
    CHECK(converged(res.status));
    if (!ok) wt::fail(__FILE__, __LINE__, std::string(c.name) + " did not reach the published minimum");
    for (size_t j = 0; j < c.xmin.size(); ++j) CHECK(std::fabs(res.x[j] - c.xmin[j]) <= 1e-8);
  }
}

namespace {

// Straight line y = a + b t: residuals r_i = a + b t_i - y_i.
Fn line(const std::vector<double>& t, const std::vector<double>& y) {
  return Fn(2, static_cast<int>(t.size()), [t, y](const double* x, double* r, double* J) {
    for (size_t i = 0; i < t.size(); ++i) {
      r[i] = x[0] + x[1] * t[i] - y[i];
      if (J) J[2 * i] = 1, J[2 * i + 1] = t[i];
    }
  });
}

// Weighted linear regression in closed form: x = (X^T W X)^-1 X^T W y, cov = s^2 (X^T W X)^-1.
void weighted_line_fit(const std::vector<double>& t, const std::vector<double>& y, const std::vector<double>& w,
                       double x[2], double cov[4]) {
  double s0 = 0, s1 = 0, s2 = 0, b0 = 0, b1 = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    s0 += w[i], s1 += w[i] * t[i], s2 += w[i] * t[i] * t[i], b0 += w[i] * y[i], b1 += w[i] * t[i] * y[i];
  }
  const double det = s0 * s2 - s1 * s1;
  x[0] = (s2 * b0 - s1 * b1) / det;
  x[1] = (s0 * b1 - s1 * b0) / det;
  double rss = 0;
  for (size_t i = 0; i < t.size(); ++i) rss += w[i] * (x[0] + x[1] * t[i] - y[i]) * (x[0] + x[1] * t[i] - y[i]);
  const double s2hat = rss / (static_cast<double>(t.size()) - 2);
  cov[0] = s2hat * s2 / det, cov[1] = cov[2] = -s2hat * s1 / det, cov[3] = s2hat * s0 / det;
}

bool near(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)); }

const std::vector<double> kT = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
const std::vector<double> kY = {1.1, 2.9, 5.2, 7.1, 8.8, 11.3, 12.9, 15.2, 16.8, 19.1};

}  // namespace

TEST(least_squares, weighted_line_matches_the_closed_form_with_covariance) {
  const std::vector<double> w = {1, 2, 0.5, 1, 3, 1, 0.25, 1, 2, 1};
  double xe[2], ce[4];
  weighted_line_fit(kT, kY, w, xe, ce);
  Fn problem = line(kT, kY);
  LeastSquaresOptions o;
  o.weights = w.data();
  LeastSquaresResult res;
  const double x0[2] = {0, 0};
  REQUIRE(least_squares(problem, x0, o, &res).ok());
  CHECK(converged(res.status));
  CHECK(near(res.x[0], xe[0], 1e-12) && near(res.x[1], xe[1], 1e-12));
  for (int k = 0; k < 4; ++k) CHECK(near(res.covariance[k], ce[k], 1e-10));
  CHECK(near(res.std_errors[1], std::sqrt(ce[3]), 1e-10));
  // value = sum w r^2 = 2 cost; grad = J^T W r (zero at the optimum); residuals unweighted.
  double rss = 0;
  for (size_t i = 0; i < kT.size(); ++i) {
    const double r = res.x[0] + res.x[1] * kT[i] - kY[i];
    CHECK(near(res.residuals[i], r, 1e-12) || std::fabs(res.residuals[i] - r) < 1e-14);
    CHECK_EQ(res.jacobian[2 * i + 1], kT[i]);
    rss += w[i] * r * r;
  }
  CHECK(near(res.value, rss, 1e-12));
  CHECK(near(res.cost, rss / 2, 1e-12));
  CHECK(std::fabs(res.grad[0]) < 1e-10 && std::fabs(res.grad[1]) < 1e-10);

  // Scaling every weight by 4 leaves x and the covariance unchanged (s^2 x4, (J^T W J)^-1 /4).
  std::vector<double> w4(w);
  for (double& v : w4) v *= 4;
  o.weights = w4.data();
  LeastSquaresResult res4;
  REQUIRE(least_squares(problem, x0, o, &res4).ok());
  CHECK(near(res4.x[1], res.x[1], 1e-12));
  for (int k = 0; k < 4; ++k) CHECK(near(res4.covariance[k], res.covariance[k], 1e-10));

  // A zero weight drops the point: same fit as without it.
  std::vector<double> w0(kT.size(), 1.0);
  w0[3] = 0;
  std::vector<double> t9(kT), y9(kY);
  t9.erase(t9.begin() + 3), y9.erase(y9.begin() + 3);
  double x9[2], c9[4];
  weighted_line_fit(t9, y9, std::vector<double>(9, 1.0), x9, c9);
  o.weights = w0.data();
  LeastSquaresResult r0;
  REQUIRE(least_squares(problem, x0, o, &r0).ok());
  CHECK(near(r0.x[0], x9[0], 1e-12) && near(r0.x[1], x9[1], 1e-12));
}

TEST(least_squares, covariance_is_nan_when_singular_or_not_overdetermined) {
  // Columns identical: (a + b) t - y.
  Fn dup(2, 5, [](const double* x, double* r, double* J) {
    for (int i = 0; i < 5; ++i) {
      r[i] = (x[0] + x[1]) * i - 2.0 * i - (i % 2 ? 0.1 : -0.1);
      if (J) J[2 * i] = i, J[2 * i + 1] = i;
    }
  });
  const double x0[2] = {0, 0};
  LeastSquaresResult res;
  REQUIRE(least_squares(dup, x0, LeastSquaresOptions{}, &res).ok());
  CHECK(converged(res.status));
  // The identifiable combination s = a + b: s = 2 + sum i d_i / sum i^2.
  double sid = 0, sii = 0;
  for (int i = 0; i < 5; ++i) sid += i * (i % 2 ? 0.1 : -0.1), sii += i * i;
  CHECK(std::fabs(res.x[0] + res.x[1] - (2 + sid / sii)) < 1e-12);
  for (double v : res.covariance) CHECK(std::isnan(v));
  for (double v : res.std_errors) CHECK(std::isnan(v));
  // m < n: one equation in two unknowns; solvable, covariance undefined.
  Fn under(2, 1, [](const double* x, double* r, double* J) {
    r[0] = x[0] + 2 * x[1] - 1;
    if (J) J[0] = 1, J[1] = 2;
  });
  LeastSquaresResult ru;
  REQUIRE(least_squares(under, x0, LeastSquaresOptions{}, &ru).ok());
  CHECK(converged(ru.status));
  CHECK(std::fabs(ru.residuals[0]) < 1e-12);
  for (double v : ru.covariance) CHECK(std::isnan(v));
}

namespace {

// Rosenbrock residuals that also record whether any evaluation left the box.
struct Checked : Residuals {
  const double *lo, *hi;
  bool outside = false;
  Checked(const double* l, const double* h) : lo(l), hi(h) {}
  int n() const override { return 2; }
  int m() const override { return 2; }
  void check(const double* x) {
    for (int j = 0; j < 2; ++j)
      if (x[j] < lo[j] || x[j] > hi[j]) outside = true;
  }
  Status residuals(const double* x, double* r) override {
    check(x);
    r[0] = 10 * (x[1] - x[0] * x[0]), r[1] = 1 - x[0];
    return {};
  }
  Status residuals_jacobian(const double* x, double* r, double* J) override {
    residuals(x, r);
    J[0] = -20 * x[0], J[1] = 10, J[2] = -1, J[3] = 0;
    return {};
  }
};

}  // namespace

TEST(least_squares, bounds_keep_iterates_feasible_and_find_optima_on_a_bound) {
  // Rosenbrock with x0 <= 0.5: the constrained optimum is (0.5, 0.25), on the bound, F = 0.25.
  const double lo[2] = {-2, -INFINITY}, hi[2] = {0.5, INFINITY};
  for (const auto& start : std::vector<std::vector<double>>{{-1.2, 1}, {0.5, 2}, {3, 3}}) {
    Checked problem(lo, hi);
    LeastSquaresOptions o;
    o.bounds = {lo, hi};
    LeastSquaresResult res;
    REQUIRE(least_squares(problem, start.data(), o, &res).ok());
    CHECK(converged(res.status));
    CHECK(!problem.outside);  // every evaluation feasible (the start {3, 3} is projected first)
    CHECK_EQ(res.x[0], 0.5);
    CHECK(std::fabs(res.x[1] - 0.25) < 1e-10);
    CHECK(std::fabs(res.value - 0.25) < 1e-12);
    CHECK(res.grad[0] < 0);  // the gradient pushes against the active bound
  }
  // An inactive bound changes nothing.
  const double lo2[2] = {-5, -5}, hi2[2] = {5, 5};
  Checked free_problem(lo2, hi2);
  LeastSquaresOptions o;
  o.bounds = {lo2, hi2};
  LeastSquaresResult res;
  const double x0[2] = {-1.2, 1};
  REQUIRE(least_squares(free_problem, x0, o, &res).ok());
  CHECK(std::fabs(res.x[0] - 1) < 1e-10 && std::fabs(res.x[1] - 1) < 1e-10);
  // A lower bound above the unconstrained optimum of Misra1a's rate: b2 >= 1e-3 (optimum 5.5e-4).
  const NistData& misra = nist_data()[0];
  REQUIRE(std::string(misra.name) == "Misra1a");
  Regression reg(misra, misra1a);
  const double lo3[2] = {-INFINITY, 1e-3};
  LeastSquaresOptions o3;
  o3.bounds = {lo3, nullptr};
  LeastSquaresResult r3;
  REQUIRE(least_squares(reg, misra.start1.data(), o3, &r3).ok());
  CHECK(converged(r3.status));
  CHECK_EQ(r3.x[1], 1e-3);
  // With b2 held there, b1 is the 1-D least-squares optimum: sum g_i y_i / sum g_i^2.
  double num = 0, den = 0;
  for (size_t i = 0; i < misra.x.size(); ++i) {
    const double g = 1 - std::exp(-1e-3 * misra.x[i]);
    num += g * misra.y[i], den += g * g;
  }
  CHECK(near(r3.x[0], num / den, 1e-9));
}

namespace {

double rho(Loss loss, double z) {
  if (loss == Loss::huber) return z <= 1 ? z : 2 * std::sqrt(z) - 1;
  if (loss == Loss::cauchy) return std::log1p(z);
  return z;
}

}  // namespace

TEST(least_squares, robust_losses_resist_outliers_and_stop_at_a_stationary_point) {
  std::vector<double> y(kY);
  y[2] += 30, y[7] -= 25;  // two gross outliers
  const std::vector<double> w = {1, 1, 1, 1, 2, 1, 1, 1, 1, 0.5};
  Fn problem = line(kT, y);
  const double x0[2] = {0, 0};
  LeastSquaresResult plain;
  REQUIRE(least_squares(problem, x0, LeastSquaresOptions{}, &plain).ok());
  // The clean data's slope is about 2.0.
  for (Loss loss : {Loss::huber, Loss::cauchy}) {
    LeastSquaresOptions o;
    o.loss = loss;
    o.f_scale = 0.5;
    o.weights = w.data();
    LeastSquaresResult res;
    REQUIRE(least_squares(problem, x0, o, &res).ok());
    CHECK(converged(res.status));
    CHECK(std::fabs(res.x[1] - 2.0) < 0.1);
    CHECK(std::fabs(res.x[1] - 2.0) < 0.5 * std::fabs(plain.x[1] - 2.0));
    // cost = 1/2 sum w C^2 rho(r^2 / C^2) and grad its gradient: check both independently, the
    // gradient by central differences of that cost.
    auto cost_at = [&](double a, double b) {
      double c = 0;
      for (size_t i = 0; i < kT.size(); ++i) {
        const double r = a + b * kT[i] - y[i];
        c += w[i] * 0.25 * rho(loss, r * r / 0.25);
      }
      return c / 2;
    };
    CHECK(near(res.cost, cost_at(res.x[0], res.x[1]), 1e-12));
    CHECK(near(res.value, 2 * res.cost, 1e-15));
    const double h = 1e-6;
    const double ga = (cost_at(res.x[0] + h, res.x[1]) - cost_at(res.x[0] - h, res.x[1])) / (2 * h);
    const double gb = (cost_at(res.x[0], res.x[1] + h) - cost_at(res.x[0], res.x[1] - h)) / (2 * h);
    std::printf("  loss %d: x = (%.10g, %.10g), grad (%.3g, %.3g), finite differences (%.3g, %.3g), %s\n",
                static_cast<int>(loss), res.x[0], res.x[1], res.grad[0], res.grad[1], ga, gb, reason(res.status));
    CHECK(std::fabs(ga) < 1e-6 && std::fabs(gb) < 1e-6);
    CHECK(std::fabs(res.grad[0] - ga) < 1e-6 && std::fabs(res.grad[1] - gb) < 1e-6);
    // Away from the optimum the reported gradient must be the true one too: stop after one step.
    o.max_iterations = 1;
    LeastSquaresResult one;
    REQUIRE(least_squares(problem, x0, o, &one).ok());
    CHECK(one.status == StopReason::max_iterations);
    const double ga1 = (cost_at(one.x[0] + h, one.x[1]) - cost_at(one.x[0] - h, one.x[1])) / (2 * h);
    CHECK(near(one.grad[0], ga1, 1e-5));
    CHECK(std::isfinite(one.std_errors[0]));
  }
}

TEST(least_squares, options_are_validated_with_a_message_naming_the_option) {
  Fn problem = line(kT, kY);
  const double x0[2] = {0, 0};
  auto expect = [&](const LeastSquaresOptions& o, const double* x, const char* word) {
    LeastSquaresResult res;
    const Status s = least_squares(problem, x, o, &res);
    CHECK(s.code == ErrorCode::invalid_argument);
    if (s.message.find(word) == std::string::npos) wt::fail(__FILE__, __LINE__, "message '" + s.message + "' lacks " + word);
  };
  std::vector<double> w(10, 1.0);
  LeastSquaresOptions o;
  o.weights = w.data();
  w[4] = -1;
  expect(o, x0, "weights[4]");
  w[4] = std::numeric_limits<double>::quiet_NaN();
  expect(o, x0, "weights[4]");
  w[4] = INFINITY;
  expect(o, x0, "weights[4]");
  o = {};
  o.f_scale = 0;
  expect(o, x0, "f_scale");
  o.f_scale = -1;
  expect(o, x0, "f_scale");
  o = {};
  const double lo[2] = {0, 2}, hi[2] = {1, 1};
  o.bounds = {lo, hi};
  expect(o, x0, "x[1]");
  o = {};
  const double bad[2] = {0, std::numeric_limits<double>::quiet_NaN()};
  expect(o, bad, "x0[1]");
  o.ftol = -1;
  expect(o, x0, "ftol");
  o = {};
  o.max_evaluations = 0;
  expect(o, x0, "maxEvaluations");
  Fn none(2, 0, [](const double*, double*, double*) {});
  LeastSquaresResult res;
  const Status s = least_squares(none, x0, LeastSquaresOptions{}, &res);
  CHECK(s.code == ErrorCode::invalid_argument);
  CHECK(s.message.find("residuals") != std::string::npos);
}

TEST(least_squares, limits_cancellation_and_non_finite_values) {
  const double x0[2] = {-1.2, 1};
  const NistData& d = nist_data()[2];  // MGH10: many iterations from start 1
  REQUIRE(std::string(d.name) == "MGH10");
  Regression problem(d, mgh10);
  LeastSquaresOptions o;
  o.max_iterations = 3;
  LeastSquaresResult res;
  REQUIRE(least_squares(problem, d.start1.data(), o, &res).ok());
  CHECK(res.status == StopReason::max_iterations);
  CHECK_EQ(res.iterations, 3);
  o = {};
  o.max_evaluations = 5;
  REQUIRE(least_squares(problem, d.start1.data(), o, &res).ok());
  CHECK(res.status == StopReason::max_evaluations);
  CHECK_EQ(res.evaluations, 5);
  o.max_evaluations = 1;  // the start only
  REQUIRE(least_squares(problem, d.start1.data(), o, &res).ok());
  CHECK(res.status == StopReason::max_evaluations);
  CHECK_EQ(res.evaluations, 1);
  CHECK(res.x == d.start1);
  // Cancellation is polled once per iteration: a set flag stops before the first step.
  std::atomic<bool> cancel{true};
  o = {};
  o.cancel = &cancel;
  REQUIRE(least_squares(problem, d.start1.data(), o, &res).ok());
  CHECK(res.status == StopReason::aborted);
  CHECK_EQ(res.evaluations, 1);
  CHECK(res.x == d.start1);
  // Non-finite at the start.
  Fn nan_start(1, 1, [](const double* x, double* r, double* J) {
    r[0] = std::log(x[0]);
    if (J) J[0] = 1 / x[0];
  });
  const double neg = -1;
  REQUIRE(least_squares(nan_start, &neg, LeastSquaresOptions{}, &res).ok());
  CHECK(res.status == StopReason::non_finite);
  // Non-finite at a trial point: log(x) + 5 from x = 1 proposes x = -4; the radius shrinks.
  Fn trial(1, 1, [](const double* x, double* r, double* J) {
    r[0] = std::log(x[0]) + 5;
    if (J) J[0] = 1 / x[0];
  });
  const double one = 1;
  REQUIRE(least_squares(trial, &one, LeastSquaresOptions{}, &res).ok());
  CHECK(converged(res.status));
  CHECK(near(res.x[0], std::exp(-5.0), 1e-12));
  (void)x0;
}

TEST(least_squares, allocations_do_not_grow_with_iterations) {
  const NistData& d = nist_data()[2];  // MGH10
  Regression problem(d, mgh10);
  LeastSquaresOptions o;
  LeastSquaresResult res;
  auto count = [&](int iterations) {
    o.max_iterations = iterations;
    CHECK(least_squares(problem, d.start1.data(), o, &res).ok());  // warm the result vectors
    const uint64_t before = wt::allocation_count();
    (void)least_squares(problem, d.start1.data(), o, &res);
    return wt::allocation_count() - before;
  };
  const uint64_t few = count(3), many = count(60);
  CHECK_EQ(res.iterations, 60);
  CHECK_EQ(few, many);
  std::printf("  heap allocations per call: %llu (3 or 60 iterations)\n", static_cast<unsigned long long>(many));
}

namespace {

// BENCH.md's deterministic generator.
double u01(uint64_t i, uint64_t seed) {
  const uint64_t G = 0x9E3779B97F4A7C15ull;
  uint64_t z = seed * G + (i + 1) * G;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// y = a exp(-b t) + c, hand-coded residuals and Jacobian.
class ExpModel : public Residuals {
 public:
  const double* t;
  const double* y;
  int n() const override { return 3; }
  int m() const override { return 50; }
  Status residuals(const double* p, double* r) override {
    for (int i = 0; i < 50; ++i) r[i] = p[0] * std::exp(-p[1] * t[i]) + p[2] - y[i];
    return {};
  }
  Status residuals_jacobian(const double* p, double* r, double* J) override {
    for (int i = 0; i < 50; ++i) {
      const double e = std::exp(-p[1] * t[i]);
      r[i] = p[0] * e + p[2] - y[i];
      J[3 * i] = e, J[3 * i + 1] = -p[0] * t[i] * e, J[3 * i + 2] = 1;
    }
    return {};
  }
};

}  // namespace

// W5 (shared BENCH.md): 1000 fits of y = a exp(-b t) + c to 50 points, t evenly spaced in [0, 5].
// True parameters a in [1, 5), b in [0.2, 2), c in [-1, 1) from u(., 5); noise 0.01 (2u - 1);
// start (1, 1, 0). Timing is printed, not asserted; convergence of every fit is asserted.
TEST(least_squares, w5_batch_exponential_fits) {
  constexpr int kFits = 1000, kM = 50;
  std::vector<double> t(kM), y(static_cast<size_t>(kFits) * kM), truth(3 * kFits);
  for (int i = 0; i < kM; ++i) t[i] = 5.0 * i / (kM - 1);
  for (int k = 0; k < kFits; ++k) {
    const double a = 1 + 4 * u01(3 * k, 5), b = 0.2 + 1.8 * u01(3 * k + 1, 5), c = -1 + 2 * u01(3 * k + 2, 5);
    truth[3 * k] = a, truth[3 * k + 1] = b, truth[3 * k + 2] = c;
    for (int i = 0; i < kM; ++i) y[k * kM + i] = a * std::exp(-b * t[i]) + c + 0.01 * (2 * u01(k * kM + i, 7) - 1);
  }
  ExpModel model;
  model.t = t.data();
  LeastSquaresResult res;
  const double x0[3] = {1, 1, 0};
  int ok = 0, evaluations = 0, iterations = 0;
  double best = 1e300, best_cpu = 1e300;
  for (int rep = 0; rep < 3; ++rep) {
    ok = evaluations = iterations = 0;
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    for (int k = 0; k < kFits; ++k) {
      model.y = y.data() + static_cast<size_t>(k) * kM;
      if (!least_squares(model, x0, LeastSquaresOptions{}, &res).ok()) continue;
      if (converged(res.status) && std::fabs(res.x[1] - truth[3 * k + 1]) < 0.05) ++ok;
      evaluations += res.evaluations;
      iterations += res.iterations;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, ms);
    best_cpu = std::min(best_cpu, 1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC);
  }
  // The model evaluations alone, for the share of the time the algorithm itself takes.
  const std::clock_t s2 = std::clock();
  std::vector<double> r(kM), J(3 * kM);
  double sink = 0;
  for (int k = 0; k < evaluations; ++k) {
    model.y = y.data() + static_cast<size_t>(k % kFits) * kM;
    const double p[3] = {1 + 1e-9 * k, 1, 0};
    (void)model.residuals_jacobian(p, r.data(), J.data());
    sink += r[7];
  }
  const double eval_ms = 1000.0 * static_cast<double>(std::clock() - s2) / CLOCKS_PER_SEC;
  std::printf("  W5: %d fits in %.2f ms wall, %.2f ms CPU (best of 3; %.2f us CPU per fit), %d converged near the "
              "truth, %.1f iterations and %.1f evaluations per fit; the evaluations alone take %.2f ms CPU%s\n",
              kFits, best, best_cpu, 1000 * best_cpu / kFits, ok, double(iterations) / kFits,
              double(evaluations) / kFits, eval_ms, sink == 12345.678 ? "!" : "");
  CHECK_EQ(ok, kFits);
}

// The linear-algebra core on its own (optim/lm_core.h).
TEST(least_squares, pivoted_qr_factors_and_the_lm_parameter_meets_the_radius) {
  using namespace wengert::optim::detail;
  constexpr int m = 9, n = 4;
  // Columns of very different scales, the last nearly a combination of the first two.
  double a0[m * n];
  for (int i = 0; i < m; ++i) {
    a0[i] = 1e-3 * (1 + u01(i, 11));
    a0[m + i] = 50 * (u01(i, 12) - 0.5);
    a0[2 * m + i] = u01(i, 13);
    a0[3 * m + i] = 1e3 * a0[i] + 0.02 * a0[m + i] + 1e-9 * u01(i, 14);
  }
  double a[m * n], rdiag[n], acnorm[n], wa[n];
  int perm[n];
  std::copy(a0, a0 + m * n, a);
  qr_pivot(m, n, a, perm, rdiag, acnorm, wa);
  for (int j = 0; j + 1 < n; ++j) CHECK(std::fabs(rdiag[j]) >= std::fabs(rdiag[j + 1]));
  for (int j = 0; j < n; ++j) CHECK(near(acnorm[j], enorm(m, a0 + j * m), 1e-15));
  // Q^T (column perm[j] of A) = column j of R: zero below the diagonal.
  for (int j = 0; j < n; ++j) {
    double c[m];
    std::copy(a0 + perm[j] * m, a0 + perm[j] * m + m, c);
    apply_qt(m, n, a, c);
    const double scale = enorm(m, a0 + perm[j] * m);
    for (int i = 0; i < j; ++i) CHECK(std::fabs(c[i] - a[i + j * m]) <= 1e-14 * scale);
    CHECK(std::fabs(c[j] - rdiag[j]) <= 1e-14 * scale);
    for (int i = j + 1; i < m; ++i) CHECK(std::fabs(c[i]) <= 1e-14 * scale);
  }
  // The LM parameter for b: ||D x|| within 10% of delta, and x solves (A^T A + par D^2) x = A^T b.
  double b[m], qtb[m], d[n] = {2, 0.5, 1, 3};
  for (int i = 0; i < m; ++i) b[i] = u01(i, 15) - 0.5;
  std::copy(b, b + m, qtb);
  apply_qt(m, n, a, qtb);
  double r[n * n];
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) r[i + j * n] = i < j ? a[i + j * m] : i == j ? rdiag[j] : 0;
  for (double delta : {1e-4, 1e-2, 1.0, 1e6}) {
    double x[n], sdiag[n], w1[n], w2[n], dx[n];
    const double par = lm_parameter(n, r, perm, d, qtb, delta, 0, x, sdiag, w1, w2);
    for (int j = 0; j < n; ++j) dx[j] = d[j] * x[j];
    const double dxnorm = enorm(n, dx);
    if (par > 0) {
      CHECK(std::fabs(dxnorm - delta) <= 0.1 * delta);
    } else {
      CHECK(dxnorm <= 1.1 * delta);
    }
    // Normal-equations residual, relative to the size of its terms.
    double worst = 0, size = 0;
    for (int j = 0; j < n; ++j) {
      double lhs = par * d[j] * d[j] * x[j], rhs = 0;
      for (int i = 0; i < m; ++i) {
        double ax = 0;
        for (int k = 0; k < n; ++k) ax += a0[i + k * m] * x[k];
        lhs += a0[i + j * m] * ax;
        rhs += a0[i + j * m] * b[i];
      }
      worst = std::max(worst, std::fabs(lhs - rhs));
      size = std::max(size, std::fabs(rhs));
    }
    std::printf("  delta %g: par %.3g, ||D x|| %.6g, normal-equations residual %.1e (of %.1e)\n", delta, par, dxnorm,
                worst, size);
    CHECK(worst <= 1e-6 * size);
  }
}

// Non-negative least squares with correlated columns: the projected steps must still reach the
// exact solution, found here by trying every active set.
TEST(least_squares, bounded_linear_problem_matches_the_exact_nnls_solution) {
  constexpr int m = 8, n = 3;
  for (uint64_t seed = 20; seed < 70; ++seed) {
    double A[m * n], b[m];  // row-major
    for (int i = 0; i < m; ++i) {
      const double base = u01(i, seed);
      for (int j = 0; j < n; ++j) A[i * n + j] = base + 0.3 * u01(i * n + j, seed + 100);
      b[i] = 2 * u01(i, seed + 200) - 0.7;
    }
    // Exact: for each subset S of free variables, solve the normal equations on S (x = 0 off S);
    // keep the feasible candidate of least cost.
    double best[n] = {0, 0, 0}, best_cost = 1e300;
    for (int mask = 0; mask < (1 << n); ++mask) {
      int idx[n], k = 0;
      for (int j = 0; j < n; ++j)
        if (mask >> j & 1) idx[k++] = j;
      double M[n][n + 1] = {};
      for (int p = 0; p < k; ++p) {
        for (int q = 0; q < k; ++q)
          for (int i = 0; i < m; ++i) M[p][q] += A[i * n + idx[p]] * A[i * n + idx[q]];
        for (int i = 0; i < m; ++i) M[p][k] += A[i * n + idx[p]] * b[i];
      }
      for (int p = 0; p < k; ++p)  // Gauss–Jordan (symmetric positive definite, no pivoting needed)
        for (int q = 0; q < k; ++q)
          if (q != p) {
            const double f = M[q][p] / M[p][p];
            for (int c = 0; c <= k; ++c) M[q][c] -= f * M[p][c];
          }
      double x[n] = {0, 0, 0};
      bool feasible = true;
      for (int p = 0; p < k; ++p) {
        x[idx[p]] = M[p][k] / M[p][p];
        feasible = feasible && x[idx[p]] >= 0;
      }
      if (!feasible) continue;
      double c = 0;
      for (int i = 0; i < m; ++i) {
        double r = -b[i];
        for (int j = 0; j < n; ++j) r += A[i * n + j] * x[j];
        c += r * r;
      }
      if (c < best_cost) best_cost = c, std::copy(x, x + n, best);
    }
    Fn problem(n, m, [&A, &b](const double* x, double* r, double* J) {
      for (int i = 0; i < m; ++i) {
        r[i] = -b[i];
        for (int j = 0; j < n; ++j) r[i] += A[i * n + j] * x[j];
        if (J)
          for (int j = 0; j < n; ++j) J[i * n + j] = A[i * n + j];
      }
    });
    const double lo[n] = {0, 0, 0}, x0[n] = {1, 1, 1};
    LeastSquaresOptions o;
    o.bounds = {lo, nullptr};
    LeastSquaresResult res;
    REQUIRE(least_squares(problem, x0, o, &res).ok());
    if (!converged(res.status))
      std::printf("  seed %d: %s after %d iterations: %s; x = (%g, %g, %g), grad (%g, %g, %g), exact (%g, %g, %g)\n",
                  static_cast<int>(seed), reason(res.status), res.iterations, res.message.c_str(), res.x[0], res.x[1],
                  res.x[2], res.grad[0], res.grad[1], res.grad[2], best[0], best[1], best[2]);
    CHECK(converged(res.status));
    for (int j = 0; j < n; ++j) {
      CHECK(res.x[j] >= 0);
      if (std::fabs(res.x[j] - best[j]) > 1e-8)
        wt::fail(__FILE__, __LINE__, "seed " + std::to_string(seed) + ": x[" + std::to_string(j) + "] = " +
                                         std::to_string(res.x[j]) + ", exact " + std::to_string(best[j]));
    }
    CHECK(near(res.value, best_cost, 1e-10));
  }
}
