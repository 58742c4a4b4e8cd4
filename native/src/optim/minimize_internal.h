// Shared pieces of the minimize methods (lbfgs.cpp, newton.cpp, adam.cpp): the evaluation counter,
// small vector helpers and a workspace carved out of one allocation per call.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "optim.h"

namespace wengert::optim::detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One problem being minimized: counts evaluations, checks finiteness, polls the cancel flag, and
// fills the result. Lower/upper are never null here (minimize() substitutes -inf/+inf).
struct Problem {
  Objective& objective;
  const MinimizeOptions& options;
  MinimizeResult* result;
  int n;
  const double* lower;
  const double* upper;
  bool bounded;  // some bound is finite
  int evaluations = 0;

  bool budget_left() const { return evaluations < options.max_evaluations; }
  bool cancelled() const { return options.cancel && options.cancel->load(std::memory_order_relaxed); }
  // f(x), g(x); *finite says whether f and every element of g are finite.
  Status eval(const double* x, double* f, double* g, bool* finite) {
    ++evaluations;
    Status s = objective.value_grad(x, f, g);
    if (!s.ok()) return s;
    bool ok = std::isfinite(*f);
    for (int i = 0; i < n && ok; ++i) ok = std::isfinite(g[i]);
    *finite = ok;
    return Status{};
  }
  // Copies the final point into the result.
  void finish(const double* x, double f, const double* g, int iterations, StopReason reason, std::string message) {
    result->x.assign(x, x + n);
    result->grad.assign(g, g + n);
    result->value = f;
    result->iterations = iterations;
    result->evaluations = evaluations;
    result->status = reason;
    result->message = std::move(message);
  }
};

// Doubles (and ints) for one call, allocated once: take() hands out consecutive slices.
class Workspace {
 public:
  explicit Workspace(std::size_t doubles, std::size_t ints = 0) : d_(doubles, 0.0), i_(ints, 0) {}
  double* take(std::size_t count) {
    double* p = d_.data() + used_;
    used_ += count;
    return p;
  }
  int* take_int(std::size_t count) {
    int* p = i_.data() + used_i_;
    used_i_ += count;
    return p;
  }

 private:
  std::vector<double> d_;
  std::vector<int> i_;
  std::size_t used_ = 0, used_i_ = 0;
};

inline double dot(const double* a, const double* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
inline double norm_inf(const double* a, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s = std::fmax(s, std::fabs(a[i]));
  return s;
}
inline double clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }
// Infinity norm of P(x - g) - x, the projected gradient (the plain gradient without bounds).
inline double projected_gradient_norm(const Problem& p, const double* x, const double* g) {
  double s = 0;
  for (int i = 0; i < p.n; ++i) s = std::fmax(s, std::fabs(clamp(x[i] - g[i], p.lower[i], p.upper[i]) - x[i]));
  return s;
}
// gtol is relative to max(1, |f|).
inline bool gradient_small(const Problem& p, double pg_norm, double f) {
  return pg_norm <= p.options.gtol * std::fmax(1.0, std::fabs(f));
}
inline bool f_change_small(const Problem& p, double f_old, double f_new) {
  return f_old - f_new <= p.options.ftol * std::fmax(std::fabs(f_old), std::fabs(f_new));
}
inline bool x_change_small(const Problem& p, double step_inf, const double* x) {
  return step_inf <= p.options.xtol * norm_inf(x, p.n);
}

// Evaluates the starting point. When f or g is not finite there, finishes the result with status
// non-finite and sets *stopped.
inline Status eval_start(Problem& p, const double* x, double* f, double* g, bool* stopped) {
  bool finite = false;
  Status s = p.eval(x, f, g, &finite);
  if (!s.ok()) return s;
  *stopped = !finite;
  if (!finite) p.finish(x, *f, g, 0, StopReason::non_finite, "the objective or its gradient is not finite at the starting point");
  return s;
}

// The convergence tests after an accepted step, in order: the (projected) gradient norm g_norm,
// the change of f, the step. The first that holds finishes the result; true if one did.
inline bool converged(Problem& p, const double* x, double f, const double* g, int iter, double g_norm, double f_old,
                      double step_inf, const char* gradient_message) {
  if (gradient_small(p, g_norm, f)) {
    p.finish(x, f, g, iter, StopReason::gradient_tolerance, gradient_message);
    return true;
  }
  if (f_change_small(p, f_old, f)) {
    p.finish(x, f, g, iter, StopReason::function_tolerance, "the relative change of f is below ftol");
    return true;
  }
  if (x_change_small(p, step_inf, x)) {
    p.finish(x, f, g, iter, StopReason::step_tolerance, "the relative change of x is below xtol");
    return true;
  }
  return false;
}

// Dense LU with partial pivoting of an n x n row-major matrix in place; false if a pivot is zero
// or not finite.
bool lu_factor(double* a, int n, int* piv);
void lu_solve(const double* a, int n, const int* piv, double* b);

Status minimize_lbfgs(Problem& p, const double* x0);
Status minimize_newton(Problem& p, const double* x0);
Status minimize_adam(Problem& p, const double* x0);

}  // namespace wengert::optim::detail
