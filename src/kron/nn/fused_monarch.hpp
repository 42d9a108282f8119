#pragma once
// The fused Monarch multiply on the GPU (issue 15, item 2): y = M x for a batch of vectors with
// both block-diagonal factors and the permutation between them in one kernel. Each thread block
// takes a tile of samples, forms their h = R x in shared memory (stored in the permuted order the
// second factor reads, so the permutation never goes through global memory) and writes
// y = L h straight out; the weights are re-laid once so that neighbouring threads read
// neighbouring words. fp64 and fp32 compute in their own precision; bf16 stores x, y and the
// weights in bfloat16 and accumulates in fp32. The kernel is fused_monarch_cuda.cu's; a CPU build
// throws a clear error.
//
// This is the inference path of a trained Monarch layer (and the GPU multiply that kron-bench
// --suite gpu measures); training keeps MonarchMap's LineOps, whose backward it shares.
#include <cstddef>
#include <string>

#include "kron/core/device.hpp"
#include "kron/nn/fused_monarch_device.hpp"
#include "kron/nn/structured.hpp"

namespace kron::nn {

/// The fused multiply's two kernels. cuda_cores: any shape, fp64, fp32 and bf16. tensor_cores
/// (fused_monarch_tc.cuh): square blocks of 16, 32, 64 or 128, bf16 (m16n8k16 MMAs, fp32
/// accumulation, h in bf16) and fp32 (three tf32 MMAs a product with each operand split into a
/// tf32 head and tail: ~1e-6 from the fp64 product, SGEMM's order; h in fp32). automatic: the
/// tensor cores where they apply, else the CUDA cores.
enum class MonarchKernel { automatic, cuda_cores, tensor_cores };
std::string to_string(MonarchKernel k);

class FusedMonarch {
 public:
  /// Copies point group `group` of M's weights (any nb, rectangular included) to the device in
  /// precision p. Throws kron::Error without CUDA, where one sample's h does not fit in a thread
  /// block's shared memory, or where `kernel` is tensor_cores and the shape or precision is not
  /// one it takes.
  FusedMonarch(MonarchMap<double>& M, Precision p, long group = 0, MonarchKernel kernel = MonarchKernel::automatic);
  FusedMonarch(const FusedMonarch&) = delete;
  FusedMonarch& operator=(const FusedMonarch&) = delete;
  /// Takes M's current weights again (after training steps).
  void set_weights(MonarchMap<double>& M, long group = 0);
  /// y = M x for `batch` samples (x: batch x in, y: batch x out, samples outermost), device
  /// arrays of the precision's elements; on kron's stream. The tensor-core kernel needs x and y
  /// 8-byte aligned (an error otherwise).
  void forward(const void* x, void* y, long batch) const;
  Precision precision() const { return prec_; }
  long in() const { return in_; }
  long out() const { return out_; }
  /// Samples a thread block takes (chosen from the shared memory one sample's h needs).
  long tile() const { return tile_; }
  /// The kernel chosen (never automatic).
  MonarchKernel kernel() const { return kernel_; }

  /// Device arrays between fp64 and a precision: out[i] = in[i] rounded to nearest (even), and
  /// back exactly.
  static void narrow(const double* in, void* out, long n, Precision p) { fused::narrow(in, out, n, p); }
  static void widen(const void* in, double* out, long n, Precision p) { fused::widen(in, out, n, p); }

 private:
  Precision prec_;
  fused::MonarchShape sh_{};
  long in_, out_, tile_ = 1;
  MonarchKernel kernel_ = MonarchKernel::cuda_cores;
  fused::TcConfig tc_{};
  core::DeviceBytes rp_, lp_;
};

}  // namespace kron::nn
