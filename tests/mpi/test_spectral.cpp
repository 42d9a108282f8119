// Barycentric spectral layers on pencils: a field of nodal values on a tensor grid (Chebyshev on
// x and z, Fourier on y) interpolated to a finer tensor grid of points and differentiated, each
// a TensorOp of per-axis spectral LineOps, on every process grid of the run's ranks (uneven
// splits at 3), against the exact values of a function the nodes resolve exactly; and the
// adjoint of the whole chain by the dot-product test.
#include <catch2/catch.hpp>

#include <cmath>

#include "common.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/tensor_op.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/scattered.hpp"
#include "kron/core/mpi.hpp"
#include <random>

using namespace kron;
using layout::AxisGrid;

namespace {
// A polynomial of degree 5 in x, a trigonometric polynomial of degree 3 in y, degree 4 in z: the
// 9 x 8 x 7 nodes below represent it exactly.
double u(double x, double y, double z) { return (std::pow(x, 5) - 2 * x * x + 0.5) * (std::cos(3 * y) + std::sin(y)) * (z * z * z * z - z); }
double u_x(double x, double y, double z) { return (5 * std::pow(x, 4) - 4 * x) * (std::cos(3 * y) + std::sin(y)) * (z * z * z * z - z); }
double u_yy(double x, double y, double z) { return (std::pow(x, 5) - 2 * x * x + 0.5) * (-9 * std::cos(3 * y) - std::sin(y)) * (z * z * z * z - z); }
}  // namespace

TEST_CASE("spectral interpolation and differentiation compose as TensorOps on pencils", "[spectral][tensorop]") {
  const std::array<AxisGrid, 3> nodes{AxisGrid::chebyshev(9, -1.0, 1.0), AxisGrid::periodic(8, 0.0, 2 * M_PI), AxisGrid::chebyshev(7, 0.0, 2.0)};
  const std::array<long, 3> n{9, 8, 7};
  // Evaluation grid: 13 x 11 x 5 points, some outside the nodes' span on the periodic axis.
  std::array<std::vector<double>, 3> pts;
  for (long i = 0; i < 13; ++i) pts[0].push_back(-1.0 + 2.0 * double(i) / 12.0);
  for (long j = 0; j < 11; ++j) pts[1].push_back(-1.0 + 9.0 * double(j) / 10.0);
  for (long k = 0; k < 5; ++k) pts[2].push_back(0.1 + 1.7 * double(k) / 4.0);
  using TO = linops::TensorOp<double>;
  const std::vector<TO::Stage> interp = {{0, spectral::interpolation_op(nodes[0], pts[0]), linops::Trans::N},
                                         {1, spectral::interpolation_op(nodes[1], pts[1]), linops::Trans::N},
                                         {2, spectral::interpolation_op(nodes[2], pts[2]), linops::Trans::N}};
  const std::vector<TO::Stage> deriv = {{0, spectral::derivative_op(nodes[0], 1), linops::Trans::N}};
  const std::vector<TO::Stage> deriv_yy = {{1, spectral::derivative_op(nodes[1], 2), linops::Trans::N}};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const TO I(grid, n, 1, interp), Dx(grid, n, 1, deriv), Dyy(grid, n, 1, deriv_yy);
    REQUIRE(I.out_shape() == std::array<long, 3>{13, 11, 5});
    linops::PencilWorkspace ws(grid);
    layout::Field<double> f(layout::Pencil(n, grid, 0)), g(layout::Pencil(I.out_shape(), grid, 0)), d(f.pencil()), dyy(f.pencil());
    layout::ops::fill_global(f, [&](const std::array<long, 3>& q, int) { return u(nodes[0][q[0]], nodes[1][q[1]], nodes[2][q[2]]); });
    I.apply(f, g, ws);
    Dx.apply(f, d, ws);
    Dyy.apply(f, dyy, ws);
    double e_i = 0, e_x = 0, e_yy = 0;
    const auto& bg = g.pencil().box();
    for (long k = 0; k < bg.n[2]; ++k)
      for (long j = 0; j < bg.n[1]; ++j)
        for (long i = 0; i < bg.n[0]; ++i)
          e_i = std::max(e_i, std::abs(g(i, j, k) - u(pts[0][bg.lo[0] + i], pts[1][bg.lo[1] + j], pts[2][bg.lo[2] + k])));
    const auto& bf = f.pencil().box();
    for (long k = 0; k < bf.n[2]; ++k)
      for (long j = 0; j < bf.n[1]; ++j)
        for (long i = 0; i < bf.n[0]; ++i) {
          const double x = nodes[0][bf.lo[0] + i], y = nodes[1][bf.lo[1] + j], z = nodes[2][bf.lo[2] + k];
          e_x = std::max(e_x, std::abs(d(i, j, k) - u_x(x, y, z)));
          e_yy = std::max(e_yy, std::abs(dyy(i, j, k) - u_yy(x, y, z)));
        }
    INFO("grid " << shape[0] << "x" << shape[1] << ": interpolation " << e_i << ", d/dx " << e_x << ", d2/dy2 " << e_yy);
    CHECK(core::mpi::max(e_i, MPI_COMM_WORLD) <= 1e-12);
    CHECK(core::mpi::max(e_x, MPI_COMM_WORLD) <= 1e-11);
    CHECK(core::mpi::max(e_yy, MPI_COMM_WORLD) <= 1e-11);
    // The adjoint of the interpolation chain: <I f, h> = <f, I^T h>.
    layout::Field<double> h(g.pencil()), back(f.pencil());
    layout::ops::fill_global(h, [](const std::array<long, 3>& q, int) { return std::sin(0.7 * double(q[0]) + 1.3 * double(q[1]) - 0.4 * double(q[2])); });
    I.apply_transpose(h, back, ws);
    const double lhs = layout::ops::dot(g, h), rhs = layout::ops::dot(f, back);
    CHECK(std::abs(lhs - rhs) <= 1e-12 * std::abs(lhs));
  }
}

