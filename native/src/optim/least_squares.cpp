// Nonlinear least squares: Levenberg–Marquardt in trust-region form (Moré 1978, "The
// Levenberg–Marquardt algorithm: implementation and theory"), with box bounds, weights and robust
// losses.
//
// The problem solved is   minimize cost(x) = 1/2 sum_i w_i rho(r_i(x)^2),   lower <= x <= upper,
// where rho(s) = s for the linear loss and rho(s) = C^2 rho1(s / C^2) (C = f_scale) for the robust
// losses: huber rho1(z) = z if z <= 1 else 2 sqrt(z) - 1; cauchy rho1(z) = log(1 + z).
//
// Each iteration works on the Gauss–Newton model of that cost: the "effective" residuals f and
// Jacobian Je (Triggs et al., "Bundle adjustment — a modern synthesis", section 4.3):
//   Je_i = sqrt(w_i s_i) J_i,  f_i = w_i rho'(z_i) r_i / sqrt(w_i s_i),  s_i = rho'(z_i) + 2 z_i rho''(z_i)
// (z_i = r_i^2 / C^2, s_i clipped below at machine epsilon), so Je^T f is the exact gradient of the
// cost and Je^T Je the usual robust approximation of its Hessian. For the linear loss this is simply
// f = sqrt(w) r, Je = sqrt(w) J.
//
// The step p solves  min ||f + Je p||  subject to  ||D p|| <= Delta  (D: diagonal scaling from the
// largest column norms of Je seen so far). It comes from a QR factorization with column pivoting
// of Je (Householder; never the normal equations, which square the condition number), and the LM
// parameter lambda with (Je^T Je + lambda D^2) p = -Je^T f is found by Moré's safeguarded Newton
// iteration so that ||D p|| is within 10% of Delta (or lambda = 0 when the Gauss–Newton step is
// inside the region). The ratio of actual to predicted reduction accepts or rejects the step and
// updates Delta as in MINPACK.
//
// Bounds: an active-set, projected variant that keeps every iterate feasible. At the start of each
// iteration a variable sitting on a bound whose gradient component pushes it outward is held fixed;
// the trust-region subproblem is solved over the others; the trial point is projected onto the box.
// When the projection changes the step, the predicted reduction is evaluated for the projected step
// itself, so the ratio test stays honest; a rejected step shrinks Delta, and as Delta -> 0 the
// step tends to a scaled steepest-descent step that needs no projection, so progress is always
// possible away from a (projected-gradient) stationary point. x0 outside the box is projected
// onto it.
//
// Convergence (options; the defaults meet the NIST StRD target, parameter LRE >= 6, from both
// NIST starts):
//   gtol (1e-10): max_j |g_j| / (||column j of Je|| sqrt(2 cost)) <= gtol over the free variables,
//     g the gradient of the cost — the cosine between the residual vector and each column for the
//     linear loss (MINPACK's test). An exactly zero cost also stops here.
//   ftol (1e-15): both the actual and the predicted relative reduction of the cost in a step are
//     <= ftol (and the ratio of the two <= 2).
//   xtol (1e-15): the trust radius Delta <= xtol * ||D x||.
//   ftol and xtol below machine epsilon act as epsilon: the defaults mean "until no further
//   progress is possible in double precision"; on the NIST problems that costs a few iterations
//   more than MINPACK's customary sqrt(epsilon) and buys the last digits.
//   Evaluations: every call of residuals_jacobian counts once (the start and each trial point;
//   residuals() is never called). Iterations: one per factorization of the Jacobian (each but
//   possibly the last ends with an accepted step). options.cancel is polled once per iteration.
//   A trial point with a non-finite residual or Jacobian entry is rejected and Delta shrinks to at
//   most a quarter;
//   at the start it ends the run with StopReason::non_finite.
//
// Result conventions:
//   cost  = 1/2 sum_i w_i rho(r_i^2) at x.
//   value = 2 cost; for the linear loss that is sum_i w_i r_i^2, the NIST StRD / MGH objective
//           (sum of squares, no 1/2).
//   grad  = the gradient of cost (not of value): J^T W r for the linear loss.
//   residuals, jacobian: r(x) and J(x) as the problem returned them (unweighted).
//   covariance = s^2 (Je^T Je)^-1, s^2 = ||f||^2 / (m - n); for the linear loss that is
//           s^2 (J^T W J)^-1 with s^2 = sum w_i r_i^2 / (m - n). It comes from a pivoted QR of Je
//           with unit-norm columns (R^-1 R^-T with the pivoting and column scaling undone) and is
//           NaN when m <= n or Je is numerically rank-deficient (|R_kk| <= max(m, n) eps |R_11|).
//           Assumptions: independent errors, weights proportional to 1/sigma_i^2 (s^2 estimates the
//           constant), the model linear enough near x. With a robust loss it is the covariance of
//           the reweighted problem at the solution (Je, f as above), an approximation.
//           With bounds it is computed as if no bound were active (a variable held on a bound
//           still gets its unconstrained linearized variance).
//   std_errors = sqrt of the covariance's diagonal.
//   x is always the best point found: only steps that lower the cost are taken.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "lm_core.h"
#include "optim.h"

