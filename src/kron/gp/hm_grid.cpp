#include "kron/gp/hm_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"

namespace kron::gp {

HmGridModel::HmGridModel(HmGridProblem p) : p_(std::move(p)) {
  for (int a = 0; a < 2; ++a) n_[static_cast<std::size_t>(a)] = p_.axis[static_cast<std::size_t>(a)].points;
  if (n_[1] < 1) n_[1] = 1;
  if (n_[1] == 2) throw Error("GP-HM: an axis needs at least 3 collocation points (or 1: absent)");
  q_ = p_.axis[0].components;
  if (dim() == 2 && p_.axis[1].components != q_) throw Error("GP-HM: both axes need the same number of mixture components");
  if (!(p_.c2 != 0.0)) throw Error("GP-HM: the operator has no derivative");
  if (!(p_.boundary_weight > 0)) throw Error("GP-HM: the boundary weight must be positive");
  if (p_.f.rows() != n_[0] || p_.f.cols() != n_[1] || p_.g.rows() != n_[0] || p_.g.cols() != n_[1])
    throw Error("GP-HM: the source and boundary data do not match the grid");
  for (int a = 0; a < dim(); ++a) {
    HmProblem ap = p_.axis[static_cast<std::size_t>(a)];
    ap.c2 = p_.c2;
    ap.c1 = 0;
    ap.reaction = {};
    ap.boundary = {0, ap.points - 1};
    ap.g = Eigen::VectorXd::Zero(2);
    ap.boundary_weight = p_.boundary_weight;
    if (ap.f.size() != ap.points) throw Error("GP-HM: an axis' source profile does not match its points");
    axis_[static_cast<std::size_t>(a)] = std::make_unique<HmModel>(std::move(ap));
  }
  if (dim() == 2) {
    edges_ = {{true, 0, 0, n_[1]}, {true, n_[0] - 1, 0, n_[1]}, {false, 0, 1, n_[0] - 1}, {false, n_[1] - 1, 1, n_[0] - 1}};
  } else {
    edges_ = {{true, 0, 0, 1}, {true, n_[0] - 1, 0, 1}};
  }
  nb_ = 0;
  for (const Edge& e : edges_) nb_ += e.hi - e.lo;
  if (!p_.f.allFinite() || !p_.g.allFinite()) throw Error("GP-HM: non-finite source or boundary data");
}

Eigen::VectorXd HmGridModel::initial(double peak) const {
  Eigen::VectorXd t = Eigen::VectorXd::Zero(size());
  for (int a = 0; a < dim(); ++a) t.segment(3L * q_ * a, 3L * q_) = axis_[static_cast<std::size_t>(a)]->initial(peak).head(3L * q_);
  return t;
}

void HmGridModel::bounds(Eigen::VectorXd& lo, Eigen::VectorXd& hi) const {
  lo.resize(size());
  hi.resize(size());
  for (int a = 0; a < dim(); ++a) {
    Eigen::VectorXd l, h;
    axis_[static_cast<std::size_t>(a)]->bounds(l, h);
    lo.segment(3L * q_ * a, 3L * q_) = l.head(3L * q_);
    hi.segment(3L * q_ * a, 3L * q_) = h.head(3L * q_);
  }
  // The precisions' cap as in the 1D model: a noise level of 1e-9 of the source's rms value.
  const double fs = std::max(std::sqrt(p_.f.squaredNorm() / double(points())), 1e-300);
  const double cap = std::min(30.0, std::max(5.0, -2.0 * std::log(1e-9 * fs)));
  for (long i = size() - 2; i < size(); ++i) {
    lo[i] = -10;
    hi[i] = cap;
  }
  // The boundary precision's own cap: past log tau ~ 22 the capacitance system's rounding
  // (condition ~1 / (eps w_b tau)) reaches the multiplier and the gradient in theta loses its
  // digits (measured, 200 x 200, Student-t mixtures: 1e-5 at 22, 1e-1 at 28).
  hi[size() - 2] = std::min(hi[size() - 2], 22.0);
}

bool HmGridModel::is_frequency(long i) const { return i < size() - 2 && (i % (3L * q_)) >= 2L * q_; }
bool HmGridModel::is_lengthscale(long i) const { return i < size() - 2 && (i % (3L * q_)) >= q_ && (i % (3L * q_)) < 2L * q_; }

std::shared_ptr<SpectralMixture> HmGridModel::kernel(const Eigen::VectorXd& theta, int a) const {
  return axis_[static_cast<std::size_t>(a)]->kernel(theta.segment(3L * q_ * a, 3L * q_));
}

HmGridModel::Factors HmGridModel::factor(const Eigen::VectorXd& theta) const {
  if (theta.size() != size()) throw Error("GP-HM: a hyperparameter vector of the wrong length");
  if (!theta.allFinite()) throw Error("GP-HM: non-finite hyperparameters");
  Factors F;
  F.theta = theta;
  for (int a = 0; a < 2; ++a) {
    Axis& X = F.ax[static_cast<std::size_t>(a)];
    if (a >= dim()) {  // an absent axis: the factor 1, no derivative
      X.K = X.V = X.W = Eigen::MatrixXd::Ones(1, 1);
      X.lam = Eigen::VectorXd::Zero(1);
      continue;
    }
    const HmModel& m = *axis_[static_cast<std::size_t>(a)];
    X.k = kernel(theta, a);
    X.K = m.toeplitz(*X.k, 0);
    X.K.diagonal().array() += m.problem().jitter;
    Eigen::LLT<Eigen::MatrixXd> llt(X.K);
    Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> ges;
    if (llt.info() == Eigen::Success && llt.matrixLLT().allFinite()) ges.compute(m.toeplitz(*X.k, 2), X.K);
    if (llt.info() != Eigen::Success || !llt.matrixLLT().allFinite() || ges.info() != Eigen::Success || !ges.eigenvectors().allFinite()) {
      std::ostringstream os;
      os << "GP-HM: the covariance K + " << m.problem().jitter << " I of axis " << a << " (" << n(a)
         << " points) is not positive definite (numerically singular)";
      throw Error(os.str(), {}, "a larger jitter, or fewer points per lengthscale");
    }
    X.log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
    X.V = ges.eigenvectors();
    X.lam = ges.eigenvalues();
    X.W = X.K * X.V;
  }
  F.Lambda.resize(n_[0], n_[1]);
  for (long j = 0; j < n_[1]; ++j)
    for (long i = 0; i < n_[0]; ++i) F.Lambda(i, j) = p_.c2 * (F.ax[0].lam[i] + F.ax[1].lam[j]) + p_.reaction[1];
  const Eigen::MatrixXd f0 = p_.f.array() - p_.reaction[0];
  F.c = F.ax[0].V.transpose() * f0 * F.ax[1].V;
  F.log_det = double(n_[1]) * F.ax[0].log_det + double(n_[0]) * F.ax[1].log_det;
  F.tau = std::exp(theta[size() - 2]);
  F.v = std::exp(theta[size() - 1]);
  return F;
}

Eigen::MatrixXd HmGridModel::gather(const Eigen::MatrixXd& X) const {
  Eigen::VectorXd b(nb_);
  long k = 0;
  for (const Edge& e : edges_)
    for (long t = e.lo; t < e.hi; ++t) b[k++] = e.row ? X(e.fixed, t) : X(t, e.fixed);
  return b;
}

Eigen::MatrixXd HmGridModel::scatter(const Eigen::VectorXd& b) const {
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n_[0], n_[1]);
  long k = 0;
  for (const Edge& e : edges_)
    for (long t = e.lo; t < e.hi; ++t) (e.row ? X(e.fixed, t) : X(t, e.fixed)) += b[k++];
  return X;
}

