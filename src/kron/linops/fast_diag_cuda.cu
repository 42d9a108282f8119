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

__global__ void k_divide(double* x, layout::device_ops::Interior b, const double* l0, const double* l1, const double* l2, bool product,
                         double shift, double zero, double norm, double* partial) {
  __shared__ double s_fm[kBlock], s_dr[kBlock], s_zm[kBlock];
  double fm = 0, dr = 0, zm = 0;
  const long total = b.n[0] * b.n[1] * b.n[2];
  for (long q = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; q < total; q += static_cast<long>(gridDim.x) * blockDim.x) {
    const long i = q % b.n[0], t = q / b.n[0], j = t % b.n[1], k = t / b.n[1];
    double& v = x[b.offset + i * b.stride[0] + j * b.stride[1] + k * b.stride[2]];
    const double den = (product ? l0[i] * l1[j] * l2[k] : l0[i] + l1[j] + l2[k]) + shift;
    if (isnan(den)) {
      v = 0;
      continue;
    }
    fm = fmax(fm, fabs(v));
    if (fabs(den) <= zero) {
      zm = 1;
      dr = fmax(dr, fabs(v));
      v = 0;
      continue;
    }
    v /= den * norm;
  }
  s_fm[threadIdx.x] = fm;
  s_dr[threadIdx.x] = dr;
  s_zm[threadIdx.x] = zm;
  __syncthreads();
  for (unsigned w = kBlock / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) {
      s_fm[threadIdx.x] = fmax(s_fm[threadIdx.x], s_fm[threadIdx.x + w]);
      s_dr[threadIdx.x] = fmax(s_dr[threadIdx.x], s_dr[threadIdx.x + w]);
      s_zm[threadIdx.x] = fmax(s_zm[threadIdx.x], s_zm[threadIdx.x + w]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[3 * blockIdx.x] = s_fm[0];
    partial[3 * blockIdx.x + 1] = s_dr[0];
    partial[3 * blockIdx.x + 2] = s_zm[0];
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
  double* d = ctx.scratch<double>(6, n0 + n1 + n2 + 3 * kBlocks);
  std::vector<double> lam;
  lam.reserve(n0 + n1 + n2);
  lam.insert(lam.end(), l0.begin(), l0.end());
  lam.insert(lam.end(), l1.begin(), l1.end());
  lam.insert(lam.end(), l2.begin(), l2.end());
  core::copy_to_device_async(d, lam.data(), lam.size() * sizeof(double));
  double* partial = d + lam.size();
  k_divide<<<kBlocks, kBlock, 0, ctx.stream>>>(x, box, d, d + n0, d + n0 + n1, product, shift, zero, norm, partial);
  core::cuda_check(cudaGetLastError(), "the fast diagonalization's division");
  std::vector<double> h(3 * kBlocks);
  core::copy_to_host(h.data(), partial, h.size() * sizeof(double));  // also waits for the copy of lam above
  for (unsigned b = 0; b < kBlocks; ++b) {
    r.fmax = std::max(r.fmax, h[3 * b]);
    r.dropped = std::max(r.dropped, h[3 * b + 1]);
    r.zero_mode = r.zero_mode || h[3 * b + 2] > 0;
  }
  return r;
}

}  // namespace kron::linops::device