namespace wengert::optim {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kDwarf = std::numeric_limits<double>::min();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

namespace detail {

// sum a_i b_i with four partial sums: the short vectors here (m ~ 50) are latency bound otherwise.
double dot(int n, const double* a, const double* b) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

double enorm(int n, const double* v) {
  // The plain sum of squares unless it overflows or underflows; then a scaled second pass.
  double s = dot(n, v, v);
  if (s > 1e-280 && s < 1e280) return std::sqrt(s);
  double scale = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::fabs(v[i]));
  if (scale == 0 || !std::isfinite(scale)) return scale;
  s = 0;
  for (int i = 0; i < n; ++i) {
    const double t = v[i] / scale;
    s += t * t;
  }
  return scale * std::sqrt(s);
}

// Householder QR with column pivoting of the m x n column-major matrix a (m >= n), in place.
// On return: the strict upper triangle of a holds R above the diagonal, rdiag its diagonal, the
// lower part (with the diagonal of a) the Householder vectors, perm the column order (column j of R
// is column perm[j] of the input), acnorm the input column norms. wa: n scratch.
void qr_pivot(int m, int n, double* a, int* perm, double* rdiag, double* acnorm, double* wa) {
  for (int j = 0; j < n; ++j) {
    acnorm[j] = enorm(m, a + static_cast<size_t>(j) * m);
    rdiag[j] = wa[j] = acnorm[j];
    perm[j] = j;
  }
  for (int j = 0; j < n; ++j) {
    int kmax = j;
    for (int k = j + 1; k < n; ++k)
      if (rdiag[k] > rdiag[kmax]) kmax = k;
    if (kmax != j) {
      double* cj = a + static_cast<size_t>(j) * m;
      double* ck = a + static_cast<size_t>(kmax) * m;
      for (int i = 0; i < m; ++i) std::swap(cj[i], ck[i]);
      rdiag[kmax] = rdiag[j];
      wa[kmax] = wa[j];
      std::swap(perm[j], perm[kmax]);
    }
    double* cj = a + static_cast<size_t>(j) * m;
    double ajnorm = enorm(m - j, cj + j);
    if (ajnorm != 0) {
      if (cj[j] < 0) ajnorm = -ajnorm;
      const double inv = 1 / ajnorm;
      for (int i = j; i < m; ++i) cj[i] *= inv;
      cj[j] += 1;
      // Apply the reflection I - v v^T / v_j to the remaining columns; downdate their norms.
      for (int k = j + 1; k < n; ++k) {
        double* ck = a + static_cast<size_t>(k) * m;
        const double t = dot(m - j, cj + j, ck + j) / cj[j];
        for (int i = j; i < m; ++i) ck[i] -= t * cj[i];
        if (rdiag[k] != 0) {
          const double q = ck[j] / rdiag[k];
          rdiag[k] *= std::sqrt(std::max(0.0, 1 - q * q));
          const double ratio = rdiag[k] / wa[k];
          if (0.05 * ratio * ratio <= kEps) {  // cancellation: recompute the norm
            rdiag[k] = enorm(m - j - 1, ck + j + 1);
            wa[k] = rdiag[k];
          }
        }
      }
    }
    rdiag[j] = -ajnorm;
  }
}

// b <- Q^T b for the Householder vectors left in a by qr_pivot.
void apply_qt(int m, int n, const double* a, double* b) {
  for (int j = 0; j < n; ++j) {
    const double* cj = a + static_cast<size_t>(j) * m;
    if (cj[j] == 0) continue;
    const double t = -dot(m - j, cj + j, b + j) / cj[j];
    for (int i = j; i < m; ++i) b[i] += t * cj[i];
  }
}

// Solves  min || [R; S] z - [qtb; 0] ||  with S = diag(d[perm[j]]) (the scaled LM term), by Givens
// rotations (MINPACK's qrsolv design). r: n x n column-major with R in its upper triangle (the
// strict lower triangle is overwritten with the triangular factor T of the augmented system, its
// diagonal returned in sdiag); z is returned in x in the original variable order. wa: n scratch.
void qr_solve(int n, double* r, const int* perm, const double* d, const double* qtb, double* x,
              double* sdiag, double* wa) {
  for (int j = 0; j < n; ++j) {
    for (int i = j + 1; i < n; ++i) r[i + j * n] = r[j + i * n];
    x[j] = r[j + j * n];
    wa[j] = qtb[j];
  }
  for (int j = 0; j < n; ++j) {
    const double dj = d[perm[j]];
    if (dj != 0) {
      for (int k = j; k < n; ++k) sdiag[k] = 0;
      sdiag[j] = dj;
      double qtbpj = 0;
      for (int k = j; k < n; ++k) {
        if (sdiag[k] == 0) continue;
        double& rkk = r[k + k * n];
        double c, s;
        if (std::fabs(rkk) < std::fabs(sdiag[k])) {
          const double cot = rkk / sdiag[k];
          s = 0.5 / std::sqrt(0.25 + 0.25 * cot * cot);
          c = s * cot;
        } else {
          const double tan = sdiag[k] / rkk;
          c = 0.5 / std::sqrt(0.25 + 0.25 * tan * tan);
          s = c * tan;
        }
        rkk = c * rkk + s * sdiag[k];
        const double t = c * wa[k] + s * qtbpj;
        qtbpj = -s * wa[k] + c * qtbpj;
        wa[k] = t;
        for (int i = k + 1; i < n; ++i) {
          const double u = c * r[i + k * n] + s * sdiag[i];
          sdiag[i] = -s * r[i + k * n] + c * sdiag[i];
          r[i + k * n] = u;
        }
      }
    }
    sdiag[j] = r[j + j * n];
    r[j + j * n] = x[j];
  }
  int nsing = n;
  for (int j = 0; j < n; ++j) {
    if (sdiag[j] == 0 && nsing == n) nsing = j;
    if (nsing < n) wa[j] = 0;
  }
  for (int j = nsing - 1; j >= 0; --j) {
    double sum = 0;
    for (int i = j + 1; i < nsing; ++i) sum += r[i + j * n] * wa[i];
    wa[j] = (wa[j] - sum) / sdiag[j];
  }
  for (int j = 0; j < n; ++j) x[perm[j]] = wa[j];
}

// The LM parameter (Moré 1978, section 5): returns par >= 0 and x solving
// (A^T A + par D^2) x = A^T b (A P = Q R, qtb = Q^T b) with ||D x|| within 10% of delta, or par = 0
// when the Gauss–Newton solution is already inside. The step is -x. r as for qr_solve (its upper
// triangle holds R, rdiag its diagonal is in the diagonal of r). wa1, wa2: n scratch.
double lm_parameter(int n, double* r, const int* perm, const double* d, const double* qtb,
                    double delta, double par, double* x, double* sdiag, double* wa1, double* wa2) {
  // Gauss–Newton direction; a singular R gives the minimum-norm solution on its nonsingular part.
  int nsing = n;
  for (int j = 0; j < n; ++j) {
    wa1[j] = qtb[j];
    if (r[j + j * n] == 0 && nsing == n) nsing = j;
    if (nsing < n) wa1[j] = 0;
  }
  for (int j = nsing - 1; j >= 0; --j) {
    wa1[j] /= r[j + j * n];
    const double t = wa1[j];
    for (int i = 0; i < j; ++i) wa1[i] -= r[i + j * n] * t;
  }
  for (int j = 0; j < n; ++j) x[perm[j]] = wa1[j];

  for (int j = 0; j < n; ++j) wa2[j] = d[j] * x[j];
  double dxnorm = enorm(n, wa2);
  double fp = dxnorm - delta;
  if (fp <= 0.1 * delta) return 0;

  // Lower bound parl from the Newton step at par = 0 (only when R is nonsingular).
  double parl = 0;
  if (nsing == n) {
    for (int j = 0; j < n; ++j) wa1[j] = d[perm[j]] * (wa2[perm[j]] / dxnorm);
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int i = 0; i < j; ++i) sum += r[i + j * n] * wa1[i];
      wa1[j] = (wa1[j] - sum) / r[j + j * n];
    }
    const double t = enorm(n, wa1);
    parl = ((fp / delta) / t) / t;
  }
  // Upper bound paru = ||D^-1 A^T b|| / delta.
  for (int j = 0; j < n; ++j) {
    double sum = 0;
    for (int i = 0; i <= j; ++i) sum += r[i + j * n] * qtb[i];
    wa1[j] = sum / d[perm[j]];
  }
  const double gnorm = enorm(n, wa1);
  double paru = gnorm / delta;
  if (paru == 0) paru = kDwarf / std::min(delta, 0.1);

  par = std::min(std::max(par, parl), paru);
  if (par == 0) par = gnorm / dxnorm;

  for (int iter = 1;; ++iter) {
    if (par == 0) par = std::max(kDwarf, 0.001 * paru);
    const double sp = std::sqrt(par);
    for (int j = 0; j < n; ++j) wa1[j] = sp * d[j];
    qr_solve(n, r, perm, wa1, qtb, x, sdiag, wa2);
    for (int j = 0; j < n; ++j) wa2[j] = d[j] * x[j];
    dxnorm = enorm(n, wa2);
    const double prev = fp;
    fp = dxnorm - delta;
    if (std::fabs(fp) <= 0.1 * delta || (parl == 0 && fp <= prev && prev < 0) || iter == 10) break;
    // Newton correction.
    for (int j = 0; j < n; ++j) wa1[j] = d[perm[j]] * (wa2[perm[j]] / dxnorm);
    for (int j = 0; j < n; ++j) {
      wa1[j] /= sdiag[j];
      const double t = wa1[j];
      for (int i = j + 1; i < n; ++i) wa1[i] -= r[i + j * n] * t;
    }
    const double t = enorm(n, wa1);
    const double parc = ((fp / delta) / t) / t;
    if (fp > 0) parl = std::max(parl, par);
    if (fp < 0) paru = std::min(paru, par);
    par = std::max(parl, par + parc);
  }
  return par;
}

}  // namespace detail

