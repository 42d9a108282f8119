#pragma once
// cuFFT's own 3D real transform, the baseline of kron-bench --suite gpu (CUDA-free declaration;
// bench_gpu_cufft.cu implements it).
#include <memory>

namespace kron::bench {

/// A forward (D2Z) and inverse (Z2D) 3D transform of an n0 x n1 x n2 real array (n2 fastest)
/// in device memory, out of place, on kron's stream.
class CufftR2C {
 public:
  CufftR2C(long n0, long n1, long n2);
  ~CufftR2C();
  void forward();   ///< real -> complex half spectrum
  void inverse();   ///< back (unnormalised)
  double* real();   ///< the real array (device)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::bench
