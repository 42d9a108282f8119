#pragma once
// The dense least-squares solve shared by the BWLer fits without a splitting (bounded space-time,
// plane): blocked Householder QR, and the 2-norm condition number of the matrix from R.
#include "kron/core/eigen.hpp"

namespace kron::spectral {

struct DenseLsq {
  Eigen::VectorXd x;
  double condition = 0;  ///< sigma_max / sigma_min of A, by power and inverse iterations on R
};

/// argmin |A x - b| for a tall A of full column rank (A is overwritten by its factorisation).
/// Throws kron::Error when the solution is not finite.
DenseLsq dense_least_squares(Eigen::MatrixXd& A, const Eigen::VectorXd& b);

}  // namespace kron::spectral