namespace {

using namespace detail;

// Per-residual loss terms: rho(s) for s = r^2, and the effective residual / Jacobian row scale.
struct LossEval {
  Loss loss;
  double c2;  // f_scale^2

  // Returns w * rho(r^2); sets fe (effective residual) and js (row scale of the Jacobian).
  double eval(double r, double w, double* fe, double* js) const {
    if (w == 0) {
      *fe = 0;
      *js = 0;
      return 0;
    }
    const double s = r * r;
    if (loss == Loss::linear) {
      const double sw = std::sqrt(w);
      *fe = sw * r;
      *js = sw;
      return w * s;
    }
    const double z = s / c2;
    double rho, d1, d2;
    if (loss == Loss::huber) {
      if (z <= 1) {
        rho = z;
        d1 = 1;
        d2 = 0;
      } else {
        const double sz = std::sqrt(z);
        rho = 2 * sz - 1;
        d1 = 1 / sz;
        d2 = -0.5 / (z * sz);
      }
    } else {  // cauchy
      rho = std::log1p(z);
      d1 = 1 / (1 + z);
      d2 = -d1 * d1;
    }
    const double scale = std::sqrt(w * std::max(d1 + 2 * z * d2, kEps));
    *js = scale;
    *fe = w * d1 * r / scale;
    return w * c2 * rho;
  }
};

bool all_finite(size_t k, const double* v) {
  // v * 0 is 0 for a finite v and NaN otherwise; no early exit, four independent sums.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= k; i += 4) {
    s0 += v[i] * 0.0;
    s1 += v[i + 1] * 0.0;
    s2 += v[i + 2] * 0.0;
    s3 += v[i + 3] * 0.0;
  }
  for (; i < k; ++i) s0 += v[i] * 0.0;
  return (s0 + s1) + (s2 + s3) == 0;
}

