#pragma once
// The fused Monarch kernel's executors (CUDA-free declarations: fused_monarch_cuda.cu implements
// them, a CPU build's fused_monarch_none.cpp throws a clear error). fused_monarch.hpp is the
// interface; pointers here are device memory of the precision's elements.
#include <cstddef>
#include <string>

namespace kron::nn {

enum class Precision { FP64, FP32, BF16 };
inline std::string to_string(Precision p) { return p == Precision::FP64 ? "fp64" : p == Precision::FP32 ? "fp32" : "bf16"; }
inline std::size_t element_bytes(Precision p) { return p == Precision::FP64 ? 8 : p == Precision::FP32 ? 4 : 2; }

namespace fused {

/// nb blocks; R_k is q x p, L_l is s x q (MonarchMap's shapes).
struct MonarchShape {
  int nb, p, q, s;
};
/// Shared memory a thread block may use.
constexpr std::size_t kSmemLimit = 227 * 1024;  // an H100/H200 thread block's most
/// Samples a thread block takes for this shape and precision (the largest power of two up to 16
/// whose h fits in kSmemLimit); 0 when not even one sample's does.
int monarch_tile(Precision prec, const MonarchShape& sh);
/// y = M x for `batch` samples; Rp[(i p + j) nb + k] = R_k[i, j], Lp[(t q + r) nb + l] = L_l[t, r].
void monarch_forward(Precision prec, const void* x, void* y, const void* Rp, const void* Lp, long batch, const MonarchShape& sh, int tile);
/// The tensor-core path (fused_monarch_tc.cuh): square blocks (p = q = s) of 16, 32, 64 or 128,
/// bf16 or fp32 (three tf32 products a product). Its samples and warps a thread block for nb
/// blocks of bs; tile 0 where it does not apply or one tile's h does not fit.
struct TcConfig {
  int tile = 0, warps = 0;
};
TcConfig monarch_tc_config(Precision prec, int nb, int bs);
/// y = M x on tensor cores; Rf, Lf in tc_fragment_layout's order.
void monarch_tc_forward(Precision prec, const void* x, void* y, const void* Rf, const void* Lf, long batch, int nb, int bs, TcConfig cfg);
/// out[i] = in[i] rounded to the nearest (even) value of the precision; and back exactly.
void narrow(const double* in, void* out, long n, Precision prec);
void widen(const void* in, double* out, long n, Precision prec);

}  // namespace fused
}  // namespace kron::nn
