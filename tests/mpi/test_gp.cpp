// Kronecker covariances (issue 14) against the dense Kronecker product on every process grid
// (uneven splits at 3 ranks): products with K and with derivative factors, solves with K + s I,
// log det(K + s I); 2D (an absent z axis) and 3D; a covariance that is not positive definite.
#include <catch2/catch.hpp>
#include "kron/core/eigen.hpp"

#include <unsupported/Eigen/KroneckerProduct>

#include <cmath>

#include "common.hpp"
#include "kron/gp/kronecker.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/gather.hpp"

using namespace kron;

namespace {
Eigen::VectorXd all(const layout::RealField& f) {
  const std::vector<double> g = layout::gather(f, 0);
  return Eigen::Map<const Eigen::VectorXd>(g.data(), static_cast<long>(g.size()));
}
std::vector<double> points(long n, double a, double b) {
  std::vector<double> x;
  for (long i = 0; i < n; ++i) x.push_back(a + (b - a) * (double(i) + 0.3 * std::sin(double(i))) / double(n));
  return x;
}
}  // namespace

TEST_CASE("Kronecker covariance: products, derivative factors, solves and log-determinants against dense", "[gp][mpi]") {
  using SM = gp::SpectralMixture;
  const std::array<std::shared_ptr<const gp::Kernel1D>, 3> kernels = {
      std::make_shared<SM>(SM::Envelope::Matern52, std::vector<double>{1.0, 0.3}, std::vector<double>{2.0, 5.0}, std::vector<double>{0.5, 3.0}),
      std::make_shared<gp::SquaredExponential>(4.0), std::make_shared<gp::Matern52>(1.5)};
  for (int dim : {2, 3}) {
    const std::array<long, 3> n{7, 6, dim == 3 ? 5 : 1};
    std::array<std::vector<double>, 3> x = {points(n[0], 0, 1), points(n[1], -1, 1), points(n[2], 0, 2)};
    auto k = kernels;
    if (dim == 2) k[2] = nullptr;
    for (auto shape : test::all_grid_shapes()) {
      auto grid = test::make_grid(shape);
      const gp::KroneckerCovariance K(grid, x, k);
      Eigen::MatrixXd D = Eigen::kroneckerProduct(K.factor(2), Eigen::kroneckerProduct(K.factor(1), K.factor(0))).eval();
      linops::PencilWorkspace ws(grid);
      layout::RealField v(layout::Pencil(n, grid, 0)), y(v.pencil());
      layout::ops::fill_global(v, [&](const std::array<long, 3>& g, int) { return std::sin(0.7 * double(g[0] + n[0] * (g[1] + n[1] * g[2])) + 0.2); });
      const Eigen::VectorXd vv = all(v);
      INFO(dim << "D, grid " << shape[0] << "x" << shape[1]);
      // K v, and the u_xx-u covariance factor (d^2/dx^2 along x) plus K v accumulated.
      K.multiply(v, y, ws);
      Eigen::VectorXd yy = all(y);  // gathers are collective: on every rank, compared on rank 0
      double err = test::from_root(core::mpi::rank() == 0 ? (yy - D * vv).cwiseAbs().maxCoeff() : 0.0);
      CHECK(err <= 1e-12 * test::from_root(core::mpi::rank() == 0 ? (D * vv).cwiseAbs().maxCoeff() : 1.0));
      gp::KroneckerCovariance::Orders o{};
      o[0] = {2, 0};
      o[1] = {1, 1};
      const Eigen::MatrixXd Dd = Eigen::kroneckerProduct(K.factor(2), Eigen::kroneckerProduct(K.factor(1, 1, 1), K.factor(0, 2, 0))).eval();
      K.multiply(v, y, ws);
      K.multiply(v, y, ws, o, true);
      yy = all(y);
      err = test::from_root(core::mpi::rank() == 0 ? (yy - (D + Dd) * vv).cwiseAbs().maxCoeff() : 0.0);
      CHECK(err <= 1e-11 * test::from_root(core::mpi::rank() == 0 ? ((D + Dd) * vv).cwiseAbs().maxCoeff() : 1.0));
      // (K + s I)^-1 v and log det(K + s I).
      const double s = 1e-3;
      const Eigen::MatrixXd Ds = D + s * Eigen::MatrixXd::Identity(D.rows(), D.cols());
      layout::RealField w(v.pencil());
      layout::ops::copy(v, w);
      const layout::RealField& u = K.solve(w, ws, s);
      const Eigen::VectorXd uu = all(u);
      err = test::from_root(core::mpi::rank() == 0 ? (Ds * uu - vv).cwiseAbs().maxCoeff() : 0.0);
      CHECK(err <= 1e-10 * test::from_root(core::mpi::rank() == 0 ? vv.cwiseAbs().maxCoeff() : 1.0));
      Eigen::LLT<Eigen::MatrixXd> llt(Ds);
      REQUIRE(llt.info() == Eigen::Success);
      const double logdet = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
      CHECK(K.log_determinant(s) == Approx(logdet).epsilon(1e-11));
      const auto range = K.eigenvalue_range();
      const Eigen::VectorXd ev = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(D).eigenvalues();
      CHECK(range[0] == Approx(ev.minCoeff()).margin(1e-12 * ev.maxCoeff()));
      CHECK(range[1] == Approx(ev.maxCoeff()).epsilon(1e-12));
      // A shift that makes K + s I indefinite: a clear error, not a solve.
      layout::ops::copy(v, w);
      CHECK_THROWS_WITH(K.solve(w, ws, -2 * range[1]), Catch::Contains("not positive definite"));
    }
  }
}
