// Adam (Kingma & Ba 2015): x -= lr * m_hat / (sqrt(v_hat) + eps) with bias-corrected first and
// second moment estimates; with bounds each iterate is projected onto the box. Runs `steps` steps
// (max_iterations is ignored) unless the projected gradient falls below gtol, the evaluation limit
// is reached, the cancel flag is set, or the objective turns non-finite. Returns the best point seen
// (the lowest finite value among all evaluated iterates), not necessarily the last.
#include <cmath>

#include "minimize_internal.h"

namespace wengert::optim::detail {

Status minimize_adam(Problem& p, const double* x0) {
  const int n = p.n;
  const MinimizeOptions& o = p.options;
  Workspace ws(6 * static_cast<size_t>(n));
  double* x = ws.take(n);
  double* g = ws.take(n);
  double* m = ws.take(n);
  double* v = ws.take(n);
  double* xbest = ws.take(n);
  double* gbest = ws.take(n);
  for (int i = 0; i < n; ++i) x[i] = clamp(x0[i], p.lower[i], p.upper[i]);

  double f = 0;
  bool stopped = false;
  Status s = eval_start(p, x, &f, g, &stopped);
  if (!s.ok() || stopped) return s;
  double fbest = f;
  std::copy(x, x + n, xbest);
  std::copy(g, g + n, gbest);
  double b1t = 1, b2t = 1;  // beta1^t, beta2^t
  for (int t = 1;; ++t) {
    if (gradient_small(p, projected_gradient_norm(p, x, g), f)) {
      p.finish(xbest, fbest, gbest, t - 1, StopReason::gradient_tolerance, "the projected gradient is below gtol");
      return Status{};
    }
    if (t > o.steps) {
      p.finish(xbest, fbest, gbest, t - 1, StopReason::max_iterations, "adam ran the requested number of steps");
      return Status{};
    }
    if (p.cancelled()) {
      p.finish(xbest, fbest, gbest, t - 1, StopReason::aborted, "the optimization was cancelled");
      return Status{};
    }
    if (!p.budget_left()) {
      p.finish(xbest, fbest, gbest, t - 1, StopReason::max_evaluations, "the evaluation limit was reached");
      return Status{};
    }
    b1t *= o.beta1;
    b2t *= o.beta2;
    for (int i = 0; i < n; ++i) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      const double mhat = m[i] / (1 - b1t);
      const double vhat = v[i] / (1 - b2t);
      x[i] = clamp(x[i] - o.lr * mhat / (std::sqrt(vhat) + o.eps), p.lower[i], p.upper[i]);
    }
    bool finite = false;
    s = p.eval(x, &f, g, &finite);
    if (!s.ok()) return s;
    if (!finite) {
      p.finish(xbest, fbest, gbest, t, StopReason::non_finite,
               "the objective or its gradient became non-finite at step " + std::to_string(t));
      return Status{};
    }
    if (f < fbest) {
      fbest = f;
      std::copy(x, x + n, xbest);
      std::copy(g, g + n, gbest);
    }
  }
}

}  // namespace wengert::optim::detail
