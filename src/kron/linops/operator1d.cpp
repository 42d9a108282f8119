#include "kron/linops/operator1d.hpp"

#include <cmath>
#include <numeric>

#include "kron/core/error.hpp"

namespace kron::linops {

const char* to_string(Scheme s) {
  switch (s) {
    case Scheme::FD2: return "fd2";
    case Scheme::FD4: return "fd4";
    case Scheme::FD6: return "fd6";
    case Scheme::Compact4: return "compact4";
    case Scheme::Compact6: return "compact6";
    case Scheme::Chebyshev: return "chebyshev";
    case Scheme::Fourier: return "fourier";
  }
  return "?";
}

Scheme parse_scheme(const std::string& s) {
  for (auto k : {Scheme::FD2, Scheme::FD4, Scheme::FD6, Scheme::Compact4, Scheme::Compact6, Scheme::Chebyshev, Scheme::Fourier})
    if (s == to_string(k)) return k;
  throw Error("unknown scheme '" + s + "'", {}, "use fd2, fd4, fd6, compact4, compact6, chebyshev or fourier");
}

int scheme_order(Scheme s) {
  switch (s) {
    case Scheme::FD2: return 2;
    case Scheme::FD4: case Scheme::Compact4: return 4;
    case Scheme::FD6: case Scheme::Compact6: return 6;
    default: return 0;
  }
}

bool is_compact(Scheme s) { return s == Scheme::Compact4 || s == Scheme::Compact6; }

Banded::Banded(long n_, int kl_, int ku_, bool periodic_) : n(n_), kl(kl_), ku(ku_), periodic(periodic_) {
  diag.assign(static_cast<std::size_t>(kl + ku + 1), std::vector<double>(static_cast<std::size_t>(n), 0.0));
}

double& Banded::at(long i, long j) {
  long off = j - i;
  if (periodic) {
    if (off > ku) off -= n;
    if (off < -kl) off += n;
  }
  if (off < -kl || off > ku) throw Error("internal: banded entry outside the band");
  return diag[static_cast<std::size_t>(off + kl)][static_cast<std::size_t>(i)];
}
double Banded::at(long i, long j) const { return const_cast<Banded*>(this)->at(i, j); }

Eigen::MatrixXd Banded::dense() const {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n, n);
  for (long i = 0; i < n; ++i)
    for (int t = 0; t < width(); ++t) {
      long j = i + t - kl;
      if (periodic) j = ((j % n) + n) % n;
      else if (j < 0 || j >= n) continue;
      m(i, j) += diag[t][i];
    }
  return m;
}

bool Operator1D::banded_only() const {
  for (const Term& t : terms_) if (t.kind != Term::Kind::Banded) return false;
  return !terms_.empty();
}
int Operator1D::lower_bandwidth() const {
  int k = 0;
  for (const Term& t : terms_) if (t.kind == Term::Kind::Banded) k = std::max(k, t.b.kl);
  return k;
}
int Operator1D::upper_bandwidth() const {
  int k = 0;
  for (const Term& t : terms_) if (t.kind == Term::Kind::Banded) k = std::max(k, t.b.ku);
  return k;
}

Eigen::MatrixXd Operator1D::dense() const {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n_, n_);
  for (const Term& t : terms_) {
    Eigen::MatrixXd base;
    if (t.kind == Term::Kind::Banded) base = t.b.dense();
    else if (t.kind == Term::Kind::Compact) base = t.a.dense().partialPivLu().solve(t.b.dense());
    else base = t.d;
    if (!t.scale.empty())
      for (long i = 0; i < n_; ++i) base.row(i) *= t.scale[i];
    m += base;
  }
  return m;
}

std::size_t Operator1D::bytes() const {
  std::size_t b = 0;
  for (const Term& t : terms_) {
    b += sizeof(double) * (t.scale.size() + static_cast<std::size_t>(t.d.size()));
    b += sizeof(double) * static_cast<std::size_t>(t.b.n) * t.b.diag.size();
    b += sizeof(double) * static_cast<std::size_t>(t.a.n) * t.a.diag.size();
  }
  return b;
}

