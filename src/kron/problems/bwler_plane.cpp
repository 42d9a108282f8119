#include "kron/problems/bwler_plane.hpp"

#include "kron/problems/bwler.hpp"

#include <cmath>
#include <map>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/pencil.hpp"
#include "kron/linops/petsc_krylov.hpp"
#include "kron/spectral/fit_tao.hpp"

namespace kron::problems {

using core::ValueKind;

namespace {
constexpr const char* S = "bwler_plane";
// The derivative symbols of a plane operator: name, order in x, order in y.
struct Sym {
  const char* name;
  int dx, dy;
};
constexpr Sym kSyms[] = {{"u", 0, 0}, {"u_x", 1, 0}, {"u_y", 0, 1}, {"u_xx", 2, 0}, {"u_xy", 1, 1}, {"u_yy", 0, 2}};
}  // namespace

void BwlerPlane::declare(core::Schema& schema) {
  core::SectionSpec s{"bwler_plane",
                      "A linear PDE on a rectangle with circular holes fitted by values at tensor Chebyshev nodes (BWLer): "
                      "collocation points inside the domain, boundary points on every curve, the least-squares loss minimised "
                      "exactly.",
                      {}, false, "bwler_plane"};
  s.keys = {
      {"operator", ValueKind::String, "\"u_xx + u_yy\"",
       "The PDE's left side, linear in u, u_x, u_y, u_xx, u_xy, u_yy with constant coefficients."},
      {"source", ValueKind::String, "\"0\"", "The right side f(x, y)."},
      {"x", ValueKind::RealList, "[-0.5, 0.5]", "The rectangle's x interval.", -1e300, 1e300, {}, 2, 2},
      {"y", ValueKind::RealList, "[-0.5, 0.5]", "The rectangle's y interval.", -1e300, 1e300, {}, 2, 2},
      {"nodes", ValueKind::IntegerList, "[48, 48]", "Chebyshev nodes in x and y (the unknowns; up to 8192 in all).", 2, 100000, {}, 2, 2},
      {"holes", ValueKind::RealList, "", "Circular holes: centre x, centre y, radius, for each hole one after the other.", -1e300, 1e300, {},
       3, 3000, true},
      {"boundary", ValueKind::String, "", "u on the rectangle's edges, an expression of x and y."},
      {"hole_boundary", ValueKind::String, "\"0\"", "u on the holes' circles, an expression of x and y."},
      {"collocation", ValueKind::IntegerList, "[64, 64]",
       "Collocation points: the interior points of a tensor Chebyshev grid of this size that lie in the domain.", 3, 100000, {}, 2, 2},
      {"boundary_points", ValueKind::IntegerList, "[128, 128]", "Boundary points per rectangle edge and per hole circle.", 1, 1000000,
       {}, 2, 2},
      {"boundary_weight", ValueKind::Real, "100.0", "Weight of the boundary misfit in the loss (the BWLer paper's: 100).", 0, 1e300},
      {"exact", ValueKind::String, "", "Exact solution u(x, y), for the error on the test grid.", -1e300, 1e300, {}, 0, 0, true},
      {"reference", ValueKind::String, "",
       "An independent reference for the error: laplace_series (the series method: harmonic by construction, fitted to the "
       "boundary data; its largest boundary misfit bounds its error inside by the maximum principle), for the operator "
       "u_xx + u_yy with a zero source. Excludes bwler_plane.exact.",
       -1e300, 1e300, {"laplace_series"}, 0, 0, true},
      {"reference_degree", ValueKind::IntegerList, "[120, 60]", "bwler_plane.reference: polynomial and Laurent degrees of the series.", 1,
       10000, {}, 2, 2},
      {"method", ValueKind::String, "\"exact\"",
       "How the loss is minimised: exact (the dense least-squares solve), or the BWLer paper's first-order protocols on the same "
       "loss and analytic gradient from u = 0: adam (bwler_plane.learning_rate, gradient clipped at bwler_plane.clip) or lbfgs "
       "(PETSc TAO TAOLMVM; -bwler_tao_* options reach it), for bwler_plane.steps steps or bwler_plane.time_limit seconds.",
       -1e300, 1e300, {"exact", "adam", "lbfgs"}},
      {"steps", ValueKind::Integer, "1000000", "method adam or lbfgs: the most steps (iterations).", 1, 1e12},
      {"time_limit", ValueKind::Real, "60.0", "method adam or lbfgs: the most wall time in seconds.", 0, 1e300},
      {"learning_rate", ValueKind::Real, "1e-3", "method adam: the step size (the paper's: 1e-3).", 0, 1e300},
      {"clip", ValueKind::Real, "1.0", "method adam: the largest gradient norm (the paper's: 1).", 0, 1e300},
      {"test_points", ValueKind::IntegerList, "[201, 201]", "Uniform test grid in x and y (points in the holes left out of the error).",
       2, 100000, {}, 2, 2},
  };
  schema.add(s);
}

BwlerPlane::BwlerPlane(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const auto params = deck.table("parameters");
  const auto xl = deck.reals(S, "x"), yl = deck.reals(S, "y");
  if (!(xl[1] > xl[0])) throw deck.error(S, "x", "the interval is empty or reversed");
  if (!(yl[1] > yl[0])) throw deck.error(S, "y", "the interval is empty or reversed");
  const auto nodes = deck.integers(S, "nodes");
  if (deck.string(S, "method") == "lbfgs") linops::petsc::initialize();  // TAO: options after -- must reach it
  if (deck.string(S, "method") == "exact" && nodes[0] * nodes[1] > 8192)
    throw deck.error(S, "nodes", std::to_string(nodes[0] * nodes[1]) + " unknowns: the plane fit is solved densely, up to 8192");
  p_.x = layout::AxisGrid::chebyshev(nodes[0], xl[0], xl[1]);
  p_.y = layout::AxisGrid::chebyshev(nodes[1], yl[0], yl[1]);
  domain_ = {xl[0], xl[1], yl[0], yl[1], {}};
  if (deck.has(S, "holes")) {
    const auto h = deck.reals(S, "holes");
    if (h.size() % 3 != 0) throw deck.error(S, "holes", "has " + std::to_string(h.size()) + " numbers; give centre x, centre y, radius per hole");
    for (std::size_t k = 0; k < h.size(); k += 3) {
      const spectral::HoledRectangle::Hole hole{h[k], h[k + 1], h[k + 2]};
      if (!(hole.r > 0) || hole.cx - hole.r <= xl[0] || hole.cx + hole.r >= xl[1] || hole.cy - hole.r <= yl[0] || hole.cy + hole.r >= yl[1])
        throw deck.error(S, "holes", "hole " + std::to_string(k / 3 + 1) + " is not a disk of positive radius strictly inside the rectangle");
      for (const auto& o : domain_.holes)
        if (std::hypot(o.cx - hole.cx, o.cy - hole.cy) <= o.r + hole.r)
          throw deck.error(S, "holes", "hole " + std::to_string(k / 3 + 1) + " overlaps or touches an earlier one");
      domain_.holes.push_back(hole);
    }
  }
  p_.boundary_weight = deck.real(S, "boundary_weight");
  if (!(p_.boundary_weight > 0)) throw deck.error(S, "boundary_weight", "must be positive");

  auto expr = [&](const std::string& key, const std::string& text, const std::map<std::string, double>& consts) {
    core::Expression e(text, consts, deck.where(S, key));
    for (const char* v : {"z", "t"})
      if (e.uses(v)) throw deck.error(S, key, "\"" + text + "\" uses " + v + "; a plane fit has x and y only");
    return e;
  };
  // The operator: coefficients with each symbol set to 1 in turn, linearity and constancy checked
  // at probe points, then the whole linear model at a probe with every symbol nonzero.
  operator_text_ = deck.string(S, "operator");
  auto with = [&](const std::map<std::string, double>& set) {
    std::map<std::string, double> c = params;
    for (const auto& s : kSyms) c[s.name] = 0.0;
    for (const auto& kv : set) c[kv.first] = kv.second;
    return expr("operator", operator_text_, c);
  };
  const double probe[][2] = {{0.0, 0.0}, {0.37, -0.21}, {-0.13, 0.44}};
  if (with({})(0, 0, 0, 0) != 0.0)
    throw deck.error(S, "operator", "\"" + operator_text_ + "\" has a term without u", "move terms free of u to bwler_plane.source");
  std::map<std::string, double> all, coef;
  double want = 0;
  for (const auto& s : kSyms) {
    const core::Expression one = with({{s.name, 1.0}}), two = with({{s.name, 2.0}});
    const double c = one(0, 0, 0, 0);
    for (const auto& q : probe) {
      if (std::abs(one(q[0], q[1], 0, 0) - c) > 1e-14 * std::max(1.0, std::abs(c)))
        throw deck.error(S, "operator", "the coefficient of " + std::string(s.name) + " varies with x or y", "the plane fit takes constant coefficients");
      if (std::abs(two(q[0], q[1], 0, 0) - 2 * c) > 1e-12 * std::max(1.0, std::abs(c)))
        throw deck.error(S, "operator", "\"" + operator_text_ + "\" is not linear in " + s.name, "the plane fit takes linear PDEs");
    }
    if (c != 0.0) p_.terms.push_back({c, s.dx, s.dy});
    coef[s.name] = c;
    all[s.name] = 0.3 + 0.1 * s.dx + 0.27 * s.dy;
    want += c * all[s.name];
  }
  if (std::abs(with(all)(0.1, 0.2, 0, 0) - want) > 1e-12 * std::max(1.0, std::abs(want)))
    throw deck.error(S, "operator", "\"" + operator_text_ + "\" is not linear: its symbols multiply", "the plane fit takes linear PDEs");
  if (p_.terms.empty()) throw deck.error(S, "operator", "\"" + operator_text_ + "\" has no term in u");
  laplacian_ = coef["u_xx"] != 0.0 && coef["u_xx"] == coef["u_yy"] && coef["u"] == 0.0 && coef["u_x"] == 0.0 && coef["u_y"] == 0.0 &&
               coef["u_xy"] == 0.0;

  // Collocation points (interior tensor Chebyshev points in the domain), boundary points and data.
  const auto col = deck.integers(S, "collocation");
  const auto cx = layout::AxisGrid::chebyshev(col[0], xl[0], xl[1]).coords(), cy = layout::AxisGrid::chebyshev(col[1], yl[0], yl[1]).coords();
  const core::Expression f = expr("source", deck.string(S, "source"), params);
  for (std::size_t i = 1; i + 1 < cx.size(); ++i)
    for (std::size_t j = 1; j + 1 < cy.size(); ++j)
      if (domain_.contains(cx[i], cy[j])) {
        p_.px.push_back(cx[i]);
        p_.py.push_back(cy[j]);
        const double v = f(cx[i], cy[j], 0, 0);
        if (!std::isfinite(v)) throw deck.error(S, "source", "is not finite at x = " + std::to_string(cx[i]) + ", y = " + std::to_string(cy[j]));
        p_.f.push_back(v);
      }
  const auto bp = deck.integers(S, "boundary_points");
  std::vector<int> curve;
  spectral::boundary_points(domain_, static_cast<int>(bp[0]), static_cast<int>(bp[1]), p_.bx, p_.by, curve);
  boundary_.push_back(expr("boundary", deck.string(S, "boundary"), params));
  boundary_.push_back(expr("hole_boundary", deck.string(S, "hole_boundary"), params));
  for (std::size_t q = 0; q < p_.bx.size(); ++q) {
    const double v = boundary_[curve[q] == 0 ? 0 : 1](p_.bx[q], p_.by[q], 0, 0);
    if (!std::isfinite(v))
      throw deck.error(S, curve[q] == 0 ? "boundary" : "hole_boundary", "is not finite at x = " + std::to_string(p_.bx[q]) + ", y = " + std::to_string(p_.by[q]));
    p_.g.push_back(v);
  }
  const long unknowns = nodes[0] * nodes[1], rows = static_cast<long>(p_.px.size() + p_.bx.size());
  if (rows < unknowns)
    throw deck.error(S, "collocation", std::to_string(rows) + " collocation and boundary points for " + std::to_string(unknowns) + " unknowns",
                     "more collocation points");
  if (deck.has(S, "exact")) exact_.push_back(expr("exact", deck.string(S, "exact"), params));
  if (deck.has(S, "reference")) {
    if (deck.has(S, "exact")) throw deck.error(S, "reference", "and bwler_plane.exact are both given", "keep one");
    if (!laplacian_ || deck.string(S, "source") != "0")
      throw deck.error(S, "reference", "laplace_series solves u_xx + u_yy = 0; the operator is \"" + operator_text_ + "\" with source \"" +
                                           deck.string(S, "source") + "\"");
  }
}

core::Json BwlerPlane::run() {
  namespace log = core::log;
  const long nx = p_.x.size(), ny = p_.y.size();
  log::info("BWLer plane fit: ", operator_text_, " = ", deck_.string(S, "source"), " on ", nx, " x ", ny, " Chebyshev nodes, ", domain_.holes.size(),
            " hole(s); ", p_.px.size(), " collocation and ", p_.bx.size(), " boundary points");
  double t0 = core::wall_time();
  const std::string method = deck_.string(S, "method");
  const long steps = static_cast<long>(deck_.integer(S, "steps"));
  const double limit = deck_.real(S, "time_limit");
  if (method != "exact") log::info("method ", method, ": at most ", steps, " steps or ", limit, " s, from u = 0");
  const spectral::PlaneFit r = method == "adam" ? spectral::fit_plane_adam(p_, steps, limit, deck_.real(S, "learning_rate"), deck_.real(S, "clip"))
                               : method == "lbfgs" ? spectral::fit_plane_lbfgs(p_, steps, limit)
                                                   : spectral::fit_plane(p_);
  const double fit_s = core::wall_time() - t0;
  log::info("solved: ", r.method, " in ", fit_s, " s");
  if (method == "exact")
    log::info("loss ", r.loss, " (rms PDE residual ", r.residual_rms, ", rms boundary misfit ", r.boundary_rms, "); condition number ", r.condition);
  else
    log::info("loss ", r.loss, " (rms PDE residual ", r.residual_rms, ", rms boundary misfit ", r.boundary_rms, ")");

  // The reference, on every rank (it is small).
  std::unique_ptr<spectral::LaplaceSeries> series;
  double ref_s = 0;
  if (deck_.has(S, "reference")) {
    t0 = core::wall_time();
    const auto deg = deck_.integers(S, "reference_degree");
    series = std::make_unique<spectral::LaplaceSeries>(
        domain_, [&](double x, double y) { return boundary_[0](x, y, 0, 0); }, [&](double x, double y) { return boundary_[1](x, y, 0, 0); },
        static_cast<int>(deg[0]), static_cast<int>(deg[1]));
    ref_s = core::wall_time() - t0;
    log::info("reference: Laplace series of degree ", deg[0], " with Laurent degree ", deg[1], " per hole (", ref_s,
              " s); its largest boundary misfit, a bound of its error in the domain: ", series->boundary_error());
  }
  const bool has_truth = !exact_.empty() || series;

  // The test grid: x along x, y along y, split over the ranks in y.
  const auto tpts = deck_.integers(S, "test_points");
  const long fx = tpts[0], fy = tpts[1];
  layout::Domain d;
  d.dim = 2;
  d.axes = {layout::AxisGrid::uniform(fx, p_.x.lower(), p_.x.upper()), layout::AxisGrid::uniform(fy, p_.y.lower(), p_.y.upper()),
            layout::AxisGrid()};
  const int np = core::mpi::size(comm_);
  auto grid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  const layout::Pencil px(d.shape(), grid, 0);
  const auto& b = px.box();
  std::vector<double> qx, qy;
  for (long i = 0; i < b.n[1]; ++i)
    for (long j = 0; j < fx; ++j) {
      qx.push_back(d.axes[0][j]);
      qy.push_back(d.axes[1][b.lo[1] + i]);
    }
  const std::vector<double> fit = qx.empty() ? std::vector<double>{} : spectral::evaluate_plane(p_, r.u, qx, qy);
  layout::RealField u(px), err(px), mask(px);
  TestGridError te;
  for (long i = 0; i < b.n[1]; ++i)
    for (long j = 0; j < fx; ++j) {
      const std::size_t q = static_cast<std::size_t>(i * fx + j);
      u(j, i, 0) = fit[q];
      const bool in = domain_.contains(qx[q], qy[q]);
      mask(j, i, 0) = in ? 1.0 : 0.0;
      err(j, i, 0) = 0.0;
      if (!in || !has_truth) continue;
      err(j, i, 0) = te.add(fit[q], exact_.empty() ? (*series)(qx[q], qy[q]) : exact_[0](qx[q], qy[q], 0, 0));
    }
  te.combine(comm_);
  const double rel = te.relative_l2(), emax = te.max;
  const long inside = te.points;
  if (has_truth) log::info("test grid ", fx, " x ", fy, " (", inside, " points in the domain): relative L2 error ", rel, ", max error ", emax);

  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  layout::OutputWriter::FieldList fields{{"u", &u, 0}, {"in_domain", &mask, 0}};
  if (has_truth) fields.push_back({"error", &err, 0});
  out.write_step(0, 0.0, fields, [&](layout::H5File& h5) {
    std::vector<double> flat(r.u.data(), r.u.data() + r.u.size());  // column-major nx x ny
    h5.write_vector("/fit/nodal_values_column_major", flat);
    h5.write_vector("/fit/x_nodes", p_.x.coords());
    h5.write_vector("/fit/y_nodes", p_.y.coords());
  });
  log::info("wrote ", out.step_path(0), " and ", dir, "/", name, ".xdmf (in_domain: 1 in the domain, 0 in the holes)");

  core::Json j;
  j["problem"] = "bwler_plane";
  j["operator"] = operator_text_;
  j["nodes"] = core::Json(std::vector<double>{double(nx), double(ny)});
  j["method"] = r.method;
  j["loss"] = r.loss;
  j["residual_rms"] = r.residual_rms;
  j["boundary_rms"] = r.boundary_rms;
  if (method == "exact") j["condition_number"] = r.condition;
  j["fit_seconds"] = fit_s;
  j["iterations"] = double(r.iterations);
  j["collocation_points"] = double(p_.px.size());
  j["boundary_points"] = double(p_.bx.size());
  if (series) {
    j["reference_boundary_error"] = series->boundary_error();
    j["reference_seconds"] = ref_s;
  }
  if (has_truth) {
    j["error_relative_l2"] = rel;
    j["error_max"] = emax;
  }
  return j;
}

}  // namespace kron::problems
