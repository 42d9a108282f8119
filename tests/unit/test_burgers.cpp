// The periodic Burgers solver (linops/burgers.hpp) against the Hopf-Cole solution: for
// u0 = a sin(2 pi x) on [0, 1), u = -2 nu phi_x / phi with phi the heat equation's solution from
// phi0 = exp(a cos(2 pi x) / (4 pi nu)), evaluated exactly mode by mode (no time stepping).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/linops/burgers.hpp"

namespace {
constexpr double kPi = 3.14159265358979323846;

// u(t, x_j) at x_j = j / n by Hopf-Cole: phi0's cosine coefficients by the trapezoid rule on 512
// points (exponentially accurate: they fall like I_k(a / (4 pi nu))), each damped by
// e^(-nu (2 pi k)^2 t).
std::vector<double> hopf_cole(double a, double nu, double t, long n) {
  const long nq = 512, K = 60;
  std::vector<double> c(K + 1, 0.0);
  for (long q = 0; q < nq; ++q) {
    const double x = double(q) / nq, p = std::exp(a * std::cos(2 * kPi * x) / (4 * kPi * nu));
    for (long k = 0; k <= K; ++k) c[k] += (k == 0 ? 1.0 : 2.0) * p * std::cos(2 * kPi * k * x) / nq;
  }
  std::vector<double> u(n);
  for (long j = 0; j < n; ++j) {
    const double x = double(j) / n;
    double phi = 0, dphi = 0;
    for (long k = 0; k <= K; ++k) {
      const double d = c[k] * std::exp(-nu * 4 * kPi * kPi * k * k * t);
      phi += d * std::cos(2 * kPi * k * x);
      dphi -= d * 2 * kPi * k * std::sin(2 * kPi * k * x);
    }
    u[j] = -2 * nu * dphi / phi;
  }
  return u;
}
}  // namespace

TEST_CASE("Periodic Burgers by ETDRK4: the Hopf-Cole solution, fourth order in time, lines independent", "[burgers]") {
  const long n = 64;
  const double nu = 0.1, T = 0.5;
  const std::vector<double> amps{1.0, -0.6, 2.0};
  std::vector<double> errors;
  for (double dt : {0.02, 0.01, 0.005}) {
    kron::linops::PeriodicBurgers solver(n, 1.0, nu, dt);
    std::vector<double> u(static_cast<std::size_t>(n) * amps.size());
    for (std::size_t l = 0; l < amps.size(); ++l)
      for (long j = 0; j < n; ++j) u[l * n + j] = amps[l] * std::sin(2 * kPi * double(j) / n);
    solver.advance(u.data(), static_cast<long>(amps.size()), std::lround(T / dt));
    double err = 0;
    for (std::size_t l = 0; l < amps.size(); ++l) {
      const auto want = hopf_cole(amps[l], nu, T, n);
      for (long j = 0; j < n; ++j) err = std::max(err, std::abs(u[l * n + j] - want[j]));
    }
    errors.push_back(err);
  }
  INFO("max errors at dt = 0.02, 0.01, 0.005: " << errors[0] << ", " << errors[1] << ", " << errors[2]);
  CHECK(errors[2] < 1e-7);
  const double p1 = std::log2(errors[0] / errors[1]), p2 = std::log2(errors[1] / errors[2]);
  INFO("observed orders " << p1 << ", " << p2);
  CHECK(p1 > 3.6);
  CHECK(p2 > 3.6);
}

TEST_CASE("Periodic Burgers: bad sizes and a blow-up are errors", "[burgers]") {
  CHECK_THROWS_WITH(kron::linops::PeriodicBurgers(63, 1.0, 0.1, 1e-3), Catch::Contains("an even number"));
  CHECK_THROWS_WITH(kron::linops::PeriodicBurgers(64, 1.0, 0.0, 1e-3), Catch::Contains("must be positive"));
  kron::linops::PeriodicBurgers solver(64, 1.0, 1e-3, 0.5);
  std::vector<double> u(64);
  for (long j = 0; j < 64; ++j) u[j] = 1e200 * std::sin(2 * kPi * double(j) / 64);
  CHECK_THROWS_WITH(solver.advance(u.data(), 1, 10), Catch::Contains("stopped being finite at step"));
}
