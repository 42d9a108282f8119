// Solvers with their kernels on the device against the same solvers on the host: FastPoisson
// (sine, real-FFT and dense-eigenvector axes; Dirichlet, periodic, Neumann; singular and shifted)
// with every point of the solution compared, on every process grid of the run's ranks.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "../mpi/common.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/kronecker.hpp"

using namespace kron;
using namespace kron::linops;
using layout::AxisGrid;

TEST_CASE("FastPoisson with device transforms equals the host solve point by point", "[gpu][poisson]") {
  struct Case {
    Scheme s;
    BoundaryKind bc;
    double shift;
  };
  const BoundaryKind D = BoundaryKind::Dirichlet, P = BoundaryKind::Periodic, N = BoundaryKind::Neumann;
  const Case cases[] = {{Scheme::FD2, D, 0},     {Scheme::Compact6, D, 4.0}, {Scheme::Chebyshev, D, 0}, {Scheme::FD4, P, 1.5},
                        {Scheme::Compact6, P, 2}, {Scheme::Fourier, P, 0},    {Scheme::FD2, N, 1.0},     {Scheme::Compact4, N, 0.5}};
  const std::array<long, 3> n{20, 17, 12};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases) {
      std::array<AxisGrid, 3> ax;
      for (int a = 0; a < 3; ++a)
        ax[a] = c.bc == P ? AxisGrid::periodic(n[a], 0.0, 2 * M_PI)
                          : (c.s == Scheme::Chebyshev ? AxisGrid::chebyshev(n[a], -1.0, 1.0) : AxisGrid::uniform(n[a], 0.0, 1.0));
      FastPoissonOptions host_opt, dev_opt;
      dev_opt.space = core::MemorySpace::Device;
      FastPoisson host(grid, ax, {c.s, c.s, c.s}, {c.bc, c.bc, c.bc}, c.shift, host_opt);
      FastPoisson dev(grid, ax, {c.s, c.s, c.s}, {c.bc, c.bc, c.bc}, c.shift, dev_opt);
      REQUIRE(host.describe() == dev.describe());
      const layout::Pencil px(n, grid, 0);
      layout::RealField u0(px), f(px), uh(px), ud(px);
      const auto& b = px.box();
      for (long k = 0; k < b.n[2]; ++k)
        for (long j = 0; j < b.n[1]; ++j)
          for (long i = 0; i < b.n[0]; ++i) {
            std::mt19937 rng(static_cast<unsigned>((b.lo[0] + i) + 101 * (b.lo[1] + j) + 10007 * (b.lo[2] + k)));
            u0(i, j, k) = std::uniform_real_distribution<double>(-1, 1)(rng);
          }
      // f = L u0 (compatible data for the singular periodic case).
      KroneckerSum(grid, host.operators(), c.shift, {c.bc == P, c.bc == P, c.bc == P}).apply(u0, f);
      const BoundaryData g = [](int axis, int side, const std::array<double, 3>& X) {
        return std::sin(X[0] + 2 * X[1]) * std::cos(X[2]) + 0.1 * axis - 0.2 * side;
      };
      host.solve(f, g, uh);
      dev.solve(f, g, ud);
      // And with the data already on the device (no staging of f and u by the caller).
      layout::RealField fd = layout::to_device(f), udd(px, 1, {0, 0, 0}, core::MemorySpace::Device);
      dev.solve(fd, g, udd);
      const layout::RealField udh = layout::to_host(udd);
      double e = 0, e2 = 0;
      for (long k = 0; k < b.n[2]; ++k)
        for (long j = 0; j < b.n[1]; ++j)
          for (long i = 0; i < b.n[0]; ++i) {
            e = std::max(e, std::abs(uh(i, j, k) - ud(i, j, k)));
            e2 = std::max(e2, std::abs(uh(i, j, k) - udh(i, j, k)));
          }
      const double scale = layout::ops::max_abs(uh);
      INFO("grid " << shape[0] << "x" << shape[1] << ", " << to_string(c.s) << " " << to_string(c.bc) << " shift " << c.shift << ": "
                   << dev.describe());
      CHECK(core::mpi::max(e, MPI_COMM_WORLD) <= 1e-12 * scale);
      CHECK(core::mpi::max(e2, MPI_COMM_WORLD) <= 1e-12 * scale);
      CHECK(std::isfinite(scale));
    }
  }
}

