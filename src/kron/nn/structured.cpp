#include "kron/nn/structured.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

using linops::LineOp;
using linops::LineView;
using linops::Trans;

namespace {
template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
// The closed-form projections' SVDs run in double precision whatever T is: a projection runs once,
// at set-up, and fp32 factors are the fp64 ones rounded once. (Eigen's vectorised complex<float>
// kernels also load a complex<float> through a double broadcast, a misaligned load to UBSan.)
template <class T>
using Wide = std::conditional_t<std::is_same_v<T, real_of_t<T>>, double, std::complex<double>>;
template <class T>
Eigen::BDCSVD<Mat<Wide<T>>> thin_svd(const Mat<T>& A) {
  return Eigen::BDCSVD<Mat<Wide<T>>>(A.template cast<Wide<T>>(), Eigen::ComputeThinU | Eigen::ComputeThinV);
}

bool power_of_two(long n) { return n >= 2 && (n & (n - 1)) == 0; }

std::string shape(long in, long out) { return std::to_string(in) + " -> " + std::to_string(out); }

}  // namespace

// ---- BlockFactor ------------------------------------------------------------------------------

template <class T>
BlockFactor<T>::BlockFactor(std::string name, long g, long rows, long cols) : p(std::move(name), g * rows * cols), groups(g), m(rows), n(cols) {}

template <class T>
const LineOp<T>& BlockFactor<T>::op(long span) {
  if (op_ && span_ == span && version_ == p.version) return *op_;
  if (p.on_device()) {
    // The live values are on the device: the operator's device copy is refreshed from them.
    if (!op_ || span_ != span) op_ = LineOp<T>::block_dense(groups, m, n, p.value, span);
    op_->set_device_coefficients(p.dvalue.data());
  } else if (op_ && span_ == span) {
    op_->set_coefficients(p.value.data());
  } else {
    op_ = LineOp<T>::block_dense(groups, m, n, p.value, span);
  }
  span_ = span;
  version_ = p.version;
  return *op_;
}

template <class T>
void BlockFactor<T>::apply(const T* in, T* out, long outer, long inner, long span, Trans t, bool accumulate) {
  const long nin = t == Trans::N ? n : m, nout = t == Trans::N ? m : n;
  const LineView<const T> vi{in, outer, nin, inner, nin * inner, space};
  const LineView<T> vo{out, outer, nout, inner, nout * inner, space};
  op(span).apply(vi, vo, t, accumulate);
}

template <class T>
void BlockFactor<T>::gradient(const T* in, const T* dout, long outer, long inner, long span) {
  const LineView<const T> vi{in, outer, n, inner, n * inner, space};
  const LineView<const T> vo{dout, outer, m, inner, m * inner, space};
  if ((space == core::MemorySpace::Device) != p.on_device())
    throw Error("internal: the gradient of " + p.name + " asked for with lines and parameter in different memory spaces");
  op(span).coefficient_gradient(vi, vo, p.grads(), Trans::N, true);
}

template <class T>
Mat<T> BlockFactor<T>::block(long g) const {
  std::vector<T> v(static_cast<std::size_t>(m * n));
  if (p.on_device()) core::copy_to_host(v.data(), p.dvalue.data() + g * m * n, v.size() * sizeof(T));
  else std::copy_n(p.value.begin() + g * m * n, m * n, v.begin());
  Mat<T> B(m, n);
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) B(i, j) = v[static_cast<std::size_t>(i * n + j)];
  return B;
}

template <class T>
void BlockFactor<T>::set_block(long g, const Mat<T>& B) {
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) p.value[static_cast<std::size_t>((g * m + i) * n + j)] = B(i, j);
  if (p.on_device()) core::copy_to_device(p.dvalue.data() + g * m * n, p.value.data() + g * m * n, static_cast<std::size_t>(m * n) * sizeof(T));
  p.changed();
}

// ---- StructuredMap ----------------------------------------------------------------------------

template <class T>
std::vector<Parameter<T>*> StructuredMap<T>::parameters() {
  std::vector<Parameter<T>*> r;
  for (auto* f : factors()) r.push_back(&f->p);
  return r;
}

