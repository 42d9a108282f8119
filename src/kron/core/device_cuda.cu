#include <cuda_runtime.h>
#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

#include <cstdlib>
#include <string>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"

namespace kron::core {

// Every CUDA return code is checked: a failure is a kron::Error naming the call and CUDA's reason.
void cuda_check(cudaError_t rc, const char* what) {
  if (rc == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky state of a non-fatal error
  throw Error(std::string(what) + " failed: " + cudaGetErrorString(rc), {},
              rc == cudaErrorMemoryAllocation ? "the GPU's memory is full: use more GPUs or a smaller grid" : "");
}

void cublas_check(cublasStatus_t rc, const char* what) {
  if (rc == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string(what) + " failed: " + cublasGetStatusString(rc), {},
              rc == CUBLAS_STATUS_ALLOC_FAILED ? "the GPU's memory is full: use more GPUs or a smaller grid" : "");
}

namespace {
void check(cudaError_t rc, const char* what) { cuda_check(rc, what); }

struct ContextStore {
  DeviceContext ctx;
  std::vector<DeviceBytes> slots;
};
ContextStore& store() {
  // Deliberately never destroyed: CUDA objects must not be released after the runtime shut down.
  static ContextStore* s = [] {
    auto* c = new ContextStore;
    check(cudaStreamCreate(&c->ctx.stream), "cudaStreamCreate");
    cublas_check(cublasCreate(&c->ctx.blas), "cublasCreate");
    cublas_check(cublasSetStream(c->ctx.blas, c->ctx.stream), "cublasSetStream");
    return c;
  }();
  return *s;
}
}  // namespace

DeviceContext& device_context() { return store().ctx; }

void* DeviceContext::scratch(std::size_t slot, std::size_t bytes) {
  auto& slots = store().slots;
  if (slots.size() <= slot) slots.resize(slot + 1);
  if (slots[slot].bytes() < bytes) {
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");  // work queued on the old slot
    slots[slot] = DeviceBytes();
    slots[slot] = DeviceBytes(bytes + bytes / 8);  // some room to grow
  }
  return slots[slot].data();
}

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

int current_device() {
  int d = -1;
  if (cuda_device_count() == 0 || cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return d;
}

DeviceMemory device_memory() {
  std::size_t free = 0, total = 0;
  if (cuda_device_count() == 0 || cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();
    return {};
  }
  return {static_cast<double>(free), static_cast<double>(total)};
}
void copy_to_device_async(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, device_context().stream), "cudaMemcpyAsync to the device");
}
void copy_to_host_async(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, device_context().stream), "cudaMemcpyAsync from the device");
}
void stream_synchronize() { check(cudaStreamSynchronize(device_context().stream), "cudaStreamSynchronize"); }

PinnedBytes::PinnedBytes(std::size_t bytes) : n_(bytes) {
  if (bytes > 0) check(cudaMallocHost(&p_, bytes), ("cudaMallocHost of " + std::to_string(bytes) + " bytes").c_str());
}
void PinnedBytes::release() noexcept {
  if (p_) cudaFreeHost(p_);
  p_ = nullptr;
  n_ = 0;
}

bool mpi_cuda_aware() {
  static const bool aware = [] {
    const char* env = std::getenv("KRON_MPI_CUDA_AWARE");
    if (env && std::string(env) == "0") return false;
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    return MPIX_Query_cuda_support() == 1;
#else
    return false;
#endif
  }();
  return aware;
}

std::string mpi_device_path() {
  return mpi_cuda_aware() ? "device buffers passed to CUDA-aware MPI" : "staged through pinned host memory (MPI is not CUDA-aware)";
}

}  // namespace kron::core
