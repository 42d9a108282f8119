// Solvers with their kernels on the device against the same solvers on the host: FastPoisson
// (sine, real-FFT and dense-eigenvector axes; Dirichlet, periodic, Neumann; singular and shifted)
// with every point of the solution compared, on every process grid of the run's ranks.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "../mpi/common.hpp"
#include "device_lines.hpp"
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

#include "kron/linops/galerkin.hpp"

namespace {
// Smooth-ish values that differ at every point (every global index).
void fill_values(layout::RealField& f) {
  const auto& b = f.pencil().box();
  const auto& n = f.pencil().global();
  for (int c = 0; c < f.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const long g = (b.lo[0] + i) + n[0] * ((b.lo[1] + j) + n[1] * (b.lo[2] + k));
          f(i, j, k, c) = std::sin(0.731 * double(g) + c) + 0.3 * std::cos(2.17 * double(g * g % 97));
        }
}
}  // namespace

TEST_CASE("KroneckerSum on the device equals the host apply: stencil sweep and line stages", "[gpu][kronecker]") {
  // fd2/fd4 (one fused stencil kernel over a device halo field; periodic and Dirichlet closures
  // with their wide boundary taps) and compact6/Chebyshev (line stages); 1 and 2 components.
  struct Case {
    Scheme s;
    bool periodic;
    double shift;
  };
  const Case cases[] = {{Scheme::FD2, true, 0.0}, {Scheme::FD2, false, 1.5}, {Scheme::FD4, true, 0.0}, {Scheme::FD4, false, 2.0},
                        {Scheme::Compact6, false, 0.5}, {Scheme::Chebyshev, false, 0.0}};
  const std::array<long, 3> n{13, 11, 9};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases)
      for (int nc : {1, 2}) {
        std::array<Operator1D, 3> ops;
        for (int a = 0; a < 3; ++a) {
          const AxisGrid ax = c.periodic ? AxisGrid::periodic(n[a], 0.0, 2 * M_PI)
                                         : (c.s == Scheme::Chebyshev ? AxisGrid::chebyshev(n[a], -1.0, 1.0) : AxisGrid::uniform(n[a], 0.0, 1.0));
          ops[a] = derivative(ax, c.s, 2);
        }
        const std::array<bool, 3> per{c.periodic, c.periodic, c.periodic};
        KroneckerSum host(grid, ops, c.shift, per), dev(grid, ops, c.shift, per, core::MemorySpace::Device);
        REQUIRE(host.describe() == dev.describe());
        const layout::Pencil px(n, grid, 0);
        layout::RealField u(px, nc), out(px, nc);
        fill_values(u);
        const layout::RealField ud = layout::to_device(u);
        layout::RealField outd(px, nc, {0, 0, 0}, core::MemorySpace::Device);
        outd.fill(NAN);
        host.apply(u, out);
        dev.apply(ud, outd);
        INFO(to_string(c.s) << (c.periodic ? " periodic" : " bounded") << ", " << nc << " component(s), grid " << shape[0] << "x" << shape[1]
                            << ": " << dev.describe());
        CHECK(testing::rel_diff(out, outd) <= 1e-13);
        if (host.stencil_path() && nc == 1) {
          // The halo form: the caller's own halo field, exchanged on the device.
          layout::RealField uh(px, 1, host.halo()), oh(px);
          for (long k = 0; k < px.box().n[2]; ++k)
            for (long j = 0; j < px.box().n[1]; ++j)
              for (long i = 0; i < px.box().n[0]; ++i) uh(i, j, k) = u(i, j, k);
          layout::RealField uhd = layout::to_device(uh), ohd(px, 1, {0, 0, 0}, core::MemorySpace::Device);
          host.apply_with_halo(uh, oh);
          dev.apply_with_halo(uhd, ohd);
          CHECK(testing::rel_diff(oh, ohd) <= 1e-13);
        }
      }
  }
  auto grid = test::make_grid(test::all_grid_shapes().front());
  std::array<Operator1D, 3> ops;
  for (int a = 0; a < 3; ++a) ops[a] = derivative(AxisGrid::uniform(8, 0, 1), Scheme::FD2, 2);
  KroneckerSum dev(grid, ops, 0.0, {false, false, false}, core::MemorySpace::Device);
  layout::RealField hu(layout::Pencil({8, 8, 8}, grid, 0)), ho(layout::Pencil({8, 8, 8}, grid, 0));
  CHECK_THROWS_WITH(dev.apply(hu, ho), Catch::Contains("works on device fields"));
}

TEST_CASE("GalerkinPoisson on the device equals the host: operator, mass and solve", "[gpu][galerkin]") {
  const std::array<GalerkinSpace1D, 3> sp{gll_elements(3, 3, 0, 1, false), bspline_periodic(10, 3, 0, 1), gll_elements(2, 2, 0, 2, true)};
  const std::array<long, 3> n{sp[0].ndof, sp[1].ndof, sp[2].ndof};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (double shift : {0.0, 2.5}) {
      GalerkinPoisson host(grid, sp, shift), dev(grid, sp, shift, core::MemorySpace::Device);
      const layout::Pencil px(n, grid, 0);
      layout::RealField u0(px), load(px), m(px), u(px);
      fill_values(u0);
      const layout::RealField u0d = layout::to_device(u0);
      layout::RealField loadd(px, 1, {0, 0, 0}, core::MemorySpace::Device), md(px, 1, {0, 0, 0}, core::MemorySpace::Device),
          ud(px, 1, {0, 0, 0}, core::MemorySpace::Device);
      ud.fill(NAN);
      host.apply(u0, load);
      dev.apply(u0d, loadd);
      host.mass(u0, m);
      dev.mass(u0d, md);
      host.solve(load, u0, u);
      dev.solve(loadd, u0d, ud);
      INFO("shift " << shift << ", grid " << shape[0] << "x" << shape[1]);
      CHECK(testing::rel_diff(load, loadd) <= 1e-13);
      CHECK(testing::rel_diff(m, md) <= 1e-13);
      CHECK(testing::rel_diff(u, ud) <= 1e-12);
      CHECK(testing::rel_diff(u0, ud) <= 1e-11);  // the solve inverts its own operator
    }
  }
}
