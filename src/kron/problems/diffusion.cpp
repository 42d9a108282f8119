#include "kron/problems/diffusion.hpp"

#include "kron/layout/field_ops.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

void Diffusion::declare(core::Schema& schema) {
  core::SectionSpec s{"diffusion",
                      "Variable-coefficient problem  div(a grad u) = f,  solved matrix-free by a PETSc Krylov method "
                      "preconditioned by fast diagonalization. fd2 on every axis uses the conservative flux form "
                      "(symmetric: CG); other schemes the product form a D2 u + (D1 a)(D1 u) (GMRES).",
                      pde_keys(false, false), false, "diffusion"};
  s.keys.push_back({"coefficient", ValueKind::String, "\"1\"", "Diffusion coefficient a(x, y, z) > 0."});
  s.keys.push_back({"ksp_type", ValueKind::String, "", "Krylov method (PETSc KSPType); absent: cg for the symmetric flux form, gmres otherwise. petsc.ksp_type or -ksp_type override it.",
                    -1e300, 1e300, {}, 0, 0, true});
  s.keys.push_back({"rtol", ValueKind::Real, "1e-10", "Relative residual tolerance (petsc.ksp_rtol overrides).", 0, 1});
  s.keys.push_back({"max_it", ValueKind::Integer, "10000", "Iteration limit (petsc.ksp_max_it overrides).", 1, 1e9});
  s.keys.push_back({"preconditioner", ValueKind::String, "\"fast\"",
                    "fast: fast diagonalization of mean(a) Laplace (PCSHELL); petsc: whatever petsc.pc_type says (none by default).",
                    -1e300, 1e300, {"fast", "petsc"}});
  s.keys.push_back({"progress_every", ValueKind::Integer, "10", "A progress line every this many Krylov iterations (0: none).", 0, 1e9});
  s.keys.push_back({"compatibility_tol", ValueKind::Real, "1e-6",
                    "All axes periodic: largest relative mean of the source accepted (and projected out); larger fails as incompatible data.", 0, 1});
  schema.add(s);
  core::SectionSpec p{"petsc",
                      "PETSc options database entries for the Krylov solve, without the leading '-': ksp_type = \"gmres\", "
                      "ksp_rtol = 1e-12, ksp_monitor = true, pc_type = \"none\", log_view = true. The command line after "
                      "'--' (kron DECK -- -ksp_type gmres) wins over this table. An option no PETSc object used is an error.",
                      {}, false, "diffusion"};
  p.open_option_table = true;
  schema.add(p);
}

Diffusion::Diffusion(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm), setup_(deck, "diffusion", comm, false) {
  const std::string S = "diffusion";
  {
    // Counted from the run and checked against its measured peak by tests/cli/memory.sh.
    const double fb = setup_.field_bytes();
    core::MemoryEstimate est;
    add_axis_factors(est, setup_, deck.string(S, "preconditioner") == "fast");
    est.add("fields a, u, f, error, residual", 5 * fb);
    est.add("face coefficients and operator scratch", 4 * fb);
    est.add("PETSc Krylov vectors", 6 * fb);
    est.add("preconditioner scratch", 2 * fb);
    est.add("transposes", transpose_fields(*setup_.grid, 3) * fb);
    reserve_memory(deck, setup_.domain, est, comm);
  }
  a_ = layout::RealField(setup_.x_pencil());
  const core::Expression coef = setup_.expression("coefficient");
  layout::evaluate(coef, setup_.domain, 0.0, a_);
  if (!layout::ops::all_finite(a_)) throw deck.error(S, "coefficient", "is not finite at some grid point");
  const double amin = layout::ops::min_value(a_);
  if (!(amin > 0))
    throw deck.error(S, "coefficient", "must be positive everywhere; its minimum on the grid is " + std::to_string(amin),
                     "the diffusion operator is elliptic only for a > 0");
  try {
    solver_ = std::make_unique<linops::DiffusionSolver>(setup_.grid, setup_.domain.axes, setup_.schemes, setup_.bc, a_,
                                                        deck.string(S, "preconditioner") == "fast");
  } catch (const Error& e) {
    throw deck.error(S, "scheme", e.message(), e.hint());
  }
  linops::petsc::initialize(deck.options("petsc"));
}

Diffusion::~Diffusion() = default;

