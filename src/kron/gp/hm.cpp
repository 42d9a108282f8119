#include "kron/gp/hm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/fit.hpp"
#include "kron/spectral/fit_tao.hpp"

namespace kron::gp {

namespace {
bool nonlinear(const HmProblem& p) { return p.reaction[2] != 0.0 || p.reaction[3] != 0.0; }
double poly(const std::array<double, 4>& c, double u) { return c[0] + u * (c[1] + u * (c[2] + u * c[3])); }
double dpoly(const std::array<double, 4>& c, double u) { return c[1] + u * (2 * c[2] + 3 * u * c[3]); }
}  // namespace

HmModel::HmModel(HmProblem p) : p_(std::move(p)) {
  if (p_.points < 3) throw Error("GP-HM needs at least 3 collocation points; got " + std::to_string(p_.points));
  if (!(p_.x1 > p_.x0)) throw Error("GP-HM: the interval is empty or reversed");
  if (p_.components < 1) throw Error("GP-HM needs at least one mixture component");
  if (!(p_.jitter >= 0)) throw Error("GP-HM: the jitter must be >= 0");
  if (!(p_.inv_lengthscale > 0) || !std::isfinite(p_.inv_lengthscale)) throw Error("GP-HM: the inverse lengthscale must be positive and finite");
  if (!(p_.boundary_weight > 0)) throw Error("GP-HM: the boundary weight must be positive");
  if (p_.f.size() != p_.points) throw Error("GP-HM: the source has " + std::to_string(p_.f.size()) + " values for " + std::to_string(p_.points) + " points");
  if (p_.g.size() != static_cast<long>(p_.boundary.size())) throw Error("GP-HM: boundary indices and values differ in number");
  for (long b : p_.boundary)
    if (b < 0 || b >= p_.points) throw Error("GP-HM: a boundary index lies outside the grid");
  if (p_.c2 == 0.0 && p_.c1 == 0.0) throw Error("GP-HM: the operator has no derivative");
  h_ = (p_.x1 - p_.x0) / double(p_.points - 1);
  const double nyquist = 0.5 / h_;
  if (!(p_.freq_scale > 0) || p_.freq_scale > nyquist) {
    std::ostringstream os;
    os << "GP-HM: the frequency scale " << p_.freq_scale << " is not in (0, " << nyquist << "], the Nyquist frequency of " << p_.points
       << " points on [" << p_.x0 << ", " << p_.x1 << "]";
    throw Error(os.str(), {}, "more collocation points, or a smaller frequency scale");
  }
  x_.resize(static_cast<std::size_t>(p_.points));
  for (long i = 0; i < p_.points; ++i) x_[static_cast<std::size_t>(i)] = i == p_.points - 1 ? p_.x1 : p_.x0 + double(i) * h_;
}

Eigen::VectorXd HmModel::initial(double peak_inv_lengthscale) const {
  const int Q = q();
  Eigen::VectorXd t(size());
  for (int i = 0; i < Q; ++i) {
    t[i] = std::log(1.0 / Q);
    t[Q + i] = std::log(p_.inv_lengthscale);
    t[2 * Q + i] = (Q == 1 ? p_.freq_scale : p_.freq_scale * double(i) / double(Q - 1)) * (p_.x1 - p_.x0);
  }
  t[3 * Q] = t[3 * Q + 1] = 0.0;
  if (!p_.spectral_init) return t;
  // The periodogram of the windowed source on a grid 8x finer than 1/length.
  const long n = p_.points;
  const double len = p_.x1 - p_.x0, dnu = 1.0 / (8.0 * len);
  const long nf = static_cast<long>(p_.freq_scale / dnu) + 1;
  Eigen::VectorXd P(nf);
  for (long k = 0; k < nf; ++k) {
    const double om = 2 * M_PI * double(k) * dnu;
    double re = 0, im = 0;
    for (long i = 0; i < n; ++i) {
      const double w = 0.5 - 0.5 * std::cos(2 * M_PI * double(i) / double(n - 1));
      const double x = x_[static_cast<std::size_t>(i)] - p_.x0;
      re += w * p_.f[i] * std::cos(om * x);
      im += w * p_.f[i] * std::sin(om * x);
    }
    P[k] = re * re + im * im;
  }
  const double top = P.maxCoeff();
  if (!(top > 0)) return t;
  std::vector<std::pair<double, double>> peaks;  // (power, frequency)
  for (long k = 0; k < nf; ++k) {
    const double l = k > 0 ? P[k - 1] : -1.0, r = k + 1 < nf ? P[k + 1] : -1.0;
    if (!(P[k] >= l && P[k] > r && P[k] > 1e-6 * top)) continue;
    double nu = double(k) * dnu;
    if (k > 0 && k + 1 < nf) {  // vertex of the parabola through the three bins (log power)
      const double a = std::log(l), b = std::log(P[k]), c = std::log(r), den = a - 2 * b + c;
      if (den < 0) nu += 0.5 * (a - c) / den * dnu;
    }
    peaks.push_back({P[k], std::max(0.0, nu)});
  }
  std::sort(peaks.begin(), peaks.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<long>(peaks.size()) > std::max(1, Q / 3)) peaks.resize(static_cast<std::size_t>(std::max(1, Q / 3)));
  std::vector<bool> taken(static_cast<std::size_t>(Q), false);
  for (const auto& pk : peaks) {
    int best = -1;
    for (int i = 0; i < Q; ++i)
      if (!taken[static_cast<std::size_t>(i)] && (best < 0 || std::abs(t[2 * Q + i] - pk.second * len) < std::abs(t[2 * Q + best] - pk.second * len)))
        best = i;
    if (best < 0) break;
    taken[static_cast<std::size_t>(best)] = true;
    t[2 * Q + best] = pk.second * len;
    t[Q + best] = std::log(peak_inv_lengthscale / len);
  }
  return t;
}

void HmModel::bounds(Eigen::VectorXd& lo, Eigen::VectorXd& hi) const {
  const int Q = q();
  lo.resize(size());
  hi.resize(size());
  const double len = p_.x1 - p_.x0;
  for (int i = 0; i < Q; ++i) {
    lo[i] = -30;
    hi[i] = 5;
    lo[Q + i] = std::log(1e-3 / len);
    hi[Q + i] = std::log(1.0 / h_);
    lo[2 * Q + i] = 0;
    hi[2 * Q + i] = 0.5 / h_ * len;
  }
  // The precisions' cap: a residual noise level of 1e-9 of the source's rms value. The
  // hyperparameter gradient is carried by the multipliers of the residual and boundary terms;
  // even taken from the stationarity condition (objective(), stationary) they lose digits as the
  // precisions grow (sin(100 x), 400 points, |f| ~ 7e3: 4-5 digits at log v = 15, 3 at 20, 1 at
  // 25-30), and L-BFGS's line search then fails.
  const double fs = std::max(std::sqrt(p_.f.squaredNorm() / double(p_.points)), 1e-300);
  const double cap = std::min(30.0, std::max(5.0, -2.0 * std::log(1e-9 * fs)));
  for (int i = 3 * Q; i < 3 * Q + 2; ++i) {
    lo[i] = -10;
    hi[i] = cap;
  }
}

std::shared_ptr<SpectralMixture> HmModel::kernel(const Eigen::VectorXd& t) const {
  const int Q = q();
  std::vector<double> w(static_cast<std::size_t>(Q)), a(w), mu(w);
  for (int i = 0; i < Q; ++i) {
    w[static_cast<std::size_t>(i)] = std::exp(t[i]);
    a[static_cast<std::size_t>(i)] = std::exp(t[Q + i]);
    mu[static_cast<std::size_t>(i)] = t[2 * Q + i] / (p_.x1 - p_.x0);
  }
  return std::make_shared<SpectralMixture>(p_.envelope, w, a, mu);
}

Eigen::MatrixXd HmModel::toeplitz(const SpectralMixture& k, int order) const {
  const long n = p_.points;
  Eigen::VectorXd lag(2 * n - 1);
  for (long m = -(n - 1); m < n; ++m) lag[m + n - 1] = k.derivative(order, double(m) * h_);
  Eigen::MatrixXd K(n, n);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i) K(i, j) = lag[i - j + n - 1];
  return K;
}

