#include "kron/gp/hm_grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/process_grid.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::gp {

HmGridModel::HmGridModel(HmGridProblem p) : p_(std::move(p)) {
  for (int a = 0; a < 2; ++a) n_[static_cast<std::size_t>(a)] = p_.axis[static_cast<std::size_t>(a)].points;
  if (n_[1] < 1) n_[1] = 1;
  if (n_[1] == 2) throw Error("GP-HM: an axis needs at least 3 collocation points (or 1: absent)");
  q_ = p_.axis[0].components;
  if (dim() == 2 && p_.axis[1].components != q_) throw Error("GP-HM: both axes need the same number of mixture components");
  for (int a = 0; a < dim(); ++a) {
    if (p_.c2[static_cast<std::size_t>(a)] != 0.0 && p_.c1[static_cast<std::size_t>(a)] != 0.0)
      throw Error("GP-HM: axis " + std::to_string(a) + " has both a first and a second derivative; the grid model takes one kind per axis");
    if (p_.c1[static_cast<std::size_t>(a)] != 0.0) complex_ = true;
  }
  if (complex_ && nonlinear())
    throw Error("GP-HM: a nonlinear reaction with a first-derivative term; the grid model's Newton solve takes second derivatives only");
  bool any = false;
  for (int a = 0; a < dim(); ++a) any = any || p_.c2[static_cast<std::size_t>(a)] != 0.0 || p_.c1[static_cast<std::size_t>(a)] != 0.0;
  if (!any) throw Error("GP-HM: the operator has no derivative");
  if (!(p_.boundary_weight > 0)) throw Error("GP-HM: the boundary weight must be positive");
  if (p_.f.rows() != n_[0] || p_.f.cols() != n_[1] || p_.g.rows() != n_[0] || p_.g.cols() != n_[1])
    throw Error("GP-HM: the source and boundary data do not match the grid");
  for (int a = 0; a < dim(); ++a) {
    HmProblem ap = p_.axis[static_cast<std::size_t>(a)];
    ap.c2 = 1;  // (the axis model serves Gram matrices, bounds and the initialisation)
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

namespace {
template <class S>
S conj_of(const S& x) {
  if constexpr (std::is_same_v<S, double>)
    return x;
  else
    return std::conj(x);
}
template <class M>
Eigen::MatrixXd real_of(const M& X) {
  if constexpr (std::is_same_v<typename M::Scalar, double>)
    return X;
  else
    return X.real();
}
}  // namespace

template <class S>
HmGridFactors<S> HmGridModel::factor(const Eigen::VectorXd& theta) const {
  using Mat = typename HmGridFactors<S>::Mat;
  using Vec = typename HmGridFactors<S>::Vec;
  if (theta.size() != size()) throw Error("GP-HM: a hyperparameter vector of the wrong length");
  if (!theta.allFinite()) throw Error("GP-HM: non-finite hyperparameters");
  if constexpr (std::is_same_v<S, double>)
    if (complex_) throw Error("GP-HM: this grid model has a first-derivative term: its eigenbases are complex");
  HmGridFactors<S> F;
  F.theta = theta;
  for (int a = 0; a < 2; ++a) {
    auto& X = F.ax[static_cast<std::size_t>(a)];
    if (a >= dim()) {  // an absent axis: the factor 1, no derivative
      X.K = Eigen::MatrixXd::Ones(1, 1);
      X.V = X.W = Mat::Ones(1, 1);
      X.lam = Vec::Zero(1);
      continue;
    }
    const HmModel& m = *axis_[static_cast<std::size_t>(a)];
    const double c2 = p_.c2[static_cast<std::size_t>(a)], c1 = p_.c1[static_cast<std::size_t>(a)];
    X.k = kernel(theta, a);
    X.K = m.toeplitz(*X.k, 0);
    X.K.diagonal().array() += m.problem().jitter;
    const Eigen::LLT<Eigen::MatrixXd> llt(X.K);
    bool ok = llt.info() == Eigen::Success && llt.matrixLLT().allFinite();
    if (ok && c1 == 0.0) {
      // K'' V = K V diag(l), V^T K V = I; the operator's eigenvalues c2 l.
      Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> ges(m.toeplitz(*X.k, 2), X.K);
      ok = ges.info() == Eigen::Success && ges.eigenvectors().allFinite();
      if (ok) {
        X.V = ges.eigenvectors().template cast<S>();
        X.lam = (c2 * ges.eigenvalues()).template cast<S>();
      }
    } else if (ok) {
      if constexpr (!std::is_same_v<S, double>) {
        // c1 K' is antisymmetric: L^-1 c1 K' L^-T = A, -i A Hermitian with eigenvectors Q and real
        // eigenvalues w; V = L^-T Q, the operator's eigenvalues i w.
        const auto L = llt.matrixL();
        const Eigen::MatrixXd Y = L.solve(c1 * m.toeplitz(*X.k, 1));
        Eigen::MatrixXd A = L.solve(Y.transpose()).transpose();
        A = 0.5 * (A - A.transpose()).eval();
        const Eigen::MatrixXcd H = Complex(0, -1) * A.cast<Complex>();
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> es(H);
        ok = es.info() == Eigen::Success && es.eigenvectors().allFinite();
        if (ok) {
          const Eigen::MatrixXcd Lt = Eigen::MatrixXd(llt.matrixU()).cast<Complex>();
          X.V = Lt.triangularView<Eigen::Upper>().solve(es.eigenvectors());
          X.lam = Complex(0, 1) * es.eigenvalues().cast<Complex>();
        }
      }
    }
    if (!ok) {
      std::ostringstream os;
      os << "GP-HM: the covariance K + " << m.problem().jitter << " I of axis " << a << " (" << n(a)
         << " points) is not positive definite (numerically singular)";
      throw Error(os.str(), {}, "a larger jitter, or fewer points per lengthscale");
    }
    X.log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
    X.W = X.K.template cast<S>() * X.V;
  }
  F.Lambda.resize(n_[0], n_[1]);
  for (long j = 0; j < n_[1]; ++j)
    for (long i = 0; i < n_[0]; ++i) F.Lambda(i, j) = F.ax[0].lam[i] + F.ax[1].lam[j] + p_.reaction[1];
  const Eigen::MatrixXd f0 = p_.f.array() - p_.reaction[0];
  F.c = F.ax[0].V.adjoint() * f0.template cast<S>() * F.ax[1].V.conjugate();
  F.log_det = double(n_[1]) * F.ax[0].log_det + double(n_[0]) * F.ax[1].log_det;
  F.tau = std::exp(theta[size() - 2]);
  F.v = std::exp(theta[size() - 1]);
  return F;
}

template <class M>
Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, 1> HmGridModel::gather(const M& X) const {
  Eigen::Matrix<typename M::Scalar, Eigen::Dynamic, 1> b(nb_);
  long k = 0;
  for (const Edge& e : edges_)
    for (long t = e.lo; t < e.hi; ++t) b[k++] = e.row ? X(e.fixed, t) : X(t, e.fixed);
  return b;
}

template <class S>
typename HmGridFactors<S>::Mat HmGridModel::apply_w(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& z, bool transpose) const {
  if (transpose) return F.ax[0].W.adjoint() * z * F.ax[1].W.conjugate();
  return F.ax[0].W * z * F.ax[1].W.transpose();
}

template <class S>
Eigen::MatrixXd HmGridModel::values(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& z) const {
  return real_of(apply_w(F, z, false));
}

template <class S>
Eigen::MatrixXd HmGridModel::capacitance(const HmGridFactors<S>& F, const Eigen::MatrixXd& E) const {
  // C = B W diag(E) W^H B^T over the boundary points, block by pair of edges; an entry is
  // sum_ab W0(i, a) W1(j, b) E(a, b) conj(W0(k, a) W1(l, b)) for points (i, j) and (k, l).
  using Mat = typename HmGridFactors<S>::Mat;
  using Vec = typename HmGridFactors<S>::Vec;
  const Mat& W0 = F.ax[0].W;
  const Mat& W1 = F.ax[1].W;
  const Mat Es = E.template cast<S>();
  Mat C(nb_, nb_);
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
      Mat blk;
      if (a.row && b.row) {
        const Vec s = Es.transpose() * W0.row(a.fixed).cwiseProduct(W0.row(b.fixed).conjugate()).transpose();
        blk = W1.middleRows(a.lo, la) * s.asDiagonal() * W1.middleRows(b.lo, lb).adjoint();
      } else if (!a.row && !b.row) {
        const Vec t = Es * W1.row(a.fixed).cwiseProduct(W1.row(b.fixed).conjugate()).transpose();
        blk = W0.middleRows(a.lo, la) * t.asDiagonal() * W0.middleRows(b.lo, lb).adjoint();
      } else {
        const Edge& r = a.row ? a : b;  // i = r.fixed, j over r's range
        const Edge& c = a.row ? b : a;  // j = c.fixed, i over c's range
        // T(b, a) = conj(W1(c.fixed, b)) E(a, b) W0(r.fixed, a); block(j, i') = W1(j, :) T W0(i', :)^H
        const Mat T = W1.row(c.fixed).conjugate().transpose().asDiagonal() * Es.transpose() * W0.row(r.fixed).transpose().asDiagonal();
        const Mat rc = W1.middleRows(r.lo, r.hi - r.lo) * T * W0.middleRows(c.lo, c.hi - c.lo).adjoint();
        blk = a.row ? rc : Mat(rc.adjoint());
      }
      C.block(off[p], off[q], la, lb) = blk;
      if (q != p) C.block(off[q], off[p], lb, la) = blk.adjoint();
    }
  return real_of(C);  // real in exact arithmetic: W's columns come in conjugate pairs
}

template <class S>
typename HmGridFactors<S>::Vec HmGridModel::gather_w(const HmGridFactors<S>& F, const typename HmGridFactors<S>::Mat& Y) const {
  // A row edge (i fixed): (W0.row(i) Y) W1^T over its j; a column edge (j fixed): W0 (Y W1.row(j)^T) over its i.
  using Mat = typename HmGridFactors<S>::Mat;
  typename HmGridFactors<S>::Vec b(nb_);
  const Mat &W0 = F.ax[0].W, &W1 = F.ax[1].W;
  long k = 0;
  for (const Edge& e : edges_) {
    const long len = e.hi - e.lo;
    if (e.row)
      b.segment(k, len) = W1.middleRows(e.lo, len) * (W0.row(e.fixed) * Y).transpose();
    else
      b.segment(k, len) = W0.middleRows(e.lo, len) * (Y * W1.row(e.fixed).transpose());
    k += len;
  }
  return b;
}

template <class S>
typename HmGridFactors<S>::Mat HmGridModel::w_scatter(const HmGridFactors<S>& F, const Eigen::VectorXd& b) const {
  // W0^H scatter(b) conj(W1): one outer product per edge.
  using Mat = typename HmGridFactors<S>::Mat;
  using Vec = typename HmGridFactors<S>::Vec;
  const Mat &W0 = F.ax[0].W, &W1 = F.ax[1].W;
  Mat X = Mat::Zero(n_[0], n_[1]);
  long k = 0;
  for (const Edge& e : edges_) {
    const long len = e.hi - e.lo;
    const Vec seg = b.segment(k, len).template cast<S>();
    if (e.row)
      X.noalias() += W0.row(e.fixed).adjoint() * (W1.middleRows(e.lo, len).adjoint() * seg).transpose();
    else
      X.noalias() += (W0.middleRows(e.lo, len).adjoint() * seg) * W1.row(e.fixed).conjugate();
    k += len;
  }
  return X;
}

template <class S>
HmGridSolution<S> HmGridModel::solve(const HmGridFactors<S>& F) const {
  if (!nonlinear()) return solve_linear(F);
  if constexpr (std::is_same_v<S, double>)
    return solve_nonlinear(F);
  else
    throw Error("GP-HM: a nonlinear reaction needs real eigenbases (second derivatives only)");
}

HmGridSolution<double> HmGridModel::solve_nonlinear(const HmGridFactors<double>& F) const {
  // J(z) = 1/2 |z|^2 + v/2 |rho(z)|^2 + t/2 |C z - g|^2, rho = Lambda z - c + V^T q(W z), with
  // q(U) = p2 U^2 + p3 U^3 the nonlinear part of p (Lambda and c hold p0 and p1). Newton: the
  // residual's Jacobian is J = Lambda + E, E = V^T diag(q'(U)) W, and the new z solves
  //   H z' = v J^T (J z - rho) + W^T Sd U + t C^T g,  H = I + v J^T J + W^T Sd W + t C^T C,
  // Sd = diag(v q''(U) K^-1 r) Newton's curvature (0: Gauss-Newton). P = H with Sd = 0 and E
  // replaced by the mean of q'(U) times I is diagonal plus the boundary's rank and solved exactly
  // (as the linear problem); z' = zp + delta with zp = P^-1 (right side) and H delta = (P - H) zp
  // by CG (PETSc KSP) preconditioned by P^-1.
  using Mat = Eigen::MatrixXd;
  const double p2 = p_.reaction[2], p3 = p_.reaction[3];
  const double t = p_.boundary_weight * F.tau, v = F.v;
  const Mat &V0 = F.ax[0].V, &V1 = F.ax[1].V;
  const long n0 = n_[0], n1 = n_[1];
  auto W = [&](const Mat& z) -> Mat { return apply_w(F, z, false); };
  auto Wt = [&](const Mat& y) -> Mat { return apply_w(F, y, true); };
  auto Vt = [&](const Mat& y) -> Mat { return V0.transpose() * y * V1; };
  auto Vm = [&](const Mat& y) -> Mat { return V0 * y * V1.transpose(); };
  auto q = [&](const Mat& U) -> Mat { return (U.array().square() * (p2 + p3 * U.array())).matrix(); };
  auto dq = [&](const Mat& U) -> Mat { return (U.array() * (2 * p2 + 3 * p3 * U.array())).matrix(); };
  const Eigen::VectorXd gb = gather(p_.g);
  struct State {
    Mat z, U, rho;
    double J = 0;
  };
  auto evaluate = [&](Mat z) {
    State st;
    st.U = W(z);
    st.rho = F.Lambda.cwiseProduct(z) - F.c + Vt(q(st.U));
    st.J = 0.5 * z.squaredNorm() + 0.5 * v * st.rho.squaredNorm() + 0.5 * t * (gather(st.U) - gb).squaredNorm();
    st.z = std::move(z);
    return st;
  };
  HmGridSolution<double> out;
  State s = evaluate(solve_linear(F).z);

  Mat dN, Sd, Dinv;
  Eigen::LLT<Mat> llt;
  Eigen::LDLT<Mat> ldlt;
  bool use_llt = true;
  auto JTmul = [&](const Mat& y) -> Mat { return F.Lambda.cwiseProduct(y) + Wt(dN.cwiseProduct(Vm(y))); };
  // P^-1 b: x = Dinv (b - C^T mu), (I / t + C Dinv C^T) mu = C Dinv b - g (g only for the full right side).
  auto Pinv = [&](const Mat& b, bool with_g) -> Mat {
    const Mat y = Dinv.cwiseProduct(b);
    Eigen::VectorXd rhs = gather_w(F, y);
    if (with_g) rhs -= gb;
    const Eigen::VectorXd mu = use_llt ? Eigen::VectorXd(llt.solve(rhs)) : Eigen::VectorXd(ldlt.solve(rhs));
    return y - Dinv.cwiseProduct(w_scatter(F, mu));
  };
  auto grid = std::make_shared<const layout::ProcessGrid>(MPI_COMM_SELF, 1, 1);
  const layout::Pencil px({n0, n1, 1}, grid, 0);
  auto view = [&](const layout::RealField& f) { return Eigen::Map<const Mat>(f.data(), n0, n1); };
  linops::KrylovOptions ko;
  ko.ksp_type = "cg";
  ko.rtol = 1e-10;
  ko.max_it = 1000;
  ko.progress_every = 0;
  ko.label = "gp.newton";
  ko.options_prefix = "gp_";
  linops::Krylov ksp(
      px,
      [&](const layout::RealField& in, layout::RealField& o) {
        const Mat x = view(in);
        const Mat wx = W(x);
        const Mat jx = F.Lambda.cwiseProduct(x) + Vt(dN.cwiseProduct(wx));  // J x
        Eigen::Map<Mat>(o.data(), n0, n1) = x + v * F.Lambda.cwiseProduct(jx) + Wt(v * dN.cwiseProduct(Vm(jx)) + Sd.cwiseProduct(wx)) + t * w_scatter(F, gather(wx));
      },
      [&](const layout::RealField& in, layout::RealField& o) { Eigen::Map<Mat>(o.data(), n0, n1) = Pinv(view(in), false); }, ko);
  layout::RealField rb(px), rx(px);
  double prev_step = INFINITY;
  for (int k = 0; k < 40; ++k) {
    dN = dq(s.U);
    const double dbar = dN.mean();
    Dinv = (1.0 + v * (F.Lambda.array() + dbar).square()).inverse().matrix();
    Mat Sc = capacitance(F, Dinv);
    Sc.diagonal().array() += 1.0 / t;
    llt.compute(Sc);
    use_llt = llt.info() == Eigen::Success;
    if (!use_llt) ldlt.compute(Sc);
    // Newton's curvature of the residual term, v q''(U) K^-1 r (diagonal in U), where it leaves H
    // positive definite; Gauss-Newton (without it) where CG finds it indefinite.
    Sd = (v * (2 * p2 + 6 * p3 * s.U.array()) * Vm(s.rho).array()).matrix();
    Mat zp;
    linops::KrylovResult kr;
    for (int attempt = 0; attempt < 2; ++attempt) {
      zp = Pinv(v * JTmul(F.Lambda.cwiseProduct(s.z) + Vt(dN.cwiseProduct(s.U)) - s.rho) + Wt(Sd.cwiseProduct(s.U)), true);
      // (P - H) zp = v ((2 dbar Lambda + dbar^2) zp - Lambda E zp - E^T J zp) - W^T Sd W zp: no
      // t-sized cancellation.
      const Mat wzp = W(zp);
      const Mat ezp = Vt(dN.cwiseProduct(wzp));
      const Mat jzp = F.Lambda.cwiseProduct(zp) + ezp;
      Eigen::Map<Mat>(rb.data(), n0, n1) = v * ((2 * dbar * F.Lambda.array() + dbar * dbar) * zp.array() - F.Lambda.array() * ezp.array()).matrix() -
                                           Wt(v * dN.cwiseProduct(Vm(jzp)) + Sd.cwiseProduct(wzp));
      Eigen::Map<Mat>(rx.data(), n0, n1).setZero();
      try {
        kr = ksp.solve(rb, rx);
        break;
      } catch (const Error&) {
        if (attempt == 1 || Sd.isZero(0)) throw;
        Sd.setZero();  // CG failed with Newton's curvature (indefinite): a Gauss-Newton step
      }
    }
    out.krylov_iterations += kr.iterations;
    const Mat dz = zp + view(rx) - s.z;
    ++out.gauss_newton_steps;
    // The full step unless it raises J; then halve it.
    double alpha = 1;
    State next;
    for (int h = 0; h < 20; ++h, alpha *= 0.5) {
      next = evaluate(s.z + alpha * dz);
      if (next.J <= s.J) break;
    }
    if (!(next.J <= s.J)) break;  // no decrease: s is the minimiser to rounding
    const double step = alpha * dz.norm();
    s = std::move(next);
    // Converged: a step below 1e-10 of z, or a small full step that no longer shrinks (past
    // Newton's quadratic phase the step stalls at the level of the solve's rounding).
    const double zn = s.z.norm();
    if (step <= 1e-10 * zn || (alpha == 1 && step < 1e-7 * zn && step > 0.5 * prev_step)) break;
    prev_step = step;
  }
  if (!s.z.allFinite()) throw Error("GP-HM: the Newton solve for U gave non-finite values", {}, "check the source and boundary data");
  out.mu = t * (gather(s.U) - gb);
  out.c = F.c - Vt(q(s.U));
  out.z = std::move(s.z);
  return out;
}

template <class S>
HmGridSolution<S> HmGridModel::solve_linear(const HmGridFactors<S>& F) const {
  // min_z 1/2 z^H D z - Re((v conj(Lambda) c)^H z) + t/2 |C z - g|^2, t = w_b tau, C = B W: D is
  // diagonal, the boundary's rank N_b goes through its multiplier mu = t (C z - g).
  using Mat = typename HmGridFactors<S>::Mat;
  const double t = p_.boundary_weight * F.tau;
  const Eigen::MatrixXd Dinv = (1.0 + F.v * F.Lambda.cwiseAbs2().array()).inverse().matrix();
  const Mat z0 = (F.v * F.Lambda.conjugate().cwiseProduct(F.c)).cwiseProduct(Dinv.template cast<S>());
  Eigen::MatrixXd Sc = capacitance(F, Dinv);
  Sc.diagonal().array() += 1.0 / t;
  // Sc is symmetric positive definite (its smallest eigenvalue at least 1 / t): blocked Cholesky,
  // with pivoted LDL^T where rounding makes a pivot non-positive.
  const Eigen::VectorXd b = real_of(gather_w(F, z0)) - gather(p_.g);
  HmGridSolution<S> s;
  const Eigen::LLT<Eigen::MatrixXd> llt(Sc);
  if (llt.info() == Eigen::Success)
    s.mu = llt.solve(b);
  else
    s.mu = Sc.ldlt().solve(b);
  s.z = z0 - Dinv.template cast<S>().cwiseProduct(w_scatter(F, s.mu));
  if (!s.z.allFinite() || !s.mu.allFinite()) throw Error("GP-HM: the exact solve for U gave non-finite values", {}, "check the source and boundary data");
  return s;
}

template <class S>
double HmGridModel::objective(const HmGridFactors<S>& F, const HmGridSolution<S>& s, Eigen::VectorXd* g, HmParts* parts) const {
  using Mat = typename HmGridFactors<S>::Mat;
  const double N = double(points()), Nb = double(nb_), wb = p_.boundary_weight, t = wb * F.tau;
  const Mat& z = s.z;
  const bool nonlin = s.c.size() > 0;
  const Mat& c = nonlin ? s.c : F.c;
  // The boundary misfit from the multiplier (U_b - g = mu / t) where that is the more accurate.
  const Eigen::VectorXd bg = t > 1.0 ? Eigen::VectorXd(s.mu / t) : Eigen::VectorXd(real_of(gather_w(F, z)) - gather(p_.g));
  const Mat rho = F.Lambda.cwiseProduct(z) - c;
  const double prior = 0.5 * z.squaredNorm();
  const double J = prior + F.log_det + wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * Nb * std::log(F.tau)) + 0.5 * F.v * rho.squaredNorm() -
                   0.5 * N * std::log(F.v);
  if (parts) {
    parts->objective = J;
    parts->prior = prior;
    parts->log_det = F.log_det;
    parts->residual_rms = std::sqrt(real_of(apply_w(F, rho, false)).squaredNorm() / N);
    parts->boundary_rms = std::sqrt((real_of(gather_w(F, z)) - gather(p_.g)).squaredNorm() / Nb);
    parts->tau = F.tau;
    parts->v = F.v;
  }
  if (!g) return J;
  // The residual's multiplier R = v rho. At the minimiser z + v conj(Lambda) rho + C^H mu = 0, so
  // R = -(z + C^H mu) / conj(Lambda): taken entry by entry where its rounding error is below that
  // of v (Lambda z - c), which grows with v. A nonlinear p adds E^T R to that condition (E =
  // V^T diag(q'(U)) W, real): three passes of R = -(z + C^T mu + E^T R) / Lambda on those entries,
  // from R = v rho, each dividing the error E^T brings by |Lambda|.
  const double eps = std::numeric_limits<double>::epsilon();
  Mat R = F.v * rho;
  const Mat mb = w_scatter(F, s.mu);
  Mat dqU;
  if (nonlin) {
    const Eigen::ArrayXXd U = values(F, z).array();
    dqU = (U * (2 * p_.reaction[2] + 3 * p_.reaction[3] * U)).matrix().template cast<S>();
  }
  for (int pass = 0; pass < (nonlin ? 3 : 1); ++pass) {
    const Mat ETR = nonlin ? apply_w(F, Mat(dqU.cwiseProduct(F.ax[0].V * R * F.ax[1].V.transpose())), true) : Mat::Zero(n_[0], n_[1]);
    Mat Rn = R;
    for (long j = 0; j < n_[1]; ++j)
      for (long i = 0; i < n_[0]; ++i) {
        const S L = F.Lambda(i, j);
        if (L == S(0)) continue;
        const double e_direct = F.v * eps * (std::abs(L * z(i, j)) + std::abs(c(i, j)));
        const double e_stat = eps * (std::abs(z(i, j)) + std::abs(mb(i, j)) + std::abs(ETR(i, j))) / std::abs(L);
        if (e_stat < e_direct) Rn(i, j) = -(z(i, j) + mb(i, j) + ETR(i, j)) / conj_of(L);
      }
    R = std::move(Rn);
  }
  g->setZero(size());
  for (int a = 0; a < dim(); ++a) {
    // Axis a's factor: <dK_a, M> + <dKd_a, P> with, in its eigenbasis (Z, R seen from axis a),
    // M = Re V (n_other I - Z Z^H / 2 - R R^H / (2 v) - diag(conj(l)) R Z^H) V^H, P = Re V R Z^H V^H.
    const auto& X = F.ax[static_cast<std::size_t>(a)];
    const Mat Za = a == 0 ? z : Mat(z.transpose());
    const Mat Ra = a == 0 ? R : Mat(R.transpose());
    const double other = double(n_[static_cast<std::size_t>(1 - a)]);
    const Mat RZ = Ra * Za.adjoint();
    Mat inner = -0.5 * Za * Za.adjoint() - (0.5 / F.v) * Ra * Ra.adjoint() - X.lam.conjugate().asDiagonal() * RZ;
    inner.diagonal().array() += other;
    const HmModel& m = *axis_[static_cast<std::size_t>(a)];
    const Eigen::MatrixXd M = real_of(Mat(X.V * inner * X.V.adjoint()));
    const Eigen::MatrixXd P = real_of(Mat(X.V * RZ * X.V.adjoint()));
    double* ga = g->data() + 3L * q_ * a;
    m.add_lag_gradient(*X.k, 0, m.lag_sums(M), 1.0, ga);
    const double c2 = p_.c2[static_cast<std::size_t>(a)], c1 = p_.c1[static_cast<std::size_t>(a)];
    if (c2 != 0.0) m.add_lag_gradient(*X.k, 2, m.lag_sums(P), c2, ga);
    if (c1 != 0.0) m.add_lag_gradient(*X.k, 1, m.lag_sums(P), c1, ga);
  }
  (*g)[size() - 2] = wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * Nb);
  (*g)[size() - 1] = 0.5 * R.squaredNorm() / F.v - 0.5 * N;
  return J;
}

