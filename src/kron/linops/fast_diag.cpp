#include "kron/linops/fast_diag.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/fast_diag_device.hpp"

namespace kron::linops {

namespace {
// One relative tolerance for "this combined eigenvalue is zero", for every solver.
constexpr double kZero = 1e-10;

// The division of fast diagonalization on host data laid out as `b` (storage order; offset
// from x): x /= (l0 (*|+) l1 (*|+) l2 + shift) * norm; NaN eigenvalues (outside the transformed
// range) make x zero; |denominator| <= zero makes x zero and counts as dropped. The host twin of
// device::spectral_divide, same operations in the same order.
device::DivideResult divide_host(double* x, const layout::device_ops::Interior& b, const std::vector<double>& l0, const std::vector<double>& l1,
                                 const std::vector<double>& l2, bool product, double shift, double zero, double norm) {
  device::DivideResult r;
  for (long q2 = 0; q2 < b.n[2]; ++q2)
    for (long q1 = 0; q1 < b.n[1]; ++q1) {
      const double l12 = product ? l1[static_cast<std::size_t>(q1)] * l2[static_cast<std::size_t>(q2)]
                                 : l1[static_cast<std::size_t>(q1)] + l2[static_cast<std::size_t>(q2)];
      double* row = x + b.offset + q1 * b.stride[1] + q2 * b.stride[2];
      for (long i = 0; i < b.n[0]; ++i) {
        double& v = row[i * b.stride[0]];
        const double den = (product ? l0[static_cast<std::size_t>(i)] * l12 : l0[static_cast<std::size_t>(i)] + l12) + shift;
        if (std::isnan(den)) {  // outside the transformed range
          v = 0;
          continue;
        }
        r.fmax = std::max(r.fmax, std::abs(v));
        r.nonfinite = r.nonfinite || !std::isfinite(v);
        if (std::abs(den) <= zero) {
          r.zero_mode = true;
          r.dropped = std::max(r.dropped, std::abs(v));
          v = 0;
          continue;
        }
        v /= den * norm;
        r.nonfinite = r.nonfinite || !std::isfinite(v);
      }
    }
  return r;
}
}  // namespace

FastDiagonalization::FastDiagonalization(layout::ProcessGridPtr grid, std::array<long, 3> n, std::array<Axis, 3> axes,
                                         Combine combine, double shift, bool allow_singular, std::string what)
    : grid_(std::move(grid)), n_(n), axes_(std::move(axes)), combine_(combine), shift_(shift), allow_singular_(allow_singular),
      what_(std::move(what)) {
  std::vector<TensorOp<double>::Stage>& fwd = fwd_stages_;
  std::vector<TensorOp<double>::Stage>& bwd = bwd_stages_;
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
  // The spectral path: every present axis a real FFT of whole lines, inverted by its own HC2R.
  using LT = LineOp<double>::Transform;
  spectral_ = !fwd.empty();
  for (int a = 0; a < 3; ++a)
    if (const Axis& A = axes_[a]; A.fwd)
      spectral_ = spectral_ && (A.lo < 0 || (A.lo == 0 && A.fwd->cols() == n_[a])) && A.fwd->kind() == LineOp<double>::Kind::Transform &&
                  A.fwd->transform_kind() == LT::R2HC &&
                  A.bwd && A.bwd->kind() == LineOp<double>::Kind::Transform && A.bwd->transform_kind() == LT::HC2R &&
                  A.fwd_trans == Trans::N && A.bwd_trans == Trans::N;
  plans(1);
}

const layout::DistributedTransform& FastDiagonalization::spectral_plan(int ncomp, core::MemorySpace space) const {
  auto& p = spectral_plans_[{ncomp, static_cast<int>(space)}];
  if (!p) {
    layout::FftOptions o;
    o.ncomp = ncomp;
    o.space = space;
    o.effort = layout::FftEffort::Estimate;  // measured panel plans where the wisdom has them
    std::array<layout::TransformKind, 3> kinds{};
    for (int a = 0; a < 3; ++a) kinds[a] = axes_[a].fwd ? layout::TransformKind::Fourier : layout::TransformKind::None;
    p = std::make_unique<layout::DistributedTransform>(grid_, n_, kinds, o);
  }
  return *p;
}

std::array<std::vector<double>, 3> FastDiagonalization::local_eigenvalues(const layout::Box& b) const {
  std::array<std::vector<double>, 3> lam;
  for (int a = 0; a < 3; ++a) {
    const Axis& A = axes_[a];
    lam[a].assign(static_cast<std::size_t>(b.n[a]), combine_ == Combine::Product ? 1.0 : 0.0);
    if (!A.fwd) continue;
    for (long q = 0; q < b.n[a]; ++q) {
      const long g = b.lo[a] + q, i = A.lo < 0 ? g : g - A.lo;
      lam[a][q] = (i >= 0 && i < static_cast<long>(A.lambda.size())) ? A.lambda[static_cast<std::size_t>(i)] : NAN;
    }
  }
  return lam;
}

// r -> complex spectrum -> division -> back. The spectrum of a real FFT axis at index k (k <= n/2
// on the half axis, any k on the others) has the eigenvalue the halfcomplex path stores at k: for
// k > n/2 that is the eigenvalue of frequency n - k, equal to frequency k's for the symmetric
// operators that have real FFT eigenvectors. The real and imaginary parts of each complex value
// divide alike, so the division runs on the spectrum as real data with each fastest-axis
// eigenvalue twice; its largest and dropped values are the halfcomplex path's (the same parts).
struct FastDiagonalization::DivideSums {
  std::vector<double> dropped, fmax;
  bool zero_mode = false, nonfinite = false;
  explicit DivideSums(int nc) : dropped(static_cast<std::size_t>(nc), 0.0), fmax(static_cast<std::size_t>(nc), 0.0) {}
};

layout::RealField& FastDiagonalization::spectral_solve(const layout::RealField& r, PencilWorkspace& ws, DivideSums& ds,
                                                       layout::RealField* out) const {
  const int nc = r.components();
  const layout::DistributedTransform& plan = spectral_plan(nc, r.space());
  constexpr int kSlot = 20;  // workspace slots of this path, apart from TensorOp's
  const layout::RealField* in = &r;
  if (r.has_halo()) {
    layout::RealField& c = ws.field<double>(0, n_, nc, kSlot + 1);
    layout::ops::copy(r, c);
    in = &c;
  }
  layout::ComplexField& F = ws.field<std::complex<double>>(plan.output_pencil().axis(), plan.output_pencil().global(), nc, kSlot);
  {
    core::ScopedTimer t("fastdiag.transforms");
    plan.forward(*in, F);
  }
  {
    core::ScopedTimer t("fastdiag.divide");
    auto lam = local_eigenvalues(F.pencil().box());
    const auto& ord = F.pencil().order();
    std::vector<double> l0(2 * lam[ord[0]].size());
    for (std::size_t i = 0; i < lam[ord[0]].size(); ++i) l0[2 * i] = l0[2 * i + 1] = lam[ord[0]][i];
    layout::device_ops::Interior box = layout::ops::detail::interior(F);
    box.n[0] *= 2;
    for (int d = 1; d < 3; ++d) box.stride[d] *= 2;
    box.cstride *= 2;
    box.offset *= 2;
    for (int c = 0; c < nc; ++c) {
      layout::device_ops::Interior one = box;
      one.ncomp = 1;
      one.offset = box.offset + c * box.cstride;
      double* x = reinterpret_cast<double*>(F.data());
      const bool product = combine_ == Combine::Product;
      const device::DivideResult d = F.on_device() ? device::spectral_divide(x, one, l0, lam[ord[1]], lam[ord[2]], product, shift_, kZero * scale_, norm_)
                                                   : divide_host(x, one, l0, lam[ord[1]], lam[ord[2]], product, shift_, kZero * scale_, norm_);
      ds.fmax[static_cast<std::size_t>(c)] = d.fmax;
      ds.dropped[static_cast<std::size_t>(c)] = d.dropped;
      ds.zero_mode = ds.zero_mode || d.zero_mode;
      ds.nonfinite = ds.nonfinite || d.nonfinite;
    }
  }
  layout::RealField& u = out ? *out : ws.field<double>(0, n_, nc, kSlot + 2);
  core::ScopedTimer t("fastdiag.transforms");
  plan.backward_destroying(F, u);
  return u;
}

const FastDiagonalization::Plans& FastDiagonalization::plans(int ncomp) const {
  auto& p = plans_[ncomp];
  if (!p) {
    p = std::make_unique<Plans>();
    TensorOp<double>::Options o;
    o.return_to_x = false;
    p->fwd = TensorOp<double>(grid_, n_, ncomp, fwd_stages_, o);
    TensorOp<double>::Options b;
    b.in_axis = p->fwd.out_axis();
    p->bwd = TensorOp<double>(grid_, n_, ncomp, bwd_stages_, b);
  }
  return *p;
}

void FastDiagonalization::reserve(layout::RealField& r, PencilWorkspace& ws) const {
  if (spectral_for(r)) {
    const layout::DistributedTransform& plan = spectral_plan(r.components(), r.space());
    ws.field<std::complex<double>>(plan.output_pencil().axis(), plan.output_pencil().global(), r.components(), 20);
    ws.field<double>(0, n_, r.components(), 22);
    return;
  }
  const Plans& P = plans(r.components());
  P.fwd.reserve(r, ws, true);
  // The backward sweep starts from where the forward one ends (a workspace field, or r itself).
  layout::RealField& F = ws.field<double>(P.fwd.out_axis(), n_, r.components(), 0);
  P.bwd.reserve(P.fwd.out_axis() == 0 ? r : F, ws, true);
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

std::string FastDiagonalization::describe() const {
  const Plans& P = plans(1);
  return "forward: " + P.fwd.describe() + "; backward: " + P.bwd.describe();
}

// The results of the division reduced over ranks (both paths): a zero eigenvalue where none is
// allowed is an error; dropped becomes relative to each component's largest value.
void FastDiagonalization::finish_divide(DivideSums& d) const {
  if (!core::mpi::all(!d.zero_mode || allow_singular_, grid_->comm()))
    throw Error("the " + what_ + " is singular (a combined eigenvalue is zero)", {}, "change the shift, or add a Dirichlet axis");
  for (std::size_t c = 0; c < d.dropped.size(); ++c) {
    const double dr = core::mpi::max(d.dropped[c], grid_->comm());
    const double f = core::mpi::max(d.fmax[c], grid_->comm());
    d.dropped[c] = f > 0 ? dr / f : 0.0;
  }
  d.nonfinite = !core::mpi::all(!d.nonfinite, grid_->comm());
}

bool FastDiagonalization::solve_spectral(const layout::RealField& r, PencilWorkspace& ws, layout::RealField& u,
                                         std::vector<double>* dropped_out) const {
  const layout::Pencil px(n_, grid_, 0);
  if (!spectral_for(r) || r.pencil() != px || u.pencil() != px || r.has_halo() || u.has_halo() || r.components() != u.components() ||
      r.space() != u.space() || &r == &u)
    throw Error("internal: FastDiagonalization::solve_spectral needs distinct x-pencils without halos on its spectral path");
  DivideSums d(r.components());
  spectral_solve(r, ws, d, &u);
  finish_divide(d);
  if (dropped_out) *dropped_out = d.dropped;
  return !d.nonfinite;
}

layout::RealField& FastDiagonalization::solve(layout::RealField& r, PencilWorkspace& ws, std::vector<double>* dropped_out) const {
  const int nc = r.components();
  DivideSums ds(nc);
  std::vector<double>& dropped = ds.dropped;
  std::vector<double>& fmax = ds.fmax;
  bool& zero_mode = ds.zero_mode;
  auto finish = [&] {
    finish_divide(ds);
    if (dropped_out) *dropped_out = dropped;
  };
  if (spectral_for(r)) {
    layout::RealField& u = spectral_solve(r, ws, ds, nullptr);
    finish();
    return u;
  }
  const Plans& P = plans(nc);
  layout::RealField* Fp = nullptr;
  {
    core::ScopedTimer t("fastdiag.transforms");
    Fp = &P.fwd.apply(r, ws, true);
  }
  layout::RealField& F = *Fp;
  {
    core::ScopedTimer t("fastdiag.divide");
    const auto& b = F.pencil().box();
    // Per axis and local index: the eigenvalue, or NaN outside the transformed range (those
    // points carry the zeros of r and stay zero).
    const std::array<std::vector<double>, 3> lam = local_eigenvalues(b);
    const bool product = combine_ == Combine::Product;
    const double zero = kZero * scale_;
    // Rows along the pencil's own (fastest) axis a0.
    const auto& ord = F.pencil().order();
    const int a0 = ord[0], a1 = ord[1], a2 = ord[2];
    // Component by component, on the host or the device.
    const layout::device_ops::Interior box = layout::ops::detail::interior(F);
    for (int c = 0; c < nc; ++c) {
      layout::device_ops::Interior one = box;
      one.ncomp = 1;
      one.offset = box.offset + c * box.cstride;
      const device::DivideResult d = F.on_device() ? device::spectral_divide(F.data(), one, lam[a0], lam[a1], lam[a2], product, shift_, zero, norm_)
                                                   : divide_host(F.data(), one, lam[a0], lam[a1], lam[a2], product, shift_, zero, norm_);
      fmax[static_cast<std::size_t>(c)] = d.fmax;
      dropped[static_cast<std::size_t>(c)] = d.dropped;
      zero_mode = zero_mode || d.zero_mode;
      ds.nonfinite = ds.nonfinite || d.nonfinite;
    }
    finish();
  }
  core::ScopedTimer t("fastdiag.transforms");
  return P.bwd.apply(F, ws, true);
}

}  // namespace kron::linops
