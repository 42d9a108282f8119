// Host executor of LineOp<T> (the CUDA executor of the GPU issue sits beside it).
#include "kron/linops/line_op.hpp"

#include "kron/core/eigen.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <utility>

#include "kron/layout/fft_lines.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/line_op_device.hpp"
#include "kron/linops/line_transforms.hpp"

namespace kron::linops {

namespace {

template <class T>
constexpr bool is_complex = !std::is_floating_point_v<T>;
// Double precision (the real-coefficient and transform kinds run only there).
template <class T>
constexpr bool is_fp64 = std::is_same_v<T, double> || std::is_same_v<T, std::complex<double>>;

// The real lines a real-coefficient kind works on: complex lines as twice as many real ones (H = T).
template <class T>
std::pair<LineView<const double>, LineView<double>> real_lines(const LineView<const T>& in, const LineView<T>& out) {
  if constexpr (is_complex<T>) return {as_real(in), as_real(out)};
  else return {in, out};
}

Lines as_lines(const LineView<const double>& v) { return {const_cast<double*>(v.p), v.outer, v.n, v.inner, v.ostride}; }
Lines as_lines(const LineView<double>& v) { return {v.p, v.outer, v.n, v.inner, v.ostride}; }

// The transpose of a banded matrix: (B^T)_ij = B_ji, bandwidths swapped (periodic wraps kept).
Banded transpose(const Banded& b) {
  Banded r(b.n, b.ku, b.kl, b.periodic);
  for (long i = 0; i < b.n; ++i)
    for (int t = 0; t < r.width(); ++t) {
      long j = i + t - r.kl;
      if (b.periodic) j = ((j % b.n) + b.n) % b.n;
      else if (j < 0 || j >= b.n) continue;
      r.diag[t][i] = b.diag[b.kl + b.ku - t][j];
    }
  return r;
}

// ---- plans for the CUDA executor (built on the host, once) -----------------------------------

device::Banded device_banded(const Banded& b) {
  device::Banded d;
  d.n = b.n;
  d.kl = b.kl;
  d.ku = b.ku;
  d.periodic = b.periodic;
  if (b.kl + b.ku >= b.n && b.periodic)
    throw Error("LineOp: a periodic band of width " + std::to_string(b.width()) + " on " + std::to_string(b.n) + " points wraps twice");
  for (const auto& diag : b.diag) d.diag.insert(d.diag.end(), diag.begin(), diag.end());
  return d;
}

// The partitioned (chunked) solve of a tridiagonal A with rows a_i y_{i-1} + d_i y_i + c_i y_{i+1}
// (a_0 = corner0 couples y_{n-1}, c_{n-1} = corner1 couples y_0 when periodic): every chunk of
// kChunk rows solved alone, then coupled through the 2P x 2P reduced system in its first and last
// values, whose inverse is the same for every line (see device::Tridiagonal). Left empty where
// the line is too short or too long for the kernel, or the reduced system is singular.
void chunk_plan(device::Tridiagonal& t, const std::vector<double>& a, const std::vector<double>& d, const std::vector<double>& c, double corner0,
                double corner1) {
  const long n = t.n, M = device::Tridiagonal::kChunk;
  if (n < 2 * M || n > 64 * M) return;
  const long P = (n + M - 1) / M;
  std::vector<double> csub(n), cinv(n), csup(n), v(n, 0.0), w(n, 0.0);
  auto sub_of = [&](long i) { return i == 0 ? corner0 : a[i]; };
  auto sup_of = [&](long i) { return i == n - 1 ? corner1 : c[i]; };
  for (long k = 0; k < P; ++k) {
    const long s = k * M, e = std::min(n, s + M) - 1;
    double cprev = 0;
    for (long i = s; i <= e; ++i) {
      csub[i] = i > s ? a[i] : 0.0;
      const double piv = d[i] - csub[i] * cprev;
      if (piv == 0 || !std::isfinite(piv)) return;
      cinv[i] = 1.0 / piv;
      csup[i] = i < e ? c[i] / piv : 0.0;
      cprev = csup[i];
    }
    // Spikes: A_k^-1 (-a_s e_first) and A_k^-1 (-c_e e_last), by the chunk's own sweeps.
    auto solve = [&](std::vector<double>& r) {
      double prev = 0;
      for (long i = s; i <= e; ++i) prev = r[i] = (r[i] - csub[i] * prev) * cinv[i];
      for (long i = e - 1; i >= s; --i) r[i] -= csup[i] * r[i + 1];
    };
    v[s] = -sub_of(s);
    w[e] += -sup_of(e);
    solve(v);
    solve(w);
  }
  // Reduced system: F_k = yhat_s - v_s E_{k-1} ... as (I - C) z = yhat_ends, z = (F_0, E_0, F_1, ...).
  Eigen::MatrixXd S = Eigen::MatrixXd::Identity(2 * P, 2 * P);
  for (long k = 0; k < P; ++k) {
    const long s = k * M, e = std::min(n, s + M) - 1;
    const long left = k > 0 ? k - 1 : (t.periodic ? P - 1 : -1), right = k < P - 1 ? k + 1 : (t.periodic ? 0 : -1);
    for (int r = 0; r < 2; ++r) {
      const long i = r == 0 ? s : e;
      if (left >= 0) S(2 * k + r, 2 * left + 1) -= v[i];
      if (right >= 0) S(2 * k + r, 2 * right) -= w[i];
    }
  }
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(S);
  const Eigen::MatrixXd G = lu.inverse();
  if (!G.allFinite()) return;
  t.G.resize(static_cast<std::size_t>(4 * P * P));
  for (long r = 0; r < 2 * P; ++r)
    for (long q = 0; q < 2 * P; ++q) t.G[static_cast<std::size_t>(r * 2 * P + q)] = G(r, q);
  t.csub = std::move(csub);
  t.cinv = std::move(cinv);
  t.csup = std::move(csup);
  t.v = std::move(v);
  t.w = std::move(w);
}

// B = an interior band of the smallest half-width K <= 4 that leaves only closure rows within the
// first and last chunks outside it, plus those rows as dense blocks (device::BandSplit).
device::BandSplit band_split(const device::Banded& b, long M) {
  device::BandSplit s;
  const long n = b.n, P = (n + M - 1) / M, last_len = n - (P - 1) * M;
  auto at = [&](int q, long i) { return b.diag[static_cast<std::size_t>(q * n + i)]; };
  for (int K = 0; K <= 4; ++K) {
    long lead = 0, trail = 0;
    bool fits = true;
    for (long i = 0; i < n; ++i)
      for (int q = 0; q < b.kl + b.ku + 1; ++q) {
        if (at(q, i) == 0.0 || std::abs(q - b.kl) <= K) continue;
        if (b.periodic) fits = false;
        else if (i < n / 2) lead = std::max(lead, i + 1);
        else trail = std::max(trail, n - i);
      }
    if (!fits || lead > M || trail > last_len) continue;
    long cl = 0, ct = 0;
    for (int q = 0; q < b.kl + b.ku + 1; ++q) {
      for (long i = 0; i < lead; ++i)
        if (at(q, i) != 0.0) cl = std::max(cl, i + q - b.kl + 1);
      for (long i = n - trail; i < n; ++i)
        if (at(q, i) != 0.0) ct = std::max(ct, n - (i + q - b.kl));
    }
    if (cl > 32 || ct > 32) continue;
    s.K = K;
    s.L = static_cast<int>(lead);
    s.T = static_cast<int>(trail);
    s.Cl = static_cast<int>(cl);
    s.Ct = static_cast<int>(ct);
    s.band.assign(static_cast<std::size_t>((2 * K + 1) * n), 0.0);
    s.lead.assign(static_cast<std::size_t>(lead * cl), 0.0);
    s.trail.assign(static_cast<std::size_t>(trail * ct), 0.0);
    for (int q = 0; q < b.kl + b.ku + 1; ++q)
      for (long i = 0; i < n; ++i) {
        const double v = at(q, i);
        if (v == 0.0) continue;
        const long col = i + q - b.kl;
        if (i < lead) s.lead[static_cast<std::size_t>(i * cl + col)] = v;
        else if (i >= n - trail) s.trail[static_cast<std::size_t>((i - (n - trail)) * ct + col - (n - ct))] = v;
        else s.band[static_cast<std::size_t>((q - b.kl + K) * n + i)] = v;
      }
    return s;
  }
  return s;
}

// Thomas' algorithm for a tridiagonal A (no pivoting: compact schemes keep A diagonally
// dominant); a periodic A = T + u v^T with u = (g, 0.., alpha), v = (1, 0.., beta/g), g = -A_00,
// solved by Sherman-Morrison with z = T^-1 u prepared here.
device::Tridiagonal device_tridiagonal(const Banded& A) {
  const long n = A.n;
  if (A.kl > 1 || A.ku > 1) throw Error("internal: the device compact solve needs a tridiagonal left-hand side");
  if (A.periodic && n < 3) throw Error("LineOp: a periodic compact solve needs at least 3 points, got " + std::to_string(n));
  auto entry = [&](long i, long j) {
    const long d = j - i;
    if (A.periodic) {
      const long w = ((d % n) + n) % n;  // column offset mod n: 0, 1 or n-1
      const int t = w == 0 ? 0 : (w == 1 ? 1 : (w == n - 1 ? -1 : 99));
      if (t < -A.kl || t > A.ku) return 0.0;
      return A.diag[static_cast<std::size_t>(t + A.kl)][static_cast<std::size_t>(i)];
    }
    if (d < -A.kl || d > A.ku || j < 0 || j >= n) return 0.0;
    return A.diag[static_cast<std::size_t>(d + A.kl)][static_cast<std::size_t>(i)];
  };
  std::vector<double> sub(n, 0.0), diag(n), sup(n, 0.0);
  for (long i = 0; i < n; ++i) {
    diag[i] = entry(i, i);
    if (i > 0) sub[i] = entry(i, i - 1);
    if (i < n - 1) sup[i] = entry(i, i + 1);
  }
  const std::vector<double> diag_raw = diag;
  device::Tridiagonal t;
  t.n = n;
  t.periodic = A.periodic;
  double g = 0, alpha = 0, beta = 0;
  if (A.periodic) {
    alpha = entry(n - 1, 0);
    beta = entry(0, n - 1);
    g = -diag[0];
    diag[0] -= g;
    diag[n - 1] -= alpha * beta / g;
  }
  t.sub = sub;
  t.inv_pivot.resize(n);
  t.sup.assign(n, 0.0);
  double cprev = 0;
  for (long i = 0; i < n; ++i) {
    const double piv = diag[i] - sub[i] * cprev;
    if (piv == 0 || !std::isfinite(piv)) throw Error("LineOp: a compact scheme's left-hand side has a zero pivot (row " + std::to_string(i) + ")");
    t.inv_pivot[i] = 1.0 / piv;
    cprev = i < n - 1 ? sup[i] / piv : 0.0;
    t.sup[i] = cprev;
  }
  if (A.periodic) {
    // z = T^-1 u by the same sweeps.
    std::vector<double> z(n, 0.0);
    z[0] = g;
    z[n - 1] = alpha;
    double prev = 0;
    for (long i = 0; i < n; ++i) prev = z[i] = (z[i] - t.sub[i] * prev) * t.inv_pivot[i];
    for (long i = n - 2; i >= 0; --i) z[i] -= t.sup[i] * z[i + 1];
    t.z = z;
    t.vn = beta / g;
    t.denom = 1.0 + z[0] + t.vn * z[n - 1];
  }
  chunk_plan(t, sub, diag_raw, sup, A.periodic ? beta : 0.0, A.periodic ? alpha : 0.0);
  return t;
}

Operator1D single(long n, Term t, const char* name) {
  Operator1D op(n, name);
  op.add(std::move(t));
  return op;
}

// Calls f(o, j0, count, group) for the runs of consecutive lines of `v` that share a group
// (line l = o*inner + j belongs to group (l / span) % groups).
template <class V, class F>
void for_each_run(const V& v, long span, long groups, F&& f) {
  const long per = v.inner == 1 ? 1 : v.inner;  // lines per slab
  if (groups == 1) {
    // One group: contiguous lines are one run over all slabs, interleaved ones a run per slab.
    if (v.inner == 1) f(0L, 0L, v.outer, 0L);
    else
      for (long o = 0; o < v.outer; ++o) f(o, 0L, v.inner, 0L);
    return;
  }
  for (long o = 0; o < v.outer; ++o) {
    const long base = v.inner == 1 ? o : o * v.inner;
    for (long j0 = 0; j0 < per;) {
      const long l = base + j0;
      const long next = (l / span + 1) * span;  // first line of the next group
      const long count = std::min(per - j0, next - l);
      f(o, j0, count, (l / span) % groups);
      j0 += count;
    }
  }
}

// Groups of lines as strided matrices, one per group: where span is 1 and G is a multiple of the
// lines per slab (inner), the lines of group g are the columns of one matrix whose element (i, c)
// sits at p + base_g + i * inner + c * step * ostride (Monarch and block-diagonal factors,
// butterfly levels: one GEMM per block instead of one per line). Calls f(g, base, count, step).
template <class V, class F>
bool for_each_group(const V& v, long span, long groups, F&& f) {
  if (groups == 1 || span != 1 || groups % v.inner != 0) return false;
  const long step = groups / v.inner;  // slabs between two lines of one group
  for (long g = 0; g < groups; ++g) {
    const long o0 = g / v.inner, j = g % v.inner;
    if (o0 >= v.outer) continue;
    f(g, o0 * v.ostride + j, (v.outer - o0 + step - 1) / step, step);
  }
  return true;
}

}  // namespace

template <class T>
struct LineOp<T>::Impl {
  Kind kind = Kind::Dense;
  long m = 0, n = 0;
  std::string name;
  // Real: the operator's terms, their line kernels, and the transposed terms when asked for.
  Operator1D op;
  std::unique_ptr<LineOperator> fwd;
  struct Transposed {
    std::unique_ptr<LineOperator> solve;  // A^T solve of a compact term (null otherwise)
    std::unique_ptr<LineOperator> mult;   // B^T or D^T
    std::vector<double> scale;             // row scale of the term (empty: 1)
  };
  mutable std::vector<Transposed> tr;
  // Dense, BlockDense, Diagonal
  std::vector<T> a;
  long groups = 1, span = 1;
  // Transform
  Transform tk = Transform::DST1;
  std::unique_ptr<layout::LineFft> fft_n, fft_t;
  std::unique_ptr<Dst1Executor> dst1;  // DST-I: the real-FFT-of-length-m+1 executor (faster than RODFT00)
  std::vector<double> hc_weight;  // R2HC/HC2R: the halfcomplex weights of the transpose
  mutable core::Workspace own;
  // The CUDA executor, prepared on the first apply to device lines.
  mutable std::unique_ptr<device::Executor> dev;
  // set_device_coefficients replaced the device copy: the host coefficients are out of date.
  bool host_stale = false;

