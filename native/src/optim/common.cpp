// minimize(): option validation and dispatch to the methods; stop_reason_name; small dense LU.
#include <cmath>
#include <new>
#include <vector>

#include "minimize_internal.h"

namespace wengert::optim {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::gradient_tolerance: return "gradient-tolerance";
    case StopReason::step_tolerance: return "step-tolerance";
    case StopReason::function_tolerance: return "function-tolerance";
    case StopReason::max_iterations: return "max-iterations";
    case StopReason::max_evaluations: return "max-evaluations";
    case StopReason::non_finite: return "non-finite";
    case StopReason::aborted: return "aborted";
    case StopReason::failed: return "failed";
  }
  return "failed";
}

namespace detail {

bool lu_factor(double* a, int n, int* piv) {
  // Singular only if a pivot is exactly zero or not finite: the L-BFGS-B middle matrices mix
  // pairs from very different scales, so a relative pivot threshold would reject sound matrices.
  for (int k = 0; k < n; ++k) {
    int best = k;
    for (int i = k + 1; i < n; ++i)
      if (std::fabs(a[i * n + k]) > std::fabs(a[best * n + k])) best = i;
    piv[k] = best;
    const double pivot = a[best * n + k];
    if (pivot == 0 || !std::isfinite(pivot)) return false;
    if (best != k)
      for (int j = 0; j < n; ++j) std::swap(a[k * n + j], a[best * n + j]);
    const double inv = 1.0 / a[k * n + k];
    for (int i = k + 1; i < n; ++i) {
      const double l = a[i * n + k] * inv;
      a[i * n + k] = l;
      for (int j = k + 1; j < n; ++j) a[i * n + j] -= l * a[k * n + j];
    }
  }
  return true;
}

void lu_solve(const double* a, int n, const int* piv, double* b) {
  // The factorization swapped whole rows (multipliers included), so all swaps come first.
  for (int k = 0; k < n; ++k)
    if (piv[k] != k) std::swap(b[k], b[piv[k]]);
  for (int k = 0; k < n; ++k)
    for (int i = k + 1; i < n; ++i) b[i] -= a[i * n + k] * b[k];
  for (int i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int j = i + 1; j < n; ++j) s -= a[i * n + j] * b[j];
    b[i] = s / a[i * n + i];
  }
}

}  // namespace detail

namespace {

Status invalid(const std::string& message) { return Status::error(ErrorCode::invalid_argument, message); }

// "minimize: <name>[<i>] <what>", built by appending (GCC 12 at -O3 warns falsely on
// operator+ chains with a temporary; -Wrestrict).
std::string at_index(const char* name, int i, const char* what) {
  std::string s = "minimize: ";
  s += name;
  s += '[';
  s += std::to_string(i);
  s += "] ";
  s += what;
  return s;
}

// A non-negative, non-NaN tolerance (infinity is allowed: it stops at once).
bool bad_tolerance(double v) { return !(v >= 0); }

Status validate(const Objective& objective, const double* x0, const MinimizeOptions& o) {
  const int n = objective.n();
  if (n < 0) return invalid("minimize: the objective has a negative number of variables");
  if (n > 0 && x0 == nullptr) return invalid("minimize: x0 is missing");
  if (o.method != Method::lbfgs && o.method != Method::newton && o.method != Method::adam)
    return invalid("minimize: method must be 'lbfgs', 'newton' or 'adam'");
  if (o.max_iterations < 0) return invalid("minimize: maxIterations must be >= 0");
  if (o.max_evaluations < 1) return invalid("minimize: maxEvaluations must be >= 1");
  if (bad_tolerance(o.gtol)) return invalid("minimize: gtol must be >= 0");
  if (bad_tolerance(o.ftol)) return invalid("minimize: ftol must be >= 0");
  if (bad_tolerance(o.xtol)) return invalid("minimize: xtol must be >= 0");
  if (o.memory < 1) return invalid("minimize: memory must be >= 1");
  if (o.memory > 1000) return invalid("minimize: memory must be <= 1000");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) return invalid("minimize: lr must be a finite number > 0");
  if (o.steps < 0) return invalid("minimize: steps must be >= 0");
  if (!(o.beta1 >= 0 && o.beta1 < 1)) return invalid("minimize: beta1 must be in [0, 1)");
  if (!(o.beta2 >= 0 && o.beta2 < 1)) return invalid("minimize: beta2 must be in [0, 1)");
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) return invalid("minimize: eps must be a finite number >= 0");
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x0[i])) return invalid(at_index("x0", i, "is not finite"));
  bool any_bound = false;
  for (int i = 0; i < n; ++i) {
    const double lo = o.bounds.lower ? o.bounds.lower[i] : -detail::kInf;
    const double hi = o.bounds.upper ? o.bounds.upper[i] : detail::kInf;
    if (std::isnan(lo)) return invalid(at_index("bounds.lower", i, "is NaN"));
    if (std::isnan(hi)) return invalid(at_index("bounds.upper", i, "is NaN"));
    if (lo == detail::kInf) return invalid(at_index("bounds.lower", i, "is +Infinity"));
    if (hi == -detail::kInf) return invalid(at_index("bounds.upper", i, "is -Infinity"));
    if (lo > hi) return invalid(at_index("bounds.lower", i, "> bounds.upper at the same index"));
    any_bound = any_bound || std::isfinite(lo) || std::isfinite(hi);
  }
  if (any_bound && o.method == Method::newton)
    return invalid("minimize: method 'newton' does not take bounds; use method 'lbfgs' (L-BFGS-B) for bounds");
  return Status{};
}

}  // namespace

Status minimize(Objective& objective, const double* x0, const MinimizeOptions& options, MinimizeResult* result) {
  if (result == nullptr) return invalid("minimize: result is missing");
  Status s = validate(objective, x0, options);
  if (!s.ok()) return s;
  const int n = objective.n();
  try {
    std::vector<double> box(2 * static_cast<size_t>(n));
    bool bounded = false;
    for (int i = 0; i < n; ++i) {
      box[i] = options.bounds.lower ? options.bounds.lower[i] : -detail::kInf;
      box[n + i] = options.bounds.upper ? options.bounds.upper[i] : detail::kInf;
      bounded = bounded || std::isfinite(box[i]) || std::isfinite(box[n + i]);
    }
    detail::Problem p{objective, options, result, n, box.data(), box.data() + n, bounded};
    switch (options.method) {
      case Method::lbfgs: return detail::minimize_lbfgs(p, x0);
      case Method::newton: return detail::minimize_newton(p, x0);
      case Method::adam: return detail::minimize_adam(p, x0);
    }
    return Status::error(ErrorCode::internal, "minimize: unknown method");
  } catch (const std::bad_alloc&) {
    std::string message = "minimize: cannot allocate the workspace for ";
    message += std::to_string(n);
    message += " variables";
    return Status::error(ErrorCode::out_of_memory, message);
  }
}

}  // namespace wengert::optim
