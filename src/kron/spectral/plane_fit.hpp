#pragma once
// BWLer on a planar domain with holes (issue 13): the unknowns are the values at a tensor grid of
// Chebyshev nodes on the bounding rectangle, the loss the mean squared PDE residual at scattered
// collocation points inside the domain plus the weighted mean squared boundary misfit at points
// on every boundary curve. No Kronecker splitting survives the scattered points: the linear
// least-squares problem is solved densely.
#include "kron/core/eigen.hpp"

#include <string>
#include <vector>

#include "kron/layout/axis_grid.hpp"
#include "kron/spectral/fit.hpp"

namespace kron::spectral {

/// sum_j c_j d^{dx_j}/dx d^{dy_j}/dy u = f at the collocation points, u = g at the boundary points.
struct PlaneProblem {
  layout::AxisGrid x, y;  ///< the nodes (bounded axes)
  struct Term {
    double coef = 1;
    int dx = 0, dy = 0;
  };
  std::vector<Term> terms;
  std::vector<double> px, py, f;  ///< collocation points and the source there
  std::vector<double> bx, by, g;  ///< boundary points and the data there
  double boundary_weight = 100;
};

struct PlaneFit {
  Eigen::MatrixXd u;  ///< nx x ny nodal values
  double loss = 0, residual_rms = 0, boundary_rms = 0;
  double condition = 0;  ///< 2-norm condition estimate of the least-squares matrix
  long rows = 0;
  long iterations = 1;
  std::string method;
};

/// The least-squares fit: every row of the (collocation + boundary points) x (nx ny) matrix is a
/// Kronecker product of an x row and a y row (barycentric interpolation at the point times the
/// differentiation matrix); Householder QR (blocked), the 2-norm condition number estimated from
/// R by power and inverse iterations. Up to 8192 unknowns. Throws kron::Error for bad input
/// (points outside the rectangle, fewer rows than unknowns, non-finite data).
PlaneFit fit_plane(const PlaneProblem& p);

/// The plane fit's objective, the one every method minimises: with r the PDE residual at the np
/// collocation points and e the misfit at the nb boundary points,
///   loss = |r|^2 / np + boundary_weight |e|^2 / nb,
/// evaluated matrix-free (each row a Kronecker product of an x and a y row: (a_r^T U b_r)), and
/// its gradient sum a_r g_r b_r^T in closed form.
class PlaneLoss {
 public:
  explicit PlaneLoss(const PlaneProblem& p);
  struct Parts {
    double loss = 0, residual_rms = 0, boundary_rms = 0;
  };
  Parts evaluate(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad = nullptr) const;
  double operator()(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad = nullptr) const { return evaluate(U, grad).loss; }
  /// The fit U reported by every method: its loss and parts at U, the row count, and how.
  PlaneFit result(Eigen::MatrixXd U, std::string method, long iterations, double condition = 0) const;
  long nx() const { return nx_; }
  long ny() const { return ny_; }
  /// Per PDE term: coefficient, x rows and y rows at the collocation points; the boundary rows.
  struct Rows {
    double coef;
    Eigen::MatrixXd ax, ay;
  };
  const std::vector<Rows>& pde_rows() const { return pde_; }
  const Rows& boundary_rows() const { return bnd_; }

 private:
  long nx_, ny_;
  std::vector<Rows> pde_;
  Rows bnd_;
  Eigen::VectorXd f_, g_;
  double w_;
};

/// BWLer's Adam protocol on PlaneLoss from U = 0 (see minimize_adam); condition is not estimated.
PlaneFit fit_plane_adam(const PlaneProblem& p, long steps, double seconds, double lr, double clip);

/// The fit's values at the points (x_q, y_q).
std::vector<double> evaluate_plane(const PlaneProblem& p, const Eigen::MatrixXd& u, const std::vector<double>& x, const std::vector<double>& y);

}  // namespace kron::spectral
