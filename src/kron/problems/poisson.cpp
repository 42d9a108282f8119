#include "kron/problems/poisson.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/layout/output.hpp"
#include "kron/linops/kronecker.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {

core::SectionSpec pde_section(const std::string& name, bool helmholtz) {
  core::SectionSpec s{name,
                      helmholtz ? "Helmholtz problem  Laplace(u) - lambda u = f,  solved directly by fast diagonalization."
                                : "Poisson problem  Laplace(u) = f,  solved directly by fast diagonalization.",
                      {}, false, name};
  s.keys = {
      {"scheme", ValueKind::StringList, "[\"fd2\"]",
       "Discretisation per axis: fd2, fd4, fd6 (explicit), compact4, compact6 (Pade), chebyshev (collocation on "
       "grid.kind = chebyshev), fourier (periodic axes).",
       -1e300, 1e300, {"fd2", "fd4", "fd6", "compact4", "compact6", "chebyshev", "fourier"}, 1, 3},
      {"source", ValueKind::String, "", "Right-hand side f(x, y, z)."},
      {"boundary", ValueKind::StringList, "[\"dirichlet\"]",
       "Boundary kind per axis: dirichlet, neumann, or periodic (periodic grid axes must use periodic).", -1e300, 1e300,
       {"dirichlet", "neumann", "periodic"}, 1, 3},
      {"value", ValueKind::String, "", "Dirichlet boundary value g(x, y, z); absent: the exact solution.", -1e300, 1e300, {}, 0, 0, true},
      {"gradient", ValueKind::StringList, "",
       "Neumann data per axis: du/dx, du/dy, du/dz (derivative along +x_a, not the outward normal); absent: from the "
       "exact solution by central differences of width 1e-5.",
       -1e300, 1e300, {}, 1, 3, true},
      {"exact", ValueKind::String, "", "Exact solution (optional): errors go to summary.json and the field 'error' is written.",
       -1e300, 1e300, {}, 0, 0, true},
      {"compatibility_tol", ValueKind::Real, "1e-6",
       "Singular problems (all axes periodic/Neumann): largest relative null-space component of the data that is "
       "projected out as discretisation error; larger fails as incompatible data.", 0, 1},
  };
  if (helmholtz) s.keys.push_back({"lambda", ValueKind::Real, "1.0", "The shift lambda in Laplace(u) - lambda u = f."});
  return s;
}

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

void Poisson::declare_poisson(core::Schema& schema) { schema.add(pde_section("poisson", false)); }
void Poisson::declare_helmholtz(core::Schema& schema) { schema.add(pde_section("helmholtz", true)); }

