#pragma once
#include <memory>

#include "kron/linops/diffusion_solver.hpp"
#include "kron/problems/pde_setup.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "diffusion"`: div(a grad u) = f with a coefficient expression a > 0 and
/// Dirichlet or periodic boundaries, solved by a PETSc Krylov method (MATSHELL over kron's
/// matrix-free operator) preconditioned by fast diagonalization of mean(a) Laplace (PCSHELL).
/// The [petsc] table and the command line after `--` reach PETSc's options database.
class Diffusion : public Problem {
 public:
  static void declare(core::Schema& schema);
  Diffusion(const core::Deck& deck, MPI_Comm comm);
  ~Diffusion() override;
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  PdeSetup setup_;
  layout::RealField a_;
  std::unique_ptr<linops::DiffusionSolver> solver_;
};

}  // namespace kron::problems
