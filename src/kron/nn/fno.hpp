#pragma once
// Fourier neural operators in 1D and 2D (Li et al. 2021), with any structure in the spectral and
// the point-wise channel mixing (issue 15).
//
// A sample is `channels` fields on an nx (x ny) grid, x fastest: value (c, j, i) at
// (c ny + j) nx + i. The model: lifting (the input channels and the grid coordinates in [0, 1] to
// `width` channels, per point), zero padding by `padding` points at the high end of each axis,
// `layers` Fourier layers v <- GELU(K v + W v + b) (no GELU after the last), unpadding, and the
// head (width -> head -> out channels per point, GELU between).
//
// K keeps modes_x modes of the real transform along x and the modes_y lowest and modes_y highest
// modes along y (the reference code's rfft2 corners), mixes channels per mode (complex weights, any
// structure through point groups, one per mode) and transforms back. The truncated transforms are
// dense LineOps (the DFT's 2 m x n rows, real lines in and complex lines out along x, complex
// along y): with 12 of ~94 modes kept, the truncated product does about twice an FFT's flops at
// GEMM speed and never forms the full spectrum; the inverse is torch's irfft2 of the kept modes
// (the x = 0 mode's imaginary part ignored, the others counted twice). FnoOptions::transform makes
// them learnable, each layer its own ("monarch_dft": the Monarch neural operator).
#include <complex>
#include <memory>
#include <string>
#include <vector>

#include "kron/nn/model.hpp"

namespace kron::nn {

struct FnoOptions {
  int dim = 2;
  long nx = 85, ny = 85;  ///< the data grid (ny = 1 in 1D)
  long in_channels = 1, out_channels = 1;
  long modes_x = 12, modes_y = 12;
  long width = 32, layers = 4, padding = 9, head = 128;
  /// Structures (make_map) of the per-mode spectral mixing (complex) and of the point-wise mixing.
  std::string spectral = "dense", mixing = "dense";
  /// How a structured spectral mixing starts: "scaled" (the structure's own initialisation
  /// rescaled to the dense one's Frobenius norm per mode) or "projected" (per mode, the
  /// structure's nearest matrix to a draw of the dense initialisation, scale U[0, 1) in both
  /// parts, whose mean, an all-channels average, dominates it). Dense mixing ignores it.
  std::string init = "scaled";
  /// The truncated transforms: "fixed" (the DFT's rows, frozen and shared by every layer: the FNO);
  /// "monarch_dft", the Monarch neural operator (Dao et al. 2022: each layer learns Monarch factors
  /// that start as the exact DFT, MonarchDft; the padded grid needs m^2 points along each axis);
  /// or a structure (make_map: dense, low_rank:R, block_diag:NB, monarch:NB) that each layer
  /// learns for itself, starting from the structure's nearest matrix to those DFT rows (exact for
  /// dense; the rectangular Monarch projections are far from it).
  std::string transform = "fixed";
  bool grid_channels = true;  ///< append the coordinates in [0, 1] as input channels
};

/// The truncated transforms (rows of the DFT, e^(-2 pi i k j / n)): along x, real lines to m
/// complex modes 0 .. m-1 stored as 2m reals (re, im interleaved), and back (torch's irfft of those
/// modes, the others zero); along y, complex lines to the modes 0 .. m-1 and n-m .. n-1, and back
/// (1/n e^(+2 pi i k j / n)).
Eigen::MatrixXd rdft_rows(long n, long m);
Eigen::MatrixXd irdft_cols(long n, long m);
Eigen::MatrixXcd dft_rows(long n, long m);
Eigen::MatrixXcd idft_cols(long n, long m);

/// Bytes an FNO holds to train (FnoT::memory).
struct FnoMemory {
  double parameters = 0, activations = 0;
};

/// In precision R: double, or float for single-precision training (every LineOp and point-wise op
/// of the model then runs in float; transform "monarch_dft" runs in double only).
template <class R>
class FnoT : public ModuleT<R> {
 public:
  /// Throws kron::Error for shapes that do not fit (modes beyond the padded grid's Nyquist
  /// limit, structures that do not divide the width, ...).
  FnoT(const FnoOptions& o, Rng& rng);
  ~FnoT() override;
  long in() const override { return o_.in_channels * o_.nx * o_.ny; }
  long out() const override { return o_.out_channels * o_.nx * o_.ny; }
  void forward(const R* x, R* y, long batch) override;
  void backward(const R* x, const R* dy, R* dx, long batch) override;
  std::vector<ParamRefT<R>> parameters() override;
  std::string describe() const override;
  double flops() const override;
  void to(core::MemorySpace s) override;
  core::MemorySpace space() const override;
  const FnoOptions& options() const { return o_; }
  /// Parameters of the spectral mixing and of the point-wise mixing (the structure table's count).
  long mixing_parameters();
  /// Parameters of the learnable transforms (0 when fixed).
  long transform_parameters();
  /// The largest relative Frobenius distance between a learnable transform's starting matrix and
  /// the DFT rows it stands for (0 when fixed or dense).
  double transform_start_error() const;
  /// Bytes a model of these options holds (values of sizeof(R) bytes) to train on `batch` samples a step, from the options
  /// alone (nothing built): parameters with gradients and Adam's two moments, the frozen
  /// transforms, and forward activations and backward scratch. Throws as make_map for unknown
  /// structures.
  using Memory = FnoMemory;
  static Memory memory(const FnoOptions& o, long batch);

 private:
  struct Impl;
  FnoOptions o_;
  std::unique_ptr<Impl> impl_;
};

using Fno = FnoT<double>;
extern template class FnoT<double>;
extern template class FnoT<float>;

}  // namespace kron::nn
