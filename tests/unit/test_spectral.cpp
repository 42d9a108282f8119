// Barycentric spectral building blocks: interpolation exact for polynomials (trigonometric
// polynomials on periodic axes) up to the node count, exact at nodes and stable next to them,
// spectrally convergent for analytic functions; differentiation matrices of several orders
// against exact derivatives; the LineOps pass the dot-product test; bad input is refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <random>

#include <chrono>
#include <thread>
#include <vector>

#include "kron/core/timer.hpp"
#include "kron/problems/bwler_hat.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/fit_tao.hpp"
#include "kron/spectral/fit.hpp"
#include "kron/spectral/hopf_cole.hpp"
#include "kron/spectral/laplace_series.hpp"
#include "kron/spectral/plane_fit.hpp"

using namespace kron;
using layout::AxisGrid;

namespace {

std::vector<double> random_points(double a, double b, int count, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> U(a, b);
  std::vector<double> p(static_cast<std::size_t>(count));
  for (auto& v : p) v = U(g);
  return p;
}

}  // namespace

TEST_CASE("barycentric interpolation on Chebyshev nodes is exact for polynomials of degree < N", "[spectral]") {
  for (long n : {2L, 3L, 8L, 33L, 129L}) {
    const AxisGrid g = AxisGrid::chebyshev(n, -1.0, 2.0);
    const std::vector<double> y = random_points(-1.0, 2.0, 50, 1);
    const Eigen::MatrixXd L = spectral::interpolation_matrix(g, y);
    // x^(n-1) in the scaled variable (a monomial of the highest degree the nodes determine).
    double err = 0, scale = 0;
    Eigen::VectorXd f(n);
    for (long i = 0; i < n; ++i) f[i] = std::pow((g[i] - 0.5) / 1.5, double(n - 1));
    const Eigen::VectorXd p = L * f;
    for (std::size_t q = 0; q < y.size(); ++q) {
      const double want = std::pow((y[q] - 0.5) / 1.5, double(n - 1));
      err = std::max(err, std::abs(p[static_cast<long>(q)] - want));
      scale = std::max(scale, std::abs(want));
    }
    INFO("n = " << n << ": error " << err);
    CHECK(err <= 1e-13 * std::max(1.0, scale) * std::max(1.0, std::log2(double(n))));
  }
}

TEST_CASE("barycentric interpolation is exact at nodes and accurate within 1e-15 of them", "[spectral]") {
  for (const AxisGrid& g : {AxisGrid::chebyshev(17, 0.0, 1.0), AxisGrid::periodic(16, 0.0, 2 * M_PI), AxisGrid::periodic(15, -1.0, 1.0)}) {
    auto f = [&](double x) { return std::exp(std::sin(2 * M_PI * (x - g.lower()) / g.length())); };
    Eigen::VectorXd v(g.size());
    for (long i = 0; i < g.size(); ++i) v[i] = f(g[i]);
    std::vector<double> y;
    for (long i = 0; i < g.size(); ++i) {
      y.push_back(g[i]);
      y.push_back(std::nextafter(g[i], g.upper()));
      y.push_back(g[i] + 1e-15 * g.length());
      if (i > 0) y.push_back(g[i] - 3e-16 * g.length());
    }
    const Eigen::VectorXd p = spectral::interpolation_matrix(g, y) * v;
    double err_exact = 0, err_near = 0;
    for (std::size_t q = 0; q < y.size(); ++q) {
      long node = 0;
      for (long i = 1; i < g.size(); ++i)
        if (std::abs(y[q] - g[i]) < std::abs(y[q] - g[node])) node = i;
      const double d = std::abs(p[static_cast<long>(q)] - v[node]);
      if (y[q] == g[node]) err_exact = std::max(err_exact, d);
      else err_near = std::max(err_near, d);
    }
    INFO((g.periodic() ? "periodic" : "chebyshev") << " n = " << g.size());
    CHECK(err_exact == 0);
    CHECK(err_near <= 1e-13);
  }
}

TEST_CASE("trigonometric interpolation on Fourier nodes is exact for trigonometric polynomials, N even and odd", "[spectral]") {
  for (long n : {8L, 9L, 32L, 33L}) {
    const AxisGrid g = AxisGrid::periodic(n, 0.0, 2.0);
    const long kmax = (n - 1) / 2;  // the highest frequency both parities resolve exactly
    auto f = [&](double x) {
      const double t = M_PI * x;  // period 2
      return 0.3 + std::cos(double(kmax) * t) - 0.7 * std::sin(double(kmax) * t) + std::sin(t);
    };
    Eigen::VectorXd v(n);
    for (long i = 0; i < n; ++i) v[i] = f(g[i]);
    const std::vector<double> y = random_points(-3.0, 5.0, 60, 2);  // outside one period too
    const Eigen::VectorXd p = spectral::interpolation_matrix(g, y) * v;
    double err = 0;
    for (std::size_t q = 0; q < y.size(); ++q) err = std::max(err, std::abs(p[static_cast<long>(q)] - f(y[q])));
    INFO("n = " << n << ": error " << err);
    CHECK(err <= 1e-13);
  }
}

TEST_CASE("interpolation converges spectrally for analytic functions", "[spectral]") {
  auto f = [](double x) { return 1.0 / (1.0 + 4.0 * x * x); };  // poles at +-i/2
  const std::vector<double> y = random_points(-1.0, 1.0, 200, 3);
  std::vector<double> err;
  const long ns[] = {9, 17, 33, 65};
  for (long n : ns) {
    const AxisGrid g = AxisGrid::chebyshev(n, -1.0, 1.0);
    Eigen::VectorXd v(n);
    for (long i = 0; i < n; ++i) v[i] = f(g[i]);
    const Eigen::VectorXd p = spectral::interpolation_matrix(g, y) * v;
    double e = 0;
    for (std::size_t q = 0; q < y.size(); ++q) e = std::max(e, std::abs(p[static_cast<long>(q)] - f(y[q])));
    err.push_back(e);
  }
  // Geometric decay: the Bernstein ellipse through the poles at +-i/2 has rho = (1 + sqrt 5)/2,
  // the error falls like rho^-n; each step must gain at least half that exponent (an algebraic
  // rate gains a fixed factor per doubling and fails from the second step on).
  const double rho = 0.5 * (1.0 + std::sqrt(5.0));
  for (std::size_t i = 1; i < err.size(); ++i) {
    INFO("errors " << err[0] << " " << err[1] << " " << err[2] << " " << err[3]);
    CHECK((err[i] <= err[i - 1] * std::pow(rho, -0.5 * double(ns[i] - ns[i - 1])) || err[i] <= 1e-14));
  }
  CHECK(err.back() <= 1e-12);
}

