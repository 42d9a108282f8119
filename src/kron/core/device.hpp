#pragma once
#include <string>

namespace kron::core {

/// True when this build has CUDA kernels (KRON_ENABLE_CUDA found nvcc).
bool cuda_enabled();
/// Number of visible CUDA devices (0 in a CPU build or on a machine without a GPU).
int cuda_device_count();
/// One line describing the device side of this build, for --version and run headers.
std::string device_summary();

}  // namespace kron::core
