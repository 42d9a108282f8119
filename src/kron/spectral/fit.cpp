#include "kron/spectral/fit.hpp"

#include <cmath>
#include <complex>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/barycentric.hpp"

namespace kron::spectral {

namespace {

using cplx = std::complex<double>;

// d-th t-derivative matrix (identity for d = 0).
Eigen::MatrixXd time_derivative(const layout::AxisGrid& t, int d) {
  if (d == 0) return Eigen::MatrixXd::Identity(t.size(), t.size());
  return differentiation_matrix(t, d);
}

void check(const SpaceTimeProblem& p) {
  const long nt = p.t.size(), nx = p.x.size();
  if (!p.x.periodic()) throw Error("a space-time fit needs a periodic x axis (Fourier nodes)", {}, "use grid kind periodic along x");
  if (p.t.periodic()) throw Error("a space-time fit needs a bounded t axis (e.g. Chebyshev nodes)");
  if (nt < 2 || nx < 2) throw Error("a space-time fit needs at least 2 nodes per axis");
  if (p.terms.empty()) throw Error("a space-time fit needs at least one PDE term");
  for (const auto& term : p.terms)
    if (term.dt < 0 || term.dx < 0 || !std::isfinite(term.coef)) throw Error("a PDE term has a negative derivative order or a non-finite coefficient");
  if (!p.source.empty() && static_cast<long>(p.source.size()) != nt * nx)
    throw Error("the source has " + std::to_string(p.source.size()) + " values for " + std::to_string(nt * nx) + " nodes");
  for (const auto& in : p.initial) {
    if (static_cast<long>(in.values.size()) != nx)
      throw Error("an initial condition has " + std::to_string(in.values.size()) + " values for " + std::to_string(nx) + " x nodes");
    if (!(in.weight > 0) || in.dt < 0) throw Error("an initial condition needs a positive weight and a derivative order >= 0");
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

// The residual of the PDE at the nodes (reaction included) and the loss, in physical space.
void evaluate(const SpaceTimeProblem& p, const std::vector<Eigen::MatrixXd>& Dt, const std::vector<Eigen::RowVectorXd>& init_rows, FitResult& r,
              Eigen::MatrixXd* residual = nullptr) {
  const long nt = p.t.size(), nx = p.x.size(), ni = static_cast<long>(p.initial.size());
  Eigen::MatrixXd R = Eigen::MatrixXd::Zero(nt, nx);
  for (std::size_t j = 0; j < p.terms.size(); ++j) {
    const int q = p.terms[j].dx;
    const Eigen::MatrixXd Dx = q == 0 ? Eigen::MatrixXd::Identity(nx, nx) : differentiation_matrix(p.x, q);
    R += p.terms[j].coef * Dt[j] * r.u * Dx.transpose();
  }
  if (!p.reaction.empty()) R += r.u.unaryExpr([&](double v) { return poly(p.reaction, v); });
  if (!p.source.empty())
    R -= Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(p.source.data(), nt, nx);
  const double res2 = R.squaredNorm() / double(nt * nx);
  double init2 = 0, weighted = 0;
  for (long q = 0; q < ni; ++q) {
    const auto& in = p.initial[static_cast<std::size_t>(q)];
    const double e2 = (init_rows[static_cast<std::size_t>(q)] * r.u - Eigen::Map<const Eigen::RowVectorXd>(in.values.data(), nx)).squaredNorm() / double(nx);
    init2 += e2;
    weighted += in.weight * e2;
  }
  r.residual_rms = std::sqrt(res2);
  r.initial_rms = std::sqrt(ni > 0 ? init2 / double(ni) : 0.0);
  r.loss = res2 + weighted;
  if (residual) *residual = R;
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
  for (long k = 0; k < nk; ++k) {
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
    ++r.modes;
  }
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
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(nt, nt);
  for (std::size_t j = 0; j < p.terms.size(); ++j) L += p.terms[j].coef * Dt[j];
  FitResult r;
  r.u.resize(nt, nx);
  for (long j = 0; j < nx; ++j) r.u.col(j).setConstant(p.initial.empty() ? 0.0 : p.initial[0].values[static_cast<std::size_t>(j)]);
  const double rt = std::sqrt(1.0 / double(nt));
  r.iterations = 0;
  for (int it = 0; it < 50; ++it) {
    Eigen::MatrixXd R;
    evaluate(p, Dt, init_rows, r, &R);
    double step = 0, size = 0;
    r.condition = 0;
    for (long j = 0; j < nx; ++j) {
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
      const Eigen::VectorXd d = svd.solve(b);
      r.u.col(j) += d;
      step = std::max(step, d.cwiseAbs().maxCoeff());
      size = std::max(size, r.u.col(j).cwiseAbs().maxCoeff());
    }
    ++r.iterations;
    if (!r.u.allFinite()) throw Error("the Gauss-Newton fit diverged (non-finite values at step " + std::to_string(r.iterations) + ")");
    if (step <= 1e-13 * std::max(size, 1.0)) break;
    if (it == 49)
      throw Error("the Gauss-Newton fit did not converge in 50 steps (last step " + std::to_string(step) + ")", {},
                  "more nodes in t, or a shorter time interval");
  }
  evaluate(p, Dt, init_rows, r);
  r.modes = nx;
  r.method = "Gauss-Newton, " + std::to_string(r.iterations) + " steps of " + std::to_string(nx) + " dense least-squares problems of " +
             std::to_string(nt + ni) + " x " + std::to_string(nt) + " (one per x node, SVD)";
  return r;
}

}  // namespace

FitResult fit_space_time(const SpaceTimeProblem& p) {
  core::ScopedTimer timer("spectral.fit");
  check(p);
  if (nonlinear(p)) return fit_gauss_newton(p);
  FitResult r = fit_linear(linear_form(p));
  evaluate(p, [&] {
    std::vector<Eigen::MatrixXd> Dt;
    for (const auto& term : p.terms) Dt.push_back(time_derivative(p.t, term.dt));
    return Dt;
  }(), initial_rows(p), r);
  return r;
}

}  // namespace kron::spectral