template <class T>
void StructuredMap<T>::to(core::MemorySpace s) {
  space_ = s;
  for (auto* f : factors()) {
    f->space = s;
    if (s == core::MemorySpace::Host) f->p.to_host();
    else if (trainable_) f->p.to_device();
  }
}

template <class T>
long StructuredMap<T>::parameter_count() {
  long c = 0;
  for (auto* q : parameters()) c += q->size();
  return c;
}

template <class T>
Mat<T> StructuredMap<T>::matrix(long g) {
  if (g < 0 || g >= pg_) throw Error("internal: point group " + std::to_string(g) + " of " + std::to_string(pg_));
  // in samples of pg_ points, sample j the unit vector e_j at point g.
  std::vector<T> x(static_cast<std::size_t>(in_ * in_ * pg_), T(0));
  for (long j = 0; j < in_; ++j) x[static_cast<std::size_t>((j * in_ + j) * pg_ + g)] = T(1);
  Array<T> xs(space_), ys(space_);
  xs.assign(x.data(), x.size());
  ys.resize(static_cast<std::size_t>(in_ * out_ * pg_));
  forward(xs.data(), ys.data(), in_, pg_);
  const std::vector<T> y = ys.to_host();
  Mat<T> M(out_, in_);
  for (long j = 0; j < in_; ++j)
    for (long i = 0; i < out_; ++i) M(i, j) = y[static_cast<std::size_t>((j * out_ + i) * pg_ + g)];
  return M;
}

template <class T>
void StructuredMap<T>::check_projection(long g, const Matrix& A) const {
  if (g < 0 || g >= pg_ || A.rows() != out_ || A.cols() != in_)
    throw Error(describe() + ": no projection of a " + std::to_string(A.rows()) + " x " + std::to_string(A.cols()) + " matrix onto point group " +
                std::to_string(g) + " of " + std::to_string(pg_));
}

template <class T>
long StructuredMap<T>::span(long points) const {
  if (points < 1 || points % pg_ != 0)
    throw Error(describe() + ": " + std::to_string(points) + " points do not split into the layer's " + std::to_string(pg_) + " point groups");
  return points / pg_;
}

// ---- dense ------------------------------------------------------------------------------------

template <class T>
DenseMap<T>::DenseMap(long in, long out, Rng& rng, long pg) : StructuredMap<T>(in, out, pg), w_("weight", pg, out, in) {
  if (in < 1 || out < 1) throw Error("dense layer " + shape(in, out) + ": sizes must be positive");
  fill_uniform(w_.p.value, 1.0 / std::sqrt(static_cast<double>(in)), rng);
  w_.p.changed();
}

template <class T>
DenseMap<T>::DenseMap(const typename StructuredMap<T>::Matrix& A) : StructuredMap<T>(A.cols(), A.rows(), 1), w_("weight", 1, A.rows(), A.cols()) {
  w_.set_block(0, A);
}

template <class T>
bool DenseMap<T>::project_group(long g, const typename StructuredMap<T>::Matrix& A) {
  this->check_projection(g, A);
  w_.set_block(g, A);
  return true;
}

template <class T>
void DenseMap<T>::forward(const T* x, T* y, long batch, long points) {
  w_.apply(x, y, batch, points, this->span(points), Trans::N);
}

template <class T>
void DenseMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  const long sp = this->span(points);
  if (this->trainable_) w_.gradient(x, dy, batch, points, sp);
  if (dx) w_.apply(dy, dx, batch, points, sp, Trans::H);
}

template <class T>
std::string DenseMap<T>::describe() const {
  return "dense " + shape(this->in_, this->out_);
}

// ---- low rank ---------------------------------------------------------------------------------