Eigen::VectorXd HmModel::lag_sums(const Eigen::MatrixXd& M) const {
  const long n = p_.points;
  Eigen::VectorXd s = Eigen::VectorXd::Zero(2 * n - 1);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i) s[i - j + n - 1] += M(i, j);
  return s;
}

void HmModel::add_lag_gradient(const SpectralMixture& k, int order, const Eigen::VectorXd& s, double c, double* g) const {
  const long n = p_.points;
  const int Q = q();
  std::vector<double> buf(static_cast<std::size_t>(3 * Q)), acc(buf.size(), 0.0);
  for (long m = -(n - 1); m < n; ++m) {
    const double w = s[m + n - 1];
    if (w == 0.0) continue;
    k.parameter_derivatives(order, double(m) * h_, buf.data());
    for (std::size_t i = 0; i < buf.size(); ++i) acc[i] += w * buf[i];
  }
  const double len = p_.x1 - p_.x0;  // theta holds the frequencies as cycles over the interval
  for (int i = 0; i < 3 * Q; ++i) g[i] += c * acc[static_cast<std::size_t>(i)] / (i >= 2 * Q ? len : 1.0);
}

HmModel::Factors HmModel::factor(const Eigen::VectorXd& theta) const {
  if (theta.size() != size()) throw Error("GP-HM: a hyperparameter vector of the wrong length");
  if (!theta.allFinite()) throw Error("GP-HM: non-finite hyperparameters");
  Factors F;
  F.theta = theta;
  F.k = kernel(theta);
  const long n = p_.points;
  Eigen::MatrixXd K = toeplitz(*F.k, 0);
  K.diagonal().array() += p_.jitter;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  if (llt.info() != Eigen::Success || !llt.matrixLLT().allFinite()) {
    std::ostringstream os;
    os << "GP-HM: the covariance K + " << p_.jitter << " I of " << n << " points is not positive definite (numerically singular)";
    throw Error(os.str(), {}, "a larger jitter, or fewer points per lengthscale");
  }
  F.L = llt.matrixL();
  F.K = std::move(K);
  F.log_det = 2 * F.L.diagonal().array().log().sum();
  F.Kd = Eigen::MatrixXd::Zero(n, n);
  if (p_.c2 != 0.0) F.Kd += p_.c2 * toeplitz(*F.k, 2);
  if (p_.c1 != 0.0) F.Kd += p_.c1 * toeplitz(*F.k, 1);
  F.tau = std::exp(theta[3 * q()]);
  F.v = std::exp(theta[3 * q() + 1]);
  return F;
}

