#pragma once
// cuBLAS's dense GEMM in fp64, fp32 (strict, no TF32) and bf16 (fp32 accumulation), the peer of
// the fused Monarch multiply in kron-bench --suite gpu (CUDA-free declaration;
// bench_gpu_gemm.cu implements it).
#include "kron/nn/fused_monarch_device.hpp"

namespace kron::bench {

/// y = x W^T for `batch` samples of n values (samples outermost), W n x n row-major; device
/// arrays of the precision's elements, on kron's stream.
void device_gemm(nn::Precision p, const void* W, const void* x, void* y, long n, long batch);

}  // namespace kron::bench
