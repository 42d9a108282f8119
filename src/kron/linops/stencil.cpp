#include "kron/linops/stencil.hpp"

#include <algorithm>
#include <cmath>

namespace kron::linops::stencil {

// out(i,j,k) = sum_t cx_t[i] u(i+t-kx, j, k) + sum_t cy_t[j] u(i, j+t-ky, k)
//            + sum_t cz_t[k] u(i, j, k+t-kz) - shift u(i,j,k)
// vectorised along x; coefficient arrays are indexed by global row, so closures and periodic
// wraps need no branches (halos hold the wrapped values, physical-boundary halos stay zero and
// their coefficients are zero).
void banded_sweep(const std::array<const Banded*, 3>& B, double shift, const layout::RealField& u, layout::RealField& out, int c) {
  const auto& box = u.pencil().box();
  const auto& e = box.n;
  const auto& su = u.layout().stride;
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
  // The three central x diagonals (only when x has them: a zero or diagonal x operator has one).
  const bool x3 = bx && bx->kl >= 1 && bx->ku >= 1;
  const double* cxm = x3 ? bx->diag[bx->kl - 1].data() + box.lo[0] : nullptr;
  const double* cx0 = x3 ? bx->diag[bx->kl].data() + box.lo[0] : nullptr;
  const double* cxp = x3 ? bx->diag[bx->kl + 1].data() + box.lo[0] : nullptr;
  bool x_const = x3 && xa < xb;
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
        // Absent axes and single-diagonal ones (zero or pure-diagonal operators) have no halo:
        // their (zero) neighbour coefficients must not read past the storage.
        const long sy = B[1] && B[1]->width() > 1 ? su[1] : 0, sz = B[2] && B[2]->width() > 1 ? su[2] : 0;
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

FluxStencil::FluxStencil(const std::array<layout::AxisGrid, 3>& axes) {
  for (int a = 0; a < 3; ++a) {
    n_[a] = axes[a].size();
    active_[a] = n_[a] > 1;
    periodic_[a] = axes[a].periodic();
    if (!active_[a]) continue;
    const auto& x = axes[a].coords();
    const long n = n_[a];
    cp_[a].assign(static_cast<std::size_t>(n), 0.0);
    cm_[a].assign(static_cast<std::size_t>(n), 0.0);
    double hmin = 1e300;
    for (long i = 0; i + 1 < n; ++i) hmin = std::min(hmin, x[i + 1] - x[i]);
    for (long i = 0; i < n; ++i) {
      double hp, hm;
      if (periodic_[a]) {
        hp = i + 1 < n ? x[i + 1] - x[i] : x[0] + axes[a].length() - x[i];
        hm = i > 0 ? x[i] - x[i - 1] : x[0] + axes[a].length() - x[n - 1];
      } else {
        if (i == 0 || i == n - 1) continue;
        hp = x[i + 1] - x[i];
        hm = x[i] - x[i - 1];
      }
      const double V = 0.5 * (hp + hm);
      cp_[a][i] = 1.0 / (V * hp);
      cm_[a][i] = 1.0 / (V * hm);
      if (std::abs(hp - hm) > 1e-12 * hmin) symmetric_ = false;
    }
  }
}

std::size_t FluxStencil::bytes() const {
  std::size_t b = 0;
  for (int a = 0; a < 3; ++a) b += sizeof(double) * (cp_[a].size() + cm_[a].size());
  return b;
}

void FluxStencil::sweep(const layout::RealField& A, const layout::RealField& u, layout::RealField& out, int c) const {
  const auto& box = u.pencil().box();
  const auto& e = box.n;
  const auto& s = u.layout().stride;
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j) {
      const double* uc = &u(0, j, k);
      const double* ac = &A(0, j, k);
      double* o = &out(0, j, k, c);
      const double* cpx = active_[0] ? cp_[0].data() + box.lo[0] : nullptr;
      const double* cmx = active_[0] ? cm_[0].data() + box.lo[0] : nullptr;
      double cpy = 0, cmy = 0, cpz = 0, cmz = 0;
      if (active_[1]) { cpy = cp_[1][box.lo[1] + j]; cmy = cm_[1][box.lo[1] + j]; }
      if (active_[2]) { cpz = cp_[2][box.lo[2] + k]; cmz = cm_[2][box.lo[2] + k]; }
      const long sy = s[1], sz = s[2];
      // Rows on a non-periodic boundary of y or z have zero coefficients and stay zero.
      const bool row_y = !active_[1] || cpy != 0.0, row_z = !active_[2] || cpz != 0.0;
      if (cpx) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] = cpx[i] * 0.5 * (ac[i] + ac[i + 1]) * (uc[i + 1] - uc[i]) -
                 cmx[i] * 0.5 * (ac[i] + ac[i - 1]) * (uc[i] - uc[i - 1]);
      } else {
        std::fill(o, o + e[0], 0.0);
      }
      if (active_[1]) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] += cpy * 0.5 * (ac[i] + ac[i + sy]) * (uc[i + sy] - uc[i]) -
                  cmy * 0.5 * (ac[i] + ac[i - sy]) * (uc[i] - uc[i - sy]);
      }
      if (active_[2]) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] += cpz * 0.5 * (ac[i] + ac[i + sz]) * (uc[i + sz] - uc[i]) -
                  cmz * 0.5 * (ac[i] + ac[i - sz]) * (uc[i] - uc[i - sz]);
      }
      if (!(row_y && row_z)) std::fill(o, o + e[0], 0.0);
      if (active_[0] && !periodic_[0]) {
        if (box.lo[0] == 0) o[0] = 0;
        if (box.lo[0] + e[0] == n_[0]) o[e[0] - 1] = 0;
      }
    }
}

}  // namespace kron::linops::stencil
