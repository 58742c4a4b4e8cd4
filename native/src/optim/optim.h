// Native optimizers: the whole optimization runs in C++, calling compiled programs for values and
// exact derivatives, with no JavaScript round trip per iteration. The algorithms see a problem
// only through the interfaces below, so they are tested on plain C++ functions and driven by
// compiled programs in the addon (one problem instance per optimization; an instance is used by one
// thread at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "../status.h"

namespace wengert::optim {

// Why an optimizer stopped. A result, not an error: every reason but `failed` comes with the
// best point found so far.
enum class StopReason : uint8_t {
  gradient_tolerance,  // the (projected) gradient is below gtol
  step_tolerance,      // the last step changed x by less than xtol (relative)
  function_tolerance,  // the last step changed the value by less than ftol (relative)
  max_iterations,      // the iteration limit was reached
  max_evaluations,     // the evaluation limit was reached
  non_finite,          // the objective, a residual or a derivative was NaN or infinite at every trial
  aborted,             // the cancel flag was set
  failed,              // no progress possible (e.g. a line search failed); the message says why
};
// The stable name of a reason, the `status` string of a JavaScript result: "gradient-tolerance",
// "step-tolerance", "function-tolerance", "max-iterations", "max-evaluations", "non-finite",
// "aborted", "failed".
const char* stop_reason_name(StopReason reason);

// A smooth scalar objective f: R^n -> R.
class Objective {
 public:
  virtual ~Objective() = default;
  virtual int n() const = 0;
  // f(x) and its gradient g (n elements). A non-ok Status aborts the optimization with that error.
  virtual Status value_grad(const double* x, double* f, double* g) = 0;
  // The Hessian at x, n*n row-major (only the "newton" method calls it).
  virtual Status hessian(const double* x, double* h) = 0;
};

// Residuals r: R^n -> R^m (m >= 1) and their Jacobian.
class Residuals {
 public:
  virtual ~Residuals() = default;
  virtual int n() const = 0;
  virtual int m() const = 0;
  virtual Status residuals(const double* x, double* r) = 0;
  // r(x) and the Jacobian J (m*n row-major, J[i*n + j] = d r_i / d x_j).
  virtual Status residuals_jacobian(const double* x, double* r, double* jac) = 0;
};

// Box constraints lower <= x <= upper; either pointer may be null (unbounded), and elements may
// be -inf/+inf.
struct Bounds {
  const double* lower = nullptr;
  const double* upper = nullptr;
};

enum class Method : uint8_t { lbfgs, newton, adam };

struct MinimizeOptions {
  Method method = Method::lbfgs;  // lbfgs is L-BFGS-B when bounds are given
  Bounds bounds;
  int max_iterations = 1000;
  int max_evaluations = 10000;
  double gtol = 1e-8;   // on the infinity norm of the projected gradient, relative to max(1, |f|)
  double ftol = 1e-15;  // relative change of f over an iteration
  double xtol = 1e-15;  // relative change of x over an iteration
  int memory = 10;      // L-BFGS history length
  double lr = 1e-3;     // adam: step size
  int steps = 1000;     // adam: number of steps (max_iterations is ignored)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam
  const std::atomic<bool>* cancel = nullptr;      // polled once per iteration
};

struct MinimizeResult {
  std::vector<double> x;     // the best point found
  double value = 0;          // f(x)
  std::vector<double> grad;  // the gradient at x
  int iterations = 0;
  int evaluations = 0;       // objective evaluations (value and gradient together count once)
  StopReason status = StopReason::failed;
  std::string message;       // a sentence saying why it stopped
};

// A non-ok Status only for an error (bad options, an objective error); otherwise the result says
// how it ended.
Status minimize(Objective& objective, const double* x0, const MinimizeOptions& options, MinimizeResult* result);

enum class Loss : uint8_t { linear, huber, cauchy };

struct LeastSquaresOptions {
  Bounds bounds;
  const double* weights = nullptr;  // m non-negative weights w_i: minimize sum w_i * rho(r_i^2) / 2
  Loss loss = Loss::linear;
  double f_scale = 1.0;             // robust losses: residuals are scaled by 1/f_scale
  int max_iterations = 1000;
  int max_evaluations = 10000;
  double gtol = 1e-10, ftol = 1e-15, xtol = 1e-15;
  const std::atomic<bool>* cancel = nullptr;
  // The first trust radius is initial_radius * ||D x0|| (initial_radius itself when that is 0), D
  // the column norms of the first Jacobian. 1 keeps the first steps cautious; MINPACK's 100 lets
  // MGH09 from NIST's start 1 run away to its asymptotic minimum at infinity.
  double initial_radius = 1.0;
};

// value = 2 * cost (for the linear loss: sum w_i r_i^2, the NIST StRD convention, no 1/2); grad is
// the gradient of cost (J^T W r for the linear loss). Conventions in least_squares.cpp.
struct LeastSquaresResult : MinimizeResult {
  double cost = 0;                 // 0.5 * sum w_i rho(r_i^2) at x
  std::vector<double> residuals;   // r(x), m elements (unweighted)
  std::vector<double> jacobian;    // J(x), m*n row-major (unweighted)
  std::vector<double> covariance;  // n*n: (J^T W J)^-1 * s^2, s^2 = sum w_i r_i^2 / (m - n); NaN if singular or m <= n
  std::vector<double> std_errors;  // sqrt of the covariance's diagonal
};

Status least_squares(Residuals& residuals, const double* x0, const LeastSquaresOptions& options,
                     LeastSquaresResult* result);

}  // namespace wengert::optim