double HmModel::objective(const Factors& F, const Eigen::VectorXd& u, Eigen::VectorXd* g_theta, Eigen::VectorXd* g_u, HmParts* parts,
                          bool stationary) const {
  const long n = p_.points, nb = static_cast<long>(p_.boundary.size());
  const int Q = q();
  const auto L = F.L.triangularView<Eigen::Lower>();
  const Eigen::VectorXd alpha = L.transpose().solve(L.solve(u));
  Eigen::VectorXd r = F.Kd * alpha - p_.f;
  for (long i = 0; i < n; ++i) r[i] += poly(p_.reaction, u[i]);
  Eigen::VectorXd bg(nb);
  for (long i = 0; i < nb; ++i) bg[i] = u[p_.boundary[static_cast<std::size_t>(i)]] - p_.g[i];
  const double wb = p_.boundary_weight, prior = 0.5 * u.dot(alpha);
  const double J = prior + 0.5 * F.log_det + wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * double(nb) * std::log(F.tau)) + 0.5 * F.v * r.squaredNorm() -
                   0.5 * double(n) * std::log(F.v);
  if (parts) {
    parts->objective = J;
    parts->prior = prior;
    parts->log_det = F.log_det;
    parts->residual_rms = std::sqrt(r.squaredNorm() / double(n));
    parts->boundary_rms = nb ? std::sqrt(bg.squaredNorm() / double(nb)) : 0.0;
    parts->tau = F.tau;
    parts->v = F.v;
  }
  if (!g_theta && !g_u) return J;
  const Eigen::VectorXd beta = L.transpose().solve(L.solve(F.Kd.transpose() * r));  // K^-1 Kd^T r
  if (g_u) {
    *g_u = alpha + F.v * beta;
    for (long i = 0; i < n; ++i) (*g_u)[i] += F.v * dpoly(p_.reaction, u[i]) * r[i];
    for (long i = 0; i < nb; ++i) (*g_u)[p_.boundary[static_cast<std::size_t>(i)]] += wb * F.tau * bg[i];
  }
  if (g_theta) {
    // d J = sum_ij W_ij dK_ij + sum_ij P_ij dKd_ij with W = K^-1/2 - alpha alpha^T/2 - v beta alpha^T
    // (prior, log det, the K^-1 inside the conditional mean) and P = v r alpha^T; on the uniform
    // grid both contract through their sums along diagonals (lags).
    Eigen::MatrixXd W = L.transpose().solve(L.solve(Eigen::MatrixXd::Identity(n, n)));
    W *= 0.5;
    // The residual's multiplier lambda = v r.
    Eigen::VectorXd lam = F.v * r;
    if (stationary) {
      // At the minimiser g_u = 0: A^T lambda = -(alpha + B^T w_b tau bg), A = Kd K^-1 + diag(p'(U)),
      // i.e. (Kd^T + K diag(p')) lambda = -(U + K B^T w_b tau bg). Solved for lambda, it keeps its
      // digits where v r (v times a residual at rounding level) would not; then
      // v beta + v p' r = -(alpha + B^T w_b tau bg) and W = K^-1/2 + (alpha/2 + B^T w_b tau bg + p' lambda) alpha^T.
      const Eigen::MatrixXd& K = F.K;
      Eigen::MatrixXd M = F.Kd.transpose();
      Eigen::VectorXd dp(n), rhs = -u, bmu = Eigen::VectorXd::Zero(n);
      for (long i = 0; i < n; ++i) dp[i] = dpoly(p_.reaction, u[i]);
      for (long i = 0; i < nb; ++i) bmu[p_.boundary[static_cast<std::size_t>(i)]] += wb * F.tau * bg[i];
      M += K * dp.asDiagonal();
      rhs -= K * bmu;
      // v r itself is kept while r holds most of its digits (rounding eps (|Kd alpha| + |f|)
      // below 1e-10 |r|): where the residual is large the solve is the worse of the two, its
      // matrix being ill-conditioned for smooth kernels on coarse grids.
      const double eps = std::numeric_limits<double>::epsilon();
      if (eps * ((F.Kd * alpha).norm() + p_.f.norm()) > 1e-10 * r.norm()) {
        const Eigen::VectorXd ls = M.partialPivLu().solve(rhs);
        if (ls.allFinite()) lam = ls;
      }
      W.noalias() += (0.5 * alpha + bmu + dp.cwiseProduct(lam)) * alpha.transpose();
    } else {
      W.noalias() -= (0.5 * alpha + F.v * beta) * alpha.transpose();
    }
    const Eigen::VectorXd sW = lag_sums(W);
    Eigen::VectorXd sP;
    if (p_.c1 != 0.0 || p_.c2 != 0.0) sP = lag_sums(lam * alpha.transpose());
    g_theta->setZero(size());
    add_lag_gradient(*F.k, 0, sW, 1.0, g_theta->data());
    if (p_.c2 != 0.0) add_lag_gradient(*F.k, 2, sP, p_.c2, g_theta->data());
    if (p_.c1 != 0.0) add_lag_gradient(*F.k, 1, sP, p_.c1, g_theta->data());
    (*g_theta)[3 * Q] = wb * (0.5 * F.tau * bg.squaredNorm() - 0.5 * double(nb));
    (*g_theta)[3 * Q + 1] = 0.5 * lam.squaredNorm() / F.v - 0.5 * double(n);
  }
  return J;
}

