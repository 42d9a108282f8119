#include "kron/linops/line_kernels.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include "kron/core/simd.hpp"
#endif

#include "kron/core/error.hpp"

namespace kron::linops {

namespace {
// Lines per panel. Interleaved lines (the axis is not the fastest in memory) are swept in place
// in column blocks of kPanel; contiguous lines are transposed kGather at a time into a panel
// that stays in L1/L2 while it is swept.
constexpr long kPanel = 64;
constexpr long kGather = 32;
constexpr long kAhead = 128;  // software prefetch distance along contiguous lines (points)
constexpr double kStreamBytes = 16.0 * (1 << 20);
using RowPanel = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

LineSolve::LineSolve(const Term& t) : n_(t.b.n), compact_(t.kind == Term::Kind::Compact), periodic_(t.b.periodic) {
  if (t.kind == Term::Kind::Dense) throw Error("internal: LineSolve takes banded or compact terms");
  const long n = n_;
  const Banded& b = t.b;
  std::vector<double> inv(n, 1.0);
  if (compact_) {
    const Banded& a = t.a;
    if (a.kl != 1 || a.ku != 1) throw Error("internal: the left-hand side of a compact term must be tridiagonal");
    if (a.n != n) throw Error("internal: compact term with mismatched sizes");
    periodic_ = a.periodic;
    std::vector<double> sub(n), diag(n), sup(n), u;
    for (long i = 0; i < n; ++i) {
      sub[i] = a.diag[0][i];
      diag[i] = a.diag[1][i];
      sup[i] = a.diag[2][i];
    }
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
    fwd_.assign(n, 0.0);
    bwd_.assign(n, 0.0);
    double prev = 0;
    for (long i = 0; i < n; ++i) {
      const double piv = diag[i] - (i ? sub[i] * prev : 0.0);
      if (!(std::abs(piv) > 1e-300)) throw Error("tridiagonal matrix is singular (zero pivot in row " + std::to_string(i) + ")");
      inv[i] = 1.0 / piv;
      fwd_[i] = i ? sub[i] * inv[i] : 0.0;
      bwd_[i] = sup[i] * inv[i];
      prev = bwd_[i];
    }
    if (periodic_) {
      z_.resize(n);
      for (long i = 0; i < n; ++i) z_[i] = u[i] * inv[i] - (i ? fwd_[i] * z_[i - 1] : 0.0);
      for (long i = n - 2; i >= 0; --i) z_[i] -= bwd_[i] * z_[i + 1];
      denom_ = 1.0 + v0_ * z_[0] + vn_ * z_[n - 1];
      if (!(std::abs(denom_) > 1e-14)) throw Error("periodic tridiagonal matrix is singular");
    }
  }
  ptr_.assign(1, 0);
  for (long i = 0; i < n; ++i) {
    for (int k = 0; k < b.width(); ++k) {
      const double c = b.diag[k][i];
      if (c == 0.0) continue;
      long j = i + k - b.kl;
      if (b.periodic) j = ((j % n) + n) % n;
      else if (j < 0 || j >= n) continue;
      col_.push_back(j);
      coef_.push_back(c * inv[i]);
    }
    ptr_.push_back(static_cast<long>(col_.size()));
  }
  // Ring for streamed sweeps: the smallest power-of-two number of rows R such that, whenever the
  // input has been transposed up to the furthest column the rows so far need (in chunks of 8),
  // the columns of the current 8-row chunk are still among the last R. Periodic wraps make row 0
  // need the whole line: then the ring is the whole line.
  need_.assign(n, 0);
  std::vector<long> lo(n, n);
  long far = 0;
  for (long i = 0; i < n; ++i) {
    for (long k = ptr_[i]; k < ptr_[i + 1]; ++k) {
      far = std::max(far, col_[k]);
      lo[i] = std::min(lo[i], col_[k]);
    }
    need_[i] = far;
  }
  ring_mask_ = -1;
  for (long R = 16; R <= 64 && R < n; R *= 2) {
    bool ok = true;
    for (long c0 = 0; c0 < n && ok; c0 += 8) {
      const long c1 = std::min(n, c0 + 8);
      const long filled = std::min(n, (need_[c1 - 1] / 8 + 1) * 8);
      long low = n;
      for (long i = c0; i < c1; ++i) low = std::min(low, lo[i]);
      if (low < n && filled - low > R) ok = false;
    }
    if (ok) {
      ring_mask_ = R - 1;
      break;
    }
  }
  ring_col_ = col_;
  if (ring_mask_ >= 0)
    for (auto& c : ring_col_) c &= ring_mask_;
}

// The sweeps over NV vectors of 8 lines per row, held in registers; the previous row of each
// recurrence stays in registers too (carry), so a row costs its taps plus one FMA per vector.
// Rows i0 .. i1-1 of the forward sweep; `cols` maps taps to rows of `in` (ring slots or columns).
template <int NV>
void LineSolve::forward(const double* in, long ldi, const long* cols, double* x, long ldx, long i0, long i1,
                        bool accumulate, V* carry) const {
  V prev[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) prev[v] = carry[v];
  for (long i = i0; i < i1; ++i) {
    // Two partial sums (even and odd taps) halve the FMA dependency chain of a row.
    V acc[NV], alt[NV];
    V* xi = reinterpret_cast<V*>(x + i * ldx);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[v] = accumulate ? xi[v] : V{};
      alt[v] = V{};
    }
    long k = ptr_[i];
    const long k1 = ptr_[i + 1];
    for (; k + 1 < k1; k += 2) {
      const double c = coef_[k], d = coef_[k + 1];
      const V* r = reinterpret_cast<const V*>(in + cols[k] * ldi);
      const V* q = reinterpret_cast<const V*>(in + cols[k + 1] * ldi);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        acc[v] += c * r[v];
        alt[v] += d * q[v];
      }
    }
    if (k < k1) {
      const double c = coef_[k];
      const V* r = reinterpret_cast<const V*>(in + cols[k] * ldi);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] += c * r[v];
    }
    const double f = fwd_.empty() ? 0.0 : fwd_[i];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[v] += alt[v];
      if (compact_) acc[v] -= f * prev[v];
      xi[v] = acc[v];
      prev[v] = acc[v];
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) carry[v] = prev[v];
}

