// L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4/7.5) and, when bounds are
// given, L-BFGS-B (Byrd, Lu, Nocedal & Zhu, "A limited memory algorithm for bound constrained
// optimization", SIAM J. Sci. Comput. 16(5), 1995).
//
// Unbounded: the direction is -H g by the two-loop recursion with H0 = gamma I,
// gamma = s'y / y'y of the newest pair.
// Bounded: the compact representation B = theta I - W M W' (W = [Y, theta S]) gives the
// generalized Cauchy point along the projected steepest-descent path (paper section 4), then the
// quadratic model is minimized over the variables free at that point by the direct primal method
// (section 5.1) and the result is pulled back into the box. Both then search along
// d = x_bar - x (or -H g) with a line search for the strong Wolfe conditions (N&W Alg. 3.5/3.6,
// cubic interpolation, safeguarded), capped at the largest feasible step. The matrices are
// recomputed from S and Y each iteration: simple and O(m^2 n), fine for the sizes we serve.
//
// A pair (s, y) is stored only if s'y > 1e-10 |s| |y| (positive curvature with margin). A line
// search that finds no decrease clears the memory and retries from the steepest-descent
// direction once before the method reports `failed`.
#include <algorithm>
#include <cmath>
#include <limits>

#include "minimize_internal.h"

namespace wengert::optim::detail {
namespace {

constexpr double kC1 = 1e-4;  // sufficient decrease
constexpr double kC2 = 0.9;   // curvature
constexpr int kMaxTrials = 60;
constexpr double kCurvatureEps = 1e-10;

enum class SearchEnd { ok, no_decrease, non_finite, budget, error };

// The minimizer of the cubic through (a, fa, da) and (b, fb, db); NaN if none.
double cubic_min(double a, double fa, double da, double b, double fb, double db) {
  const double d1 = da + db - 3 * (fa - fb) / (a - b);
  const double disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return std::nan("");
  const double d2 = std::copysign(std::sqrt(disc), b - a);
  const double denom = db - da + 2 * d2;
  if (denom == 0) return std::nan("");
  return b - (b - a) * (db + d2 - d1) / denom;
}

// Line search along x + a d (projected onto the box) for the strong Wolfe conditions. On `ok`
// the accepted point is in (xa, fa, ga) and *step holds a; `ok` is also returned for a step that
// only satisfies sufficient decrease when the interval collapses or the box caps the step.
struct LineSearch {
  Problem& p;
  double* xt;  // trial point and gradient
  double* gt;
  double f_smallest = 0;  // f at the smallest finite trial step of the last run (f0 if none)

