#include "kron/spectral/fit_tao.hpp"

#include <petsctao.h>

#include <cmath>
#include <exception>
#include <string>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/timer.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::spectral {

namespace {

struct Ctx {
  const Objective* f;
  Eigen::MatrixXd U, G;
  double t0, seconds;
  bool timed_out = false;
  bool deadline = false;  // the time limit passed inside a line search: TAO stopped, best kept
  Eigen::MatrixXd best;   // the point of the lowest objective evaluated
  double best_f = INFINITY;
  double next_report = 0;
  std::exception_ptr failure;  // an exception from the objective, rethrown after TaoSolve
};

PetscErrorCode objective_gradient(Tao, Vec x, PetscReal* f, Vec g, void* p) {
  Ctx& c = *static_cast<Ctx*>(p);
  const PetscScalar* xa;
  PetscErrorCode ierr = VecGetArrayRead(x, &xa);
  if (ierr) return ierr;
  std::copy(xa, xa + c.U.size(), c.U.data());
  ierr = VecRestoreArrayRead(x, &xa);
  if (ierr) return ierr;
  // The time limit is checked between iterations (monitor) and here: a line search whose
  // evaluations take long would otherwise run on past it. TAO is stopped and the best point
  // evaluated is the result.
  if (std::isfinite(c.best_f) && core::wall_time() - c.t0 > c.seconds) {
    c.timed_out = c.deadline = true;
    return PETSC_ERR_USER;
  }
  try {
    *f = (*c.f)(c.U, &c.G);
  } catch (...) {  // never through PETSc's C frames
    c.failure = std::current_exception();
    return PETSC_ERR_USER;
  }
  if (*f < c.best_f) {
    c.best_f = *f;
    c.best = c.U;
  }
  PetscScalar* ga;
  ierr = VecGetArray(g, &ga);
  if (ierr) return ierr;
  std::copy(c.G.data(), c.G.data() + c.G.size(), ga);
  return VecRestoreArray(g, &ga);
}

PetscErrorCode monitor(Tao tao, PetscInt it, void* p) {
  Ctx& c = *static_cast<Ctx*>(p);
  const double now = core::wall_time();
  if (now >= c.next_report) {  // a progress line every 5 s
    PetscReal f = 0;
    TaoGetSolutionStatus(tao, nullptr, &f, nullptr, nullptr, nullptr, nullptr);
    core::log::info("L-BFGS iteration ", it, ": loss ", f, " (", now - c.t0, " s)");
    c.next_report = now + 5.0;
  }
  if (now - c.t0 > c.seconds) {
    c.timed_out = true;
    return TaoSetConvergedReason(tao, TAO_CONVERGED_USER);
  }
  return 0;
}

}  // namespace

Eigen::MatrixXd minimize_lbfgs(const Objective& f, long rows, long cols, long max_it, double seconds, long& iterations, std::string& stopped_by) {
  LbfgsSetup s;
  s.start = Eigen::MatrixXd::Zero(rows, cols);
  return minimize_lbfgs(f, s, max_it, seconds, iterations, stopped_by);
}