Eigen::VectorXd HmModel::solve(const Factors& F, const Eigen::VectorXd& u0, int* steps) const {
  const long n = p_.points, nb = static_cast<long>(p_.boundary.size());
  const auto L = F.L.triangularView<Eigen::Lower>();
  // Kd L^-T = (L^-1 Kd^T)^T: the derivative part of the operator in whitened variables.
  const Eigen::MatrixXd KdLt = L.solve(F.Kd.transpose()).transpose();
  const double sv = std::sqrt(F.v), sb = std::sqrt(p_.boundary_weight * F.tau);
  const bool nl = nonlinear(p_);
  Eigen::VectorXd y = nl ? Eigen::VectorXd(L.solve(u0)) : Eigen::VectorXd::Zero(n);
  Eigen::VectorXd u = F.L * y;
  double J = nl ? objective(F, u, nullptr, nullptr) : 0.0;
  int k = 0;
  for (; k < 50; ++k) {
    // Residuals at u and the linearised operator J_r L = Kd L^-T + diag(p'(u)) L.
    const Eigen::VectorXd alpha = L.transpose().solve(y);
    Eigen::VectorXd r = F.Kd * alpha - p_.f;
    // The stacked rows: boundary, residual, prior; sorted below by decreasing norm, so that
    // Householder QR stays accurate however large the precisions grow (stiff weighted least
    // squares, Bjorck 1996, sec. 4.4).
    Eigen::MatrixXd S(2 * n + nb, n);
    Eigen::VectorXd rhs(2 * n + nb);
    for (long i = 0; i < nb; ++i) {
      const long b = p_.boundary[static_cast<std::size_t>(i)];
      S.row(i) = sb * F.L.row(b);
      rhs[i] = -sb * (u[b] - p_.g[i]);
    }
    S.middleRows(nb, n) = KdLt;
    for (long i = 0; i < n; ++i) {
      r[i] += poly(p_.reaction, u[i]);
      const double dp = dpoly(p_.reaction, u[i]);
      if (dp != 0.0) S.row(nb + i).head(i + 1) += dp * F.L.row(i).head(i + 1);
    }
    S.middleRows(nb, n) *= sv;
    rhs.segment(nb, n) = -sv * r;
    S.bottomRows(n).setIdentity();
    rhs.tail(n) = -y;
    {
      const Eigen::VectorXd norms = S.rowwise().norm();
      std::vector<long> order(static_cast<std::size_t>(S.rows()));
      std::iota(order.begin(), order.end(), 0L);
      std::stable_sort(order.begin(), order.end(), [&](long a, long b) { return norms[a] > norms[b]; });
      Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, long> P(S.rows());
      for (std::size_t i = 0; i < order.size(); ++i) P.indices()[static_cast<long>(i)] = order[i];
      S = P.transpose() * S;
      rhs = P.transpose() * rhs;
    }
    Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(S);
    const Eigen::VectorXd eta = qr.solve(rhs);
    if (!eta.allFinite()) throw Error("GP-HM: the least-squares solve for U gave non-finite values", {}, "check the source and boundary data");
    if (!nl) {
      y += eta;
      k = 1;
      break;
    }
    // Gauss-Newton with step halving: the full step unless it raises J.
    double step = 1.0, Jn = J;
    Eigen::VectorXd yn, un;
    for (int h = 0; h < 30; ++h, step *= 0.5) {
      yn = y + step * eta;
      un = F.L * yn;
      Jn = objective(F, un, nullptr, nullptr);
      if (Jn <= J) break;
    }
    // Converged once the step is at rounding level (quadratic convergence takes it from 1e-3
    // to 1e-10 of U in two steps) or no longer lowers J.
    const bool small = eta.norm() <= 1e-9 * std::max(1.0, y.norm());
    const bool lower = Jn < J;
    if (Jn <= J) {
      y = yn;
      u = un;
      J = Jn;
    }
    if (small || !lower) {
      ++k;
      break;
    }
  }
  if (steps) *steps = k;
  return F.L * y;
}

