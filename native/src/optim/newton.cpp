// 'newton': a trust-region Newton method with the exact Hessian (Nocedal & Wright ch. 4; Moré &
// Sorensen, "Computing a trust region step", SIAM J. Sci. Stat. Comput. 4(3), 1983).
//
// The subproblem min g'p + p'Hp/2 subject to |p| <= delta is solved through the eigen-
// decomposition H = Q diag(w) Q' (cyclic Jacobi; n is small): with a = Q'g,
// |p(lambda)|^2 = sum a_i^2 / (w_i + lambda)^2, and lambda >= max(0, -w_min) is found by
// safeguarded Newton iteration on 1/|p(lambda)| - 1/delta (Moré–Sorensen), bisection when a
// Newton step leaves the bracket. This is exact for indefinite H and handles the hard case
// (g orthogonal to the eigenvectors of w_min) by adding the multiple of the eigenvector that
// reaches the boundary. The eigen-decomposition costs O(n^3) per iteration, which is what a dense
// Hessian costs anyway.
//
// The radius starts at max(1, |x0|_2), is divided by 4 when the actual/predicted reduction ratio
// is below 1/4, and doubled when it is above 3/4 and the step reached the boundary; a step is
// accepted when the ratio exceeds 1e-4. A non-finite value at a trial point counts as a rejected
// step. Bounds are rejected by minimize() (use lbfgs). The evaluation count includes value and
// gradient evaluations, not Hessian evaluations.
#include <algorithm>
#include <cmath>

#include "minimize_internal.h"

namespace wengert::optim::detail {
namespace {

// Eigen-decomposition of the symmetric n x n matrix a (destroyed): eigenvalues w, eigenvectors the
// columns of v (row-major).
void jacobi_eigen(double* a, int n, double* v, double* w) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) v[i * n + j] = (i == j) ? 1.0 : 0.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (int i = 0; i < n; ++i) {
      diag += a[i * n + i] * a[i * n + i];
      for (int j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
    }
    if (off == 0 || off <= 1e-32 * diag) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = std::isfinite(theta * theta)
                             ? std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1))
                             : 0.5 / theta;
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (int i = 0; i < n; ++i) w[i] = a[i * n + i];
}

// Solves the trust-region subproblem in eigen coordinates: a = Q'g, w eigenvalues. Writes the step
// coefficients c (p = Q c) and returns |p|.
double tr_subproblem(const double* a, const double* w, int n, double delta, double* c) {
  double wmin = kInf, wmax = 0, anorm2 = 0;
  for (int i = 0; i < n; ++i) {
    wmin = std::min(wmin, w[i]);
    wmax = std::max(wmax, std::fabs(w[i]));
    anorm2 += a[i] * a[i];
  }
  const double anorm = std::sqrt(anorm2);
  auto norm_at = [&](double lam, double* dnorm2) {
    double s = 0, q = 0;
    for (int i = 0; i < n; ++i) {
      const double den = w[i] + lam;
      if (a[i] == 0) continue;
      s += a[i] * a[i] / (den * den);
      q += a[i] * a[i] / (den * den * den);
    }
    if (dnorm2) *dnorm2 = q;
    return std::sqrt(s);
  };
  auto fill = [&](double lam) {
    double s = 0;
    for (int i = 0; i < n; ++i) {
      c[i] = (a[i] == 0) ? 0.0 : -a[i] / (w[i] + lam);
      s += c[i] * c[i];
    }
    return std::sqrt(s);
  };
  // Interior Newton step.
  if (wmin > 0) {
    const double pn = norm_at(0, nullptr);
    if (pn <= delta) return fill(0);
  }
  const double lo0 = std::max(0.0, -wmin);
  // Hard case: the components along the eigenvectors of wmin are (numerically) zero and the step
  // from the others at lambda = -wmin is inside the region.
  const double tiny = 1e-14 * std::max(anorm, 1e-300);
  bool hard = wmin <= 0;
  for (int i = 0; i < n && hard; ++i)
    if (w[i] - wmin <= 1e-12 * std::max(1.0, wmax) && std::fabs(a[i]) > tiny) hard = false;
  if (hard) {
    double s = 0;
    int imin = 0;
    for (int i = 0; i < n; ++i) {
      if (w[i] - wmin <= 1e-12 * std::max(1.0, wmax)) {
        c[i] = 0;
        if (w[i] <= w[imin]) imin = i;
        continue;
      }
      c[i] = -a[i] / (w[i] + lo0);
      s += c[i] * c[i];
    }
    if (s <= delta * delta) {
      c[imin] = std::sqrt(delta * delta - s);
      return delta;
    }
  }
  // Boundary solution: lambda in (lo, hi) with |p(lambda)| = delta.
  double lo = lo0, hi = lo0 + anorm / delta + wmax + 1;
  for (int i = 0; i < 64 && norm_at(hi, nullptr) > delta; ++i) hi *= 2;  // safety; the bound above should hold
  double lam = (wmin > 0) ? 0 : std::min(hi, lo0 + std::max(1e-12 * std::max(1.0, wmax), anorm / delta * 1e-3));
  for (int it = 0; it < 200; ++it) {
    double q2 = 0;
    const double pn = norm_at(lam, &q2);
    if (std::fabs(pn - delta) <= 1e-10 * delta) break;
    if (pn > delta) lo = std::max(lo, lam);
    else hi = std::min(hi, lam);
    // Newton on 1/|p| - 1/delta: lambda += (|p|^2 / q^2) (|p| - delta) / delta.
    double next = (q2 > 0 && std::isfinite(pn)) ? lam + (pn * pn / q2) * (pn - delta) / delta : std::nan("");
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == lam || hi - lo <= 1e-15 * hi) break;
    lam = next;
  }
  return fill(lam);
}

}  // namespace

