// Matrix-free operators and the fast Poisson solver: observed convergence orders against exact
// derivatives and solutions, spectral accuracy, residuals, and independence of the process grid.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "common.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/kronecker.hpp"

using namespace kron;
using namespace kron::linops;
using layout::AxisGrid;

namespace {

using Fn = std::function<double(double, double, double)>;

AxisGrid axis(long n, bool periodic, bool cheb = false) {
  if (periodic) return AxisGrid::periodic(n, 0.0, 1.0);
  if (cheb) return AxisGrid::chebyshev(n, 0.0, 1.0);
  return AxisGrid::uniform(n, 0.0, 1.0);
}

Operator1D zero_op(long n) {
  Operator1D op(n, "zero");
  Term t;
  t.b = Banded(n, 0, 0, false);
  op.add(std::move(t));
  return op;
}

// Max error of the d-th derivative along axis `a` applied in 3D through KroneckerSum.
double derivative_error(Scheme s, int d, int a, bool periodic, long n, layout::ProcessGridPtr grid) {
  const long m = 6;  // other axes: few points, zero operators
  std::array<AxisGrid, 3> ax{axis(m, true), axis(m, true), axis(m, true)};
  ax[a] = axis(n, periodic, s == Scheme::Chebyshev);
  std::array<Operator1D, 3> ops{zero_op(m), zero_op(m), zero_op(m)};
  ops[a] = derivative(ax[a], s, d);
  KroneckerSum L(grid, ops, 0.0, {true, true, true});
  layout::Pencil px({ax[0].size(), ax[1].size(), ax[2].size()}, grid, 0);
  layout::RealField u(px), du(px);
  const double w = periodic ? 2 * M_PI : 2.3;
  auto f = [&](double x) { return periodic ? std::sin(w * x) + 0.5 * std::cos(2 * w * x) : std::exp(0.7 * x) * std::sin(w * x + 0.3); };
  auto fd = [&](double x) {
    if (periodic) return d == 1 ? w * std::cos(w * x) - w * std::sin(2 * w * x) : -w * w * std::sin(w * x) - 2 * w * w * std::cos(2 * w * x);
    const double e = std::exp(0.7 * x), sn = std::sin(w * x + 0.3), cs = std::cos(w * x + 0.3);
    return d == 1 ? e * (0.7 * sn + w * cs) : e * ((0.49 - w * w) * sn + 1.4 * w * cs);
  };
  const auto& b = px.box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        u(i, j, k) = f(ax[a][g[a]]) * (1.0 + 0.1 * g[(a + 1) % 3]);
      }
  L.apply(u, du);
  double e = 0;
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        e = std::max(e, std::abs(du(i, j, k) - fd(ax[a][g[a]]) * (1.0 + 0.1 * g[(a + 1) % 3])));
      }
  return core::mpi::max(e, MPI_COMM_WORLD);
}

}  // namespace

TEST_CASE("derivative operators converge at their order along every axis", "[linops]") {
  struct Case { Scheme s; int d; bool periodic; double order; };
  // Non-periodic second derivatives use closures of order min(p, 4) (see operator1d.hpp);
  // compact6 closes with a compact4 row, so its non-periodic order is 4.
  const Case cases[] = {
      {Scheme::FD2, 1, true, 2}, {Scheme::FD4, 1, true, 4}, {Scheme::FD6, 1, true, 6},
      {Scheme::Compact4, 1, true, 4}, {Scheme::Compact6, 1, true, 6},
      {Scheme::FD2, 2, true, 2}, {Scheme::FD4, 2, true, 4}, {Scheme::FD6, 2, true, 6},
      {Scheme::Compact4, 2, true, 4}, {Scheme::Compact6, 2, true, 6},
      {Scheme::FD2, 1, false, 2}, {Scheme::FD4, 1, false, 4}, {Scheme::FD6, 1, false, 6},
      {Scheme::Compact4, 1, false, 4}, {Scheme::Compact6, 1, false, 4},
      {Scheme::FD2, 2, false, 2}, {Scheme::FD4, 2, false, 4}, {Scheme::FD6, 2, false, 4},
      {Scheme::Compact4, 2, false, 4}, {Scheme::Compact6, 2, false, 4},
  };
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases)
      for (int a = 0; a < 3; ++a) {
        const long n1 = c.periodic ? 32 : 41, n2 = c.periodic ? 64 : 81;
        const double e1 = derivative_error(c.s, c.d, a, c.periodic, n1, grid);
        const double e2 = derivative_error(c.s, c.d, a, c.periodic, n2, grid);
        const double h1 = c.periodic ? 1.0 / n1 : 1.0 / (n1 - 1), h2 = c.periodic ? 1.0 / n2 : 1.0 / (n2 - 1);
        const double order = std::log(e1 / e2) / std::log(h1 / h2);
        INFO(to_string(c.s) << " d" << c.d << (c.periodic ? " periodic" : " bounded") << " axis " << a << ": errors " << e1
                            << ", " << e2 << ", order " << order);
        CHECK(std::abs(order - c.order) <= 0.2);
      }
  }
}

