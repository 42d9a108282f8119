#include "kron/linops/line_kernels.hpp"

#include <algorithm>
#include <cstring>

#include "kron/core/error.hpp"

namespace kron::linops {

namespace {
constexpr long kPanel = 64;  // lines per panel: a few KiB per row keeps panels in L2
using RowPanel = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

Lines lines_of(layout::RealField& f, int axis) {
  const auto& P = f.pencil();
  if (P.splits(axis) > 1)
    throw Error(std::string("internal: axis ") + "xyz"[axis] + " is split over ranks in the " + P.describe());
  if (f.has_halo()) throw Error("internal: line kernels need fields without halos");
  const auto& ext = f.extent();
  const auto& order = P.order();
  long inner = 1, outer = f.components();
  bool before = true;
  for (int k = 0; k < 3; ++k) {
    const int b = order[k];
    if (b == axis) { before = false; continue; }
    if (before) inner *= ext[b];
    else outer *= ext[b];
  }
  return {f.data(), outer, ext[axis], inner, ext[axis] * inner};
}

Tridiagonal::Tridiagonal(const Banded& a) : n_(a.n), periodic_(a.periodic) {
  if (a.kl != 1 || a.ku != 1) throw Error("internal: not a tridiagonal matrix");
  const long n = n_;
  std::vector<double> sub(n), diag(n), sup(n);
  for (long i = 0; i < n; ++i) {
    sub[i] = a.diag[0][i];
    diag[i] = a.diag[1][i];
    sup[i] = a.diag[2][i];
  }
  std::vector<double> u;
  if (periodic_) {
    if (n < 3) throw Error("a periodic tridiagonal solve needs at least 3 points");
    // A = T + u v^T with u = (g, 0, .., c_{n-1}), v = (1, 0, .., a_0/g).
    const double g = -diag[0];
    const double a0 = sub[0], cn = sup[n - 1];
    diag[0] -= g;
    diag[n - 1] -= a0 * cn / g;
    u.assign(n, 0.0);
    u[0] = g;
    u[n - 1] = cn;
    v0_ = 1;
    vn_ = a0 / g;
    sub[0] = 0;
    sup[n - 1] = 0;
  }
  sub_ = sub;
  inv_.resize(n);
  cp_.resize(n);
  double prev = 0;
  for (long i = 0; i < n; ++i) {
    const double piv = diag[i] - (i ? sub[i] * prev : 0.0);
    if (!(std::abs(piv) > 1e-300)) throw Error("tridiagonal matrix is singular (zero pivot in row " + std::to_string(i) + ")");
    inv_[i] = 1.0 / piv;
    cp_[i] = sup[i] * inv_[i];
    prev = cp_[i];
  }
  if (periodic_) {
    z_ = u;
    for (long i = 0; i < n; ++i) z_[i] = (z_[i] - (i ? sub_[i] * z_[i - 1] : 0.0)) * inv_[i];
    for (long i = n - 2; i >= 0; --i) z_[i] -= cp_[i] * z_[i + 1];
    denom_ = 1.0 + v0_ * z_[0] + vn_ * z_[n - 1];
    if (!(std::abs(denom_) > 1e-14)) throw Error("periodic tridiagonal matrix is singular");
  }
}

void Tridiagonal::solve(double* x, long ld, long L) const {
  const long n = n_;
  for (long l = 0; l < L; ++l) x[l] *= inv_[0];
  for (long i = 1; i < n; ++i) {
    double* r = x + i * ld;
    const double* q = r - ld;
    const double s = sub_[i], iv = inv_[i];
#pragma omp simd
    for (long l = 0; l < L; ++l) r[l] = (r[l] - s * q[l]) * iv;
  }
  for (long i = n - 2; i >= 0; --i) {
    double* r = x + i * ld;
    const double* q = r + ld;
    const double c = cp_[i];
#pragma omp simd
    for (long l = 0; l < L; ++l) r[l] -= c * q[l];
  }
  if (periodic_) {
    const double* first = x;
    const double* last = x + (n - 1) * ld;
    double f[kPanel];
    for (long l0 = 0; l0 < L; l0 += kPanel) {
      const long m = std::min(kPanel, L - l0);
      for (long l = 0; l < m; ++l) f[l] = (v0_ * first[l0 + l] + vn_ * last[l0 + l]) / denom_;
      for (long i = 0; i < n; ++i) {
        double* r = x + i * ld + l0;
        const double zi = z_[i];
        for (long l = 0; l < m; ++l) r[l] -= f[l] * zi;
      }
    }
  }
}

void banded_panel(const Banded& b, const double* x, long ldx, double* y, long ldy, long L, bool accumulate) {
  const long n = b.n;
  for (long i = 0; i < n; ++i) {
    double* yr = y + i * ldy;
    if (!accumulate) std::fill(yr, yr + L, 0.0);
    for (int t = 0; t < b.width(); ++t) {
      const double c = b.diag[t][i];
      if (c == 0.0) continue;
      long j = i + t - b.kl;
      if (b.periodic) j = ((j % n) + n) % n;
      else if (j < 0 || j >= n) continue;
      const double* xr = x + j * ldx;
#pragma omp simd
      for (long l = 0; l < L; ++l) yr[l] += c * xr[l];
    }
  }
}

void dense_panel(const Eigen::MatrixXd& d, const double* x, long ldx, double* y, long ldy, long L, bool accumulate) {
  const long n = d.rows();
  Eigen::Map<const RowPanel, 0, Eigen::OuterStride<>> X(x, d.cols(), L, Eigen::OuterStride<>(ldx));
  Eigen::Map<RowPanel, 0, Eigen::OuterStride<>> Y(y, n, L, Eigen::OuterStride<>(ldy));
  if (accumulate) Y.noalias() += d * X;
  else Y.noalias() = d * X;
}

LineOperator::LineOperator(const Operator1D& op) : n_(op.size()), op_(op) {
  for (const Term& t : op_.terms()) {
    Prepared p;
    p.kind = t.kind;
    p.b = &t.b;
    if (t.kind == Term::Kind::Compact) p.a = Tridiagonal(t.a);
    if (t.kind == Term::Kind::Dense) p.d = t.d;
    p.scale = t.scale.empty() ? nullptr : &t.scale;
    terms_.push_back(std::move(p));
  }
}

void LineOperator::apply_panel(const double* in, long ldi, double* out, long ldo, long L, bool accumulate,
                               double* tmp) const {
  const long n = n_;
  bool first = !accumulate;
  for (const Prepared& t : terms_) {
    // Unscaled terms write straight into out; scaled ones go through tmp (ld = L).
    const bool direct = t.scale == nullptr && t.kind != Term::Kind::Compact;
    double* dst = direct ? out : tmp;
    const long ldd = direct ? ldo : L;
    const bool acc = direct ? !first : false;
    if (t.kind == Term::Kind::Dense) dense_panel(t.d, in, ldi, dst, ldd, L, acc);
    else banded_panel(*t.b, in, ldi, dst, ldd, L, acc);
    if (t.kind == Term::Kind::Compact) t.a.solve(dst, ldd, L);
    if (!direct) {
      for (long i = 0; i < n; ++i) {
        const double s = t.scale ? (*t.scale)[i] : 1.0;
        double* o = out + i * ldo;
        const double* q = tmp + i * L;
        if (first) {
#pragma omp simd
          for (long l = 0; l < L; ++l) o[l] = s * q[l];
        } else {
#pragma omp simd
          for (long l = 0; l < L; ++l) o[l] += s * q[l];
        }
      }
    }
    first = false;
  }
}

void LineOperator::apply(const Lines& in, const Lines& out, bool accumulate) const {
  if (in.n != n_ || out.n != n_ || in.outer != out.outer || in.inner != out.inner)
    throw Error("internal: line operator and field lines do not match");
  const long n = n_;
  thread_local core::HostBuffer<double> tmp, pin, pout;
  tmp.resize(static_cast<std::size_t>(n * kPanel));
  if (in.inner > 1) {
    // Lines are already interleaved: panels are column blocks of each outer slab.
    for (long o = 0; o < in.outer; ++o)
      for (long j0 = 0; j0 < in.inner; j0 += kPanel) {
        const long L = std::min(kPanel, in.inner - j0);
        apply_panel(in.p + o * in.ostride + j0, in.inner, out.p + o * out.ostride + j0, out.inner, L, accumulate, tmp.data());
      }
    return;
  }
  // Contiguous lines: gather kPanel of them side by side, apply, scatter back.
  pin.resize(static_cast<std::size_t>(n * kPanel));
  pout.resize(static_cast<std::size_t>(n * kPanel));
  for (long o0 = 0; o0 < in.outer; o0 += kPanel) {
    const long L = std::min(kPanel, in.outer - o0);
    for (long l = 0; l < L; ++l) {
      const double* src = in.p + (o0 + l) * in.ostride;
      for (long i = 0; i < n; ++i) pin[i * L + l] = src[i];
    }
    if (accumulate)
      for (long l = 0; l < L; ++l) {
        const double* src = out.p + (o0 + l) * out.ostride;
        for (long i = 0; i < n; ++i) pout[i * L + l] = src[i];
      }
    apply_panel(pin.data(), L, pout.data(), L, L, accumulate, tmp.data());
    for (long l = 0; l < L; ++l) {
      double* dst = out.p + (o0 + l) * out.ostride;
      for (long i = 0; i < n; ++i) dst[i] = pout[i * L + l];
    }
  }
}

}  // namespace kron::linops
