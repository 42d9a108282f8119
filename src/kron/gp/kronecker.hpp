#pragma once
// Kronecker covariances on tensor grids (issue 14): K = K_z (x) K_y (x) K_x, x fastest, each
// factor the Gram matrix of a 1D kernel at its axis' points; products with K and with its
// derivative factors are TensorOps of dense LineOps; solves with K + s I and log det(K + s I) go
// through the per-axis eigendecompositions K_a = Q_a diag(l_a) Q_a^T (Eigen on the small axis
// matrices) and the engine's fast diagonalization with eigenvalues combined by product. The
// N x N matrix is never formed; fields are distributed over pencils.
#include <array>
#include <map>
#include <utility>
#include <memory>
#include <vector>

#include "kron/gp/kernel.hpp"
#include "kron/linops/fast_diag.hpp"
#include "kron/linops/tensor_op.hpp"

namespace kron::gp {

class KroneckerCovariance {
 public:
  /// points[a]: the grid points of axis a; kernels[a]: its kernel (null for an absent axis of
  /// one point, whose factor is 1).
  KroneckerCovariance(layout::ProcessGridPtr grid, std::array<std::vector<double>, 3> points, std::array<std::shared_ptr<const Kernel1D>, 3> kernels);

  const std::array<long, 3>& shape() const { return n_; }
  /// Derivative orders (in x, in x') of every axis' factor: K_a^(p, q) = d^p/dx^p d^q/dx'^q k_a.
  using Orders = std::array<std::array<int, 2>, 3>;
  /// y = (K_z^(o_z) (x) K_y^(o_y) (x) K_x^(o_x)) v, or y += it (accumulate). x-pencil fields of
  /// shape(), no halos.
  void multiply(const layout::RealField& v, layout::RealField& y, linops::PencilWorkspace& ws, const Orders& orders = {},
                bool accumulate = false) const;
  /// (K + shift I)^-1 v: v is scratch; the result is a workspace field (x-pencil, valid until the
  /// workspace's next use). Throws kron::Error where K + shift I is not positive definite.
  layout::RealField& solve(layout::RealField& v, linops::PencilWorkspace& ws, double shift) const;
  /// log det(K + shift I) = sum over the grid of log(l_x,i l_y,j l_z,k + shift).
  double log_determinant(double shift) const;
  /// Axis a's eigenvalues (ascending) and eigenvectors (columns).
  const Eigen::VectorXd& eigenvalues(int a) const { return lambda_[static_cast<std::size_t>(a)]; }
  const Eigen::MatrixXd& eigenvectors(int a) const { return Q_[static_cast<std::size_t>(a)]; }
  /// The smallest and largest eigenvalue of K (products of the per-axis extremes).
  std::array<double, 2> eigenvalue_range() const;
  /// Axis a's factor K_a^(p, q) (the identity for an absent axis).
  Eigen::MatrixXd factor(int a, int p = 0, int q = 0) const;

 private:
  layout::ProcessGridPtr grid_;
  std::array<long, 3> n_;
  std::array<std::vector<double>, 3> x_;
  std::array<std::shared_ptr<const Kernel1D>, 3> k_;
  std::array<Eigen::VectorXd, 3> lambda_;
  std::array<Eigen::MatrixXd, 3> Q_;
  std::array<std::shared_ptr<const linops::LineOp<double>>, 3> qop_;
  mutable std::map<std::pair<Orders, int>, std::unique_ptr<linops::TensorOp<double>>> products_;  // by orders, components
  mutable std::map<double, std::unique_ptr<linops::FastDiagonalization>> solvers_;
};

/// A dense LineOp of an Eigen matrix.
std::shared_ptr<const linops::LineOp<double>> dense_op(const Eigen::MatrixXd& A);

}  // namespace kron::gp