TEST_CASE("evaluation at scattered points: exact for represented functions, every process grid, uneven point counts", "[spectral][scattered]") {
  const std::array<AxisGrid, 3> nodes{AxisGrid::chebyshev(9, -1.0, 1.0), AxisGrid::periodic(8, 0.0, 2 * M_PI), AxisGrid::chebyshev(7, 0.0, 2.0)};
  const std::array<long, 3> n{9, 8, 7};
  const int rank = core::mpi::rank(MPI_COMM_WORLD), size = core::mpi::size(MPI_COMM_WORLD);
  // Rank r holds 5 r + 3 points (rank 1 none when there are 2 or more ranks): random ones,
  // nodes themselves, the bounded axes' ends, and y beyond one period.
  std::vector<std::array<double, 3>> pts;
  std::mt19937 g(static_cast<unsigned>(11 + rank));
  std::uniform_real_distribution<double> X(-1, 1), Y(-3, 9), Z(0, 2);
  if (!(size > 1 && rank == 1)) {
    for (int q = 0; q < 5 * rank + 3; ++q) pts.push_back({X(g), Y(g), Z(g)});
    pts.push_back({nodes[0][3], nodes[1][5], nodes[2][2]});
    pts.push_back({-1.0, 0.0, 2.0});
    pts.push_back({1.0, 2 * M_PI, 0.0});
  }
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    layout::Pencil px(n, grid, 0);
    layout::RealField f(px, 2);
    layout::ops::fill_global(f, [&](const std::array<long, 3>& q, int c) { return (c + 1) * u(nodes[0][q[0]], nodes[1][q[1]], nodes[2][q[2]]); });
    for (int c : {0, 1}) {
      const std::vector<double> v = spectral::evaluate_at(f, nodes, pts, c);
      REQUIRE(v.size() == pts.size());
      double e = 0;
      for (std::size_t q = 0; q < pts.size(); ++q) e = std::max(e, std::abs(v[q] - (c + 1) * u(pts[q][0], pts[q][1], pts[q][2])));
      INFO("process grid " << grid->p1() << " x " << grid->p2() << ", component " << c << ": max error " << e);
      CHECK(e <= 1e-12);
    }
    // A point outside a bounded axis: the same clear error on every rank.
    std::vector<std::array<double, 3>> bad;
    if (rank == size - 1) bad.push_back({1.5, 0.0, 1.0});
    CHECK_THROWS_WITH(spectral::evaluate_at(f, nodes, bad), Catch::Contains("outside [-1"));
  }
}
