#include "kron/spectral/fit.hpp"

#include <cmath>
#include <complex>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/dense_lsq.hpp"

namespace kron::spectral {

namespace {

using cplx = std::complex<double>;

// d-th t-derivative matrix (identity for d = 0).
Eigen::MatrixXd time_derivative(const layout::AxisGrid& t, int d) {
  if (d == 0) return Eigen::MatrixXd::Identity(t.size(), t.size());
  return differentiation_matrix(t, d);
}

// Collocation points of an axis: the given ones, or the nodes.
const std::vector<double>& collocation(const std::vector<double>& given, const layout::AxisGrid& nodes) {
  return given.empty() ? nodes.coords() : given;
}

void check(const SpaceTimeProblem& p) {
  const long nt = p.t.size(), nx = p.x.size();
  if (p.t.periodic()) throw Error("a space-time fit needs a bounded t axis (e.g. Chebyshev nodes)");
  if (nt < 2 || nx < 2) throw Error("a space-time fit needs at least 2 nodes per axis");
  if (p.x.periodic() && (!p.t_collocation.empty() || !p.x_collocation.empty() || !p.boundary.empty()))
    throw Error("a periodic x axis takes collocation at the nodes and no boundary data");
  if (p.terms.empty()) throw Error("a space-time fit needs at least one PDE term");
  for (const auto& term : p.terms)
    if (term.dt < 0 || term.dx < 0 || !std::isfinite(term.coef)) throw Error("a PDE term has a negative derivative order or a non-finite coefficient");
  const long nct = static_cast<long>(collocation(p.t_collocation, p.t).size()), ncx = static_cast<long>(collocation(p.x_collocation, p.x).size());
  if (!p.source.empty() && static_cast<long>(p.source.size()) != nct * ncx)
    throw Error("the source has " + std::to_string(p.source.size()) + " values for " + std::to_string(nct * ncx) + " nodes");
  for (const auto& in : p.initial) {
    if (static_cast<long>(in.values.size()) != ncx)
      throw Error("an initial condition has " + std::to_string(in.values.size()) + " values for " + std::to_string(ncx) + " x nodes");
    if (!(in.weight > 0) || in.dt < 0) throw Error("an initial condition needs a positive weight and a derivative order >= 0");
  }
  for (const auto& bd : p.boundary) {
    if (static_cast<long>(bd.values.size()) != nct)
      throw Error("a boundary condition has " + std::to_string(bd.values.size()) + " values for " + std::to_string(nct) + " t points");
    if (!(bd.weight > 0) || (bd.side != 0 && bd.side != 1)) throw Error("a boundary condition needs a positive weight and side 0 or 1");
  }
  for (double v : p.source)
    if (!std::isfinite(v)) throw Error("the source holds non-finite values");
  if (p.reaction.size() > 4) throw Error("a reaction term of degree above 3");
  for (double v : p.reaction)
    if (!std::isfinite(v)) throw Error("a reaction coefficient is not finite");
}

bool nonlinear(const SpaceTimeProblem& p) {
  for (std::size_t k = 2; k < p.reaction.size(); ++k)
    if (p.reaction[k] != 0.0) return true;
  return false;
}

// The linear problem with the reaction's constant and linear parts moved into the source and
// the terms.
SpaceTimeProblem linear_form(const SpaceTimeProblem& p) {
  SpaceTimeProblem q = p;
  q.reaction.clear();
  if (p.reaction.size() > 1 && p.reaction[1] != 0.0) q.terms.push_back({p.reaction[1], 0, 0});
  if (!p.reaction.empty() && p.reaction[0] != 0.0) {
    if (q.source.empty()) q.source.assign(static_cast<std::size_t>(p.t.size() * p.x.size()), 0.0);
    for (double& v : q.source) v -= p.reaction[0];
  }
  return q;
}

double poly(const std::vector<double>& a, double u) {
  double v = 0;
  for (std::size_t k = a.size(); k-- > 0;) v = v * u + a[k];
  return v;
}
double dpoly(const std::vector<double>& a, double u) {
  double v = 0;
  for (std::size_t k = a.size(); k-- > 1;) v = v * u + double(k) * a[k];
  return v;
}

}  // namespace

namespace {

void set_parts(const SpaceTimeLoss::Parts& parts, FitResult& r) {
  r.loss = parts.loss;
  r.residual_rms = parts.residual_rms;
  r.initial_rms = parts.initial_rms;
}

std::vector<Eigen::RowVectorXd> initial_rows(const SpaceTimeProblem& p) {
  const Eigen::MatrixXd at_t0 = interpolation_matrix(p.t, {p.t.lower()});
  std::vector<Eigen::RowVectorXd> rows;
  for (const auto& in : p.initial) rows.push_back(at_t0 * time_derivative(p.t, in.dt));
  return rows;
}

FitResult fit_linear(const SpaceTimeProblem& p) {
  const long nt = p.t.size(), nx = p.x.size(), ni = static_cast<long>(p.initial.size());
  // The t-operators of the terms and the rows that evaluate the initial derivatives at t0.
  std::vector<Eigen::MatrixXd> Dt;
  for (const auto& term : p.terms) Dt.push_back(time_derivative(p.t, term.dt));
  const std::vector<Eigen::RowVectorXd> init_rows = initial_rows(p);

  // DFT along x (F_jk = e^{-2 pi i jk/n}, angles reduced mod n for accuracy) of the source and
  // initial data, for modes k = 0 .. n/2.
  const long nk = nx / 2 + 1;
  Eigen::MatrixXcd F(nx, nk);
  for (long j = 0; j < nx; ++j)
    for (long k = 0; k < nk; ++k) F(j, k) = std::polar(1.0, -2 * M_PI * double((j * k) % nx) / double(nx));
  Eigen::MatrixXcd fhat = Eigen::MatrixXcd::Zero(nt, nk);
  if (!p.source.empty()) {
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> f(p.source.data(), nt, nx);
    fhat = f.cast<cplx>() * F;
  }
  Eigen::MatrixXcd ghat(ni, nk);
  for (long q = 0; q < ni; ++q)
    ghat.row(q) = Eigen::Map<const Eigen::RowVectorXd>(p.initial[static_cast<std::size_t>(q)].values.data(), nx).cast<cplx>() * F;

  // One least-squares problem per mode: rows sqrt(1/nt) A_k (the mean over t of the residual;
  // the mean over x is Parseval's common factor) and sqrt(w) b (the initial terms).
  FitResult r;
  Eigen::MatrixXcd uhat(nt, nk);
  const double kappa0 = 2 * M_PI / p.x.length(), rt = std::sqrt(1.0 / double(nt));
  const int rank = core::mpi::rank(p.comm), ranks = core::mpi::size(p.comm);
  uhat.setZero();
  for (long k = 0; k < nk; ++k) {
    if (k % ranks != rank) continue;  // another rank's mode
    const bool nyquist = nx % 2 == 0 && 2 * k == nx;
    Eigen::MatrixXcd M = Eigen::MatrixXcd::Zero(nt + ni, nt);
    Eigen::VectorXcd b(nt + ni);
    for (std::size_t j = 0; j < p.terms.size(); ++j) {
      const int q = p.terms[j].dx;
      const cplx lam = (nyquist && q % 2 == 1) ? cplx(0) : std::pow(cplx(0, kappa0 * double(k)), q);
      M.topRows(nt) += (rt * p.terms[j].coef) * lam * Dt[j].cast<cplx>();
    }
    b.head(nt) = rt * fhat.col(k);
    for (long q = 0; q < ni; ++q) {
      const double sw = std::sqrt(p.initial[static_cast<std::size_t>(q)].weight);
      M.row(nt + q) = sw * init_rows[static_cast<std::size_t>(q)].cast<cplx>();
      b(nt + q) = sw * ghat(q, k);
    }
    Eigen::BDCSVD<Eigen::MatrixXcd> svd(M, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const auto& s = svd.singularValues();
    r.condition = std::max(r.condition, s(s.size() - 1) > 0 ? s(0) / s(s.size() - 1) : INFINITY);
    uhat.col(k) = svd.solve(b);
  }
  // Each mode solved on one rank, zero on the others: the sum is exact.
  if (ranks > 1) {
    core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, uhat.data(), static_cast<int>(2 * uhat.size()), MPI_DOUBLE, MPI_SUM, p.comm), "MPI_Allreduce (modes)");
    r.condition = core::mpi::max(r.condition, p.comm);
  }
  r.modes = nk;
  // Back to nodal values: u(t, x_j) = (1/n) sum_k uhat_k e^{2 pi i jk/n}, modes above n/2 the
  // conjugates of those below.
  r.u.resize(nt, nx);
  for (long j = 0; j < nx; ++j) {
    Eigen::VectorXd col = Eigen::VectorXd::Zero(nt);
    for (long k = 0; k < nk; ++k) {
      const double m = (k == 0 || (nx % 2 == 0 && 2 * k == nx)) ? 1.0 : 2.0;
      col += m * (uhat.col(k) * std::conj(F(j, k))).real();
    }
    r.u.col(j) = col / double(nx);
  }
  r.method = "Fourier modes in x (" + std::to_string(r.modes) + " dense least-squares problems of " + std::to_string(nt + ni) + " x " +
             std::to_string(nt) + ", SVD)";
  if (!r.u.allFinite()) throw Error("the space-time fit produced non-finite values", {}, "check the PDE terms and the data");
  return r;
}

// Gauss-Newton for a reaction of degree 2 or 3 and no x-derivatives: every x node is an ODE in t,
// each step one dense least-squares problem per node.
FitResult fit_gauss_newton(const SpaceTimeProblem& p) {
  for (const auto& term : p.terms)
    if (term.dx > 0)
      throw Error("a nonlinear space-time fit with x-derivatives is not built yet", {},
                  "the Gauss-Newton path solves PDEs without x-derivatives, an ODE at every x node, such as BWLer's reaction case");
  const long nt = p.t.size(), nx = p.x.size(), ni = static_cast<long>(p.initial.size());
  std::vector<Eigen::MatrixXd> Dt;
  for (const auto& term : p.terms) Dt.push_back(time_derivative(p.t, term.dt));
  const std::vector<Eigen::RowVectorXd> init_rows = initial_rows(p);
  const SpaceTimeLoss loss(p);
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(nt, nt);
  for (std::size_t j = 0; j < p.terms.size(); ++j) L += p.terms[j].coef * Dt[j];
  FitResult r;
  r.u.resize(nt, nx);
  for (long j = 0; j < nx; ++j) r.u.col(j).setConstant(p.initial.empty() ? 0.0 : p.initial[0].values[static_cast<std::size_t>(j)]);
  const double rt = std::sqrt(1.0 / double(nt));
  r.iterations = 0;
  for (int it = 0; it < 50; ++it) {
    const Eigen::MatrixXd R = loss.residual(r.u);
    double step = 0, size = 0;
    r.condition = 0;
    const int rank = core::mpi::rank(p.comm), ranks = core::mpi::size(p.comm);
    Eigen::MatrixXd delta = Eigen::MatrixXd::Zero(nt, nx);
    for (long j = 0; j < nx; ++j) {
      if (j % ranks != rank) continue;  // another rank's node
      Eigen::MatrixXd M(nt + ni, nt);
      Eigen::VectorXd b(nt + ni);
      M.topRows(nt) = rt * L;
      for (long i = 0; i < nt; ++i) M(i, i) += rt * dpoly(p.reaction, r.u(i, j));
      b.head(nt) = -rt * R.col(j);
      for (long q = 0; q < ni; ++q) {
        const double sw = std::sqrt(p.initial[static_cast<std::size_t>(q)].weight);
        M.row(nt + q) = sw * init_rows[static_cast<std::size_t>(q)];
        b(nt + q) = -sw * (init_rows[static_cast<std::size_t>(q)].dot(r.u.col(j)) - p.initial[static_cast<std::size_t>(q)].values[static_cast<std::size_t>(j)]);
      }
      Eigen::BDCSVD<Eigen::MatrixXd> svd(M, Eigen::ComputeThinU | Eigen::ComputeThinV);
      const auto& s = svd.singularValues();
      r.condition = std::max(r.condition, s(s.size() - 1) > 0 ? s(0) / s(s.size() - 1) : INFINITY);
      delta.col(j) = svd.solve(b);
    }
    // Each node's step from one rank, zero from the others: the sum is exact.
    if (ranks > 1) {
      core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, delta.data(), static_cast<int>(delta.size()), MPI_DOUBLE, MPI_SUM, p.comm),
                       "MPI_Allreduce (Gauss-Newton steps)");
      r.condition = core::mpi::max(r.condition, p.comm);
    }
    r.u += delta;
    step = delta.cwiseAbs().maxCoeff();
    size = r.u.cwiseAbs().maxCoeff();
    ++r.iterations;
    if (!r.u.allFinite()) throw Error("the Gauss-Newton fit diverged (non-finite values at step " + std::to_string(r.iterations) + ")");
    if (step <= 1e-13 * std::max(size, 1.0)) break;
    if (it == 49)
      throw Error("the Gauss-Newton fit did not converge in 50 steps (last step " + std::to_string(step) + ")", {},
                  "more nodes in t, or a shorter time interval");
  }
  set_parts(loss.evaluate(r.u), r);
  r.modes = nx;
  r.method = "Gauss-Newton, " + std::to_string(r.iterations) + " steps of " + std::to_string(nx) + " dense least-squares problems of " +
             std::to_string(nt + ni) + " x " + std::to_string(nt) + " (one per x node, SVD)";
  return r;
}