template <class T>
LowRankMap<T>::LowRankMap(long in, long out, long rank, Rng& rng, long pg)
    : StructuredMap<T>(in, out, pg), r_(rank), v_("V", pg, rank, in), u_("U", pg, out, rank) {
  if (rank < 1 || rank > std::min(in, out))
    throw Error("low-rank layer " + shape(in, out) + ": rank " + std::to_string(rank) + " outside 1 .. " + std::to_string(std::min(in, out)));
  fill_uniform(v_.p.value, 1.0 / std::sqrt(static_cast<double>(in)), rng);
  fill_uniform(u_.p.value, 1.0 / std::sqrt(static_cast<double>(rank)), rng);
  v_.p.changed();
  u_.p.changed();
}

template <class T>
std::unique_ptr<LowRankMap<T>> LowRankMap<T>::project(const typename StructuredMap<T>::Matrix& A, long rank) {
  Rng rng(0);
  auto r = std::make_unique<LowRankMap<T>>(A.cols(), A.rows(), rank, rng);
  r->project_group(0, A);
  return r;
}

template <class T>
bool LowRankMap<T>::project_group(long g, const typename StructuredMap<T>::Matrix& A) {
  this->check_projection(g, A);
  using W = Wide<T>;
  const auto svd = thin_svd<T>(A);
  const auto s = svd.singularValues().cwiseSqrt().eval();
  u_.set_block(g, Mat<T>((svd.matrixU().leftCols(r_) * s.head(r_).template cast<W>().asDiagonal()).template cast<T>()));
  v_.set_block(g, Mat<T>((s.head(r_).template cast<W>().asDiagonal() * svd.matrixV().leftCols(r_).adjoint()).template cast<T>()));
  return true;
}

template <class T>
void LowRankMap<T>::forward(const T* x, T* y, long batch, long points) {
  h_.set_space(this->space_);
  h_.resize(static_cast<std::size_t>(batch * r_ * points));
  const long sp = this->span(points);
  v_.apply(x, h_.data(), batch, points, sp, Trans::N);
  u_.apply(h_.data(), y, batch, points, sp, Trans::N);
}

template <class T>
void LowRankMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  dh_.set_space(this->space_);
  dh_.resize(static_cast<std::size_t>(batch * r_ * points));
  const long sp = this->span(points);
  if (this->trainable_) u_.gradient(h_.data(), dy, batch, points, sp);
  u_.apply(dy, dh_.data(), batch, points, sp, Trans::H);
  if (this->trainable_) v_.gradient(x, dh_.data(), batch, points, sp);
  if (dx) v_.apply(dh_.data(), dx, batch, points, sp, Trans::H);
}

template <class T>
std::string LowRankMap<T>::describe() const {
  return "low-rank " + shape(this->in_, this->out_) + ", rank " + std::to_string(r_);
}

// ---- block diagonal ---------------------------------------------------------------------------

namespace {
void check_blocks(const char* what, long in, long out, long nb) {
  if (nb < 1 || in % nb != 0 || out % nb != 0)
    throw Error(std::string(what) + " layer " + shape(in, out) + ": " + std::to_string(nb) + " blocks do not divide both sizes", {},
                "choose a block count that divides the layer's input and output sizes");
}
}  // namespace

template <class T>
BlockDiagonalMap<T>::BlockDiagonalMap(long in, long out, long nb, Rng& rng, long pg)
    : StructuredMap<T>(in, out, pg), nb_(nb), b_("blocks", nb * pg, std::max(1L, out / std::max(1L, nb)), std::max(1L, in / std::max(1L, nb))) {
  check_blocks("block-diagonal", in, out, nb);
  fill_uniform(b_.p.value, 1.0 / std::sqrt(static_cast<double>(in / nb)), rng);
  b_.p.changed();
}

template <class T>
bool BlockDiagonalMap<T>::project_group(long g, const typename StructuredMap<T>::Matrix& A) {
  this->check_projection(g, A);
  const long s = this->out_ / nb_, p = this->in_ / nb_;
  for (long b = 0; b < nb_; ++b) b_.set_block(b * this->pg_ + g, A.block(b * s, b * p, s, p));
  return true;
}

template <class T>
void BlockDiagonalMap<T>::forward(const T* x, T* y, long batch, long points) {
  b_.apply(x, y, batch * nb_, points, this->span(points), Trans::N);
}

