#pragma once
// An independent reference for Laplace problems on a rectangle with circular holes (issue 13):
// the series method (Trefethen, "Series solution of Laplace problems", ANZIAM J. 2018), a
// representation that is harmonic by construction, fitted to the boundary data by least squares.
#include <functional>
#include <vector>

#include "kron/core/eigen.hpp"

namespace kron::spectral {

struct HoledRectangle {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  struct Hole {
    double cx = 0, cy = 0, r = 0;
  };
  std::vector<Hole> holes;
  /// Whether (x, y) lies in the closed rectangle and outside every (open) hole.
  bool contains(double x, double y) const;
};

/// u(z) = a_0 + sum_{k<=degree} Re/Im of ((z - z0)/rho)^k + sum over holes [c log|z - c_h| +
/// sum_{k<=laurent} Re/Im of (r_h/(z - c_h))^k], z0 the rectangle's centre and rho its half
/// diagonal: harmonic in the domain for any coefficients. The coefficients are the least-squares
/// fit of the Dirichlet data at 4 x degree Chebyshev points per edge and 4 x laurent + 40 equally
/// spaced points per hole circle (column-pivoted QR). boundary_error(): the largest misfit at 4
/// times as many boundary points; u - u_exact is harmonic, so by the maximum principle it bounds
/// the error everywhere in the domain.
class LaplaceSeries {
 public:
  LaplaceSeries(const HoledRectangle& d, const std::function<double(double, double)>& outer, const std::function<double(double, double)>& hole,
                int degree, int laurent);
  double operator()(double x, double y) const;
  double boundary_error() const { return boundary_error_; }

 private:
  Eigen::RowVectorXd basis(double x, double y) const;
  HoledRectangle d_;
  int degree_, laurent_;
  Eigen::VectorXd c_;
  double boundary_error_ = 0;
};

/// Boundary points of the domain: `per_edge` Chebyshev-Gauss points on each edge (corners left
/// out: clustered towards them), `per_hole` equally spaced points on each hole circle; appended
/// to x, y, and the curve index to `curve` (0 = outer, 1 + h = hole h).
void boundary_points(const HoledRectangle& d, int per_edge, int per_hole, std::vector<double>& x, std::vector<double>& y, std::vector<int>& curve);

}  // namespace kron::spectral