template <class S>
Eigen::MatrixXd HmGridModel::predict(const HmGridFactors<S>& F, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const {
  using Mat = typename HmGridFactors<S>::Mat;
  // K^-1 U = V V^H U (V1 V1^H)^T
  const Eigen::MatrixXd alpha =
      real_of(Mat(F.ax[0].V * (F.ax[0].V.adjoint() * U.template cast<S>() * F.ax[1].V.conjugate()) * F.ax[1].V.transpose()));
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

Eigen::MatrixXd HmGridModel::predict(const Eigen::VectorXd& theta, const Eigen::MatrixXd& U, const std::array<std::vector<double>, 2>& xs) const {
  if (complex_) return predict(factor<Complex>(theta), U, xs);
  return predict(factor<double>(theta), U, xs);
}

#define KRON_GRID_INSTANTIATE(S)                                                                                                  \
  template HmGridFactors<S> HmGridModel::factor<S>(const Eigen::VectorXd&) const;                                                \
  template HmGridSolution<S> HmGridModel::solve<S>(const HmGridFactors<S>&) const;                                               \
  template Eigen::MatrixXd HmGridModel::values<S>(const HmGridFactors<S>&, const HmGridFactors<S>::Mat&) const;                  \
  template double HmGridModel::objective<S>(const HmGridFactors<S>&, const HmGridSolution<S>&, Eigen::VectorXd*, HmParts*) const; \
  template Eigen::MatrixXd HmGridModel::predict<S>(const HmGridFactors<S>&, const Eigen::MatrixXd&, const std::array<std::vector<double>, 2>&) const;
KRON_GRID_INSTANTIATE(double)
KRON_GRID_INSTANTIATE(std::complex<double>)
#undef KRON_GRID_INSTANTIATE

namespace {
template <class S>
HmResult fit_grid(const HmGridModel& m, long max_it, double seconds) {
  long solves = 0, gn = 0, kit = 0;
  bool first = true;
  // A nonlinear p: every solve starts from the linear part's solution, a function of theta alone
  // (a warm start from the previous hyperparameters could land in another stationary point and
  // make min_U J jump between evaluations, which breaks the line search).
  auto solve = [&](const HmGridFactors<S>& F) {
    HmGridSolution<S> sol = m.solve(F);
    gn += sol.gauss_newton_steps;
    kit += sol.krylov_iterations;
    return sol;
  };
  ExactFit x;
  x.f = [&](const Eigen::MatrixXd& T, Eigen::MatrixXd* G) -> double {
    HmGridFactors<S> F;
    HmGridSolution<S> sol;
    try {
      F = m.factor<S>(T.col(0));
      sol = solve(F);
    } catch (const Error&) {
      if (first) throw;
      if (G) G->setZero(T.rows(), 1);
      return INFINITY;  // outside the covariance's domain (or no solve there): TAO's line search steps back
    }
    first = false;
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
    const HmGridFactors<S> F = m.factor<S>(theta);
    const HmGridSolution<S> sol = solve(F);
    const Eigen::MatrixXd U = m.values(F, sol.z);
    u = Eigen::Map<const Eigen::VectorXd>(U.data(), U.size());
    return m.objective(F, sol, nullptr);
  };
  x.multi_start = m.problem().axis[0].spectral_init;
  HmResult res = fit_exact(x, max_it, seconds);
  res.method = "exact U solve (per-axis eigenbases, the boundary through its multiplier) + L-BFGS on the hyperparameters" +
               std::string(x.multi_start ? ", best of 4 starts by objective" : "");
  res.solves = solves;
  const HmGridFactors<S> F = m.factor<S>(res.theta);
  m.objective(F, solve(F), nullptr, &res.parts);
  res.gauss_newton_steps = gn;
  res.krylov_iterations = kit;
  if (m.nonlinear()) res.method = "Newton U solve (CG preconditioned by the exact linear solve) + L-BFGS on the hyperparameters" +
                                  std::string(x.multi_start ? ", best of 4 starts by objective" : "");
  return res;
}
}  // namespace

HmResult fit_hm_exact(const HmGridModel& m, long max_it, double seconds) {
  return m.complex() ? fit_grid<HmGridModel::Complex>(m, max_it, seconds) : fit_grid<double>(m, max_it, seconds);
}

}  // namespace kron::gp
