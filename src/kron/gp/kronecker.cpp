#include "kron/gp/kronecker.hpp"

#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"

namespace kron::gp {

std::shared_ptr<const linops::LineOp<double>> dense_op(const Eigen::MatrixXd& A) {
  std::vector<double> a(static_cast<std::size_t>(A.size()));
  for (long i = 0; i < A.rows(); ++i)
    for (long j = 0; j < A.cols(); ++j) a[static_cast<std::size_t>(i * A.cols() + j)] = A(i, j);
  return std::make_shared<const linops::LineOp<double>>(linops::LineOp<double>::dense(A.rows(), A.cols(), std::move(a)));
}

KroneckerCovariance::KroneckerCovariance(layout::ProcessGridPtr grid, std::array<std::vector<double>, 3> points,
                                         std::array<std::shared_ptr<const Kernel1D>, 3> kernels)
    : grid_(std::move(grid)), x_(std::move(points)), k_(std::move(kernels)) {
  for (int a = 0; a < 3; ++a) {
    const auto A = static_cast<std::size_t>(a);
    n_[A] = static_cast<long>(x_[A].size());
    if (n_[A] < 1) throw Error("a Kronecker covariance needs at least one point per axis");
    if (!k_[A] && n_[A] != 1) throw Error(std::string("axis ") + "xyz"[a] + " has " + std::to_string(n_[A]) + " points but no kernel");
    const Eigen::MatrixXd K = factor(a);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K);
    if (es.info() != Eigen::Success) throw Error(std::string("the eigendecomposition of axis ") + "xyz"[a] + "'s covariance failed");
    lambda_[A] = es.eigenvalues();
    Q_[A] = es.eigenvectors();
    qop_[A] = dense_op(Q_[A]);
  }
}

Eigen::MatrixXd KroneckerCovariance::factor(int a, int p, int q) const {
  const auto A = static_cast<std::size_t>(a);
  if (!k_[A]) return Eigen::MatrixXd::Identity(n_[A], n_[A]) * (p + q == 0 ? 1.0 : 0.0);
  return k_[A]->gram(x_[A], x_[A], p, q);
}

void KroneckerCovariance::multiply(const layout::RealField& v, layout::RealField& y, linops::PencilWorkspace& ws, const Orders& orders,
                                   bool accumulate) const {
  auto& op = products_[{orders, v.components()}];
  if (!op) {
    std::vector<linops::TensorOp<double>::Stage> stages;
    for (int a = 0; a < 3; ++a) {
      const auto A = static_cast<std::size_t>(a);
      if (!k_[A]) {
        if (orders[A][0] + orders[A][1] > 0) throw Error(std::string("a derivative along the absent axis ") + "xyz"[a]);
        continue;
      }
      stages.push_back({a, dense_op(factor(a, orders[A][0], orders[A][1])), linops::Trans::N});
    }
    op = std::make_unique<linops::TensorOp<double>>(grid_, n_, v.components(), stages);
  }
  op->apply(v, y, ws, accumulate);
}

std::array<double, 2> KroneckerCovariance::eigenvalue_range() const {
  // The product is multilinear in the axes' eigenvalues: its extremes are at their extremes.
  double lo = INFINITY, hi = -INFINITY;
  for (int m = 0; m < 8; ++m) {
    double p = 1;
    for (int a = 0; a < 3; ++a) {
      const auto& l = lambda_[static_cast<std::size_t>(a)];
      p *= (m >> a) & 1 ? l.maxCoeff() : l.minCoeff();
    }
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
  return {lo, hi};
}

layout::RealField& KroneckerCovariance::solve(layout::RealField& v, linops::PencilWorkspace& ws, double shift) const {
  const auto range = eigenvalue_range();
  if (!(range[0] + shift > 1e-14 * std::abs(range[1] + shift))) {
    std::ostringstream os;
    os << "the covariance plus " << shift << " I is singular or not positive definite: its eigenvalues lie in [" << range[0] + shift << ", "
       << range[1] + shift << "]";
    throw Error(os.str(), {}, "a larger jitter or noise variance, or fewer points per lengthscale");
  }
  auto& fd = solvers_[shift];
  if (!fd) {
    std::array<linops::FastDiagonalization::Axis, 3> axes;
    for (int a = 0; a < 3; ++a) {
      const auto A = static_cast<std::size_t>(a);
      if (!k_[A]) continue;  // absent: eigenvalue 1 (the factor is 1)
      auto& ax = axes[A];
      ax.fwd = qop_[A];
      ax.bwd = qop_[A];
      ax.fwd_trans = linops::Trans::T;
      ax.bwd_trans = linops::Trans::N;
      ax.lambda.assign(lambda_[A].data(), lambda_[A].data() + lambda_[A].size());
    }
    fd = std::make_unique<linops::FastDiagonalization>(grid_, n_, axes, linops::FastDiagonalization::Combine::Product, shift, false,
                                                      "the Kronecker covariance");
  }
  return fd->solve(v, ws);
}

double KroneckerCovariance::log_determinant(double shift) const {
  const auto range = eigenvalue_range();
  if (!(range[0] + shift > 0)) throw Error("the log-determinant of a covariance that is not positive definite");
  const Eigen::VectorXd& lx = lambda_[0];
  double sum = 0;
  for (long k = 0; k < n_[2]; ++k)
    for (long j = 0; j < n_[1]; ++j) {
      const double lyz = lambda_[1][j] * lambda_[2][k];
      for (long i = 0; i < n_[0]; ++i) sum += std::log(lx[i] * lyz + shift);
    }
  return sum;
}

}  // namespace kron::gp