// Backward Thomas sweep over rows i1-1 down to i0; carry holds x_{i1} (row n-1 starts the sweep).
template <int NV>
void LineSolve::backward(double* x, long ldx, long i0, long i1, V* carry) const {
  V next[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) next[v] = carry[v];
  for (long i = i1 - 1; i >= i0; --i) {
    V* xi = reinterpret_cast<V*>(x + i * ldx);
    if (i == n_ - 1) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) next[v] = xi[v];
      continue;
    }
    const double c = bwd_[i];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      next[v] = xi[v] - c * next[v];
      xi[v] = next[v];
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) carry[v] = next[v];
}

// Periodic (Sherman-Morrison) correction x_i -= z_i f with f = (v.x) / (1 + v.z), rows i0 .. i1-1.
template <int NV>
void LineSolve::periodic_factor(const double* x, long ldx, V* f) const {
  const V* first = reinterpret_cast<const V*>(x);
  const V* last = reinterpret_cast<const V*>(x + (n_ - 1) * ldx);
  for (int v = 0; v < NV; ++v) f[v] = (v0_ * first[v] + vn_ * last[v]) / denom_;
}
template <int NV>
void LineSolve::periodic_fix(double* x, long ldx, long i0, long i1, const V* f) const {
  for (long i = i0; i < i1; ++i) {
    V* xi = reinterpret_cast<V*>(x + i * ldx);
    const double zi = z_[i];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) xi[v] -= zi * f[v];
  }
}

