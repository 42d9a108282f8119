#include "kron/linops/kronecker.hpp"

#include <algorithm>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"

namespace kron::linops {

KroneckerSum::KroneckerSum(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops, double shift,
                           std::array<bool, 3> periodic)
    : grid_(std::move(grid)), ops_(std::move(ops)), shift_(shift) {
  for (int a = 0; a < 3; ++a) n_[a] = ops_[a].size() > 0 ? ops_[a].size() : 1;
  stencil_ = true;
  for (int a = 0; a < 3; ++a) {
    if (ops_[a].size() == 0) continue;
    if (!ops_[a].banded_only() || ops_[a].terms().size() != 1 || !ops_[a].terms()[0].scale.empty()) stencil_ = false;
    halo_[a] = std::max(ops_[a].lower_bandwidth(), ops_[a].upper_bandwidth());
  }
  if (stencil_) {
    const layout::Pencil px(n_, grid_, 0);
    exchange_ = std::make_unique<layout::HaloExchange<double>>(px, halo_, periodic);
  } else {
    halo_ = {0, 0, 0};
    for (int a = 0; a < 3; ++a)
      if (ops_[a].size() > 0) lines_[a] = std::make_unique<LineOperator>(ops_[a]);
    work_ = std::make_unique<PencilSet>(grid_, n_);
    result_ = std::make_unique<PencilSet>(grid_, n_);
  }
}

KroneckerSum::~KroneckerSum() = default;

std::size_t KroneckerSum::operator_bytes() const {
  std::size_t b = 0;
  for (const auto& op : ops_) b += op.bytes();
  return b;
}

void KroneckerSum::apply(const layout::RealField& in, layout::RealField& out) {
  const layout::Pencil px(n_, grid_, 0);
  if (in.pencil() != px || out.pencil() != px || in.has_halo() || out.has_halo())
    throw Error("KroneckerSum::apply: fields must be x-pencils of the operator's grid without halos");
  core::ScopedTimer timer("linops.apply");
  if (stencil_) {
    if (!with_halo_) with_halo_ = std::make_unique<layout::RealField>(px, 1, halo_);
    layout::RealField& h = *with_halo_;
    const auto& e = in.extent();
    for (long k = 0; k < e[2]; ++k)
      for (long j = 0; j < e[1]; ++j) std::memcpy(&h(0, j, k), &in(0, j, k), sizeof(double) * e[0]);
    exchange_->execute(h);
    stencil_sweep(h, out);
    return;
  }
  // Line sweeps: out = -shift in + sum_a Op_a in.
  const long N = static_cast<long>(out.storage_size());
  for (long i = 0; i < N; ++i) out.data()[i] = -shift_ * in.data()[i];
  auto& src = const_cast<layout::RealField&>(in);
  for (int a = 0; a < 3; ++a) {
    if (!lines_[a]) continue;
    const int p = work_->home(a, 0);
    if (p == 0) {
      lines_[a]->apply(lines_of(src, a), lines_of(out, a), true);
      continue;
    }
    work_->move_in(in, p);
    lines_[a]->apply(lines_of(work_->field(p), a), lines_of(result_->field(p), a), false);
    result_->move(p, 0);
    const double* r = result_->field(0).data();
    for (long i = 0; i < N; ++i) out.data()[i] += r[i];
  }
}

void KroneckerSum::apply_with_halo(layout::RealField& in, layout::RealField& out) {
  if (!stencil_) throw Error("KroneckerSum::apply_with_halo needs banded operators on every axis");
  if (in.halo() != halo_) throw Error("KroneckerSum::apply_with_halo: the input field's halo widths do not match halo()");
  core::ScopedTimer timer("linops.apply");
  exchange_->execute(in);
  stencil_sweep(in, out);
}

// out(i,j,k) = sum_t cx_t[i] u(i+t-kx, j, k) + sum_t cy_t[j] u(i, j+t-ky, k)
//            + sum_t cz_t[k] u(i, j, k+t-kz) - shift u(i,j,k)
// vectorised along x; coefficient arrays are indexed by global row, so closures and periodic
// wraps need no branches (halos hold the wrapped values, physical-boundary halos stay zero and
// their coefficients are zero).
void KroneckerSum::stencil_sweep(const layout::RealField& u, layout::RealField& out) const {
  const auto& box = u.pencil().box();
  const auto& e = box.n;
  const auto& su = u.layout().stride;
  const Banded* B[3] = {nullptr, nullptr, nullptr};
  for (int a = 0; a < 3; ++a) if (ops_[a].size() > 0) B[a] = &ops_[a].terms()[0].b;
  // Row ranges where each x tap is non-zero (interior taps: everything; closure taps: a few rows).
  struct Tap { int off; const double* c; long lo, hi; };
  std::vector<Tap> xt;
  if (B[0]) {
    for (int t = 0; t < B[0]->width(); ++t) {
      const auto& c = B[0]->diag[t];
      long lo = e[0], hi = 0;
      for (long i = 0; i < e[0]; ++i)
        if (c[box.lo[0] + i] != 0.0) { lo = std::min(lo, i); hi = std::max(hi, i + 1); }
      if (lo < hi) xt.push_back({t - B[0]->kl, c.data() + box.lo[0], lo, hi});
    }
  }
  const double shift = shift_;
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j) {
      const double* uc = &u(0, j, k);
      double* o = &out(0, j, k);
#pragma omp simd
      for (long i = 0; i < e[0]; ++i) o[i] = -shift * uc[i];
      for (const Tap& t : xt) {
        const double* us = uc + t.off;
#pragma omp simd
        for (long i = t.lo; i < t.hi; ++i) o[i] += t.c[i] * us[i];
      }
      for (int a = 1; a < 3; ++a) {
        if (!B[a]) continue;
        const long row = box.lo[a] + (a == 1 ? j : k);
        for (int t = 0; t < B[a]->width(); ++t) {
          const double c = B[a]->diag[t][row];
          if (c == 0.0) continue;
          const double* us = uc + (t - B[a]->kl) * su[a];
#pragma omp simd
          for (long i = 0; i < e[0]; ++i) o[i] += c * us[i];
        }
      }
    }
}

}  // namespace kron::linops
