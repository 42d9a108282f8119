// Douglas ADI: second order in time with time-dependent Dirichlet data (fd2 on a solution that
// fd2 differentiates exactly, so only the time error remains), with the dense factor path
// (Chebyshev collocation) and the periodic compact path (on a grid fine enough that the spatial
// error stays below the time error), orders from three step sizes, and on several ranks the same
// field as a serial run.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "common.hpp"
#include "kron/layout/gather.hpp"
#include "kron/linops/adi.hpp"

using namespace kron;
using namespace kron::linops;
using layout::AxisGrid;

namespace {

using Fn = std::function<double(double, double, double, double)>;

struct Run {
  double err = 0;
  layout::RealField u;
};

Run run(Scheme s, bool periodic, long n, long steps, layout::ProcessGridPtr grid, const Fn& ue, const Fn& f, double nu) {
  auto axis = [&] {
    if (periodic) return AxisGrid::periodic(n, 0, 1);
    return s == Scheme::Chebyshev ? AxisGrid::chebyshev(n, 0, 1) : AxisGrid::uniform(n, 0, 1);
  };
  std::array<AxisGrid, 3> ax{axis(), axis(), axis()};
  const BoundaryKind bc = periodic ? BoundaryKind::Periodic : BoundaryKind::Dirichlet;
  const double T = 0.5, dt = T / double(steps);
  Adi adi(grid, ax, {s, s, s}, {bc, bc, bc}, nu, dt);
  layout::Pencil px({n, n, n}, grid, 0);
  Run r;
  r.u = layout::RealField(px);
  auto fill = [&](const Fn& fn, double t, layout::RealField& out) {
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) out(i, j, k) = fn(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + k], t);
  };
  fill(ue, 0, r.u);
  for (long s2 = 0; s2 < steps; ++s2)
    adi.step(r.u, double(s2) * dt, [&](double t, layout::RealField& out) { fill(f, t, out); },
             [&](double t, layout::RealField& out) { fill(ue, t, out); });
  layout::RealField e(px);
  fill(ue, T, e);
  double m = 0;
  for (std::size_t q = 0; q < e.storage_size(); ++q) m = std::max(m, std::abs(e.data()[q] - r.u.data()[q]));
  r.err = core::mpi::max(m, grid->comm());
  return r;
}

}  // namespace

TEST_CASE("Douglas ADI is second order in time", "[adi]") {
  const double nu = 0.3;
  // Quadratic in space with time-dependent boundary values: fd2 is exact in space.
  Fn poly = [](double x, double y, double z, double t) { return std::sin(t) * (x * x + 2 * y * y + 3 * z * z) + std::cos(2 * t) * x * y * z + 1; };
  Fn poly_f = [nu](double x, double y, double z, double t) {
    return std::cos(t) * (x * x + 2 * y * y + 3 * z * z) - 2 * std::sin(2 * t) * x * y * z - nu * 12 * std::sin(t);
  };
  // Smooth decaying mode plus a forced part for the spectral and periodic cases.
  const double k = 2 * M_PI;
  Fn wave = [k, nu](double x, double y, double z, double t) {
    return std::exp(-3 * nu * k * k * t) * std::sin(k * x) * std::cos(k * y) * std::sin(k * z + 0.4) + std::sin(3 * t) * std::cos(k * x);
  };
  Fn wave_f = [k, nu](double x, double, double, double t) { return (3 * std::cos(3 * t) + nu * k * k * std::sin(3 * t)) * std::cos(k * x); };
  // ceiling: the finest run's error may not exceed it (measured, x ~2): an order alone passes a
  // method that converges at the right rate to the wrong answer.
  struct Case { Scheme s; bool periodic; long n; const Fn* ue; const Fn* f; double ceiling; };
  const Case cases[] = {
      {Scheme::FD2, false, 12, &poly, &poly_f, 8e-6},         // Thomas, time-dependent Dirichlet data
      {Scheme::Chebyshev, false, 16, &wave, &wave_f, 3.5e-4},   // dense factor inverse
      {Scheme::Compact4, true, 48, &wave, &wave_f, 3.5e-4},     // periodic compact: (A - cB) D = A r
  };
  const bool several = core::mpi::size() > 1;
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases) {
      const Run a = run(c.s, c.periodic, c.n, 10, grid, *c.ue, *c.f, nu);
      const Run b = run(c.s, c.periodic, c.n, 20, grid, *c.ue, *c.f, nu);
      const Run d = run(c.s, c.periodic, c.n, 40, grid, *c.ue, *c.f, nu);
      const double o1 = std::log(a.err / b.err) / std::log(2.0);
      const double o2 = std::log(b.err / d.err) / std::log(2.0);
      INFO(to_string(c.s) << (c.periodic ? " periodic" : " dirichlet") << ": errors " << a.err << ", " << b.err << ", " << d.err
                          << "; orders " << o1 << ", " << o2);
      CHECK(std::abs(o1 - 2.0) <= 0.15);
      CHECK(std::abs(o2 - 2.0) <= 0.15);
      CHECK(d.err <= c.ceiling);
      // Same field as a serial run (each rank alone on MPI_COMM_SELF), the whole final array.
      if (several) {
        auto self = std::make_shared<layout::ProcessGrid>(MPI_COMM_SELF, 1, 1);
        const Run serial = run(c.s, c.periodic, c.n, 40, self, *c.ue, *c.f, nu);
        const std::vector<double> all = layout::gather(d.u);
        double diff = 0, scale = 0;
        if (core::mpi::rank() == 0)
          for (std::size_t q = 0; q < all.size(); ++q) {
            diff = std::max(diff, std::abs(all[q] - serial.u.data()[q]));
            scale = std::max(scale, std::abs(serial.u.data()[q]));
          }
        CHECK(test::from_root(diff) <= 1e-12 * test::from_root(scale));
      }
    }
  }
}