TEST_CASE("spectral differentiation matrices of orders 1 to 3 match exact derivatives", "[spectral]") {
  const double k = 1.3;
  for (int d = 1; d <= 3; ++d) {
    // Chebyshev: sin(k x) on [-1, 2].
    const AxisGrid c = AxisGrid::chebyshev(40, -1.0, 2.0);
    Eigen::VectorXd v(c.size()), want(c.size());
    for (long i = 0; i < c.size(); ++i) {
      v[i] = std::sin(k * c[i]);
      want[i] = std::pow(k, d) * (d == 1 ? std::cos(k * c[i]) : d == 2 ? -std::sin(k * c[i]) : -std::cos(k * c[i]));
    }
    const double ec = (spectral::differentiation_matrix(c, d) * v - want).cwiseAbs().maxCoeff();
    // Fourier: exp(sin(x)) on [0, 2 pi) against its derivatives, n even and odd.
    double ef = 0;
    for (long n : {48L, 49L}) {
      const AxisGrid p = AxisGrid::periodic(n, 0.0, 2 * M_PI);
      Eigen::VectorXd u(n), du(n);
      for (long i = 0; i < n; ++i) {
        const double x = p[i], s = std::sin(x), co = std::cos(x), e = std::exp(s);
        u[i] = e;
        du[i] = d == 1 ? co * e : d == 2 ? (co * co - s) * e : (co * co * co - 3 * s * co - co) * e;
      }
      ef = std::max(ef, (spectral::differentiation_matrix(p, d) * u - du).cwiseAbs().maxCoeff());
    }
    INFO("order " << d << ": chebyshev error " << ec << ", fourier error " << ef);
    CHECK(ec <= std::pow(10.0, -12 + 2 * d));
    CHECK(ef <= std::pow(10.0, -13 + d));
  }
}

TEST_CASE("spectral LineOps: the dot-product test, and clear errors for bad input", "[spectral]") {
  const AxisGrid g = AxisGrid::chebyshev(12, 0.0, 1.0);
  const auto I = spectral::interpolation_op(g, random_points(0.0, 1.0, 7, 4));
  const auto D = spectral::derivative_op(g, 2);
  std::mt19937 r(5);
  std::uniform_real_distribution<double> U(-1, 1);
  for (const auto& op : {I, D}) {
    std::vector<double> x(static_cast<std::size_t>(op->cols() * 3)), y(static_cast<std::size_t>(op->rows() * 3)), Ax(y.size()), Ty(x.size());
    for (auto& v : x) v = U(r);
    for (auto& v : y) v = U(r);
    op->apply({x.data(), 3, op->cols(), 1, op->cols()}, {Ax.data(), 3, op->rows(), 1, op->rows()});
    op->apply({y.data(), 3, op->rows(), 1, op->rows()}, {Ty.data(), 3, op->cols(), 1, op->cols()}, linops::Trans::T);
    double lhs = 0, rhs = 0, norm = 0;
    for (std::size_t q = 0; q < y.size(); ++q) lhs += y[q] * Ax[q];
    for (std::size_t q = 0; q < x.size(); ++q) {
      rhs += Ty[q] * x[q];
      norm += std::abs(Ty[q] * x[q]);
    }
    CHECK(std::abs(lhs - rhs) <= 1e-13 * norm);
  }
  CHECK_THROWS_WITH(spectral::interpolation_matrix(g, {1.5}), Catch::Contains("lies outside the axis [0.000000, 1.000000]"));
  CHECK_THROWS_WITH(spectral::differentiation_matrix(g, 0), Catch::Contains("the order must be at least 1"));
  CHECK_THROWS_WITH(spectral::weights(AxisGrid::periodic(1, 0.0, 1.0)), Catch::Contains("spectral operators need at least 2"));
}

namespace {
// Relative L2 error of the fitted nodal values against u(t, x) on a fine uniform test grid
// (barycentric interpolation in t, trigonometric in x).
template <class F>
double test_error(const spectral::SpaceTimeProblem& p, const Eigen::MatrixXd& u, F exact) {
  std::vector<double> tp, xp;
  for (int i = 0; i <= 100; ++i) tp.push_back(p.t.lower() + p.t.length() * i / 100.0);
  for (int j = 0; j < 97; ++j) xp.push_back(p.x.lower() + p.x.length() * j / 97.0);
  const Eigen::MatrixXd fine = spectral::interpolation_matrix(p.t, tp) * u * spectral::interpolation_matrix(p.x, xp).transpose();
  double e = 0, s = 0;
  for (std::size_t i = 0; i < tp.size(); ++i)
    for (std::size_t j = 0; j < xp.size(); ++j) {
      const double v = exact(tp[i], xp[j]);
      e += (fine(long(i), long(j)) - v) * (fine(long(i), long(j)) - v);
      s += v * v;
    }
  return std::sqrt(e / s);
}

spectral::SpaceTimeProblem convection(double c, long nt, long nx) {
  spectral::SpaceTimeProblem p;
  p.t = AxisGrid::chebyshev(nt, 0.0, 1.0);
  p.x = AxisGrid::periodic(nx, 0.0, 2 * M_PI);
  p.terms = {{1.0, 1, 0}, {c, 0, 1}};  // u_t + c u_x = 0
  spectral::SpaceTimeProblem::Initial u0;
  for (long j = 0; j < nx; ++j) u0.values.push_back(std::sin(p.x[j]));
  u0.weight = 100;  // the paper's initial/boundary weight
  p.initial = {u0};
  return p;
}
}  // namespace

