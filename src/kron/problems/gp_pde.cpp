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
      {"y", ValueKind::RealList, "",
       "The interval [y0, y1] of a 2D problem c2 u_xx + c1 u_x + c2y u_yy + c1y u_y + p0 + p1 u = f on [x0, x1] x [y0, y1], u "
       "given on the whole boundary; absent: one dimension.",
       -1e300, 1e300, {}, 2, 2, true},
      {"points", ValueKind::Integer, "400", "Uniform collocation points per axis, ends included.", 3, 20000},
      {"second", ValueKind::Real, "1.0", "Coefficient c2 of u_xx in c2 u_xx + c1 u_x + p(u) = f.", -1e300, 1e300},
      {"first", ValueKind::Real, "0.0",
       "Coefficient c1 of u_x. The grid model (2D, or residual_covariance = prior) takes one kind of derivative per axis: "
       "second or first, not both.",
       -1e300, 1e300},
      {"second_y", ValueKind::Real, "", "2D: the coefficient of u_yy; absent: gp.second.", -1e300, 1e300, {}, 0, 0, true},
      {"first_y", ValueKind::Real, "", "2D: the coefficient of u_y; absent: gp.first.", -1e300, 1e300, {}, 0, 0, true},
      {"residual_covariance", ValueKind::String, "\"auto\"",
       "The PDE residual's noise covariance: identity (GP-HM's I / v; 1D only), prior (K / v, the prior's covariance: the "
       "exact solve then factorises per axis, which 2D needs; one kind of derivative per axis, and second derivatives only with a nonlinear p), auto (identity in 1D, prior in 2D).",
       -1e300, 1e300, {"auto", "identity", "prior"}},
      {"reaction", ValueKind::RealList, "[0.0, 0.0, 0.0, 0.0]",
       "Coefficients [p0, p1, p2, p3] of p(u) = p0 + p1 u + p2 u^2 + p3 u^3 (Allen-Cahn's u(u^2 - 1): [0, -1, 0, 1]); a nonzero p2 "
       "or p3 makes the PDE nonlinear (U by Gauss-Newton; in the grid model each step by CG preconditioned with the exact linear solve).",
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
      {"steps", ValueKind::Integer, "1000000", "The most optimiser iterations in all: method exact, the L-BFGS iterations the starts share (a start gets an equal share of what the earlier ones left); method adam, the Adam steps. A result bounded by steps does not depend on the machine's speed; one cut by "
       "time_limit does.", 1, 1e12},
      {"time_limit", ValueKind::Real, "60.0", "The most wall time of the optimisation in seconds (a guard; steps gives reproducible runs), checked before every objective evaluation: a stopped run keeps the best point evaluated (plus the final U solve).", 0, 1e300},
      {"learning_rate", ValueKind::Real, "0.01", "method adam: the step size (the paper's: 0.01).", 0, 1e300},
      {"test_points", ValueKind::Integer, "300", "Uniform test points on [x0, x1] for the error (the paper's: 300).", 2, 10000000},
  };
  schema.add(s);
}

