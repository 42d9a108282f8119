// cuBLAS GEMMs as kron-bench's peer of the fused Monarch multiply.
#include <cublas_v2.h>

#include "bench_gpu_gemm.hpp"
#include "kron/core/device_context.cuh"

namespace kron::bench {

void device_gemm(nn::Precision p, const void* W, const void* x, void* y, long n, long batch) {
  auto& ctx = core::device_context();
  // Column-major: Y (n x batch) = W X, and W row-major is W^T column-major: op T.
  const int m = static_cast<int>(n), b = static_cast<int>(batch);
  if (p == nn::Precision::FP64) {
    const double one = 1, zero = 0;
    core::cublas_check(cublasDgemm(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, m, b, m, &one, static_cast<const double*>(W), m, static_cast<const double*>(x), m, &zero,
                                   static_cast<double*>(y), m),
                       "cublasDgemm");
  } else if (p == nn::Precision::FP32) {
    const float one = 1, zero = 0;
    core::cublas_check(cublasSgemm(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, m, b, m, &one, static_cast<const float*>(W), m, static_cast<const float*>(x), m, &zero,
                                   static_cast<float*>(y), m),
                       "cublasSgemm");
  } else {
    const float one = 1, zero = 0;
    core::cublas_check(cublasGemmEx(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, m, b, m, &one, W, CUDA_R_16BF, m, x, CUDA_R_16BF, m, &zero, y, CUDA_R_16BF, m,
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "cublasGemmEx (bf16)");
  }
}

}  // namespace kron::bench