  const device::Executor& device_executor() const {
    if (dev) return *dev;
    device::Plan p;
    p.kind = static_cast<device::Kind>(static_cast<int>(kind));
    p.m = m;
    p.n = n;
    p.groups = groups;
    p.span = span;
    p.complex = is_complex<T>;
    p.single = !is_fp64<T>;
    if constexpr (std::is_same_v<T, double>) p.a = a;
    else if constexpr (std::is_same_v<T, std::complex<double>>) p.ac = a;
    else if constexpr (std::is_same_v<T, float>) p.af = a;
    else p.acf = a;
    p.transform = static_cast<device::Transform>(static_cast<int>(tk));
    p.hc_weight = hc_weight;
    if (kind == Kind::Real)
      for (const Term& t : op.terms()) {
        device::Term f, r;
        f.kind = r.kind = static_cast<device::Term::Kind>(static_cast<int>(t.kind));
        f.scale = r.scale = t.scale;
        if (t.kind == Term::Kind::Dense) {
          f.d.resize(static_cast<std::size_t>(n * n));
          for (long i = 0; i < n; ++i)
            for (long j = 0; j < n; ++j) f.d[static_cast<std::size_t>(i * n + j)] = t.d(i, j);
          r.d = f.d;  // the transposed term applies D^T by the GEMM's own transpose
        } else {
          f.b = device_banded(t.b);
          r.b = device_banded(transpose(t.b));
          if (t.kind == Term::Kind::Compact) {
            f.a = device_tridiagonal(t.a);
            r.a = device_tridiagonal(transpose(t.a));
            if (!f.a.G.empty()) f.split = band_split(f.b, device::Tridiagonal::kChunk);
          }
        }
        p.fwd.push_back(std::move(f));
        p.tr.push_back(std::move(r));
      }
    dev = std::make_unique<device::Executor>(p);
    return *dev;
  }

