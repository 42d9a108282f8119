#include "kron/spectral/plane_fit.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/barycentric.hpp"

namespace kron::spectral {

namespace {

// Rows of d^d/dx^d interpolation at the points: L D^d (L for d = 0).
Eigen::MatrixXd rows_at(const layout::AxisGrid& g, const std::vector<double>& pts, int d) {
  const Eigen::MatrixXd L = interpolation_matrix(g, pts);
  return d == 0 ? L : Eigen::MatrixXd(L * differentiation_matrix(g, d));
}

// sigma_max / sigma_min of the upper-triangular R (= those of the least-squares matrix), by power
// iterations on R^T R and on its inverse.
double condition_of(const Eigen::MatrixXd& R) {
  const long n = R.cols();
  const auto U = R.triangularView<Eigen::Upper>();
  Eigen::VectorXd v = Eigen::VectorXd::Ones(n).normalized(), w;
  double smax = 0, smin_inv = 0;
  for (int it = 0; it < 30; ++it) {
    w = U.transpose() * (U * v);
    smax = std::sqrt(w.norm());
    v = w.normalized();
  }
  v = Eigen::VectorXd::Ones(n).normalized();
  for (int it = 0; it < 30; ++it) {
    w = U.transpose().solve(v);
    w = U.solve(w);
    smin_inv = std::sqrt(w.norm());
    v = w.normalized();
  }
  return smax * smin_inv;
}

}  // namespace

PlaneFit fit_plane(const PlaneProblem& p) {
  core::ScopedTimer timer("spectral.fit_plane");
  const long nx = p.x.size(), ny = p.y.size(), n = nx * ny;
  const long np = static_cast<long>(p.px.size()), nb = static_cast<long>(p.bx.size());
  if (p.x.periodic() || p.y.periodic() || nx < 2 || ny < 2) throw Error("a plane fit needs bounded x and y axes of at least 2 nodes");
  if (n > 8192) throw Error("a plane fit is solved densely, up to 8192 unknowns; this one has " + std::to_string(n), {}, "fewer nodes");
  if (static_cast<long>(p.py.size()) != np || static_cast<long>(p.f.size()) != np || static_cast<long>(p.by.size()) != nb ||
      static_cast<long>(p.g.size()) != nb)
    throw Error("a plane fit needs one source value per collocation point and one datum per boundary point");
  if (np + nb < n)
    throw Error("a plane fit has " + std::to_string(np + nb) + " collocation and boundary points for " + std::to_string(n) + " unknowns",
                {}, "more collocation points");
  if (p.terms.empty() || !(p.boundary_weight > 0)) throw Error("a plane fit needs PDE terms and a positive boundary weight");
  for (double v : p.f)
    if (!std::isfinite(v)) throw Error("the source is not finite at a collocation point");
  for (double v : p.g)
    if (!std::isfinite(v)) throw Error("the boundary data are not finite at a boundary point");

  const double sp = 1.0 / std::sqrt(double(std::max(np, 1L))), sb = std::sqrt(p.boundary_weight / double(std::max(nb, 1L)));
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(np + nb, n);
  Eigen::VectorXd b(np + nb);
  // Row r = kron(y row, x row) in the column-major flattening of U (nx x ny): A(r, i + nx j) = a_i b_j.
  for (const auto& t : p.terms) {
    const Eigen::MatrixXd ax = rows_at(p.x, p.px, t.dx), ay = rows_at(p.y, p.py, t.dy);
    for (long j = 0; j < ny; ++j) A.block(0, j * nx, np, nx) += (sp * t.coef) * (ay.col(j).asDiagonal() * ax);
  }
  for (long r = 0; r < np; ++r) b[r] = sp * p.f[static_cast<std::size_t>(r)];
  const Eigen::MatrixXd bxr = rows_at(p.x, p.bx, 0), byr = rows_at(p.y, p.by, 0);
  for (long j = 0; j < ny; ++j) A.block(np, j * nx, nb, nx) = sb * (byr.col(j).asDiagonal() * bxr);
  for (long r = 0; r < nb; ++r) b[np + r] = sb * p.g[static_cast<std::size_t>(r)];

  Eigen::HouseholderQR<Eigen::MatrixXd> qr(A);
  const Eigen::VectorXd qtb = qr.householderQ().adjoint() * b;
  const Eigen::MatrixXd R = qr.matrixQR().topRows(n).triangularView<Eigen::Upper>();
  const Eigen::VectorXd u = R.triangularView<Eigen::Upper>().solve(qtb.head(n));
  if (!u.allFinite()) throw Error("the plane fit produced non-finite values", {}, "check the PDE terms and the data");
  PlaneFit r;
  r.u = Eigen::Map<const Eigen::MatrixXd>(u.data(), nx, ny);
  const Eigen::VectorXd res = A * u - b;
  r.residual_rms = np ? res.head(np).norm() : 0.0;  // rows scaled by 1/sqrt(np): this is the rms
  r.boundary_rms = nb ? res.tail(nb).norm() / sb / std::sqrt(double(nb)) : 0.0;
  r.loss = res.squaredNorm();
  r.condition = condition_of(R);
  r.rows = np + nb;
  std::ostringstream m;
  m << "dense least squares (" << np + nb << " x " << n << ", Householder QR)";
  r.method = m.str();
  return r;
}

std::vector<double> evaluate_plane(const PlaneProblem& p, const Eigen::MatrixXd& u, const std::vector<double>& x, const std::vector<double>& y) {
  const Eigen::MatrixXd ax = interpolation_matrix(p.x, x), ay = interpolation_matrix(p.y, y);
  const Eigen::MatrixXd g = ax * u;  // points x ny
  std::vector<double> v(x.size());
  for (std::size_t q = 0; q < x.size(); ++q) v[q] = g.row(static_cast<long>(q)).dot(ay.row(static_cast<long>(q)));
  return v;
}

}  // namespace kron::spectral
