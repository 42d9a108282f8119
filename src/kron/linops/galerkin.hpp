#pragma once
#include "kron/core/eigen.hpp"
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kron/layout/field.hpp"
#include "kron/linops/fast_diag.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/linops/tensor_op.hpp"

namespace kron::linops {

/// A 1D Galerkin space: mass M_ij = (phi_i, phi_j) and stiffness K_ij = (phi_i', phi_j'),
/// integrated exactly, and the points that carry the degrees of freedom.
struct GalerkinSpace1D {
  std::string name;
  long ndof = 0;
  bool periodic = false;
  int degree = 1;
  std::vector<double> points;  ///< Lagrange: the nodes (dof = value); B-spline: the Greville points
  Eigen::MatrixXd mass, stiffness;
  /// Values of the basis at `points` (identity for Lagrange): u(points) = collocation * dofs.
  Eigen::MatrixXd collocation;
};

/// Gauss-Lobatto-Legendre nodes and weights on [-1, 1] (p + 1 points, exact to degree 2p - 1).
void gll_rule(int p, std::vector<double>& x, std::vector<double>& w);
/// Gauss-Legendre nodes and weights on [-1, 1] (q points, exact to degree 2q - 1).
void gauss_rule(int q, std::vector<double>& x, std::vector<double>& w);

/// Continuous Lagrange elements of degree p on `elements` equal elements of [a, b], nodes at the
/// Gauss-Lobatto-Legendre points of each element (E p + 1 nodes; E p when periodic). Mass by
/// (p+1)-point Gauss quadrature and stiffness by GLL quadrature: both exact on affine elements.
GalerkinSpace1D gll_elements(long elements, int p, double a, double b, bool periodic);
/// Uniform periodic B-splines of degree p on n knot spans of [a, b): entries from the
/// autocorrelation of the cardinal B-spline, M = h N_{2p+2}(p+1+d), K = -(1/h) N''_{2p+2}(p+1+d).
GalerkinSpace1D bspline_periodic(long n, int p, double a, double b);
/// The cardinal B-spline of order k (degree k - 1) on [0, k], and its second derivative.
double cardinal_bspline(int k, double t);
double cardinal_bspline_d2(int k, double t);

/// Tensor-product Galerkin solve of  sum_a K_a (x) M_b (x) M_c u + shift M (x) M (x) M u = r
/// by fast diagonalization with the generalized eigenproblems K v = lambda M v per axis
/// (V^T M V = I, V^T K V = Lambda): u = (V (x) V (x) V) (Lambda sums + shift)^{-1} (V^T (x) ..) r.
/// Non-periodic axes take Dirichlet data: boundary dofs are fixed and their rows and columns leave
/// the eigenproblem. Operator apply (for residuals, loads) by sum factorization.
class GalerkinPoisson {
 public:
  /// space = Device: fields on the GPU (every product and the solve on the device executors;
  /// diagonal() stays on the host).
  GalerkinPoisson(layout::ProcessGridPtr grid, std::array<GalerkinSpace1D, 3> spaces, double shift = 0.0,
                  core::MemorySpace space = core::MemorySpace::Host);
  /// out = A in (every row; boundary rows of Dirichlet axes included).
  void apply(const layout::RealField& in, layout::RealField& out);
  /// out = (M (x) M (x) M) in: the load vector of a source given by its dofs.
  void mass(const layout::RealField& in, layout::RealField& out);
  /// Solves A u = load for the interior dofs, u = lift on Dirichlet boundary dofs (lift: any
  /// field whose boundary dofs hold the data; its interior is ignored).
  void solve(const layout::RealField& load, const layout::RealField& lift, layout::RealField& u);
  /// Bytes of the shared scratch held now (a few fields: the lift, the right-hand side and the
  /// fast-diagonalization sweeps' two).
  std::size_t workspace_bytes() const { return ws_.bytes(); }
  /// Bytes of the 1D matrices, eigenvectors and eigenvalues.
  std::size_t operator_bytes() const;
  std::string describe() const;
  /// out = diag(A): sum_a K_a(i,i) prod_{b != a} M_b(j,j) + shift prod_a M_a(i,i) (x-pencil).
  void diagonal(layout::RealField& out) const;

 private:
  layout::ProcessGridPtr grid_;
  std::array<GalerkinSpace1D, 3> sp_;
  std::array<long, 3> n_;
  double shift_;
  // One scratch for every product; the solve is a fast diagonalization whose forward sweep is
  // the V stages applied with Trans::T (V^T M V = I): no second matrix.
  PencilWorkspace ws_;
  std::unique_ptr<FastDiagonalization> fd_;
  TensorOp<double> mmm_;
  std::array<TensorOp<double>, 3> kmm_;
  std::array<bool, 3> dirichlet_{};  // non-periodic axes: boundary dofs fixed
};

}  // namespace kron::linops
