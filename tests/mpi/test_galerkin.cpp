// Tensor-product Galerkin: quadrature rules, 1D mass/stiffness identities, sum factorization
// against a serial dense Kronecker product (Eigen), and fast-diagonalization solves converging
// at order p + 1 for Gauss-Lobatto Lagrange elements (Dirichlet) and periodic B-splines.
#include <catch2/catch.hpp>
#include "kron/core/eigen.hpp"

#include <unsupported/Eigen/KroneckerProduct>

#include <cmath>
#include <functional>

#include "common.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/galerkin.hpp"

using namespace kron;
using namespace kron::linops;

namespace {

using Fn3 = std::function<double(double, double, double)>;

// Field from dof values given by fn at the dof points (through `collocation^{-1}` for B-splines:
// the interpolating spline).
layout::RealField dof_field(const layout::Pencil& px, const std::array<GalerkinSpace1D, 3>& sp, const Fn3& fn,
                            layout::ProcessGridPtr grid) {
  layout::RealField v(px);
  const auto& b = px.box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) v(i, j, k) = fn(sp[0].points[b.lo[0] + i], sp[1].points[b.lo[1] + j], sp[2].points[b.lo[2] + k]);
  if (sp[0].collocation.isIdentity()) return v;
  KroneckerProduct(grid, {dense_operator(sp[0].collocation.inverse(), "B^-1"), dense_operator(sp[1].collocation.inverse(), "B^-1"),
                          dense_operator(sp[2].collocation.inverse(), "B^-1")})
      .apply(v, v);
  return v;
}

double max_abs(const layout::RealField& f) {
  double m = 0;
  for (std::size_t q = 0; q < f.storage_size(); ++q) m = std::max(m, std::abs(f.data()[q]));
  return core::mpi::max(m, MPI_COMM_WORLD);
}

// Solves -Laplace(u) + shift u = s in the Galerkin space; max error at the dof points.
double galerkin_error(const std::array<GalerkinSpace1D, 3>& sp, double shift, const Fn3& u, const Fn3& s,
                      layout::ProcessGridPtr grid, double* residual = nullptr) {
  layout::Pencil px({sp[0].ndof, sp[1].ndof, sp[2].ndof}, grid, 0);
  GalerkinPoisson gp(grid, sp, shift);
  layout::RealField sd = dof_field(px, sp, s, grid), load(px), lift = dof_field(px, sp, u, grid), uh(px), Au(px);
  gp.mass(sd, load);
  gp.solve(load, lift, uh);
  if (residual) {
    gp.apply(uh, Au);
    const auto& b = px.box();
    double r = 0;
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          bool bnd = false;
          for (int a = 0; a < 3; ++a) bnd = bnd || (!sp[a].periodic && (g[a] == 0 || g[a] == sp[a].ndof - 1));
          if (!bnd) r = std::max(r, std::abs(Au(i, j, k) - load(i, j, k)));
        }
    *residual = core::mpi::max(r, MPI_COMM_WORLD) / max_abs(load);
  }
  // Values at the dof points: collocation (x) collocation (x) collocation times the dofs.
  if (!sp[0].collocation.isIdentity()) {
    KroneckerProduct(grid, {dense_operator(sp[0].collocation, "B"), dense_operator(sp[1].collocation, "B"),
                            dense_operator(sp[2].collocation, "B")})
        .apply(uh, uh);
  }
  const auto& b = px.box();
  double e = 0;
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i)
        e = std::max(e, std::abs(uh(i, j, k) - u(sp[0].points[b.lo[0] + i], sp[1].points[b.lo[1] + j], sp[2].points[b.lo[2] + k])));
  return core::mpi::max(e, MPI_COMM_WORLD);
}

// The two factors really take the banded path (so the test covers it, not only GEMM).
bool kp_banded_check(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return matrix_operator(a, false, "a").banded_only() && matrix_operator(b, true, "b").banded_only();
}

}  // namespace