Relation taylor_relation(const std::vector<int>& lhs, int lhs_fixed, const std::vector<int>& rhs, int d) {
  std::vector<int> lfree;
  for (int j : lhs) if (j != lhs_fixed) lfree.push_back(j);
  const int U = static_cast<int>(lfree.size() + rhs.size());
  // d^d/dx^d x^m at x = j
  auto deriv_mono = [d](int m, double j) {
    if (m < d) return 0.0;
    double c = 1;
    for (int k = 0; k < d; ++k) c *= (m - k);
    return c * std::pow(j, m - d);
  };
  Eigen::MatrixXd M(U, U);
  Eigen::VectorXd r(U);
  for (int m = 0; m < U; ++m) {
    int c = 0;
    for (int j : lfree) M(m, c++) = deriv_mono(m, j);
    for (int j : rhs) M(m, c++) = -std::pow(double(j), m);
    r(m) = -deriv_mono(m, lhs_fixed);
  }
  const Eigen::VectorXd s = M.fullPivLu().solve(r);
  if (!((M * s - r).norm() <= 1e-9 * (1 + r.norm())))
    throw Error("internal: finite-difference relation has no solution for the requested stencil");
  Relation out;
  int c = 0;
  for (int j : lhs) out.alpha.push_back(j == lhs_fixed ? 1.0 : s(c++));
  for (std::size_t k = 0; k < rhs.size(); ++k) out.beta.push_back(s(c++));
  return out;
}

namespace {

std::vector<int> range(int lo, int hi) {  // lo..hi inclusive
  std::vector<int> v;
  for (int j = lo; j <= hi; ++j) v.push_back(j);
  return v;
}

// Explicit stencil of order p for the d-th derivative in index space (h = 1).
Banded explicit_index(long n, int p, int d, bool periodic) {
  const int r = p / 2;
  const int w_closure = d == 1 ? p + 1 : std::min(p, 4) + 2;
  const int reach = periodic ? r : std::max(r, w_closure - 1);
  Banded B(n, reach, reach, periodic);
  const Relation interior = taylor_relation({0}, 0, range(-r, r), d);
  for (long i = 0; i < n; ++i) {
    std::vector<int> offs = range(-r, r);
    Relation rel = interior;
    if (!periodic && i < r) {
      offs = range(-int(i), -int(i) + w_closure - 1);
      rel = taylor_relation({0}, 0, offs, d);
    } else if (!periodic && i >= n - r) {
      const int right = int(n - 1 - i);
      offs = range(right - w_closure + 1, right);
      rel = taylor_relation({0}, 0, offs, d);
    }
    for (std::size_t k = 0; k < offs.size(); ++k) B.at(i, periodic ? ((i + offs[k]) % n + n) % n : i + offs[k]) += rel.beta[k];
  }
  return B;
}

// Compact (Padé) pair A u^(d) = B u of order p in index space. Interior rows: Lele's
// tridiagonal stencils. Closures keep A tridiagonal and diagonally dominant: the boundary row is
// explicit (A row = identity) with a one-sided stencil of order p; for compact6 the next row uses
// the centred compact4 relation.
void compact_index(long n, int p, int d, bool periodic, Banded& A, Banded& B) {
  const int r = p == 4 ? 1 : 2;  // interior right-hand side reach
  const int w0 = d == 1 ? p + 1 : std::min(p, 4) + 2;  // order 4 at most: keeps the spectrum real
  const int reach = periodic ? r : std::max(r, w0 - 1);
  A = Banded(n, 1, 1, periodic);
  B = Banded(n, reach, reach, periodic);
  const Relation interior = taylor_relation({-1, 0, 1}, 0, range(-r, r), d);
  const Relation second = taylor_relation({-1, 0, 1}, 0, range(-1, 1), d);
  for (long i = 0; i < n; ++i) {
    std::vector<int> lhs{-1, 0, 1}, rhs = range(-r, r);
    Relation rel = interior;
    long dist = -1;  // distance from the nearest end when a closure applies
    if (!periodic) {
      if (i < r) dist = i;
      else if (i >= n - r) dist = n - 1 - i;
    }
    if (dist == 0) {
      lhs = {0};
      rhs = i == 0 ? range(0, w0 - 1) : range(-(w0 - 1), 0);
      rel = taylor_relation(lhs, 0, rhs, d);
    } else if (dist > 0) {
      rhs = range(-1, 1);
      rel = second;
    }
    auto col = [&](int off) { return periodic ? ((i + off) % n + n) % n : i + off; };
    for (std::size_t k = 0; k < lhs.size(); ++k) A.at(i, col(lhs[k])) += rel.alpha[k];
    for (std::size_t k = 0; k < rhs.size(); ++k) B.at(i, col(rhs[k])) += rel.beta[k];
  }
}

bool uniform_spacing(const layout::AxisGrid& g) {
  return g.kind() == layout::AxisKind::Uniform || g.kind() == layout::AxisKind::Cell ||
         g.kind() == layout::AxisKind::Periodic;
}

double spacing(const layout::AxisGrid& g) {
  if (g.periodic()) return g.length() / double(g.size());
  return g[1] - g[0];
}

Eigen::MatrixXd fourier_dense(long n, double length, int d) {
  // D_jl = (1/n) sum_k (i k)^d e^{i k (x_j - x_l)}, k symmetric; the Nyquist mode of an odd
  // derivative is dropped (its derivative is not representable on the grid).
  Eigen::MatrixXd D(n, n);
  const double two_pi = 2 * M_PI;
  for (long m = 0; m < n; ++m) {  // depends on j - l = m only
    double s = 0;
    for (long k = -(n / 2); k < n - n / 2; ++k) {
      if (n % 2 == 0 && k == -(n / 2) && d % 2 == 1) continue;
      const double kk = two_pi * double(k) / length;
      const double ph = two_pi * double(k) * double(m) / double(n);
      s += d == 1 ? -kk * std::sin(ph) : -kk * kk * std::cos(ph);  // Re[(i kk)^d e^{i ph}]
    }
    for (long j = 0; j < n; ++j) D(j, (j - m + n) % n) = s / double(n);
  }
  return D;
}

}  // namespace