Eigen::MatrixXd HmGridModel::apply_w(const Factors& F, const Eigen::MatrixXd& z, bool transpose) const {
  if (transpose) return F.ax[0].W.transpose() * z * F.ax[1].W;
  return F.ax[0].W * z * F.ax[1].W.transpose();
}

Eigen::MatrixXd HmGridModel::values(const Factors& F, const Eigen::MatrixXd& z) const { return apply_w(F, z, false); }

Eigen::MatrixXd HmGridModel::capacitance(const Factors& F, const Eigen::MatrixXd& E) const {
  // C = B W diag(E) W^T B^T over the boundary points, block by pair of edges; an entry is
  // sum_ab W0(i, a) W1(j, b) E(a, b) W0(k, a) W1(l, b) for points (i, j) and (k, l).
  const Eigen::MatrixXd& W0 = F.ax[0].W;
  const Eigen::MatrixXd& W1 = F.ax[1].W;
  Eigen::MatrixXd C(nb_, nb_);
  std::vector<long> off;
  long k = 0;
  for (const Edge& e : edges_) {
    off.push_back(k);
    k += e.hi - e.lo;
  }
  for (std::size_t p = 0; p < edges_.size(); ++p)
    for (std::size_t q = p; q < edges_.size(); ++q) {
      const Edge &a = edges_[p], &b = edges_[q];
      const long la = a.hi - a.lo, lb = b.hi - b.lo;
      Eigen::MatrixXd blk;
      if (a.row && b.row) {
        const Eigen::VectorXd s = E.transpose() * W0.row(a.fixed).cwiseProduct(W0.row(b.fixed)).transpose();
        blk = W1.middleRows(a.lo, la) * s.asDiagonal() * W1.middleRows(b.lo, lb).transpose();
      } else if (!a.row && !b.row) {
        const Eigen::VectorXd t = E * W1.row(a.fixed).cwiseProduct(W1.row(b.fixed)).transpose();
        blk = W0.middleRows(a.lo, la) * t.asDiagonal() * W0.middleRows(b.lo, lb).transpose();
      } else {
        const Edge& r = a.row ? a : b;  // i = r.fixed, j over r's range
        const Edge& c = a.row ? b : a;  // j = c.fixed, i over c's range
        // T(b, a) = E(a, b) W1(c.fixed, b) W0(r.fixed, a); block(j, i') = W1(j, :) T W0(i', :)^T
        const Eigen::MatrixXd T = W1.row(c.fixed).transpose().asDiagonal() * E.transpose() * W0.row(r.fixed).transpose().asDiagonal();
        const Eigen::MatrixXd rc = W1.middleRows(r.lo, r.hi - r.lo) * T * W0.middleRows(c.lo, c.hi - c.lo).transpose();
        blk = a.row ? rc : Eigen::MatrixXd(rc.transpose());
      }
      C.block(off[p], off[q], la, lb) = blk;
      if (q != p) C.block(off[q], off[p], lb, la) = blk.transpose();
    }
  return C;
}