Status invalid(const std::string& what) { return Status::error(ErrorCode::invalid_argument, "leastSquares: " + what); }

Status validate(Residuals& problem, const double* x0, const LeastSquaresOptions& o) {
  const int n = problem.n(), m = problem.m();
  if (n < 1) return invalid("the problem has " + std::to_string(n) + " parameters; at least 1 is needed");
  if (m < 1) return invalid("the problem has " + std::to_string(m) + " residuals; at least 1 is needed");
  if (x0 == nullptr) return invalid("x0 is missing");
  for (int j = 0; j < n; ++j)
    if (!std::isfinite(x0[j])) return invalid("x0[" + std::to_string(j) + "] is not finite");
  if (o.weights)
    for (int i = 0; i < m; ++i)
      if (!(o.weights[i] >= 0) || !std::isfinite(o.weights[i]))
        return invalid("weights[" + std::to_string(i) + "] = " + std::to_string(o.weights[i]) +
                       " is not a finite non-negative number");
  if (!(o.f_scale > 0) || !std::isfinite(o.f_scale))
    return invalid("f_scale = " + std::to_string(o.f_scale) + " must be a finite positive number");
  for (int j = 0; j < n; ++j) {
    const double lo = o.bounds.lower ? o.bounds.lower[j] : -INFINITY;
    const double hi = o.bounds.upper ? o.bounds.upper[j] : INFINITY;
    if (std::isnan(lo) || std::isnan(hi) || lo > hi || lo == INFINITY || hi == -INFINITY)
      return invalid("bounds for x[" + std::to_string(j) + "]: lower = " + std::to_string(lo) +
                     " and upper = " + std::to_string(hi) + " leave no feasible value");
  }
  if (o.max_iterations < 0) return invalid("maxIterations must be >= 0");
  if (o.max_evaluations < 1) return invalid("maxEvaluations must be >= 1");
  if (!(o.gtol >= 0)) return invalid("gtol must be >= 0");
  if (!(o.ftol >= 0)) return invalid("ftol must be >= 0");
  if (!(o.xtol >= 0)) return invalid("xtol must be >= 0");
  if (!(o.initial_radius > 0) || !std::isfinite(o.initial_radius))
    return invalid("initialRadius must be a finite positive number");
  if (o.loss != Loss::linear && o.loss != Loss::huber && o.loss != Loss::cauchy) return invalid("unknown loss");
  return {};
}