template <class T>
void BlockDiagonalMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  const long sp = this->span(points);
  if (this->trainable_) b_.gradient(x, dy, batch * nb_, points, sp);
  if (dx) b_.apply(dy, dx, batch * nb_, points, sp, Trans::H);
}

template <class T>
std::string BlockDiagonalMap<T>::describe() const {
  return "block-diagonal " + shape(this->in_, this->out_) + ", " + std::to_string(nb_) + " blocks";
}

// ---- Monarch ----------------------------------------------------------------------------------

template <class T>
MonarchMap<T>::MonarchMap(long in, long out, long nb, Rng& rng, long pg)
    : StructuredMap<T>(in, out, pg),
      nb_(nb),
      p_(in / std::max(1L, nb)),
      s_(out / std::max(1L, nb)),
      q_(std::min(p_, s_)),
      r_("R", nb * pg, std::max(1L, q_), std::max(1L, p_)),
      l_("L", nb * pg, std::max(1L, s_), std::max(1L, q_)) {
  check_blocks("Monarch", in, out, nb);
  fill_uniform(r_.p.value, 1.0 / std::sqrt(static_cast<double>(p_)), rng);
  fill_uniform(l_.p.value, 1.0 / std::sqrt(static_cast<double>(q_)), rng);
  r_.p.changed();
  l_.p.changed();
}

template <class T>
std::unique_ptr<MonarchMap<T>> MonarchMap<T>::project(const typename StructuredMap<T>::Matrix& A, long nb) {
  Rng rng(0);
  auto M = std::make_unique<MonarchMap<T>>(A.cols(), A.rows(), nb, rng);
  M->project_group(0, A);
  return M;
}

template <class T>
bool MonarchMap<T>::project_group(long g, const typename StructuredMap<T>::Matrix& A) {
  this->check_projection(g, A);
  const long nb = nb_, p = p_, s = s_, q = q_;
  std::vector<Mat<T>> R(static_cast<std::size_t>(nb), Mat<T>::Zero(q, p)), L(static_cast<std::size_t>(nb), Mat<T>::Zero(s, q));
  for (long l = 0; l < nb; ++l)
    for (long k = 0; k < nb; ++k) {
      // The intermediate points t of block k that L_l reads: t = r nb + l.
      std::vector<long> ts;
      for (long t = k * q; t < (k + 1) * q; ++t)
        if (t % nb == l) ts.push_back(t);
      if (ts.empty()) continue;
      Mat<T> B(s, p);
      for (long i = 0; i < s; ++i)
        for (long j = 0; j < p; ++j) B(i, j) = A(i * nb + l, k * p + j);
      const auto svd = thin_svd<T>(B);
      const long rank = std::min<long>(static_cast<long>(ts.size()), svd.singularValues().size());
      for (long c = 0; c < rank; ++c) {
        const double sq = std::sqrt(svd.singularValues()[c]);
        const long t = ts[static_cast<std::size_t>(c)];
        using W = Wide<T>;
        L[static_cast<std::size_t>(l)].col(t / nb) = (svd.matrixU().col(c) * W(sq)).template cast<T>();
        R[static_cast<std::size_t>(k)].row(t - k * q) = (svd.matrixV().col(c) * W(sq)).adjoint().template cast<T>();
      }
    }
  for (long b = 0; b < nb; ++b) {
    r_.set_block(b * this->pg_ + g, R[static_cast<std::size_t>(b)]);
    l_.set_block(b * this->pg_ + g, L[static_cast<std::size_t>(b)]);
  }
  return true;
}

template <class T>
void MonarchMap<T>::forward(const T* x, T* y, long batch, long points) {
  h_.set_space(this->space_);
  h_.resize(static_cast<std::size_t>(batch * nb_ * q_ * points));
  const long sp = this->span(points);
  r_.apply(x, h_.data(), batch * nb_, points, sp, Trans::N);
  l_.apply(h_.data(), y, batch, nb_ * points, sp, Trans::N);
}

