// The halo stencil sweep on the device: one thread a point, x (contiguous) on the grid's x so
// that loads and stores coalesce; neighbours along y and z come through the caches.
#include <cuda_runtime.h>

#include <algorithm>

#include "kron/core/device_context.cuh"
#include "kron/linops/stencil_device.hpp"

namespace kron::linops::stencil::device {
namespace {

struct Sweep {
  Taps t[3];
  long su[3], so[3], e[3];
  double shift;
};

__global__ void k_banded_sweep(Sweep s, const double* __restrict__ u, double* __restrict__ out) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= s.e[0]) return;
  for (long k = blockIdx.z; k < s.e[2]; k += gridDim.z)
    for (long j = blockIdx.y; j < s.e[1]; j += gridDim.y) {
      const long idx[3] = {i, j, k};
      const double* p = u + i * s.su[0] + j * s.su[1] + k * s.su[2];
      double acc = -s.shift * p[0];
#pragma unroll
      for (int a = 0; a < 3; ++a) {
        const Taps& t = s.t[a];
        const double* c = t.diag + t.lo + idx[a];
        for (int q = 0; q < t.width; ++q) {
          const double cq = c[q * t.n];
          if (cq != 0.0) acc += cq * p[(q - t.kl) * s.su[a]];
        }
      }
      out[i * s.so[0] + j * s.so[1] + k * s.so[2]] = acc;
    }
}

}  // namespace

void banded_sweep(const std::array<Taps, 3>& taps, double shift, const double* u, const std::array<long, 3>& su, double* out,
                  const std::array<long, 3>& so, const std::array<long, 3>& extent) {
  if (extent[0] * extent[1] * extent[2] == 0) return;
  Sweep s;
  for (int a = 0; a < 3; ++a) {
    s.t[a] = taps[a];
    s.su[a] = su[a];
    s.so[a] = so[a];
    s.e[a] = extent[a];
  }
  s.shift = shift;
  auto cap = [](long x) { return static_cast<unsigned>(std::max(1L, std::min(x, 65535L))); };
  const dim3 grid(static_cast<unsigned>((extent[0] + core::kBlock - 1) / core::kBlock), cap(extent[1]), cap(extent[2]));
  auto& ctx = core::device_context();
  k_banded_sweep<<<grid, core::kBlock, 0, ctx.stream>>>(s, u, out);
  core::cuda_check(cudaGetLastError(), "the stencil sweep kernel");
}

}  // namespace kron::linops::stencil::device