Operator1D derivative(const layout::AxisGrid& grid, Scheme scheme, int d) {
  if (d != 1 && d != 2) throw Error("only first and second derivatives are provided");
  const long n = grid.size();
  const std::string name = std::string(to_string(scheme)) + (d == 1 ? " d/dx" : " d2/dx2");
  Operator1D op(n, name);
  if (scheme == Scheme::Fourier) {
    if (!grid.periodic()) throw Error("the fourier scheme needs a periodic axis", {}, "use grid.kind = \"periodic\" or another scheme");
    Term t;
    t.kind = Term::Kind::Dense;
    t.d = fourier_dense(n, grid.length(), d);
    op.add(std::move(t));
    return op;
  }
  if (scheme == Scheme::Chebyshev) {
    if (grid.periodic()) throw Error("the chebyshev scheme needs a non-periodic axis", {}, "use fourier on periodic axes");
    if (n < 3) throw Error("the chebyshev scheme needs at least 3 points along the axis");
    Term t;
    t.kind = Term::Kind::Dense;
    const Eigen::MatrixXd D1 = collocation_d1(grid.coords());
    t.d = d == 1 ? D1 : Eigen::MatrixXd(D1 * D1);
    op.add(std::move(t));
    return op;
  }
  const int p = scheme_order(scheme);
  const bool periodic = grid.periodic();
  const long need = periodic ? p + 1 : (is_compact(scheme) ? p + 2 : p + 3);
  if (n < need)
    throw Error(std::string("the ") + to_string(scheme) + " scheme needs at least " + std::to_string(need) +
                    " points along the axis, the grid has " + std::to_string(n),
                {}, "refine the grid or choose a lower-order scheme");
  auto index_op = [&](int dd) {
    Term t;
    if (is_compact(scheme)) {
      t.kind = Term::Kind::Compact;
      compact_index(n, p, dd, periodic, t.a, t.b);
    } else {
      t.kind = Term::Kind::Banded;
      t.b = explicit_index(n, p, dd, periodic);
    }
    return t;
  };
  if (uniform_spacing(grid)) {
    Term t = index_op(d);
    const double h = spacing(grid);
    const double s = 1.0 / std::pow(h, d);
    for (auto& v : t.b.diag)
      for (double& c : v) c *= s;
    op.add(std::move(t));
    return op;
  }
  // Stretched: x = x(xi) with xi the index. d/dx = (1/x') d/dxi; d2/dx2 = (1/x'^2) d2/dxi2 -
  // (x''/x'^3) d/dxi, with x' and x'' from the same scheme (exact for the scheme's polynomials).
  Operator1D o1(n, ""), o2(n, "");
  o1.add(index_op(1));
  o2.add(index_op(2));
  const Eigen::Map<const Eigen::VectorXd> x(grid.coords().data(), n);
  const Eigen::VectorXd xp = o1.dense() * x, xpp = o2.dense() * x;
  for (long i = 0; i < n; ++i)
    if (!(xp(i) > 0)) throw Error("stretched grid: the coordinate map is not increasing at point " + std::to_string(i));
  Term t1 = index_op(1);
  if (d == 1) {
    t1.scale.resize(n);
    for (long i = 0; i < n; ++i) t1.scale[i] = 1.0 / xp(i);
    op.add(std::move(t1));
  } else {
    Term t2 = index_op(2);
    t2.scale.resize(n);
    t1.scale.resize(n);
    for (long i = 0; i < n; ++i) {
      t2.scale[i] = 1.0 / (xp(i) * xp(i));
      t1.scale[i] = -xpp(i) / (xp(i) * xp(i) * xp(i));
    }
    op.add(std::move(t2));
    op.add(std::move(t1));
  }
  return op;
}

