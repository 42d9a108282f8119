#include "kron/problems/poisson.hpp"

#include "kron/layout/field_ops.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/layout/output.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/problems/pde_setup.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {

core::SectionSpec pde_section(const std::string& name, bool helmholtz) {
  core::SectionSpec s{name,
                      helmholtz ? "Helmholtz problem  Laplace(u) - lambda u = f,  solved directly by fast diagonalization."
                                : "Poisson problem  Laplace(u) = f,  solved directly by fast diagonalization.",
                      pde_keys(true, false), false, name};
  s.keys.push_back({"compatibility_tol", ValueKind::Real, "1e-6",
                    "Singular problems (all axes periodic/Neumann): largest relative null-space component of the data that is "
                    "projected out as discretisation error; larger fails as incompatible data.", 0, 1});
  s.keys.push_back({"residual_check", ValueKind::Boolean, "true",
                    "After the solve, apply the operator to u and report the interior residual (summary.json residual_max, "
                    "residual_relative): an independent check that costs about as much as the solve; false skips it."});
  if (helmholtz) s.keys.push_back({"lambda", ValueKind::Real, "1.0", "The shift lambda in Laplace(u) - lambda u = f; expressions use it as lambda."});
  return s;
}

}  // namespace

void Poisson::declare_poisson(core::Schema& schema) { schema.add(pde_section("poisson", false)); }
void Poisson::declare_helmholtz(core::Schema& schema) { schema.add(pde_section("helmholtz", true)); }

Poisson::Poisson(const core::Deck& deck, MPI_Comm comm, bool helmholtz)
    : deck_(deck), comm_(comm), section_(helmholtz ? "helmholtz" : "poisson"), setup_(deck, section_, comm, false, helmholtz ? std::vector<std::string>{"lambda"} : std::vector<std::string>{}) {
  if (helmholtz) shift_ = deck.real(section_, "lambda");
  {
    // Counted from the run (u, f, error, residual; the solver's transform scratch: 7 fields with
    // a dense axis, 3 with a real-FFT (periodic) one, else 1 (sine transforms in place);
    // transposes and output staging) and checked against its measured peak by tests/cli/memory.sh.
    const double fb = setup_.field_bytes();
    bool dense = false;
    core::MemoryEstimate est;
    add_axis_factors(est, setup_, true);
    for (const auto& i : est.items) dense = dense || i.what == "dense eigendecompositions";
    est.add("fields u, f, error, residual", 4 * fb);
    bool periodic = false;
    for (int a = 0; a < setup_.domain.dim; ++a) periodic = periodic || setup_.bc[a] == linops::BoundaryKind::Periodic;
    est.add("solver scratch", (dense ? 7 : periodic ? 3 : 1) * fb);
    est.add("transposes and output", transpose_fields(*setup_.grid, 3) * fb);
    reserve_memory(deck, setup_.domain, est, comm);
  }
  linops::FastPoissonOptions opt;
  opt.compatibility_tol = deck.real(section_, "compatibility_tol");
  opt.effort = layout::parse_fft_effort(deck.string("fft", "effort"));
  opt.space = layout::device_backend(deck, comm);
  try {
    solver_ = std::make_unique<linops::FastPoisson>(setup_.grid, setup_.domain.axes, setup_.schemes, setup_.bc, shift_, opt);
  } catch (const Error& e) {
    throw deck.error(section_, "scheme", e.message(), e.hint());
  }
}

core::Json Poisson::run() {
  const std::string& S = section_;
  const layout::Domain& domain = setup_.domain;
  const layout::Pencil px = setup_.x_pencil();
  layout::RealField f(px), u(px);
  {
    core::ScopedTimer t("field.setup");
    layout::evaluate(*setup_.source, domain, 0.0, f);
  }
  // Non-finite data stop here, naming the key, not after the solve.
  setup_.check_data(f, 0.0, "source", &u);
  layout::ops::scale(0.0, u);  // the check left the exact solution in u: the solve starts from nothing
  if (setup_.any_dirichlet) linops::fill_dirichlet(domain.axes, setup_.bc, setup_.boundary_data(0.0), u);
  log::info(S, ": ", setup_.describe(), "; transforms ", solver_->describe());
  const double t0 = core::wall_time();
  solver_->solve(f, setup_.boundary_data(0.0), u);
  const double solve_s = core::mpi::max(core::wall_time() - t0, comm_);
  const double rate = double(domain.points()) / std::max(solve_s, 1e-12);
  log::info(S, ": solved in ", solve_s, " s (", core::text::rate(rate), " points/s)");
  log::debug(S, ": operator storage ", double(solver_->operator_bytes()) / 1048576.0, " MiB, solver scratch ",
             double(solver_->workspace_bytes()) / 1048576.0, " MiB (this rank), compatibility defect ",
             solver_->singular() ? solver_->compatibility_defect() : 0.0);

  // Residual of the interior equations through the independent operator apply.
  const bool check = deck_.boolean(S, "residual_check");
  double res_max = 0, f_max = 0, u_max = 0;
  if (check) {
    core::ScopedTimer t("residual");
    std::array<linops::Operator1D, 3> ops;
    std::array<bool, 3> per{};
    for (int a = 0; a < 3; ++a) {
      if (domain.axes[a].size() > 1) ops[a] = solver_->operators()[a];
      per[a] = domain.axes[a].periodic();
    }
    linops::KroneckerSum L(setup_.grid, ops, shift_, per);
    layout::RealField Lu(px);
    L.apply(u, Lu);
    // Interior equations only: boundary rows hold the boundary conditions.
    namespace fo = layout::ops;
    const std::array<bool, 3> faces = setup_.boundaries().faces();
    u_max = fo::max_abs(u);
    fo::axpy(-1.0, f, Lu);
    fo::fill_faces(Lu, faces, 0.0);
    // Singular problems: the gauge removed the null component; checked below.
    res_max = solver_->singular() ? 0.0 : fo::max_abs(Lu);
    fo::copy(f, Lu);
    fo::fill_faces(Lu, faces, 0.0);
    f_max = fo::max_abs(Lu);
  }
  core::Json j = summary_header(setup_);
  j["transforms"] = solver_->describe();
  j["backend"] = deck_.string("device", "backend");
  j["solve_seconds"] = solve_s;
  j["points_per_second"] = rate;
  j["operator_bytes"] = static_cast<double>(solver_->operator_bytes());
  if (!check) {
    log::info(S, ": residual check skipped (", S, ".residual_check = false)");
  } else if (!solver_->singular()) {
    // Relative residual in the backward-error sense: |L u - f| / (|L| |u| + |f|), infinity norms.
    double lnorm = std::abs(shift_);
    for (int a = 0; a < 3; ++a)
      if (domain.axes[a].size() > 1) lnorm += solver_->operators()[a].dense().rowwise().lpNorm<1>().maxCoeff();
    const double rel = res_max / std::max(lnorm * u_max + f_max, 1e-300);
    j["residual_max"] = res_max;
    j["residual_relative"] = rel;
    log::info(S, ": max interior residual ", res_max, " (relative ", rel, ")");
  }
  if (solver_->singular()) j["compatibility_defect"] = solver_->compatibility_defect();
  finish_steady(setup_, u, f, solver_->singular(), {}, j);
  return j;
}

}  // namespace kron::problems
