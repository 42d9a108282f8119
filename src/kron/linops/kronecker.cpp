#include "kron/linops/kronecker.hpp"

#include <algorithm>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"

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
  }
  ws_ = std::make_unique<PencilWorkspace>(grid_);
}

KroneckerSum::~KroneckerSum() = default;

std::size_t KroneckerSum::operator_bytes() const {
  std::size_t b = 0;
  for (const auto& op : ops_) b += op.bytes();
  return b;
}

std::size_t KroneckerSum::workspace_bytes() const {
  std::size_t b = ws_->bytes();
  if (with_halo_) b += sizeof(double) * with_halo_->storage_size();
  if (exchange_) b += exchange_->buffer_bytes();
  return b;
}

// One single-stage TensorOp per axis for fields of `ncomp` components (planned on first use).
const std::array<TensorOp<double>, 3>& KroneckerSum::terms(int ncomp) {
  auto& t = terms_[ncomp];
  if (!t) {
    t = std::make_unique<std::array<TensorOp<double>, 3>>();
    for (int a = 0; a < 3; ++a)
      if (ops_[a].size() > 0)
        (*t)[a] = TensorOp<double>(grid_, n_, ncomp, {{a, std::make_shared<LineOp<double>>(LineOp<double>::real(ops_[a])), Trans::N}});
  }
  return *t;
}

void KroneckerSum::apply(const layout::RealField& in, layout::RealField& out) {
  const layout::Pencil px(n_, grid_, 0);
  if (in.pencil() != px || out.pencil() != px || in.has_halo() || out.has_halo() || in.components() != out.components())
    throw Error("KroneckerSum::apply: fields must be x-pencils of the operator's grid without halos, with equal components");
  core::ScopedTimer timer("linops.apply");
  if (stencil_) {
    // Component by component through the halo field: copy in, exchange, one fused sweep.
    if (!with_halo_) with_halo_ = std::make_unique<layout::RealField>(px, 1, halo_);
    layout::RealField& h = *with_halo_;
    for (int c = 0; c < in.components(); ++c) {
      layout::copy_box(in.origin(c), in.layout().stride, &h(0, 0, 0), h.layout().stride, in.extent());
      exchange_->execute(h);
      stencil_sweep(h, out, c);
    }
    return;
  }
  // Line sweeps: out = -shift in + sum_a Op_a in, each term a TensorOp accumulating into out.
  layout::ops::axpby(-shift_, in, 0.0, out);
  const auto& t = terms(in.components());
  for (int a = 0; a < 3; ++a)
    if (ops_[a].size() > 0) t[a].apply(in, out, *ws_, true);
}

void KroneckerSum::apply_with_halo(layout::RealField& in, layout::RealField& out) {
  if (!stencil_) throw Error("KroneckerSum::apply_with_halo needs banded operators on every axis");
  if (in.halo() != halo_) throw Error("KroneckerSum::apply_with_halo: the input field's halo widths do not match halo()");
  core::ScopedTimer timer("linops.apply");
  if (in.components() != 1 || out.components() != 1)
    throw Error("KroneckerSum::apply_with_halo: one component (use apply() for vector fields)");
  exchange_->execute(in);
  stencil_sweep(in, out, 0);
}