// Covariance s^2 (Je^T Je)^-1 from a fresh QR of the column-normalized effective Jacobian.
// Returns false (covariance NaN) when m <= n or the matrix is numerically rank-deficient.
void covariance(int m, int n, const double* je /* m*n column-major */, double s2, double* cov, double* a,
                int* perm, double* rdiag, double* acnorm, double* wa, double* rinv) {
  const size_t nn = static_cast<size_t>(n) * n;
  std::fill(cov, cov + nn, kNaN);
  if (m <= n || !std::isfinite(s2)) return;
  for (int j = 0; j < n; ++j) {
    double* cj = a + static_cast<size_t>(j) * m;
    for (int i = 0; i < m; ++i) cj[i] = je[static_cast<size_t>(j) * m + i];
    const double norm = enorm(m, cj);
    if (norm == 0 || !std::isfinite(norm)) return;
    for (int i = 0; i < m; ++i) cj[i] /= norm;
    wa[j] = norm;  // column scale
  }
  // acnorm is scratch for qr_pivot; keep the scales in rinv's last row temporarily.
  double* scales = rinv + nn;
  for (int j = 0; j < n; ++j) scales[j] = wa[j];
  qr_pivot(m, n, a, perm, rdiag, acnorm, wa);
  const double tol = std::max(m, n) * kEps * std::fabs(rdiag[0]);
  for (int j = 0; j < n; ++j)
    if (!(std::fabs(rdiag[j]) > tol)) return;
  // Rinv: upper triangular inverse of R (column-major), R(i,j) = a[i + j*m] (i<j), rdiag[j].
  std::fill(rinv, rinv + nn, 0.0);
  for (int j = 0; j < n; ++j) {
    rinv[j + j * n] = 1 / rdiag[j];
    for (int i = j - 1; i >= 0; --i) {
      double sum = 0;
      for (int k = i + 1; k <= j; ++k) sum += a[i + static_cast<size_t>(k) * m] * rinv[k + j * n];
      rinv[i + j * n] = -sum / rdiag[i];
    }
  }
  // (R^T R)^-1 = Rinv Rinv^T in pivoted order; undo the pivot and the column scaling.
  for (int p = 0; p < n; ++p)
    for (int q = 0; q < n; ++q) {
      double sum = 0;
      for (int k = std::max(p, q); k < n; ++k) sum += rinv[p + k * n] * rinv[q + k * n];
      const int i = perm[p], j = perm[q];
      cov[static_cast<size_t>(i) * n + j] = s2 * sum / (scales[i] * scales[j]);
    }
}


