#pragma once
#include <string>
#include <vector>

#include "kron/core/expression.hpp"
#include "kron/problems/registry.hpp"
#include "kron/problems/bwler_hat.hpp"
#include "kron/spectral/fit.hpp"

namespace kron::problems {

/// `[problem] type = "bwler"`: a linear space-time PDE (plus a polynomial reaction term in u, by
/// Gauss-Newton) fitted by nodal values at Chebyshev (t) x
/// Fourier (x) nodes, BWLer's representation, with its loss (mean squared collocation residual
/// plus weighted initial terms) minimised exactly (spectral::fit_space_time). Prints and stores
/// the loss, its parts, the conditioning of the least-squares problems and, given the exact
/// solution, the relative L2 error on a fine test grid; writes the fitted solution and its error
/// there (HDF5/XDMF: x along x, t along y).
/// Relative L2 and max errors of fitted values against a reference on a test grid split over the
/// ranks: add() point by point, combine() over the communicator (collective), then read.
struct TestGridError {
  double e2 = 0, s2 = 0, max = 0;
  long points = 0;
  /// Returns fit - ref.
  double add(double fit, double ref);
  void combine(MPI_Comm comm);
  double relative_l2() const;
};

class Bwler : public Problem {
 public:
  static void declare(core::Schema& schema);
  Bwler(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  spectral::SpaceTimeProblem p_;
  std::vector<long> test_points_;
  bool has_exact_ = false;
  std::vector<core::Expression> exact_;  // zero or one
  std::string operator_text_;
  std::string method_;
  bool slabs_ = false;  // the time-slab Newton path (spectral::fit_time_slabs)
  double nu_ = 0;       // bwler.reference = burgers_sine: the viscosity
  BwlerHatOptions hat_;  // method = "hat"
};

}  // namespace kron::problems
