#include "kron/linops/diffusion_solver.hpp"

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"

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
  double s = 0;
  for (std::size_t q = 0; q < coefficient.storage_size(); ++q) s += coefficient.data()[q];
  a_mean_ = core::mpi::sum(s, grid->comm()) / double(axes[0].size() * axes[1].size() * axes[2].size());
  if (fast_preconditioner) {
    FastPoissonOptions fo;
    fo.compatibility_tol = 1.0;  // inside Krylov the residual's mean is the null space's business
    pre_ = std::make_unique<FastPoisson>(grid, axes, schemes, bc, 0.0, fo);
  }
  const layout::Pencil px = coefficient.pencil();
  const auto& b = px.box();
  boundary_.assign(static_cast<std::size_t>(b.volume()), 0);
  for (long k = 0, q = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i, ++q) {
        const std::array<long, 3> g{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        for (int a = 0; a < 3; ++a)
          if (axes[a].size() > 1 && bc[a] == BoundaryKind::Dirichlet && (g[a] == 0 || g[a] == axes[a].size() - 1)) boundary_[q] = 1;
      }
}

DiffusionSolver::~DiffusionSolver() = default;

std::string DiffusionSolver::describe_preconditioner() const {
  return pre_ ? "fast diagonalization of mean(a) Laplace (" + pre_->describe() + ")" : std::string("PETSc's pc_type");
}

KrylovResult DiffusionSolver::solve(const layout::RealField& f, const BoundaryData& g, layout::RealField& u, KrylovOptions opt) {
  const layout::Pencil& px = f.pencil();
  const auto& b = px.box();
  const long N = static_cast<long>(b.volume());
  const std::vector<char>& bd = boundary_;
  // u_lift: the Dirichlet values on the boundary, zero inside.
  std::fill(u.data(), u.data() + u.storage_size(), 0.0);
  fill_dirichlet(axes_, bc_, g, u);
  layout::RealField rhs(px), w(px), w0(px);
  op_->apply(u, rhs);
  for (long q = 0; q < N; ++q) rhs.data()[q] = bd[q] ? 0.0 : -(f.data()[q] - rhs.data()[q]);
  FieldMap A = [&](const layout::RealField& in, layout::RealField& out) {
    for (long q = 0; q < N; ++q) w0.data()[q] = bd[q] ? 0.0 : in.data()[q];
    op_->apply(w0, out);
    for (long q = 0; q < N; ++q) out.data()[q] = bd[q] ? in.data()[q] : -out.data()[q];
  };
  FieldMap P;
  if (pre_) {
    const double inv_mean = 1.0 / a_mean_;
    const BoundaryData zero = [](int, int, const std::array<double, 3>&) { return 0.0; };
    P = [&, inv_mean, zero](const layout::RealField& in, layout::RealField& out) {
      pre_->solve(in, zero, out);
      for (long q = 0; q < N; ++q) out.data()[q] = bd[q] ? in.data()[q] : -inv_mean * out.data()[q];
    };
  }
  if (opt.ksp_type.empty()) opt.ksp_type = op_->symmetric() ? "cg" : "gmres";
  opt.constant_null_space = singular_;
  Krylov ksp(px, A, P, opt);
  const KrylovResult r = ksp.solve(rhs, w);
  for (long q = 0; q < N; ++q) u.data()[q] += bd[q] ? 0.0 : w.data()[q];
  if (singular_) {
    double s = 0;
    for (long q = 0; q < N; ++q) s += u.data()[q];
    const double mean = core::mpi::sum(s, grid_->comm()) / double(axes_[0].size() * axes_[1].size() * axes_[2].size());
    for (long q = 0; q < N; ++q) u.data()[q] -= mean;
  }
  return r;
}

}  // namespace kron::linops