  void prepare_transpose() const {
    if (!tr.empty() || op.terms().empty()) return;
    for (const Term& t : op.terms()) {
      Transposed x;
      x.scale = t.scale;
      if (t.kind == Term::Kind::Dense) {
        Term d;
        d.kind = Term::Kind::Dense;
        d.d = t.d.transpose();
        x.mult = std::make_unique<LineOperator>(single(n, std::move(d), "D^T"));
      } else {
        Term b;
        b.b = transpose(t.b);
        x.mult = std::make_unique<LineOperator>(single(n, std::move(b), "B^T"));
        if (t.kind == Term::Kind::Compact) {
          Term s;
          s.kind = Term::Kind::Compact;
          s.a = transpose(t.a);
          s.b = Banded(n, 0, 0, t.a.periodic);
          for (long i = 0; i < n; ++i) s.b.diag[0][i] = 1.0;
          x.solve = std::make_unique<LineOperator>(single(n, std::move(s), "A^-T"));
        }
      }
      tr.push_back(std::move(x));
    }
  }

  // ---- real-coefficient kinds on real lines -------------------------------------------------

  // A dense copy of `in` in a workspace slot, laid out like it (outer, n, inner, n*inner).
  static LineView<double> scratch(const LineView<const double>& like, long n, core::Workspace& w, std::size_t slot) {
    double* p = w.get<double>(static_cast<std::size_t>(like.outer * n * like.inner), slot);
    return {p, like.outer, n, like.inner, n * like.inner};
  }
  static void scale_copy(const LineView<const double>& in, const double* s, const LineView<double>& out) {
    for (long o = 0; o < in.outer; ++o)
      for (long i = 0; i < in.n; ++i) {
        const double* a = in.p + o * in.ostride + i * in.inner;
        double* b = out.p + o * out.ostride + i * out.inner;
        const double f = s ? s[i] : 1.0;
#pragma omp simd
        for (long j = 0; j < in.inner; ++j) b[j] = f * a[j];
      }
  }
  static void add(const LineView<const double>& in, const LineView<double>& out) {
    for (long o = 0; o < in.outer; ++o)
      for (long i = 0; i < in.n; ++i) {
        const double* a = in.p + o * in.ostride + i * in.inner;
        double* b = out.p + o * out.ostride + i * out.inner;
#pragma omp simd
        for (long j = 0; j < in.inner; ++j) b[j] += a[j];
      }
  }