TEST_CASE("spectral derivatives are accurate to near machine precision", "[linops]") {
  auto grid = test::make_grid(test::all_grid_shapes().front());
  for (int a = 0; a < 3; ++a) {
    CHECK(derivative_error(Scheme::Fourier, 1, a, true, 24, grid) <= 1e-11);
    CHECK(derivative_error(Scheme::Fourier, 2, a, true, 24, grid) <= 1e-10);
    CHECK(derivative_error(Scheme::Chebyshev, 1, a, false, 24, grid) <= 1e-11);
    CHECK(derivative_error(Scheme::Chebyshev, 2, a, false, 24, grid) <= 1e-9);
  }
}

namespace {

struct Solve {
  double err_max = 0, residual = 0;
};

// Laplace u - shift u = f for the exact solution `ue` on an n^3 grid; errors in the gauge of
// singular problems.
Solve solve(Scheme s, BoundaryKind bc, long n, double shift, layout::ProcessGridPtr grid) {
  const bool per = bc == BoundaryKind::Periodic;
  const bool cheb = s == Scheme::Chebyshev;
  std::array<AxisGrid, 3> ax{axis(n, per, cheb), axis(n, per, cheb), axis(n, per, cheb)};
  const double k = per ? 2 * M_PI : M_PI;
  auto ue = [&](double x, double y, double z) { return std::cos(k * x) * std::cos(k * y) * std::cos(k * z) + (per ? 0.0 : x * x * y + std::exp(z)); };
  auto lap = [&](double x, double y, double z) {
    return -3 * k * k * std::cos(k * x) * std::cos(k * y) * std::cos(k * z) + (per ? 0.0 : 2 * y + std::exp(z));
  };
  auto grad = [&](int a, double x, double y, double z) {
    const double c[3] = {std::cos(k * x), std::cos(k * y), std::cos(k * z)};
    const double sn[3] = {std::sin(k * x), std::sin(k * y), std::sin(k * z)};
    const double poly[3] = {2 * x * y, x * x, std::exp(z)};
    double g = -k * sn[a];
    for (int b = 0; b < 3; ++b) if (b != a) g *= c[b];
    return g + poly[a];
  };
  FastPoisson fp(grid, ax, {s, s, s}, {bc, bc, bc}, shift);
  layout::Pencil px({n, n, n}, grid, 0);
  layout::RealField f(px), u(px), Lu(px);
  const auto& b = px.box();
  for (long kk = 0; kk < b.n[2]; ++kk)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const double x = ax[0][b.lo[0] + i], y = ax[1][b.lo[1] + j], z = ax[2][b.lo[2] + kk];
        f(i, j, kk) = lap(x, y, z) - shift * ue(x, y, z);
      }
  fp.solve(f, [&](int a, int, const std::array<double, 3>& X) {
    return bc == BoundaryKind::Dirichlet ? ue(X[0], X[1], X[2]) : grad(a, X[0], X[1], X[2]);
  }, u);
  KroneckerSum L(grid, fp.operators(), shift, {per, per, per});
  L.apply(u, Lu);
  double sd = 0;
  for (long kk = 0; kk < b.n[2]; ++kk)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) sd += u(i, j, kk) - ue(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + kk]);
  const double gauge = fp.singular() ? core::mpi::sum(sd, MPI_COMM_WORLD) / double(n * n * n) : 0.0;
  Solve r;
  double rmax = 0, fmax = 0, umax = 0;
  for (long kk = 0; kk < b.n[2]; ++kk)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + kk};
        const double x = ax[0][g[0]], y = ax[1][g[1]], z = ax[2][g[2]];
        r.err_max = std::max(r.err_max, std::abs(u(i, j, kk) - gauge - ue(x, y, z)));
        umax = std::max(umax, std::abs(u(i, j, kk)));
        bool inside = true;
        for (int a = 0; a < 3; ++a) inside = inside && (per || (g[a] > 0 && g[a] < n - 1));
        if (!inside) continue;
        fmax = std::max(fmax, std::abs(f(i, j, kk)));
        rmax = std::max(rmax, std::abs(Lu(i, j, kk) - f(i, j, kk)));
      }
  r.err_max = core::mpi::max(r.err_max, MPI_COMM_WORLD);
  double lnorm = std::abs(shift);
  for (const auto& op : fp.operators()) lnorm += op.dense().rowwise().lpNorm<1>().maxCoeff();
  r.residual = core::mpi::max(rmax, MPI_COMM_WORLD) / (lnorm * core::mpi::max(umax, MPI_COMM_WORLD) + core::mpi::max(fmax, MPI_COMM_WORLD));
  return r;
}

}  // namespace

