#include "kron/spectral/hopf_cole.hpp"

#include <algorithm>
#include <cmath>

#include "kron/core/eigen.hpp"
#include "kron/core/error.hpp"

namespace kron::spectral {

namespace {
// psi_{n-1}(z) and psi_n(z), the orthonormal Hermite functions, by their three-term recurrence
// from psi_0 = pi^{-1/4} e^{-z^2/2} (no overflow: |psi_k| < 1).
void hermite_functions(int n, double z, double& pm1, double& pn) {
  double a = 0, b = std::pow(M_PI, -0.25) * std::exp(-0.5 * z * z);  // psi_{-1}, psi_0
  for (int k = 0; k < n; ++k) {
    const double c = std::sqrt(2.0 / (k + 1)) * z * b - std::sqrt(double(k) / (k + 1)) * a;
    a = b;
    b = c;
  }
  pm1 = a;
  pn = b;
}
}  // namespace

GaussHermite gauss_hermite(int n) {
  if (n < 1) throw Error("Gauss-Hermite quadrature needs at least one node");
  // Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix, off-diagonal sqrt(k/2).
  Eigen::VectorXd diag = Eigen::VectorXd::Zero(n), off(std::max(n - 1, 0));
  for (int k = 1; k < n; ++k) off[k - 1] = std::sqrt(0.5 * k);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
  es.computeFromTridiagonal(diag, off, Eigen::EigenvaluesOnly);
  GaussHermite q;
  for (int i = 0; i < n; ++i) {
    double z = es.eigenvalues()[i], pm1 = 0, pn = 0;
    for (int it = 0; it < 4; ++it) {  // Newton on psi_n: psi_n' = sqrt(2n) psi_{n-1} - z psi_n
      hermite_functions(n, z, pm1, pn);
      const double dp = std::sqrt(2.0 * n) * pm1 - z * pn;
      if (dp == 0.0) break;
      z -= pn / dp;
    }
    hermite_functions(n, z, pm1, pn);
    q.z.push_back(z);
    q.scaled_w.push_back(1.0 / (double(n) * pm1 * pm1));
  }
  return q;
}

double burgers_sine(double nu, double t, double x, const GaussHermite& q) {
  if (!(nu > 0) || !(t >= 0)) throw Error("the Hopf-Cole reference needs nu > 0 and t >= 0");
  if (t == 0) return -std::sin(M_PI * x);
  const double s = std::sqrt(4 * nu * t), k = 1.0 / (2 * M_PI * nu);
  const std::size_t n = q.z.size();
  std::vector<double> e(n);
  double emax = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    e[i] = std::log(q.scaled_w[i]) - q.z[i] * q.z[i] - k * std::cos(M_PI * (x - s * q.z[i]));
    emax = std::max(emax, e[i]);
  }
  double num = 0, den = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = std::exp(e[i] - emax);
    num += w * std::sin(M_PI * (x - s * q.z[i]));
    den += w;
  }
  return -num / den;
}

}  // namespace kron::spectral
