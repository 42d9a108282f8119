#pragma once
// GP-HM on tensor grids (issue 14): the solution values U on an n0 x n1 grid of uniform points
// (n1 = 1: one dimension), a product of per-axis spectral mixtures as the prior covariance
// K = K0 (x) K1, derivatives through the conditional mean along each axis (U_xx = K0'' K0^-1 U),
// and a linear operator A = c2 (D0 (+) D1) + p1 with D_a = K_a'' K_a^-1.
//
// The objective differs from the one-dimensional model (hm.hpp) in one place: the PDE residual's
// noise has covariance K / v rather than I / v,
//
//   J(U, theta) = 1/2 U^T K^-1 U + 1/2 log det K                                   (prior)
//               + w_b (tau/2 |U_b - g|^2 - N_b/2 log tau)                           (boundary)
//               + v/2 r^T K^-1 r + 1/2 log det K - N/2 log v,  r = A U - f          (PDE residual)
//
// Why: with residual noise I / v the Hessian in U is K^-1 + v A^T A, and A is not normal
// (K_a^-1 K_a'' is self-adjoint in the K_a^-1 inner product, not in the Euclidean one; its
// eigenvector matrix has condition ~1e3 per axis at 400 points): no per-axis factorisation solves
// it, and Kronecker-preconditioned CG on it did not converge in 2,000 iterations at 40 x 40
// (measured). With noise K / v, in the per-axis generalised eigenbases K_a''V_a = K_a V_a L_a,
// V_a^T K_a V_a = I, i.e. U = W z with W = (K0 V0) (x) (K1 V1), the problem reads
//
//   min_z 1/2 |z|^2 + v/2 |Lambda z - c|^2 + w_b tau/2 |B W z - g|^2,  c = W^-1 f,
//
// Lambda the diagonal of per-axis eigenvalues combined by sum (c2 (l0_i + l1_j) + p1): a diagonal
// system plus the boundary's low rank, solved exactly by the Woodbury identity with a capacitance
// matrix over the boundary points (assembled from per-axis products: O(n^3), never N x N). The
// gradient in theta is exact too (envelope theorem; the residual's multiplier v rho taken from the
// stationarity condition where v rho = v (Lambda z - c) would have lost its digits).
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/eigen.hpp"
#include "kron/gp/hm.hpp"

namespace kron::gp {

struct HmGridProblem {
  /// Per axis: interval, points, kernel family, components, initial frequencies and
  /// lengthscales, jitter, spectral initialisation (from that axis' source profile, axis.f).
  /// axis[1].points == 1: a one-dimensional problem.
  std::array<HmProblem, 2> axis;
  double c2 = 1;                     ///< coefficient of the Laplacian u_xx + u_yy
  std::array<double, 2> reaction{};  ///< p(u) = p0 + p1 u (linear problems only)
  Eigen::MatrixXd f;                 ///< the source, n0 x n1
  Eigen::MatrixXd g;                 ///< u on the boundary (entries off the boundary unused), n0 x n1
  double boundary_weight = 200;
};

class HmGridModel {
 public:
  explicit HmGridModel(HmGridProblem p);
  const HmGridProblem& problem() const { return p_; }
  int dim() const { return n_[1] > 1 ? 2 : 1; }
  long n(int a) const { return n_[static_cast<std::size_t>(a)]; }
  long points() const { return n_[0] * n_[1]; }
  long boundary_points() const { return nb_; }
  int q() const { return q_; }
  /// [axis 0: log w, log a, mu (3Q); axis 1: the same (2D only); log tau, log v].
  long size() const { return 3L * q_ * dim() + 2; }
  /// Each axis' HmModel initial() (spectral peaks of its source profile), tau = v = 1.
  Eigen::VectorXd initial(double peak_inv_lengthscale = 1.0) const;
  void bounds(Eigen::VectorXd& lower, Eigen::VectorXd& upper) const;
  /// Whether hyperparameter i is a frequency (held in the first stage of the exact protocol) or a
  /// lengthscale.
  bool is_frequency(long i) const;
  bool is_lengthscale(long i) const;
  std::shared_ptr<SpectralMixture> kernel(const Eigen::VectorXd& theta, int axis) const;

  struct Axis {
    std::shared_ptr<SpectralMixture> k;
    Eigen::MatrixXd K;    ///< Gram matrix plus jitter
    Eigen::MatrixXd V;    ///< generalised eigenvectors of (K'', K), V^T K V = I
    Eigen::MatrixXd W;    ///< K V = V^-T
    Eigen::VectorXd lam;  ///< generalised eigenvalues (<= 0)
    double log_det = 0;
  };
  struct Factors {
    Eigen::VectorXd theta;
    std::array<Axis, 2> ax;
    Eigen::MatrixXd Lambda;  ///< c2 (l0_i + l1_j) + p1
    Eigen::MatrixXd c;       ///< W^-1 (f - p0)
    double tau = 1, v = 1, log_det = 0;
  };
  /// Throws kron::Error when an axis' K is not numerically positive definite.
  Factors factor(const Eigen::VectorXd& theta) const;
  /// The minimiser in whitened variables z (n0 x n1; U = W z) and the boundary multiplier
  /// mu = w_b tau (U_b - g), solved for directly: (I / (w_b tau) + C D^-1 C^T) mu = C D^-1 v Lambda c - g,
  /// z = D^-1 (v Lambda c - C^T mu), C = B W, D = I + v Lambda^2. (The textbook Woodbury form
  /// carries w_b tau C^T g through z and cancels it again, which loses every digit of z once
  /// w_b tau reaches ~1e11: measured, 200 x 200.)
  struct Solution {
    Eigen::MatrixXd z;
    Eigen::VectorXd mu;
  };
  Solution solve(const Factors& F) const;
  Eigen::MatrixXd values(const Factors& F, const Eigen::MatrixXd& z) const;  ///< U = W z
  /// J at the minimiser from solve(), with the gradient of min_z J in theta when g is given.
  double objective(const Factors& F, const Solution& s, Eigen::VectorXd* g, HmParts* parts = nullptr) const;
  /// The posterior mean k(xs, X) K^-1 U on the tensor grid xs[0] x xs[1] (xs[1] = {y0} in 1D).
  Eigen::MatrixXd predict(const Factors& F, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const;
  const std::vector<double>& points(int a) const { return axis_[static_cast<std::size_t>(a)]->points(); }

 private:
  HmGridProblem p_;
  std::array<long, 2> n_{};
  std::array<std::unique_ptr<HmModel>, 2> axis_;
  int q_ = 0;
  long nb_ = 0;
  // The boundary as edges: a row edge fixes i and runs j over [lo, hi); a column edge fixes j.
  struct Edge {
    bool row;
    long fixed, lo, hi;
  };
  std::vector<Edge> edges_;
  Eigen::MatrixXd gather(const Eigen::MatrixXd& X) const;  ///< boundary values of an n0 x n1 field, stacked by edge
  Eigen::MatrixXd scatter(const Eigen::VectorXd& b) const;  ///< the transpose of gather
  Eigen::MatrixXd apply_w(const Factors& F, const Eigen::MatrixXd& z, bool transpose) const;
  Eigen::MatrixXd capacitance(const Factors& F, const Eigen::MatrixXd& Dinv) const;
};

/// kron's exact protocol (as fit_hm_exact) on the grid model.
HmResult fit_hm_exact(const HmGridModel& m, long max_it, double seconds);

}  // namespace kron::gp
