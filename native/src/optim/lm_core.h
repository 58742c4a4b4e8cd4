// The linear-algebra core of least_squares (least_squares.cpp), exposed for its unit tests:
// Householder QR with column pivoting, and the Levenberg–Marquardt parameter of Moré (1978). All
// matrices are column-major; no function allocates.
#pragma once

namespace wengert::optim::detail {

// sum a_i b_i (four partial sums).
double dot(int n, const double* a, const double* b);
// Euclidean norm, safe against overflow and underflow.
double enorm(int n, const double* v);
// QR with column pivoting of the m x n matrix a (m >= n), in place: R's strict upper triangle in
// a, its diagonal in rdiag, the Householder vectors below (with a's diagonal); column j of R is
// column perm[j] of the input; acnorm: the input's column norms; wa: n scratch. |rdiag| does not
// increase.
void qr_pivot(int m, int n, double* a, int* perm, double* rdiag, double* acnorm, double* wa);
// b <- Q^T b with the Householder vectors qr_pivot left in a.
void apply_qt(int m, int n, const double* a, double* b);
// min || [R; diag(d[perm])] z - [qtb; 0] || by Givens rotations; x = z in the original variable
// order. r: n x n with R in its upper triangle (strict lower triangle overwritten); sdiag, wa: n.
void qr_solve(int n, double* r, const int* perm, const double* d, const double* qtb, double* x, double* sdiag,
              double* wa);
// The LM parameter par >= 0 and x with (A^T A + par D^2) x = A^T b (A P = Q R, qtb = Q^T b),
// ||D x|| within 10% of delta, or par = 0 when the Gauss–Newton solution has ||D x|| <= 1.1 delta.
// par on entry is the starting guess. The step of least_squares is -x.
double lm_parameter(int n, double* r, const int* perm, const double* d, const double* qtb, double delta, double par,
                    double* x, double* sdiag, double* wa1, double* wa2);

}  // namespace wengert::optim::detail