  void real_apply(const LineView<const double>& in, const LineView<double>& out, bool transposed, bool acc,
                  core::Workspace& w) const {
    if (!transposed) {
      fwd->apply(as_lines(in), as_lines(out), acc, w);
      return;
    }
    // (diag(s) M)^T x = M^T (s .* x); a compact term's M^T = B^T A^-T.
    prepare_transpose();
    bool first = !acc;
    for (const Transposed& t : tr) {
      LineView<const double> src = in;
      if (!t.scale.empty()) {
        const LineView<double> xs = scratch(in, n, w, 0);
        scale_copy(in, t.scale.data(), xs);
        src = xs;
      }
      if (t.solve) {
        const LineView<double> y = scratch(in, n, w, 1);
        t.solve->apply(as_lines(src), as_lines(y), false, w);
        src = y;
      }
      t.mult->apply(as_lines(src), as_lines(out), !first, w);
      first = false;
    }
  }

  void transform_apply(const LineView<const double>& in, const LineView<double>& out, bool transposed, bool acc,
                       core::Workspace& ws) const {
    // N: the kind itself. T: DST-I is symmetric; DCT-II^T = DCT-III after doubling x_0;
    // DCT-III^T = DCT-II, then halving y_0; R2HC^T = HC2R after weighting the input by w;
    // HC2R^T = R2HC, then dividing the output by w.
    const layout::LineFft* f = transposed ? fft_t.get() : fft_n.get();
    const bool pre_w = transposed && tk == Transform::R2HC, post_w = transposed && tk == Transform::HC2R;
    const double pre0 = transposed && tk == Transform::DCT2 ? 2.0 : 1.0;
    const double post0 = transposed && tk == Transform::DCT3 ? 0.5 : 1.0;
    LineView<const double> src = in;
    if (pre0 != 1.0 || pre_w) {
      const LineView<double> xs = scratch(in, n, ws, 0);
      scale_copy(in, pre_w ? hc_weight.data() : nullptr, xs);
      for (long o = 0; o < xs.outer; ++o)
        for (long j = 0; j < xs.inner; ++j) xs.p[o * xs.ostride + j] *= pre0;
      src = xs;
    }
    const bool post = post0 != 1.0 || post_w;
    const LineView<double> dst = (acc || post) ? scratch(in, n, ws, 1) : out;
    if (dst1) {
      dst1->execute(as_lines(src), as_lines(dst));
    } else {
      const layout::LineSet a{const_cast<double*>(src.p), src.outer, src.n, src.inner, src.ostride};
      const layout::LineSet b{dst.p, dst.outer, dst.n, dst.inner, dst.ostride};
      f->execute(a, b, src.p != in.p);  // kron's own copy may be overwritten, the caller's input never
    }
    if (post)
      for (long o = 0; o < dst.outer; ++o)
        for (long i = 0; i < n; ++i) {
          const double s = post_w ? 1.0 / hc_weight[i] : (i == 0 ? post0 : 1.0);
          if (s == 1.0) continue;
          double* p = dst.p + o * dst.ostride + i * dst.inner;
          for (long j = 0; j < dst.inner; ++j) p[j] *= s;
        }
    if (dst.p != out.p) {
      if (acc) add(dst, out);
      else scale_copy(dst, nullptr, out);
    }
  }

  // ---- kinds with coefficients of type T ----------------------------------------------------

  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Col = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

  // Y (+)= op(A) X.
  template <class XM, class YM>
  static void product(const Eigen::Map<const Mat>& A, Trans t, const XM& X, YM&& Y, bool acc) {
    if (t == Trans::N) {
      if (acc) Y.noalias() += A * X;
      else Y.noalias() = A * X;
    } else if (t == Trans::T) {
      if (acc) Y.noalias() += A.transpose() * X;
      else Y.noalias() = A.transpose() * X;
    } else {
      if (acc) Y.noalias() += A.adjoint() * X;
      else Y.noalias() = A.adjoint() * X;
    }
  }

