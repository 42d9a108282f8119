#pragma once
// GP-HM (issue 14; Fang et al., ICLR 2024): a Gaussian-process PDE solver whose unknowns are the
// solution values U at the collocation points, with a spectral-mixture prior, derivatives through
// the conditional mean (U_xx = K_xx K^-1 U) and the objective
//
//   J(U, theta) = 1/2 U^T K^-1 U + 1/2 log det K                              (prior)
//               + w_b (tau/2 |U_b - g|^2 - N_b/2 log tau)                      (boundary)
//               + v/2 |r(U)|^2 - N/2 log v,  r = c2 U_xx + c1 U_x + p(U) - f   (PDE residual)
//
// K = the kernel's Gram matrix plus the jitter, theta = (log w, log a, mu) of the mixture's Q
// components, log tau and log v (the learned noise precisions), p a polynomial of degree <= 3.
// kron's angle: for given theta, J is quadratic in U for a linear PDE, so U is solved for exactly
// (one stacked least-squares problem; Gauss-Newton when p is nonlinear), and the optimiser works on
// theta alone with the exact gradient of min_U J (by the envelope theorem, the partial gradient at
// the minimiser). The paper's protocol (Adam on (U, theta) jointly, from U = 0) runs on the same
// objective and gradient. This model is one-dimensional: uniform points, ends included.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/eigen.hpp"
#include "kron/gp/kernel.hpp"

namespace kron::gp {

struct HmProblem {
  double x0 = 0, x1 = 1;
  long points = 0;                      ///< uniform collocation points on [x0, x1], ends included
  double c2 = 0, c1 = 0;                ///< coefficients of u_xx and u_x
  std::array<double, 4> reaction{};     ///< p(u) = sum_k reaction[k] u^k
  Eigen::VectorXd f;                    ///< the source at the points
  std::vector<long> boundary;           ///< indices of the boundary points (the two ends)
  Eigen::VectorXd g;                    ///< u there
  SpectralMixture::Envelope envelope = SpectralMixture::Envelope::Matern52;
  int components = 30;                  ///< Q
  double freq_scale = 20;               ///< initial frequencies: Q values evenly from 0 to this (cycles per unit length)
  double inv_lengthscale = 1.0;         ///< initial inverse lengthscale a of every component (GP-HM's: 1)
  double jitter = 1e-6;
  double boundary_weight = 200;         ///< w_b
  /// Where the frequencies start: false, GP-HM's even grid; true, that grid with the component
  /// nearest each peak of the source's periodogram moved onto the peak (see initial()).
  bool spectral_init = false;
};

/// The objective's parts at (U, theta).
struct HmParts {
  double objective = 0, prior = 0, log_det = 0;
  double residual_rms = 0, boundary_rms = 0;
  double tau = 0, v = 0;
};

class HmModel {
 public:
  explicit HmModel(HmProblem p);
  const HmProblem& problem() const { return p_; }
  const std::vector<double>& points() const { return x_; }
  long n() const { return p_.points; }
  int q() const { return p_.components; }
  /// Hyperparameters: [log w (Q), log a (Q), mu (Q), log tau, log v], the frequencies held as
  /// cycles over the interval (mu (x1 - x0)): a phase error grows across the whole interval, so
  /// in these units the objective's curvature in them is comparable to the others'.
  long size() const { return 3L * q() + 2; }
  /// GP-HM's initialisation: w = 1/Q, a = inv_lengthscale (1), mu evenly on [0, freq_scale], tau = v = 1. With
  /// spectral_init, the peaks of the source's periodogram (Hann window, 8x zero padding, refined
  /// by a parabola through the three largest bins; at most Q/3 peaks above 1e-6 of the largest,
  /// up to freq_scale) each take the nearest free component, with inverse lengthscale
  /// peak_inv_lengthscale / length:
  /// for a constant-coefficient operator the solution's spectrum peaks where the source's does
  /// (the spectral-mixture initialisation of Wilson and Adams, 2013, from the data kron has).
  Eigen::VectorXd initial(double peak_inv_lengthscale = 1.0) const;
  /// Box bounds that keep the hyperparameters meaningful on this grid: log w in [-30, 5],
  /// inverse lengthscales from 1e-3 / length to 1 / spacing, frequencies in [0, Nyquist],
  /// log tau and log v from -10 to the precision 1 / (1e-9 rms f)^2 (clamped to [5, 30]),
  /// beyond which the gradient in the kernel hyperparameters loses its digits to rounding.
  void bounds(Eigen::VectorXd& lower, Eigen::VectorXd& upper) const;
  std::shared_ptr<SpectralMixture> kernel(const Eigen::VectorXd& theta) const;

