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

// Rows of the box along storage dimension 0 (or whole contiguous planes) on the threads of a
// block, strided over the grid; per-block maxima reduced in shared memory.
__global__ void k_divide(double* x, layout::device_ops::Interior b, const double* l0, const double* l1, const double* l2, bool product,
                         double shift, double zero, double norm, double* partial) {
  __shared__ double s_fm[kBlock], s_dr[kBlock], s_zm[kBlock], s_nf[kBlock];
  double fm = 0, dr = 0, zm = 0, nf = 0;
  // Each (j, k) plane row by row, or, where its rows are contiguous (stride[1] = n0), as one
  // run of n0 n1 values (no threads idle at the ends of short rows; one 32-bit division each).
  const bool flat = b.stride[0] == 1 && b.stride[1] == b.n[0] && b.n[0] * b.n[1] < (1L << 31);
  const long rows = flat ? b.n[2] : b.n[1] * b.n[2], len = flat ? b.n[0] * b.n[1] : b.n[0];
  const unsigned n0 = static_cast<unsigned>(b.n[0]);
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const long k = flat ? r : r / b.n[1], j0 = flat ? 0 : r - k * b.n[1];
    double* row = x + b.offset + j0 * b.stride[1] + k * b.stride[2];
    for (long q = threadIdx.x; q < len; q += blockDim.x) {
      const unsigned jq = flat ? static_cast<unsigned>(q) / n0 : 0u;
      const long i = flat ? q - static_cast<long>(jq) * n0 : q, j = j0 + jq;
      const double l12 = product ? l1[j] * l2[k] : l1[j] + l2[k];
      double& v = row[flat ? q : i * b.stride[0]];
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
      const double y = a / (den * norm);
      if (!isfinite(y)) nf = 1;
      v = y;
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
  const bool flat = box.stride[0] == 1 && box.stride[1] == box.n[0] && box.n[0] * box.n[1] < (1L << 31);  // as the kernel decides
  const long len = flat ? box.n[0] * box.n[1] : box.n[0];
  const unsigned threads = len >= kBlock ? kBlock : (len >= 128 ? 128 : 64);
  const unsigned blocks = static_cast<unsigned>(std::min<long>(kBlocks * 4, flat ? box.n[2] : box.n[1] * box.n[2]));
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