TEST_CASE("quadrature rules and 1D Galerkin matrices", "[galerkin]") {
  for (int p = 1; p <= 6; ++p) {
    std::vector<double> x, w;
    gll_rule(p, x, w);
    double s = 0, m = 0;
    for (int i = 0; i <= p; ++i) { s += w[i]; m += w[i] * std::pow(x[i], 2 * p - 2) ; }
    CHECK(s == Approx(2.0).epsilon(1e-14));
    CHECK(m == Approx(2.0 / (2 * p - 1)).epsilon(1e-13));  // exact to degree 2p - 1
    gauss_rule(p, x, w);
    m = 0;
    for (int i = 0; i < p; ++i) m += w[i] * std::pow(x[i], 2 * p - 2);
    CHECK(m == Approx(2.0 / (2 * p - 1)).epsilon(1e-13));
  }
  for (const GalerkinSpace1D& s : {gll_elements(5, 3, 0.0, 2.0, false), gll_elements(4, 2, 0.0, 2.0, true), bspline_periodic(12, 3, 0.0, 2.0)}) {
    INFO(s.name << (s.periodic ? " periodic" : ""));
    const Eigen::VectorXd one = Eigen::VectorXd::Ones(s.ndof);
    CHECK(one.dot(s.mass * one) == Approx(2.0).epsilon(1e-13));           // integral of 1
    CHECK((s.stiffness * one).cwiseAbs().maxCoeff() <= 1e-12);             // constants are in the kernel
    CHECK((s.mass - s.mass.transpose()).cwiseAbs().maxCoeff() <= 1e-14);
    CHECK(s.mass.ldlt().isPositive());
  }
  // Lagrange elements reproduce x^2: (K x^2)_i = -(phi_i, 2) inside, i.e. K x^2 = -2 M 1 there.
  const GalerkinSpace1D s = gll_elements(3, 4, 0.0, 1.0, false);
  Eigen::VectorXd x2(s.ndof);
  for (long i = 0; i < s.ndof; ++i) x2[i] = s.points[i] * s.points[i];
  const Eigen::VectorXd r = s.stiffness * x2 + 2 * s.mass * Eigen::VectorXd::Ones(s.ndof);
  CHECK(r.segment(1, s.ndof - 2).cwiseAbs().maxCoeff() <= 1e-12);
}

TEST_CASE("sum factorization equals the dense Kronecker product", "[galerkin]") {
  const GalerkinSpace1D sx = gll_elements(3, 2, 0, 1, false), sy = bspline_periodic(8, 2, 0, 1), sz = gll_elements(2, 3, 0, 1, true);
  const std::array<long, 3> n{sx.ndof, sy.ndof, sz.ndof};
  // x fastest: the global vector index is i + nx (j + ny k), so the matrix is Az (x) Ay (x) Ax.
  const Eigen::MatrixXd big = Eigen::kroneckerProduct(sz.mass, Eigen::kroneckerProduct(sy.stiffness, sx.mass)).eval();
  Eigen::VectorXd v(n[0] * n[1] * n[2]);
  for (long q = 0; q < v.size(); ++q) v[q] = std::sin(0.37 * q) + 0.1 * q / double(v.size());
  const Eigen::VectorXd ref = big * v;
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    layout::Pencil px(n, grid, 0);
    layout::RealField f(px), g(px);
    const auto& b = px.box();
    auto gidx = [&](long i, long j, long k) { return (b.lo[0] + i) + n[0] * ((b.lo[1] + j) + n[1] * (b.lo[2] + k)); };
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) f(i, j, k) = v[gidx(i, j, k)];
    // Banded (non-periodic and periodic wrap) and dense factors in one product.
    KroneckerProduct kp(grid, {matrix_operator(sx.mass, false, "Mx"), matrix_operator(sy.stiffness, true, "Ky"), dense_operator(sz.mass, "Mz")});
    REQUIRE(kp_banded_check(sx.mass, sy.stiffness));
    kp.apply(f, g);
    double e = 0;
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) e = std::max(e, std::abs(g(i, j, k) - ref[gidx(i, j, k)]));
    CHECK(core::mpi::max(e, MPI_COMM_WORLD) <= 1e-13 * ref.cwiseAbs().maxCoeff());
  }
}

