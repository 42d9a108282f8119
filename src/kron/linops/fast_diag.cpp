#include "kron/linops/fast_diag.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"

namespace kron::linops {

namespace {
// One relative tolerance for "this combined eigenvalue is zero", for every solver.
constexpr double kZero = 1e-10;
}  // namespace

FastDiagonalization::FastDiagonalization(layout::ProcessGridPtr grid, std::array<long, 3> n, std::array<Axis, 3> axes,
                                         Combine combine, double shift, bool allow_singular, std::string what)
    : grid_(std::move(grid)), n_(n), axes_(std::move(axes)), combine_(combine), shift_(shift), allow_singular_(allow_singular),
      what_(std::move(what)) {
  std::vector<TensorOp<double>::Stage> fwd, bwd;
  double scale = combine_ == Combine::Product ? 1.0 : 0.0, zero_sum = 0.0;
  bool all_zero = true;
  for (int a = 0; a < 3; ++a) {
    const Axis& A = axes_[a];
    if (!A.fwd) continue;
    fwd.push_back({a, A.fwd, A.fwd_trans, A.lo});
    bwd.push_back({a, A.bwd, A.bwd_trans, A.lo});
    norm_ *= A.norm;
    double lmax = 0, lmin = INFINITY;
    for (double l : A.lambda) {
      lmax = std::max(lmax, std::abs(l));
      lmin = std::min(lmin, std::abs(l));
    }
    scale = combine_ == Combine::Product ? scale * lmax : scale + lmax;
    all_zero = all_zero && lmin <= kZero * lmax;
    zero_sum += lmin;
  }
  scale_ = scale + std::abs(shift_);
  // Some combined eigenvalue vanishes: for a sum without shift, a zero on every axis; for a
  // product, a zero on any axis (checked point by point in solve()).
  singular_ = shift_ == 0.0 && (combine_ == Combine::Sum ? all_zero : zero_sum <= kZero * scale_);
  TensorOp<double>::Options o;
  o.return_to_x = false;
  fwd_ = TensorOp<double>(grid_, n_, 1, fwd, o);
  TensorOp<double>::Options b;
  b.in_axis = fwd_.out_axis();
  bwd_ = TensorOp<double>(grid_, n_, 1, bwd, b);
}

std::size_t FastDiagonalization::bytes() const {
  std::size_t b = 0;
  for (const Axis& A : axes_) {
    b += sizeof(double) * A.lambda.size();
    if (A.fwd) b += A.fwd->bytes();
    if (A.bwd && A.bwd != A.fwd) b += A.bwd->bytes();
  }
  return b;
}

double FastDiagonalization::solve(const layout::RealField& r, layout::RealField& u, PencilWorkspace& ws) const {
  layout::RealField& F = ws.field<double>(fwd_.out_axis(), n_, 1, 8);
  {
    core::ScopedTimer t("fastdiag.transforms");
    fwd_.apply(r, F, ws);
  }
  double dropped = 0, fmax = 0;
  {
    core::ScopedTimer t("fastdiag.divide");
    const auto& b = F.pencil().box();
    // Transformed points of each axis: lo .. lo+m-1 (the rest carries the zeros of r).
    auto inside = [&](int a, long g) {
      const Axis& A = axes_[a];
      return !A.fwd || A.lo < 0 || (g >= A.lo && g < A.lo + static_cast<long>(A.lambda.size()));
    };
    auto lam = [&](int a, long g) { const Axis& A = axes_[a]; return A.lambda[static_cast<std::size_t>(A.lo < 0 ? g : g - A.lo)]; };
    bool zero_mode = false;
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const std::array<long, 3> g{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          double& x = F(i, j, k);
          if (!(inside(0, g[0]) && inside(1, g[1]) && inside(2, g[2]))) {
            x = 0;
            continue;
          }
          double den = combine_ == Combine::Product ? 1.0 : 0.0;
          for (int a = 0; a < 3; ++a) {
            if (!axes_[a].fwd) continue;
            den = combine_ == Combine::Product ? den * lam(a, g[a]) : den + lam(a, g[a]);
          }
          den += shift_;
          fmax = std::max(fmax, std::abs(x));
          if (std::abs(den) <= kZero * scale_) {
            zero_mode = true;
            dropped = std::max(dropped, std::abs(x));
            x = 0;
            continue;
          }
          x /= den * norm_;
        }
    if (!core::mpi::all(!zero_mode || allow_singular_, grid_->comm()))
      throw Error("the " + what_ + " is singular (a combined eigenvalue is zero)", {}, "change the shift, or add a Dirichlet axis");
    dropped = core::mpi::max(dropped, grid_->comm());
    fmax = core::mpi::max(fmax, grid_->comm());
  }
  {
    core::ScopedTimer t("fastdiag.transforms");
    bwd_.apply(F, u, ws);
  }
  return fmax > 0 ? dropped / fmax : 0.0;
}

}  // namespace kron::linops