HmGridModel::Solution HmGridModel::solve(const Factors& F) const {
  // min_z 1/2 z^T D z - (v Lambda c)^T z + t/2 |C z - g|^2, t = w_b tau, C = B W: D is diagonal,
  // the boundary's rank N_b goes through its multiplier mu = t (C z - g).
  const double t = p_.boundary_weight * F.tau;
  const Eigen::MatrixXd Dinv = (1.0 + F.v * F.Lambda.array().square()).inverse().matrix();
  const Eigen::MatrixXd z0 = (F.v * F.Lambda.cwiseProduct(F.c)).cwiseProduct(Dinv);
  Eigen::MatrixXd S = capacitance(F, Dinv);
  S.diagonal().array() += 1.0 / t;
  Solution s;
  s.mu = S.ldlt().solve(gather(apply_w(F, z0, false)) - gather(p_.g));
  s.z = z0 - Dinv.cwiseProduct(apply_w(F, scatter(s.mu), true));
  if (!s.z.allFinite() || !s.mu.allFinite()) throw Error("GP-HM: the exact solve for U gave non-finite values", {}, "check the source and boundary data");
  return s;
}

double HmGridModel::objective(const Factors& F, const Solution& s, Eigen::VectorXd* g, HmParts* parts) const {
  const double N = double(points()), Nb = double(nb_), wb = p_.boundary_weight, t = wb * F.tau;
  const Eigen::MatrixXd& z = s.z;
  // The boundary misfit from the multiplier (U_b - g = mu / t) where that is the more accurate.
  const Eigen::VectorXd bg = t > 1.0 ? Eigen::VectorXd(s.mu / t) : Eigen::VectorXd(gather(apply_w(F, z, false)) - gather(p_.g));
  const Eigen::MatrixXd rho = F.Lambda.cwiseProduct(z) - F.c;
  const double prior = 0.5 * z.squaredNorm();
  const double J = prior + F.log_det + wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * Nb * std::log(F.tau)) + 0.5 * F.v * rho.squaredNorm() -
                   0.5 * N * std::log(F.v);
  if (parts) {
    parts->objective = J;
    parts->prior = prior;
    parts->log_det = F.log_det;
    parts->residual_rms = std::sqrt(apply_w(F, rho, false).squaredNorm() / N);
    parts->boundary_rms = std::sqrt((gather(apply_w(F, z, false)) - gather(p_.g)).squaredNorm() / Nb);
    parts->tau = F.tau;
    parts->v = F.v;
  }
  if (!g) return J;
  // The residual's multiplier R = v rho. At the minimiser z + v Lambda rho + C^T mu = 0, so
  // R = -(z + C^T mu) / Lambda: taken entry by entry where its rounding error is below that
  // of v (Lambda z - c), which grows with v.
  const double eps = std::numeric_limits<double>::epsilon();
  const Eigen::MatrixXd mb = apply_w(F, scatter(s.mu), true);
  Eigen::MatrixXd R = F.v * rho;
  for (long j = 0; j < n_[1]; ++j)
    for (long i = 0; i < n_[0]; ++i) {
      const double L = F.Lambda(i, j);
      if (L == 0.0) continue;
      const double e_direct = F.v * eps * (std::abs(L * z(i, j)) + std::abs(F.c(i, j)));
      const double e_stat = eps * (std::abs(z(i, j)) + std::abs(mb(i, j))) / std::abs(L);
      if (e_stat < e_direct) R(i, j) = -(z(i, j) + mb(i, j)) / L;
    }
  g->setZero(size());
  for (int a = 0; a < dim(); ++a) {
    // Axis a's factor: <dK_a, M> + c2 <dK_a'', P> with, in its eigenbasis (Z, R seen from axis a),
    // M = V (n_other I - Z Z^T / 2 - R R^T / (2 v) - c2 diag(l) R Z^T) V^T, P = V R Z^T V^T.
    const Axis& X = F.ax[static_cast<std::size_t>(a)];
    const Eigen::MatrixXd Za = a == 0 ? z : Eigen::MatrixXd(z.transpose());
    const Eigen::MatrixXd Ra = a == 0 ? R : Eigen::MatrixXd(R.transpose());
    const double other = double(n_[static_cast<std::size_t>(1 - a)]);
    const Eigen::MatrixXd RZ = Ra * Za.transpose();
    Eigen::MatrixXd inner = -0.5 * Za * Za.transpose() - (0.5 / F.v) * Ra * Ra.transpose() - p_.c2 * X.lam.asDiagonal() * RZ;
    inner.diagonal().array() += other;
    const HmModel& m = *axis_[static_cast<std::size_t>(a)];
    const Eigen::MatrixXd M = X.V * inner * X.V.transpose();
    const Eigen::MatrixXd P = X.V * RZ * X.V.transpose();
    double* ga = g->data() + 3L * q_ * a;
    m.add_lag_gradient(*X.k, 0, m.lag_sums(M), 1.0, ga);
    m.add_lag_gradient(*X.k, 2, m.lag_sums(P), p_.c2, ga);
  }
  (*g)[size() - 2] = wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * Nb);
  (*g)[size() - 1] = 0.5 * R.squaredNorm() / F.v - 0.5 * N;
  return J;
}