TEST_CASE("space-time least-squares fit: the BWLer convection cases to 1e-12", "[spectral][fit]") {
  // The paper's settings: c = 40 on 81 Chebyshev (t) x 80 Fourier (x) nodes, c = 80 on 161 x 160;
  // u = sin(x - c t).
  for (auto cs : {std::array<double, 3>{40, 81, 80}, std::array<double, 3>{80, 161, 160}}) {
    const auto p = convection(cs[0], long(cs[1]), long(cs[2]));
    const spectral::FitResult r = spectral::fit_space_time(p);
    const double err = test_error(p, r.u, [&](double t, double x) { return std::sin(x - cs[0] * t); });
    INFO("c = " << cs[0] << ": relative L2 " << err << ", loss " << r.loss << ", condition " << r.condition << "; " << r.method);
    CHECK(err <= 1e-12);
    CHECK(r.loss <= 1e-20);
    CHECK(r.condition > 1);
    CHECK(std::isfinite(r.condition));
  }
}

TEST_CASE("space-time fit: second order in time, a source, and Parseval's bookkeeping", "[spectral][fit]") {
  // u_tt = u_xx + f with u = cos(t) sin(x) + t^2 cos(2x) on [0, 2] x [0, 2 pi): f = 2 cos 2x +
  // 4 t^2 cos 2x; u(0) = sin x, u_t(0) = 0; odd node counts in x too.
  for (long nx : {24L, 25L}) {
    spectral::SpaceTimeProblem p;
    p.t = AxisGrid::chebyshev(30, 0.0, 2.0);
    p.x = AxisGrid::periodic(nx, 0.0, 2 * M_PI);
    p.terms = {{1.0, 2, 0}, {-1.0, 0, 2}};
    for (long i = 0; i < 30; ++i)
      for (long j = 0; j < nx; ++j) p.source.push_back((2 + 4 * p.t[i] * p.t[i]) * std::cos(2 * p.x[j]));
    spectral::SpaceTimeProblem::Initial u0, v0;
    v0.dt = 1;
    for (long j = 0; j < nx; ++j) {
      u0.values.push_back(std::sin(p.x[j]));
      v0.values.push_back(0.0);
    }
    p.initial = {u0, v0};
    const auto r = spectral::fit_space_time(p);
    const double err = test_error(p, r.u, [](double t, double x) { return std::cos(t) * std::sin(x) + t * t * std::cos(2 * x); });
    INFO("nx = " << nx << ": error " << err << ", loss " << r.loss);
    CHECK(err <= 1e-12);
    CHECK(r.residual_rms <= 1e-9);  // second derivatives of 30 nodes amplify rounding ~N^4
    CHECK(r.initial_rms <= 1e-12);
  }
}

TEST_CASE("space-time fit: the optimum is a least-squares one when the data are inconsistent", "[spectral][fit]") {
  // An initial condition that contradicts the PDE's solution space cannot be met exactly with
  // a small weight: the fit balances both terms, and any perturbation of u raises the loss.
  auto p = convection(3.0, 12, 10);
  p.source.assign(12 * 10, 0.0);
  for (long i = 0; i < 12; ++i)
    for (long j = 0; j < 10; ++j) p.source[std::size_t(i * 10 + j)] = std::cos(7 * p.t[i]) * std::sin(3 * p.x[j] + 1);
  p.initial[0].weight = 0.5;
  const auto r = spectral::fit_space_time(p);
  // The loss of u + eps*v in physical space, recomputed here, is never below the optimum.
  auto loss = [&](const Eigen::MatrixXd& u) {
    const Eigen::MatrixXd Dt = spectral::differentiation_matrix(p.t, 1), Dx = spectral::differentiation_matrix(p.x, 1);
    Eigen::MatrixXd R = Dt * u + 3.0 * u * Dx.transpose();
    for (long i = 0; i < 12; ++i)
      for (long j = 0; j < 10; ++j) R(i, j) -= p.source[std::size_t(i * 10 + j)];
    const Eigen::RowVectorXd g = Eigen::Map<const Eigen::RowVectorXd>(p.initial[0].values.data(), 10);
    return R.squaredNorm() / 120.0 + 0.5 * (u.row(0) - g).squaredNorm() / 10.0;
  };
  CHECK(loss(r.u) == Approx(r.loss).epsilon(1e-10));
  std::mt19937 gen(3);
  std::normal_distribution<double> N(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::MatrixXd v(12, 10);
    for (long q = 0; q < v.size(); ++q) v.data()[q] = N(gen);
    CHECK(loss(r.u + 1e-4 * v) >= r.loss);
    // The gradient vanishes: the loss grows quadratically (second order) in eps.
    const double d1 = loss(r.u + 1e-3 * v) - r.loss, d2 = loss(r.u + 2e-3 * v) - r.loss;
    CHECK(d2 == Approx(4 * d1).epsilon(1e-3));
  }
}

TEST_CASE("space-time fit: bad input gets a clear error", "[spectral][fit]") {
  auto p = convection(1.0, 8, 8);
  p.x_collocation = {0.5, 1.0};
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("periodic x axis takes collocation at the nodes"));
  p = convection(1.0, 8, 8);
  p.x = AxisGrid::chebyshev(100, 0.0, 1.0);
  p.t = AxisGrid::chebyshev(90, 0.0, 1.0);
  p.initial[0].values.assign(100, 0.0);
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("up to 8192 unknowns; this one has 9000"));
  p = convection(1.0, 8, 8);
  p.initial[0].values.pop_back();
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("7 values for 8 x nodes"));
  p = convection(1.0, 8, 8);
  p.source = {1.0, 2.0};
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("2 values for 64 nodes"));
  p = convection(1.0, 8, 8);
  p.terms.clear();
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("at least one PDE term"));
}

