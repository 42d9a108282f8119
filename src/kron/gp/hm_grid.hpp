#pragma once
// GP-HM on tensor grids (issue 14): the solution values U on an n0 x n1 grid of uniform points
// (n1 = 1: one dimension), a product of per-axis spectral mixtures as the prior covariance
// K = K0 (x) K1, derivatives through the conditional mean along each axis (U_xx = K0'' K0^-1 U),
// and a linear operator A = A0 (+) A1 + p1, each axis' A_a = Kd_a K_a^-1 with Kd_a = c2_a K_a''
// (a second derivative) or c1_a K_a' (a first derivative), not both: then Kd_a is symmetric or
// antisymmetric and A_a is normal in the K_a^-1 inner product.
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
// V_a^H K_a V_a = I (complex, with imaginary eigenvalues, for a first derivative), i.e. U = W z
// with W = (K0 V0) (x) (K1 V1), the problem reads
//
//   min_z 1/2 |z|^2 + v/2 |Lambda z - c|^2 + w_b tau/2 |B W z - g|^2,  c = W^-1 f,
//
// Lambda the diagonal of per-axis eigenvalues combined by sum (l0_i + l1_j + p1): a diagonal
// system plus the boundary's low rank, solved exactly by the Woodbury identity with a capacitance
// matrix over the boundary points (assembled from per-axis products: O(n^3), never N x N). The
// gradient in theta is exact too (envelope theorem; the residual's multiplier v rho taken from the
// stationarity condition where v rho = v (Lambda z - c) would have lost its digits).
//
// A nonlinear p (p2 u^2 + p3 u^3, Allen-Cahn) adds V^T q(W z) to the residual: U by Newton from the
// linear part's solution (Gauss-Newton where Newton's curvature makes the system indefinite), each
// step's system by CG through PETSc KSP, preconditioned by the exact solve above with q'(U)
// replaced by its mean; the gradient is the linear expression with the source f - q(U) (J at fixed
// U is that of the linear problem). Measured limit: the residual's K^-1 weight penalises the
// harmonics that q(U) makes of U's error by up to 1 / jitter, so high-frequency solutions fit
// poorly (docs/gp.md) and CG needs tens to hundreds of iterations a step.
#include <array>
#include <complex>
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
  std::array<double, 2> c2{1, 1};    ///< coefficients of u_xx, u_yy
  std::array<double, 2> c1{0, 0};    ///< coefficients of u_x, u_y (an axis takes one kind of derivative)
  /// p(u) = p0 + p1 u + p2 u^2 + p3 u^3; p2 or p3 nonzero (Allen-Cahn) makes U's problem
  /// nonlinear: Gauss-Newton, each step's linear system by CG (PETSc KSP) preconditioned by the
  /// exact solve with p's slope replaced by its mean (second-derivative axes only).
  std::array<double, 4> reaction{};
  Eigen::MatrixXd f;                 ///< the source, n0 x n1
  Eigen::MatrixXd g;                 ///< u on the boundary (entries off the boundary unused), n0 x n1
  double boundary_weight = 200;
};

/// Everything that depends on the hyperparameters alone; S = double when every axis has a
/// second derivative (or none), std::complex<double> when one has a first derivative.
template <class S>
struct HmGridFactors {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  struct Axis {
    std::shared_ptr<SpectralMixture> k;
    Eigen::MatrixXd K;  ///< Gram matrix plus jitter
    Mat V;              ///< generalised eigenvectors of (Kd, K), V^H K V = I
    Mat W;              ///< K V = V^-H
    Vec lam;            ///< generalised eigenvalues: real <= 0 (second derivative), imaginary (first)
    double log_det = 0;
  };
  Eigen::VectorXd theta;
  std::array<Axis, 2> ax;
  Mat Lambda;  ///< l0_i + l1_j + p1
  Mat c;       ///< W^-1 (f - p0)
  double tau = 1, v = 1, log_det = 0;
};
/// The minimiser in whitened variables z (n0 x n1; U = W z) and the boundary multiplier
/// mu = w_b tau (U_b - g), solved for directly: (I / (w_b tau) + C D^-1 C^H) mu = C D^-1 v conj(Lambda) c - g,
/// z = D^-1 (v conj(Lambda) c - C^H mu), C = B W, D = I + v |Lambda|^2. (The textbook Woodbury form
/// carries w_b tau C^H g through z and cancels it again, which loses every digit of z once
/// w_b tau reaches ~1e11: measured, 200 x 200.)
template <class S>
struct HmGridSolution {
  typename HmGridFactors<S>::Mat z;
  Eigen::VectorXd mu;
  /// Nonlinear p: the residual's constant part V^T (f - p0 - p2 U^2 - p3 U^3) at the solution (J
  /// at fixed U is then the linear problem's with that source: the gradient in theta is the
  /// same expression); empty for a linear PDE (F.c).
  typename HmGridFactors<S>::Mat c;
  long gauss_newton_steps = 0, krylov_iterations = 0;
};

