#pragma once
// Structured linear maps (issue 15): dense, low-rank, block-diagonal, Monarch and butterfly, each
// a short list of the engine's block-dense LineOps applied to views of the batch (no transposes,
// no GEMM of its own), with forward, backward (input and parameter gradients), parameter and
// FLOP counts, and closed-form projections of dense matrices onto Monarch and low rank.
//
// Batches: `batch` samples of `n` channels at `points` points, points fastest (sample b's channel c
// at point p is x[(b n + c) points + p]). Vectors have points = 1; an FNO's channel mixing acts on
// the channel lines of a field (points = the grid or mode count) with the same map.
//
// Monarch (Dao et al. 2022, the reference code's version): nb blocks; R holds nb blocks of q x p
// (p = in / nb), L nb blocks of s x q (s = out / nb), q = min(p, s). Sample by sample
//   h[k q + i] = sum_j R_k[i, j] x[k p + j],   y[t nb + l] = sum_r L_l[t, r] h[r nb + l],
// i.e. R along the blocks of x, L along the other axis of h reshaped to q x nb: the reference's
// permutations are views, never data moves. n = m^2, nb = m gives the paper's P L P^T R.
//
// Butterfly: n = 2^L; factor k (k = 0 .. L-1, applied in that order) mixes the pairs (i, i + 2^k)
// of each group of 2^(k+1) points by its own 2 x 2 block: n / 2 blocks a factor.
#include <complex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kron/core/eigen.hpp"
#include "kron/core/error.hpp"
#include "kron/linops/line_op.hpp"
#include "kron/nn/array.hpp"
#include "kron/nn/parameter.hpp"

namespace kron::nn {

/// G blocks of m x n coefficients held as a Parameter (G = a structure's blocks x its point
/// groups: block b of point group g is number b pg + g), applied to lines through a block-dense
/// LineOp prepared for the lines' interleave (span) and refreshed when the values change.
template <class T>
class BlockFactor {
 public:
  BlockFactor(std::string name, long groups, long m, long n);
  Parameter<T> p;
  long groups, m, n;
  /// out = op(A) in, lines of (outer, length, inner) in contiguous slabs; line l uses block
  /// (l / span) % groups.
  void apply(const T* in, T* out, long outer, long inner, long span, linops::Trans t, bool accumulate = false);
  /// p's gradient (where it lives) += the gradient of a map out = A in from the same lines and
  /// out's gradient.
  void gradient(const T* in, const T* dout, long outer, long inner, long span);
  /// Where the lines given to apply and gradient live (the map's space; the parameter may stay on
  /// the host when frozen: its LineOp then uploads it once).
  core::MemorySpace space = core::MemorySpace::Host;
  /// Block g as a matrix.
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> block(long g) const;
  void set_block(long g, const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& B);

 private:
  const linops::LineOp<T>& op(long span);
  std::optional<linops::LineOp<T>> op_;
  long span_ = -1;
  std::uint64_t version_ = 0;
};

template <class T>
class StructuredMap {
 public:
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  virtual ~StructuredMap() = default;
  long in() const { return in_; }
  long out() const { return out_; }
  /// y = M x for every sample and point.
  virtual void forward(const T* x, T* y, long batch, long points = 1) = 0;
  /// dx = M^H dy (skipped when dx is null) and every parameter's grad += dL/dtheta (for complex T,
  /// dL/dRe + i dL/dIm), where x is the input of the last forward, given again.
  virtual void backward(const T* x, const T* dy, T* dx, long batch, long points = 1) = 0;
  /// The map's block factors; parameters() are theirs.
  virtual std::vector<BlockFactor<T>*> factors() = 0;
  std::vector<Parameter<T>*> parameters();
  long parameter_count();
  /// Moves the map to memory space `s`: its lines (inputs, outputs, scratch) live there from now
  /// on, and a trainable map's parameters too (take ParamRefs afterwards). A frozen map's stay on
  /// the host (each LineOp keeps its device copy).
  virtual void to(core::MemorySpace s);
  core::MemorySpace space() const { return space_; }
  /// Real floating-point operations of a forward multiply per sample and point (2 per real
  /// multiply-add; 8 per complex one).
  virtual double flops() const = 0;
  virtual std::string describe() const = 0;
  /// The out x in matrix of point group g (the map applied to the identity).
  Matrix matrix(long g = 0);
  /// Sets point group g's weights to the structure's nearest matrix to A (out x in) in the
  /// Frobenius norm, in closed form: dense copies A, low rank truncates its SVD, block-diagonal
  /// keeps its diagonal blocks, Monarch takes per-block truncated SVDs. False, leaving the
  /// weights alone, where no closed form exists (butterfly, sums).
  virtual bool project_group(long g, const Matrix& A) = 0;
  /// Point groups: the points of a sample split into this many runs of equal length, each with
  /// its own weights (an FNO's per-mode spectral weights); 1: every point shares them.
  long point_groups() const { return pg_; }
  /// A frozen map (trainable false) still applies and back-propagates to its input, but leaves
  /// its parameters' gradients alone (fixed transforms, e.g. an FNO's truncated DFTs).
  virtual void set_trainable(bool t) { trainable_ = t; }
  bool trainable() const { return trainable_; }