Poisson::Poisson(const core::Deck& deck, MPI_Comm comm, bool helmholtz)
    : deck_(deck), comm_(comm), section_(helmholtz ? "helmholtz" : "poisson") {
  const std::string& S = section_;
  domain_ = layout::make_domain(deck);
  grid_ = layout::make_process_grid(deck, domain_, comm);
  const auto params = deck.table("parameters");
  if (helmholtz) shift_ = deck.real(S, "lambda");
  const auto schemes = per_axis(deck, S, "scheme", deck.strings(S, "scheme"), domain_.dim);
  const auto bcs = per_axis(deck, S, "boundary", deck.strings(S, "boundary"), domain_.dim);
  bool any_dirichlet = false, any_neumann = false;
  for (int a = 0; a < 3; ++a) {
    schemes_[a] = linops::parse_scheme(schemes[a]);
    bc_[a] = bcs[a] == "dirichlet" ? linops::BoundaryKind::Dirichlet
             : bcs[a] == "neumann" ? linops::BoundaryKind::Neumann : linops::BoundaryKind::Periodic;
    if (a >= domain_.dim) {
      bc_[a] = linops::BoundaryKind::Periodic;
      continue;
    }
    const bool pgrid = domain_.axes[a].periodic();
    if (pgrid != (bc_[a] == linops::BoundaryKind::Periodic))
      throw deck.error(S, "boundary", std::string("axis ") + "xyz"[a] + " is '" + bcs[a] + "' but the grid axis is '" +
                                          layout::to_string(domain_.axes[a].kind()) + "'",
                       "periodic boundaries need grid.kind = \"periodic\" on that axis, and the other way round");
    any_dirichlet |= bc_[a] == linops::BoundaryKind::Dirichlet;
    any_neumann |= bc_[a] == linops::BoundaryKind::Neumann;
  }
  source_ = std::make_unique<core::Expression>(deck.string(S, "source"), params, deck.where(S, "source"));
  if (deck.has(S, "exact")) exact_ = std::make_unique<core::Expression>(deck.string(S, "exact"), params, deck.where(S, "exact"));
  if (any_dirichlet) {
    if (deck.has(S, "value")) value_ = std::make_unique<core::Expression>(deck.string(S, "value"), params, deck.where(S, "value"));
    else if (!exact_)
      throw deck.error(S, "boundary", "has dirichlet axes but neither value nor exact is given", "add value = \"...\" (the boundary value)");
  }
  if (any_neumann) {
    if (deck.has(S, "gradient")) {
      const auto g = per_axis(deck, S, "gradient", deck.strings(S, "gradient"), domain_.dim);
      for (int a = 0; a < 3; ++a) gradient_[a] = std::make_unique<core::Expression>(g[a], params, deck.where(S, "gradient"));
    } else if (!exact_) {
      throw deck.error(S, "boundary", "has neumann axes but neither gradient nor exact is given", "add gradient = [\"du/dx\", \"du/dy\", \"du/dz\"]");
    }
  }
  linops::FastPoissonOptions opt;
  opt.compatibility_tol = deck.real(S, "compatibility_tol");
  try {
    std::array<linops::Scheme, 3> sch = schemes_;
    solver_ = std::make_unique<linops::FastPoisson>(grid_, domain_.axes, sch, bc_, shift_, opt);
  } catch (const Error& e) {
    throw deck.error(S, "scheme", e.message(), e.hint());
  }
}