Status solve(Residuals& problem, const double* x0, const LeastSquaresOptions& o, LeastSquaresResult* res) {
  const int n = problem.n(), m = problem.m();
  // Rows of the factored system: at least n (zero rows pad an underdetermined problem).
  const int mm = std::max(m, n);
  const size_t mn = static_cast<size_t>(m) * n, nn = static_cast<size_t>(n) * n;

  // The whole workspace, allocated once.
  std::vector<double> buf(2 * mn + 4 * static_cast<size_t>(m) + static_cast<size_t>(mm) * n + 2 * static_cast<size_t>(mm) +
                          mn + nn + nn + n + 16 * static_cast<size_t>(n));
  double* p = buf.data();
  auto take = [&p](size_t k) {
    double* q = p;
    p += k;
    return q;
  };
  double* jac = take(mn);    // J at x (row-major, unweighted)
  double* jac_t = take(mn);  // J at the trial point
  double* r = take(m);       // r at x
  double* r_t = take(m);     // r at the trial point
  double* sw = take(m);      // sqrt of the weights
  double* a = take(static_cast<size_t>(mm) * n);  // effective Jacobian, free columns, column-major
  double* fe = take(mm);     // effective residuals at x
  double* qtf = take(mm);
  double* je = take(mn);     // effective Jacobian at x, column-major, all columns
  double* rs = take(m);      // row scales of the effective Jacobian
  double* rmat = take(nn);   // R (n_free x n_free, column-major)
  double* rinv = take(nn + n);
  double* x = take(n);
  double* x_t = take(n);
  double* diag = take(n);
  double* grad = take(n);
  double* rdiag = take(n);
  double* acnorm = take(n);
  double* step = take(n);
  double* dsub = take(n);  // diag restricted to the free variables
  double* lo = take(n);
  double* hi = take(n);
  double* sdiag = take(n);
  double* wa1 = take(n);
  double* wa2 = take(n);
  double* wa3 = take(n);
  std::vector<int> ibuf(3 * static_cast<size_t>(n));
  int* perm = ibuf.data();
  int* freev = perm + n;   // indices of the free variables
  int* permv = freev + n;  // scratch

  const LossEval loss{o.loss, o.f_scale * o.f_scale};
  const double* w = o.weights;
  for (int j = 0; j < n; ++j) {
    lo[j] = o.bounds.lower ? o.bounds.lower[j] : -INFINITY;
    hi[j] = o.bounds.upper ? o.bounds.upper[j] : INFINITY;
    x[j] = std::clamp(x0[j], lo[j], hi[j]);
  }
  const bool bounded = o.bounds.lower != nullptr || o.bounds.upper != nullptr;
  const double ftol = std::max(o.ftol, kEps), xtol = std::max(o.xtol, kEps), gtol = o.gtol;

  // sqrt(w_i), for the linear loss.
  for (int i = 0; i < m; ++i) sw[i] = w ? std::sqrt(w[i]) : 1.0;
  // Effective residuals and Jacobian at x from r, jac; returns the cost.
  auto effective = [&](const double* rv, const double* jv) {
    double total = 0;
    if (o.loss == Loss::linear) {
      for (int i = 0; i < m; ++i) fe[i] = sw[i] * rv[i];
      std::memcpy(rs, sw, sizeof(double) * m);
      total = dot(m, fe, fe);
    } else {
      for (int i = 0; i < m; ++i) total += loss.eval(rv[i], w ? w[i] : 1.0, &fe[i], &rs[i]);
    }
    for (int j = 0; j < n; ++j) {
      double* ej = je + static_cast<size_t>(j) * m;
      for (int i = 0; i < m; ++i) ej[i] = rs[i] * jv[static_cast<size_t>(i) * n + j];
    }
    for (int i = m; i < mm; ++i) fe[i] = 0;
    return 0.5 * total;
  };
  auto cost_only = [&](const double* rv) {
    double total = 0, f, s;
    if (o.loss == Loss::linear && !w) {
      total = dot(m, rv, rv);
    } else if (o.loss == Loss::linear) {
      for (int i = 0; i < m; ++i) total += w[i] * rv[i] * rv[i];
    } else {
      for (int i = 0; i < m; ++i) total += loss.eval(rv[i], w ? w[i] : 1.0, &f, &s);
    }
    return 0.5 * total;
  };

  int evaluations = 0, iterations = 0;
  StopReason stop = StopReason::failed;
  std::string message;

  if (Status s = problem.residuals_jacobian(x, r, jac); !s.ok()) return s;
  ++evaluations;
  double cost = kNaN;
  if (!all_finite(m, r) || !all_finite(mn, jac)) {
    stop = StopReason::non_finite;
    message = "the residuals or the Jacobian are not finite at the starting point";
  } else {
    cost = effective(r, jac);
    if (!std::isfinite(cost)) {
      stop = StopReason::non_finite;
      message = "the cost is not finite at the starting point";
    }
  }

  double delta = 0, xnorm = 0, par = 0;
  bool first = true;
  while (stop != StopReason::non_finite) {
    if (cost == 0) {
      stop = StopReason::gradient_tolerance;
      message = "the cost is exactly zero";
      break;
    }
    if (o.cancel && o.cancel->load(std::memory_order_relaxed)) {
      stop = StopReason::aborted;
      message = "cancelled";
      break;
    }
    if (iterations >= o.max_iterations) {
      stop = StopReason::max_iterations;
      message = "the iteration limit (" + std::to_string(o.max_iterations) + ") was reached";
      break;
    }
    ++iterations;

    // Gradient and the free set.
    for (int j = 0; j < n; ++j) {
      grad[j] = dot(m, je + static_cast<size_t>(j) * m, fe);
    }
    int nf = 0;
    for (int j = 0; j < n; ++j) {
      const bool held = (x[j] <= lo[j] && grad[j] > 0) || (x[j] >= hi[j] && grad[j] < 0);
      if (!held) freev[nf++] = j;
    }
    if (nf == 0) {
      stop = StopReason::gradient_tolerance;
      message = "every variable is held on a bound by the gradient";
      break;
    }
    // Factor the free columns of the effective Jacobian.
    for (int k = 0; k < nf; ++k) {
      double* ck = a + static_cast<size_t>(k) * mm;
      const int j = freev[k];
      std::memcpy(ck, je + static_cast<size_t>(j) * m, sizeof(double) * m);
      for (int i = m; i < mm; ++i) ck[i] = 0;
    }
    qr_pivot(mm, nf, a, permv, rdiag, wa1, wa2);
    // wa1 holds the column norms of the free columns (in free order).
    for (int i = 0; i < mm; ++i) qtf[i] = fe[i];
    apply_qt(mm, nf, a, qtf);
    for (int j = 0; j < nf; ++j) {
      for (int i = 0; i < j; ++i) rmat[i + j * nf] = a[i + static_cast<size_t>(j) * mm];
      rmat[j + j * nf] = rdiag[j];
      for (int i = j + 1; i < nf; ++i) rmat[i + j * nf] = 0;
    }
    for (int k = 0; k < nf; ++k) acnorm[k] = wa1[k];

    if (first) {
      for (int j = 0; j < n; ++j) diag[j] = 1;
      for (int k = 0; k < nf; ++k) diag[freev[k]] = acnorm[k] == 0 ? 1 : acnorm[k];
      for (int j = 0; j < n; ++j) wa3[j] = diag[j] * x[j];
      xnorm = enorm(n, wa3);
      delta = o.initial_radius * xnorm;
      if (delta == 0) delta = o.initial_radius;
    }

    // Scaled gradient test: max_j |g_j| / (||column j of Je|| sqrt(2 cost)), the cosine of the angle
    // between the residual vector and column j for the linear loss. sqrt(2 cost) rather than ||f||:
    // with a robust loss f is inflated where the curvature weight s_i is clipped.
    const double fnorm = std::sqrt(2 * cost);
    double gnorm = 0;
    for (int k = 0; k < nf; ++k)
      if (acnorm[k] != 0) gnorm = std::max(gnorm, std::fabs(grad[freev[k]]) / (acnorm[k] * fnorm));
    if (gnorm <= gtol) {
      stop = StopReason::gradient_tolerance;
      message = "the scaled gradient is below gtol";
      break;
    }
    for (int k = 0; k < nf; ++k) diag[freev[k]] = std::max(diag[freev[k]], acnorm[k]);
    for (int k = 0; k < nf; ++k) dsub[k] = diag[freev[k]];

    // Inner loop: find an acceptable step.
    bool accepted = false;
    while (!accepted) {
      if (evaluations >= o.max_evaluations) {
        stop = StopReason::max_evaluations;
        message = "the evaluation limit (" + std::to_string(o.max_evaluations) + ") was reached";
        break;
      }
      par = lm_parameter(nf, rmat, permv, dsub, qtf, delta, par, wa3, sdiag, wa1, wa2);
      // Trial point, projected onto the box.
      bool clipped = false;
      for (int j = 0; j < n; ++j) step[j] = 0;
      for (int k = 0; k < nf; ++k) {
        const int j = freev[k];
        double xt = x[j] - wa3[k];
        if (bounded) {
          const double c = std::clamp(xt, lo[j], hi[j]);
          if (c != xt) clipped = true;
          xt = c;
        }
        step[j] = xt - x[j];
      }
      for (int j = 0; j < n; ++j) x_t[j] = x[j] + step[j];
      for (int j = 0; j < n; ++j) wa1[j] = diag[j] * step[j];
      const double pnorm = enorm(n, wa1);
      if (first && pnorm > 0) delta = std::min(delta, pnorm);

      if (Status s = problem.residuals_jacobian(x_t, r_t, jac_t); !s.ok()) return s;
      ++evaluations;
      const bool finite = all_finite(m, r_t) && all_finite(mn, jac_t);
      const double cost_t = finite ? cost_only(r_t) : kNaN;

      // Predicted reduction relative to cost, and the directional derivative (halved, relative).
      double prered, dirder;
      {
        // ||Je s||^2 and g^T s over the actual step.
        double jsn2 = 0, gts = 0;
        if (!clipped) {
          // ||Je s|| = ||R P^T s_free||: use the factorization.
          for (int i = 0; i < nf; ++i) {
            double sum = 0;
            for (int j = i; j < nf; ++j) sum += rmat[i + j * nf] * step[freev[permv[j]]];
            wa2[i] = sum;
          }
          const double t1 = enorm(nf, wa2);
          jsn2 = t1 * t1;
          const double pr = 0.5 * jsn2 + par * pnorm * pnorm;  // model reduction (absolute)
          prered = pr / cost;
          dirder = -(jsn2 + par * pnorm * pnorm) / (2 * cost);
        } else {
          for (int i = 0; i < m; ++i) {
            double sum = 0;
            for (int j = 0; j < n; ++j) sum += je[static_cast<size_t>(j) * m + i] * step[j];
            jsn2 += sum * sum;
          }
          for (int j = 0; j < n; ++j) gts += grad[j] * step[j];
          prered = (-gts - 0.5 * jsn2) / cost;
          dirder = gts / (2 * cost);
        }
      }
      double actred = -1;
      if (finite && cost_t < cost) actred = 1 - cost_t / cost;
      const double ratio = prered > 0 && finite ? actred / prered : 0;

      if (ratio <= 0.25) {
        double t;
        if (!finite) {
          t = 0.25;
        } else if (!(dirder < 0)) {
          t = 0.1;  // a projected step that is not even a descent direction
        } else if (actred >= 0) {
          t = 0.5;
        } else {
          t = 0.5 * dirder / (dirder + 0.5 * actred);
          if (!(t >= 0.1) || cost_t >= 100 * cost) t = 0.1;
        }
        // A zero step (every free variable projected back) keeps shrinking from delta, not from 0.
        delta = t * (pnorm > 0 ? std::min(delta, pnorm / 0.1) : delta);
        par /= t;
      } else if (par == 0 || ratio >= 0.75) {
        delta = pnorm / 0.5;
        par *= 0.5;
      }

      if (ratio >= 1e-4) {
        accepted = true;
        first = false;
        std::memcpy(x, x_t, sizeof(double) * n);
        std::swap(r, r_t);
        std::swap(jac, jac_t);
        cost = effective(r, jac);
        for (int j = 0; j < n; ++j) wa1[j] = diag[j] * x[j];
        xnorm = enorm(n, wa1);
      }
      if (finite && cost_t == 0 && accepted) break;  // reported as exactly zero at the loop head
      if (finite && std::fabs(actred) <= ftol && prered <= ftol && 0.5 * ratio <= 1) {
        stop = StopReason::function_tolerance;
        message = "the relative reduction of the cost is below ftol";
        break;
      }
      if (delta <= xtol * xnorm || delta == 0) {
        stop = StopReason::step_tolerance;
        message = "the trust region is below xtol relative to x";
        break;
      }
    }
    if (!accepted || stop != StopReason::failed) {
      if (stop == StopReason::failed) message = "no acceptable step";
      break;
    }
    first = false;
  }

  // Result at x (the best point: only improving steps are accepted).
  res->x.assign(x, x + n);
  res->iterations = iterations;
  res->evaluations = evaluations;
  res->status = stop;
  res->message = std::move(message);
  res->residuals.assign(r, r + m);
  res->jacobian.assign(jac, jac + mn);
  res->cost = cost;
  res->value = 2 * cost;
  res->grad.assign(n, kNaN);
  res->covariance.assign(nn, kNaN);
  res->std_errors.assign(n, kNaN);
  if (stop == StopReason::non_finite) return {};
  cost = effective(r, jac);
  for (int j = 0; j < n; ++j) {
    res->grad[j] = dot(m, je + static_cast<size_t>(j) * m, fe);
  }
  double ss = 0;
  for (int i = 0; i < m; ++i) ss += fe[i] * fe[i];
  const double s2 = m > n ? ss / (m - n) : kNaN;
  // a, perm, rdiag, acnorm, wa1 and rinv are free now: the covariance reuses them.
  covariance(m, n, je, s2, res->covariance.data(), a, perm, rdiag, acnorm, wa1, rinv);
  for (int j = 0; j < n; ++j) {
    const double v = res->covariance[static_cast<size_t>(j) * n + j];
    res->std_errors[j] = v >= 0 ? std::sqrt(v) : kNaN;
  }
  return {};
}

}  // namespace

Status least_squares(Residuals& problem, const double* x0, const LeastSquaresOptions& options,
                     LeastSquaresResult* result) {
  if (Status s = validate(problem, x0, options); !s.ok()) return s;
  try {
    return solve(problem, x0, options, result);
  } catch (const std::bad_alloc&) {  // also std::length_error below: an absurd m * n
    return Status::error(ErrorCode::out_of_memory,
                         "leastSquares: cannot allocate the workspace for " + std::to_string(problem.m()) +
                             " residuals and " + std::to_string(problem.n()) + " parameters");
  } catch (const std::length_error&) {
    return Status::error(ErrorCode::out_of_memory,
                         "leastSquares: cannot allocate the workspace for " + std::to_string(problem.m()) +
                             " residuals and " + std::to_string(problem.n()) + " parameters");
  }
}

}  // namespace wengert::optim