  SearchEnd run(const double* x, double f0, const double* d, double dg0, double a_init, double a_max,
                double* xa, double* fa, double* ga, double* step, Status* status) {
    const int n = p.n;
    const double x_inf = norm_inf(x, n), d_inf = norm_inf(d, n);
    double a_lo = 0, f_lo = f0, d_lo = dg0;
    bool have_lo = false;  // a_lo > 0 and (xa, fa, ga) hold its point
    int trials = 0, non_finite = 0;
    double ft = 0, dt = 0, a_smallest = kInf;
    f_smallest = f0;
    // Evaluates a trial; 0 finite, 1 non-finite, 2 out of budget, 3 objective error.
    auto trial = [&](double a) -> int {
      if (!p.budget_left()) return 2;
      ++trials;
      for (int i = 0; i < n; ++i) xt[i] = clamp(x[i] + a * d[i], p.lower[i], p.upper[i]);
      bool finite = false;
      *status = p.eval(xt, &ft, gt, &finite);
      if (!status->ok()) return 3;
      if (!finite) {
        ++non_finite;
        return 1;
      }
      dt = dot(gt, d, n);
      if (a < a_smallest) a_smallest = a, f_smallest = ft;
      return 0;
    };
    auto keep = [&](double a) {
      a_lo = a;
      f_lo = ft;
      d_lo = dt;
      have_lo = true;
      std::copy(xt, xt + n, xa);
      std::copy(gt, gt + n, ga);
      *fa = ft;
    };
    auto finish_partial = [&](SearchEnd otherwise) {
      if (have_lo) {
        *step = a_lo;
        return SearchEnd::ok;
      }
      return otherwise;
    };
    auto sufficient = [&](double a, double fv) { return fv <= f0 + kC1 * a * dg0; };

    // Bracketing phase. a_bad: the smallest step known to give a non-finite value.
    double a = std::min(a_init, a_max);
    double a_prev = 0, f_prev = f0, d_prev = dg0, a_bad = kInf;
    double a_hi = 0, f_hi = 0, d_hi = 0;
    bool hi_finite = true;
    for (;;) {
      if (trials >= kMaxTrials) return finish_partial(non_finite > 0 ? SearchEnd::non_finite : SearchEnd::no_decrease);
      const int r = trial(a);
      if (r == 3) return SearchEnd::error;
      if (r == 2) return finish_partial(SearchEnd::budget);
      if (r == 1) {
        // Too far: step back halfway towards the last good point.
        a_bad = a;
        a = a_prev + 0.5 * (a - a_prev);
        // Stop once the step beyond the last good point is below rounding error of x.
        if (!(a > a_prev && a < a_bad) ||
            (a - a_prev) * d_inf <= std::numeric_limits<double>::epsilon() * x_inf)
          return finish_partial(SearchEnd::non_finite);
        continue;
      }
      if (!sufficient(a, ft) || (a_prev > 0 && ft >= f_prev)) {
        a_hi = a, f_hi = ft, d_hi = dt;
        break;  // zoom between a_lo (= a_prev) and a
      }
      keep(a);
      if (std::fabs(dt) <= -kC2 * dg0) {
        *step = a;
        return SearchEnd::ok;
      }
      if (dt >= 0) {
        a_hi = a_prev, f_hi = f_prev, d_hi = d_prev;
        break;  // zoom between a (now a_lo) and a_prev
      }
      if (a >= a_max) {
        *step = a;
        return SearchEnd::ok;  // the box caps the step; sufficient decrease holds
      }
      a_prev = a, f_prev = ft, d_prev = dt;
      a = std::min(a_max, 4 * a);
      if (a >= a_bad) a = a_prev + 0.5 * (a_bad - a_prev);
      if (!(a > a_prev)) {
        *step = a_prev;
        return SearchEnd::ok;
      }
    }
    // Zoom phase: the interval between a_lo and a_hi contains a strong Wolfe point.
    for (;;) {
      if (trials >= kMaxTrials) return finish_partial(non_finite > 0 ? SearchEnd::non_finite : SearchEnd::no_decrease);
      const double lo = std::min(a_lo, a_hi), hi = std::max(a_lo, a_hi), w = hi - lo;
      if (!(w > 1e-15 * hi)) return finish_partial(non_finite > 0 ? SearchEnd::non_finite : SearchEnd::no_decrease);
      double at = hi_finite ? cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi) : std::nan("");
      if (!(at >= lo + 0.1 * w && at <= hi - 0.1 * w)) at = 0.5 * (a_lo + a_hi);
      const int r = trial(at);
      if (r == 3) return SearchEnd::error;
      if (r == 2) return finish_partial(SearchEnd::budget);
      if (r == 1) {
        a_hi = at, hi_finite = false;
        continue;
      }
      if (!sufficient(at, ft) || ft >= f_lo) {
        a_hi = at, f_hi = ft, d_hi = dt, hi_finite = true;
        continue;
      }
      if (std::fabs(dt) <= -kC2 * dg0) {
        keep(at);
        *step = at;
        return SearchEnd::ok;
      }
      if (dt * (a_hi - a_lo) >= 0) a_hi = a_lo, f_hi = f_lo, d_hi = d_lo, hi_finite = true;
      keep(at);
    }
  }
};

// L-BFGS memory: up to m pairs (s, y) in a ring, oldest first in logical order.
struct Memory {
  int m = 0, n = 0, k = 0, start = 0;
  double* s = nullptr;  // m * n
  double* y = nullptr;
  double* sy = nullptr;  // s_j' y_j
  int slot(int j) const { return (start + j) % m; }
  const double* S(int j) const { return s + static_cast<size_t>(slot(j)) * n; }
  const double* Y(int j) const { return y + static_cast<size_t>(slot(j)) * n; }
  void clear() { k = 0, start = 0; }
  // Adds x1 - x0, g1 - g0 if the curvature is positive enough; returns whether it did.
  bool push(const double* x0, const double* x1, const double* g0, const double* g1) {
    double ss = 0, yy = 0, syv = 0;
    for (int i = 0; i < n; ++i) {
      const double si = x1[i] - x0[i], yi = g1[i] - g0[i];
      ss += si * si;
      yy += yi * yi;
      syv += si * yi;
    }
    if (!(syv > kCurvatureEps * std::sqrt(ss) * std::sqrt(yy)) || !std::isfinite(syv) || !std::isfinite(yy)) return false;
    int j;
    if (k < m) {
      j = slot(k);
      ++k;
    } else {
      j = start;
      start = (start + 1) % m;
    }
    double* sj = s + static_cast<size_t>(j) * n;
    double* yj = y + static_cast<size_t>(j) * n;
    for (int i = 0; i < n; ++i) {
      sj[i] = x1[i] - x0[i];
      yj[i] = g1[i] - g0[i];
    }
    sy[j] = syv;
    return true;
  }
};

// d = -H g by the two-loop recursion.
void two_loop(const Memory& mem, const double* g, double* d, double* alpha) {
  const int n = mem.n;
  for (int i = 0; i < n; ++i) d[i] = -g[i];
  for (int j = mem.k - 1; j >= 0; --j) {
    const double* s = mem.S(j);
    const double* y = mem.Y(j);
    alpha[j] = dot(s, d, n) / mem.sy[mem.slot(j)];
    for (int i = 0; i < n; ++i) d[i] -= alpha[j] * y[i];
  }
  if (mem.k > 0) {
    const double* y = mem.Y(mem.k - 1);
    const double gamma = mem.sy[mem.slot(mem.k - 1)] / dot(y, y, n);
    for (int i = 0; i < n; ++i) d[i] *= gamma;
  }
  for (int j = 0; j < mem.k; ++j) {
    const double* s = mem.S(j);
    const double* y = mem.Y(j);
    const double beta = dot(y, d, n) / mem.sy[mem.slot(j)];
    for (int i = 0; i < n; ++i) d[i] += (alpha[j] - beta) * s[i];
  }
}

// The L-BFGS-B direction: generalized Cauchy point, subspace minimization, pull back into the box.
struct BoxStep {
  Problem& p;
  Memory& mem;
  // Workspace (sizes for memory m: 2m vectors, (2m)^2 matrices).
  double *t = nullptr, *dcp = nullptr, *xcp = nullptr, *r = nullptr, *wv = nullptr, *pv = nullptr, *cv = nullptr;
  double *tmp = nullptr, *tmp2 = nullptr, *K = nullptr, *M = nullptr, *N = nullptr, *A = nullptr;
  int *piv = nullptr, *order = nullptr;