GpPde::GpPde(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const auto params = deck.table("parameters");
  const bool two_d = deck.has(S, "y");
  const std::string cov = deck.string(S, "residual_covariance");
  if (two_d && cov == "identity")
    throw deck.error(S, "residual_covariance", "is identity, which has no per-axis exact solve in 2D",
                     "residual_covariance = \"prior\" or \"auto\"");
  const bool grid = two_d || cov == "prior";
  gp::HmProblem p;
  std::array<std::vector<double>, 2> iv{deck.reals(S, "x"), two_d ? deck.reals(S, "y") : std::vector<double>{0.0, 0.0}};
  if (!(iv[0][1] > iv[0][0])) throw deck.error(S, "x", "the interval is empty or reversed");
  if (two_d && !(iv[1][1] > iv[1][0])) throw deck.error(S, "y", "the interval is empty or reversed");
  p.x0 = iv[0][0];
  p.x1 = iv[0][1];
  p.points = static_cast<long>(deck.integer(S, "points"));
  p.c2 = deck.real(S, "second");
  p.c1 = deck.real(S, "first");
  const double c2y = two_d && deck.has(S, "second_y") ? deck.real(S, "second_y") : p.c2;
  const double c1y = two_d && deck.has(S, "first_y") ? deck.real(S, "first_y") : p.c1;
  if (!two_d)
    for (const char* k : {"second_y", "first_y"})
      if (deck.has(S, k)) throw deck.error(S, k, "is given, but the problem is one-dimensional: gp.y is absent");
  if (p.c2 == 0.0 && p.c1 == 0.0 && c2y == 0.0 && c1y == 0.0) throw deck.error(S, "second", "and gp.first are both 0: the PDE has no derivative");
  if (grid && p.c2 != 0.0 && p.c1 != 0.0)
    throw deck.error(S, "first", "is nonzero as is gp.second, but the grid model, used in 2D and with residual_covariance = prior, takes one kind of derivative per axis",
                     two_d ? "" : "a 1D deck with residual_covariance = \"identity\"");
  if (two_d && c2y != 0.0 && c1y != 0.0)
    throw deck.error(S, deck.has(S, "first_y") ? "first_y" : "second_y", "is nonzero, and so is the y axis' other derivative coefficient: the grid model takes one kind of derivative per axis");
  const auto rc = deck.reals(S, "reaction");
  std::copy(rc.begin(), rc.end(), p.reaction.begin());
  const bool first_derivative = p.c1 != 0.0 || (two_d && c1y != 0.0);
  if (grid && (rc[2] != 0.0 || rc[3] != 0.0) && first_derivative)
    throw deck.error(S, "reaction", "is nonlinear (p2 or p3 is nonzero) and the PDE has a first-derivative term; the grid model's Newton solve, "
                     "used in 2D and with residual_covariance = prior, takes second derivatives only",
                     two_d ? "" : "a 1D deck with residual_covariance = \"identity\"");
  p.envelope = deck.string(S, "kernel") == "gaussian" ? gp::SpectralMixture::Envelope::Gaussian : gp::SpectralMixture::Envelope::Matern52;
  p.components = static_cast<int>(deck.integer(S, "components"));
  p.freq_scale = deck.real(S, "freq_scale");
  p.jitter = deck.real(S, "jitter");
  p.inv_lengthscale = deck.real(S, "inverse_lengthscale");
  if (!(p.inv_lengthscale > 0)) throw deck.error(S, "inverse_lengthscale", "must be positive (a lengthscale is positive)");
  p.boundary_weight = deck.real(S, "boundary_weight");
  if (!(p.boundary_weight > 0)) throw deck.error(S, "boundary_weight", "must be positive");
  for (int a = 0; a < (two_d ? 2 : 1); ++a) {
    const auto& I = iv[static_cast<std::size_t>(a)];
    const double h = (I[1] - I[0]) / double(p.points - 1), nyquist = 0.5 / h;
    if (!(p.freq_scale > 0) || p.freq_scale > nyquist) {
      std::ostringstream os;
      os << "is " << p.freq_scale << " but " << p.points << " points on [" << I[0] << ", " << I[1] << "] resolve frequencies up to " << nyquist
         << " cycles per unit length (Nyquist)";
      throw deck.error(S, "freq_scale", os.str(), "more points, or a smaller frequency scale");
    }
  }
  method_ = deck.string(S, "method");
  if (grid && method_ != "exact")
    throw deck.error(S, "method", "is " + method_ + "; the grid model, used in 2D and with residual_covariance = prior, runs kron's exact protocol only");
  p.spectral_init = method_ == "exact" && deck.string(S, "init") == "source_spectrum";
  if (method_ == "exact") linops::petsc::initialize();  // TAO: options after -- must reach it
  test_points_ = static_cast<long>(deck.integer(S, "test_points"));

  auto expr = [&](const std::string& key) {
    core::Expression e(deck.string(S, key), params, deck.where(S, key));
    for (const char* v : {"y", "z", "t"}) {
      if (two_d && std::string(v) == "y") continue;
      if (e.uses(v)) throw deck.error(S, key, "\"" + e.text() + "\" uses " + v + "; this GP-HM problem has " + (two_d ? "x and y" : "x") + " only");
    }
    return e;
  };
  const core::Expression src = expr("source"), bnd = expr("boundary");
  if (deck.has(S, "exact")) exact_.push_back(expr("exact"));
  // The points of each axis, ends exact.
  const long n = p.points, n1 = two_d ? n : 1;
  std::array<std::vector<double>, 2> xs;
  for (int a = 0; a < 2; ++a) {
    const auto& I = iv[static_cast<std::size_t>(a)];
    const long m = a == 0 ? n : n1;
    for (long i = 0; i < m; ++i) xs[static_cast<std::size_t>(a)].push_back(m == 1 ? I[0] : i == m - 1 ? I[1] : I[0] + double(i) * (I[1] - I[0]) / double(m - 1));
  }
  // An expression's value at a grid point; a non-finite one is refused naming the key and the point.
  auto value_at = [&](const core::Expression& e, const char* key, double x, double y) {
    const double v = e(x, y, 0, 0);
    if (!std::isfinite(v)) {
      std::ostringstream os;
      os << "\"" << e.text() << "\" is not finite at x = " << x;
      if (two_d) os << ", y = " << y;
      throw deck.error(S, key, os.str());
    }
    return v;
  };
  Eigen::MatrixXd F(n, n1), G = Eigen::MatrixXd::Zero(n, n1);
  for (long j = 0; j < n1; ++j)
    for (long i = 0; i < n; ++i) {
      const double x = xs[0][static_cast<std::size_t>(i)], y = xs[1][static_cast<std::size_t>(j)];
      F(i, j) = value_at(src, "source", x, y);
      if (i == 0 || i == n - 1 || (two_d && (j == 0 || j == n1 - 1))) G(i, j) = value_at(bnd, "boundary", x, y);
    }
  p.f = F.col(0);
  p.boundary = {0, n - 1};
  p.g.resize(2);  // (assigning a fixed-size Vector2d trips GCC 12's -Warray-bounds under AVX)
  p.g << G(0, 0), G(n - 1, 0);
  if (!grid) {
    model_ = std::make_unique<gp::HmModel>(std::move(p));
    model_->factor(model_->initial());  // a singular initial covariance is known now, before any work
    return;
  }
  gp::HmGridProblem gpb;
  gpb.c2 = {p.c2, c2y};
  gpb.c1 = {p.c1, c1y};
  gpb.reaction = p.reaction;
  gpb.boundary_weight = p.boundary_weight;
  for (int a = 0; a < 2; ++a) {
    gp::HmProblem& ap = gpb.axis[static_cast<std::size_t>(a)];
    ap = p;
    ap.x0 = iv[static_cast<std::size_t>(a)][0];
    ap.x1 = iv[static_cast<std::size_t>(a)][1];
    ap.points = a == 0 ? n : n1;
    // The axis' data profile for the spectral initialisation: the source's line of the largest
    // norm along the axis; for a source that vanishes (a transport problem driven by its
    // boundary data), the boundary data's edge along the axis.
    const bool from_source = F.norm() > 0;
    const Eigen::MatrixXd& D = from_source ? F : G;
    if (a == 0) {
      long jb = 0;
      for (long j = 0; j < n1; ++j)
        if ((from_source || j == 0 || j == n1 - 1) && D.col(j).norm() > D.col(jb).norm()) jb = j;
      ap.f = D.col(jb);
    } else {
      long ib = 0;
      for (long i = 0; i < n; ++i)
        if ((from_source || i == 0 || i == n - 1) && D.row(i).norm() > D.row(ib).norm()) ib = i;
      ap.f = D.row(ib).transpose();
    }
  }
  gpb.f = std::move(F);
  gpb.g = std::move(G);
  grid_ = std::make_unique<gp::HmGridModel>(std::move(gpb));
  grid_->predict(grid_->initial(), Eigen::MatrixXd::Zero(grid_->n(0), grid_->n(1)), {});  // a singular initial covariance is known now
}

