#include "kron/linops/diffusion_solver.hpp"

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {

DiffusionSolver::DiffusionSolver(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                                 std::array<Scheme, 3> schemes, std::array<BoundaryKind, 3> bc,
                                 const layout::RealField& coefficient, bool fast_preconditioner)
    : grid_(grid), axes_(axes), bc_(bc) {
  for (int a = 0; a < 3; ++a) {
    if (axes[a].size() <= 1) continue;
    if (bc[a] == BoundaryKind::Neumann)
      throw Error("the diffusion solver takes dirichlet or periodic boundaries, not neumann", {},
                  "use the poisson problem for Neumann data with a constant coefficient");
    singular_ = singular_ && bc[a] == BoundaryKind::Periodic;
  }
  op_ = std::make_unique<VariableDiffusion>(grid, axes, schemes, coefficient);
  a_mean_ = layout::ops::sums(coefficient)[0] / double(axes[0].size() * axes[1].size() * axes[2].size());
  if (fast_preconditioner) {
    FastPoissonOptions fo;
    fo.compatibility_tol = 1.0;  // inside Krylov the residual's mean is the null space's business
    pre_ = std::make_unique<FastPoisson>(grid, axes, schemes, bc, 0.0, fo);
  }
  dirichlet_ = Boundaries({axes[0].size(), axes[1].size(), axes[2].size()}, bc).faces(BoundaryKind::Dirichlet);
}

DiffusionSolver::~DiffusionSolver() = default;

std::string DiffusionSolver::describe_preconditioner() const {
  return pre_ ? "fast diagonalization of mean(a) Laplace (" + pre_->describe() + ")" : std::string("PETSc's pc_type");
}

KrylovResult DiffusionSolver::solve(const layout::RealField& f, const BoundaryData& g, layout::RealField& u, KrylovOptions opt) {
  namespace ops = layout::ops;
  const layout::Pencil& px = f.pencil();
  const std::array<bool, 3> dir = dirichlet_;
  // u_lift: the Dirichlet values on the boundary, zero inside.
  u.fill(0.0);
  fill_dirichlet(axes_, bc_, g, u);
  layout::RealField rhs(px), w(px), w0(px);
  op_->apply(u, rhs);
  ops::map(rhs, [](double lu, double fq) { return lu - fq; }, f);  // -(f - L u_lift)
  ops::fill_faces(rhs, dir, 0.0);
  // -L on the interior (boundary values of the input zeroed), identity rows on the boundary.
  FieldMap A = [&](const layout::RealField& in, layout::RealField& out) {
    ops::copy(in, w0);
    ops::fill_faces(w0, dir, 0.0);
    op_->apply(w0, out);
    ops::scale(-1.0, out);
    ops::copy_faces(in, out, dir);
  };
  FieldMap P;
  if (pre_) {
    const double inv_mean = 1.0 / a_mean_;
    const BoundaryData zero = [](int, int, const std::array<double, 3>&) { return 0.0; };
    P = [&, inv_mean, zero](const layout::RealField& in, layout::RealField& out) {
      pre_->solve(in, zero, out);
      ops::scale(-inv_mean, out);
      ops::copy_faces(in, out, dir);
    };
  }
  if (opt.ksp_type.empty()) opt.ksp_type = op_->symmetric() ? "cg" : "gmres";
  opt.constant_null_space = singular_;
  Krylov ksp(px, A, P, opt);
  const KrylovResult r = ksp.solve(rhs, w);
  ops::fill_faces(w, dir, 0.0);
  ops::axpy(1.0, w, u);
  if (singular_) ops::add(-ops::sums(u)[0] / double(axes_[0].size() * axes_[1].size() * axes_[2].size()), u);
  return r;
}

}  // namespace kron::linops