// B (x) A as a dense matrix (vec(A U B^T) = (B (x) A) vec(U), U column-major).
Eigen::MatrixXd kron(const Eigen::MatrixXd& B, const Eigen::MatrixXd& A) {
  Eigen::MatrixXd K(B.rows() * A.rows(), B.cols() * A.cols());
  for (long i = 0; i < B.rows(); ++i)
    for (long j = 0; j < B.cols(); ++j) K.block(i * A.rows(), j * A.cols(), A.rows(), A.cols()) = B(i, j) * A;
  return K;
}

// Linear problems on a bounded x axis: one dense least-squares problem. The PDE rows (It Dt^p)
// U (Ix Dx^q)^T at the collocation points become, after the orthogonal (Qx (x) Qt)^T of the thin
// QR factors It = Qt Rt, Ix = Qx Rx, the nt nx rows of sum_j c_j (Rx Dx^q (x) Rt Dt^p).
FitResult fit_bounded(const SpaceTimeProblem& p) {
  const long nt = p.t.size(), nx = p.x.size(), ni = static_cast<long>(p.initial.size()), nb = static_cast<long>(p.boundary.size());
  const std::vector<double>& tc = collocation(p.t_collocation, p.t);
  const std::vector<double>& xc = collocation(p.x_collocation, p.x);
  const long nct = static_cast<long>(tc.size()), ncx = static_cast<long>(xc.size());
  if (nct < nt || ncx < nx) throw Error("a bounded space-time fit needs at least as many collocation points as nodes per axis");
  const Eigen::MatrixXd It = interpolation_matrix(p.t, tc), Ix = interpolation_matrix(p.x, xc);
  Eigen::HouseholderQR<Eigen::MatrixXd> qt(It), qx(Ix);
  const Eigen::MatrixXd Rt = qt.matrixQR().topRows(nt).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd Rx = qx.matrixQR().topRows(nx).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd Qt = qt.householderQ() * Eigen::MatrixXd::Identity(nct, nt), Qx = qx.householderQ() * Eigen::MatrixXd::Identity(ncx, nx);
  const double sp = 1.0 / std::sqrt(double(nct * ncx));
  const long rows = nt * nx + ni * ncx + nb * nct;
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(rows, nt * nx);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(rows);
  for (const auto& term : p.terms) {
    const Eigen::MatrixXd Dx = term.dx == 0 ? Eigen::MatrixXd::Identity(nx, nx) : differentiation_matrix(p.x, term.dx);
    M.topRows(nt * nx) += (sp * term.coef) * kron(Rx * Dx, Rt * time_derivative(p.t, term.dt));
  }
  if (!p.source.empty()) {
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> f(p.source.data(), nct, ncx);
    const Eigen::MatrixXd fr = Qt.transpose() * f * Qx;
    b.head(nt * nx) = sp * Eigen::Map<const Eigen::VectorXd>(fr.data(), nt * nx);
  }
  if (!p.reaction.empty() && p.reaction.size() > 1) M.topRows(nt * nx) += (sp * p.reaction[1]) * kron(Rx, Rt);
  long r0 = nt * nx;
  const std::vector<Eigen::RowVectorXd> init_rows = initial_rows(p);
  for (long q = 0; q < ni; ++q, r0 += ncx) {
    const auto& in = p.initial[static_cast<std::size_t>(q)];
    const double sw = std::sqrt(in.weight / double(ncx));
    M.middleRows(r0, ncx) = sw * kron(Ix, init_rows[static_cast<std::size_t>(q)]);
    b.segment(r0, ncx) = sw * Eigen::Map<const Eigen::VectorXd>(in.values.data(), ncx);
  }
  for (long q = 0; q < nb; ++q, r0 += nct) {
    const auto& bd = p.boundary[static_cast<std::size_t>(q)];
    const double sw = std::sqrt(bd.weight / double(nct));
    const Eigen::MatrixXd side = interpolation_matrix(p.x, {bd.side == 0 ? p.x.lower() : p.x.upper()});
    M.middleRows(r0, nct) = sw * kron(side, It);
    b.segment(r0, nct) = sw * Eigen::Map<const Eigen::VectorXd>(bd.values.data(), nct);
  }
  const DenseLsq sol = dense_least_squares(M, b);
  FitResult r;
  r.u = Eigen::Map<const Eigen::MatrixXd>(sol.x.data(), nt, nx);
  r.condition = sol.condition;
  r.modes = 1;
  set_parts(SpaceTimeLoss(p).evaluate(r.u), r);  // the loss at the collocation points, in physical space
  r.method = "dense least squares (" + std::to_string(rows) + " x " + std::to_string(nt * nx) + ", PDE rows reduced by the QR of " +
             std::to_string(nct) + " x " + std::to_string(ncx) + " collocation; Householder QR)";
  if (!r.u.allFinite()) throw Error("the space-time fit produced non-finite values", {}, "check the PDE terms and the data");
  return r;
}

}  // namespace