core::Json Diffusion::run() {
  const std::string S = "diffusion";
  const layout::Domain& domain = setup_.domain;
  const layout::Pencil px = setup_.x_pencil();
  layout::RealField f(px), u(px), tmp(px);
  layout::evaluate(*setup_.source, domain, 0.0, f);
  setup_.check_data(f, 0.0, "source", &tmp);  // before the solve, naming the key
  // Singular (all periodic): the source must have zero mean.
  if (setup_.all_periodic) {
    const double s = layout::ops::sums(f)[0], sa = layout::ops::norm1(f);
    const double defect = sa > 0 ? std::abs(s) / sa : 0.0;
    if (defect > deck_.real(S, "compatibility_tol"))
      throw deck_.error(S, "source", "is incompatible with all-periodic boundaries: its mean is " + std::to_string(defect) +
                                         " of its mean magnitude (compatibility_tol " + std::to_string(deck_.real(S, "compatibility_tol")) + ")",
                        "on a periodic box the source of div(a grad u) = f must average to zero");
  }
  linops::KrylovOptions ko;
  if (deck_.has(S, "ksp_type")) ko.ksp_type = deck_.string(S, "ksp_type");
  ko.rtol = deck_.real(S, "rtol");
  ko.max_it = deck_.integer(S, "max_it");
  ko.progress_every = deck_.integer(S, "progress_every");
  ko.label = S;
  linops::VariableDiffusion& op = solver_->op();
  log::info(S, ": ", setup_.describe(), "; ", op.flux_form() ? "flux form" : "product form", ", coefficient mean ",
            solver_->coefficient_mean(), ", preconditioner ", solver_->describe_preconditioner());
  log::debug(S, ": operator ", op.describe(), ", storage ", double(op.operator_bytes()) / 1048576.0, " MiB, scratch ",
             double(op.workspace_bytes()) / 1048576.0, " MiB (this rank)");
  linops::KrylovResult kr;
  double solve_s = 0;
  {
    core::ScopedTimer t("solve");
    const double t0 = core::wall_time();
    kr = solver_->solve(f, setup_.boundary_data(0.0), u, ko);
    solve_s = core::mpi::max(core::wall_time() - t0, comm_);
  }
  // Deck options that PETSc never looked at are misspelt or meaningless: fail before writing.
  {
    std::vector<std::string> names;
    for (const auto& [k, v] : deck_.options("petsc")) names.push_back(k);
    const auto unused = linops::petsc::unused(names);
    if (!unused.empty())
      throw deck_.error("petsc", unused.front(), "PETSc option -" + unused.front() + " was not used by the solver",
                        "check the spelling; 'kron DECK -- -help' lists the options PETSc knows");
    // The same for the command line after '--'.
    const auto unused_cli = linops::petsc::unused(linops::petsc::command_line_options());
    if (!unused_cli.empty())
      throw Error("PETSc option -" + unused_cli.front() + " (after --) was not used by the solver", {"command line", 0, {}},
                  "check the spelling; 'kron DECK -- -help' lists the options PETSc knows");
  }
  log::info(S, ": ", kr.ksp_type, " + ", kr.pc_type, " ", kr.reason, " in ", kr.iterations, " iterations, ", solve_s, " s");
  // True residual of the equations through the operator (independent of the KSP's norm).
  // Interior equations only: boundary rows hold the boundary conditions.
  op.apply(u, tmp);
  const std::array<bool, 3> faces = setup_.boundaries().faces();
  layout::ops::axpy(-1.0, f, tmp);
  layout::ops::fill_faces(tmp, faces, 0.0);
  const double rmax = layout::ops::max_abs(tmp);
  layout::ops::copy(f, tmp);
  layout::ops::fill_faces(tmp, faces, 0.0);
  const double fmax = layout::ops::max_abs(tmp);
  core::Json j = summary_header(setup_);
  j["form"] = op.flux_form() ? "flux" : "product";
  j["ksp_type"] = kr.ksp_type;
  j["pc_type"] = kr.pc_type;
  j["converged_reason"] = kr.reason;
  j["iterations"] = static_cast<double>(kr.iterations);
  j["solve_seconds"] = solve_s;
  j["points_per_second"] = double(setup_.domain.points()) / std::max(solve_s, 1e-12);
  j["residual_max"] = rmax;
  j["residual_relative"] = fmax > 0 ? rmax / fmax : rmax;
  j["operator_bytes"] = static_cast<double>(op.operator_bytes());
  log::info(S, ": max interior residual ", rmax, " (relative to max |f|: ", fmax > 0 ? rmax / fmax : rmax, ")");
  finish_steady(setup_, u, f, setup_.all_periodic, {{"a", &a_, 0}}, j);
  return j;
}

}  // namespace kron::problems