class HmGridModel {
 public:
  using Complex = std::complex<double>;
  explicit HmGridModel(HmGridProblem p);
  const HmGridProblem& problem() const { return p_; }
  int dim() const { return n_[1] > 1 ? 2 : 1; }
  long n(int a) const { return n_[static_cast<std::size_t>(a)]; }
  long points() const { return n_[0] * n_[1]; }
  long boundary_points() const { return nb_; }
  int q() const { return q_; }
  /// Whether an axis has a first-derivative term (complex eigenbases: HmGridFactors<Complex>).
  bool complex() const { return complex_; }
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

  /// Throws kron::Error when an axis' K is not numerically positive definite, or when S is real
  /// and an axis has a first derivative.
  template <class S>
  HmGridFactors<S> factor(const Eigen::VectorXd& theta) const;
  /// argmin_z J. Nonlinear p: Newton (Gauss-Newton where Newton's curvature makes the system
  /// indefinite) from the linear part's solution, until the step is below 1e-10 of z or J stops
  /// decreasing; each step's system by CG (PETSc KSP, options prefix gp_) preconditioned by the
  /// exact solve with q'(U) replaced by its mean.
  template <class S>
  HmGridSolution<S> solve(const HmGridFactors<S>& F) const;
  bool nonlinear() const { return p_.reaction[2] != 0.0 || p_.reaction[3] != 0.0; }
  /// U = W z (real).
  template <class S>
  Eigen::MatrixXd values(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& z) const;
  /// J at the minimiser from solve(), with the gradient of min_z J in theta when g is given.
  template <class S>
  double objective(const HmGridFactors<S>& F, const HmGridSolution<S>& s, Eigen::VectorXd* g, HmParts* parts = nullptr) const;
  /// The posterior mean k(xs, X) K^-1 U on the tensor grid xs[0] x xs[1] (xs[1] = {y0} in 1D).
  template <class S>
  Eigen::MatrixXd predict(const HmGridFactors<S>& F, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const;
  /// The same from the hyperparameters, in the model's scalar type.
  Eigen::MatrixXd predict(const Eigen::VectorXd& theta, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const;
  const std::vector<double>& points(int a) const { return axis_[static_cast<std::size_t>(a)]->points(); }

 private:
  HmGridProblem p_;
  std::array<long, 2> n_{};
  std::array<std::unique_ptr<HmModel>, 2> axis_;
  int q_ = 0;
  long nb_ = 0;
  bool complex_ = false;
  // The boundary as edges: a row edge fixes i and runs j over [lo, hi); a column edge fixes j.
  struct Edge {
    bool row;
    long fixed, lo, hi;
  };
  std::vector<Edge> edges_;
  template <class M>
  Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, 1> gather(const M& X) const;  ///< boundary values, stacked by edge
  /// W z (transpose false) or W^H y (true) of an n0 x n1 array.
  template <class S>
  typename HmGridFactors<S>::Mat apply_w(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& z, bool transpose) const;
  template <class S>
  Eigen::MatrixXd capacitance(const HmGridFactors<S>& F, const Eigen::MatrixXd& Dinv) const;
  /// gather(W Y) and W^H scatter(b) (scatter: gather's transpose) edge by edge: O(n^2) per edge
  /// instead of the full product.
  template <class S>
  typename HmGridFactors<S>::Vec gather_w(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& Y) const;
  template <class S>
  typename HmGridFactors<S>::Mat w_scatter(const HmGridFactors<S>& F, const Eigen::VectorXd& b) const;
  template <class S>
  HmGridSolution<S> solve_linear(const HmGridFactors<S>& F) const;
  HmGridSolution<double> solve_nonlinear(const HmGridFactors<double>& F) const;
};

/// kron's exact protocol (as fit_hm_exact) on the grid model; res.u holds U (n0 x n1, x fastest).
HmResult fit_hm_exact(const HmGridModel& m, long max_it, double seconds);

}  // namespace kron::gp