Eigen::VectorXd HmModel::predict(const Factors& F, const Eigen::VectorXd& u, const std::vector<double>& xs) const {
  const auto L = F.L.triangularView<Eigen::Lower>();
  const Eigen::VectorXd alpha = L.transpose().solve(L.solve(u));
  Eigen::VectorXd out(static_cast<long>(xs.size()));
  for (std::size_t i = 0; i < xs.size(); ++i) {
    double s = 0;
    for (long j = 0; j < p_.points; ++j) s += F.k->derivative(0, xs[i] - x_[static_cast<std::size_t>(j)]) * alpha[j];
    out[static_cast<long>(i)] = s;
  }
  return out;
}

HmResult fit_exact(const ExactFit& x, long max_it, double seconds) {
  core::ScopedTimer timer("gp.exact");
  const double t0 = core::wall_time();
  HmResult res;
  res.method = "exact U solve + L-BFGS on the hyperparameters";
  // Four starts: the lengthscales held or free in stage 1, the spectral peaks' components
  // starting at 1 or 4 lengths. The objective is multimodal in the hyperparameters and which
  // start wins varies from case to case; the lowest objective is kept. Each start gets an equal
  // share of the iterations (and of the time) the earlier ones left.
  struct Start {
    bool hold_lengthscales;
    double peak_lengths;
  };
  const Start starts[] = {{true, 1.0}, {false, 1.0}, {true, 4.0}, {false, 4.0}};
  const int nstarts = x.multi_start ? 4 : 1;
  double best = INFINITY;
  long its_all = 0;
  for (int k = 0; k < nstarts; ++k) {
    const Start& st = starts[k];
    const double tk = core::wall_time();
    if (k > 0 && tk - t0 >= seconds) {  // the time is spent: no start of a single evaluation each
      core::log::info("GP-HM start", nstarts - k > 1 ? "s " : " ", k + 1, nstarts - k > 1 ? " to " + std::to_string(nstarts) : std::string(),
                      " skipped: the time limit");
      break;
    }
    const double budget = std::max(0.0, (seconds - (tk - t0)) / double(nstarts - k));
    const long maxk = std::max(2L, (max_it - its_all) / (nstarts - k));
    spectral::LbfgsSetup s;
    s.prefix = "gp_";
    s.start = x.initial(1.0 / st.peak_lengths);
    // Stage 1: the weights and noise precisions (and the lengthscales unless held), frequencies held.
    s.lower = x.lower;
    s.upper = x.upper;
    for (long i = 0; i < s.start.size(); ++i)
      if (x.held(i, st.hold_lengthscales)) s.lower(i) = s.upper(i) = s.start(i);
    long it1 = 0, it2 = 0;
    std::string why1, why2;
    core::log::info("GP-HM start ", k + 1, " of ", nstarts, ": stage 1 over the weights", st.hold_lengthscales ? "" : ", lengthscales",
                    " and noise precisions, then all ", s.start.size(), " hyperparameters",
                    nstarts > 1 ? "; the spectral peaks' lengthscales start at " + std::to_string(int(st.peak_lengths)) + " length(s)" : std::string());
    s.start = spectral::minimize_lbfgs(x.f, s, std::max(1L, maxk / 3), budget / 3, it1, why1);
    s.lower = x.lower;
    s.upper = x.upper;
    const double left = std::max(0.0, budget - (core::wall_time() - tk));
    Eigen::VectorXd theta = s.start.col(0);
    if (left > 0)
      theta = spectral::minimize_lbfgs(x.f, s, std::max(1L, maxk - it1), left, it2, why2).col(0);
    else
      why2 = "the time limit";
    its_all += it1 + it2;
    Eigen::VectorXd u;
    const double J = x.final_solve(theta, u);
    core::log::info("  stage 1: ", it1, " iterations (", why1, "); stage 2: ", it2, " iterations (", why2, "); objective ", J, " (",
                    core::wall_time() - t0, " s)");
    if (J < best) {
      best = J;
      res.theta = theta;
      res.u = u;
      res.stopped_by = why2;
    }
  }
  if (nstarts > 1) res.method += ", best of 4 starts by objective";
  res.iterations = its_all;
  return res;
}

