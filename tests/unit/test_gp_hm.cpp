// GP-HM (issue 14): the kernel's hyperparameter sensitivities and the objective's gradients (in
// the hyperparameters and in U) against central finite differences; the exact U solve against
// the objective's stationarity; Gauss-Newton for a nonlinear reaction; bad input refused.
#include <catch2/catch.hpp>

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/gp/hm.hpp"

using namespace kron;
using Env = gp::SpectralMixture::Envelope;

namespace {
gp::HmProblem small_problem(Env env, bool nonlinear) {
  gp::HmProblem p;
  p.x0 = 0;
  p.x1 = 1;
  p.points = 24;
  p.c2 = 1.0;
  p.c1 = 0.3;
  if (nonlinear) p.reaction = {0.1, -1.0, 0.0, 1.0};
  p.f.resize(p.points);
  for (long i = 0; i < p.points; ++i) {
    const double x = double(i) / double(p.points - 1);
    p.f[i] = -9 * std::sin(3 * x) + std::cos(x);
  }
  p.boundary = {0, p.points - 1};
  p.g = Eigen::Vector2d(0.2, -0.4);
  p.envelope = env;
  p.components = 3;
  p.freq_scale = 2.0;
  p.jitter = 1e-4;
  p.boundary_weight = 5;
  return p;
}
Eigen::VectorXd theta_of(const gp::HmModel& m) {
  Eigen::VectorXd t = m.initial();
  const int Q = m.q();
  for (int i = 0; i < Q; ++i) {
    t[i] += 0.3 * i - 0.2;
    t[Q + i] = 0.4 + 0.25 * i;  // a ~ 1.5 .. 2.4
    t[2 * Q + i] += 0.17;
  }
  t[3 * Q] = 0.7;
  t[3 * Q + 1] = -0.4;
  return t;
}
}  // namespace

TEST_CASE("GP-HM: spectral-mixture hyperparameter sensitivities against finite differences", "[gp]") {
  for (Env env : {Env::Gaussian, Env::Matern52}) {
    const std::vector<double> w{0.6, 1.4}, a{1.7, 0.8}, mu{0.9, 2.6};
    const gp::SpectralMixture k(env, w, a, mu);
    for (int n = 0; n <= 3; ++n)
      for (double d : {-0.83, -0.2, 0.0, 0.31, 1.4}) {
        double g[6];
        k.parameter_derivatives(n, d, g);
        for (int p = 0; p < 6; ++p) {
          const int q = p % 2, kind = p / 2;
          const double h = 1e-6;
          auto at = [&](double s) {
            std::vector<double> w2 = w, a2 = a, m2 = mu;
            if (kind == 0) w2[q] *= std::exp(s);
            if (kind == 1) a2[q] *= std::exp(s);
            if (kind == 2) m2[q] += s;
            return gp::SpectralMixture(env, w2, a2, m2).derivative(n, d);
          };
          const double fd = (at(h) - at(-h)) / (2 * h);
          INFO("envelope " << int(env) << " order " << n << " d " << d << " parameter " << p);
          CHECK(g[p] == Approx(fd).epsilon(1e-6).margin(1e-7 * (1 + std::abs(fd))));
        }
      }
  }
}

TEST_CASE("GP-HM: objective gradients in the hyperparameters and in U against finite differences", "[gp]") {
  for (bool nl : {false, true})
    for (Env env : {Env::Gaussian, Env::Matern52}) {
      const gp::HmModel m(small_problem(env, nl));
      const Eigen::VectorXd t = theta_of(m);
      Eigen::VectorXd u(m.n());
      for (long i = 0; i < m.n(); ++i) u[i] = std::sin(2.0 * double(i) / double(m.n())) + 0.1 * std::cos(7.0 * i);
      Eigen::VectorXd gt, gu;
      const auto F = m.factor(t);
      m.objective(F, u, &gt, &gu);
      for (long i = 0; i < t.size(); ++i) {
        // Fourth-order central differences (the objective carries log det K and K^-1 terms).
        auto J = [&](double s) {
          Eigen::VectorXd ts = t;
          ts[i] += s;
          return m.objective(m.factor(ts), u, nullptr, nullptr);
        };
        const double h = 1e-4;
        const double fd = (8 * (J(h) - J(-h)) - (J(2 * h) - J(-2 * h))) / (12 * h);
        INFO("nonlinear " << nl << " envelope " << int(env) << " hyperparameter " << i);
        CHECK(gt[i] == Approx(fd).epsilon(1e-5).margin(1e-6 * (1 + std::abs(fd))));
      }
      for (long i = 0; i < u.size(); i += 5) {
        const double h = 1e-6;
        Eigen::VectorXd up = u, um = u;
        up[i] += h;
        um[i] -= h;
        const double fd = (m.objective(F, up, nullptr, nullptr) - m.objective(F, um, nullptr, nullptr)) / (2 * h);
        INFO("nonlinear " << nl << " envelope " << int(env) << " u " << i);
        CHECK(gu[i] == Approx(fd).epsilon(1e-5).margin(1e-6 * (1 + std::abs(fd))));
      }
    }
}