 protected:
  StructuredMap(long in, long out, long pg) : in_(in), out_(out), pg_(pg) {
    if (pg < 1) throw Error("internal: " + std::to_string(pg) + " point groups");
  }
  static double madd_flops() { return std::is_floating_point_v<T> ? 2.0 : 8.0; }
  /// The LineOps' span for `points` points: points / point_groups() (an error unless it divides).
  long span(long points) const;
  /// An error unless A is out x in and g a point group.
  void check_projection(long g, const Matrix& A) const;
  long in_, out_, pg_;
  bool trainable_ = true;
  core::MemorySpace space_ = core::MemorySpace::Host;
};

template <class T>
class DenseMap : public StructuredMap<T> {
 public:
  /// Uniform(+-1/sqrt(in)) entries (PyTorch's Linear).
  DenseMap(long in, long out, Rng& rng, long point_groups = 1);
  /// The given matrix.
  explicit DenseMap(const typename StructuredMap<T>::Matrix& A);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override { return {&w_}; }
  bool project_group(long g, const typename StructuredMap<T>::Matrix& A) override;
  double flops() const override { return this->madd_flops() * this->in_ * this->out_; }
  std::string describe() const override;

 private:
  BlockFactor<T> w_;
};

template <class T>
class LowRankMap : public StructuredMap<T> {
 public:
  /// M = U V, U out x r, V r x in.
  LowRankMap(long in, long out, long rank, Rng& rng, long point_groups = 1);
  /// The best rank-r approximation of A in the Frobenius norm (truncated SVD, singular values
  /// split evenly between the factors).
  static std::unique_ptr<LowRankMap> project(const typename StructuredMap<T>::Matrix& A, long rank);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override { return {&v_, &u_}; }
  bool project_group(long g, const typename StructuredMap<T>::Matrix& A) override;
  double flops() const override { return this->madd_flops() * r_ * (this->in_ + this->out_); }
  std::string describe() const override;
  long rank() const { return r_; }

 private:
  long r_;
  BlockFactor<T> v_, u_;
  Array<T> h_, dh_;
};

template <class T>
class BlockDiagonalMap : public StructuredMap<T> {
 public:
  /// nb blocks of (out / nb) x (in / nb); both divisible by nb.
  BlockDiagonalMap(long in, long out, long nb, Rng& rng, long point_groups = 1);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override { return {&b_}; }
  bool project_group(long g, const typename StructuredMap<T>::Matrix& A) override;
  double flops() const override { return this->madd_flops() * this->in_ * this->out_ / nb_; }
  std::string describe() const override;

 private:
  long nb_;
  BlockFactor<T> b_;
};

template <class T>
class MonarchMap : public StructuredMap<T> {
 public:
  /// nb blocks (in and out divisible by nb); R uniform(+-1/sqrt(p)), L uniform(+-1/sqrt(q)).
  MonarchMap(long in, long out, long nb, Rng& rng, long point_groups = 1);
  /// The Monarch matrix nearest to A in the Frobenius norm: M's entries split into nb^2
  /// independent blocks (output rows = l mod nb, input columns in block k), each the product of
  /// its own columns of L_l and rows of R_k, so each block's truncated SVD is optimal. Any shape
  /// and nb dividing both sides (rank 1 per block when nb = sqrt(n), the paper's case).
  static std::unique_ptr<MonarchMap> project(const typename StructuredMap<T>::Matrix& A, long nb);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override { return {&r_, &l_}; }
  bool project_group(long g, const typename StructuredMap<T>::Matrix& A) override;
  double flops() const override { return this->madd_flops() * nb_ * q_ * (p_ + s_); }
  std::string describe() const override;
  long blocks() const { return nb_; }
  BlockFactor<T>& right() { return r_; }
  BlockFactor<T>& left() { return l_; }

