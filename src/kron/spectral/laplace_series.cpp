#include "kron/spectral/laplace_series.hpp"

#include <cmath>
#include <complex>

#include "kron/core/error.hpp"

namespace kron::spectral {

bool HoledRectangle::contains(double x, double y) const {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  for (const auto& h : holes)
    if (std::hypot(x - h.cx, y - h.cy) < h.r) return false;
  return true;
}

void boundary_points(const HoledRectangle& d, int per_edge, int per_hole, std::vector<double>& x, std::vector<double>& y, std::vector<int>& curve) {
  for (int k = 0; k < per_edge; ++k) {
    const double s = 0.5 - 0.5 * std::cos(M_PI * (k + 0.5) / per_edge);  // in (0, 1)
    const double ex = d.x0 + s * (d.x1 - d.x0), ey = d.y0 + s * (d.y1 - d.y0);
    const double px[4] = {ex, ex, d.x0, d.x1}, py[4] = {d.y0, d.y1, ey, ey};
    for (int e = 0; e < 4; ++e) {
      x.push_back(px[e]);
      y.push_back(py[e]);
      curve.push_back(0);
    }
  }
  for (std::size_t h = 0; h < d.holes.size(); ++h)
    for (int k = 0; k < per_hole; ++k) {
      const double a = 2 * M_PI * k / per_hole;
      x.push_back(d.holes[h].cx + d.holes[h].r * std::cos(a));
      y.push_back(d.holes[h].cy + d.holes[h].r * std::sin(a));
      curve.push_back(1 + static_cast<int>(h));
    }
}

Eigen::RowVectorXd LaplaceSeries::basis(double x, double y) const {
  using cplx = std::complex<double>;
  const long nh = static_cast<long>(d_.holes.size());
  Eigen::RowVectorXd b(1 + 2 * degree_ + nh * (1 + 2 * laurent_));
  const cplx z(x, y), z0(0.5 * (d_.x0 + d_.x1), 0.5 * (d_.y0 + d_.y1));
  const double rho = 0.5 * std::hypot(d_.x1 - d_.x0, d_.y1 - d_.y0);
  long c = 0;
  b[c++] = 1.0;
  cplx p = 1.0;
  const cplx s = (z - z0) / rho;
  for (int k = 1; k <= degree_; ++k) {
    p *= s;
    b[c++] = p.real();
    b[c++] = p.imag();
  }
  for (const auto& h : d_.holes) {
    const cplx ch(h.cx, h.cy), w = h.r / (z - ch);
    b[c++] = std::log(std::abs(z - ch) / h.r);
    p = 1.0;
    for (int k = 1; k <= laurent_; ++k) {
      p *= w;
      b[c++] = p.real();
      b[c++] = p.imag();
    }
  }
  return b;
}

LaplaceSeries::LaplaceSeries(const HoledRectangle& d, const std::function<double(double, double)>& outer,
                             const std::function<double(double, double)>& hole, int degree, int laurent)
    : d_(d), degree_(degree), laurent_(laurent) {
  if (degree < 1 || laurent < 1) throw Error("the Laplace series needs a degree and a Laurent degree of at least 1");
  if (!(d.x1 > d.x0 && d.y1 > d.y0)) throw Error("the Laplace series needs a non-empty rectangle");
  for (const auto& h : d.holes)
    if (!(h.r > 0) || h.cx - h.r <= d.x0 || h.cx + h.r >= d.x1 || h.cy - h.r <= d.y0 || h.cy + h.r >= d.y1)
      throw Error("a hole of the Laplace series domain is not a disk inside the rectangle");
  auto sample = [&](int scale, std::vector<double>& x, std::vector<double>& y, std::vector<double>& g) {
    std::vector<int> curve;
    boundary_points(d, 4 * degree * scale, (4 * laurent + 40) * scale, x, y, curve);
    for (std::size_t q = 0; q < x.size(); ++q) g.push_back(curve[q] == 0 ? outer(x[q], y[q]) : hole(x[q], y[q]));
  };
  std::vector<double> x, y, g;
  sample(1, x, y, g);
  const long m = static_cast<long>(x.size());
  Eigen::MatrixXd A(m, basis(0.5 * (d.x0 + d.x1), d.y0).size());
  Eigen::VectorXd rhs(m);
  for (long q = 0; q < m; ++q) {
    A.row(q) = basis(x[static_cast<std::size_t>(q)], y[static_cast<std::size_t>(q)]);
    rhs[q] = g[static_cast<std::size_t>(q)];
  }
  c_ = A.colPivHouseholderQr().solve(rhs);
  if (!c_.allFinite()) throw Error("the Laplace series fit produced non-finite coefficients");
  std::vector<double> fx, fy, fg;
  sample(4, fx, fy, fg);
  for (std::size_t q = 0; q < fx.size(); ++q) boundary_error_ = std::max(boundary_error_, std::abs((*this)(fx[q], fy[q]) - fg[q]));
}

double LaplaceSeries::operator()(double x, double y) const { return basis(x, y).dot(c_); }

}  // namespace kron::spectral