TEST_CASE("Galerkin fast diagonalization converges at order p + 1", "[galerkin]") {
  const double k = M_PI;
  // Dirichlet: u = sin(pi x) sin(pi y) sin(pi z) + exp(x) y z (non-zero boundary values).
  Fn3 u = [k](double x, double y, double z) { return std::sin(k * x) * std::sin(k * y) * std::sin(k * z) + std::exp(x) * y * z; };
  Fn3 s = [k](double x, double y, double z) { return 3 * k * k * std::sin(k * x) * std::sin(k * y) * std::sin(k * z) - std::exp(x) * y * z; };
  // Periodic with shift 1: several modes with sine and cosine parts, different per axis:
  // u = sin(w x) cos(w y) sin(w z + 0.3) + 0.5 cos(2 w x + 0.2) sin(w y) + 0.3 sin(2 w z),
  // -Laplace u + u = (3 w^2 + 1) u1 + (5 w^2 + 1) u2 + (4 w^2 + 1) u3.
  const double w = 2 * M_PI;
  auto u1 = [w](double x, double y, double z) { return std::sin(w * x) * std::cos(w * y) * std::sin(w * z + 0.3); };
  auto u2 = [w](double x, double y, double) { return 0.5 * std::cos(2 * w * x + 0.2) * std::sin(w * y); };
  auto u3 = [w](double, double, double z) { return 0.3 * std::sin(2 * w * z); };
  Fn3 up = [=](double x, double y, double z) { return u1(x, y, z) + u2(x, y, z) + u3(x, y, z); };
  Fn3 sp = [=](double x, double y, double z) {
    return (3 * w * w + 1) * u1(x, y, z) + (5 * w * w + 1) * u2(x, y, z) + (4 * w * w + 1) * u3(x, y, z);
  };
  // Orders from three meshes (h halving), both within [lo, hi]; the finest error below ceiling
  // (measured, x ~2). At the dofs, Lagrange elements on Gauss-Lobatto nodes superconverge at
  // p + 2 (interior Lobatto points; element ends at 2p), uniform periodic splines at the
  // Greville points at 2p for odd p.
  struct Case { bool spline; int p; long n0; double lo, hi, ceiling; };
  const Case cases[] = {{false, 2, 3, 3.7, 4.2, 1.8e-5}, {false, 3, 3, 4.6, 5.3, 7e-8}, {true, 1, 12, 1.85, 2.1, 9e-3},
                        {true, 3, 12, 5.9, 6.6, 1.6e-8}};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (const Case& c : cases) {
      auto S = [&](long m) {
        const GalerkinSpace1D g = c.spline ? bspline_periodic(m, c.p, 0, 1) : gll_elements(m, c.p, 0, 1, false);
        return std::array<GalerkinSpace1D, 3>{g, g, g};
      };
      double e[3], res = 0;
      for (int q = 0; q < 3; ++q) {
        const long m = c.n0 << q;
        e[q] = c.spline ? galerkin_error(S(m), 1.0, up, sp, grid, q == 2 ? &res : nullptr)
                        : galerkin_error(S(m), 0.0, u, s, grid, q == 2 ? &res : nullptr);
      }
      const double o1 = std::log2(e[0] / e[1]), o2 = std::log2(e[1] / e[2]);
      INFO((c.spline ? "bspline" : "gll") << " p=" << c.p << ": errors " << e[0] << ", " << e[1] << ", " << e[2] << ", orders " << o1
                                          << ", " << o2 << ", residual " << res);
      CHECK(o1 >= c.lo);
      CHECK(o1 <= c.hi);
      CHECK(o2 >= c.lo);
      CHECK(o2 <= c.hi);
      CHECK(e[2] <= c.ceiling);
      CHECK(res <= 5e-12);
    }
  }
}

