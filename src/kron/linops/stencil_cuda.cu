// The halo stencil sweep on the device. The main kernel marches along z: a block of 32 x 16
// threads covers a tile of x (contiguous, so loads and stores coalesce) by y, each thread walks a
// run of z planes holding its column's z neighbours in registers, its x and y taps in registers
// (they depend on i and j only) and reads x and y neighbours through L1; each point is read from
// memory about once and written once. Operators wider than kMaxHalf fall back to a point-per-
// thread kernel that loops over taps.
#include <cuda_runtime.h>

#include <algorithm>

#include "kron/core/device_context.cuh"
#include "kron/linops/stencil_device.hpp"

namespace kron::linops::stencil::device {
namespace {

constexpr int kMaxHalf = 4;
constexpr int kTileX = 32, kTileY = 16, kRunZ = 64;

struct Sweep {
  Taps t[3];
  long su[3], so[3], e[3];
  double shift;
  long zlo, zhi;  // the local z planes some non-zero tap reads (halo planes included)
};

// Coefficient of offset `off` in row `row` (local) of axis a: zero outside the band.
__device__ inline double tap(const Taps& t, int off, long row) {
  const int q = off + t.kl;
  if (t.width == 0 || q < 0 || q >= t.width) return 0.0;
  return t.diag[q * t.n + t.lo + row];
}

template <int R>
__global__ void __launch_bounds__(kTileX* kTileY) k_march(Sweep s, const double* __restrict__ u, double* __restrict__ out) {
  const long i = blockIdx.x * static_cast<long>(kTileX) + threadIdx.x;
  const long j = blockIdx.y * static_cast<long>(kTileY) + threadIdx.y;
  if (i >= s.e[0] || j >= s.e[1]) return;
  const long k0 = blockIdx.z * static_cast<long>(kRunZ), k1 = min(k0 + kRunZ, s.e[2]);
  double cx[2 * R + 1], cy[2 * R + 1], w[2 * R + 1];
#pragma unroll
  for (int q = 0; q < 2 * R + 1; ++q) {
    cx[q] = tap(s.t[0], q - R, i);
    cy[q] = tap(s.t[1], q - R, j);
  }
  const long sx = s.su[0], sy = s.su[1], sz = s.su[2];
  const double* col = u + i * sx + j * sy;
  // The z window: w[q] = u(i, j, k + q - R), zero for planes no non-zero tap reads.
  auto load = [&](long p) { return p >= s.zlo && p < s.zhi ? __ldg(col + p * sz) : 0.0; };
#pragma unroll
  for (int q = 0; q < 2 * R; ++q) w[q + 1] = load(k0 + q - R);
  for (long k = k0; k < k1; ++k) {
#pragma unroll
    for (int q = 0; q < 2 * R; ++q) w[q] = w[q + 1];
    w[2 * R] = load(k + R);
    const double* p = col + k * sz;
    double acc = -s.shift * w[R];
#pragma unroll
    for (int q = 0; q < 2 * R + 1; ++q) {
      if (cx[q] != 0.0) acc += cx[q] * (q == R ? w[R] : __ldg(p + (q - R) * sx));
      if (cy[q] != 0.0) acc += cy[q] * (q == R ? w[R] : __ldg(p + (q - R) * sy));
      const double cz = tap(s.t[2], q - R, k);
      if (cz != 0.0) acc += cz * w[q];
    }
    out[i * s.so[0] + j * s.so[1] + k * s.so[2]] = acc;
  }
}

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

unsigned blocks(long n, long per) { return static_cast<unsigned>((n + per - 1) / per); }

}  // namespace

void banded_sweep(const std::array<Taps, 3>& taps, double shift, const double* u, const std::array<long, 3>& su, double* out,
                  const std::array<long, 3>& so, const std::array<long, 3>& extent, const std::array<long, 2>& zread) {
  if (extent[0] * extent[1] * extent[2] == 0) return;
  Sweep s;
  int half = 0;
  for (int a = 0; a < 3; ++a) {
    s.t[a] = taps[a];
    s.su[a] = su[a];
    s.so[a] = so[a];
    s.e[a] = extent[a];
    if (taps[a].width > 0) half = std::max({half, taps[a].kl, taps[a].width - 1 - taps[a].kl});
  }
  s.shift = shift;
  s.zlo = zread[0];
  s.zhi = zread[1];
  auto& ctx = core::device_context();
  const long ny = blocks(extent[1], kTileY), nz = blocks(extent[2], kRunZ);
  if (half <= kMaxHalf && ny <= 65535 && nz <= 65535) {
    const dim3 grid(blocks(extent[0], kTileX), static_cast<unsigned>(ny), static_cast<unsigned>(nz)), block(kTileX, kTileY);
    switch (half) {
      case 0:
      case 1: k_march<1><<<grid, block, 0, ctx.stream>>>(s, u, out); break;
      case 2: k_march<2><<<grid, block, 0, ctx.stream>>>(s, u, out); break;
      case 3: k_march<3><<<grid, block, 0, ctx.stream>>>(s, u, out); break;
      default: k_march<4><<<grid, block, 0, ctx.stream>>>(s, u, out); break;
    }
  } else {
    auto cap = [](long x) { return static_cast<unsigned>(std::max(1L, std::min(x, 65535L))); };
    const dim3 grid(blocks(extent[0], core::kBlock), cap(extent[1]), cap(extent[2]));
    k_banded_sweep<<<grid, core::kBlock, 0, ctx.stream>>>(s, u, out);
  }
  core::cuda_check(cudaGetLastError(), "the stencil sweep kernel");
}

}  // namespace kron::linops::stencil::device
