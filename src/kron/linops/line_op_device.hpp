#pragma once
// The CUDA executor of LineOp (CUDA-free declarations; line_op_cuda.cu implements them, a CPU
// build's line_op_device_none.cpp answers with a clear error). LineOp builds a Plan from its
// host data (factorizations done on the host, once) and hands device lines to the executor.
#include <complex>
#include <memory>
#include <vector>

namespace kron::linops::device {

/// Lines in device memory, as LineView without its element type.
struct Lines {
  void* p = nullptr;
  long outer = 0, n = 0, inner = 0, ostride = 0;
};

/// Banded matrix: diag[t*n + i] multiplies column i + t - kl of row i (wrapping when periodic).
struct Banded {
  long n = 0;
  int kl = 0, ku = 0;
  bool periodic = false;
  std::vector<double> diag;
};

/// A tridiagonal solve prepared by Thomas' algorithm (no pivoting: the compact schemes' A is
/// diagonally dominant): forward x_i = (d_i - sub_i x_{i-1}) inv_pivot_i, backward
/// x_i -= sup_i x_{i+1}. Periodic: the corners by Sherman-Morrison, x = y - (y_0 + vn y_{n-1}) /
/// denom * z.
struct Tridiagonal {
  long n = 0;
  bool periodic = false;
  std::vector<double> sub, inv_pivot, sup, z;
  double vn = 0, denom = 1;
  /// The partitioned solve (chunks of kChunk rows, each thread of the kernel one chunk of one
  /// line; empty where n is outside [2 kChunk, 64 kChunk]): per chunk the local Thomas factors
  /// (csub, cinv, csup; no coupling across chunk starts), the spikes v_i, w_i (row i's response
  /// to the previous chunk's last and the next chunk's first value, cyclic when periodic), and
  /// the inverse G (2P x 2P, row-major) of the reduced system in the chunks' first and last
  /// values: y = yhat + v E_{k-1} + w F_{k+1}, (F, E) = G (yhat_first, yhat_last).
  static constexpr int kChunk = 16;
  std::vector<double> csub, cinv, csup, v, w, G;
};

/// B split for the partitioned compact kernel: an interior band of half-width K <= 4 (band[(t
/// + K) n + i] multiplies x_{i+t}, wrapped when periodic; zero in closure rows) plus dense closure
/// blocks: the first L rows over columns 0..Cl-1 (lead, L x Cl) and the last T rows over the
/// last Ct columns (trail, T x Ct). K = -1: no split fits (closures deeper than the first or
/// last chunk, or wider than 32 columns).
struct BandSplit {
  int K = -1, L = 0, Cl = 0, T = 0, Ct = 0;
  std::vector<double> band, lead, trail;
};

/// One term of a real operator: diag(scale) B, diag(scale) A^-1 B or diag(scale) D (forward), or
/// the transposed term B^T A^-T diag(scale) (scale applied to the input).
struct Term {
  enum class Kind { Banded, Compact, Dense } kind = Kind::Banded;
  Banded b;
  Tridiagonal a;
  BandSplit split;  ///< Compact terms with a chunk plan: B for the partitioned kernel
  std::vector<double> d;  ///< Dense: n x n, row-major
  std::vector<double> scale;
};

enum class Kind { Real, Dense, BlockDense, Diagonal, Transform };
/// DST-I, DCT-II, DCT-III, real FFT to halfcomplex and back (FFTW's unnormalised definitions).
enum class Transform { DST1, DCT2, DCT3, R2HC, HC2R };

struct Plan {
  Kind kind = Kind::Dense;
  long m = 0, n = 0;
  bool complex = false;  ///< Dense, BlockDense, Diagonal: complex coefficients and lines
  bool single = false;   ///< Dense, BlockDense, Diagonal: single-precision coefficients and lines
  long groups = 1, span = 1;
  std::vector<double> a;                    ///< real coefficients (row-major blocks / diagonals)
  std::vector<std::complex<double>> ac;     ///< complex ones
  std::vector<float> af;                    ///< single precision: real ones
  std::vector<std::complex<float>> acf;     ///< and complex ones
  std::vector<Term> fwd, tr;                ///< Real: the terms of A and of A^T
  Transform transform = Transform::DST1;
  std::vector<double> hc_weight;            ///< R2HC/HC2R: halfcomplex weights of the transpose
};

/// The prepared operator in device memory (coefficients uploaded once, cuFFT plans cached).
class Executor {
 public:
  explicit Executor(const Plan& plan);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  /// out (+)= op(A) in on device lines (trans: 0 N, 1 T, 2 H); Real and Transform kinds take
  /// real lines (complex ones as twice as many real lines), the others lines of the plan's type.
  void apply(const Lines& in, const Lines& out, int trans, bool accumulate) const;
  /// Dense, BlockDense, Diagonal: the coefficients replaced by the plan's count of values of its
  /// type read from device memory (the plan's row-major layout), on the stream.
  void set_coefficients(const void* device_a);
  /// Dense, BlockDense, Diagonal: grad (+)= dL/dA in the coefficients' layout, in device memory,
  /// from device lines `in` and `dout` (LineOp::coefficient_gradient's definition). Summed in a
  /// fixed order: the same bits every run.
  void coefficient_gradient(const Lines& in, const Lines& dout, void* grad, int trans, bool accumulate) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::linops::device