Eigen::MatrixXd HmGridModel::predict(const Factors& F, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const {
  const Eigen::MatrixXd alpha = F.ax[0].V * (F.ax[0].V.transpose() * U * F.ax[1].V) * F.ax[1].V.transpose();  // K^-1 U = V V^T U
  std::array<Eigen::MatrixXd, 2> Ks;
  for (int a = 0; a < 2; ++a) {
    const auto& x = xs[static_cast<std::size_t>(a)];
    Eigen::MatrixXd& k = Ks[static_cast<std::size_t>(a)];
    if (a >= dim()) {
      k = Eigen::MatrixXd::Ones(static_cast<long>(x.size()), 1);
      continue;
    }
    const auto& pts = points(a);
    k.resize(static_cast<long>(x.size()), n(a));
    for (long j = 0; j < n(a); ++j)
      for (std::size_t i = 0; i < x.size(); ++i) k(static_cast<long>(i), j) = F.ax[static_cast<std::size_t>(a)].k->derivative(0, x[i] - pts[static_cast<std::size_t>(j)]);
  }
  return Ks[0] * alpha * Ks[1].transpose();
}

HmResult fit_hm_exact(const HmGridModel& m, long max_it, double seconds) {
  long solves = 0;
  bool first = true;
  ExactFit x;
  x.f = [&](const Eigen::MatrixXd& T, Eigen::MatrixXd* G) -> double {
    HmGridModel::Factors F;
    try {
      F = m.factor(T.col(0));
    } catch (const Error&) {
      if (first) throw;
      if (G) G->setZero(T.rows(), 1);
      return INFINITY;  // outside the covariance's domain: TAO's line search steps back
    }
    first = false;
    const HmGridModel::Solution sol = m.solve(F);
    ++solves;
    Eigen::VectorXd g;
    const double J = m.objective(F, sol, G ? &g : nullptr);
    if (G) *G = g;
    return J;
  };
  m.bounds(x.lower, x.upper);
  x.initial = [&](double peak) { return m.initial(peak); };
  x.held = [&](long i, bool hold_lengthscales) { return m.is_frequency(i) || (hold_lengthscales && m.is_lengthscale(i)); };
  x.final_solve = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& u) {
    const HmGridModel::Factors F = m.factor(theta);
    const HmGridModel::Solution sol = m.solve(F);
    u = Eigen::Map<const Eigen::VectorXd>(sol.z.data(), sol.z.size());  // whitened: U = W z
    return m.objective(F, sol, nullptr);
  };
  x.multi_start = m.problem().axis[0].spectral_init;
  HmResult res = fit_exact(x, max_it, seconds);
  res.method = "exact U solve (per-axis eigenbases, the boundary through its multiplier) + L-BFGS on the hyperparameters" +
               std::string(x.multi_start ? ", best of 4 starts by objective" : "");
  res.solves = solves;
  const HmGridModel::Factors F = m.factor(res.theta);
  const HmGridModel::Solution sol = m.solve(F);
  m.objective(F, sol, nullptr, &res.parts);
  const Eigen::MatrixXd U = m.values(F, sol.z);
  res.u = Eigen::Map<const Eigen::VectorXd>(U.data(), U.size());
  return res;
}

}  // namespace kron::gp
