// CPU-only build: the device side of kron is absent; this unit answers for it.
#include "kron/core/device.hpp"

namespace kron::core {
bool cuda_enabled() { return false; }
int cuda_device_count() { return 0; }
std::string device_summary() { return "CPU build (no CUDA)"; }
}  // namespace kron::core