  // Y (+)= op(A_g) X for the lines (o, j0 .. j0+count-1) of in/out.
  void gemm(const T* ag, long am, long an, Trans t, const LineView<const T>& in, const LineView<T>& out, long o, long j0,
            long count, bool acc) const {
    const Eigen::Map<const Mat> A(ag, am, an);
    auto run = [&](const auto& X, auto&& Y) { product(A, t, X, Y, acc); };
    if (in.inner == 1) {
      // Contiguous lines are the columns of a column-major matrix.
      const Eigen::Map<const Col, 0, Eigen::OuterStride<>> X(in.p + o * in.ostride, in.n, count, Eigen::OuterStride<>(in.ostride));
      Eigen::Map<Col, 0, Eigen::OuterStride<>> Y(out.p + o * out.ostride, out.n, count, Eigen::OuterStride<>(out.ostride));
      run(X, Y);
    } else {
      // Interleaved lines are the columns of a row-major matrix with row stride `inner`.
      const Eigen::Map<const Mat, 0, Eigen::OuterStride<>> X(in.p + o * in.ostride + j0, in.n, count, Eigen::OuterStride<>(in.inner));
      Eigen::Map<Mat, 0, Eigen::OuterStride<>> Y(out.p + o * out.ostride + j0, out.n, count, Eigen::OuterStride<>(out.inner));
      run(X, Y);
    }
  }

  // The columns of a group as an Eigen matrix: element (i, c) at p + i * rs + c * cs.
  template <class U>
  static auto strided(U* p, long rows, long count, long rs, long cs) {
    using E = std::remove_const_t<U>;
    using M = std::conditional_t<std::is_const_v<U>, const Eigen::Matrix<E, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>,
                                 Eigen::Matrix<E, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>>;
    return Eigen::Map<M, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>(p, rows, count, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(cs, rs));
  }

  // Y (+)= op(A_g) X for the lines of one group (for_each_group).
  void group_gemm(const T* ag, Trans t, const LineView<const T>& in, const LineView<T>& out, long base_in, long base_out, long count,
                  long step, bool acc) const {
    const Eigen::Map<const Mat> A(ag, m, n);
    const auto X = strided(in.p + base_in, in.n, count, in.inner, step * in.ostride);
    product(A, t, X, strided(out.p + base_out, out.n, count, out.inner, step * out.ostride), acc);
  }

  // G_g += the gradient from count lines at (x, xrs, xcs) and (y, yrs, ycs) (see coefficient_gradient).
  void gradient_block(T* gg, Trans t, const T* x, long xn, long xrs, long xcs, const T* y, long yn, long yrs, long ycs, long count) const {
    const auto X = strided(x, xn, count, xrs, xcs);
    const auto Y = strided(y, yn, count, yrs, ycs);
    Eigen::Map<Mat> G(gg, m, n);
    if (t == Trans::N) G.noalias() += Y * X.adjoint();
    else if (t == Trans::T) G.noalias() += X.conjugate() * Y.transpose();
    else G.noalias() += X * Y.adjoint();
  }

  // Blocks of at most kSmall x kSmall (butterfly levels): line by line in storage order, the
  // block chosen per line; a GEMM call per block would cost more than its few multiply-adds.
  static constexpr long kSmall = 4;
  bool small() const { return m <= kSmall && n <= kSmall; }
  // Block row r, column c of op(A) for Trans TR (0 N, 1 T, 2 H).
  template <int TR>
  T coef(const T* A, long r, long c) const {
    if constexpr (TR == 0) return A[r * n + c];
    else if constexpr (TR == 1) return A[c * n + r];
    else return conj_if(A[c * n + r]);
  }
  // Calls f(o, j, block) for every line in storage order, the block (l / span) % groups kept
  // incrementally (no division per line).
  template <class F>
  void for_each_line_block(long outer, long inner, F&& f) const {
    for (long o = 0; o < outer; ++o) {
      const long l0 = o * inner;
      long q = l0 / span, rem = l0 % span, g = q % groups;
      for (long j = 0; j < inner; ++j) {
        f(o, j, a.data() + g * m * n);
        if (++rem == span) {
          rem = 0;
          if (++g == groups) g = 0;
        }
      }
    }
  }
  template <int TR, int NI, int NO>
  void small_apply_t(const LineView<const T>& in, const LineView<T>& out, bool acc) const {
    const long ni = NI ? NI : in.n, no = NO ? NO : out.n;
    for_each_line_block(in.outer, in.inner, [&](long o, long j, const T* A) {
      const T* x = in.p + o * in.ostride + j;
      T* y = out.p + o * out.ostride + j;
      T xv[kSmall];
      for (long c = 0; c < ni; ++c) xv[c] = x[c * in.inner];
      for (long r = 0; r < no; ++r) {
        T s = 0;
        for (long c = 0; c < ni; ++c) s += coef<TR>(A, r, c) * xv[c];
        y[r * out.inner] = acc ? y[r * out.inner] + s : s;
      }
    });
  }
  template <int TR>
  void small_apply_tr(const LineView<const T>& in, const LineView<T>& out, bool acc) const {
    if (in.n == 2 && out.n == 2) small_apply_t<TR, 2, 2>(in, out, acc);
    else small_apply_t<TR, 0, 0>(in, out, acc);
  }
  void small_apply(const LineView<const T>& in, const LineView<T>& out, Trans t, bool acc) const {
    if (t == Trans::N) small_apply_tr<0>(in, out, acc);
    else if (t == Trans::T) small_apply_tr<1>(in, out, acc);
    else small_apply_tr<2>(in, out, acc);
  }
  // G_g += the small blocks' gradients, line by line (see coefficient_gradient).
  void small_gradient(const LineView<const T>& in, const LineView<const T>& dout, T* grad, Trans t) const {
    for_each_line_block(in.outer, in.inner, [&](long o, long j, const T* A) {
      T* G = grad + (A - a.data());
      const T* x = in.p + o * in.ostride + j;
      const T* y = dout.p + o * dout.ostride + j;
      for (long r = 0; r < m; ++r)
        for (long c = 0; c < n; ++c) {
          // N: y = A x, G[r, c] += y_r conj(x_c); T: y = A^T x (x of length m), G[r, c] += conj(x_r) y_c;
          // H: G[r, c] += x_r conj(y_c).
          if (t == Trans::N) G[r * n + c] += y[r * dout.inner] * conj_if(x[c * in.inner]);
          else if (t == Trans::T) G[r * n + c] += conj_if(x[r * in.inner]) * y[c * dout.inner];
          else G[r * n + c] += x[r * in.inner] * conj_if(y[c * dout.inner]);
        }
    });
  }
  static T conj_if(const T& v) {
    if constexpr (is_complex<T>) return std::conj(v);
    else return v;
  }