template <int NV>
void LineSolve::run_vectors(const double* in, long ldi, double* x, long ldx, bool accumulate) const {
  V carry[NV];
  for (int v = 0; v < NV; ++v) carry[v] = V{};
  forward<NV>(in, ldi, col_.data(), x, ldx, 0, n_, accumulate, carry);
  if (!compact_) return;
  backward<NV>(x, ldx, 0, n_, carry);
  if (periodic_) {
    V f[NV];
    periodic_factor<NV>(x, ldx, f);
    periodic_fix<NV>(x, ldx, 0, n_, f);
  }
}

// Any number of lines: whole vectors of 8 first, then the remaining lines one at a time.
void LineSolve::run_lanes(const double* in, long ldi, double* x, long ldx, long L, bool accumulate) const {
  long l0 = 0;
  for (; l0 + 4 * kV <= L; l0 += 4 * kV) run_vectors<4>(in + l0, ldi, x + l0, ldx, accumulate);
  for (; l0 + kV <= L; l0 += kV) run_vectors<1>(in + l0, ldi, x + l0, ldx, accumulate);
  for (; l0 < L; ++l0) {
    const long n = n_;
    const double* inl = in + l0;
    double* xl = x + l0;
    double prev = 0;
    for (long i = 0; i < n; ++i) {
      double a = accumulate ? xl[i * ldx] : 0.0;
      for (long k = ptr_[i]; k < ptr_[i + 1]; ++k) a += coef_[k] * inl[col_[k] * ldi];
      if (compact_) a -= fwd_[i] * prev;
      xl[i * ldx] = prev = a;
    }
    if (!compact_) continue;
    for (long i = n - 2; i >= 0; --i) xl[i * ldx] = prev = xl[i * ldx] - bwd_[i] * prev;
    if (periodic_) {
      const double f = (v0_ * xl[0] + vn_ * xl[(n - 1) * ldx]) / denom_;
      for (long i = 0; i < n; ++i) xl[i * ldx] -= z_[i] * f;
    }
  }
}

void LineSolve::run(const double* in, long ldi, double* x, long ldx, long L, bool accumulate) const {
  if (accumulate && compact_) throw Error("internal: a compact line solve cannot accumulate in place");
  run_lanes(in, ldi, x, ldx, L, accumulate);
}

// Contiguous lines, 8*NV of them (line l at src + l*lds). The input is transposed 8 points at a
// time into a ring of interleaved rows just ahead of the forward sweep, and finished rows are
// transposed straight out (scaled, added or streamed), so the panel is read from memory once,
// written once, and only the forward result (x) makes a round trip through L2.
template <int NV>
void LineSolve::run_streamed(const double* src, long lds, double* dst, long ldd, const double* scale, bool accumulate,
                             bool stream, double* ring, double* x, bool prefetch_next) const {
  constexpr long L = NV * kV;
  const long n = n_;
  const bool whole = ring_mask_ < 0;
  long filled = 0;
  auto fill_to = [&](long need) {
    while (filled <= need) {
      const long m = std::min(kV, n - filled);
      // 32 line streams are more than the hardware prefetchers follow: fetch kAhead points ahead.
      if (filled + kAhead < n)
        for (long l = 0; l < L; ++l) __builtin_prefetch(src + l * lds + filled + kAhead, 0, 3);
      const long slot = whole ? filled : (filled & ring_mask_);
      layout::transpose_2d(src + filled, lds, ring + slot * L, L, L, m, false);
      filled += m;
    }
  };
  auto emit = [&](long r0, long r1) {
    if (scale)
      for (long i = r0; i < r1; ++i) {
        V* xi = reinterpret_cast<V*>(x + i * L);
        const double s = scale[i];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) xi[v] *= s;
      }
    layout::transpose_2d(x + r0 * L, L, dst + r0, ldd, r1 - r0, L, accumulate, stream);
  };
  V carry[NV];
  for (int v = 0; v < NV; ++v) carry[v] = V{};
  for (long c0 = 0; c0 < n; c0 += kV) {
    const long c1 = std::min(n, c0 + kV);
    fill_to(need_[c1 - 1]);
    forward<NV>(ring, L, ring_col_.data(), x, L, c0, c1, false, carry);
    if (!compact_) emit(c0, c1);
  }
  if (!compact_) return;
  // The first points of the next panel's lines, while this panel is swept backwards.
  if (prefetch_next)
    for (long l = 0; l < L; ++l)
      for (long p = 0; p < std::min(n, kAhead); p += kV) __builtin_prefetch(src + (L + l) * lds + p, 0, 3);
  const long last = ((n - 1) / kV) * kV;
  for (long c0 = last; c0 >= 0; c0 -= kV) {
    const long c1 = std::min(n, c0 + kV);
    backward<NV>(x, L, c0, c1, carry);
    if (!periodic_) emit(c0, c1);
  }
  if (!periodic_) return;
  V f[NV];
  periodic_factor<NV>(x, L, f);
  for (long c0 = 0; c0 < n; c0 += kV) {
    const long c1 = std::min(n, c0 + kV);
    periodic_fix<NV>(x, L, c0, c1, f);
    emit(c0, c1);
  }
}

