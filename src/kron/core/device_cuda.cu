#include <cuda_runtime.h>

#include <string>

#include "kron/core/device.hpp"

namespace kron::core {
bool cuda_enabled() { return true; }

int cuda_device_count() {
  int n = 0;
  // No driver or no GPU is a normal situation on a CPU machine: report zero devices.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

std::string device_summary() {
  const int n = cuda_device_count();
  if (n == 0) return "CUDA build, no GPU visible";
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return "CUDA build, " + std::to_string(n) + " GPU(s)";
  return "CUDA build, " + std::to_string(n) + " GPU(s): " + p.name;
}
}  // namespace kron::core
