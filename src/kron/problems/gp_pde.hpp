#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kron/core/expression.hpp"
#include "kron/gp/hm.hpp"
#include "kron/gp/hm_grid.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "gp_pde"`: GP-HM's Gaussian-process solver (gp/hm.hpp) for
/// c2 u_xx + c1 u_x + p(u) = f on an interval with u given at both ends, or (gp.y given; the grid
/// model, gp/hm_grid.hpp) c2 (u_xx + u_yy) + p0 + p1 u = f on a rectangle with u given on its
/// boundary: the solution values at uniform collocation points under a spectral-mixture prior
/// (a product of per-axis mixtures in 2D), the hyperparameters learned. Method
/// exact (kron's: U solved exactly for each hyperparameter set, L-BFGS on the hyperparameters) or
/// adam (the paper's protocol). Prints and stores the error on a uniform test grid, writes the
/// solution, its error and the learned spectrum (HDF5/XDMF, summary.json).
class GpPde : public Problem {
 public:
  static void declare(core::Schema& schema);
  GpPde(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  std::unique_ptr<gp::HmModel> model_;     // 1D, residual noise I / v (GP-HM's)
  std::unique_ptr<gp::HmGridModel> grid_;  // 1D or 2D, residual noise K / v
  std::vector<core::Expression> exact_;  // zero or one
  long test_points_ = 300;
  std::string method_;
};

}  // namespace kron::problems
