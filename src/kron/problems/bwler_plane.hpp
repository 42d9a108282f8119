#pragma once
#include <string>
#include <vector>

#include "kron/core/expression.hpp"
#include "kron/problems/registry.hpp"
#include "kron/spectral/laplace_series.hpp"
#include "kron/spectral/plane_fit.hpp"

namespace kron::problems {

/// `[problem] type = "bwler_plane"`: a linear PDE in (x, y) on a rectangle with circular holes,
/// fitted by values at tensor Chebyshev nodes (BWLer's representation) to the mean squared
/// residual at collocation points inside the domain plus the weighted boundary misfit on all
/// boundary curves (spectral::fit_plane). Prints and stores the loss, its parts, the condition
/// estimate and the error on a test grid against the exact solution or an independent reference
/// (the Laplace series method, with its certified error); writes u, the error and the domain
/// mask there (HDF5/XDMF).
class BwlerPlane : public Problem {
 public:
  static void declare(core::Schema& schema);
  BwlerPlane(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  spectral::PlaneProblem p_;
  spectral::HoledRectangle domain_;
  std::vector<core::Expression> exact_, boundary_;  // zero or one; outer and hole data
  std::string operator_text_;
  bool laplacian_ = false;  // the operator is c (u_xx + u_yy)
};

}  // namespace kron::problems