  /// Everything that depends on theta alone: the Gram matrices (Toeplitz on the uniform grid),
  /// the Cholesky factor of K, the derivative part c2 K^(2,0) + c1 K^(1,0).
  struct Factors {
    Eigen::VectorXd theta;
    std::shared_ptr<SpectralMixture> k;
    Eigen::MatrixXd K;   ///< the Gram matrix plus the jitter
    Eigen::MatrixXd L;   ///< K = L L^T (lower)
    Eigen::MatrixXd Kd;  ///< c2 K^(2,0) + c1 K^(1,0): the operator's derivative part is Kd K^-1
    double tau = 1, v = 1, log_det = 0;
  };
  /// Throws kron::Error when K is not numerically positive definite.
  Factors factor(const Eigen::VectorXd& theta) const;

  /// J(U, theta); with g_theta and/or g_u, its partial gradients. stationary: U is
  /// argmin_U J (from solve), and g_theta then uses the stationarity condition
  /// v K^-1 Kd^T r = -(K^-1 U + w_b tau B^T (B U - g) + v p'(U) r) in place of the left side,
  /// whose terms cancel catastrophically once v is large (the gradient of min_U J, accurate
  /// where the exact protocol drives the precisions).
  double objective(const Factors& F, const Eigen::VectorXd& u, Eigen::VectorXd* g_theta, Eigen::VectorXd* g_u, HmParts* parts = nullptr,
                   bool stationary = false) const;
  /// argmin_U J(U, theta): for a linear PDE one stacked least-squares problem (identity rows for
  /// the prior in whitened variables U = L y, sqrt(v) rows for the residual, sqrt(w_b tau) rows
  /// for the boundary; Householder QR), for a nonlinear p Gauss-Newton steps of the same form from
  /// u0 until the step is below 1e-9 of U or J stops decreasing (at most 50). steps receives their number.
  Eigen::VectorXd solve(const Factors& F, const Eigen::VectorXd& u0, int* steps = nullptr) const;
  /// The posterior mean k(xs, X) K^-1 U.
  Eigen::VectorXd predict(const Factors& F, const Eigen::VectorXd& u, const std::vector<double>& xs) const;

  /// Sums over the diagonals of M: out[m + n - 1] = sum over i - j = m of M_ij, |m| < n.
  Eigen::VectorXd lag_sums(const Eigen::MatrixXd& M) const;
  /// K_ij = k^(order)(x_i - x_j) on the uniform points (a Toeplitz matrix).
  Eigen::MatrixXd toeplitz(const SpectralMixture& k, int order) const;
  /// g[0 .. 3Q) += sum over lags m of s[m + n - 1] d k^(order)(m h) / d theta (frequencies per
  /// cycle over the interval, as theta holds them): the gradient of <dK^(order), M> in theta
  /// from the lag sums s of M.
  void add_lag_gradient(const SpectralMixture& k, int order, const Eigen::VectorXd& s, double c, double* g) const;

 private:
  HmProblem p_;
  std::vector<double> x_;
  double h_;
};

/// How a fit ended.
struct HmResult {
  Eigen::VectorXd theta, u;
  HmParts parts;
  long iterations = 0;           ///< optimiser iterations (Adam steps)
  long solves = 0;               ///< exact U solves (objective evaluations)
  long gauss_newton_steps = 0;   ///< summed over the solves (nonlinear PDEs)
  long krylov_iterations = 0;    ///< CG iterations summed over the Gauss-Newton steps (grid model)
  std::string method, stopped_by;
};

/// The exact protocol's driver, shared by the 1D and grid models: bounded L-BFGS (TAOBLMVM) in two
/// stages from each start, the lowest final objective kept.
struct ExactFit {
  std::function<double(const Eigen::MatrixXd&, Eigen::MatrixXd*)> f;  ///< min_U J and its gradient in theta
  Eigen::VectorXd lower, upper;
  std::function<Eigen::VectorXd(double peak_inv_lengthscale)> initial;
  std::function<bool(long i, bool hold_lengthscales)> held;  ///< held in stage 1
  std::function<double(const Eigen::VectorXd& theta, Eigen::VectorXd& u)> final_solve;  ///< J and U at theta
  bool multi_start = true;
};
HmResult fit_exact(const ExactFit& x, long max_it, double seconds);

/// kron's protocol: theta by bounded L-BFGS (PETSc TAO TAOBLMVM; -gp_tao_* options reach it) on
/// min_U J, first over the weights and noise precisions with the frequencies (and lengthscales)
/// held, a third of the iterations and time, then over all hyperparameters. With spectral_init,
/// four starts of a quarter of the budget each (lengthscales held or free in the first stage;
/// the peaks' components at 1 or 4 lengths), the one with the lowest objective kept.
HmResult fit_hm_exact(const HmModel& m, long max_it, double seconds);
/// The paper's protocol: Adam on (U, theta) jointly from U = 0 and GP-HM's initial theta.
HmResult fit_hm_adam(const HmModel& m, long steps, double seconds, double lr);

}  // namespace kron::gp