core::Json GpPde::run() {
  namespace log = core::log;
  const bool grid = grid_ != nullptr;
  const int dim = grid ? grid_->dim() : 1;
  const gp::HmProblem& p = grid ? grid_->problem().axis[0] : model_->problem();
  const long n = p.points;
  if (grid) {
    const auto& G = grid_->problem();
    std::ostringstream op;
    const char* names[2][2] = {{"u_xx", "u_x"}, {"u_yy", "u_y"}};
    for (int a = 0; a < dim; ++a)
      for (int o = 0; o < 2; ++o) {
        const double c = o == 0 ? G.c2[static_cast<std::size_t>(a)] : G.c1[static_cast<std::size_t>(a)];
        if (c != 0.0) op << (op.tellp() > 0 ? " + " : "") << c << " " << names[a][o];
      }
    std::ostringstream dom;
    dom << "[" << p.x0 << ", " << p.x1 << "]";
    if (dim == 2) dom << " x [" << G.axis[1].x0 << ", " << G.axis[1].x1 << "], " << n << " x " << n;
    else dom << ", " << n;
    log::info("GP-HM: ", op.str(), " + p(u) = ", deck_.string(S, "source"), " on ", dom.str(), " points, ", p.components, "-component ",
              deck_.string(S, "kernel"), dim == 2 ? " mixtures per axis" : " mixture", ", residual noise K / v, method ", method_);
  } else {
    log::info("GP-HM: ", model_->problem().c2, " u_xx + ", model_->problem().c1, " u_x + p(u) = ", deck_.string(S, "source"), " on [", p.x0,
              ", ", p.x1, "], ", n, " points, ", p.components, "-component ", deck_.string(S, "kernel"), " mixture, residual noise I / v, method ",
              method_);
  }
  const double t0 = core::wall_time();
  const long steps = static_cast<long>(deck_.integer(S, "steps"));
  const double limit = deck_.real(S, "time_limit");
  gp::HmResult r = grid               ? gp::fit_hm_exact(*grid_, steps, limit)
                   : method_ == "adam" ? gp::fit_hm_adam(*model_, steps, limit, deck_.real(S, "learning_rate"))
                                       : gp::fit_hm_exact(*model_, steps, limit);
  // Every rank fits the same (replicated) model; a time limit may stop them at different
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

  // The learned spectra (one per axis), strongest components first.
  const int Q = p.components;
  std::vector<std::shared_ptr<gp::SpectralMixture>> spectra;
  for (int a = 0; a < dim; ++a) spectra.push_back(grid ? grid_->kernel(r.theta, a) : model_->kernel(r.theta));
  const char* axis_name[2] = {"x", "y"};
  for (int a = 0; a < dim; ++a) {
    const auto& k = spectra[static_cast<std::size_t>(a)];
    std::vector<int> order(static_cast<std::size_t>(Q));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int i, int j) { return k->weights()[std::size_t(i)] > k->weights()[std::size_t(j)]; });
    std::ostringstream spec;
    for (int i = 0; i < std::min(Q, 5); ++i) {
      const auto q = static_cast<std::size_t>(order[static_cast<std::size_t>(i)]);
      spec << (i ? "; " : "") << "w " << k->weights()[q] << " mu " << k->frequencies()[q] << " a " << k->inv_lengthscales()[q];
    }
    log::info("learned spectrum", dim == 2 ? std::string(" in ") + axis_name[a] : std::string(), " (strongest): ", spec.str());
  }

  // The posterior mean and its error on the test grid, split over the ranks (x-pencils: each
  // rank holds whole x lines; the 1D grid lies on the ranks that own its one y-z line).
  layout::Domain d;
  d.dim = dim;
  d.axes = {layout::AxisGrid::uniform(test_points_, p.x0, p.x1), layout::AxisGrid(), layout::AxisGrid()};
  if (dim == 2) d.axes[1] = layout::AxisGrid::uniform(test_points_, grid_->problem().axis[1].x0, grid_->problem().axis[1].x1);
  const int np = core::mpi::size(comm_);
  auto pgrid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  const layout::Pencil px(d.shape(), pgrid, 0);
  const auto& b = px.box();
  const long mine = b.n[1] * b.n[2] > 0 ? b.n[0] : 0, mine_y = dim == 2 ? b.n[1] : (mine > 0 ? 1 : 0);
  std::array<std::vector<double>, 2> xs;
  for (long i = 0; i < mine; ++i) xs[0].push_back(d.axes[0][b.lo[0] + i]);
  for (long j = 0; j < mine_y; ++j) xs[1].push_back(dim == 2 ? d.axes[1][b.lo[1] + j] : 0.0);
  Eigen::MatrixXd fine;
  if (grid) {
    fine = grid_->predict(r.theta, Eigen::Map<const Eigen::MatrixXd>(r.u.data(), grid_->n(0), grid_->n(1)), xs);
  } else {
    fine = model_->predict(model_->factor(r.theta), r.u, xs[0]);
  }
  layout::RealField u(px), err(px);
  TestGridError te;
  const bool has_truth = !exact_.empty();
  for (long j = 0; j < mine_y; ++j)
    for (long i = 0; i < mine; ++i) {
      u(i, j, 0) = fine(i, j);
      if (has_truth) err(i, j, 0) = te.add(fine(i, j), exact_[0](xs[0][static_cast<std::size_t>(i)], xs[1][static_cast<std::size_t>(j)], 0, 0));
    }
  te.combine(comm_);
  const double rel = te.relative_l2();
  if (has_truth)
    log::info("test grid ", test_points_, dim == 2 ? " x " + std::to_string(test_points_) : std::string(), " points: relative L2 error ", rel,
              ", max error ", te.max);

  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  layout::OutputWriter::FieldList fields{{"u", &u, 0}};
  if (has_truth) fields.push_back({"error", &err, 0});
  const char* suffix[2] = {"", "_y"};
  out.write_step(0, 0.0, fields, [&](layout::H5File& f) {
    for (int a = 0; a < dim; ++a) {
      const std::string sx = suffix[a];
      f.write_vector("/gp/collocation_points" + sx, grid ? grid_->points(a) : model_->points());
      const auto& k = spectra[static_cast<std::size_t>(a)];
      f.write_vector("/spectrum/weights" + sx, k->weights());
      f.write_vector("/spectrum/frequencies" + sx, k->frequencies());
      f.write_vector("/spectrum/inverse_lengthscales" + sx, k->inv_lengthscales());
    }
    f.write_vector("/gp/collocation_values", std::vector<double>(r.u.data(), r.u.data() + r.u.size()));
    f.write_vector("/spectrum/noise_precisions_tau_v", std::vector<double>{r.parts.tau, r.parts.v});
  });
  log::info("wrote ", out.step_path(0), " and ", dir, "/", name, ".xdmf (u, error; /spectrum: the learned mixture", dim == 2 ? "s" : "", ")");

  core::Json j;
  j["problem"] = "gp_pde";
  j["method"] = r.method;
  j["dimensions"] = double(dim);
  j["points"] = double(n);
  j["residual_covariance"] = grid ? "prior" : "identity";
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
    if (r.krylov_iterations > 0) j["krylov_iterations"] = r.krylov_iterations;
  }
  for (int a = 0; a < dim; ++a) {
    const std::string sx = suffix[a];
    const auto& k = spectra[static_cast<std::size_t>(a)];
    j["spectrum_weights" + sx] = core::Json(k->weights());
    j["spectrum_frequencies" + sx] = core::Json(k->frequencies());
    j["spectrum_inverse_lengthscales" + sx] = core::Json(k->inv_lengthscales());
  }
  if (has_truth) {
    j["error_relative_l2"] = rel;
    j["error_max"] = te.max;
  }
  return j;
}

}  // namespace kron::problems