template <class T>
void MonarchMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  dh_.set_space(this->space_);
  dh_.resize(h_.size());
  const long sp = this->span(points);
  if (this->trainable_) l_.gradient(h_.data(), dy, batch, nb_ * points, sp);
  l_.apply(dy, dh_.data(), batch, nb_ * points, sp, Trans::H);
  if (this->trainable_) r_.gradient(x, dh_.data(), batch * nb_, points, sp);
  if (dx) r_.apply(dh_.data(), dx, batch * nb_, points, sp, Trans::H);
}

template <class T>
std::string MonarchMap<T>::describe() const {
  return "Monarch " + shape(this->in_, this->out_) + ", " + std::to_string(nb_) + " blocks";
}

// ---- butterfly --------------------------------------------------------------------------------

template <class T>
ButterflyMap<T>::ButterflyMap(long n, Rng& rng, long pg) : StructuredMap<T>(n, n, pg) {
  if (!power_of_two(n))
    throw Error("butterfly layer " + shape(n, n) + ": the size must be a power of two (at least 2)", {},
                "pad the features to a power of two, or use a Monarch layer");
  long levels = 0;
  while ((1L << levels) < n) ++levels;
  const double scale = std::pow(3.0, -0.5 / static_cast<double>(levels));
  for (long k = 0; k < levels; ++k) {
    f_.emplace_back("factor" + std::to_string(k), n / 2 * pg, 2, 2);
    auto& v = f_.back().p.value;
    for (long g = 0; g < n / 2 * pg; ++g) {
      const double a = rng.uniform(0.0, 2.0 * 3.14159265358979323846), c = scale * std::cos(a), s = scale * std::sin(a);
      v[static_cast<std::size_t>(4 * g)] = T(c);
      v[static_cast<std::size_t>(4 * g + 1)] = T(-s);
      v[static_cast<std::size_t>(4 * g + 2)] = T(s);
      v[static_cast<std::size_t>(4 * g + 3)] = T(c);
    }
    f_.back().p.changed();
  }
}

template <class T>
std::vector<BlockFactor<T>*> ButterflyMap<T>::factors() {
  std::vector<BlockFactor<T>*> r;
  for (auto& f : f_) r.push_back(&f);
  return r;
}

template <class T>
void ButterflyMap<T>::forward(const T* x, T* y, long batch, long points) {
  const long n = this->in_, L = levels(), sp = this->span(points);
  z_.resize(static_cast<std::size_t>(L));
  const T* src = x;
  for (long k = 0; k < L; ++k) {
    const long h = 1L << k;
    T* dst = y;
    if (k + 1 < L) {
      z_[static_cast<std::size_t>(k + 1)].set_space(this->space_);
      z_[static_cast<std::size_t>(k + 1)].resize(static_cast<std::size_t>(batch * n * points));
      dst = z_[static_cast<std::size_t>(k + 1)].data();
    }
    f_[static_cast<std::size_t>(k)].apply(src, dst, batch * n / (2 * h), h * points, sp, Trans::N);
    src = dst;
  }
}

template <class T>
void ButterflyMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  const long n = this->in_, L = levels(), sp = this->span(points);
  // The gradient at factor k's output: dy itself for the last factor, then g_ and prev_ in turn.
  const std::size_t count = static_cast<std::size_t>(batch * n * points);
  for (auto* a : {&g_, &prev_}) {
    a->set_space(this->space_);
    a->resize(count);
  }
  const T* g = dy;
  T* next = g_.data();
  T* spare = prev_.data();
  for (long k = L - 1; k >= 0; --k) {
    const long h = 1L << k;
    const T* zk = k == 0 ? x : z_[static_cast<std::size_t>(k)].data();
    auto& f = f_[static_cast<std::size_t>(k)];
    if (this->trainable_) f.gradient(zk, g, batch * n / (2 * h), h * points, sp);
    if (k == 0 && !dx) break;
    f.apply(g, k == 0 ? dx : next, batch * n / (2 * h), h * points, sp, Trans::H);
    g = next;
    std::swap(next, spare);
  }
}