#include "kron/linops/adi.hpp"

TEST_CASE("ADI steps on the device equal the host steps point by point", "[gpu][adi]") {
  // Thomas (fd2 Dirichlet, time-dependent boundary data), Thomas-compact (compact4 periodic) and
  // dense (compact6 Dirichlet) factors; two components; a host u given to the device solver and
  // a device u kept there.
  struct Case {
    Scheme s;
    BoundaryKind bc;
  };
  const Case cases[] = {{Scheme::FD2, BoundaryKind::Dirichlet}, {Scheme::Compact4, BoundaryKind::Periodic}, {Scheme::Compact6, BoundaryKind::Dirichlet}};
  const std::array<long, 3> n{14, 11, 9};
  const double nu = 0.3, dt = 0.01;
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases) {
      std::array<AxisGrid, 3> ax;
      for (int a = 0; a < 3; ++a)
        ax[a] = c.bc == BoundaryKind::Periodic ? AxisGrid::periodic(n[a], 0.0, 1.0) : AxisGrid::uniform(n[a], 0.0, 1.0);
      Adi host(grid, ax, {c.s, c.s, c.s}, {c.bc, c.bc, c.bc}, nu, dt);
      Adi dev(grid, ax, {c.s, c.s, c.s}, {c.bc, c.bc, c.bc}, nu, dt, core::MemorySpace::Device);
      REQUIRE(host.describe() == dev.describe());
      const layout::Pencil px(n, grid, 0);
      auto fill = [&](double t, double amp, layout::RealField& out) {
        const auto& b = px.box();
        for (int q = 0; q < out.components(); ++q)
          for (long k = 0; k < b.n[2]; ++k)
            for (long j = 0; j < b.n[1]; ++j)
              for (long i = 0; i < b.n[0]; ++i) {
                const double x = ax[0][b.lo[0] + i], y = ax[1][b.lo[1] + j], z = ax[2][b.lo[2] + k];
                out(i, j, k, q) = amp * (q + 1) * std::sin(2 * M_PI * x + t) * std::cos(2 * M_PI * y) * std::sin(2 * M_PI * z + 0.3) + q;
              }
      };
      const Adi::Fill source = [&](double t, layout::RealField& f) { fill(t, 0.7, f); };
      const Adi::Fill boundary = [&](double t, layout::RealField& g) { fill(t, 1.0, g); };
      layout::RealField uh(px, 2), ud(px, 2);
      fill(0.0, 1.0, uh);
      fill(0.0, 1.0, ud);
      layout::RealField udd = layout::to_device(uh);
      for (int s = 0; s < 5; ++s) {
        const double t = s * dt;
        host.step(uh, t, source, boundary);
        dev.step(ud, t, source, boundary);
        dev.step(udd, t, source, boundary);
      }
      const layout::RealField back = layout::to_host(udd);
      double e = 0, e2 = 0;
      for (std::size_t q = 0; q < uh.storage_size(); ++q) {
        e = std::max(e, std::abs(uh.data()[q] - ud.data()[q]));
        e2 = std::max(e2, std::abs(uh.data()[q] - back.data()[q]));
      }
      const double scale = layout::ops::max_abs(uh);
      INFO("grid " << shape[0] << "x" << shape[1] << ", " << to_string(c.s) << " " << to_string(c.bc) << ": " << dev.describe());
      CHECK(core::mpi::max(e, MPI_COMM_WORLD) <= 1e-12 * scale);
      CHECK(core::mpi::max(e2, MPI_COMM_WORLD) <= 1e-12 * scale);
    }
  }
}
