#include "kron/spectral/plane_fit.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/dense_lsq.hpp"

namespace kron::spectral {

namespace {

// Rows of d^d/dx^d interpolation at the points: L D^d (L for d = 0).
Eigen::MatrixXd rows_at(const layout::AxisGrid& g, const std::vector<double>& pts, int d) {
  const Eigen::MatrixXd L = interpolation_matrix(g, pts);
  return d == 0 ? L : Eigen::MatrixXd(L * differentiation_matrix(g, d));
}

}  // namespace

namespace {
void check(const PlaneProblem& p) {
  const long nx = p.x.size(), ny = p.y.size(), n = nx * ny;
  const long np = static_cast<long>(p.px.size()), nb = static_cast<long>(p.bx.size());
  if (p.x.periodic() || p.y.periodic() || nx < 2 || ny < 2) throw Error("a plane fit needs bounded x and y axes of at least 2 nodes");
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
}

// sum over rows r of the (a_r^T U b_r): the values of the row-wise Kronecker products.
Eigen::VectorXd apply(const PlaneLoss::Rows& r, const Eigen::MatrixXd& U) { return (r.ax * U).cwiseProduct(r.ay).rowwise().sum(); }
}  // namespace

PlaneLoss::PlaneLoss(const PlaneProblem& p) {
  check(p);
  nx_ = p.x.size();
  ny_ = p.y.size();
  for (const auto& t : p.terms) pde_.push_back({t.coef, rows_at(p.x, p.px, t.dx), rows_at(p.y, p.py, t.dy)});
  bnd_ = {1.0, rows_at(p.x, p.bx, 0), rows_at(p.y, p.by, 0)};
  f_ = Eigen::Map<const Eigen::VectorXd>(p.f.data(), static_cast<long>(p.f.size()));
  g_ = Eigen::Map<const Eigen::VectorXd>(p.g.data(), static_cast<long>(p.g.size()));
  w_ = p.boundary_weight;
}

PlaneLoss::Parts PlaneLoss::evaluate(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad) const {
  if (U.rows() != nx_ || U.cols() != ny_) throw Error("PlaneLoss: U has the wrong shape");
  Eigen::VectorXd r = -f_;
  for (const auto& t : pde_) r += t.coef * apply(t, U);
  const Eigen::VectorXd e = apply(bnd_, U) - g_;
  const double np = double(std::max<long>(r.size(), 1)), nb = double(std::max<long>(e.size(), 1));
  Parts parts;
  parts.residual_rms = std::sqrt(r.squaredNorm() / np);
  parts.boundary_rms = std::sqrt(e.squaredNorm() / nb);
  parts.loss = r.squaredNorm() / np + w_ * e.squaredNorm() / nb;
  if (grad) {
    const Eigen::VectorXd gr = (2.0 / np) * r, ge = (2.0 * w_ / nb) * e;
    grad->setZero(nx_, ny_);
    for (const auto& t : pde_) grad->noalias() += t.coef * (t.ax.transpose() * gr.asDiagonal() * t.ay);
    grad->noalias() += bnd_.ax.transpose() * ge.asDiagonal() * bnd_.ay;
  }
  return parts;
}

PlaneFit fit_plane(const PlaneProblem& p) {
  core::ScopedTimer timer("spectral.fit_plane");
  const PlaneLoss loss(p);
  const long nx = p.x.size(), ny = p.y.size(), n = nx * ny;
  const long np = static_cast<long>(p.px.size()), nb = static_cast<long>(p.bx.size());
  if (n > 8192) throw Error("a plane fit is solved densely, up to 8192 unknowns; this one has " + std::to_string(n), {}, "fewer nodes");
  // The rows of the loss scaled so that |A u - b|^2 is the loss; row r = kron(b_r, a_r) in the
  // column-major flattening of U (nx x ny): A(r, i + nx j) = a_ri b_rj.
  const double sp = 1.0 / std::sqrt(double(std::max(np, 1L))), sb = std::sqrt(p.boundary_weight / double(std::max(nb, 1L)));
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(np + nb, n);
  Eigen::VectorXd b(np + nb);
  for (const auto& t : loss.pde_rows())
    for (long j = 0; j < ny; ++j) A.block(0, j * nx, np, nx) += (sp * t.coef) * (t.ay.col(j).asDiagonal() * t.ax);
  for (long r = 0; r < np; ++r) b[r] = sp * p.f[static_cast<std::size_t>(r)];
  const auto& bd = loss.boundary_rows();
  for (long j = 0; j < ny; ++j) A.block(np, j * nx, nb, nx) = sb * (bd.ay.col(j).asDiagonal() * bd.ax);
  for (long r = 0; r < nb; ++r) b[np + r] = sb * p.g[static_cast<std::size_t>(r)];

  const DenseLsq sol = dense_least_squares(A, b);
  std::ostringstream m;
  m << "dense least squares (" << np + nb << " x " << n << ", Householder QR)";
  return loss.result(Eigen::Map<const Eigen::MatrixXd>(sol.x.data(), nx, ny), m.str(), 1, sol.condition);
}

PlaneFit PlaneLoss::result(Eigen::MatrixXd U, std::string method, long iterations, double condition) const {
  PlaneFit r;
  const Parts parts = evaluate(U);
  r.u = std::move(U);
  r.loss = parts.loss;
  r.residual_rms = parts.residual_rms;
  r.boundary_rms = parts.boundary_rms;
  r.condition = condition;
  r.rows = (pde_.empty() ? 0 : pde_.front().ax.rows()) + bnd_.ax.rows();
  r.iterations = iterations;
  r.method = std::move(method);
  return r;
}

PlaneFit fit_plane_adam(const PlaneProblem& p, long steps, double seconds, double lr, double clip) {
  core::ScopedTimer timer("spectral.adam");
  const PlaneLoss loss(p);
  Eigen::MatrixXd U =
      minimize_adam([&](const Eigen::MatrixXd& X, Eigen::MatrixXd* g) { return loss(X, g); }, loss.nx(), loss.ny(), steps, seconds, lr, clip);
  return loss.result(std::move(U),
                     "Adam (lr " + std::to_string(lr) + ", gradient clipped at " + std::to_string(clip) + ", " + std::to_string(steps) + " steps)",
                     steps);
}

std::vector<double> evaluate_plane(const PlaneProblem& p, const Eigen::MatrixXd& u, const std::vector<double>& x, const std::vector<double>& y) {
  const Eigen::MatrixXd ax = interpolation_matrix(p.x, x), ay = interpolation_matrix(p.y, y);
  const Eigen::MatrixXd g = ax * u;  // points x ny
  std::vector<double> v(x.size());
  for (std::size_t q = 0; q < x.size(); ++q) v[q] = g.row(static_cast<long>(q)).dot(ay.row(static_cast<long>(q)));
  return v;
}

}  // namespace kron::spectral