template <class T>
std::string ButterflyMap<T>::describe() const {
  return "butterfly " + shape(this->in_, this->out_) + ", " + std::to_string(f_.size()) + " levels";
}

// ---- flat block butterfly ---------------------------------------------------------------------

template <class T>
FlatButterflyMap<T>::FlatButterflyMap(long in, long out, long nb, Rng& rng, long pg) : StructuredMap<T>(in, out, pg), nb_(nb) {
  check_blocks("flat block butterfly", in, out, nb);
  if (nb != 1 && !power_of_two(nb))
    throw Error("flat block butterfly layer " + shape(in, out) + ": " + std::to_string(nb) + " blocks is not a power of two", {},
                "choose 1, 2, 4, 8, ... blocks that divide both sizes");
  long strides = 0;
  while ((1L << strides) < nb) ++strides;
  const long s = out / nb, p = in / nb;
  const double bound = 1.0 / std::sqrt(static_cast<double>((1 + strides) * p));
  for (long t = 0; t <= strides; ++t) {
    f_.emplace_back(t == 0 ? std::string("diagonal") : "stride" + std::to_string(1L << (t - 1)), nb * pg, s, p);
    fill_uniform(f_.back().p.value, bound, rng);
    f_.back().p.changed();
  }
  idx_.resize(static_cast<std::size_t>(strides));
}

template <class T>
std::vector<BlockFactor<T>*> FlatButterflyMap<T>::factors() {
  std::vector<BlockFactor<T>*> r;
  for (auto& f : f_) r.push_back(&f);
  return r;
}

template <class T>
void FlatButterflyMap<T>::to(core::MemorySpace s) {
  StructuredMap<T>::to(s);
  points_ = -1;  // the exchange indices are rebuilt in the new space
}

template <class T>
void FlatButterflyMap<T>::swap_blocks(long k, const T* x, T* out, long batch, long points) {
  using R = typename Eigen::NumTraits<T>::Real;  // complex values are gathered as pairs of reals
  constexpr long w = sizeof(T) / sizeof(R);
  const long n = this->in_ * points * w, width = this->in_ / nb_ * points * w;  // one sample; one block
  if (points != points_) {
    for (std::size_t j = 0; j < idx_.size(); ++j) {
      std::vector<long> idx(static_cast<std::size_t>(n));
      for (long i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = ((i / width) ^ (1L << j)) * width + i % width;
      idx_[j].set_space(this->space_);
      idx_[j].assign(idx.data(), idx.size());
    }
    points_ = points;
  }
  ops::gather(this->space_, reinterpret_cast<const R*>(x), reinterpret_cast<R*>(out), idx_[static_cast<std::size_t>(k)].data(), batch, n, n);
}

template <class T>
void FlatButterflyMap<T>::forward(const T* x, T* y, long batch, long points) {
  const long sp = this->span(points);
  f_[0].apply(x, y, batch * nb_, points, sp, Trans::N);
  xs_.set_space(this->space_);
  xs_.resize(static_cast<std::size_t>(batch * this->in_ * points));
  for (long t = 1; t < terms(); ++t) {
    swap_blocks(t - 1, x, xs_.data(), batch, points);
    f_[static_cast<std::size_t>(t)].apply(xs_.data(), y, batch * nb_, points, sp, Trans::N, true);
  }
}

template <class T>
void FlatButterflyMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  const long sp = this->span(points);
  const std::size_t nin = static_cast<std::size_t>(batch * this->in_ * points);
  if (this->trainable_) f_[0].gradient(x, dy, batch * nb_, points, sp);
  if (dx) f_[0].apply(dy, dx, batch * nb_, points, sp, Trans::H);
  for (auto* a : {&xs_, &t_, &ts_}) {
    a->set_space(this->space_);
    a->resize(nin);
  }
  for (long t = 1; t < terms(); ++t) {
    auto& f = f_[static_cast<std::size_t>(t)];
    if (this->trainable_) {
      swap_blocks(t - 1, x, xs_.data(), batch, points);
      f.gradient(xs_.data(), dy, batch * nb_, points, sp);
    }
    if (!dx) continue;
    // The exchange is its own inverse: dx += P_k (W_k^H dy).
    f.apply(dy, t_.data(), batch * nb_, points, sp, Trans::H);
    swap_blocks(t - 1, t_.data(), ts_.data(), batch, points);
    ops::add(this->space_, ts_.data(), dx, static_cast<long>(nin));
  }
}

