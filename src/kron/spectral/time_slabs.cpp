// Space-time spectral collocation on time slabs, solved by Newton's method: the nonlinear
// BWLer cases with x-derivatives (Burgers). See fit_time_slabs in fit.hpp.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/timer.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/fit.hpp"

namespace kron::spectral {

namespace {

// One derivative symbol d^dt/dt^dt d^dx/dx^dx u of the PDE: its linear coefficient and the
// coefficient of u times it, with its x matrix (identity for dx = 0).
struct Symbol {
  int dt = 0, dx = 0;
  double linear = 0, product = 0;
  Eigen::MatrixXd X;
};

std::vector<Symbol> symbols(const SpaceTimeProblem& p) {
  std::vector<Symbol> s;
  auto find = [&](int dt, int dx) -> Symbol& {
    for (auto& q : s)
      if (q.dt == dt && q.dx == dx) return q;
    Symbol q;
    q.dt = dt;
    q.dx = dx;
    q.X = dx == 0 ? Eigen::MatrixXd::Identity(p.x.size(), p.x.size()) : differentiation_matrix(p.x, dx);
    s.push_back(std::move(q));
    return s.back();
  };
  for (const auto& t : p.terms) find(t.dt, t.dx).linear += t.coef;
  for (const auto& t : p.products) find(t.dt, t.dx).product += t.coef;
  return s;
}

void check(const SpaceTimeProblem& p) {
  const long nt = p.t.size(), nx = p.x.size();
  if (p.t.periodic() || nt < 2 || nx < 3) throw Error("a time-slab fit needs a bounded t axis and at least 2 t and 3 x nodes");
  if (p.time_slabs < 1) throw Error("a time-slab fit needs at least one slab");
  if (!p.t_collocation.empty() || !p.x_collocation.empty())
    throw Error("a time-slab fit collocates at the nodes", {}, "leave out the collocation points");
  bool first_order = false;
  for (const auto& t : p.terms) {
    if (t.dt > 1 || t.dx < 0 || t.dt < 0 || !std::isfinite(t.coef))
      throw Error("a time-slab fit takes first-order equations in t", {}, "second-order ones take the exact least-squares path");
    first_order = first_order || (t.dt == 1 && t.coef != 0.0);
  }
  for (const auto& t : p.products)
    if (t.dt > 1 || t.dx < 0 || t.dt < 0 || !std::isfinite(t.coef)) throw Error("a time-slab fit takes products u * D u with D of order <= 1 in t");
  if (!first_order) throw Error("a time-slab fit needs a u_t term");
  if (p.initial.size() != 1 || p.initial[0].dt != 0 || static_cast<long>(p.initial[0].values.size()) != nx)
    throw Error("a time-slab fit needs the initial values of u at the x nodes");
  if (p.x.periodic() == static_cast<bool>(p.boundary_fn[0] && p.boundary_fn[1]))
    throw Error(p.x.periodic() ? "a periodic x axis takes no boundary data" : "a bounded x axis needs boundary data at both ends");
  const long nxu = p.x.periodic() ? nx : nx - 2;
  if ((nt - 1) * nxu > 4096)
    throw Error("a time-slab fit solves each Newton step densely, up to 4096 unknowns per slab; this one has " +
                    std::to_string((nt - 1) * nxu),
                {}, "fewer nodes per slab and more slabs");
  if (p.reaction.size() > 4) throw Error("a reaction term of degree above 3");
}

}  // namespace

FitResult fit_time_slabs(const SpaceTimeProblem& p) {
  core::ScopedTimer timer("spectral.fit_time_slabs");
  check(p);
  const long nt = p.t.size(), nx = p.x.size();
  const bool bounded = !p.x.periodic();
  const long j0 = bounded ? 1 : 0, nxu = bounded ? nx - 2 : nx, n = (nt - 1) * nxu;
  std::vector<Symbol> sym = symbols(p);
  const std::vector<double>& xs = p.x.coords();
  auto react = [&](double u) {
    double v = 0;
    for (std::size_t k = p.reaction.size(); k-- > 0;) v = v * u + p.reaction[k];
    return v;
  };
  auto dreact = [&](double u) {
    double v = 0;
    for (std::size_t k = p.reaction.size(); k-- > 1;) v = v * u + double(k) * p.reaction[k];
    return v;
  };

  FitResult r;
  r.iterations = 0;
  double sum_r2 = 0, condition = 0;
  long count = 0;
  Eigen::RowVectorXd start = Eigen::Map<const Eigen::RowVectorXd>(p.initial[0].values.data(), nx);
  const double t_begin = core::wall_time();
  double last_report = t_begin;
  const int S = p.time_slabs;
  for (int s = 0; s < S; ++s) {
    const double ta = p.t.lower() + p.t.length() * double(s) / double(S);
    const double tb = s + 1 == S ? p.t.upper() : p.t.lower() + p.t.length() * double(s + 1) / double(S);
    const layout::AxisGrid tg = layout::AxisGrid::chebyshev(nt, ta, tb);
    const std::vector<double>& ts = tg.coords();
    const Eigen::MatrixXd Dt = differentiation_matrix(tg, 1), It = Eigen::MatrixXd::Identity(nt, nt);
    Eigen::MatrixXd U(nt, nx), F = Eigen::MatrixXd::Zero(nt, nx);
    for (long i = 0; i < nt; ++i) U.row(i) = start;
    if (bounded)
      for (long i = 1; i < nt; ++i) {
        U(i, 0) = p.boundary_fn[0](ts[static_cast<std::size_t>(i)]);
        U(i, nx - 1) = p.boundary_fn[1](ts[static_cast<std::size_t>(i)]);
      }
    if (p.source_fn)
      for (long i = 0; i < nt; ++i)
        for (long j = 0; j < nx; ++j) F(i, j) = p.source_fn(ts[static_cast<std::size_t>(i)], xs[static_cast<std::size_t>(j)]);
    if (!U.allFinite() || !F.allFinite())
      throw Error("the initial, boundary or source data are not finite in time slab " + std::to_string(s + 1));

    std::vector<Eigen::MatrixXd> D(sym.size());
    // The residual at the unknowns' nodes (rows 1.., interior columns), t-major like the unknowns.
    auto residual = [&](Eigen::VectorXd& R) {
      Eigen::MatrixXd Rm = -F;
      for (std::size_t k = 0; k < sym.size(); ++k) {
        D[k] = (sym[k].dt == 0 ? U : Eigen::MatrixXd(Dt * U)) * sym[k].X.transpose();
        Rm += sym[k].linear * D[k];
        if (sym[k].product != 0.0) Rm += sym[k].product * U.cwiseProduct(D[k]);
      }
      if (!p.reaction.empty()) Rm += U.unaryExpr(react);
      R.resize(n);
      for (long i = 1; i < nt; ++i)
        for (long j = 0; j < nxu; ++j) R[(i - 1) * nxu + j] = Rm(i, j0 + j);
    };
    Eigen::VectorXd R, delta;
    Eigen::MatrixXd J(n, n);
    bool converged = false;
    int steps = 0;
    for (; steps < 30 && !converged; ++steps) {
      residual(R);
      J.setZero();
      for (std::size_t k = 0; k < sym.size(); ++k) {
        const Eigen::MatrixXd& T = sym[k].dt == 0 ? It : Dt;
        const Eigen::MatrixXd& X = sym[k].X;
        for (long i = 1; i < nt; ++i)
          for (long j = 0; j < nxu; ++j) {
            const double w = sym[k].linear + sym[k].product * U(i, j0 + j);
            if (w == 0.0) continue;
            const long row = (i - 1) * nxu + j;
            for (long c = 1; c < nt; ++c) {
              const double tw = w * T(i, c);
              if (tw == 0.0) continue;
              for (long l = 0; l < nxu; ++l) J(row, (c - 1) * nxu + l) += tw * X(j0 + j, j0 + l);
            }
          }
      }
      for (long i = 1; i < nt; ++i)
        for (long j = 0; j < nxu; ++j) {
          double d = p.reaction.empty() ? 0.0 : dreact(U(i, j0 + j));
          for (std::size_t k = 0; k < sym.size(); ++k)
            if (sym[k].product != 0.0) d += sym[k].product * D[k](i, j0 + j);
          J((i - 1) * nxu + j, (i - 1) * nxu + j) += d;
        }
      Eigen::PartialPivLU<Eigen::MatrixXd> lu(J);
      const double rc = lu.rcond();
      condition = std::max(condition, rc > 0 ? 1.0 / rc : INFINITY);
      delta = lu.solve(-R);
      if (!delta.allFinite())
        throw Error("the Newton iteration of time slab " + std::to_string(s + 1) + " (t in [" + std::to_string(ta) + ", " + std::to_string(tb) +
                        "]) turned non-finite at step " + std::to_string(steps + 1),
                    {}, "more time slabs, more nodes, or check the PDE and data");
      for (long i = 1; i < nt; ++i)
        for (long j = 0; j < nxu; ++j) U(i, j0 + j) += delta[(i - 1) * nxu + j];
      converged = delta.lpNorm<Eigen::Infinity>() <= 1e-13 * std::max(1.0, U.lpNorm<Eigen::Infinity>());
    }
    if (!converged) {
      std::ostringstream os;
      os << "the Newton iteration of time slab " << s + 1 << " (t in [" << ta << ", " << tb << "]) did not converge in 30 steps; its last step was "
         << delta.lpNorm<Eigen::Infinity>();
      throw Error(os.str(), {}, "more time slabs or more nodes");
    }
    residual(R);
    sum_r2 += R.squaredNorm();
    count += n;
    r.iterations += steps;
    start = U.row(nt - 1);
    r.slabs.push_back({tg, U});
    const double now = core::wall_time();
    if (now - last_report > 5.0 && s + 1 < S) {
      core::log::info("time slab ", s + 1, " of ", S, " (t = ", tb, "): ", r.iterations, " Newton steps, ", now - t_begin, " s");
      last_report = now;
    }
  }
  r.u = r.slabs.back().u;
  r.residual_rms = std::sqrt(sum_r2 / double(count));
  r.loss = sum_r2 / double(count);
  r.initial_rms = 0;  // the initial and boundary data are imposed at the nodes
  r.condition = condition;
  r.modes = S;
  std::ostringstream m;
  m << "time-slab collocation Newton (" << S << " slabs of " << nt << " x " << nx << " nodes; dense LU of " << n
    << " unknowns per step; initial and boundary data imposed at the nodes)";
  r.method = m.str();
  return r;
}

}  // namespace kron::spectral