// out(i,j,k) = sum_t cx_t[i] u(i+t-kx, j, k) + sum_t cy_t[j] u(i, j+t-ky, k)
//            + sum_t cz_t[k] u(i, j, k+t-kz) - shift u(i,j,k)
// vectorised along x; coefficient arrays are indexed by global row, so closures and periodic
// wraps need no branches (halos hold the wrapped values, physical-boundary halos stay zero and
// their coefficients are zero).
void KroneckerSum::stencil_sweep(const layout::RealField& u, layout::RealField& out, int c) const {
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
  // Fused path: in rows where every axis uses only offsets -1, 0, +1 (the interior of 2nd-order
  // stencils) one pass computes the whole sum, so each point is loaded and stored once. The x
  // range of such rows is [xa, xb); closure columns and other rows take the tap-by-tap path.
  const Banded* bx = B[0];
  const bool x_narrow_ok = !bx || (bx->kl >= 1 && bx->ku >= 1);
  long xa = 0, xb = 0;
  if (x_narrow_ok) {
    xa = 0;
    xb = e[0];
    if (bx)
      for (int t = 0; t < bx->width(); ++t) {
        if (std::abs(t - bx->kl) <= 1) continue;
        const auto& c = bx->diag[t];
        for (long i = 0; i < e[0]; ++i)
          if (c[box.lo[0] + i] != 0.0) {
            // a wide tap at column i: keep it out of [xa, xb)
            if (i < e[0] / 2) xa = std::max(xa, i + 1);
            else xb = std::min(xb, i);
          }
      }
  }
  const double* cxm = bx ? bx->diag[bx->kl - 1].data() + box.lo[0] : nullptr;
  const double* cx0 = bx ? bx->diag[bx->kl].data() + box.lo[0] : nullptr;
  const double* cxp = bx ? bx->diag[bx->kl + 1].data() + box.lo[0] : nullptr;
  bool x_const = bx != nullptr && xa < xb;
  for (long i = xa; x_const && i < xb; ++i)
    x_const = cxm[i] == cxm[xa] && cx0[i] == cx0[xa] && cxp[i] == cxp[xa];
  auto narrow_row = [&](int a, long row, double& cm, double& c0, double& cp) {
    cm = c0 = cp = 0;
    if (!B[a]) return true;
    const Banded& b = *B[a];
    for (int t = 0; t < b.width(); ++t) {
      const double c = b.diag[t][row];
      const int off = t - b.kl;
      if (off == -1) cm = c;
      else if (off == 0) c0 = c;
      else if (off == 1) cp = c;
      else if (c != 0.0) return false;
    }
    return true;
  };
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j) {
      const double* uc = &u(0, j, k);
      double* o = &out(0, j, k, c);
      double ym = 0, y0 = 0, yp = 0, zm = 0, z0 = 0, zp = 0;
      const bool fused = x_narrow_ok && xa < xb && narrow_row(1, box.lo[1] + j, ym, y0, yp) && narrow_row(2, box.lo[2] + k, zm, z0, zp);
      long lo = 0, hi = e[0];
      if (fused) {
        const double c0 = y0 + z0 - shift;
        const long sy = B[1] ? su[1] : 0, sz = B[2] ? su[2] : 0;  // absent axes: no halo to read
        if (bx && x_const) {
          // Uniform x spacing: the interior x coefficients are three numbers, not three arrays.
          const double am = cxm[xa], a0 = cx0[xa] + c0, ap = cxp[xa];
#pragma omp simd
          for (long i = xa; i < xb; ++i)
            o[i] = am * uc[i - 1] + a0 * uc[i] + ap * uc[i + 1] + ym * uc[i - sy] + yp * uc[i + sy] + zm * uc[i - sz] +
                   zp * uc[i + sz];
        } else if (bx) {
#pragma omp simd
          for (long i = xa; i < xb; ++i)
            o[i] = cxm[i] * uc[i - 1] + (cx0[i] + c0) * uc[i] + cxp[i] * uc[i + 1] + ym * uc[i - sy] + yp * uc[i + sy] +
                   zm * uc[i - sz] + zp * uc[i + sz];
        } else {
#pragma omp simd
          for (long i = xa; i < xb; ++i)
            o[i] = c0 * uc[i] + ym * uc[i - sy] + yp * uc[i + sy] + zm * uc[i - sz] + zp * uc[i + sz];
        }
        // The rest of the row (closure columns) below; [xa, xb) is done.
        lo = xa;
        hi = xb;
      }
      auto general = [&](long i0, long i1) {
        if (i0 >= i1) return;
#pragma omp simd
        for (long i = i0; i < i1; ++i) o[i] = -shift * uc[i];
        for (const Tap& t : xt) {
          const double* us = uc + t.off;
          const long a0 = std::max(t.lo, i0), a1 = std::min(t.hi, i1);
#pragma omp simd
          for (long i = a0; i < a1; ++i) o[i] += t.c[i] * us[i];
        }
        for (int a = 1; a < 3; ++a) {
          if (!B[a]) continue;
          const long row = box.lo[a] + (a == 1 ? j : k);
          for (int t = 0; t < B[a]->width(); ++t) {
            const double c = B[a]->diag[t][row];
            if (c == 0.0) continue;
            const double* us = uc + (t - B[a]->kl) * su[a];
#pragma omp simd
            for (long i = i0; i < i1; ++i) o[i] += c * us[i];
          }
        }
      };
      if (fused) {
        general(0, lo);
        general(hi, e[0]);
      } else {
        general(0, e[0]);
      }
    }
}

KroneckerProduct::KroneckerProduct(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops) : grid_(grid) {
  std::array<long, 3> n{1, 1, 1};
  std::vector<TensorOp<double>::Stage> st;
  for (int a = 0; a < 3; ++a) {
    if (ops[a].size() == 0) continue;
    n[a] = ops[a].size();
    st.push_back({a, std::make_shared<LineOp<double>>(LineOp<double>::real(ops[a])), Trans::N});
  }
  op_ = TensorOp<double>(std::move(grid), n, 1, std::move(st));
}

void KroneckerProduct::apply(const layout::RealField& in, layout::RealField& out, PencilWorkspace& ws) {
  core::ScopedTimer timer("linops.kron_product");
  if (&in != &out) {
    op_.apply(in, out, ws);
    return;
  }
  // In place: through a copy of the input (the chain reads its input while it writes the output).
  layout::RealField& copy = ws.field<double>(0, op_.in_shape(), 1, 4);
  layout::ops::copy(in, copy);
  op_.apply(copy, out, ws);
}

void KroneckerProduct::apply(const layout::RealField& in, layout::RealField& out) {
  if (!own_) own_ = std::make_unique<PencilWorkspace>(grid_);
  apply(in, out, *own_);
}

}  // namespace kron::linops