TEST_CASE("fast Poisson/Helmholtz solves converge and leave residuals at rounding level", "[linops][poisson]") {
  struct Case { Scheme s; BoundaryKind bc; double order; double shift; };
  const Case cases[] = {
      {Scheme::FD2, BoundaryKind::Dirichlet, 2, 0}, {Scheme::FD4, BoundaryKind::Dirichlet, 4, 0},
      {Scheme::Compact4, BoundaryKind::Dirichlet, 4, 0}, {Scheme::Compact6, BoundaryKind::Dirichlet, 6, 0},
      {Scheme::FD2, BoundaryKind::Periodic, 2, 0}, {Scheme::FD4, BoundaryKind::Periodic, 4, 0},
      {Scheme::FD6, BoundaryKind::Periodic, 6, 0}, {Scheme::Compact6, BoundaryKind::Periodic, 6, 0},
      {Scheme::FD2, BoundaryKind::Dirichlet, 2, 3.0}, {Scheme::Compact4, BoundaryKind::Periodic, 4, 5.0},
  };
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases) {
      const bool per = c.bc == BoundaryKind::Periodic;
      const long n1 = per ? 16 : 17, n2 = per ? 32 : 65;
      const Solve a = solve(c.s, c.bc, n1, c.shift, grid), b = solve(c.s, c.bc, n2, c.shift, grid);
      const double order = std::log(a.err_max / b.err_max) / std::log(per ? 2.0 : 64.0 / 16.0);
      INFO(to_string(c.s) << " " << to_string(c.bc) << " shift " << c.shift << ": errors " << a.err_max << ", " << b.err_max
                          << ", order " << order << ", residual " << b.residual);
      // Dirichlet solutions mix the interior truncation error with boundary-row errors that
      // decay faster (closure rows sit next to known values), so on these grids the observed
      // order lies between p and p + 1: require at least the theoretical order there.
      if (!per) CHECK(order >= c.order - 0.2);
      else CHECK(std::abs(order - c.order) <= 0.2);
      CHECK(b.residual <= 1e-12);
    }
    // Spectral: Chebyshev collocation with Dirichlet and Neumann data.
    CHECK(solve(Scheme::Chebyshev, BoundaryKind::Dirichlet, 20, 0, grid).err_max <= 1e-11);
    CHECK(solve(Scheme::Chebyshev, BoundaryKind::Neumann, 24, 0, grid).err_max <= 1e-10);
    CHECK(solve(Scheme::Fourier, BoundaryKind::Periodic, 16, 0, grid).err_max <= 1e-11);
  }
}

TEST_CASE("singular problems reject incompatible data with a clear error", "[linops][poisson]") {
  auto grid = test::make_grid(test::all_grid_shapes().back());
  const long n = 16;
  std::array<AxisGrid, 3> ax{axis(n, true), axis(n, true), axis(n, true)};
  FastPoisson fp(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2},
                 {BoundaryKind::Periodic, BoundaryKind::Periodic, BoundaryKind::Periodic});
  CHECK(fp.singular());
  layout::Pencil px({n, n, n}, grid, 0);
  layout::RealField f(px), u(px);
  f.fill(1.0);  // a constant source has no periodic solution
  CHECK_THROWS_WITH(fp.solve(f, [](int, int, const std::array<double, 3>&) { return 0.0; }, u),
                    Catch::Contains("incompatible"));
}
