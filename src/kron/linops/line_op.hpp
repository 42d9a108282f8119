#pragma once
#include <complex>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/layout/fft_lines.hpp"
#include "kron/linops/line_view.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::linops {

/// Which map a line operator applies: the operator A (N), its transpose (T) or its conjugate
/// transpose (H). Every kind implements all three; adjoints are never stored as second operators.
enum class Trans { N, T, H };

/// The one prepared 1D operator of the engine: applies an m x n matrix A to every line of a
/// LineView (out lines of length m from in lines of length n; Trans T/H the other way round),
/// as one batched kernel. T = double or std::complex<double>; float and std::complex<float> for
/// the coefficient kinds (dense, block-dense, diagonal: single-precision training), whose real
/// and transform factories refuse with a clear error.
///
/// Kinds (a closed set; every kind implements every Trans):
///  - real(Operator1D): a sum of banded, compact (A^-1 B, periodic included) and dense terms with
///    row scales and real coefficients, square (derivatives, Laplacians, ADI factors); applied by
///    the fused line kernels (Thomas sweeps in registers, streamed contiguous lines); the
///    transposed terms (B^T, A^-T) are prepared when first asked for. On complex data the real
///    and imaginary parts run as twice as many real lines.
///  - dense(m, n, a): any m x n matrix with coefficients of type T (interpolation, eigenvectors,
///    GP factors), one GEMM per slab of lines.
///  - block_dense(G, m, n, a, span): G matrices; line l uses block (l / span) % G (Monarch factors,
///    per-mode FNO mixing, per-line GP blocks).
///  - diagonal(n, d, G, span): out_i = d_(g, i) in_i, g = (l / span) % G (per point, or per point
///    and line group).
///  - transform(kind, n): FFTW's sine, cosine and halfcomplex real transforms (unnormalised).
///
/// apply() takes scratch from a caller-owned workspace (workspace_bytes(lines) says how much;
/// without one the operator keeps its own, and is then not to be shared between threads).
template <class T>
class LineOp {
 public:
  enum class Kind { Real, Dense, BlockDense, Diagonal, Transform };
  /// Transform kinds: DST-I (RODFT00), DCT-II (REDFT10), DCT-III (REDFT01), real FFT to
  /// halfcomplex order (R2HC) and back (HC2R).
  enum class Transform { DST1, DCT2, DCT3, R2HC, HC2R };

  LineOp();
  ~LineOp();
  LineOp(LineOp&&) noexcept;
  LineOp& operator=(LineOp&&) noexcept;

  static LineOp real(const Operator1D& op);
  /// Row-major m x n coefficients (a[i*n + j] = A_ij).
  static LineOp dense(long m, long n, std::vector<T> a);
  /// G row-major m x n blocks one after the other; line l uses block (l / span) % G.
  static LineOp block_dense(long groups, long m, long n, std::vector<T> a, long span);
  /// d[g*n + i] for g < G; line l uses row g = (l / span) % G.
  static LineOp diagonal(long n, std::vector<T> d, long groups = 1, long span = 1);
  /// FFTW panel plans with `effort` (estimate: measured ones from the wisdom file when it has them).
  static LineOp transform(Transform kind, long n, layout::FftEffort effort = layout::FftEffort::Estimate);

  Kind kind() const;
  /// Which transform a Transform-kind operator is (DST1 for the other kinds).
  Transform transform_kind() const;
  long rows() const;  ///< m: the output length of Trans::N
  long cols() const;  ///< n: the input length of Trans::N
  std::string describe() const;
  /// Whether apply() may be given the same lines as input and output (transforms, diagonals).
  bool in_place() const;
  /// Scratch apply() needs for `lines` lines (any Trans), in bytes.
  std::size_t workspace_bytes(long lines) const;
  /// Bytes of the operator's own coefficients and factorizations.
  std::size_t bytes() const;

  /// out = op(A) in, or out += op(A) in (accumulate). in.n = cols() and out.n = rows() for N (the
  /// other way round for T and H); same outer and inner; in and out must not overlap unless
  /// in_place() and they are the same lines.
  void apply(const LineView<const T>& in, const LineView<T>& out, Trans t = Trans::N, bool accumulate = false,
             core::Workspace* work = nullptr) const;

  /// Dense, BlockDense, Diagonal: the coefficients in the factory's layout (G row-major blocks, or
  /// G diagonals), and their replacement by as many values (training updates them in place of a
  /// new operator; a prepared device copy is rebuilt on the next device apply).
  const std::vector<T>& coefficients() const;
  void set_coefficients(const T* a);
  /// The same from device memory (a device-resident parameter after its optimiser step): the
  /// device executor's copy is replaced on the stream, no host round trip. The host copy is then
  /// stale: host applies refuse until set_coefficients gives host values again.
  void set_device_coefficients(const T* a);
  /// The gradient of a real loss in the coefficients, for a map applied as out = op(A) in: given
  /// the lines `in` and the loss' gradient `dout` on the out lines (for complex T, dL/dRe + i
  /// dL/dIm), grad (+)= dL/dA in the coefficients' layout (G m n values, or G n for a diagonal):
  /// sum over lines of dout in^H (N), conj(in) dout^T (T), in dout^H (H), per line group. Dense,
  /// BlockDense and Diagonal kinds; host lines and a host grad, or device lines and a device grad
  /// (summed in a fixed order there too).
  void coefficient_gradient(const LineView<const T>& in, const LineView<const T>& dout, T* grad, Trans t = Trans::N,
                            bool accumulate = true) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class LineOp<double>;
extern template class LineOp<std::complex<double>>;
extern template class LineOp<float>;
extern template class LineOp<std::complex<float>>;

/// A shared dense LineOp of a real matrix (any m x n: lifts, selections, eigenvectors).
std::shared_ptr<const LineOp<double>> dense_op(const Eigen::MatrixXd& M);

}  // namespace kron::linops
