#include <cuda_runtime.h>

#include <string>

#include "kron/core/device.hpp"
#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"

namespace kron::core {
namespace {
// Every CUDA return code is checked: a failure is a kron::Error naming the call and CUDA's reason.
void check(cudaError_t rc, const char* what) {
  if (rc == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky state of a non-fatal error
  throw Error(std::string(what) + " failed: " + cudaGetErrorString(rc), {},
              rc == cudaErrorMemoryAllocation ? "the GPU's memory is full: use more GPUs or a smaller grid" : "");
}
}  // namespace

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

int select_device(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, mpi::rank(comm), MPI_INFO_NULL, &node);
  const int local = mpi::rank(node);
  MPI_Comm_free(&node);
  const int n = cuda_device_count();
  if (!mpi::all(n > 0, comm))
    throw Error("no GPU is visible to every rank (this rank sees " + std::to_string(n) + ")", {},
                "run where the GPUs are, check CUDA_VISIBLE_DEVICES, or use the CPU backend");
  const int dev = local % n;
  check(cudaSetDevice(dev), "cudaSetDevice");
  return dev;
}

DeviceBytes::DeviceBytes(std::size_t bytes) : n_(bytes) {
  if (bytes > 0) check(cudaMalloc(&p_, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
}

void DeviceBytes::release() noexcept {
  if (p_) cudaFree(p_);
  p_ = nullptr;
  n_ = 0;
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device"); }
void copy_to_host(void* dst, const void* src, std::size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy from the device"); }
void copy_on_device(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy on the device");
}
void fill_device_bytes(void* dst, int value, std::size_t bytes) { check(cudaMemset(dst, value, bytes), "cudaMemset"); }
void device_synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

}  // namespace kron::core
