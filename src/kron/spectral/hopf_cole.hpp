#pragma once
// Reference solutions for the BWLer benchmarks that have no closed form (issue 13): viscous
// Burgers by the Hopf-Cole transformation, its integrals by Gauss-Hermite quadrature.
#include <vector>

namespace kron::spectral {

/// The n-point Gauss-Hermite rule for int e^{-z^2} h(z) dz ~ sum_i w_i h(z_i): nodes z_i
/// (ascending) and the scaled weights w_i e^{z_i^2} = 1 / (n psi_{n-1}(z_i)^2), psi the
/// orthonormal Hermite functions, which stay representable where the weights underflow. Nodes by
/// the Golub-Welsch eigenvalues refined by Newton steps on psi_n. n >= 1.
struct GaussHermite {
  std::vector<double> z, scaled_w;
};
GaussHermite gauss_hermite(int n);

/// Viscous Burgers u_t + u u_x = nu u_xx with u(0, x) = -sin(pi x) on x in [-1, 1], u(t, +-1) = 0
/// (the odd, 2-periodic data's solution on the whole line), by Hopf-Cole:
///   u(t, x) = - int sin(pi (x - eta)) f(x - eta) G dEta / int f(x - eta) G dEta,
///   f(y) = exp(-cos(pi y) / (2 pi nu)), G = exp(-eta^2 / (4 nu t)),
/// eta = sqrt(4 nu t) z and the rule q in z, the exponents shifted by their largest (the
/// integrands span e^{1/(pi nu)}); t = 0 gives the initial data.
double burgers_sine(double nu, double t, double x, const GaussHermite& q);

}  // namespace kron::spectral