  double theta() const {
    if (mem.k == 0) return 1.0;
    const double* y = mem.Y(mem.k - 1);
    return dot(y, y, p.n) / mem.sy[mem.slot(mem.k - 1)];
  }
  // Row i of W = [Y, theta S] into out (2k).
  void w_row(int i, double th, double* out) const {
    for (int j = 0; j < mem.k; ++j) {
      out[j] = mem.Y(j)[i];
      out[mem.k + j] = th * mem.S(j)[i];
    }
  }
  // out = M v (2k).
  void mul_M(const double* v, double* out) const {
    const int kk = 2 * mem.k;
    for (int a = 0; a < kk; ++a) {
      double s = 0;
      for (int b = 0; b < kk; ++b) s += M[a * kk + b] * v[b];
      out[a] = s;
    }
  }
  // M = [[-D, L'], [L, theta S'S]]^-1; false if singular.
  bool form_M(double th) {
    const int k = mem.k, kk = 2 * k, n = p.n;
    for (int a = 0; a < k; ++a) {
      for (int b = 0; b < k; ++b) {
        const double sy = dot(mem.S(a), mem.Y(b), n);  // s_a' y_b
        K[a * kk + b] = (a == b) ? -sy : 0.0;                       // -D
        K[(k + a) * kk + b] = (a > b) ? sy : 0.0;                   // L: s_a' y_b, a > b
        K[b * kk + (k + a)] = (a > b) ? sy : 0.0;                   // L'
        K[(k + a) * kk + (k + b)] = th * dot(mem.S(a), mem.S(b), n);  // theta S'S
      }
    }
    if (!lu_factor(K, kk, piv)) return false;
    for (int c = 0; c < kk; ++c) {
      for (int a = 0; a < kk; ++a) tmp[a] = (a == c) ? 1.0 : 0.0;
      lu_solve(K, kk, piv, tmp);
      for (int a = 0; a < kk; ++a) M[a * kk + c] = tmp[a];
    }
    return true;
  }