  void diagonal_apply(const LineView<const T>& in, const LineView<T>& out, Trans t, bool acc) const {
    for_each_run(in, span, groups, [&](long o, long j0, long count, long g) {
      const T* d = a.data() + g * n;
      auto coef = [&](long i) {
        if constexpr (is_complex<T>) {
          if (t == Trans::H) return std::conj(d[i]);
        }
        return d[i];
      };
      if (in.inner == 1) {
        // Contiguous lines: along each line.
        for (long q = 0; q < count; ++q) {
          const T* s = in.p + (o + q) * in.ostride;
          T* r = out.p + (o + q) * out.ostride;
          for (long i = 0; i < n; ++i) r[i] = acc ? r[i] + coef(i) * s[i] : coef(i) * s[i];
        }
        return;
      }
      for (long i = 0; i < n; ++i) {
        const T di = coef(i);
        {
          const T* s = in.p + o * in.ostride + i * in.inner + j0;
          T* r = out.p + o * out.ostride + i * out.inner + j0;
          for (long q = 0; q < count; ++q) r[q] = acc ? r[q] + di * s[q] : di * s[q];
        }
      }
    });
  }
};

template <class T>
LineOp<T>::LineOp() : impl_(std::make_unique<Impl>()) {}
template <class T>
LineOp<T>::~LineOp() = default;
template <class T>
LineOp<T>::LineOp(LineOp&&) noexcept = default;
template <class T>
LineOp<T>& LineOp<T>::operator=(LineOp&&) noexcept = default;

// Single-precision LineOps are the coefficient kinds; the real-coefficient (Operator1D) and
// transform kinds are double precision only, and asking for them in float is refused by name.
namespace {
template <class T>
void refuse_single(const char* what) {
  if constexpr (!is_fp64<T>)
    throw Error(std::string("LineOp: ") + what + " operators run in double precision only", {},
                "single-precision line operators are dense, block-dense and diagonal; apply this one to double lines");
}
}  // namespace

template <class T>
LineOp<T> LineOp<T>::real(const Operator1D& op) {
  refuse_single<T>("real-coefficient (derivative, Laplacian, compact)");
  LineOp r;
  Impl& m = *r.impl_;
  m.kind = Kind::Real;
  m.m = m.n = op.size();
  m.name = op.name();
  m.op = op;
  m.fwd = std::make_unique<LineOperator>(op);
  return r;
}

template <class T>
LineOp<T> LineOp<T>::dense(long rows, long cols, std::vector<T> a) {
  return block_dense(1, rows, cols, std::move(a), 1);
}

template <class T>
LineOp<T> LineOp<T>::block_dense(long groups, long rows, long cols, std::vector<T> a, long span) {
  if (groups < 1 || span < 1 || rows < 1 || cols < 1 || static_cast<long>(a.size()) != groups * rows * cols)
    throw Error("LineOp: " + std::to_string(groups) + " dense blocks of " + std::to_string(rows) + " x " + std::to_string(cols) +
                " need " + std::to_string(groups * rows * cols) + " coefficients, got " + std::to_string(a.size()));
  LineOp r;
  Impl& m = *r.impl_;
  m.kind = groups == 1 ? Kind::Dense : Kind::BlockDense;
  m.m = rows;
  m.n = cols;
  m.groups = groups;
  m.span = span;
  m.a = std::move(a);
  m.name = groups == 1 ? "dense" : "block-dense";
  return r;
}

template <class T>
LineOp<T> LineOp<T>::diagonal(long n, std::vector<T> d, long groups, long span) {
  if (groups < 1 || span < 1 || n < 1 || static_cast<long>(d.size()) != groups * n)
    throw Error("LineOp: a diagonal of " + std::to_string(n) + " points and " + std::to_string(groups) + " groups needs " +
                std::to_string(groups * n) + " values, got " + std::to_string(d.size()));
  LineOp r;
  Impl& m = *r.impl_;
  m.kind = Kind::Diagonal;
  m.m = m.n = n;
  m.groups = groups;
  m.span = span;
  m.a = std::move(d);
  m.name = "diagonal";
  return r;
}

template <class T>
LineOp<T> LineOp<T>::transform(Transform kind, long n, layout::FftEffort effort) {
  refuse_single<T>("line-transform (DST, DCT, real FFT)");
  if (n < (kind == Transform::DST1 ? 1 : 2)) throw Error("LineOp: a line transform needs more points (n = " + std::to_string(n) + ")");
  LineOp r;
  Impl& m = *r.impl_;
  m.kind = Kind::Transform;
  m.m = m.n = n;
  m.tk = kind;
  using R = layout::LineFft::R2R;
  R kn = R::RODFT00, kt = R::RODFT00;
  switch (kind) {
    case Transform::DST1: kn = kt = R::RODFT00; m.name = "dst1"; break;
    case Transform::DCT2: kn = R::REDFT10; kt = R::REDFT01; m.name = "dct2"; break;
    case Transform::DCT3: kn = R::REDFT01; kt = R::REDFT10; m.name = "dct3"; break;
    case Transform::R2HC: kn = R::R2HC; kt = R::HC2R; m.name = "r2hc"; break;
    case Transform::HC2R: kn = R::HC2R; kt = R::R2HC; m.name = "hc2r"; break;
  }
  // Small panel plans: estimated, or measured ones from the wisdom file when it has them.
  if (kind == Transform::DST1) {
    m.dst1 = std::make_unique<Dst1Executor>(n, effort);
  } else {
    m.fft_n = std::make_unique<layout::LineFft>(layout::LineFft::Kind::R2R, n, effort, kn);
    m.fft_t = std::make_unique<layout::LineFft>(layout::LineFft::Kind::R2R, n, effort, kt);
  }
  // Halfcomplex weights: F^T = HC2R diag(w), w = 1 for the mean and the Nyquist entry, 1/2 else.
  m.hc_weight.assign(static_cast<std::size_t>(n), 0.5);
  m.hc_weight[0] = 1.0;
  if (n % 2 == 0) m.hc_weight[static_cast<std::size_t>(n / 2)] = 1.0;
  return r;
}

template <class T>
typename LineOp<T>::Kind LineOp<T>::kind() const { return impl_->kind; }
template <class T>
typename LineOp<T>::Transform LineOp<T>::transform_kind() const { return impl_->tk; }
template <class T>
long LineOp<T>::rows() const { return impl_->m; }
template <class T>
long LineOp<T>::cols() const { return impl_->n; }

template <class T>
std::string LineOp<T>::describe() const {
  std::ostringstream os;
  const Impl& m = *impl_;
  os << m.name << " " << m.m << "x" << m.n;
  if (m.kind == Kind::BlockDense || (m.kind == Kind::Diagonal && m.groups > 1)) os << ", " << m.groups << " groups of " << m.span << " lines";
  return os.str();
}

template <class T>
bool LineOp<T>::in_place() const {
  return impl_->kind == Kind::Transform || impl_->kind == Kind::Diagonal;
}

template <class T>
std::size_t LineOp<T>::workspace_bytes(long lines) const {
  const Impl& m = *impl_;
  const std::size_t line = sizeof(T) * static_cast<std::size_t>(std::max(m.m, m.n) * lines);
  switch (m.kind) {
    case Kind::Real: return 2 * line + m.fwd->workspace_bytes();  // scaled input, A^-T intermediate, kernel panels
    case Kind::Transform: return 2 * line;  // intermediate / accumulation copy
    default: return 0;
  }
}

template <class T>
std::size_t LineOp<T>::bytes() const {
  const Impl& m = *impl_;
  if (m.kind == Kind::Real) return m.op.bytes();
  if (m.kind == Kind::Transform) return sizeof(double) * m.hc_weight.size();
  return sizeof(T) * m.a.size();
}

template <class T>
void LineOp<T>::apply(const LineView<const T>& in, const LineView<T>& out, Trans t, bool accumulate, core::Workspace* work) const {
  const Impl& m = *impl_;
  const long n_in = t == Trans::N ? m.n : m.m, n_out = t == Trans::N ? m.m : m.n;
  if (in.n != n_in || out.n != n_out || in.outer != out.outer || in.inner != out.inner)
    throw Error("LineOp::apply (" + describe() + "): lines of " + std::to_string(in.n) + " -> " + std::to_string(out.n) + " points, " +
                std::to_string(in.outer) + "x" + std::to_string(in.inner) + " -> " + std::to_string(out.outer) + "x" +
                std::to_string(out.inner) + " lines do not fit " + (t == Trans::N ? "the operator" : "its transpose"));
  if (in.on_device() || out.on_device()) {
    if (!in.on_device() || !out.on_device())
      throw Error("LineOp::apply (" + describe() + "): input in " + core::to_string(in.space) + " memory, output in " +
                  core::to_string(out.space) + " memory; both must be in one space");
    if (in.lines() == 0) return;
    const int tr = t == Trans::N ? 0 : (t == Trans::T ? 1 : 2);
    if (m.kind == Kind::Real || m.kind == Kind::Transform) {
      if constexpr (is_fp64<T>) {
        const auto [ri, ro] = real_lines(in, out);
        m.device_executor().apply({const_cast<double*>(ri.p), ri.outer, ri.n, ri.inner, ri.ostride}, {ro.p, ro.outer, ro.n, ro.inner, ro.ostride},
                                  tr, accumulate);
      }
    } else {
      m.device_executor().apply({const_cast<T*>(in.p), in.outer, in.n, in.inner, in.ostride}, {out.p, out.outer, out.n, out.inner, out.ostride},
                                tr, accumulate);
    }
    return;
  }
  if (m.host_stale)
    throw Error("LineOp::apply (" + describe() + "): host lines, but the coefficients were last set in device memory", {},
                "give the operator host coefficients with set_coefficients first");
  if (in.lines() == 0) return;
  core::Workspace& w = work ? *work : m.own;
  const bool transposed = t != Trans::N;
  switch (m.kind) {
    case Kind::Real:
    case Kind::Transform: {
      if constexpr (is_fp64<T>) {
        const auto [ri, ro] = real_lines(in, out);
        if (m.kind == Kind::Real) m.real_apply(ri, ro, transposed, accumulate, w);
        else m.transform_apply(ri, ro, transposed, accumulate, w);
      }
      return;
    }
    case Kind::Dense:
    case Kind::BlockDense:
      if (m.small()) return m.small_apply(in, out, t, accumulate);
      if (for_each_group(in, m.span, m.groups, [&](long g, long base, long count, long step) {
            const long base_out = (base / in.ostride) * out.ostride + base % in.ostride;
            m.group_gemm(m.a.data() + g * m.m * m.n, t, in, out, base, base_out, count, step, accumulate);
          }))
        return;
      for_each_run(in, m.span, m.groups, [&](long o, long j0, long count, long g) {
        m.gemm(m.a.data() + g * m.m * m.n, m.m, m.n, t, in, out, o, j0, count, accumulate);
      });
      return;
    case Kind::Diagonal: m.diagonal_apply(in, out, t, accumulate); return;
  }
}

template <class T>
const std::vector<T>& LineOp<T>::coefficients() const {
  const Impl& m = *impl_;
  if (m.kind == Kind::Real || m.kind == Kind::Transform) throw Error("LineOp::coefficients (" + describe() + "): the operator has no coefficient array");
  return m.a;
}

template <class T>
void LineOp<T>::set_coefficients(const T* a) {
  Impl& m = *impl_;
  if (m.kind == Kind::Real || m.kind == Kind::Transform) throw Error("LineOp::set_coefficients (" + describe() + "): the operator has no coefficient array");
  std::copy(a, a + m.a.size(), m.a.begin());
  m.dev.reset();
  m.host_stale = false;
}

template <class T>
void LineOp<T>::set_device_coefficients(const T* a) {
  Impl& m = *impl_;
  if (m.kind == Kind::Real || m.kind == Kind::Transform)
    throw Error("LineOp::set_device_coefficients (" + describe() + "): the operator has no coefficient array");
  const_cast<device::Executor&>(m.device_executor()).set_coefficients(a);
  m.host_stale = true;
}

template <class T>
void LineOp<T>::coefficient_gradient(const LineView<const T>& in, const LineView<const T>& dout, T* grad, Trans t, bool accumulate) const {
  const Impl& m = *impl_;
  if (m.kind == Kind::Real || m.kind == Kind::Transform)
    throw Error("LineOp::coefficient_gradient (" + describe() + "): only dense, block-dense and diagonal operators have coefficients to train");
  const long n_in = t == Trans::N ? m.n : m.m, n_out = t == Trans::N ? m.m : m.n;
  if (in.n != n_in || dout.n != n_out || in.outer != dout.outer || in.inner != dout.inner)
    throw Error("LineOp::coefficient_gradient (" + describe() + "): lines of " + std::to_string(in.n) + " and " + std::to_string(dout.n) +
                " points do not fit the operator");
  if (in.on_device() != dout.on_device())
    throw Error("LineOp::coefficient_gradient (" + describe() + "): input lines in " + core::to_string(in.space) +
                " memory, output gradients in " + core::to_string(dout.space) + " memory; both must be in one space");
  if (in.on_device()) {
    m.device_executor().coefficient_gradient({const_cast<T*>(in.p), in.outer, in.n, in.inner, in.ostride},
                                             {const_cast<T*>(dout.p), dout.outer, dout.n, dout.inner, dout.ostride}, grad,
                                             t == Trans::N ? 0 : (t == Trans::T ? 1 : 2), accumulate);
    return;
  }
  if (!accumulate) std::fill(grad, grad + m.a.size(), T(0));
  if (in.lines() == 0) return;
  if (m.kind == Kind::Diagonal) {
    for_each_run(in, m.span, m.groups, [&](long o, long j0, long count, long g) {
      T* gd = grad + g * m.n;
      const long per_line = in.inner == 1 ? in.ostride : 1, per_line_out = dout.inner == 1 ? dout.ostride : 1;
      const T* x0 = in.p + o * in.ostride + (in.inner == 1 ? 0 : j0);
      const T* y0 = dout.p + o * dout.ostride + (dout.inner == 1 ? 0 : j0);
      for (long q = 0; q < count; ++q)
        for (long i = 0; i < m.n; ++i) {
          const T x = x0[q * per_line + i * in.inner], y = y0[q * per_line_out + i * dout.inner];
          if constexpr (is_complex<T>) gd[i] += t == Trans::H ? std::conj(y) * x : y * std::conj(x);
          else gd[i] += y * x;
        }
    });
    return;
  }
  if (m.small()) return m.small_gradient(in, dout, grad, t);
  if (for_each_group(in, m.span, m.groups, [&](long g, long base, long count, long step) {
        const long base_out = (base / in.ostride) * dout.ostride + base % in.ostride;
        m.gradient_block(grad + g * m.m * m.n, t, in.p + base, in.n, in.inner, step * in.ostride, dout.p + base_out, dout.n, dout.inner,
                         step * dout.ostride, count);
      }))
    return;
  for_each_run(in, m.span, m.groups, [&](long o, long j0, long count, long g) {
    T* gg = grad + g * m.m * m.n;
    if (in.inner == 1)
      m.gradient_block(gg, t, in.p + o * in.ostride, in.n, 1, in.ostride, dout.p + o * dout.ostride, dout.n, 1, dout.ostride, count);
    else
      m.gradient_block(gg, t, in.p + o * in.ostride + j0, in.n, in.inner, 1, dout.p + o * dout.ostride + j0, dout.n, dout.inner, 1, count);
  });
}

template class LineOp<double>;
template class LineOp<std::complex<double>>;
template class LineOp<float>;
template class LineOp<std::complex<float>>;

std::shared_ptr<const LineOp<double>> dense_op(const Eigen::MatrixXd& M) {
  std::vector<double> a(static_cast<std::size_t>(M.size()));
  for (long i = 0; i < M.rows(); ++i)
    for (long j = 0; j < M.cols(); ++j) a[static_cast<std::size_t>(i * M.cols() + j)] = M(i, j);
  return std::make_shared<LineOp<double>>(LineOp<double>::dense(M.rows(), M.cols(), std::move(a)));
}

}  // namespace kron::linops
