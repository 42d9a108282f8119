#pragma once
// Stationary 1D covariance kernels with closed-form derivatives (issue 14, GP-HM): the factors of
// the Kronecker covariances of kron's Gaussian-process PDE solver. Every derivative is written in
// d = x - x' directly, never by differentiating |d|, so that it is exact at d = 0 (k''(0) and
// k''''(0) are what the PDE residuals' covariances need on the diagonal).
#include "kron/core/eigen.hpp"

#include <memory>
#include <string>
#include <vector>

namespace kron::gp {

/// k(x, x') = k(d), d = x - x'. derivative(n, d) = k^(n)(d) for n = 0 .. 4 (enough for
/// second-order PDE operators applied in both arguments).
class Kernel1D {
 public:
  virtual ~Kernel1D() = default;
  virtual double derivative(int n, double d) const = 0;
  virtual std::string describe() const = 0;
  /// d^a/dx^a d^b/dx'^b k(x, x') = (-1)^b k^(a+b)(x - x'), a + b <= 4.
  double operator()(double x, double xp, int a = 0, int b = 0) const;
  /// K_ij = d^a/dx^a d^b/dx'^b k(x_i, x'_j).
  Eigen::MatrixXd gram(const std::vector<double>& x, const std::vector<double>& xp, int a = 0, int b = 0) const;
};

/// exp(-a d^2), a > 0 (a = 1 / (2 l^2) for lengthscale l).
class SquaredExponential : public Kernel1D {
 public:
  explicit SquaredExponential(double a);
  double derivative(int n, double d) const override;
  std::string describe() const override;
  double a() const { return a_; }

 private:
  double a_;
};

/// Matern-5/2 with inverse lengthscale a > 0: (1 + s + s^2/3) e^{-s}, s = sqrt(5) a |d|. Four
/// times differentiable at 0: k''(0) = -5 a^2 / 3, k''''(0) = 25 a^4.
class Matern52 : public Kernel1D {
 public:
  explicit Matern52(double a);
  double derivative(int n, double d) const override;
  std::string describe() const override;
  double a() const { return a_; }

 private:
  double a_, c_;  // c = sqrt(5) a
};

/// sum_q w_q E(d; a_q) cos(2 pi mu_q d): GP-HM's spectral mixtures, E the Gaussian envelope
/// exp(-a d^2) (a Gaussian mixture in the spectral domain) or Matern-5/2 with inverse lengthscale
/// a (a Student-t mixture). Weights >= 0, inverse lengthscales > 0, frequencies any; derivatives
/// by Leibniz's rule over the envelope's and the cosine's.
class SpectralMixture : public Kernel1D {
 public:
  enum class Envelope { Gaussian, Matern52 };
  SpectralMixture(Envelope e, std::vector<double> weights, std::vector<double> inv_lengthscales, std::vector<double> frequencies);
  double derivative(int n, double d) const override;
  std::string describe() const override;
  Envelope envelope() const { return env_; }
  const std::vector<double>& weights() const { return w_; }
  const std::vector<double>& inv_lengthscales() const { return a_; }
  const std::vector<double>& frequencies() const { return mu_; }
  /// Sensitivities of k^(n)(d), n <= 3, to the hyperparameters in GP-HM's log domain: out[q] =
  /// d/d log w_q, out[Q + q] = d/d log a_q, out[2Q + q] = d/d mu_q (out holds 3Q values). Exact:
  /// the envelopes are functions of a^(1/2) d (Gaussian) or a d (Matern), so a dE^(j)/da =
  /// s (j E^(j) + d E^(j+1)) with s = 1/2 or 1.
  void parameter_derivatives(int n, double d, double* out) const;

 private:
  Envelope env_;
  std::vector<double> w_, a_, mu_;
};

}  // namespace kron::gp