  // Computes x_bar into xbar; false if the matrices were singular (the caller clears the memory).
  bool direction(const double* x, const double* g, double* xbar) {
    const int n = p.n;
    const double* l = p.lower;
    const double* u = p.upper;
    const double th = theta();
    const int k = mem.k, kk = 2 * k;
    if (k > 0 && !form_M(th)) return false;

    // Generalized Cauchy point (paper, Algorithm CP).
    int nb = 0;
    double fp = 0;
    for (int i = 0; i < n; ++i) {
      if (g[i] < 0 && u[i] < kInf) t[i] = (x[i] - u[i]) / g[i];
      else if (g[i] > 0 && l[i] > -kInf) t[i] = (x[i] - l[i]) / g[i];
      else t[i] = kInf;
      dcp[i] = (t[i] == 0) ? 0.0 : -g[i];
      xcp[i] = x[i];
      if (t[i] > 0 && t[i] < kInf) order[nb++] = i;
      fp -= dcp[i] * dcp[i];
    }
    for (int a = 0; a < kk; ++a) pv[a] = cv[a] = 0;
    for (int i = 0; i < n; ++i) {
      if (dcp[i] == 0) continue;
      w_row(i, th, wv);
      for (int a = 0; a < kk; ++a) pv[a] += wv[a] * dcp[i];
    }
    double fpp = -th * fp;
    if (k > 0) {
      mul_M(pv, tmp);
      fpp -= dot(pv, tmp, kk);
    }
    const double fpp0 = fpp;
    double dtmin = fpp > 0 ? -fp / fpp : kInf;
    std::sort(order, order + nb, [&](int a, int b) { return t[a] < t[b]; });
    double told = 0;
    int next = 0;
    for (; next < nb; ++next) {
      const int b = order[next];
      const double dt = t[b] - told;
      if (dtmin < dt) break;
      const double xb = dcp[b] > 0 ? u[b] : l[b];
      const double zb = xb - x[b];
      xcp[b] = xb;
      const double gb = g[b];
      for (int a = 0; a < kk; ++a) cv[a] += dt * pv[a];
      fp += dt * fpp + gb * gb + th * gb * zb;
      fpp -= th * gb * gb;
      if (k > 0) {
        w_row(b, th, wv);
        mul_M(cv, tmp);
        fp -= gb * dot(wv, tmp, kk);
        mul_M(pv, tmp);
        fpp -= 2 * gb * dot(wv, tmp, kk);
        mul_M(wv, tmp);
        fpp -= gb * gb * dot(wv, tmp, kk);
        for (int a = 0; a < kk; ++a) pv[a] += gb * wv[a];
      }
      fpp = std::max(fpp, 1e-16 * fpp0);
      dcp[b] = 0;
      told = t[b];
      dtmin = fpp > 0 ? -fp / fpp : kInf;
    }
    if (!(dtmin >= 0)) dtmin = 0;
    if (next == nb && dtmin == kInf) dtmin = 0;  // no curvature and no breakpoint left: stay (not expected)
    told += dtmin;
    for (int i = 0; i < n; ++i)
      if (dcp[i] != 0) xcp[i] = clamp(x[i] + told * dcp[i], l[i], u[i]);
    for (int a = 0; a < kk; ++a) cv[a] += dtmin * pv[a];

    // Subspace minimization over the free variables (direct primal method).
    // r = g + theta (xcp - x) - W M c on the free variables.
    if (k > 0) mul_M(cv, tmp2);
    int nfree = 0;
    for (int i = 0; i < n; ++i) {
      xbar[i] = xcp[i];
      const bool free = xcp[i] > l[i] && xcp[i] < u[i];
      if (!free) {
        r[i] = 0;
        continue;
      }
      ++nfree;
      double ri = g[i] + th * (xcp[i] - x[i]);
      if (k > 0) {
        w_row(i, th, wv);
        ri -= dot(wv, tmp2, kk);
      }
      r[i] = ri;
    }
    if (nfree == 0) return true;
    // dhat = -(1/theta) r - (1/theta^2) Z'W N^-1 M W'Z r, N = I - (1/theta) M W'Z Z'W.
    double* dhat = t;  // t is no longer needed
    for (int i = 0; i < n; ++i) dhat[i] = -r[i] / th;
    if (k > 0) {
      for (int a = 0; a < kk; ++a) tmp[a] = 0;
      for (int a = 0; a < kk * kk; ++a) A[a] = 0;
      for (int i = 0; i < n; ++i) {
        if (!(xcp[i] > l[i] && xcp[i] < u[i])) continue;
        w_row(i, th, wv);
        for (int a = 0; a < kk; ++a) {
          tmp[a] += wv[a] * r[i];
          for (int b = 0; b < kk; ++b) A[a * kk + b] += wv[a] * wv[b];
        }
      }
      mul_M(tmp, tmp2);  // v = M W'Z r
      for (int a = 0; a < kk; ++a)
        for (int b = 0; b < kk; ++b) {
          double s = 0;
          for (int c = 0; c < kk; ++c) s += M[a * kk + c] * A[c * kk + b];
          N[a * kk + b] = (a == b ? 1.0 : 0.0) - s / th;
        }
      if (!lu_factor(N, kk, piv)) return false;
      lu_solve(N, kk, piv, tmp2);
      for (int i = 0; i < n; ++i) {
        if (!(xcp[i] > l[i] && xcp[i] < u[i])) continue;
        w_row(i, th, wv);
        dhat[i] -= dot(wv, tmp2, kk) / (th * th);
      }
    }
    // Backtrack into the box: the largest alpha <= 1 keeping xcp + alpha dhat feasible.
    double alpha = 1;
    for (int i = 0; i < n; ++i) {
      if (!(xcp[i] > l[i] && xcp[i] < u[i])) continue;
      if (dhat[i] > 0 && u[i] < kInf) alpha = std::min(alpha, (u[i] - xcp[i]) / dhat[i]);
      else if (dhat[i] < 0 && l[i] > -kInf) alpha = std::min(alpha, (l[i] - xcp[i]) / dhat[i]);
    }
    for (int i = 0; i < n; ++i)
      if (xcp[i] > l[i] && xcp[i] < u[i]) xbar[i] = clamp(xcp[i] + alpha * dhat[i], l[i], u[i]);
    return true;
  }
};

}  // namespace