void LineSolve::run_contiguous(const double* src, long lds, double* dst, long ldd, long lines, const double* scale,
                               bool accumulate, bool stream, double* ring, double* x) const {
  long o = 0;
  static_assert(kGather % 8 == 0, "panels are whole vectors of 8 lines");
  for (; o + kGather <= lines; o += kGather)
    run_streamed<kGather / 8>(src + o * lds, lds, dst + o * ldd, ldd, scale, accumulate, stream, ring, x,
                              o + 2 * kGather <= lines);
  for (; o + kV <= lines; o += kV)
    run_streamed<1>(src + o * lds, lds, dst + o * ldd, ldd, scale, accumulate, stream, ring, x, false);
  if (o == lines) return;
  // Fewer than 8 lines left: transpose them whole, sweep in place of a scalar panel, transpose back.
  const long L = lines - o, n = n_;
  layout::transpose_2d(src + o * lds, lds, ring, L, L, n, false);
  run_lanes(ring, L, x, L, L, false);
  if (scale)
    for (long i = 0; i < n; ++i)
      for (long l = 0; l < L; ++l) x[i * L + l] *= scale[i];
  layout::transpose_2d(x, L, dst + o * ldd, ldd, n, L, accumulate, false);
}

long LineSolve::ring_rows() const { return ring_mask_ < 0 ? n_ : ring_mask_ + 1; }


void dense_panel(const double* dp, long rows, long cols, const double* x, long ldx, double* y, long ldy, long L, bool accumulate) {
  const long n = rows;
  const Eigen::Map<const Eigen::MatrixXd> d(dp, rows, cols);
  Eigen::Map<const RowPanel, 0, Eigen::OuterStride<>> X(x, cols, L, Eigen::OuterStride<>(ldx));
  Eigen::Map<RowPanel, 0, Eigen::OuterStride<>> Y(y, n, L, Eigen::OuterStride<>(ldy));
  if (accumulate) Y.noalias() += d * X;
  else Y.noalias() = d * X;
}

LineOperator::LineOperator(const Operator1D& op) : n_(op.size()) {
  for (const Term& t : op.terms()) {
    Prepared p;
    p.kind = t.kind;
    if (t.kind == Term::Kind::Dense) p.d.assign(t.d.data(), t.d.data() + t.d.size());
    else p.s = LineSolve(t);
    p.scale = t.scale;
    terms_.push_back(std::move(p));
  }
}

