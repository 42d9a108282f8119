// GP kernels (issue 14): every closed-form derivative against finite differences of the one
// below it, exact values at d = 0, symmetry in (x, x'), positive definite Gram matrices, and
// bad parameters refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "kron/gp/kernel.hpp"

using namespace kron;

namespace {
std::vector<std::unique_ptr<gp::Kernel1D>> kernels() {
  std::vector<std::unique_ptr<gp::Kernel1D>> k;
  k.push_back(std::make_unique<gp::SquaredExponential>(3.0));
  k.push_back(std::make_unique<gp::Matern52>(2.5));
  k.push_back(std::make_unique<gp::SpectralMixture>(gp::SpectralMixture::Envelope::Gaussian, std::vector<double>{0.7, 0.2, 0.0},
                                                    std::vector<double>{4.0, 1.5, 2.0}, std::vector<double>{0.3, 2.1, 5.0}));
  k.push_back(std::make_unique<gp::SpectralMixture>(gp::SpectralMixture::Envelope::Matern52, std::vector<double>{0.5, 1.3},
                                                    std::vector<double>{0.8, 3.0}, std::vector<double>{1.7, 0.4}));
  return k;
}
}  // namespace

TEST_CASE("GP kernels: derivatives of orders 1-4 against finite differences, in d and in each argument", "[gp]") {
  for (const auto& k : kernels()) {
    INFO(k->describe());
    for (double d : {-1.3, -0.41, -0.05, 0.02, 0.37, 0.9}) {
      for (int n = 1; n <= 4; ++n) {
        const double h = 1e-5;
        const double fd = (k->derivative(n - 1, d + h) - k->derivative(n - 1, d - h)) / (2 * h);
        const double an = k->derivative(n, d);
        INFO("d = " << d << ", order " << n);
        CHECK(std::abs(fd - an) <= 1e-6 * std::max(1.0, std::abs(an)));
      }
      // d/dx' = -d/dd: mixed derivatives against differences in x'.
      const double x = 0.3, xp = x - d, h = 1e-5;
      CHECK(std::abs((*k)(x, xp, 1, 1) - ((*k)(x, xp + h, 1, 0) - (*k)(x, xp - h, 1, 0)) / (2 * h)) <= 1e-6 * std::max(1.0, std::abs((*k)(x, xp, 1, 1))));
      CHECK(std::abs((*k)(x, xp, 2, 2) - ((*k)(x, xp + h, 2, 1) - (*k)(x, xp - h, 2, 1)) / (2 * h)) <= 1e-6 * std::max(1.0, std::abs((*k)(x, xp, 2, 2))));
      // Symmetry: k^(a,b)(x, x') = k^(b,a)(x', x).
      CHECK(std::abs((*k)(x, xp, 2, 1) - (*k)(xp, x, 1, 2)) <= 1e-14 * std::max(1.0, std::abs((*k)(x, xp, 2, 1))));
    }
    // Even derivatives are even, odd ones odd, and the odd ones vanish at 0 (no |d| kink).
    for (int n = 0; n <= 4; ++n) {
      const double s = n % 2 ? -1.0 : 1.0;
      CHECK(std::abs(k->derivative(n, -0.27) - s * k->derivative(n, 0.27)) <= 1e-13 * std::max(1.0, std::abs(k->derivative(n, 0.27))));
    }
    CHECK(k->derivative(1, 0.0) == 0.0);
    CHECK(k->derivative(3, 0.0) == 0.0);
  }
}

TEST_CASE("GP kernels: closed values at zero and positive definite Gram matrices", "[gp]") {
  const gp::Matern52 m(2.0);
  CHECK(m.derivative(0, 0.0) == 1.0);
  CHECK(m.derivative(2, 0.0) == Approx(-5.0 * 4.0 / 3.0).epsilon(1e-15));
  CHECK(m.derivative(4, 0.0) == Approx(25.0 * 16.0).epsilon(1e-15));
  const gp::SquaredExponential s(0.5);
  CHECK(s.derivative(2, 0.0) == Approx(-1.0).epsilon(1e-15));
  CHECK(s.derivative(4, 0.0) == Approx(3.0).epsilon(1e-15));
  // A mixture's value at 0 is the sum of its weights; its k''(0) adds the cosines' -(2 pi mu)^2.
  const gp::SpectralMixture g(gp::SpectralMixture::Envelope::Gaussian, {0.5, 2.0}, {1.0, 3.0}, {0.25, 1.0});
  CHECK(g.derivative(0, 0.0) == Approx(2.5).epsilon(1e-15));
  CHECK(g.derivative(2, 0.0) == Approx(0.5 * (-2.0 - std::pow(M_PI / 2, 2)) + 2.0 * (-6.0 - 4 * M_PI * M_PI)).epsilon(1e-14));
  std::vector<double> x;
  for (int i = 0; i < 40; ++i) x.push_back(0.05 * i);
  for (const auto& k : kernels()) {
    INFO(k->describe());
    Eigen::MatrixXd K = k->gram(x, x);
    K.diagonal().array() += 1e-8;
    CHECK(K.llt().info() == Eigen::Success);
    CHECK((K - K.transpose()).norm() <= 1e-14 * K.norm());
    // The covariance of u_xx with itself: d^2/dx^2 d^2/dx'^2 k, symmetric positive semi-definite.
    Eigen::MatrixXd K4 = k->gram(x, x, 2, 2);
    CHECK((K4 - K4.transpose()).norm() <= 1e-12 * K4.norm());
    K4.diagonal().array() += 1e-8 * K4.diagonal().cwiseAbs().maxCoeff();
    CHECK(K4.llt().info() == Eigen::Success);
  }
}

TEST_CASE("GP kernels: bad parameters get a clear error", "[gp]") {
  CHECK_THROWS_WITH(gp::SquaredExponential(0.0), Catch::Contains("positive, finite inverse squared lengthscale"));
  CHECK_THROWS_WITH(gp::Matern52(-1.0), Catch::Contains("positive, finite inverse lengthscale"));
  CHECK_THROWS_WITH(gp::SpectralMixture(gp::SpectralMixture::Envelope::Gaussian, {1.0}, {1.0, 2.0}, {0.0}), Catch::Contains("as many weights"));
  CHECK_THROWS_WITH(gp::SpectralMixture(gp::SpectralMixture::Envelope::Matern52, {-1.0}, {1.0}, {0.0}), Catch::Contains("weight is negative"));
  CHECK_THROWS_WITH(gp::Matern52(1.0).derivative(5, 0.1), Catch::Contains("up to order 4"));
}
