#include "kron/spectral/barycentric.hpp"

#include <cmath>
#include <complex>
#include <string>

#include "kron/core/error.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::spectral {

namespace {

void check_nodes(const layout::AxisGrid& nodes, const char* what) {
  if (nodes.size() < 2)
    throw Error(std::string(what) + ": an axis of " + std::to_string(nodes.size()) + " node(s); spectral operators need at least 2");
}

// A point on a periodic axis as an angle in [0, 2 pi) from the first node's side of the period.
double angle(const layout::AxisGrid& g, double x) { return 2 * M_PI * (x - g.lower()) / g.length(); }

}  // namespace

std::vector<double> weights(const layout::AxisGrid& nodes) {
  check_nodes(nodes, "barycentric weights");
  const long n = nodes.size();
  if (nodes.kind() == layout::AxisKind::Chebyshev || nodes.kind() == layout::AxisKind::Mapped || nodes.periodic()) {
    std::vector<double> w(static_cast<std::size_t>(n));
    for (long j = 0; j < n; ++j) w[static_cast<std::size_t>(j)] = (j % 2 == 0) ? 1.0 : -1.0;
    if (!nodes.periodic()) {
      w.front() *= 0.5;
      w.back() *= 0.5;
    }
    return w;
  }
  return linops::barycentric_weights(nodes.coords());
}

Eigen::MatrixXd interpolation_matrix(const layout::AxisGrid& nodes, const std::vector<double>& points) {
  check_nodes(nodes, "interpolation");
  const long n = nodes.size();
  const std::vector<double> w = weights(nodes);
  const std::vector<double>& x = nodes.coords();
  Eigen::MatrixXd L(static_cast<long>(points.size()), n);
  const bool periodic = nodes.periodic();
  const double lo = nodes.lower(), hi = nodes.upper(), tol = 1e-12 * (hi - lo);
  for (std::size_t q = 0; q < points.size(); ++q) {
    const double y = points[q];
    if (!std::isfinite(y) || (!periodic && (y < lo - tol || y > hi + tol)))
      throw Error("interpolation: point " + std::to_string(y) + " lies outside the axis [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
    long exact = -1;
    double ty = 0;
    if (periodic) {
      ty = angle(nodes, y) == 2 * M_PI ? 0.0 : std::fmod(angle(nodes, y), 2 * M_PI);
      if (ty < 0) ty += 2 * M_PI;
    }
    Eigen::VectorXd c(n);
    for (long j = 0; j < n; ++j) {
      double t;
      if (periodic) {
        // Half the angular distance, the point's angle taken in [0, 2 pi) once for every term
        // (the csc form of an odd count changes sign with a whole period: all terms alike).
        const double h = 0.5 * (ty - angle(nodes, x[static_cast<std::size_t>(j)]));
        if (h == 0) exact = j;
        t = n % 2 == 0 ? 1.0 / std::tan(h) : 1.0 / std::sin(h);
      } else {
        const double d = y - x[static_cast<std::size_t>(j)];
        if (d == 0) exact = j;
        t = 1.0 / d;
      }
      c[j] = w[static_cast<std::size_t>(j)] * t;
    }
    if (exact >= 0) {
      L.row(static_cast<long>(q)).setZero();
      L(static_cast<long>(q), exact) = 1.0;
    } else {
      L.row(static_cast<long>(q)) = c.transpose() / c.sum();
    }
  }
  return L;
}

Eigen::MatrixXd differentiation_matrix(const layout::AxisGrid& nodes, int d) {
  check_nodes(nodes, "differentiation");
  if (d < 1) throw Error("differentiation: the order must be at least 1, got " + std::to_string(d));
  const long n = nodes.size();
  if (nodes.periodic()) {
    // Circulant: column 0 is the d-th spectral derivative of the unit vector e_0, by the DFT.
    const double s = 2 * M_PI / nodes.length();
    Eigen::VectorXd col(n);
    for (long i = 0; i < n; ++i) {
      std::complex<double> sum = 0;
      for (long k = 0; k < n; ++k) {
        long m = k <= n / 2 ? k : k - n;  // signed frequency
        if (n % 2 == 0 && k == n / 2 && d % 2 == 1) continue;  // odd derivatives drop the Nyquist mode
        const std::complex<double> ik(0.0, s * double(m));
        sum += std::pow(ik, d) * std::polar(1.0, 2 * M_PI * double(k * i % n) / double(n));
      }
      col[i] = sum.real() / double(n);
    }
    Eigen::MatrixXd D(n, n);
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < n; ++j) D(i, j) = col[((i - j) % n + n) % n];
    return D;
  }
  const std::vector<double> w = weights(nodes);
  const std::vector<double>& x = nodes.coords();
  Eigen::MatrixXd D = Eigen::MatrixXd::Identity(n, n), P;
  for (int k = 1; k <= d; ++k) {
    P = D;
    for (long i = 0; i < n; ++i) {
      double sum = 0;
      for (long j = 0; j < n; ++j) {
        if (j == i) continue;
        D(i, j) = double(k) / (x[i] - x[j]) * (w[j] / w[i] * P(i, i) - P(i, j));
        sum += D(i, j);
      }
      D(i, i) = -sum;  // rows annihilate constants
    }
  }
  return D;
}

std::shared_ptr<const linops::LineOp<double>> interpolation_op(const layout::AxisGrid& nodes, const std::vector<double>& points) {
  return linops::dense_op(interpolation_matrix(nodes, points));
}

std::shared_ptr<const linops::LineOp<double>> derivative_op(const layout::AxisGrid& nodes, int d) {
  return linops::dense_op(differentiation_matrix(nodes, d));
}

}  // namespace kron::spectral
