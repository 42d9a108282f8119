#pragma once
#include <memory>
#include <optional>

#include "kron/core/expression.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/process_grid.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/problems/pde_setup.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "poisson"` (Laplace u = f) and `"helmholtz"` (Laplace u - lambda u = f):
/// a direct fast-diagonalization solve with any scheme per axis and Dirichlet, Neumann or
/// periodic boundaries; with an exact solution, summary.json holds the L2 and max errors.
class Poisson : public Problem {
 public:
  static void declare_poisson(core::Schema& schema);
  static void declare_helmholtz(core::Schema& schema);
  Poisson(const core::Deck& deck, MPI_Comm comm, bool helmholtz);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  std::string section_;
  PdeSetup setup_;
  double shift_ = 0;
  std::unique_ptr<linops::FastPoisson> solver_;
  std::array<long, 3> test_points_{0, 1, 1};  ///< [section] test_points (0: none)
  void evaluate_on_test_grid(const layout::RealField& u, core::Json& j);
};

}  // namespace kron::problems