HmResult fit_hm_exact(const HmModel& m, long max_it, double seconds) {
  // Every solve starts from U = 0 (for a nonlinear p the first Gauss-Newton step is the
  // linearised problem): a warm start from the previous hyperparameters could land in another
  // stationary point and make min_U J jump between evaluations, which breaks the line search.
  const Eigen::VectorXd u_zero = Eigen::VectorXd::Zero(m.n());
  long gn = 0, solves = 0;
  bool first = true;
  ExactFit x;
  x.f = [&](const Eigen::MatrixXd& T, Eigen::MatrixXd* G) -> double {
    HmModel::Factors F;
    try {
      F = m.factor(T.col(0));
    } catch (const Error&) {
      if (first) throw;
      // Outside the covariance's domain: an infinite value makes TAO's line search step back.
      if (G) G->setZero(T.rows(), 1);
      return INFINITY;
    }
    first = false;
    int steps = 0;
    const Eigen::VectorXd u = m.solve(F, u_zero, &steps);
    ++solves;
    gn += steps;
    Eigen::VectorXd g;
    const double J = m.objective(F, u, G ? &g : nullptr, nullptr, nullptr, true);
    if (G) *G = g;
    return J;
  };
  const int Q = m.q();
  m.bounds(x.lower, x.upper);
  x.initial = [&](double peak) { return m.initial(peak); };
  x.held = [Q](long i, bool hold_lengthscales) { return i >= (hold_lengthscales ? Q : 2 * Q) && i < 3 * Q; };
  x.final_solve = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& u) {
    const HmModel::Factors F = m.factor(theta);
    u = m.solve(F, u_zero);
    return m.objective(F, u, nullptr, nullptr);
  };
  x.multi_start = m.problem().spectral_init;
  HmResult res = fit_exact(x, max_it, seconds);
  res.solves = solves;
  res.gauss_newton_steps = gn;
  m.objective(m.factor(res.theta), res.u, nullptr, nullptr, &res.parts);
  return res;
}