FitResult fit_space_time(const SpaceTimeProblem& p) {
  core::ScopedTimer timer("spectral.fit");
  check(p);
  if (!p.x.periodic()) {
    const long unknowns = p.t.size() * p.x.size();
    if (unknowns > 8192)
      throw Error("a space-time fit with a bounded x axis is solved densely, up to 8192 unknowns; this one has " + std::to_string(unknowns),
                  {}, "fewer nodes, or a periodic x axis");
    if (nonlinear(p) || !p.products.empty())
      throw Error("a nonlinear space-time fit on a bounded x axis takes the time-slab Newton path", {}, "spectral::fit_time_slabs");
    SpaceTimeProblem q = p;  // the reaction's constant part moves to the source
    if (!p.reaction.empty() && p.reaction[0] != 0.0) {
      if (q.source.empty()) q.source.assign(collocation(p.t_collocation, p.t).size() * collocation(p.x_collocation, p.x).size(), 0.0);
      for (double& v : q.source) v -= p.reaction[0];
      q.reaction[0] = 0.0;
    }
    return fit_bounded(q);
  }
  if (!p.products.empty()) throw Error("a space-time fit with products u * D u takes the time-slab Newton path", {}, "spectral::fit_time_slabs");
  if (nonlinear(p)) return fit_gauss_newton(p);
  FitResult r = fit_linear(linear_form(p));
  set_parts(SpaceTimeLoss(p).evaluate(r.u), r);
  return r;
}

}  // namespace kron::spectral

