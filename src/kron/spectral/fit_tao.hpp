#pragma once
// BWLer's L-BFGS protocol through PETSc TAO (TAOLMVM) on the space-time loss and its analytic
// gradient: part of kron_petsc, the only library that links PETSc.
#include "kron/spectral/fit.hpp"
#include "kron/spectral/plane_fit.hpp"

namespace kron::spectral {

/// L-BFGS (PETSc TAO's TAOLMVM, its default memory and More-Thuente line search) on
/// SpaceTimeLoss from U = 0, until `max_it` iterations, `seconds` of wall time (checked each
/// iteration), or TAO's own convergence test (gradient norm 1e-14 absolute or relative);
/// options with the prefix -bwler_ (e.g. -bwler_tao_lmvm_recycle) reach the solver. The fit is
/// the same on every rank (PETSC_COMM_SELF). iterations: TAO's; method names the reason it stopped.
FitResult fit_lbfgs(const SpaceTimeProblem& p, long max_it, double seconds);

/// The same L-BFGS on the plane fit's loss (PlaneLoss).
PlaneFit fit_plane_lbfgs(const PlaneProblem& p, long max_it, double seconds);

/// The same L-BFGS on any objective from U = 0 (rows x cols). Returns U; `iterations` receives
/// TAO's iteration count and `stopped_by` the reason it stopped.
Eigen::MatrixXd minimize_lbfgs(const Objective& f, long rows, long cols, long max_it, double seconds, long& iterations, std::string& stopped_by);

/// Where a bounded L-BFGS starts and what it may not leave, and the options prefix of its TAO
/// object (-<prefix>tao_*).
struct LbfgsSetup {
  Eigen::MatrixXd start;         ///< the initial point (its shape is the unknowns')
  Eigen::MatrixXd lower, upper;  ///< empty: unbounded (TAOLMVM); else elementwise bounds (TAOBLMVM)
  std::string prefix = "bwler_";
};
/// The same L-BFGS from setup.start, bounded when bounds are given (TAOBLMVM, the projected
/// variant; a variable with equal bounds is held).
Eigen::MatrixXd minimize_lbfgs(const Objective& f, const LbfgsSetup& setup, long max_it, double seconds, long& iterations, std::string& stopped_by);

}  // namespace kron::spectral