TEST_CASE("a non-finite source stops the ADI step with a clear error", "[adi]") {
  auto grid = test::make_grid(test::all_grid_shapes().back());
  const long n = 10;
  std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  const BoundaryKind D = BoundaryKind::Dirichlet;
  Adi adi(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2}, {D, D, D}, 0.5, 0.01);
  layout::RealField u(layout::Pencil({n, n, n}, grid, 0));
  u.fill(1.0);
  CHECK_THROWS_WITH(adi.step(u, 0.0, [](double, layout::RealField& f) { f.fill(std::nan("")); },
                             [](double, layout::RealField& g) { g.fill(1.0); }),
                    Catch::Contains("non-finite"));
}

TEST_CASE("ADI steps every component of a vector field alike", "[adi]") {
  // Component c carries (c + 1) u_e + c with its own source and boundary data; a 3-component run
  // equals three scalar runs, for the Thomas (fd2, Dirichlet), dense (Chebyshev) and periodic
  // compact factors, on every process grid.
  const double nu = 0.3, k = 2 * M_PI;
  Fn wave = [k, nu](double x, double y, double z, double t) {
    return std::exp(-3 * nu * k * k * t) * std::sin(k * x) * std::cos(k * y) * std::sin(k * z + 0.4) + std::sin(3 * t) * std::cos(k * x) + x * y;
  };
  Fn wave_f = [k, nu](double x, double, double, double t) { return (3 * std::cos(3 * t) + nu * k * k * std::sin(3 * t)) * std::cos(k * x); };
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (Scheme s : {Scheme::FD2, Scheme::Chebyshev, Scheme::Compact4}) {
      const bool periodic = s == Scheme::Compact4;
      const long n = 10;
      auto axis = [&] {
        if (periodic) return AxisGrid::periodic(n, 0, 1);
        return s == Scheme::Chebyshev ? AxisGrid::chebyshev(n, 0, 1) : AxisGrid::uniform(n, 0, 1);
      };
      std::array<AxisGrid, 3> ax{axis(), axis(), axis()};
      const BoundaryKind bc = periodic ? BoundaryKind::Periodic : BoundaryKind::Dirichlet;
      const double dt = 0.01;
      Adi adi(grid, ax, {s, s, s}, {bc, bc, bc}, nu, dt);
      const layout::Pencil px({n, n, n}, grid, 0);
      // comp < 0: every component of a vector field, c -> (c + 1) fn + c; else that one alone.
      auto fill = [&](const Fn& fn, double shift, int comp, double t, layout::RealField& out) {
        const auto& b = px.box();
        for (int c = 0; c < out.components(); ++c) {
          const int cc = comp < 0 ? c : comp;
          for (long kk = 0; kk < b.n[2]; ++kk)
            for (long j = 0; j < b.n[1]; ++j)
              for (long i = 0; i < b.n[0]; ++i)
                out(i, j, kk, c) = (cc + 1) * fn(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + kk], t) + shift * cc;
        }
      };
      auto run = [&](int comp, layout::RealField& u) {
        fill(wave, 1.0, comp, 0, u);
        for (int q = 0; q < 5; ++q)
          adi.step(u, q * dt, [&](double t, layout::RealField& f) { fill(wave_f, 0.0, comp, t, f); },
                   [&](double t, layout::RealField& g) { fill(wave, 1.0, comp, t, g); });
      };
      layout::RealField u(px, 3), one(px);
      run(-1, u);
      double d = 0, scale = 0;
      for (int c = 0; c < 3; ++c) {
        run(c, one);
        const auto& b = px.box();
        for (long kk = 0; kk < b.n[2]; ++kk)
          for (long j = 0; j < b.n[1]; ++j)
            for (long i = 0; i < b.n[0]; ++i) {
              d = std::max(d, std::abs(u(i, j, kk, c) - one(i, j, kk)));
              scale = std::max(scale, std::abs(one(i, j, kk)));
            }
      }
      d = core::mpi::max(d, MPI_COMM_WORLD);
      INFO(to_string(s) << " on " << shape[0] << "x" << shape[1] << ": " << d << " (" << adi.describe() << ")");
      CHECK(core::mpi::max(scale, MPI_COMM_WORLD) > 0.5);
      CHECK(d <= 1e-13 * core::mpi::max(scale, MPI_COMM_WORLD));
    }
  }
}