TEST_CASE("Galerkin solve inverts its own operator for every mode, Nyquist included", "[galerkin]") {
  // Random dofs u0 (every eigenvector of the per-axis problems, the spline's Nyquist mode on the
  // even periodic axis); load = A u0 by sum factorization; solve with u0 as the lift must give u0.
  const std::array<GalerkinSpace1D, 3> sp{gll_elements(3, 3, 0, 1, false), bspline_periodic(10, 3, 0, 1),
                                         gll_elements(2, 2, 0, 2, true)};
  const std::array<long, 3> n{sp[0].ndof, sp[1].ndof, sp[2].ndof};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (double shift : {0.0, 2.5}) {
      GalerkinPoisson gp(grid, sp, shift);
      layout::Pencil px(n, grid, 0);
      layout::RealField u0(px), load(px), u(px);
      const auto& b = px.box();
      for (long k = 0; k < b.n[2]; ++k)
        for (long j = 0; j < b.n[1]; ++j)
          for (long i = 0; i < b.n[0]; ++i) {
            const long g = (b.lo[0] + i) + n[0] * ((b.lo[1] + j) + n[1] * (b.lo[2] + k));
            u0(i, j, k) = std::sin(0.731 * double(g)) + 0.3 * std::cos(2.17 * double(g * g % 97));
          }
      gp.apply(u0, load);
      gp.solve(load, u0, u);
      double d = 0;
      for (std::size_t q = 0; q < u.storage_size(); ++q) d = std::max(d, std::abs(u.data()[q] - u0.data()[q]));
      INFO("shift " << shift << ": |u - u0| = " << core::mpi::max(d, MPI_COMM_WORLD));
      CHECK(core::mpi::max(d, MPI_COMM_WORLD) <= 1e-11);
    }
  }
}

TEST_CASE("a non-finite load stops the Galerkin solve with a clear error", "[galerkin]") {
  auto grid = test::make_grid(test::all_grid_shapes().back());
  const GalerkinSpace1D g = gll_elements(2, 2, 0, 1, false);
  GalerkinPoisson gp(grid, {g, g, g}, 0.0);
  layout::Pencil px({g.ndof, g.ndof, g.ndof}, grid, 0);
  layout::RealField load(px), lift(px), u(px);
  load.fill(std::nan(""));
  CHECK_THROWS_WITH(gp.solve(load, lift, u), Catch::Contains("non-finite"));
}

TEST_CASE("the Galerkin solve and apply refuse vector fields with a clear error", "[galerkin]") {
  auto grid = test::make_grid(test::all_grid_shapes().back());
  const GalerkinSpace1D g = gll_elements(2, 2, 0, 1, false);
  GalerkinPoisson gp(grid, {g, g, g}, 0.0);
  layout::Pencil px({g.ndof, g.ndof, g.ndof}, grid, 0);
  layout::RealField load(px, 3), lift(px, 3), u(px, 3);
  CHECK_THROWS_WITH(gp.solve(load, lift, u), Catch::Contains("one component per solve"));
  CHECK_THROWS_WITH(gp.apply(load, u), Catch::Contains("3 components") && Catch::Contains("1 component(s)"));
}

TEST_CASE("GalerkinPoisson::diagonal equals (A e_q)_q", "[galerkin]") {
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const GalerkinSpace1D g = gll_elements(3, 3, 0, 1, false), h = bspline_periodic(8, 3, 0, 1);
    GalerkinPoisson gp(grid, {g, h, g}, 1.3);
    const std::array<long, 3> n{g.ndof, h.ndof, g.ndof};
    layout::Pencil px(n, grid, 0);
    layout::RealField d(px), e(px), Ae(px);
    gp.diagonal(d);
    double worst = 0;
    for (const std::array<long, 3>& q : {std::array<long, 3>{0, 0, 0}, std::array<long, 3>{4, 3, 5}, std::array<long, 3>{9, 7, 3}}) {
      layout::ops::fill_global(e, [&](const std::array<long, 3>& gi, int) { return gi == q ? 1.0 : 0.0; });
      gp.apply(e, Ae);
      // <e_q, A e_q> is (A e_q)_q; with d: <e_q, d>.
      const double want = layout::ops::dot(e, Ae), got = layout::ops::dot(e, d);
      worst = std::max(worst, std::abs(got - want) / std::abs(want));
    }
    INFO(gp.describe() << " on " << shape[0] << "x" << shape[1]);
    CHECK(worst <= 1e-13);
  }
}