TEST_CASE("space-time fit: BWLer's reaction case by Gauss-Newton to 1e-12", "[spectral][fit]") {
  // u_t = rho u (1 - u), rho = 5, u(0, x) = h(x) = exp(-(x - pi)^2 / (2 (pi/4)^2)): the logistic
  // solution u = h e^{rho t} / (h e^{rho t} + 1 - h) at every x; 81 x 81 nodes as in the paper.
  spectral::SpaceTimeProblem p;
  p.t = AxisGrid::chebyshev(81, 0.0, 1.0);
  p.x = AxisGrid::periodic(81, 0.0, 2 * M_PI);
  const double rho = 5;
  p.terms = {{1.0, 1, 0}};
  p.reaction = {0.0, -rho, rho};  // u_t - rho u + rho u^2 = 0
  auto h = [](double x) { return std::exp(-(x - M_PI) * (x - M_PI) / (2 * (M_PI / 4) * (M_PI / 4))); };
  spectral::SpaceTimeProblem::Initial u0;
  for (long j = 0; j < 81; ++j) u0.values.push_back(h(p.x[j]));
  u0.weight = 100;
  p.initial = {u0};
  const auto r = spectral::fit_space_time(p);
  // At the x nodes (the PDE has no x coupling: between nodes only interpolation of h matters).
  std::vector<double> tp;
  for (int i = 0; i <= 100; ++i) tp.push_back(i / 100.0);
  const Eigen::MatrixXd fine = spectral::interpolation_matrix(p.t, tp) * r.u;
  double e = 0, s = 0;
  for (std::size_t i = 0; i < tp.size(); ++i)
    for (long j = 0; j < 81; ++j) {
      const double g = h(p.x[j]) * std::exp(rho * tp[i]), v = g / (g + 1 - h(p.x[j]));
      e += (fine(long(i), j) - v) * (fine(long(i), j) - v);
      s += v * v;
    }
  INFO("relative L2 " << std::sqrt(e / s) << " after " << r.iterations << " Gauss-Newton steps; " << r.method);
  CHECK(std::sqrt(e / s) <= 1e-12);
  CHECK(r.iterations > 1);
  CHECK(r.iterations < 50);
  // A nonlinear PDE with x-derivatives is refused clearly.
  p.terms.push_back({1.0, 0, 1});
  CHECK_THROWS_WITH(spectral::fit_space_time(p), Catch::Contains("with x-derivatives is not built yet"));
}

TEST_CASE("space-time fit on a bounded x axis: BWLer's wave case to 1e-11", "[spectral][fit]") {
  // u_tt = 4 u_xx on [0, 1]^2, u(0, x) = sin(pi x) + sin(5 pi x)/2, u_t(0, x) = 0, u = 0 at x = 0
  // and 1: u = sin(pi x) cos(2 pi t) + sin(5 pi x) cos(10 pi t) / 2. The paper's settings: 41 x 41
  // Chebyshev nodes, 161 x 161 collocation points, initial and boundary terms weighted 100 (its
  // own dense least-squares solve: 1.9e-10).
  spectral::SpaceTimeProblem p;
  p.t = AxisGrid::chebyshev(41, 0.0, 1.0);
  p.x = AxisGrid::chebyshev(41, 0.0, 1.0);
  const AxisGrid c = AxisGrid::chebyshev(161, 0.0, 1.0);
  p.t_collocation = c.coords();
  p.x_collocation = c.coords();
  p.terms = {{1.0, 2, 0}, {-4.0, 0, 2}};
  spectral::SpaceTimeProblem::Initial u0, v0;
  v0.dt = 1;
  u0.weight = v0.weight = 100;
  for (double X : c.coords()) {
    u0.values.push_back(std::sin(M_PI * X) + 0.5 * std::sin(5 * M_PI * X));
    v0.values.push_back(0.0);
  }
  p.initial = {u0, v0};
  for (int side : {0, 1}) {
    spectral::SpaceTimeProblem::Boundary b;
    b.side = side;
    b.weight = 100;
    b.values.assign(161, 0.0);
    p.boundary.push_back(b);
  }
  const auto r = spectral::fit_space_time(p);
  std::vector<double> tp;
  for (int i = 0; i <= 100; ++i) tp.push_back(i / 100.0);
  const Eigen::MatrixXd fine = spectral::interpolation_matrix(p.t, tp) * r.u * spectral::interpolation_matrix(p.x, tp).transpose();
  double e = 0, s = 0;
  for (std::size_t i = 0; i < tp.size(); ++i)
    for (std::size_t j = 0; j < tp.size(); ++j) {
      const double T = tp[i], X = tp[j];
      const double v = std::sin(M_PI * X) * std::cos(2 * M_PI * T) + 0.5 * std::sin(5 * M_PI * X) * std::cos(10 * M_PI * T);
      e += (fine(long(i), long(j)) - v) * (fine(long(i), long(j)) - v);
      s += v * v;
    }
  INFO("relative L2 " << std::sqrt(e / s) << ", loss " << r.loss << ", condition estimate " << r.condition << "; " << r.method);
  CHECK(std::sqrt(e / s) <= 1e-11);
  CHECK(r.loss <= 1e-18);
  CHECK(r.condition > 1);
}