Status minimize_lbfgs(Problem& p, const double* x0) {
  const int n = p.n;
  const int m = p.options.memory;
  const size_t nn = static_cast<size_t>(n), mm = static_cast<size_t>(m), kk = 2 * mm;
  const size_t doubles = 8 * nn + 2 * mm * nn + 2 * mm + (p.bounded ? 4 * nn + 5 * kk + nn + 4 * kk * kk : 0);
  Workspace ws(doubles, p.bounded ? kk + nn : 0);
  double* x = ws.take(nn);
  double* g = ws.take(nn);
  double* d = ws.take(nn);
  double* xn = ws.take(nn);  // accepted point of the line search
  double* gn = ws.take(nn);
  double* xt = ws.take(nn);  // line-search trial
  double* gt = ws.take(nn);
  double* xbar = ws.take(nn);
  Memory mem;
  mem.m = m, mem.n = n;
  mem.s = ws.take(mm * nn);
  mem.y = ws.take(mm * nn);
  mem.sy = ws.take(mm);
  double* alpha = ws.take(mm);
  BoxStep box{p, mem};
  if (p.bounded) {
    box.t = ws.take(nn), box.dcp = ws.take(nn), box.xcp = ws.take(nn), box.r = ws.take(nn);
    box.wv = ws.take(kk), box.pv = ws.take(kk), box.cv = ws.take(kk), box.tmp = ws.take(kk);
    box.tmp2 = ws.take(kk);
    box.K = ws.take(kk * kk), box.M = ws.take(kk * kk), box.N = ws.take(kk * kk), box.A = ws.take(kk * kk);
    box.piv = ws.take_int(kk), box.order = ws.take_int(nn);
  }
  LineSearch search{p, xt, gt};

  for (int i = 0; i < n; ++i) x[i] = clamp(x0[i], p.lower[i], p.upper[i]);
  double f = 0;
  bool stopped = false;
  Status s = eval_start(p, x, &f, g, &stopped);
  if (!s.ok() || stopped) return s;
  double pg = projected_gradient_norm(p, x, g);
  if (pg == 0 || gradient_small(p, pg, f)) {
    p.finish(x, f, g, 0, StopReason::gradient_tolerance, "the projected gradient is below gtol at the starting point");
    return Status{};
  }
  bool just_reset = false;
  for (int iter = 0;;) {
    if (iter >= p.options.max_iterations) {
      p.finish(x, f, g, iter, StopReason::max_iterations, "the iteration limit was reached");
      return Status{};
    }
    if (p.cancelled()) {
      p.finish(x, f, g, iter, StopReason::aborted, "the optimization was cancelled");
      return Status{};
    }
    // Search direction.
    double dg = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!p.bounded) {
        two_loop(mem, g, d, alpha);
      } else {
        if (!box.direction(x, g, xbar)) {
          mem.clear();
          box.direction(x, g, xbar);
        }
        for (int i = 0; i < n; ++i) d[i] = xbar[i] - x[i];
      }
      dg = dot(g, d, n);
      if (dg < 0 || mem.k == 0) break;
      mem.clear();  // not a descent direction: the memory is stale
    }
    if (!(dg < 0)) {
      p.finish(x, f, g, iter, StopReason::failed,
               "no descent direction: the projected gradient is tiny relative to rounding error");
      return Status{};
    }
    double a_max = kInf;
    if (p.bounded) {
      for (int i = 0; i < n; ++i) {
        if (d[i] > 0 && p.upper[i] < kInf) a_max = std::min(a_max, (p.upper[i] - x[i]) / d[i]);
        else if (d[i] < 0 && p.lower[i] > -kInf) a_max = std::min(a_max, (p.lower[i] - x[i]) / d[i]);
      }
    }
    double a_init = 1;
    if (mem.k == 0) a_init = std::min(1.0, 1.0 / std::sqrt(dot(d, d, n)));
    double fn = 0, step = 0;
    const SearchEnd end = search.run(x, f, d, dg, a_init, a_max, xn, &fn, gn, &step, &s);
    if (end == SearchEnd::error) return s;
    if (end == SearchEnd::non_finite) {
      p.finish(x, f, g, iter, StopReason::non_finite,
               "the objective or its gradient was not finite at every trial point of the line search");
      return Status{};
    }
    if (end == SearchEnd::budget) {
      p.finish(x, f, g, iter, StopReason::max_evaluations, "the evaluation limit was reached");
      return Status{};
    }
    if (end == SearchEnd::no_decrease) {
      if (mem.k > 0 && !just_reset) {
        mem.clear();
        just_reset = true;
        continue;
      }
      if (std::fabs(search.f_smallest - f) <= 64 * std::numeric_limits<double>::epsilon() * std::fabs(f)) {
        p.finish(x, f, g, iter, StopReason::function_tolerance,
                 "f does not change measurably along the search direction: x is a minimum to rounding error");
        return Status{};
      }
      p.finish(x, f, g, iter, StopReason::failed,
               "the line search found no point with sufficient decrease (is the gradient consistent with f?)");
      return Status{};
    }
    just_reset = false;
    ++iter;
    mem.push(x, xn, g, gn);
    double step_inf = 0;
    for (int i = 0; i < n; ++i) step_inf = std::max(step_inf, std::fabs(xn[i] - x[i]));
    const double f_old = f;
    std::copy(xn, xn + n, x);
    std::copy(gn, gn + n, g);
    f = fn;
    pg = projected_gradient_norm(p, x, g);
    if (converged(p, x, f, g, iter, pg, f_old, step_inf, "the projected gradient is below gtol")) return Status{};
  }
}

}  // namespace wengert::optim::detail