template <class T>
bool FlatButterflyMap<T>::project_group(long g, const typename StructuredMap<T>::Matrix& A) {
  this->check_projection(g, A);
  const long s = this->out_ / nb_, p = this->in_ / nb_;
  for (long I = 0; I < nb_; ++I) {
    f_[0].set_block(I * this->pg_ + g, A.block(I * s, I * p, s, p));
    for (long t = 1; t < terms(); ++t) f_[static_cast<std::size_t>(t)].set_block(I * this->pg_ + g, A.block(I * s, (I ^ (1L << (t - 1))) * p, s, p));
  }
  return true;
}

template <class T>
std::string FlatButterflyMap<T>::describe() const {
  return "flat block butterfly " + shape(this->in_, this->out_) + ", " + std::to_string(nb_) + " blocks a side, " + std::to_string(f_.size()) + " terms";
}

// ---- sum --------------------------------------------------------------------------------------

template <class T>
SumMap<T>::SumMap(std::unique_ptr<StructuredMap<T>> a, std::unique_ptr<StructuredMap<T>> b)
    : StructuredMap<T>(a->in(), a->out(), a->point_groups()), a_(std::move(a)), b_(std::move(b)) {
  if (b_->in() != a_->in() || b_->out() != a_->out() || b_->point_groups() != a_->point_groups())
    throw Error("sum of layers: " + a_->describe() + " and " + b_->describe() + " have different shapes");
}

template <class T>
void SumMap<T>::set_trainable(bool t) {
  StructuredMap<T>::set_trainable(t);
  a_->set_trainable(t);
  b_->set_trainable(t);
}

template <class T>
void SumMap<T>::to(core::MemorySpace s) {
  this->space_ = s;
  a_->to(s);
  b_->to(s);
}

template <class T>
std::vector<BlockFactor<T>*> SumMap<T>::factors() {
  auto r = a_->factors();
  for (auto* q : b_->factors()) r.push_back(q);
  return r;
}

template <class T>
void SumMap<T>::forward(const T* x, T* y, long batch, long points) {
  a_->forward(x, y, batch, points);
  t_.set_space(this->space_);
  t_.resize(static_cast<std::size_t>(batch * this->out_ * points));
  b_->forward(x, t_.data(), batch, points);
  ops::add(this->space_, t_.data(), y, static_cast<long>(t_.size()));
}

template <class T>
void SumMap<T>::backward(const T* x, const T* dy, T* dx, long batch, long points) {
  a_->backward(x, dy, dx, batch, points);
  if (!dx) return b_->backward(x, dy, nullptr, batch, points);
  t_.set_space(this->space_);
  t_.resize(static_cast<std::size_t>(batch * this->in_ * points));
  b_->backward(x, dy, t_.data(), batch, points);
  ops::add(this->space_, t_.data(), dx, static_cast<long>(t_.size()));
}

// ---- from a description -----------------------------------------------------------------------