Status minimize_newton(Problem& p, const double* x0) {
  const int n = p.n;
  const size_t nn = static_cast<size_t>(n);
  Workspace ws(3 * nn * nn + 10 * nn);
  double* h = ws.take(nn * nn);
  double* e = ws.take(nn * nn);  // the matrix being diagonalized
  double* q = ws.take(nn * nn);  // eigenvectors (columns)
  double* w = ws.take(nn);
  double* a = ws.take(nn);
  double* c = ws.take(nn);
  double* step = ws.take(nn);
  double* hp = ws.take(nn);
  double* x = ws.take(nn);
  double* g = ws.take(nn);
  double* xt = ws.take(nn);
  double* gt = ws.take(nn);

  std::copy(x0, x0 + n, x);
  double f = 0;
  bool stopped = false;
  Status s = eval_start(p, x, &f, g, &stopped);
  if (!s.ok() || stopped) return s;
  double delta = std::max(1.0, std::sqrt(dot(x, x, n)));
  bool need_hessian = true;
  int rejected_non_finite = 0;
  for (int iter = 0;;) {
    if (gradient_small(p, norm_inf(g, n), f) || norm_inf(g, n) == 0) {
      p.finish(x, f, g, iter, StopReason::gradient_tolerance, "the gradient is below gtol");
      return Status{};
    }
    if (iter >= p.options.max_iterations) {
      p.finish(x, f, g, iter, StopReason::max_iterations, "the iteration limit was reached");
      return Status{};
    }
    if (p.cancelled()) {
      p.finish(x, f, g, iter, StopReason::aborted, "the optimization was cancelled");
      return Status{};
    }
    if (!p.budget_left()) {
      p.finish(x, f, g, iter, StopReason::max_evaluations, "the evaluation limit was reached");
      return Status{};
    }
    if (need_hessian) {
      s = p.objective.hessian(x, h);
      if (!s.ok()) return s;
      bool ok = true;
      for (size_t i = 0; i < nn * nn && ok; ++i) ok = std::isfinite(h[i]);
      if (!ok) {
        p.finish(x, f, g, iter, StopReason::non_finite, "the Hessian is not finite at the current point");
        return Status{};
      }
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) e[i * n + j] = 0.5 * (h[i * n + j] + h[j * n + i]);
      std::copy(e, e + nn * nn, h);
      jacobi_eigen(e, n, q, w);
      for (int i = 0; i < n; ++i) {
        double s2 = 0;
        for (int k = 0; k < n; ++k) s2 += q[k * n + i] * g[k];
        a[i] = s2;
      }
      need_hessian = false;
    }
    ++iter;
    const double pnorm = tr_subproblem(a, w, n, delta, c);
    for (int k = 0; k < n; ++k) {
      double s2 = 0;
      for (int i = 0; i < n; ++i) s2 += q[k * n + i] * c[i];
      step[k] = s2;
    }
    for (int i = 0; i < n; ++i) hp[i] = dot(h + static_cast<size_t>(i) * n, step, n);
    const double predicted = -(dot(g, step, n) + 0.5 * dot(step, hp, n));
    if (!(predicted > 0)) {
      p.finish(x, f, g, iter, StopReason::function_tolerance,
               "the quadratic model predicts no further decrease (x is a minimum to rounding error)");
      return Status{};
    }
    for (int i = 0; i < n; ++i) xt[i] = x[i] + step[i];
    double ft = 0;
    bool finite = false;
    s = p.eval(xt, &ft, gt, &finite);
    if (!s.ok()) return s;
    double rho;
    if (!finite) {
      rho = -kInf;
      if (++rejected_non_finite > 60) {
        p.finish(x, f, g, iter, StopReason::non_finite,
                 "the objective or its gradient was not finite at every trial point");
        return Status{};
      }
    } else {
      rejected_non_finite = 0;
      rho = (f - ft) / predicted;
    }
    if (rho < 0.25) delta = 0.25 * pnorm;
    else if (rho > 0.75 && pnorm >= 0.99 * delta) delta = 2 * delta;
    if (rho > 1e-4) {
      const double f_old = f;
      const double step_inf = norm_inf(step, n);
      std::copy(xt, xt + n, x);
      std::copy(gt, gt + n, g);
      f = ft;
      need_hessian = true;
      if (converged(p, x, f, g, iter, norm_inf(g, n), f_old, step_inf, "the gradient is below gtol")) return Status{};
    } else if (delta <= p.options.xtol * norm_inf(x, n) || delta == 0) {
      if (!finite) {
        p.finish(x, f, g, iter, StopReason::non_finite,
                 "the objective or its gradient was not finite at every trial point down to the step tolerance");
        return Status{};
      }
      p.finish(x, f, g, iter, StopReason::step_tolerance,
               "the trust region shrank below xtol relative to x without an acceptable step");
      return Status{};
    }
  }
}

}  // namespace wengert::optim::detail