std::vector<double> barycentric_weights(const std::vector<double>& x) {
  const long n = static_cast<long>(x.size());
  std::vector<double> w(n, 1.0);
  const double scale = n > 1 ? (x.back() - x.front()) / 4.0 : 1.0;  // keeps the products in range
  for (long j = 0; j < n; ++j)
    for (long k = 0; k < n; ++k)
      if (k != j) w[j] /= (x[j] - x[k]) / scale;
  return w;
}

Eigen::MatrixXd lagrange_matrix(const std::vector<double>& x, const std::vector<double>& y) {
  const long n = static_cast<long>(x.size());
  const std::vector<double> w = barycentric_weights(x);
  Eigen::MatrixXd L(y.size(), n);
  for (std::size_t q = 0; q < y.size(); ++q) {
    long exact = -1;
    double s = 0;
    for (long j = 0; j < n; ++j) {
      if (y[q] == x[j]) exact = j;
      s += w[j] / (y[q] - x[j]);
    }
    for (long j = 0; j < n; ++j) L(q, j) = exact >= 0 ? double(j == exact) : (w[j] / (y[q] - x[j])) / s;
  }
  return L;
}

// Collocation derivative on arbitrary distinct nodes through barycentric weights.
Eigen::MatrixXd collocation_d1(const std::vector<double>& x) {
  const long n = static_cast<long>(x.size());
  const std::vector<double> w = barycentric_weights(x);
  Eigen::MatrixXd D = Eigen::MatrixXd::Zero(n, n);
  for (long i = 0; i < n; ++i) {
    double s = 0;
    for (long j = 0; j < n; ++j) {
      if (j == i) continue;
      D(i, j) = (w[j] / w[i]) / (x[i] - x[j]);
      s += D(i, j);
    }
    D(i, i) = -s;  // rows annihilate constants exactly
  }
  return D;
}

Operator1D dense_operator(const Eigen::MatrixXd& m, const char* name) {
  Operator1D op(m.rows(), name);
  Term t;
  t.kind = Term::Kind::Dense;
  t.d = m;
  op.add(std::move(t));
  return op;
}

Banded banded_from_dense(const Eigen::MatrixXd& m, bool periodic, int bw) {
  const long n = m.rows();
  Banded b(n, bw, bw, periodic);
  for (long i = 0; i < n; ++i)
    for (int d = -bw; d <= bw; ++d) {
      long j = i + d;
      if (periodic) j = (j % n + n) % n;
      else if (j < 0 || j >= n) continue;
      b.at(i, j) = m(i, j);
    }
  return b;
}

Operator1D matrix_operator(const Eigen::MatrixXd& m, bool periodic, const char* name) {
  const long n = m.rows();
  int bw = 0;
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < n; ++j) {
      if (m(i, j) == 0.0) continue;
      long d = std::abs(i - j);
      if (periodic) d = std::min(d, n - d);
      bw = std::max(bw, int(d));
    }
  if (2 * bw + 1 >= n) return dense_operator(m, name);
  Operator1D op(n, name);
  Term t;
  t.b = banded_from_dense(m, periodic, bw);
  op.add(std::move(t));
  return op;
}

Operator1D affine(double alpha, const Operator1D& op, double beta, const char* name) {
  const long n = op.size();
  Operator1D out(n, name);
  bool periodic = false;
  for (Term t : op.terms()) {
    if (t.scale.empty()) t.scale.assign(static_cast<std::size_t>(n), beta);
    else
      for (double& s : t.scale) s *= beta;
    periodic = periodic || t.b.periodic;
    out.add(std::move(t));
  }
  if (alpha != 0.0) {
    Term id;
    id.b = Banded(n, 0, 0, periodic);
    for (long i = 0; i < n; ++i) id.b.at(i, i) = alpha;
    out.add(std::move(id));
  }
  return out;
}

}  // namespace kron::linops
