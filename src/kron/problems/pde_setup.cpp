#include "kron/problems/pde_setup.hpp"

#include "kron/layout/field_ops.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"

namespace kron::problems {

using core::ValueKind;

std::vector<core::KeySpec> pde_keys(bool neumann, bool time_dependent) {
  const std::string xyz = time_dependent ? "(x, y, z, t)" : "(x, y, z)";
  std::vector<std::string> kinds = {"dirichlet", "periodic"};
  if (neumann) kinds.insert(kinds.begin() + 1, "neumann");
  std::vector<core::KeySpec> k = {
      {"scheme", ValueKind::StringList, "[\"fd2\"]",
       "Discretisation per axis: fd2, fd4, fd6 (explicit), compact4, compact6 (Pade), chebyshev (collocation on "
       "grid.kind = chebyshev), fourier (periodic axes).",
       -1e300, 1e300, {"fd2", "fd4", "fd6", "compact4", "compact6", "chebyshev", "fourier"}, 1, 3},
      {"source", ValueKind::String, "\"0\"", "Right-hand side f" + xyz + "."},
      {"boundary", ValueKind::StringList, "[\"dirichlet\"]",
       std::string("Boundary kind per axis: dirichlet") + (neumann ? ", neumann" : "") +
           ", or periodic (periodic grid axes must use periodic).",
       -1e300, 1e300, kinds, 1, 3},
      {"value", ValueKind::String, "", "Dirichlet boundary value g" + xyz + "; absent: the exact solution.", -1e300, 1e300, {}, 0, 0, true},
      {"exact", ValueKind::String, "", "Exact solution" + xyz + " (optional): errors go to summary.json and the field 'error' is written.",
       -1e300, 1e300, {}, 0, 0, true},
  };
  if (neumann)
    k.insert(k.begin() + 4, {"gradient", ValueKind::StringList, "",
                             "Neumann data per axis: du/dx, du/dy, du/dz (derivative along +x_a, not the outward normal); "
                             "absent: from the exact solution by central differences of width 1e-5.",
                             -1e300, 1e300, {}, 1, 3, true});
  return k;
}

namespace {
template <class T>
std::vector<T> per_axis(const core::Deck& deck, const std::string& sec, const std::string& key, const std::vector<T>& v, int dim) {
  if (v.size() == 1) return std::vector<T>(3, v[0]);
  if (static_cast<int>(v.size()) != dim)
    throw deck.error(sec, key, std::to_string(v.size()) + " entries for a " + std::to_string(dim) + "D grid",
                     "give one entry per axis, or one for all axes");
  std::vector<T> out = v;
  out.resize(3, v.back());
  return out;
}
}  // namespace

PdeSetup::PdeSetup(const core::Deck& d, const std::string& S, MPI_Comm c, bool time_dep, const std::vector<std::string>& named)
    : deck(d), section(S), comm(c), time_dependent(time_dep) {
  domain = layout::make_domain(deck);
  grid = layout::make_process_grid(deck, domain, comm);
  params = deck.table("parameters");
  for (const auto& key : named) {
    if (params.count(key))
      throw deck.error(S, key, "is defined in [parameters] too; a value lives in one place",
                       "remove " + key + " from [parameters]: expressions use " + S + "." + key + " by the name " + key);
    params[key] = deck.real(S, key);
  }
  const auto sch = per_axis(deck, S, "scheme", deck.strings(S, "scheme"), domain.dim);
  const auto bcs = per_axis(deck, S, "boundary", deck.strings(S, "boundary"), domain.dim);
  for (int a = 0; a < 3; ++a) {
    schemes[a] = linops::parse_scheme(sch[a]);
    bc[a] = bcs[a] == "dirichlet" ? linops::BoundaryKind::Dirichlet
            : bcs[a] == "neumann" ? linops::BoundaryKind::Neumann : linops::BoundaryKind::Periodic;
    if (a >= domain.dim) {
      bc[a] = linops::BoundaryKind::Periodic;
      continue;
    }
    const bool pgrid = domain.axes[a].periodic();
    if (pgrid != (bc[a] == linops::BoundaryKind::Periodic))
      throw deck.error(S, "boundary", std::string("axis ") + "xyz"[a] + " is '" + bcs[a] + "' but the grid axis is '" +
                                          layout::to_string(domain.axes[a].kind()) + "'",
                       "periodic boundaries need grid.kind = \"periodic\" on that axis, and the other way round");
    any_dirichlet |= bc[a] == linops::BoundaryKind::Dirichlet;
    any_neumann |= bc[a] == linops::BoundaryKind::Neumann;
    all_periodic &= bc[a] == linops::BoundaryKind::Periodic;
  }
  source = std::make_unique<core::Expression>(expression("source"));
  if (deck.has(S, "exact")) exact = std::make_unique<core::Expression>(expression("exact"));
  if (any_dirichlet) {
    if (deck.has(S, "value")) value = std::make_unique<core::Expression>(expression("value"));
    else if (!exact)
      throw deck.error(S, "boundary", "has dirichlet axes but neither value nor exact is given", "add value = \"...\", the boundary value");
  }
  if (any_neumann) {
    if (deck.has(S, "gradient")) {
      const auto g = per_axis(deck, S, "gradient", deck.strings(S, "gradient"), domain.dim);
      for (int a = 0; a < 3; ++a) gradient[a] = std::make_unique<core::Expression>(expression("gradient", &g[a]));
    } else if (!exact) {
      throw deck.error(S, "boundary", "has neumann axes but neither gradient nor exact is given",
                       "add gradient = [\"du/dx\", \"du/dy\", \"du/dz\"]");
    }
  }
}

void PdeSetup::check_data(const layout::RealField& f, double t, const std::string& what, layout::RealField* scratch) const {
  const std::string at = time_dependent ? " at t = " + core::text::number(t) : "";
  auto refuse = [&](const core::Expression& e, const std::string& points) {
    throw Error(e.where().key + ": expression \"" + e.text() + "\" is not finite at some " + points + at, e.where(),
                "check divisions by zero, logarithms and square roots on the grid, boundaries included");
  };
  if (!layout::ops::all_finite(f))
    throw deck.error(section, what, "is not finite at some grid points" + at, "check divisions by zero and logarithms on the grid");
  for (int a = 0; a < domain.dim; ++a) {
    if (bc[a] == linops::BoundaryKind::Periodic) continue;
    linops::FaceValues fv;
    fv.evaluate({boundary_data(t)}, a, domain.axes, f);
    if (core::mpi::all(fv.all_finite(), comm)) continue;
    const std::string ax(1, "xyz"[a]);
    if (bc[a] == linops::BoundaryKind::Dirichlet) refuse(value ? *value : *exact, "Dirichlet boundary points of axis " + ax);
    refuse(gradient[a] ? *gradient[a] : *exact,
           "Neumann boundary points of axis " + ax + (gradient[a] ? "" : " (du/d" + ax + " comes from it by central differences)"));
  }
  if (exact && scratch) layout::evaluate(*exact, domain, t, *scratch);  // throws naming the key
}

double PdeSetup::field_bytes() const { return 8.0 * double(layout::max_local_points(domain.shape(), grid)); }

double transpose_fields(const layout::ProcessGrid& grid, double one_split) {
  const int splits = (grid.p1() > 1 ? 1 : 0) + (grid.p2() > 1 ? 1 : 0);
  return splits == 0 ? 0.0 : splits == 1 ? one_split : 2 * one_split + 1;
}

void add_axis_factors(core::MemoryEstimate& e, const PdeSetup& s, bool with_dense_eigenvectors) {
  double ops = 0, eig = 0;
  for (int a = 0; a < s.domain.dim; ++a) {
    const double n = double(s.domain.axes[a].size()), nn = 8.0 * n * n;
    ops += 3 * nn;  // the dense 1D operator, its boundary-folded copy, the residual's copy
    const bool fast = s.bc[a] == linops::BoundaryKind::Periodic ||
                      (s.schemes[a] == linops::Scheme::FD2 && s.bc[a] == linops::BoundaryKind::Dirichlet &&
                       s.domain.axes[a].kind() == layout::AxisKind::Uniform);
    if (with_dense_eigenvectors && !fast) eig += 8 * nn;
  }
  e.add("1D operators", ops);
  if (eig > 0) e.add("dense eigendecompositions", eig);
}

void reserve_memory(const core::Deck& deck, const layout::Domain& domain, const core::MemoryEstimate& estimate, MPI_Comm comm) {
  const core::MemoryCheck c = core::check_memory(estimate, comm);
  namespace text = core::text;
  std::string grid;
  for (int a = 0; a < domain.dim; ++a) grid += (a ? " x " : "") + std::to_string(domain.axes[a].size());
  const int nranks = core::mpi::size(comm);
  core::log::info("memory estimate: ", text::bytes(c.rank_max), " on the largest rank (", estimate.describe(), "), ", text::bytes(c.all),
            " in all", c.node_available > 0 ? "; " + text::bytes(c.node_available) + " available on the neediest node" : std::string());
  if (c.fits()) return;
  throw deck.error("grid", "n",
                   "a " + grid + " grid on " + std::to_string(nranks) + " rank(s) needs about " + text::bytes(c.node_need) +
                       " on one node (" + std::to_string(c.node_ranks) + " rank(s) there, each up to " + text::bytes(c.rank_max) +
                       ": " + estimate.describe() + "), but that node has " + text::bytes(c.node_available) + " available",
                   "run on more nodes, as the memory per rank shrinks with the rank count, or choose a smaller grid.n");
}

core::Expression PdeSetup::expression(const std::string& key, const std::string* text) const {
  return layout::deck_expression(deck, section, key, params, domain, time_dependent, text);
}

linops::BoundaryData PdeSetup::boundary_data(double t) const {
  return [this, t](int a, int, const std::array<double, 3>& X) {
    if (bc[a] == linops::BoundaryKind::Dirichlet) return value ? (*value)(X[0], X[1], X[2], t) : (*exact)(X[0], X[1], X[2], t);
    if (gradient[a]) return (*gradient[a])(X[0], X[1], X[2], t);
    const double hd = 1e-5;
    std::array<double, 3> p = X, m = X;
    p[a] += hd;
    m[a] -= hd;
    return ((*exact)(p[0], p[1], p[2], t) - (*exact)(m[0], m[1], m[2], t)) / (2 * hd);
  };
}

std::string PdeSetup::describe() const {
  return std::to_string(domain.axes[0].size()) + " x " + std::to_string(domain.axes[1].size()) + " x " +
         std::to_string(domain.axes[2].size()) + " points on " + std::to_string(grid->p1()) + " x " +
         std::to_string(grid->p2()) + " ranks";
}

ErrorNorms error_against_exact(const PdeSetup& s, const layout::RealField& u, double t, bool gauge, layout::RealField& err) {
  layout::evaluate(*s.exact, s.domain, t, err);
  namespace ops = layout::ops;
  const double shift = gauge ? (ops::sums(u)[0] - ops::sums(err)[0]) / double(s.domain.points()) : 0.0;
  ops::map(err, [shift](double ex, double uq) { return uq - shift - ex; }, u);
  ErrorNorms e;
  e.max = ops::max_abs(err);
  e.l2 = ops::norm2(err) / std::sqrt(double(s.domain.points()));
  return e;
}

layout::OutputWriter make_output(const core::Deck& deck, const layout::Domain& domain, MPI_Comm comm) {
  layout::Provenance prov{deck.provenance_text(), core::mpi::size(comm)};
  return layout::OutputWriter(deck.string("output", "dir"), deck.string("output", "name"), domain, prov,
                              layout::output_options(deck), comm);
}

core::Json summary_header(const PdeSetup& s) {
  core::Json j;
  j["problem"] = s.section;
  j["grid"] = core::Json(std::vector<double>{double(s.domain.axes[0].size()), double(s.domain.axes[1].size()),
                                             double(s.domain.axes[2].size())});
  j["process_grid"] = core::Json(std::vector<double>{double(s.grid->p1()), double(s.grid->p2())});
  return j;
}

void finish_steady(const PdeSetup& s, const layout::RealField& u, const layout::RealField& f, bool gauge,
                   const layout::OutputWriter::FieldList& extra, core::Json& summary) {
  layout::RealField err(u.pencil());
  if (s.exact) {
    const ErrorNorms e = error_against_exact(s, u, 0.0, gauge, err);
    summary["error_max"] = e.max;
    summary["error_l2"] = e.l2;
    core::log::info(s.section, ": error against the exact solution: max ", e.max, ", L2 (rms) ", e.l2);
  }
  layout::OutputWriter out = make_output(s.deck, s.domain, s.comm);
  core::ScopedTimer t("output");
  layout::OutputWriter::FieldList fields;
  if (s.deck.boolean("output", "write_fields")) {
    fields.push_back({"u", &u, 0});
    fields.push_back({"f", &f, 0});
    fields.insert(fields.end(), extra.begin(), extra.end());
    if (s.exact) fields.push_back({"error", &err, 0});
  }
  out.write_step(0, 0.0, fields, {});
  core::log::info("wrote ", out.step_path(0), " and ", out.dir(), "/", s.deck.string("output", "name"), ".xdmf");
}

}  // namespace kron::problems