core::Json Poisson::run() {
  const std::string& S = section_;
  const layout::Pencil px(domain_.shape(), grid_, 0);
  layout::RealField f(px), u(px);
  {
    core::ScopedTimer t("field.setup");
    layout::evaluate(*source_, domain_, 0.0, f);
  }
  // Boundary data: Dirichlet values and Neumann derivatives, from the deck or the exact solution.
  const double hd = 1e-5;
  linops::BoundaryData g = [&](int a, int, const std::array<double, 3>& X) {
    if (bc_[a] == linops::BoundaryKind::Dirichlet)
      return value_ ? (*value_)(X[0], X[1], X[2], 0.0) : (*exact_)(X[0], X[1], X[2], 0.0);
    if (gradient_[a]) return (*gradient_[a])(X[0], X[1], X[2], 0.0);
    std::array<double, 3> p = X, m = X;
    p[a] += hd;
    m[a] -= hd;
    return ((*exact_)(p[0], p[1], p[2], 0.0) - (*exact_)(m[0], m[1], m[2], 0.0)) / (2 * hd);
  };
  log::info(S, ": ", domain_.axes[0].size(), " x ", domain_.axes[1].size(), " x ", domain_.axes[2].size(), " points on ",
            grid_->p1(), " x ", grid_->p2(), " ranks; transforms ", solver_->describe());
  const double t0 = core::wall_time();
  solver_->solve(f, g, u);
  const double solve_s = core::mpi::max(core::wall_time() - t0, comm_);
  log::info(S, ": solved in ", solve_s, " s");

  // Residual of the interior equations through the independent operator apply.
  double res_max = 0, f_max = 0, u_max = 0;
  {
    core::ScopedTimer t("residual");
    std::array<linops::Operator1D, 3> ops;
    std::array<bool, 3> per{};
    for (int a = 0; a < 3; ++a) {
      if (domain_.axes[a].size() > 1) ops[a] = solver_->operators()[a];
      per[a] = domain_.axes[a].periodic();
    }
    linops::KroneckerSum L(grid_, ops, shift_, per);
    layout::RealField Lu(px);
    L.apply(u, Lu);
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const std::array<long, 3> gi{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          bool inside = true;
          for (int a = 0; a < 3; ++a)
            if (domain_.axes[a].size() > 1 && bc_[a] != linops::BoundaryKind::Periodic)
              inside = inside && gi[a] > 0 && gi[a] < domain_.axes[a].size() - 1;
          u_max = std::max(u_max, std::abs(u(i, j, k)));
          if (!inside) continue;
          f_max = std::max(f_max, std::abs(f(i, j, k)));
          double r = Lu(i, j, k) - f(i, j, k);
          if (solver_->singular()) r = 0;  // the gauge removed the null component; checked below
          res_max = std::max(res_max, std::abs(r));
        }
    res_max = core::mpi::max(res_max, comm_);
    f_max = core::mpi::max(f_max, comm_);
    u_max = core::mpi::max(u_max, comm_);
  }
  core::Json j;
  j["problem"] = S;
  j["grid"] = core::Json(std::vector<double>{double(domain_.axes[0].size()), double(domain_.axes[1].size()), double(domain_.axes[2].size())});
  j["process_grid"] = core::Json(std::vector<double>{double(grid_->p1()), double(grid_->p2())});
  j["transforms"] = solver_->describe();
  j["solve_seconds"] = solve_s;
  j["operator_bytes"] = static_cast<double>(solver_->operator_bytes());
  // Relative residual in the backward-error sense: |L u - f| / (|L| |u| + |f|), infinity norms.
  double lnorm = std::abs(shift_);
  for (int a = 0; a < 3; ++a)
    if (domain_.axes[a].size() > 1) lnorm += solver_->operators()[a].dense().rowwise().lpNorm<1>().maxCoeff();
  const double rel = res_max / std::max(lnorm * u_max + f_max, 1e-300);
  if (!solver_->singular()) {
    j["residual_max"] = res_max;
    j["residual_relative"] = rel;
    log::info(S, ": max interior residual ", res_max, " (relative ", rel, ")");
  } else {
    j["compatibility_defect"] = solver_->compatibility_defect();
  }
  layout::RealField err(px);
  if (exact_) {
    layout::evaluate(*exact_, domain_, 0.0, err);
    // Singular problems fix the solution's mean to zero; compare in the same gauge.
    // Fields without halos: storage is the local box, so whole-array loops suffice.
    const long N = static_cast<long>(u.storage_size());
    double* ev = err.data();
    const double* uv = u.data();
    double sd = 0;
    for (long q = 0; q < N; ++q) sd += uv[q] - ev[q];
    const double shift = solver_->singular() ? core::mpi::sum(sd, comm_) / double(domain_.points()) : 0.0;
    double emax = 0, e2 = 0;
    for (long q = 0; q < N; ++q) {
      ev[q] = uv[q] - shift - ev[q];
      emax = std::max(emax, std::abs(ev[q]));
      e2 += ev[q] * ev[q];
    }
    emax = core::mpi::max(emax, comm_);
    const double el2 = std::sqrt(core::mpi::sum(e2, comm_) / double(domain_.points()));
    j["error_max"] = emax;
    j["error_l2"] = el2;
    log::info(S, ": error against the exact solution: max ", emax, ", L2 (rms) ", el2);
  }
  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::Provenance prov{deck_.provenance_text(), core::mpi::size(comm_)};
  layout::OutputWriter out(dir, name, domain_, prov, layout::output_options(deck_), comm_);
  {
    core::ScopedTimer t("output");
    layout::OutputWriter::FieldList fields;
    if (deck_.boolean("output", "write_fields")) {
      fields.push_back({"u", &u, 0});
      fields.push_back({"f", &f, 0});
      if (exact_) fields.push_back({"error", &err, 0});
    }
    out.write_step(0, 0.0, fields, {});
  }
  log::info("wrote ", out.step_path(0), " and ", dir, "/", name, ".xdmf");
  return j;
}

}  // namespace kron::problems