TEST_CASE("the space-time loss: its gradient against finite differences, and the exact fit's loss", "[spectral][fit]") {
  // Three shapes of the loss: periodic x with a source (collocation at the nodes), a cubic
  // reaction, and a bounded x with finer collocation points and weighted boundary terms.
  std::mt19937 g(7);
  std::uniform_real_distribution<double> U(-1, 1);
  std::vector<spectral::SpaceTimeProblem> ps;
  {
    spectral::SpaceTimeProblem p = convection(3.0, 9, 8);
    p.source.resize(9 * 8);
    for (double& v : p.source) v = U(g);
    ps.push_back(p);
  }
  {
    spectral::SpaceTimeProblem p = convection(1.0, 7, 6);
    p.terms = {{1.0, 1, 0}, {0.5, 0, 2}};
    p.reaction = {0.3, -1.0, 2.0, -0.7};
    ps.push_back(p);
  }
  {
    spectral::SpaceTimeProblem p;
    p.t = AxisGrid::chebyshev(6, 0.0, 1.0);
    p.x = AxisGrid::chebyshev(7, -1.0, 2.0);
    p.t_collocation = AxisGrid::chebyshev(9, 0.0, 1.0).coords();
    p.x_collocation = AxisGrid::chebyshev(11, -1.0, 2.0).coords();
    p.terms = {{1.0, 2, 0}, {-2.0, 0, 2}, {0.7, 1, 1}};
    p.source.resize(9 * 11);
    for (double& v : p.source) v = U(g);
    spectral::SpaceTimeProblem::Initial u0, v0;
    v0.dt = 1;
    u0.weight = 100;
    v0.weight = 3;
    for (int i = 0; i < 11; ++i) { u0.values.push_back(U(g)); v0.values.push_back(U(g)); }
    p.initial = {u0, v0};
    for (int side : {0, 1}) {
      spectral::SpaceTimeProblem::Boundary b;
      b.side = side;
      b.weight = 50;
      for (int i = 0; i < 9; ++i) b.values.push_back(U(g));
      p.boundary.push_back(b);
    }
    ps.push_back(p);
  }
  {
    // Products u * D u (Burgers' u u_x, and u u_tx) with finer collocation and boundary terms.
    spectral::SpaceTimeProblem p = ps[2];
    p.terms = {{1.0, 1, 0}, {-0.1, 0, 2}};
    p.products = {{1.0, 0, 1}, {0.3, 1, 1}};
    p.initial.resize(1);
    ps.push_back(p);
  }
  for (std::size_t c = 0; c < ps.size(); ++c) {
    const spectral::SpaceTimeLoss loss(ps[c]);
    Eigen::MatrixXd X(loss.nt(), loss.nx()), G;
    for (Eigen::Index q = 0; q < X.size(); ++q) X.data()[q] = 0.5 * U(g);
    loss(X, &G);
    // Central differences along a random direction and along single entries.
    Eigen::MatrixXd Dir(X.rows(), X.cols());
    for (Eigen::Index q = 0; q < Dir.size(); ++q) Dir.data()[q] = U(g);
    const double h = 1e-6;
    const double fd = (loss(X + h * Dir) - loss(X - h * Dir)) / (2 * h), an = (G.array() * Dir.array()).sum();
    INFO("case " << c << ": directional derivative " << an << " vs finite differences " << fd);
    CHECK(std::abs(fd - an) <= 1e-6 * std::max(1.0, std::abs(an)));
    for (Eigen::Index q : {Eigen::Index(0), X.size() / 2, X.size() - 1}) {
      Eigen::MatrixXd E = Eigen::MatrixXd::Zero(X.rows(), X.cols());
      E.data()[q] = 1;
      const double d = (loss(X + h * E) - loss(X - h * E)) / (2 * h);
      CHECK(std::abs(d - G.data()[q]) <= 1e-6 * std::max(1.0, std::abs(G.data()[q])));
    }
  }
  // The exact fit's loss is this loss at its values, and no random perturbation lowers it.
  for (std::size_t c : {std::size_t(0), std::size_t(2)}) {
    const auto r = spectral::fit_space_time(ps[c]);
    const spectral::SpaceTimeLoss loss(ps[c]);
    Eigen::MatrixXd G;
    const auto parts = loss.evaluate(r.u, &G);
    CHECK(parts.loss == Approx(r.loss).epsilon(1e-9).margin(1e-20));
    CHECK(parts.residual_rms == Approx(r.residual_rms).epsilon(1e-9).margin(1e-12));
    CHECK(G.norm() <= 1e-8 * std::max(1.0, r.loss));  // a minimum: the gradient vanishes
  }
}

TEST_CASE("Adam on the space-time loss lowers it but stays far from the exact fit", "[spectral][fit]") {
  const spectral::SpaceTimeProblem p = convection(2.0, 11, 10);
  const auto exact = spectral::fit_space_time(p);
  const spectral::SpaceTimeLoss loss(p);
  const double at_zero = loss(Eigen::MatrixXd::Zero(11, 10));
  const auto a = spectral::fit_adam(p, 3000, 60.0, 1e-2, 1.0);
  INFO("loss at 0 " << at_zero << ", after Adam " << a.loss << " (" << a.method << "), exact fit " << exact.loss);
  CHECK(a.iterations == 3000);
  CHECK(a.loss < 0.1 * at_zero);
  CHECK(a.loss > exact.loss);
  CHECK(a.loss == Approx(loss(a.u)).epsilon(1e-12));
}