Eigen::MatrixXd minimize_lbfgs(const Objective& f, const LbfgsSetup& setup, long max_it, double seconds, long& iterations, std::string& stopped_by) {
  namespace pc = linops::petsc;
  pc::initialize();
  const long rows = setup.start.rows(), cols = setup.start.cols();
  const PetscInt n = static_cast<PetscInt>(rows * cols);
  const bool bounded = setup.lower.size() > 0;
  if (bounded && (setup.lower.size() != setup.start.size() || setup.upper.size() != setup.start.size()))
    throw Error("L-BFGS: the bounds do not match the unknowns");
  Ctx ctx{&f, setup.start, Eigen::MatrixXd(), core::wall_time(), seconds};
  Vec x, lo = nullptr, hi = nullptr;
  Tao tao;
  // A Vec holding a matrix's values (column-major, as the objective's U).
  auto vec_of = [&](const Eigen::MatrixXd& M, Vec* v) {
    pc::check(VecCreateSeq(PETSC_COMM_SELF, n, v), "VecCreateSeq");
    PetscScalar* a;
    pc::check(VecGetArray(*v, &a), "VecGetArray");
    std::copy(M.data(), M.data() + M.size(), a);
    pc::check(VecRestoreArray(*v, &a), "VecRestoreArray");
  };
  vec_of(setup.start, &x);
  pc::check(TaoCreate(PETSC_COMM_SELF, &tao), "TaoCreate");
  pc::check(TaoSetType(tao, bounded ? TAOBLMVM : TAOLMVM), "TaoSetType");
  if (bounded) {
    vec_of(setup.lower, &lo);
    vec_of(setup.upper, &hi);
    pc::check(TaoSetVariableBounds(tao, lo, hi), "TaoSetVariableBounds");
  }
  pc::check(TaoSetOptionsPrefix(tao, setup.prefix.c_str()), "TaoSetOptionsPrefix");
  pc::check(TaoSetSolution(tao, x), "TaoSetSolution");
  pc::check(TaoSetObjectiveAndGradient(tao, nullptr, objective_gradient, &ctx), "TaoSetObjectiveAndGradient");
  pc::check(TaoSetTolerances(tao, 1e-14, 1e-14, 0.0), "TaoSetTolerances");
  pc::check(TaoSetMaximumIterations(tao, static_cast<PetscInt>(max_it)), "TaoSetMaximumIterations");
  pc::check(TaoSetMaximumFunctionEvaluations(tao, static_cast<PetscInt>(4 * max_it + 100)), "TaoSetMaximumFunctionEvaluations");
  ctx.next_report = ctx.t0 + 5.0;
  pc::check(TaoSetUpdate(tao, monitor, &ctx), "TaoSetUpdate");
  pc::check(TaoSetFromOptions(tao), "TaoSetFromOptions");
  const PetscErrorCode solve = TaoSolve(tao);
  TaoConvergedReason reason;
  PetscInt its = 0;
  pc::check(TaoGetConvergedReason(tao, &reason), "TaoGetConvergedReason");
  pc::check(TaoGetIterationNumber(tao, &its), "TaoGetIterationNumber");
  const PetscScalar* xa;
  pc::check(VecGetArrayRead(x, &xa), "VecGetArrayRead");
  Eigen::MatrixXd U = Eigen::Map<const Eigen::MatrixXd>(xa, rows, cols);
  pc::check(VecRestoreArrayRead(x, &xa), "VecRestoreArrayRead");
  TaoDestroy(&tao);
  VecDestroy(&x);
  if (lo) VecDestroy(&lo);
  if (hi) VecDestroy(&hi);
  if (ctx.failure) std::rethrow_exception(ctx.failure);
  if (ctx.deadline) {
    try {
      pc::check(solve, "TaoSolve (L-BFGS)");  // (clears the stopped solve's message)
    } catch (const Error&) {
    }
    U = ctx.best;
  } else {
    pc::check(solve, "TaoSolve (L-BFGS)");
  }
  iterations = its;
  stopped_by = ctx.timed_out ? "the time limit" : TaoConvergedReasons[reason];
  if (!U.allFinite()) throw Error("L-BFGS produced non-finite values", {}, "check the PDE terms and the data");
  return U;
}

FitResult fit_lbfgs(const SpaceTimeProblem& p, long max_it, double seconds) {
  core::ScopedTimer timer("spectral.lbfgs");
  const SpaceTimeLoss loss(p);
  long its = 0;
  std::string why;
  FitResult r;
  r.u = minimize_lbfgs([&](const Eigen::MatrixXd& U, Eigen::MatrixXd* g) { return loss(U, g); }, loss.nt(), loss.nx(), max_it, seconds, its, why);
  const SpaceTimeLoss::Parts parts = loss.evaluate(r.u);
  r.loss = parts.loss;
  r.residual_rms = parts.residual_rms;
  r.initial_rms = parts.initial_rms;
  r.iterations = static_cast<int>(its);
  r.method = "L-BFGS (PETSc TAO TAOLMVM, " + std::to_string(its) + " iterations, stopped by " + why + ")";
  return r;
}

PlaneFit fit_plane_lbfgs(const PlaneProblem& p, long max_it, double seconds) {
  core::ScopedTimer timer("spectral.lbfgs");
  const PlaneLoss loss(p);
  long its = 0;
  std::string why;
  Eigen::MatrixXd U =
      minimize_lbfgs([&](const Eigen::MatrixXd& X, Eigen::MatrixXd* g) { return loss(X, g); }, loss.nx(), loss.ny(), max_it, seconds, its, why);
  return loss.result(std::move(U), "L-BFGS (PETSc TAO TAOLMVM, " + std::to_string(its) + " iterations, stopped by " + why + ")", its);
}

}  // namespace kron::spectral