HmResult fit_hm_adam(const HmModel& m, long steps, double seconds, double lr) {
  core::ScopedTimer timer("gp.adam");
  const long nt = m.size(), n = m.n();
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(nt + n, 1);
  X.col(0).head(nt) = m.initial();
  long k = 0;
  spectral::Objective f = [&](const Eigen::MatrixXd& Z, Eigen::MatrixXd* G) -> double {
    const HmModel::Factors F = m.factor(Z.col(0).head(nt));
    const Eigen::VectorXd u = Z.col(0).tail(n);
    Eigen::VectorXd gt, gu;
    const double J = m.objective(F, u, G ? &gt : nullptr, G ? &gu : nullptr);
    if (G) {
      G->resize(nt + n, 1);
      G->col(0).head(nt) = gt;
      G->col(0).tail(n) = gu;
      ++k;
    }
    return J;
  };
  long taken = steps;
  try {
    X = spectral::minimize_adam(f, X, taken, seconds, lr, INFINITY);
  } catch (const Error& e) {
    throw Error(std::string("GP-HM Adam protocol failed at step ") + std::to_string(k) + ": " + e.what());
  }
  HmResult res;
  res.method = "Adam on (U, hyperparameters), GP-HM's protocol";
  res.theta = X.col(0).head(nt);
  res.u = X.col(0).tail(n);
  res.iterations = taken;
  res.stopped_by = taken < steps ? "the time limit" : "the step count";
  m.objective(m.factor(res.theta), res.u, nullptr, nullptr, &res.parts);
  return res;
}

}  // namespace kron::gp