TEST_CASE("mapped Chebyshev nodes: clustered, and the rational barycentric interpolant converges for a steep front", "[spectral]") {
  const AxisGrid g = AxisGrid::mapped_chebyshev(65, -1.0, 1.0, 0.0, 0.05);
  REQUIRE(g.kind() == layout::AxisKind::Mapped);
  REQUIRE(g.coords().front() == -1.0);
  REQUIRE(g.coords().back() == 1.0);
  for (long i = 1; i < g.size(); ++i) REQUIRE(g[i] > g[i - 1]);
  REQUIRE(g[33] - g[32] < 0.01);  // near the centre: far finer than Chebyshev's pi/64
  // tanh(x/0.02): plain Chebyshev nodes barely resolve it, mapped ones converge geometrically.
  auto f = [](double x) { return std::tanh(x / 0.02); };
  auto df = [](double x) { return 50.0 / std::pow(std::cosh(x / 0.02), 2); };
  const auto pts = random_points(-1.0, 1.0, 300, 7);
  auto error = [&](const AxisGrid& a) {
    Eigen::VectorXd v(a.size());
    for (long j = 0; j < a.size(); ++j) v[j] = f(a[j]);
    const Eigen::VectorXd y = spectral::interpolation_matrix(a, pts) * v;
    double e = 0;
    for (std::size_t q = 0; q < pts.size(); ++q) e = std::max(e, std::abs(y[static_cast<long>(q)] - f(pts[q])));
    return e;
  };
  double prev = 1;
  for (long n : {65L, 129L, 193L}) {
    const double e = error(AxisGrid::mapped_chebyshev(n, -1.0, 1.0, 0.0, 0.02));
    INFO("n = " << n << ": " << e);
    REQUIRE(e < prev / 20);
    prev = e;
  }
  REQUIRE(prev < 1e-9);
  REQUIRE(error(AxisGrid::chebyshev(193, -1.0, 1.0)) > 1e3 * prev);
  // The differentiation matrix of the same rational interpolant.
  const AxisGrid m = AxisGrid::mapped_chebyshev(193, -1.0, 1.0, 0.0, 0.02);
  Eigen::VectorXd v(m.size());
  for (long j = 0; j < m.size(); ++j) v[j] = f(m[j]);
  const Eigen::VectorXd d = spectral::differentiation_matrix(m, 1) * v;
  for (long j = 0; j < m.size(); ++j) REQUIRE(std::abs(d[j] - df(m[j])) < 1e-6 * 50);
}

TEST_CASE("Gauss-Hermite quadrature: exact for polynomials, weights past underflow", "[spectral]") {
  for (int n : {1, 2, 5, 20, 100, 300}) {
    const auto q = spectral::gauss_hermite(n);
    REQUIRE(static_cast<int>(q.z.size()) == n);
    // int e^{-z^2} z^{2k} dz = Gamma(k + 1/2), exact for 2k <= 2n - 1.
    for (int k = 0; 2 * k <= std::min(2 * n - 1, 40); ++k) {
      long double sum = 0;
      for (int i = 0; i < n; ++i) sum += q.scaled_w[i] * std::exp(-q.z[i] * q.z[i]) * std::pow(q.z[i], 2 * k);
      INFO("n = " << n << ", k = " << k);
      REQUIRE(std::abs(double(sum) / std::tgamma(k + 0.5) - 1) < 1e-12);
    }
    for (int i = 0; i < n; ++i) REQUIRE(std::abs(q.z[i] + q.z[n - 1 - i]) < 1e-12 * (1 + std::abs(q.z[i])));
  }
  const auto q = spectral::gauss_hermite(300);
  REQUIRE(std::isfinite(std::log(q.scaled_w.back())));  // the weight itself, ~e^{-590}, would be denormal
}

TEST_CASE("the Hopf-Cole Burgers reference against an independent quadrature and its own small-t expansion", "[spectral]") {
  const double nu = 0.01 / M_PI;
  const auto q = spectral::gauss_hermite(200);
  // The same integrals by the trapezoidal rule in eta over +-12 sqrt(4 nu t) (spectrally
  // accurate for this rapidly decaying smooth integrand), in long double.
  auto trapezoid = [&](double t, double x) {
    const double s = std::sqrt(4 * nu * t), k = 1.0 / (2 * M_PI * nu);
    const int m = 40000;
    long double num = 0, den = 0, emax = -1e300;
    for (int pass = 0; pass < 2; ++pass)
      for (int i = 0; i <= m; ++i) {
        const double eta = s * (-12.0 + 24.0 * i / m), y = x - eta;
        const long double e = -(long double)eta * eta / (4 * nu * t) - k * std::cos(M_PI * y);
        if (pass == 0) {
          emax = std::max(emax, e);
          continue;
        }
        const long double w = std::exp(e - emax);
        num += w * std::sin(M_PI * y);
        den += w;
      }
    return double(-num / den);
  };
  for (double t : {0.05, 0.3, 0.5, 1.0})
    for (double x : {-0.9, -0.2, -0.01, 0.003, 0.1, 0.7}) {
      INFO("t = " << t << ", x = " << x);
      REQUIRE(std::abs(spectral::burgers_sine(nu, t, x, q) - trapezoid(t, x)) < 1e-11);
    }
  // Odd in x, zero at x = 0 and +-1, the initial data at t = 0.
  for (double t : {0.2, 0.9}) {
    REQUIRE(std::abs(spectral::burgers_sine(nu, t, 0.0, q)) < 1e-13);
    REQUIRE(std::abs(spectral::burgers_sine(nu, t, 1.0, q)) < 1e-13);
    REQUIRE(std::abs(spectral::burgers_sine(nu, t, 0.37, q) + spectral::burgers_sine(nu, t, -0.37, q)) < 1e-13);
  }
  REQUIRE(spectral::burgers_sine(nu, 0.0, 0.25, q) == -std::sin(M_PI * 0.25));
  // Small t: u = u0 + t (nu u0'' - u0 u0') + O(t^2).
  const double t = 1e-4, x = 0.4, u0 = -std::sin(M_PI * x), u0x = -M_PI * std::cos(M_PI * x), u0xx = M_PI * M_PI * std::sin(M_PI * x);
  REQUIRE(std::abs(spectral::burgers_sine(nu, t, x, q) - (u0 + t * (nu * u0xx - u0 * u0x))) < 1e-6);
}