TEST_CASE("GP-HM: the exact U solve is the objective's minimiser (linear: one step; Allen-Cahn-like: Gauss-Newton)", "[gp]") {
  for (bool nl : {false, true}) {
    const gp::HmModel m(small_problem(Env::Matern52, nl));
    const auto F = m.factor(theta_of(m));
    int steps = 0;
    const Eigen::VectorXd u = m.solve(F, Eigen::VectorXd::Zero(m.n()), &steps);
    Eigen::VectorXd gu;
    m.objective(F, u, nullptr, &gu);
    // Stationary: the gradient small against its parts' scale (alpha ~ K^-1 u).
    Eigen::VectorXd g0;
    m.objective(F, Eigen::VectorXd::Zero(m.n()), nullptr, &g0);
    INFO("nonlinear " << nl << " steps " << steps << " |g| " << gu.norm() << " |g(0)| " << g0.norm());
    CHECK(gu.norm() < 1e-8 * g0.norm());
    if (!nl) CHECK(steps == 1);
    else CHECK(steps > 1);
  }
}

TEST_CASE("GP-HM: bad input gets a clear error", "[gp]") {
  gp::HmProblem p = small_problem(Env::Matern52, false);
  p.freq_scale = 100;  // 24 points on [0, 1]: Nyquist 11.5
  CHECK_THROWS_WITH(gp::HmModel(p), Catch::Contains("Nyquist"));
  p = small_problem(Env::Matern52, false);
  p.jitter = 0;
  const gp::HmModel m(p);
  Eigen::VectorXd t = m.initial();
  for (int i = 0; i < m.q(); ++i) t[m.q() + i] = std::log(1e-3);  // very long lengthscales: K singular
  CHECK_THROWS_WITH(m.factor(t), Catch::Contains("not positive definite"));
  CHECK_THROWS_WITH(gp::SpectralMixture(Env::Matern52, {1.0}, {-1.0}, {0.0}), Catch::Contains("positive"));
  p = small_problem(Env::Matern52, false);
  p.c1 = p.c2 = 0;
  CHECK_THROWS_WITH(gp::HmModel(p), Catch::Contains("no derivative"));
}

TEST_CASE("GP-HM: the gradient of min_U J (stationary form) against finite differences of the re-solved objective", "[gp]") {
  for (bool nl : {false, true}) {
    const gp::HmModel m(small_problem(Env::Gaussian, nl));
    const Eigen::VectorXd t = theta_of(m);
    const Eigen::VectorXd u0 = Eigen::VectorXd::Zero(m.n());
    const auto F = m.factor(t);
    const Eigen::VectorXd u = m.solve(F, u0);
    Eigen::VectorXd gs, gp_;
    m.objective(F, u, &gs, nullptr, nullptr, true);
    m.objective(F, u, &gp_, nullptr);
    auto Jstar = [&](long i, double s) {
      Eigen::VectorXd ts = t;
      ts[i] += s;
      const auto Fs = m.factor(ts);
      return m.objective(Fs, m.solve(Fs, u), nullptr, nullptr);
    };
    for (long i = 0; i < t.size(); ++i) {
      const double h = 1e-4;
      const double fd = (8 * (Jstar(i, h) - Jstar(i, -h)) - (Jstar(i, 2 * h) - Jstar(i, -2 * h))) / (12 * h);
      INFO("nonlinear " << nl << " hyperparameter " << i);
      CHECK(gs[i] == Approx(fd).epsilon(1e-5).margin(1e-6 * (1 + std::abs(fd))));
      CHECK(gs[i] == Approx(gp_[i]).epsilon(1e-6).margin(1e-7 * (1 + std::abs(fd))));
    }
  }
}
