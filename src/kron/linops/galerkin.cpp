#include "kron/linops/galerkin.hpp"

#include <cmath>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {


namespace {
// Legendre polynomials P_p(x) and P_{p-1}(x) by the three-term recurrence (p >= 1).
void legendre(int p, double x, double& pp, double& pm) {
  double P0 = 1, P1 = x;
  for (int k = 2; k <= p; ++k) {
    const double P2 = ((2 * k - 1) * x * P1 - (k - 1) * P0) / k;
    P0 = P1;
    P1 = P2;
  }
  pp = P1;
  pm = P0;
}
}  // namespace

void gauss_rule(int q, std::vector<double>& x, std::vector<double>& w) {
  // Golub-Welsch: nodes are the eigenvalues of the Jacobi matrix of the Legendre recurrence.
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(q, q);
  for (int k = 1; k < q; ++k) J(k, k - 1) = J(k - 1, k) = k / std::sqrt(4.0 * k * k - 1.0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(J);
  x.resize(q);
  w.resize(q);
  for (int k = 0; k < q; ++k) {
    x[k] = es.eigenvalues()(k);
    w[k] = 2.0 * es.eigenvectors()(0, k) * es.eigenvectors()(0, k);
  }
}

void gll_rule(int p, std::vector<double>& x, std::vector<double>& w) {
  if (p < 1) throw Error("Gauss-Lobatto-Legendre rules need degree p >= 1");
  const int n = p + 1;
  x.resize(n);
  w.resize(n);
  // Newton on (1 - x^2) P_p'(x) = 0 from the Chebyshev-Gauss-Lobatto points.
  for (int j = 0; j < n; ++j) x[j] = -std::cos(M_PI * j / p);
  for (int it = 0; it < 100; ++it) {
    double change = 0;
    for (int j = 1; j < p; ++j) {
      double P1, P0;
      legendre(p, x[j], P1, P0);
      // P1 = P_p, P0 = P_{p-1}: x - (x P_p - P_{p-1}) / (p P_p) is Newton on (1-x^2)P_p'.
      const double dx = (x[j] * P1 - P0) / (n * P1);
      x[j] -= dx;
      change = std::max(change, std::abs(dx));
    }
    if (change < 1e-16) break;
  }
  for (int j = 0; j < n; ++j) {
    double P1, P0;
    legendre(p, x[j], P1, P0);
    w[j] = 2.0 / (p * (p + 1) * P1 * P1);
  }
}

GalerkinSpace1D gll_elements(long elements, int p, double a, double b, bool periodic) {
  if (elements < 1 || p < 1) throw Error("Lagrange elements need at least one element and degree >= 1");
  if (periodic && elements * p < 3) throw Error("periodic Lagrange elements need at least 3 nodes");
  std::vector<double> xr, wr, xg, wg;
  gll_rule(p, xr, wr);
  gauss_rule(p + 1, xg, wg);
  const Eigen::MatrixXd Dr = collocation_d1(xr);     // l_j'(xi_i) on the reference element
  const Eigen::MatrixXd Lg = lagrange_matrix(xr, xg);    // l_j(gauss_q)
  const double h = (b - a) / double(elements);
  Eigen::MatrixXd Me = Eigen::MatrixXd::Zero(p + 1, p + 1), Ke = Me;
  for (int i = 0; i <= p; ++i)
    for (int j = 0; j <= p; ++j) {
      double m = 0, k = 0;
      for (int q = 0; q <= p; ++q) m += wg[q] * Lg(q, i) * Lg(q, j);
      for (int q = 0; q <= p; ++q) k += wr[q] * Dr(q, i) * Dr(q, j);  // degree 2p - 2: GLL exact
      Me(i, j) = 0.5 * h * m;
      Ke(i, j) = (2.0 / h) * k;
    }
  GalerkinSpace1D s;
  s.name = "gll-p" + std::to_string(p);
  s.degree = p;
  s.periodic = periodic;
  s.ndof = elements * p + (periodic ? 0 : 1);
  s.mass = Eigen::MatrixXd::Zero(s.ndof, s.ndof);
  s.stiffness = s.mass;
  for (long e = 0; e < elements; ++e)
    for (int i = 0; i <= p; ++i)
      for (int j = 0; j <= p; ++j) {
        const long gi = (e * p + i) % s.ndof, gj = (e * p + j) % s.ndof;
        s.mass(gi, gj) += Me(i, j);
        s.stiffness(gi, gj) += Ke(i, j);
      }
  s.points.resize(s.ndof);
  for (long e = 0; e < elements; ++e)
    for (int i = 0; i <= p; ++i) {
      const long g = e * p + i;
      if (g < s.ndof) s.points[g] = a + h * (e + 0.5 * (xr[i] + 1.0));
    }
  s.collocation = Eigen::MatrixXd::Identity(s.ndof, s.ndof);
  return s;
}

double cardinal_bspline(int k, double t) {
  if (k == 1) return (t >= 0 && t < 1) ? 1.0 : 0.0;
  if (t <= 0 || t >= k) return 0.0;
  return (t * cardinal_bspline(k - 1, t) + (k - t) * cardinal_bspline(k - 1, t - 1)) / (k - 1);
}

double cardinal_bspline_d2(int k, double t) {
  if (k < 3) throw Error("the second derivative of a B-spline needs order >= 3");
  return cardinal_bspline(k - 2, t) - 2 * cardinal_bspline(k - 2, t - 1) + cardinal_bspline(k - 2, t - 2);
}

GalerkinSpace1D bspline_periodic(long n, int p, double a, double b) {
  if (p < 1) throw Error("B-splines need degree >= 1");
  if (n < 2 * p + 2) throw Error("periodic B-splines of degree " + std::to_string(p) + " need at least " + std::to_string(2 * p + 2) + " knot spans");
  const int m = p + 1;  // order
  const double h = (b - a) / double(n);
  GalerkinSpace1D s;
  s.name = "bspline-p" + std::to_string(p);
  s.degree = p;
  s.periodic = true;
  s.ndof = n;
  s.mass = Eigen::MatrixXd::Zero(n, n);
  s.stiffness = s.mass;
  s.collocation = s.mass;
  for (long i = 0; i < n; ++i)
    for (int d = -p; d <= p; ++d) {
      const long j = ((i + d) % n + n) % n;
      s.mass(i, j) += h * cardinal_bspline(2 * m, m + d);
      s.stiffness(i, j) += -(1.0 / h) * cardinal_bspline_d2(2 * m, m + d);
    }
  // phi_j(x) = N_m((x - a)/h - j); Greville point of phi_i: a + h (i + m/2).
  s.points.resize(n);
  for (long i = 0; i < n; ++i) s.points[i] = a + h * (double(i) + 0.5 * m);
  for (long i = 0; i < n; ++i)
    for (int d = -m; d <= m; ++d) {
      const long j = ((i + d) % n + n) % n;
      s.collocation(i, j) += cardinal_bspline(m, 0.5 * m - d);
    }
  return s;
}

GalerkinPoisson::GalerkinPoisson(layout::ProcessGridPtr grid, std::array<GalerkinSpace1D, 3> spaces, double shift, core::MemorySpace space)
    : grid_(std::move(grid)), sp_(std::move(spaces)), shift_(shift), ws_(grid_, layout::TransposeMethod::Alltoallv, space) {
  std::array<std::shared_ptr<const LineOp<double>>, 3> V, M, K;
  std::array<FastDiagonalization::Axis, 3> fa;
  for (int a = 0; a < 3; ++a) {
    const GalerkinSpace1D& s = sp_[a];
    n_[a] = s.ndof;
    M[a] = std::make_shared<LineOp<double>>(LineOp<double>::real(matrix_operator(s.mass, s.periodic, "mass")));
    K[a] = std::make_shared<LineOp<double>>(LineOp<double>::real(matrix_operator(s.stiffness, s.periodic, "stiffness")));
    // Dirichlet: boundary dofs leave the eigenproblem (unit rows in M and K keep it regular;
    // their eigenvectors are the unit vectors, which the solve never excites).
    Eigen::MatrixXd Mi = s.mass, Ki = s.stiffness;
    if (!s.periodic) {
      // The boundary modes get an eigenvalue above every interior one (twice the trace of
      // M_II^{-1} K_II), so that no interior eigenvalue is degenerate with them.
      const long m = s.ndof - 2;
      const double big = m > 0 ? 2.0 * std::abs(s.mass.block(1, 1, m, m).ldlt().solve(s.stiffness.block(1, 1, m, m)).trace()) + 1.0 : 1.0;
      for (long b : {0L, s.ndof - 1}) {
        Mi.row(b).setZero();
        Mi.col(b).setZero();
        Ki.row(b).setZero();
        Ki.col(b).setZero();
        Mi(b, b) = 1.0;
        Ki(b, b) = big;
      }
    }
    Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> ges(Ki, Mi);
    if (ges.info() != Eigen::Success) throw Error("the generalized eigenproblem K v = lambda M v failed (is M positive definite?)");
    fa[a].lambda.assign(ges.eigenvalues().data(), ges.eigenvalues().data() + s.ndof);
    const Eigen::MatrixXd& Ve = ges.eigenvectors();  // normalised so that V^T M V = I
    std::vector<double> v(static_cast<std::size_t>(s.ndof * s.ndof));
    for (long i = 0; i < s.ndof; ++i)
      for (long j = 0; j < s.ndof; ++j) v[i * s.ndof + j] = Ve(i, j);
    V[a] = std::make_shared<LineOp<double>>(LineOp<double>::dense(s.ndof, s.ndof, std::move(v)));
    fa[a].fwd = fa[a].bwd = V[a];
    fa[a].fwd_trans = Trans::T;
  }
  for (int a = 0; a < 3; ++a) dirichlet_[a] = n_[a] > 1 && !sp_[a].periodic;
  auto product = [&](const std::array<std::shared_ptr<const LineOp<double>>, 3>& ops) {
    std::vector<TensorOp<double>::Stage> st;
    for (int a = 0; a < 3; ++a) st.push_back({a, ops[a], Trans::N});
    return TensorOp<double>(grid_, n_, 1, st);
  };
  fd_ = std::make_unique<FastDiagonalization>(grid_, n_, std::move(fa), FastDiagonalization::Combine::Sum, shift_, false,
                                              "Galerkin operator");
  mmm_ = product(M);
  for (int a = 0; a < 3; ++a) {
    auto ops = M;
    ops[a] = K[a];
    kmm_[a] = product(ops);
  }
}

std::size_t GalerkinPoisson::operator_bytes() const {
  std::size_t b = fd_->bytes();
  for (const auto& sp : sp_) b += sizeof(double) * static_cast<std::size_t>(sp.mass.size() + sp.stiffness.size());
  return b;
}

std::string GalerkinPoisson::describe() const {
  return sp_[0].name + " x " + sp_[1].name + " x " + sp_[2].name + "; solve " + fd_->describe();
}

void GalerkinPoisson::diagonal(layout::RealField& out) const {
  const layout::Pencil px(n_, grid_, 0);
  if (out.pencil() != px || out.has_halo()) throw Error("GalerkinPoisson::diagonal: the field must be an x-pencil of the dofs without halos");
  layout::ops::fill_global(out, [&](const std::array<long, 3>& g, int) {
    double m[3], k[3];
    for (int a = 0; a < 3; ++a) {
      m[a] = sp_[a].mass(g[a], g[a]);
      k[a] = sp_[a].stiffness(g[a], g[a]);
    }
    return k[0] * m[1] * m[2] + m[0] * k[1] * m[2] + m[0] * m[1] * k[2] + shift_ * m[0] * m[1] * m[2];
  });
}

void GalerkinPoisson::mass(const layout::RealField& in, layout::RealField& out) { mmm_.apply(in, out, ws_); }

void GalerkinPoisson::apply(const layout::RealField& in, layout::RealField& out) {
  mmm_.apply(in, out, ws_);
  layout::ops::scale(shift_, out);
  for (int a = 0; a < 3; ++a) kmm_[a].apply(in, out, ws_, true);
}

void GalerkinPoisson::solve(const layout::RealField& load, const layout::RealField& lift, layout::RealField& u) {
  namespace ops = layout::ops;
  core::ScopedTimer timer("galerkin.solve");
  if (load.components() != 1 || lift.components() != 1 || u.components() != 1)
    throw Error("GalerkinPoisson::solve: one component per solve (got " + std::to_string(load.components()) + ", " +
                    std::to_string(lift.components()) + " and " + std::to_string(u.components()) + ")",
                {}, "solve each component's own field");
  // r = load - A u_lift on interior dofs, 0 on boundary dofs (u_lift: the lift's boundary dofs).
  layout::RealField& ul = ws_.field<double>(0, n_, 1, 10);
  layout::RealField& r = ws_.field<double>(0, n_, 1, 11);
  ul.fill(0.0);
  ops::copy_faces(lift, ul, dirichlet_);
  apply(ul, r);
  ops::axpby(1.0, load, -1.0, r);  // r = load - A u_lift
  ops::fill_faces(r, dirichlet_, 0.0);
  ops::copy(fd_->solve(r, ws_), u);
  ops::copy_faces(lift, u, dirichlet_);
  if (!ops::all_finite(u)) throw Error("the Galerkin solve produced non-finite values", {}, "check the load and the boundary data");
}

}  // namespace kron::linops
