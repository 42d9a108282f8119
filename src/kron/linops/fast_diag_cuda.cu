// Device step of fast diagonalization: the division by the combined eigenvalues, with the
// largest value met, the largest value dropped at a zero eigenvalue and whether one was met,
// reduced per block in a fixed order and combined on the host.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/linops/fast_diag_device.hpp"

namespace kron::linops::device {
namespace {

using core::kBlock;
constexpr unsigned kBlocks = 512;

// Rows of the box along storage dimension 0 on the threads of a block (no integer division per
// element), rows strided over the grid; per-block maxima reduced in shared memory.
__global__ void k_divide(double* x, layout::device_ops::Interior b, const double* l0, const double* l1, const double* l2, bool product,
                         double shift, double zero, double norm, double* partial) {
  __shared__ double s_fm[kBlock], s_dr[kBlock], s_zm[kBlock], s_nf[kBlock];
  double fm = 0, dr = 0, zm = 0, nf = 0;
  const long rows = b.n[1] * b.n[2];
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const long k = r / b.n[1], j = r - k * b.n[1];
    const double l12 = product ? l1[j] * l2[k] : l1[j] + l2[k];
    double* row = x + b.offset + j * b.stride[1] + k * b.stride[2];
    for (long i = threadIdx.x; i < b.n[0]; i += blockDim.x) {
      double& v = row[i * b.stride[0]];
      const double den = (product ? l0[i] * l12 : l0[i] + l12) + shift;
      if (isnan(den)) {
        v = 0;
        continue;
      }
      const double a = v;
      fm = fmax(fm, fabs(a));
      if (!isfinite(a)) nf = 1;
      if (fabs(den) <= zero) {
        zm = 1;
        dr = fmax(dr, fabs(a));
        v = 0;
        continue;
      }
      const double q = a / (den * norm);
      if (!isfinite(q)) nf = 1;
      v = q;
    }
  }
  s_fm[threadIdx.x] = fm;
  s_dr[threadIdx.x] = dr;
  s_zm[threadIdx.x] = zm;
  s_nf[threadIdx.x] = nf;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {  // blockDim.x: a power of two
    if (threadIdx.x < w) {
      s_fm[threadIdx.x] = fmax(s_fm[threadIdx.x], s_fm[threadIdx.x + w]);
      s_dr[threadIdx.x] = fmax(s_dr[threadIdx.x], s_dr[threadIdx.x + w]);
      s_zm[threadIdx.x] = fmax(s_zm[threadIdx.x], s_zm[threadIdx.x + w]);
      s_nf[threadIdx.x] = fmax(s_nf[threadIdx.x], s_nf[threadIdx.x + w]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[4 * blockIdx.x] = s_fm[0];
    partial[4 * blockIdx.x + 1] = s_dr[0];
    partial[4 * blockIdx.x + 2] = s_zm[0];
    partial[4 * blockIdx.x + 3] = s_nf[0];
  }
}

}  // namespace

DivideResult spectral_divide(double* x, const layout::device_ops::Interior& box, const std::vector<double>& l0,
                             const std::vector<double>& l1, const std::vector<double>& l2, bool product, double shift, double zero,
                             double norm) {
  DivideResult r;
  if (box.n[0] * box.n[1] * box.n[2] == 0) return r;
  auto& ctx = core::device_context();
  // The eigenvalues and the partial results share one scratch slot.
  const std::size_t n0 = l0.size(), n1 = l1.size(), n2 = l2.size();
  double* d = ctx.scratch<double>(6, n0 + n1 + n2 + 16 * kBlocks);
  std::vector<double> lam;
  lam.reserve(n0 + n1 + n2);
  lam.insert(lam.end(), l0.begin(), l0.end());
  lam.insert(lam.end(), l1.begin(), l1.end());
  lam.insert(lam.end(), l2.begin(), l2.end());
  core::copy_to_device_async(d, lam.data(), lam.size() * sizeof(double));
  double* partial = d + lam.size();
  // Rows of n0 points: a block of kBlock threads would leave most idle on short rows.
  const unsigned threads = box.n[0] >= kBlock ? kBlock : (box.n[0] >= 128 ? 128 : 64);
  const unsigned blocks = static_cast<unsigned>(std::min<long>(kBlocks * 4, box.n[1] * box.n[2]));
  k_divide<<<blocks, threads, 0, ctx.stream>>>(x, box, d, d + n0, d + n0 + n1, product, shift, zero, norm, partial);
  core::cuda_check(cudaGetLastError(), "the fast diagonalization's division");
  std::vector<double> h(4 * static_cast<std::size_t>(blocks));
  core::copy_to_host(h.data(), partial, h.size() * sizeof(double));  // also waits for the copy of lam above
  for (unsigned b = 0; b < blocks; ++b) {
    r.fmax = std::max(r.fmax, h[4 * b]);
    r.dropped = std::max(r.dropped, h[4 * b + 1]);
    r.zero_mode = r.zero_mode || h[4 * b + 2] > 0;
    r.nonfinite = r.nonfinite || h[4 * b + 3] > 0;
  }
  return r;
}

}  // namespace kron::linops::device