TEST_CASE("time-slab Newton fit: a linear heat problem and viscous Burgers against their references", "[spectral][fit]") {
  // u_t = u_xx on [0, 1], u = 0 at both ends: u = e^{-pi^2 t} sin(pi x); spectral in t and x.
  spectral::SpaceTimeProblem p;
  p.t = AxisGrid::chebyshev(16, 0.0, 0.5);
  p.x = AxisGrid::chebyshev(20, 0.0, 1.0);
  p.terms = {{1.0, 1, 0}, {-1.0, 0, 2}};
  p.time_slabs = 3;
  spectral::SpaceTimeProblem::Initial in;
  for (double x : p.x.coords()) in.values.push_back(std::sin(M_PI * x));
  p.initial = {in};
  p.boundary_fn = {[](double) { return 0.0; }, [](double) { return 0.0; }};
  spectral::FitResult r = spectral::fit_time_slabs(p);
  REQUIRE(r.slabs.size() == 3);
  REQUIRE(r.iterations == 6);  // a linear problem: one step and the check per slab
  double e = 0;
  for (const auto& s : r.slabs)
    for (long i = 0; i < s.t.size(); ++i)
      for (long j = 0; j < p.x.size(); ++j) e = std::max(e, std::abs(s.u(i, j) - std::exp(-M_PI * M_PI * s.t[i]) * std::sin(M_PI * p.x[j])));
  REQUIRE(e < 1e-12);
  REQUIRE(r.residual_rms < 1e-10);
  REQUIRE(r.condition > 1);

  // Burgers, nu = 0.01/pi, to t = 0.4 (the shock forming): Newton on each slab, against Hopf-Cole.
  const double nu = 0.01 / M_PI;
  p.t = AxisGrid::chebyshev(8, 0.0, 0.4);
  p.x = AxisGrid::mapped_chebyshev(96, -1.0, 1.0, 0.0, 0.03);
  p.terms = {{1.0, 1, 0}, {-nu, 0, 2}};
  p.products = {{1.0, 0, 1}};
  p.time_slabs = 8;
  p.initial[0].values.clear();
  for (double x : p.x.coords()) p.initial[0].values.push_back(-std::sin(M_PI * x));
  r = spectral::fit_time_slabs(p);
  REQUIRE(r.iterations > 2 * 8);  // nonlinear: several Newton steps per slab
  const auto q = spectral::gauss_hermite(200);
  const auto& last = r.slabs.back();
  e = 0;
  for (long j = 0; j < p.x.size(); ++j) e = std::max(e, std::abs(last.u(last.u.rows() - 1, j) - spectral::burgers_sine(nu, 0.4, p.x[j], q)));
  INFO("max error at t = 0.4: " << e);
  REQUIRE(e < 1e-5);
  // Bad input: second order in t; too many unknowns per slab; boundary data on a periodic axis.
  spectral::SpaceTimeProblem b = p;
  b.terms.push_back({1.0, 2, 0});
  REQUIRE_THROWS_WITH(spectral::fit_time_slabs(b), Catch::Contains("first-order equations in t"));
  b = p;
  b.x = AxisGrid::mapped_chebyshev(700, -1.0, 1.0, 0.0, 0.03);
  b.initial[0].values.assign(700, 0.0);
  REQUIRE_THROWS_WITH(spectral::fit_time_slabs(b), Catch::Contains("up to 4096 unknowns per slab"));
  b = p;
  b.x = AxisGrid::periodic(16, -1.0, 1.0);
  b.initial[0].values.assign(16, 0.0);
  REQUIRE_THROWS_WITH(spectral::fit_time_slabs(b), Catch::Contains("a periodic x axis takes no boundary data"));
}

TEST_CASE("the Laplace series reference reproduces harmonic functions with singularities inside the holes", "[spectral]") {
  // u = Re(z^3) + log|z - a| - 0.5 log|z - b| + Re(1 / (z - c)), a, b, c inside the holes but off
  // their centres: the series must expand them; its boundary misfit bounds the error inside.
  spectral::HoledRectangle d{-0.5, 0.5, -0.5, 0.5, {{0.3, 0.3, 0.1}, {-0.3, 0.3, 0.1}, {-0.3, -0.3, 0.1}, {0.3, -0.3, 0.1}}};
  auto u = [](double x, double y) {
    const std::complex<double> z(x, y), c(0.33, -0.27);
    return std::pow(z, 3).real() + std::log(std::hypot(x - 0.28, y - 0.31)) - 0.5 * std::log(std::hypot(x + 0.3, y + 0.33)) +
           (1.0 / (z - c)).real();
  };
  const spectral::LaplaceSeries s(d, u, u, 40, 40);
  REQUIRE(s.boundary_error() < 1e-11);
  double e = 0;
  for (double x = -0.5; x <= 0.5; x += 0.0137)
    for (double y = -0.5; y <= 0.5; y += 0.0191)
      if (d.contains(x, y)) e = std::max(e, std::abs(s(x, y) - u(x, y)));
  REQUIRE(e <= 1.01 * s.boundary_error() + 1e-14);  // the maximum principle
  REQUIRE_FALSE(d.contains(0.3, 0.3));
  REQUIRE(d.contains(0.0, 0.0));
  REQUIRE_THROWS_WITH(spectral::LaplaceSeries(spectral::HoledRectangle{0, 1, 0, 1, {{0.95, 0.5, 0.1}}}, u, u, 10, 10),
                      Catch::Contains("not a disk inside the rectangle"));
}

