#include "kron/gp/kernel.hpp"

#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"

namespace kron::gp {

namespace {
void check_order(int n) {
  if (n < 0 || n > 4) throw Error("kernel derivatives are built up to order 4 (a second-order operator in both arguments); asked for " + std::to_string(n));
}
void check_positive(double v, const char* what) {
  if (!(v > 0) || !std::isfinite(v)) throw Error(std::string("a kernel needs a positive, finite ") + what + "; got " + std::to_string(v));
}
// n-th derivative of exp(-a d^2): P_n(d) exp(-a d^2), P_{n+1} = P_n' - 2 a d P_n.
double se(int n, double a, double d) {
  const double g = std::exp(-a * d * d), ad = a * d;
  switch (n) {
    case 0: return g;
    case 1: return -2 * ad * g;
    case 2: return (4 * ad * ad - 2 * a) * g;
    case 3: return (-8 * ad * ad * ad + 12 * a * ad) * g;
    default: return (16 * ad * ad * ad * ad - 48 * a * ad * ad + 12 * a * a) * g;
  }
}
// n-th derivative of (1 + s + s^2/3) e^{-s}, s = c |d|, as polynomials in d and s.
double m52(int n, double c, double d) {
  const double s = c * std::abs(d), e = std::exp(-s), c2 = c * c;
  switch (n) {
    case 0: return (1 + s + s * s / 3) * e;
    case 1: return -(c2 / 3) * d * (1 + s) * e;
    case 2: return -(c2 / 3) * (1 + s - s * s) * e;
    case 3: return -(c2 * c2 / 3) * d * (s - 3) * e;
    default: return (c2 * c2 / 3) * (s * s - 5 * s + 3) * e;
  }
}
}  // namespace

double Kernel1D::operator()(double x, double xp, int a, int b) const {
  check_order(a + b);
  const double v = derivative(a + b, x - xp);
  return b % 2 ? -v : v;
}

Eigen::MatrixXd Kernel1D::gram(const std::vector<double>& x, const std::vector<double>& xp, int a, int b) const {
  check_order(a + b);
  Eigen::MatrixXd K(static_cast<long>(x.size()), static_cast<long>(xp.size()));
  const double sign = b % 2 ? -1.0 : 1.0;
  for (std::size_t j = 0; j < xp.size(); ++j)
    for (std::size_t i = 0; i < x.size(); ++i) K(static_cast<long>(i), static_cast<long>(j)) = sign * derivative(a + b, x[i] - xp[j]);
  return K;
}

SquaredExponential::SquaredExponential(double a) : a_(a) { check_positive(a, "inverse squared lengthscale"); }
double SquaredExponential::derivative(int n, double d) const {
  check_order(n);
  return se(n, a_, d);
}
std::string SquaredExponential::describe() const {
  std::ostringstream os;
  os << "squared exponential exp(-" << a_ << " d^2)";
  return os.str();
}

Matern52::Matern52(double a) : a_(a), c_(std::sqrt(5.0) * a) { check_positive(a, "inverse lengthscale"); }
double Matern52::derivative(int n, double d) const {
  check_order(n);
  return m52(n, c_, d);
}
std::string Matern52::describe() const {
  std::ostringstream os;
  os << "Matern-5/2, inverse lengthscale " << a_;
  return os.str();
}

SpectralMixture::SpectralMixture(Envelope e, std::vector<double> weights, std::vector<double> inv_lengthscales, std::vector<double> frequencies)
    : env_(e), w_(std::move(weights)), a_(std::move(inv_lengthscales)), mu_(std::move(frequencies)) {
  if (w_.empty() || w_.size() != a_.size() || w_.size() != mu_.size())
    throw Error("a spectral mixture needs as many weights, inverse lengthscales and frequencies, at least one each");
  for (double w : w_)
    if (!(w >= 0) || !std::isfinite(w)) throw Error("a spectral mixture weight is negative or not finite: " + std::to_string(w));
  for (double a : a_) check_positive(a, "inverse lengthscale");
  for (double m : mu_)
    if (!std::isfinite(m)) throw Error("a spectral mixture frequency is not finite");
}

double SpectralMixture::derivative(int n, double d) const {
  check_order(n);
  static const int binom[5][5] = {{1}, {1, 1}, {1, 2, 1}, {1, 3, 3, 1}, {1, 4, 6, 4, 1}};
  double sum = 0;
  for (std::size_t q = 0; q < w_.size(); ++q) {
    if (w_[q] == 0.0) continue;
    const double om = 2 * M_PI * mu_[q], c = std::cos(om * d), s = std::sin(om * d);
    // cos^(m)(om d) = om^m cos(om d + m pi/2): cos, -sin, -cos, sin, cos.
    const double cm[4] = {c, -s, -c, s};
    const double cq = std::sqrt(5.0) * a_[q];
    double v = 0, omm = 1;
    for (int m = 0; m <= n; ++m, omm *= om) {
      const double e = env_ == Envelope::Gaussian ? se(n - m, a_[q], d) : m52(n - m, cq, d);
      v += binom[n][m] * e * omm * cm[m % 4];
    }
    sum += w_[q] * v;
  }
  return sum;
}

void SpectralMixture::parameter_derivatives(int n, double d, double* out) const {
  if (n < 0 || n > 3) throw Error("kernel hyperparameter derivatives are built up to derivative order 3; asked for " + std::to_string(n));
  static const int binom[4][4] = {{1}, {1, 1}, {1, 2, 1}, {1, 3, 3, 1}};
  const std::size_t Q = w_.size();
  const bool gauss = env_ == Envelope::Gaussian;
  const double scale = gauss ? 0.5 : 1.0;
  for (std::size_t q = 0; q < Q; ++q) {
    const double om = 2 * M_PI * mu_[q], c = std::cos(om * d), s = std::sin(om * d);
    const double cm[4] = {c, -s, -c, s};  // cos(om d + m pi/2)
    const double sm[4] = {s, c, -s, -c};  // sin(om d + m pi/2)
    const double cq = std::sqrt(5.0) * a_[q];
    double E[5];
    for (int j = 0; j <= n + 1; ++j) E[j] = gauss ? se(j, a_[q], d) : m52(j, cq, d);
    double v = 0, va = 0, vm = 0, omm = 1, omm1 = 0;  // omm = om^m, omm1 = m om^(m-1)
    for (int m = 0; m <= n; ++m) {
      const int j = n - m;
      const double b = binom[n][m];
      v += b * E[j] * omm * cm[m % 4];
      va += b * scale * (j * E[j] + d * E[j + 1]) * omm * cm[m % 4];
      vm += b * E[j] * (omm1 * cm[m % 4] - omm * d * sm[m % 4]);
      omm1 = (m + 1) * omm;
      omm *= om;
    }
    out[q] = w_[q] * v;
    out[Q + q] = w_[q] * va;
    out[2 * Q + q] = w_[q] * 2 * M_PI * vm;
  }
}

std::string SpectralMixture::describe() const {
  std::ostringstream os;
  os << (env_ == Envelope::Gaussian ? "Gaussian" : "Student-t (Matern-5/2)") << " spectral mixture of " << w_.size() << " components";
  return os.str();
}

}  // namespace kron::gp
