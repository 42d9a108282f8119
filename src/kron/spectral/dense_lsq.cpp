#include "kron/spectral/dense_lsq.hpp"

#include <cmath>

#include "kron/core/error.hpp"

namespace kron::spectral {

namespace {
// sigma_max / sigma_min of the upper-triangular R (= those of A), by 30 power iterations on
// R^T R and 30 on its inverse (a lower bound of the condition number that converges to it).
double condition_of(const Eigen::Ref<const Eigen::MatrixXd>& R) {
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

DenseLsq dense_least_squares(Eigen::MatrixXd& A, const Eigen::VectorXd& b) {
  const long n = A.cols();
  if (A.rows() < n) throw Error("a dense least-squares solve needs at least as many rows as unknowns");
  Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(A);  // in place
  const Eigen::VectorXd qtb = qr.householderQ().adjoint() * b;
  const auto R = qr.matrixQR().topLeftCorner(n, n);
  DenseLsq r;
  r.x = R.triangularView<Eigen::Upper>().solve(qtb.head(n));
  if (!r.x.allFinite()) throw Error("the least-squares solve produced non-finite values", {}, "check the PDE terms and the data");
  r.condition = condition_of(R);
  return r;
}

}  // namespace kron::spectral
