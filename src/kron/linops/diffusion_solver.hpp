#pragma once
#include <memory>
#include <vector>

#include "kron/linops/diffusion.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::linops {

/// div(a grad u) = f with Dirichlet and/or periodic boundaries, solved matrix-free by PETSc:
/// the unknown is w = u - u_lift (u_lift: the boundary values, zero inside), the system
///   -div(a grad w) = -(f - div(a grad u_lift))  inside,   w = 0  on the boundary
/// (identity rows, so the operator stays symmetric where the flux form is), and the
/// preconditioner is the fast-diagonalization solve of -mean(a) Laplace with the same scheme.
/// All-periodic problems are singular: constants are the null space, the mean of u is zero.
class DiffusionSolver {
 public:
  DiffusionSolver(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes, std::array<Scheme, 3> schemes,
                  std::array<BoundaryKind, 3> bc, const layout::RealField& coefficient, bool fast_preconditioner);
  ~DiffusionSolver();
  VariableDiffusion& op() { return *op_; }
  bool singular() const { return singular_; }
  double coefficient_mean() const { return a_mean_; }
  std::string describe_preconditioner() const;
  /// Solves for u (x-pencil, every point) given f (interior equations) and the Dirichlet data g.
  /// `opt.ksp_type` empty: cg when the operator is symmetric, gmres otherwise.
  KrylovResult solve(const layout::RealField& f, const BoundaryData& g, layout::RealField& u, KrylovOptions opt);

 private:
  layout::ProcessGridPtr grid_;
  std::array<layout::AxisGrid, 3> axes_;
  std::array<BoundaryKind, 3> bc_;
  bool singular_ = true;
  double a_mean_ = 1;
  std::unique_ptr<VariableDiffusion> op_;
  std::unique_ptr<FastPoisson> pre_;
  std::array<bool, 3> dirichlet_{};  // axes whose faces carry Dirichlet values
};

}  // namespace kron::linops