namespace {
// A structure description split into its kind and its argument (0: none), checked.
struct Spec {
  std::string kind;
  long arg = 0;
};
Spec parse(const std::string& spec) {
  const auto colon = spec.find(':');
  Spec r{spec.substr(0, colon), 0};
  if (colon != std::string::npos) {
    const std::string a = spec.substr(colon + 1);
    std::size_t used = 0;
    try {
      r.arg = std::stol(a, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != a.size() || r.arg < 1) throw Error("layer '" + spec + "': '" + a + "' is not a positive whole number");
  }
  const bool known = r.kind == "dense" || r.kind == "low_rank" || r.kind == "block_diag" || r.kind == "monarch" || r.kind == "butterfly" ||
                     r.kind == "flat_butterfly";
  if (!known)
    throw Error("layer '" + spec + "': unknown structure '" + r.kind + "'", {},
                "one of dense, low_rank:R, block_diag:NB, monarch:NB, butterfly, flat_butterfly:NB, or a sum of them joined by '+', "
                "e.g. butterfly+low_rank:R");
  const bool has = r.kind != "dense" && r.kind != "butterfly";
  if (has != (colon != std::string::npos))
    throw Error("layer '" + spec + "': " + (has ? "needs a size after ':', e.g. '" + r.kind + ":4'" : "'" + r.kind + "' takes no ':' argument"));
  return r;
}
}  // namespace

namespace {
// Where a sum's '+' splits a description (npos: none); an error when a side is empty.
std::size_t plus_of(const std::string& spec) {
  const auto plus = spec.find('+');
  if (plus != std::string::npos && (plus == 0 || plus + 1 == spec.size()))
    throw Error("layer '" + spec + "': a '+' needs a structure on each side, e.g. 'butterfly+low_rank:4'");
  return plus;
}
}  // namespace

double structure_parameters(const std::string& spec, long in, long out) {
  if (const auto plus = plus_of(spec); plus != std::string::npos)
    return structure_parameters(spec.substr(0, plus), in, out) + structure_parameters(spec.substr(plus + 1), in, out);
  const Spec s = parse(spec);
  const double i = double(in), o = double(out), a = double(s.arg);
  if (s.kind == "dense") return i * o;
  if (s.kind == "low_rank") return a * (i + o);
  if (s.kind == "block_diag") return i * o / a;
  if (s.kind == "monarch") return a * std::min(i / a, o / a) * (i / a + o / a);
  if (s.kind == "flat_butterfly") return (1.0 + std::round(std::log2(a))) * i * o / a;
  return 2.0 * i * std::ceil(std::log2(std::max(2.0, i)));  // butterfly
}

template <class T>
std::unique_ptr<StructuredMap<T>> make_map(const std::string& spec, long in, long out, Rng& rng, long pg) {
  if (const auto plus = plus_of(spec); plus != std::string::npos) {
    auto a = make_map<T>(spec.substr(0, plus), in, out, rng, pg);
    return std::make_unique<SumMap<T>>(std::move(a), make_map<T>(spec.substr(plus + 1), in, out, rng, pg));
  }
  const Spec s = parse(spec);
  if (s.kind == "dense") return std::make_unique<DenseMap<T>>(in, out, rng, pg);
  if (s.kind == "low_rank") return std::make_unique<LowRankMap<T>>(in, out, s.arg, rng, pg);
  if (s.kind == "block_diag") return std::make_unique<BlockDiagonalMap<T>>(in, out, s.arg, rng, pg);
  if (s.kind == "monarch") return std::make_unique<MonarchMap<T>>(in, out, s.arg, rng, pg);
  if (s.kind == "flat_butterfly") return std::make_unique<FlatButterflyMap<T>>(in, out, s.arg, rng, pg);
  if (in != out) throw Error("layer '" + spec + "' " + shape(in, out) + ": a butterfly layer is square", {}, "use a Monarch layer between different sizes");
  return std::make_unique<ButterflyMap<T>>(in, rng, pg);
}

#define KRON_NN_INSTANTIATE(T)                                                                                   \
  template class BlockFactor<T>;                                                                                 \
  template class StructuredMap<T>;                                                                               \
  template class DenseMap<T>;                                                                                    \
  template class LowRankMap<T>;                                                                                  \
  template class BlockDiagonalMap<T>;                                                                            \
  template class MonarchMap<T>;                                                                                  \
  template class ButterflyMap<T>;                                                                                \
  template class FlatButterflyMap<T>;                                                                            \
  template class SumMap<T>;                                                                                      \
  template std::unique_ptr<StructuredMap<T>> make_map<T>(const std::string&, long, long, Rng&, long);
KRON_NN_INSTANTIATE(double)
KRON_NN_INSTANTIATE(std::complex<double>)
KRON_NN_INSTANTIATE(float)
KRON_NN_INSTANTIATE(std::complex<float>)

}  // namespace kron::nn
