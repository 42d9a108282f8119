#include "kron/problems/gp_pde.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/pencil.hpp"
#include "kron/linops/petsc_krylov.hpp"
#include "kron/problems/bwler.hpp"

namespace kron::problems {

using core::ValueKind;

namespace {
constexpr const char* S = "gp";
}  // namespace

void GpPde::declare(core::Schema& schema) {
  core::SectionSpec s{"gp",
                      "A PDE solved by GP-HM's Gaussian-process model: solution values at uniform collocation points, a "
                      "spectral-mixture prior, hyperparameters and noise precisions learned.",
                      {}, false, "gp_pde"};
  s.keys = {
      {"x", ValueKind::RealList, "[0.0, 6.283185307179586]", "The interval [x0, x1]; u is given at both ends.", -1e300, 1e300, {}, 2, 2},
      {"points", ValueKind::Integer, "400", "Uniform collocation points on [x0, x1], ends included.", 3, 20000},
      {"second", ValueKind::Real, "1.0", "Coefficient c2 of u_xx in c2 u_xx + c1 u_x + p(u) = f.", -1e300, 1e300},
      {"first", ValueKind::Real, "0.0", "Coefficient c1 of u_x.", -1e300, 1e300},
      {"reaction", ValueKind::RealList, "[0.0, 0.0, 0.0, 0.0]",
       "Coefficients [p0, p1, p2, p3] of p(u) = p0 + p1 u + p2 u^2 + p3 u^3 (Allen-Cahn's u(u^2 - 1): [0, -1, 0, 1]); a nonzero p2 "
       "or p3 makes the PDE nonlinear (U by Gauss-Newton).",
       -1e300, 1e300, {}, 4, 4},
      {"source", ValueKind::String, "", "The right side f(x) (written from the exact solution by the user, not derived by kron)."},
      {"boundary", ValueKind::String, "", "u at x0 and x1, an expression of x (evaluated at both ends)."},
      {"exact", ValueKind::String, "", "The exact solution u(x), for the error on the test grid; absent: no error is reported.", -1e300,
       1e300, {}, 0, 0, true},
      {"kernel", ValueKind::String, "\"student_t\"",
       "The spectral mixture: student_t (Matern-5/2 envelopes, GP-HM's Student-t mixture) or gaussian (squared-exponential "
       "envelopes).",
       -1e300, 1e300, {"student_t", "gaussian"}},
      {"components", ValueKind::Integer, "30", "Mixture components Q.", 1, 1000},
      {"freq_scale", ValueKind::Real, "20.0",
       "Initial frequencies: Q values evenly from 0 to this, in cycles per unit length; at most the grid's Nyquist frequency.", 0, 1e300},
      {"init", ValueKind::String, "\"source_spectrum\"",
       "Initial frequencies: uniform (GP-HM's: Q values evenly from 0 to gp.freq_scale), or source_spectrum (that grid with "
       "the component nearest each peak of the source's periodogram moved onto it, inverse lengthscale 1/length; the default "
       "for method exact). Method adam always starts from GP-HM's uniform grid.",
       -1e300, 1e300, {"uniform", "source_spectrum"}},
      {"inverse_lengthscale", ValueKind::Real, "1.0",
       "Initial inverse lengthscale a of every component (GP-HM's: 1), per unit length; must be positive.", -1e300, 1e300},
      {"jitter", ValueKind::Real, "1e-6", "Added to the covariance's diagonal.", 0, 1e300},
      {"boundary_weight", ValueKind::Real, "200.0", "Weight of the boundary likelihood (the paper's: 200).", 0, 1e300},
      {"method", ValueKind::String, "\"exact\"",
       "exact: U solved exactly for each hyperparameter set (Gauss-Newton for nonlinear p), the hyperparameters by bounded L-BFGS "
       "(PETSc TAO TAOBLMVM; -gp_tao_* options reach it), first the weights and noise precisions, then all; adam: the paper's "
       "protocol, Adam on U and the hyperparameters together from U = 0.",
       -1e300, 1e300, {"exact", "adam"}},
      {"steps", ValueKind::Integer, "1000000", "The most optimiser iterations (Adam steps).", 1, 1e12},
      {"time_limit", ValueKind::Real, "60.0", "The most wall time of the optimisation in seconds.", 0, 1e300},
      {"learning_rate", ValueKind::Real, "0.01", "method adam: the step size (the paper's: 0.01).", 0, 1e300},
      {"test_points", ValueKind::Integer, "300", "Uniform test points on [x0, x1] for the error (the paper's: 300).", 2, 10000000},
  };
  schema.add(s);
}

GpPde::GpPde(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const auto params = deck.table("parameters");
  gp::HmProblem p;
  const auto xl = deck.reals(S, "x");
  if (!(xl[1] > xl[0])) throw deck.error(S, "x", "the interval is empty or reversed");
  p.x0 = xl[0];
  p.x1 = xl[1];
  p.points = static_cast<long>(deck.integer(S, "points"));
  p.c2 = deck.real(S, "second");
  p.c1 = deck.real(S, "first");
  if (p.c2 == 0.0 && p.c1 == 0.0) throw deck.error(S, "second", "and gp.first are both 0: the PDE has no derivative");
  const auto rc = deck.reals(S, "reaction");
  std::copy(rc.begin(), rc.end(), p.reaction.begin());
  p.envelope = deck.string(S, "kernel") == "gaussian" ? gp::SpectralMixture::Envelope::Gaussian : gp::SpectralMixture::Envelope::Matern52;
  p.components = static_cast<int>(deck.integer(S, "components"));
  p.freq_scale = deck.real(S, "freq_scale");
  p.jitter = deck.real(S, "jitter");
  p.inv_lengthscale = deck.real(S, "inverse_lengthscale");
  if (!(p.inv_lengthscale > 0)) throw deck.error(S, "inverse_lengthscale", "must be positive (a lengthscale is positive)");
  p.boundary_weight = deck.real(S, "boundary_weight");
  if (!(p.boundary_weight > 0)) throw deck.error(S, "boundary_weight", "must be positive");
  const double h = (p.x1 - p.x0) / double(p.points - 1), nyquist = 0.5 / h;
  if (!(p.freq_scale > 0) || p.freq_scale > nyquist) {
    std::ostringstream os;
    os << "is " << p.freq_scale << " but " << p.points << " points on [" << p.x0 << ", " << p.x1 << "] resolve frequencies up to "
       << nyquist << " cycles per unit length (Nyquist)";
    throw deck.error(S, "freq_scale", os.str(), "more points, or a smaller frequency scale");
  }
  method_ = deck.string(S, "method");
  p.spectral_init = method_ == "exact" && deck.string(S, "init") == "source_spectrum";
  if (method_ == "exact") linops::petsc::initialize();  // TAO: options after -- must reach it
  test_points_ = static_cast<long>(deck.integer(S, "test_points"));

  auto expr = [&](const std::string& key) {
    core::Expression e(deck.string(S, key), params, deck.where(S, key));
    for (const char* v : {"y", "z", "t"})
      if (e.uses(v)) throw deck.error(S, key, "\"" + e.text() + "\" uses " + v + "; this GP-HM problem has x only");
    return e;
  };
  const core::Expression src = expr("source"), bnd = expr("boundary");
  if (deck.has(S, "exact")) exact_.push_back(expr("exact"));
  p.f.resize(p.points);
  for (long i = 0; i < p.points; ++i) {
    const double x = i == p.points - 1 ? p.x1 : p.x0 + double(i) * h;
    p.f[i] = src(x, 0, 0, 0);
    if (!std::isfinite(p.f[i])) {
      std::ostringstream os;
      os << "\"" << src.text() << "\" is not finite at x = " << x;
      throw deck.error(S, "source", os.str());
    }
  }
  p.boundary = {0, p.points - 1};
  p.g.resize(2);
  p.g[0] = bnd(p.x0, 0, 0, 0);
  p.g[1] = bnd(p.x1, 0, 0, 0);
  if (!p.g.allFinite()) throw deck.error(S, "boundary", "\"" + bnd.text() + "\" is not finite at an end");
  model_ = std::make_unique<gp::HmModel>(std::move(p));
  model_->factor(model_->initial());  // a singular initial covariance is known now, before any work
}

core::Json GpPde::run() {
  namespace log = core::log;
  const gp::HmProblem& p = model_->problem();
  log::info("GP-HM: ", p.c2, " u_xx + ", p.c1, " u_x + p(u) = ", deck_.string(S, "source"), " on [", p.x0, ", ", p.x1, "], ", p.points,
            " points, ", p.components, "-component ", deck_.string(S, "kernel"), " mixture, method ", method_);
  const double t0 = core::wall_time();
  const long steps = static_cast<long>(deck_.integer(S, "steps"));
  const double limit = deck_.real(S, "time_limit");
  gp::HmResult r = method_ == "adam" ? gp::fit_hm_adam(*model_, steps, limit, deck_.real(S, "learning_rate"))
                                     : gp::fit_hm_exact(*model_, steps, limit);
  // Every rank fits the same (small, 1D) model; the time limit may stop them at different
  // iterations, so rank 0's result is the run's.
  MPI_Bcast(r.theta.data(), static_cast<int>(r.theta.size()), MPI_DOUBLE, 0, comm_);
  MPI_Bcast(r.u.data(), static_cast<int>(r.u.size()), MPI_DOUBLE, 0, comm_);
  double scalars[9] = {r.parts.objective, r.parts.prior, r.parts.log_det, r.parts.residual_rms, r.parts.boundary_rms, r.parts.tau, r.parts.v,
                       double(r.iterations), double(r.solves)};
  MPI_Bcast(scalars, 9, MPI_DOUBLE, 0, comm_);
  r.parts = {scalars[0], scalars[1], scalars[2], scalars[3], scalars[4], scalars[5], scalars[6]};
  r.iterations = static_cast<long>(scalars[7]);
  r.solves = static_cast<long>(scalars[8]);
  const double fit_s = core::wall_time() - t0;
  if (!r.u.allFinite() || !r.theta.allFinite()) throw Error("GP-HM: the fit is not finite", {}, "a smaller learning rate, or check the source");
  log::info("solved: ", r.method, " in ", fit_s, " s, ", r.iterations, " iterations, stopped by ", r.stopped_by);
  log::info("objective ", r.parts.objective, "; rms PDE residual ", r.parts.residual_rms, ", rms boundary misfit ", r.parts.boundary_rms,
            "; precisions tau ", r.parts.tau, ", v ", r.parts.v);

  // The learned spectrum, strongest components first.
  const int Q = model_->q();
  const auto k = model_->kernel(r.theta);
  std::vector<int> order(static_cast<std::size_t>(Q));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return k->weights()[std::size_t(a)] > k->weights()[std::size_t(b)]; });
  std::ostringstream spec;
  for (int i = 0; i < std::min(Q, 5); ++i) {
    const auto q = static_cast<std::size_t>(order[static_cast<std::size_t>(i)]);
    spec << (i ? "; " : "") << "w " << k->weights()[q] << " mu " << k->frequencies()[q] << " a " << k->inv_lengthscales()[q];
  }
  log::info("learned spectrum (strongest): ", spec.str());

  // The posterior mean and its error on the test grid, split over the ranks.
  layout::Domain d;
  d.dim = 1;
  d.axes = {layout::AxisGrid::uniform(test_points_, p.x0, p.x1), layout::AxisGrid(), layout::AxisGrid()};
  const int np = core::mpi::size(comm_);
  auto grid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  const layout::Pencil px(d.shape(), grid, 0);
  const auto& b = px.box();
  // (The 1D test grid lies on the ranks that own its one y-z line; the others hold none.)
  const long mine = b.n[1] * b.n[2] > 0 ? b.n[0] : 0;
  std::vector<double> xs;
  for (long i = 0; i < mine; ++i) xs.push_back(d.axes[0][b.lo[0] + i]);
  const gp::HmModel::Factors F = model_->factor(r.theta);
  const Eigen::VectorXd fine = model_->predict(F, r.u, xs);
  layout::RealField u(px), err(px);
  TestGridError te;
  const bool has_truth = !exact_.empty();
  for (long i = 0; i < mine; ++i) {
    u(i, 0, 0) = fine[i];
    if (has_truth) err(i, 0, 0) = te.add(fine[i], exact_[0](xs[static_cast<std::size_t>(i)], 0, 0, 0));
  }
  te.combine(comm_);
  const double rel = te.relative_l2();
  if (has_truth) log::info("test grid ", test_points_, " points: relative L2 error ", rel, ", max error ", te.max);

  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  layout::OutputWriter::FieldList fields{{"u", &u, 0}};
  if (has_truth) fields.push_back({"error", &err, 0});
  out.write_step(0, 0.0, fields, [&](layout::H5File& f) {
    f.write_vector("/gp/collocation_points", model_->points());
    f.write_vector("/gp/collocation_values", std::vector<double>(r.u.data(), r.u.data() + r.u.size()));
    f.write_vector("/spectrum/weights", k->weights());
    f.write_vector("/spectrum/frequencies", k->frequencies());
    f.write_vector("/spectrum/inverse_lengthscales", k->inv_lengthscales());
    f.write_vector("/spectrum/noise_precisions_tau_v", std::vector<double>{r.parts.tau, r.parts.v});
  });
  log::info("wrote ", out.step_path(0), " and ", dir, "/", name, ".xdmf (u, error; /spectrum: the learned mixture)");

  core::Json j;
  j["problem"] = "gp_pde";
  j["method"] = r.method;
  j["points"] = double(p.points);
  j["components"] = double(Q);
  j["objective"] = r.parts.objective;
  j["residual_rms"] = r.parts.residual_rms;
  j["boundary_rms"] = r.parts.boundary_rms;
  j["tau"] = r.parts.tau;
  j["v"] = r.parts.v;
  j["fit_seconds"] = fit_s;
  j["iterations"] = r.iterations;
  j["stopped_by"] = r.stopped_by;
  if (method_ == "exact") {
    j["u_solves"] = r.solves;
    if (r.gauss_newton_steps > r.solves) j["gauss_newton_steps"] = r.gauss_newton_steps;
  }
  j["spectrum_weights"] = core::Json(k->weights());
  j["spectrum_frequencies"] = core::Json(k->frequencies());
  j["spectrum_inverse_lengthscales"] = core::Json(k->inv_lengthscales());
  if (has_truth) {
    j["error_relative_l2"] = rel;
    j["error_max"] = te.max;
  }
  return j;
}

}  // namespace kron::problems