TEST_CASE("the plane loss: its gradient against finite differences, the exact fit at its minimum, Adam below it", "[spectral][fit]") {
  std::mt19937 g(11);
  std::uniform_real_distribution<double> U(-1, 1);
  spectral::PlaneProblem p;
  p.x = AxisGrid::chebyshev(9, -1.0, 1.0);
  p.y = AxisGrid::chebyshev(8, 0.0, 2.0);
  p.terms = {{1.0, 2, 0}, {1.0, 0, 2}, {0.4, 1, 1}, {-0.3, 0, 1}};
  const spectral::HoledRectangle d{-1.0, 1.0, 0.0, 2.0, {{0.1, 0.9, 0.3}}};
  std::vector<int> curve;
  spectral::boundary_points(d, 12, 16, p.bx, p.by, curve);
  for (std::size_t q = 0; q < p.bx.size(); ++q) p.g.push_back(U(g));
  for (int k = 0; k < 150; ++k) {
    const double x = U(g), y = 1.0 + U(g);
    if (!d.contains(x, y)) continue;
    p.px.push_back(x);
    p.py.push_back(y);
    p.f.push_back(U(g));
  }
  p.boundary_weight = 30;
  const spectral::PlaneLoss loss(p);
  Eigen::MatrixXd X(9, 8), G, Dir(9, 8);
  for (Eigen::Index q = 0; q < X.size(); ++q) {
    X.data()[q] = U(g);
    Dir.data()[q] = U(g);
  }
  loss(X, &G);
  const double h = 1e-6;
  const double fd = (loss(X + h * Dir) - loss(X - h * Dir)) / (2 * h), an = (G.array() * Dir.array()).sum();
  REQUIRE(std::abs(fd - an) <= 1e-6 * std::max(1.0, std::abs(an)));
  const spectral::PlaneFit r = spectral::fit_plane(p);
  const auto parts = loss.evaluate(r.u, &G);
  CHECK(parts.loss == Approx(r.loss).epsilon(1e-12));
  CHECK(G.norm() <= 1e-8 * std::max(1.0, r.loss));
  CHECK(r.condition > 1);
  long steps = 300;
  const spectral::PlaneFit a = spectral::fit_plane_adam(p, steps, 60.0, 1e-2, 1.0);
  CHECK(a.iterations == 300);
  CHECK(a.loss >= r.loss);
  CHECK(a.loss < loss(Eigen::MatrixXd::Zero(9, 8)));
}

TEST_CASE("L-BFGS honours its time limit inside a line search and returns the best point evaluated", "[spectral][fit]") {
  // Each evaluation takes 20 ms and the limit is 0.1 s: no evaluation may start after the limit
  // (but the first), however long the line search would have run, and the result is the point
  // of the lowest objective evaluated.
  std::vector<double> starts, values;
  std::vector<Eigen::MatrixXd> points;
  auto rosenbrock = [&](const Eigen::MatrixXd& X, Eigen::MatrixXd* G) {
    starts.push_back(core::wall_time());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double x = X(0), y = X(1);
    const double f = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    if (G) {
      G->resize(2, 1);
      (*G)(0) = -2 * (1 - x) - 400 * x * (y - x * x);
      (*G)(1) = 200 * (y - x * x);
    }
    values.push_back(f);
    points.push_back(X);
    return f;
  };
  spectral::LbfgsSetup s;
  s.start = Eigen::MatrixXd::Constant(2, 1, -1.2);
  long its = 0;
  std::string why;
  const Eigen::MatrixXd X = spectral::minimize_lbfgs(rosenbrock, s, 100000, 0.1, its, why);
  CHECK(why == "the time limit");
  REQUIRE(starts.size() >= 2);
  // (the limit counts from just before the first evaluation)
  for (std::size_t k = 1; k < starts.size(); ++k) CHECK(starts[k] - starts[0] <= 0.1 + 1e-3);
  const std::size_t best = static_cast<std::size_t>(std::min_element(values.begin(), values.end()) - values.begin());
  CHECK((X - points[best]).norm() == 0.0);
}

TEST_CASE("BWLer-hat: the loss's gradient through the MLP, and an MLP under the BWLer layer learns convection", "[spectral][fit][nn]") {
  // The composed gradient (space-time loss -> nodal values -> MLP weights) against central
  // differences of the loss in the weights.
  for (long features : {0L, 3L}) {
    const auto p = convection(1.0, 9, 8);
    problems::BwlerHatOptions o;
    o.hidden = {8, 8};
    o.seed = 3;
    o.time_features = features;
    INFO(features << " time features");
    problems::BwlerHat hat(p, o);
    hat.loss(true);
    double err = 0, scale = 0;
    for (auto& q : hat.parameters())
      for (long i = 0; i < q.size; i += std::max(1L, q.size / 7)) {
        const double keep = q.value[i], h = 1e-6, g = q.grad[i];
        q.value[i] = keep + h;
        q.changed();
        const double lp = hat.loss(false);
        q.value[i] = keep - h;
        q.changed();
        const double lm = hat.loss(false);
        q.value[i] = keep;
        q.changed();
        err = std::max(err, std::abs((lp - lm) / (2 * h) - g));
        scale = std::max(scale, std::abs(g));
      }
    INFO("gradient error " << err << " of " << scale);
    CHECK(err <= 1e-6 * scale);
    CHECK(scale > 0);
  }
  // u_t + u_x = 0, u(0) = sin x on 17 x 16 nodes: 3000 Adam steps (the paper's lr 1e-3, gradient
  // clipped at 1) from a seeded MLP; the same seed gives the same bits.
  const auto p = convection(1.0, 17, 16);
  problems::BwlerHatOptions o;
  o.hidden = {32, 32};
  o.steps = 3000;
  o.seconds = 1e9;
  const spectral::FitResult r = problems::BwlerHat(p, o).train();
  const double err = test_error(p, r.u, [](double t, double x) { return std::sin(x - t); });
  INFO(r.method << ": relative L2 " << err << ", loss " << r.loss);
  CHECK(r.iterations == 3000);
  CHECK(err <= 1e-2);
  CHECK(r.loss <= 1e-3);
  o.steps = 50;
  CHECK((problems::BwlerHat(p, o).train().u - problems::BwlerHat(p, o).train().u).norm() == 0.0);
  // c = 10 (sin(x - 10 t) oscillates 1.6 times in t) on 25 x 16 nodes, 2000 steps: the MLP on
  // (t, sin x, cos x) stays far off; with 8 Fourier features of t it learns it.
  const auto p10 = convection(10.0, 25, 16);
  o.steps = 2000;
  double errs[2];
  for (long features : {0L, 8L}) {
    o.time_features = features;
    const spectral::FitResult r10 = problems::BwlerHat(p10, o).train();
    errs[features > 0] = test_error(p10, r10.u, [](double t, double x) { return std::sin(x - 10 * t); });
  }
  INFO("c = 10: relative L2 " << errs[0] << " without time features, " << errs[1] << " with 8");
  CHECK(errs[0] >= 0.3);
  CHECK(errs[1] <= 0.15);
}