 private:
  long nb_, p_, s_, q_;
  BlockFactor<T> r_, l_;
  Array<T> h_, dh_;
};

template <class T>
class ButterflyMap : public StructuredMap<T> {
 public:
  /// n = 2^L points; each factor's blocks random rotations scaled by 3^(-1/(2L)) (the product has
  /// a dense layer's output variance).
  ButterflyMap(long n, Rng& rng, long point_groups = 1);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override;
  bool project_group(long, const typename StructuredMap<T>::Matrix&) override { return false; }
  double flops() const override { return this->madd_flops() * 2.0 * this->in_ * static_cast<double>(f_.size()); }
  std::string describe() const override;
  long levels() const { return static_cast<long>(f_.size()); }
  /// Factor k: n / 2 blocks of 2 x 2; block (g, j) of group g of 2^(k+1) points and pair j
  /// (j < 2^k) is number g 2^k + j.
  BlockFactor<T>& factor(long k) { return f_[static_cast<std::size_t>(k)]; }

 private:
  std::vector<BlockFactor<T>> f_;
  std::vector<Array<T>> z_;  // the inputs of factors 1 .. L-1 from the last forward
  Array<T> g_, prev_;        // backward's gradients
};

/// Flat block butterfly (Pixelated Butterfly, Chen et al. 2022): nb blocks a side (a power of
/// two; blocks of (out / nb) x (in / nb)); block (I, J) is free where I xor J is 0 or a power of
/// two and zero elsewhere: the union of a block butterfly's factors' patterns in one sparse
/// matrix, (1 + log2 nb) in out / nb parameters. Applied as terms: the diagonal blocks, then for
/// each stride 2^k the blocks (I, I xor 2^k) as a block-diagonal map on the input with the halves
/// of every group of 2^(k+1) blocks exchanged (one gather). Plus a low-rank term it is
/// Pixelfly's layer ("flat_butterfly:NB+low_rank:R").
template <class T>
class FlatButterflyMap : public StructuredMap<T> {
 public:
  /// Entries uniform(+-1/sqrt((1 + log2 nb) in / nb)): a dense layer's output variance.
  FlatButterflyMap(long in, long out, long nb, Rng& rng, long point_groups = 1);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override;
  /// The nearest matrix of the pattern: A's blocks on it, zero elsewhere.
  bool project_group(long g, const typename StructuredMap<T>::Matrix& A) override;
  double flops() const override { return this->madd_flops() * static_cast<double>(f_.size()) * static_cast<double>(this->in_ * this->out_ / nb_); }
  std::string describe() const override;
  void to(core::MemorySpace s) override;
  long blocks() const { return nb_; }
  /// Term 0: the diagonal blocks; term 1 + k: block I multiplies input block I xor 2^k.
  BlockFactor<T>& term(long t) { return f_[static_cast<std::size_t>(t)]; }
  long terms() const { return static_cast<long>(f_.size()); }

 private:
  // x with input blocks I and I xor 2^k exchanged, as doubles (complex values: two each).
  void swap_blocks(long k, const T* x, T* out, long batch, long points);
  long nb_;
  std::vector<BlockFactor<T>> f_;
  std::vector<Array<long>> idx_;  // per stride, for points_
  long points_ = -1;
  Array<T> xs_, t_, ts_;
};

/// M = A + B (e.g. a butterfly plus a low-rank term).
template <class T>
class SumMap : public StructuredMap<T> {
 public:
  SumMap(std::unique_ptr<StructuredMap<T>> a, std::unique_ptr<StructuredMap<T>> b);
  void forward(const T* x, T* y, long batch, long points) override;
  void backward(const T* x, const T* dy, T* dx, long batch, long points) override;
  std::vector<BlockFactor<T>*> factors() override;
  bool project_group(long, const typename StructuredMap<T>::Matrix&) override { return false; }
  double flops() const override { return a_->flops() + b_->flops() + 2.0 * this->out_; }
  std::string describe() const override { return a_->describe() + " + " + b_->describe(); }
  void set_trainable(bool t) override;
  void to(core::MemorySpace s) override;

 private:
  std::unique_ptr<StructuredMap<T>> a_, b_;
  Array<T> t_;
};

/// A map from a description: "dense", "low_rank:R", "block_diag:NB", "monarch:NB", "butterfly",
/// "flat_butterfly:NB", or a sum of them with '+' ("butterfly+low_rank:R",
/// "flat_butterfly:NB+low_rank:R"). Throws kron::Error naming what is wrong (unknown kind, shapes that the
/// structure does not allow).
template <class T>
std::unique_ptr<StructuredMap<T>> make_map(const std::string& spec, long in, long out, Rng& rng, long point_groups = 1);

/// The parameters (of T) a map of that description holds between in and out values, per point
/// group, from the description alone (nothing allocated: memory estimates before a model is built).
/// Throws as make_map for descriptions it does not know.
double structure_parameters(const std::string& spec, long in, long out);

extern template class BlockFactor<double>;
extern template class BlockFactor<std::complex<double>>;
extern template class BlockFactor<float>;
extern template class BlockFactor<std::complex<float>>;

}  // namespace kron::nn
