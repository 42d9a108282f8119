#pragma once
// The execution context of this rank's GPU, for CUDA translation units only (headers seen by the
// CPU build stay CUDA-free): one stream that every kron kernel, cuBLAS call and cuFFT plan runs
// on, the cuBLAS handle bound to it, and numbered device scratch slots that grow on demand and
// are reused (the device side of core::Workspace). Created on first use, on the device that
// select_device chose; one per rank (kron runs one thread per rank).
#include <cublas_v2.h>
#include <cuda/std/complex>
#include <cuda_runtime.h>

#include <complex>
#include <cstddef>

namespace kron::core {

/// A failed CUDA or cuBLAS call as kron::Error, naming the call and the library's reason.
void cuda_check(cudaError_t rc, const char* what);
void cublas_check(cublasStatus_t rc, const char* what);

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  /// At least `bytes` of device memory in slot `slot` (contents unspecified; valid until the
  /// slot is asked for more).
  void* scratch(std::size_t slot, std::size_t bytes);
  template <class T>
  T* scratch(std::size_t slot, std::size_t count) {
    return static_cast<T*>(scratch(slot, count * sizeof(T)));
  }
};

/// This rank's context (created on first use; lives until the process ends, so that no CUDA
/// object is destroyed after the runtime has shut down).
DeviceContext& device_context();

/// Launch configuration for `n` independent elements (256 threads a block, a grid-stride loop
/// covers what the grid does not).
inline unsigned grid_for(long n) {
  const long blocks = (n + 255) / 256;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1L << 20) ? (1L << 20) : blocks));
}
constexpr unsigned kBlock = 256;

/// The device-side type of a host element type: std::complex<double> becomes
/// cuda::std::complex<double> (same layout), the rest stay.
template <class T>
struct DeviceType {
  using type = T;
};
template <>
struct DeviceType<std::complex<double>> {
  using type = cuda::std::complex<double>;
};
template <>
struct DeviceType<std::complex<float>> {
  using type = cuda::std::complex<float>;
};
static_assert(sizeof(cuda::std::complex<double>) == sizeof(std::complex<double>), "complex layouts differ");

}  // namespace kron::core
