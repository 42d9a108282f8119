// CPU-only build: the device side of kron is absent; this unit answers for it, and every
// device operation is a clear error rather than a silent no-op.
#include "kron/core/device.hpp"

#include "kron/core/error.hpp"

namespace kron::core {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw Error(std::string(what) + ": this kron was built without CUDA", {},
              "rebuild where the CUDA Toolkit is installed (KRON_ENABLE_CUDA=ON), or use the CPU backend");
}
}  // namespace

bool cuda_enabled() { return false; }
int cuda_device_count() { return 0; }
std::string device_summary() { return "CPU build (no CUDA)"; }
int select_device(MPI_Comm) { no_cuda("selecting a GPU"); }
int current_device() { return -1; }
DeviceMemory device_memory() { return {}; }
DeviceBytes::DeviceBytes(std::size_t bytes) {
  if (bytes > 0) no_cuda("device memory");
}
void DeviceBytes::release() noexcept {}
void copy_to_device(void*, const void*, std::size_t) { no_cuda("copy to the device"); }
void copy_to_host(void*, const void*, std::size_t) { no_cuda("copy from the device"); }
void copy_on_device(void*, const void*, std::size_t) { no_cuda("copy on the device"); }
void fill_device_bytes(void*, int, std::size_t) { no_cuda("device memset"); }
void device_synchronize() {}
void copy_to_device_async(void*, const void*, std::size_t) { no_cuda("copy to the device"); }
void copy_to_host_async(void*, const void*, std::size_t) { no_cuda("copy from the device"); }
void stream_synchronize() {}
PinnedBytes::PinnedBytes(std::size_t bytes) {
  if (bytes > 0) no_cuda("pinned host memory");
}
void PinnedBytes::release() noexcept {}
bool mpi_cuda_aware() { return false; }
std::string mpi_device_path() { return "no device (CPU build)"; }
}  // namespace kron::core
