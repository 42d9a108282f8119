#pragma once
// cuFFT line transforms (CUDA-free declarations; fft_lines_cuda.cu implements them, a CPU build's
// fft_lines_device_none.cpp answers with a clear error): the device counterpart of LineFft, with
// its kinds and FFTW's unnormalised definitions, on lines in device memory. The distributed
// transform's device path and LineOp's transform kinds both run on it.
#include <array>
#include <memory>

#include "kron/layout/fft_lines.hpp"

namespace kron::layout {

/// Every line of a device LineSet transformed by cuFFT on the rank's stream.
///  - R2C, C2R, Forward, Backward: cuFFT D2Z, Z2D, Z2Z with the lines' strides where one batch
///    describes them (contiguous lines, or one slab of interleaved ones), through a contiguous
///    copy otherwise (a tiled transpose).
///  - R2R: R2HC, HC2R, REDFT00/01/10 and RODFT00/01/10 as real FFTs of the even or odd
///    extension with pre/post-processing kernels (the DST-II/III through the DCT-II/III of the
///    sign-alternated or reversed line). REDFT11 and RODFT11 are not provided on the device.
///    Complex data (`complex_data`) transform real and imaginary parts alike.
/// cuFFT plans are made once per line layout and share one work area.
class DeviceLineFft {
 public:
  DeviceLineFft(LineFft::Kind kind, long n, LineFft::R2R r2r = LineFft::R2R::R2HC, bool complex_data = false);
  ~DeviceLineFft();
  DeviceLineFft(const DeviceLineFft&) = delete;
  DeviceLineFft& operator=(const DeviceLineFft&) = delete;

  /// As LineFft::execute, on device lines: `out` may be `in` (same layout) for the complex DFTs
  /// and R2R kinds; a C2R leaves its input unchanged unless `destroy_input`.
  void execute(const LineSet& in, const LineSet& out, bool destroy_input = false) const;
  /// R2R kinds: out (+)= diag(post) F diag(pre) in, `pre` and `post` device arrays of size()
  /// values (either may be null), accumulating into `out` when `accumulate`.
  void execute_scaled(const LineSet& in, const LineSet& out, const double* pre, const double* post, bool accumulate) const;
  /// Makes the cuFFT plans execute() will need for lines laid out like `in`/`out` (no data
  /// touched), so that no planning happens in a timed loop.
  void prepare(const LineSet& in, const LineSet& out, bool destroy_input = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// cuFFT over whole boxes: the DFT along every axis of more than one point at once, by one
/// multi-dimensional cuFFT plan, for `ncomp` boxes stored one after the other (x fastest, no
/// halos). Kinds R2C (the half axis is the fastest axis of more than one point), C2R, Forward,
/// Backward; FFTW's conventions, unnormalised. The one-rank form of a distributed Fourier
/// transform, where no axis is split.
class DeviceBoxFft {
 public:
  /// n: the real-side sizes along x, y, z.
  DeviceBoxFft(LineFft::Kind kind, std::array<long, 3> n, int ncomp);
  ~DeviceBoxFft();
  DeviceBoxFft(const DeviceBoxFft&) = delete;
  DeviceBoxFft& operator=(const DeviceBoxFft&) = delete;
  /// `out` may be `in` for the complex kinds; a C2R leaves its input unchanged unless
  /// `destroy_input`.
  void execute(const void* in, void* out, bool destroy_input = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::layout
