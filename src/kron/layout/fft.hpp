#pragma once
#include <array>
#include <memory>
#include <string>

#include "kron/core/memory.hpp"
#include "kron/layout/fft_lines.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/transpose.hpp"

namespace kron::layout {

/// The transform applied along one axis.
///  - Fourier: DFT (periodic). On real input the first Fourier axis (in x, y, z order) is an
///    r2c transform keeping n/2+1 modes; later Fourier axes are c2c.
///  - DCT1/2/3, DST1/2/3: FFTW's REDFT00/10/01 and RODFT00/10/01 (Neumann and Dirichlet
///    fast solvers). On complex data they act on real and imaginary parts separately.
///  - None: the axis is left alone.
enum class TransformKind { None, Fourier, DCT1, DCT2, DCT3, DST1, DST2, DST3 };
const char* to_string(TransformKind k);
TransformKind parse_transform_kind(const std::string& s);

struct FftOptions {
  FftEffort effort = FftEffort::Measure;
  TransposeMethod transpose = TransposeMethod::Alltoallv;
  int ncomp = 1;               ///< components transformed together (one plan, one transpose)
  bool complex_input = false;  ///< c2c on Fourier axes instead of r2c
  /// Where the fields live: device plans run every line transform on cuFFT
  /// (layout::DeviceLineFft) and every transpose on device buffers.
  core::MemorySpace space = core::MemorySpace::Host;
};

/// A planned distributed transform of a 3D (or 2D/1D, with unit axes) array.
///
/// Conventions (the same as FFTW's, so results compare one to one with serial FFTW):
///  - forward DFT is e^{-2 pi i jk/n}; no transform is normalised. backward(forward(u)) =
///    u / normalization(); normalization() = 1 / prod(logical sizes): n for DFT, 2(n-1) for
///    DCT1, 2(n+1) for DST1, 2n for the others.
///  - input is an x-pencil. Axes are transformed in the order x, y, z; an axis is transformed
///    in the current pencil when it is whole there (one LineFft per axis: contiguous lines in
///    place, strided ones through cache-sized panels), otherwise after one transpose to its own
///    pencil. The output is therefore left in `output_pencil()`:
///    the x-pencil on one rank, the y-pencil on slabs (p2 = 1), the z-pencil on pencils.
///    Its global shape has n/2+1 along the r2c axis. Wavenumber of index i along a Fourier
///    axis of n points: i for i <= n/2, i - n otherwise (the r2c axis keeps 0..n/2).
///  - backward takes output-pencil data back to the input pencil. It does not modify its input.
///  - a plan with options.space = Device takes device fields and runs the same steps on the GPU:
///    cuFFT line transforms, device transposes (DCT/DST kinds as in DeviceLineFft: no
///    REDFT11/RODFT11 there, which kron's transforms never use).
class DistributedTransform {
 public:
  DistributedTransform(ProcessGridPtr grid, std::array<long, 3> n, std::array<TransformKind, 3> kinds,
                       FftOptions options = {});
  ~DistributedTransform();
  DistributedTransform(DistributedTransform&&) noexcept;
  DistributedTransform& operator=(DistributedTransform&&) noexcept;

  const Pencil& input_pencil() const;
  const Pencil& output_pencil() const;
  bool input_complex() const;
  bool output_complex() const;
  int r2c_axis() const;  ///< -1 when no r2c transform happens
  double normalization() const;
  std::string describe() const;
  core::MemorySpace space() const;

  void forward(const RealField& in, ComplexField& out) const;
  void forward(const RealField& in, RealField& out) const;
  void forward(const ComplexField& in, ComplexField& out) const;
  void backward(const ComplexField& in, RealField& out) const;
  void backward(const RealField& in, RealField& out) const;
  void backward(const ComplexField& in, ComplexField& out) const;
  /// backward(in, out) that may overwrite `in` (scratch spectra): a one-box device plan then
  /// skips the copy cuFFT's complex-to-real transform otherwise needs.
  void backward_destroying(ComplexField& in, RealField& out) const;

 private:
  void run(bool fwd, const void* in, void* out, bool destroy_input = false) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::layout