void LineOperator::apply_panel(const double* in, long ldi, double* out, long ldo, long L, bool accumulate,
                               double* tmp) const {
  const long n = n_;
  bool first = !accumulate;
  for (const Prepared& t : terms_) {
    // Unscaled terms write (or add) straight into out, except a compact solve that must add:
    // it and scaled terms go through tmp (ld = L).
    const bool direct = t.scale.empty() && (first || t.kind != Term::Kind::Compact);
    double* dst = direct ? out : tmp;
    const long ldd = direct ? ldo : L;
    const bool acc = direct && !first;
    if (t.kind == Term::Kind::Dense) dense_panel(t.d.data(), n, n, in, ldi, dst, ldd, L, acc);
    else t.s.run(in, ldi, dst, ldd, L, acc);
    if (!direct) {
      for (long i = 0; i < n; ++i) {
        const double s = t.scale.empty() ? 1.0 : t.scale[static_cast<std::size_t>(i)];
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

std::size_t LineOperator::workspace_bytes() const {
  long ring = 8 * n_;
  for (const Prepared& t : terms_)
    if (t.kind != Term::Kind::Dense) ring = std::max(ring, t.s.ring_rows() * kGather);
  return sizeof(double) * static_cast<std::size_t>(n_ * kPanel + std::max(ring, n_ * kGather) + n_ * kGather);
}

void LineOperator::apply(const Lines& in, const Lines& out, bool accumulate, core::Workspace& work) const {
  if (in.n != n_ || out.n != n_ || in.outer != out.outer || in.inner != out.inner)
    throw Error("internal: line operator and field lines do not match");
  const long n = n_;
  double* tmp = work.get<double>(static_cast<std::size_t>(n * kPanel), kWorkSlot);
  if (in.inner > 1) {
    // Lines are already interleaved: panels are column blocks of each outer slab.
    for (long o = 0; o < in.outer; ++o)
      for (long j0 = 0; j0 < in.inner; j0 += kPanel) {
        const long L = std::min(kPanel, in.inner - j0);
        apply_panel(in.p + o * in.ostride + j0, in.inner, out.p + o * out.ostride + j0, out.inner, L, accumulate, tmp);
      }
    return;
  }
  // Contiguous lines. Results much larger than the caches are written with streaming stores (no
  // read for ownership).
  const bool stream = !accumulate && double(out.outer) * double(out.ostride) * sizeof(double) > kStreamBytes;
  if (terms_.size() == 1 && terms_[0].kind != Term::Kind::Dense) {
    // One banded or compact term: streamed through a ring, no whole-panel transposes.
    const LineSolve& s = terms_[0].s;
    double* pin = work.get<double>(static_cast<std::size_t>(std::max(s.ring_rows() * kGather, n * 8)), kWorkSlot + 1);
    double* pout = work.get<double>(static_cast<std::size_t>(n * kGather), kWorkSlot + 2);
    s.run_contiguous(in.p, in.ostride, out.p, out.ostride, in.outer, terms_[0].scale.empty() ? nullptr : terms_[0].scale.data(),
                     accumulate, stream, pin, pout);
  } else {
    // General operators: transpose kGather lines into an interleaved panel, apply, transpose back.
    double* pin = work.get<double>(static_cast<std::size_t>(n * kGather), kWorkSlot + 1);
    double* pout = work.get<double>(static_cast<std::size_t>(n * kGather), kWorkSlot + 2);
    for (long o0 = 0; o0 < in.outer; o0 += kGather) {
      const long L = std::min(kGather, in.outer - o0);
      layout::transpose_2d(in.p + o0 * in.ostride, in.ostride, pin, L, L, n, false);
      apply_panel(pin, L, pout, L, L, false, tmp);
      layout::transpose_2d(pout, L, out.p + o0 * out.ostride, out.ostride, n, L, accumulate, stream);
    }
  }
#if defined(__AVX512F__)
  if (stream) _mm_sfence();
#endif
}

}  // namespace kron::linops