namespace kron::spectral {

SpaceTimeLoss::SpaceTimeLoss(const SpaceTimeProblem& p) {
  check(p);
  nt_ = p.t.size();
  nx_ = p.x.size();
  const std::vector<double>& tc = p.x.periodic() ? p.t.coords() : collocation(p.t_collocation, p.t);
  const std::vector<double>& xc = p.x.periodic() ? p.x.coords() : collocation(p.x_collocation, p.x);
  nct_ = static_cast<long>(tc.size());
  ncx_ = static_cast<long>(xc.size());
  const bool at_nodes = p.x.periodic() || (p.t_collocation.empty() && p.x_collocation.empty());
  It_ = at_nodes ? Eigen::MatrixXd::Identity(nt_, nt_) : interpolation_matrix(p.t, tc);
  Ix_ = at_nodes ? Eigen::MatrixXd::Identity(nx_, nx_) : interpolation_matrix(p.x, xc);
  for (const auto& term : p.terms) {
    coef_.push_back(term.coef);
    A_.push_back(It_ * time_derivative(p.t, term.dt));
    B_.push_back(term.dx == 0 ? Ix_ : Eigen::MatrixXd(Ix_ * differentiation_matrix(p.x, term.dx)));
  }
  for (const auto& term : p.products) {
    pcoef_.push_back(term.coef);
    PA_.push_back(It_ * time_derivative(p.t, term.dt));
    PB_.push_back(term.dx == 0 ? Ix_ : Eigen::MatrixXd(Ix_ * differentiation_matrix(p.x, term.dx)));
  }
  reaction_ = p.reaction;
  F_ = Eigen::MatrixXd::Zero(nct_, ncx_);
  if (!p.source.empty()) F_ = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(p.source.data(), nct_, ncx_);
  const std::vector<Eigen::RowVectorXd> init = initial_rows(p);
  for (std::size_t q = 0; q < p.initial.size(); ++q)
    sides_.push_back({init[q], Eigen::Map<const Eigen::VectorXd>(p.initial[q].values.data(), ncx_), p.initial[q].weight, true});
  for (const auto& bd : p.boundary)
    sides_.push_back({interpolation_matrix(p.x, {bd.side == 0 ? p.x.lower() : p.x.upper()}), Eigen::Map<const Eigen::VectorXd>(bd.values.data(), nct_),
                      bd.weight, false});
}

Eigen::MatrixXd SpaceTimeLoss::residual(const Eigen::MatrixXd& U) const {
  if (U.rows() != nt_ || U.cols() != nx_) throw Error("SpaceTimeLoss: U has the wrong shape");
  Eigen::MatrixXd R = -F_;
  for (std::size_t j = 0; j < A_.size(); ++j) R.noalias() += coef_[j] * (A_[j] * U * B_[j].transpose());
  if (!reaction_.empty()) R += (It_ * U * Ix_.transpose()).unaryExpr([&](double v) { return poly(reaction_, v); });
  if (!pcoef_.empty()) {
    const Eigen::MatrixXd V = It_ * U * Ix_.transpose();
    for (std::size_t j = 0; j < pcoef_.size(); ++j) R += pcoef_[j] * V.cwiseProduct(PA_[j] * U * PB_[j].transpose());
  }
  return R;
}

SpaceTimeLoss::Parts SpaceTimeLoss::evaluate(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad) const {
  const Eigen::MatrixXd R = residual(U);
  Eigen::MatrixXd V;
  if ((!reaction_.empty() || !pcoef_.empty()) && grad) V = It_ * U * Ix_.transpose();
  const double N = double(nct_ * ncx_);
  Parts parts;
  const double res2 = R.squaredNorm() / N;
  double side2 = 0, weighted = 0;
  if (grad) {
    grad->setZero(nt_, nx_);
    const Eigen::MatrixXd S = (2.0 / N) * R;
    for (std::size_t j = 0; j < A_.size(); ++j) grad->noalias() += coef_[j] * (A_[j].transpose() * S * B_[j]);
    if (!reaction_.empty()) {
      const Eigen::MatrixXd W = S.cwiseProduct(V.unaryExpr([&](double v) { return dpoly(reaction_, v); }));
      grad->noalias() += It_.transpose() * W * Ix_;
    }
    // c V o (A U B^T): c It^T (S o A U B^T) Ix + c A^T (S o V) B.
    for (std::size_t j = 0; j < pcoef_.size(); ++j) {
      const Eigen::MatrixXd D = PA_[j] * U * PB_[j].transpose();
      grad->noalias() += pcoef_[j] * (It_.transpose() * S.cwiseProduct(D) * Ix_);
      grad->noalias() += pcoef_[j] * (PA_[j].transpose() * S.cwiseProduct(V) * PB_[j]);
    }
  }
  for (const Side& sd : sides_) {
    // initial: e = row U Ix^T - g (1 x ncx); boundary: e = It U row^T - h (nct x 1)
    const Eigen::VectorXd e = sd.initial ? Eigen::VectorXd((sd.row * U * Ix_.transpose()).transpose()) - sd.data
                                         : Eigen::VectorXd(It_ * U * sd.row.transpose()) - sd.data;
    const double m = double(e.size()), e2 = e.squaredNorm() / m;
    side2 += e2;
    weighted += sd.weight * e2;
    if (grad) {
      const double g = 2.0 * sd.weight / m;
      if (sd.initial) grad->noalias() += g * sd.row.transpose() * (e.transpose() * Ix_);
      else grad->noalias() += g * (It_.transpose() * e) * sd.row;
    }
  }
  parts.loss = res2 + weighted;
  parts.residual_rms = std::sqrt(res2);
  parts.initial_rms = std::sqrt(sides_.empty() ? 0.0 : side2 / double(sides_.size()));
  return parts;
}

Eigen::MatrixXd minimize_adam(const Objective& f, long rows, long cols, long& steps, double seconds, double lr, double clip) {
  return minimize_adam(f, Eigen::MatrixXd::Zero(rows, cols), steps, seconds, lr, clip);
}

Eigen::MatrixXd minimize_adam(const Objective& f, Eigen::MatrixXd U0, long& steps, double seconds, double lr, double clip) {
  Eigen::MatrixXd U = std::move(U0), G, m = Eigen::MatrixXd::Zero(U.rows(), U.cols()), v = m;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const double t0 = core::wall_time();
  long k = 0;
  double p1 = 1, p2 = 1;
  double next_report = t0 + 5.0;
  for (; k < steps; ++k) {
    if ((k & 63) == 0) {
      const double now = core::wall_time();
      if (now - t0 > seconds) break;
      if (now >= next_report) {  // a progress line every 5 s
        core::log::info("Adam step ", k, ": loss ", f(U, nullptr), " (", now - t0, " s)");
        next_report = now + 5.0;
      }
    }
    f(U, &G);
    const double gn = G.norm();
    if (!std::isfinite(gn)) throw Error("Adam: the loss gradient is not finite at step " + std::to_string(k));
    if (gn > clip) G *= clip / gn;
    m = b1 * m + (1 - b1) * G;
    v = b2 * v + (1 - b2) * G.cwiseAbs2();
    p1 *= b1;
    p2 *= b2;
    U.array() -= lr * (m.array() / (1 - p1)) / ((v.array() / (1 - p2)).sqrt() + eps);
  }
  steps = k;
  return U;
}

FitResult fit_adam(const SpaceTimeProblem& p, long steps, double seconds, double lr, double clip) {
  core::ScopedTimer timer("spectral.adam");
  const SpaceTimeLoss loss(p);
  FitResult r;
  r.u = minimize_adam([&](const Eigen::MatrixXd& U, Eigen::MatrixXd* g) { return loss(U, g); }, loss.nt(), loss.nx(), steps, seconds, lr, clip);
  set_parts(loss.evaluate(r.u), r);
  r.iterations = static_cast<int>(steps);
  r.method = "Adam (lr " + std::to_string(lr) + ", gradient clipped at " + std::to_string(clip) + ", " + std::to_string(steps) + " steps)";
  return r;
}

}  // namespace kron::spectral
