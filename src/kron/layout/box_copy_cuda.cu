// Device copy_box: every pack, unpack and reorder of the device data layer. Where source and
// destination have the same unit-stride axis it is an element kernel along that axis; where they
// differ it is a tiled transpose through shared memory (32 x 32 tiles: reads coalesce along the
// source's fast axis, writes along the destination's).
#include <cuda/std/complex>
#include <cuda_runtime.h>

#include "kron/core/device_context.cuh"
#include "kron/layout/box_copy_device.hpp"

namespace kron::layout {
namespace {

using core::kBlock;


struct Box3 {
  long n[3];
  long s[3];  // source strides
  long d[3];  // destination strides
};

// Axis order (f fastest, then m, then l) for the element kernel.
template <class T>
__global__ void k_copy(const T* src, T* dst, Box3 b, int f, int m, int l, bool acc) {
  const long total = b.n[0] * b.n[1] * b.n[2];
  for (long q = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; q < total; q += static_cast<long>(gridDim.x) * blockDim.x) {
    const long i = q % b.n[f], t = q / b.n[f], j = t % b.n[m], k = t / b.n[m];
    T& y = dst[i * b.d[f] + j * b.d[m] + k * b.d[l]];
    const T v = src[i * b.s[f] + j * b.s[m] + k * b.s[l]];
    y = acc ? y + v : v;
  }
}

// Boxes whose fast axis is at least a warp long: a thread block takes rows of it, blockIdx.y and .z
// the other two axes, so no thread divides an index (the element kernel above does three 64-bit
// divisions a value).
template <class T>
__global__ void k_copy_rows(const T* src, T* dst, long nf, long nm, long nl, long sf, long sm, long sl, long df, long dm, long dl, bool acc) {
  for (long k = blockIdx.z; k < nl; k += gridDim.z)
    for (long j = blockIdx.y * static_cast<long>(blockDim.y) + threadIdx.y; j < nm; j += static_cast<long>(gridDim.y) * blockDim.y) {
      const T* s = src + j * sm + k * sl;
      T* d = dst + j * dm + k * dl;
      for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < nf; i += static_cast<long>(gridDim.x) * blockDim.x) {
        const T v = s[i * sf];
        d[i * df] = acc ? d[i * df] + v : v;
      }
    }
}

constexpr int kTile = 32, kRows = 8;

// a: the source's fast axis, b: the destination's, c: the third.
template <class T>
__global__ void k_transpose(const T* src, T* dst, Box3 bx, int a, int b, int c, bool acc) {
  __shared__ T tile[kTile][kTile + 1];
  const long na = bx.n[a], nb = bx.n[b], nc = bx.n[c];
  const long a0 = static_cast<long>(blockIdx.x) * kTile, b0 = static_cast<long>(blockIdx.y) * kTile;
  for (long ic = blockIdx.z; ic < nc; ic += gridDim.z) {
    for (int r = 0; r < kTile; r += kRows) {
      const long ia = a0 + threadIdx.x, ib = b0 + threadIdx.y + r;
      if (ia < na && ib < nb) tile[threadIdx.y + r][threadIdx.x] = src[ia * bx.s[a] + ib * bx.s[b] + ic * bx.s[c]];
    }
    __syncthreads();
    for (int r = 0; r < kTile; r += kRows) {
      const long ib = b0 + threadIdx.x, ia = a0 + threadIdx.y + r;
      if (ia < na && ib < nb) {
        T& y = dst[ia * bx.d[a] + ib * bx.d[b] + ic * bx.d[c]];
        y = acc ? y + tile[threadIdx.x][threadIdx.y + r] : tile[threadIdx.x][threadIdx.y + r];
      }
    }
    __syncthreads();
  }
}

// The axis with unit stride among those longer than 1 (-1: none).
int unit_axis(const long* stride, const long* n) {
  for (int d = 0; d < 3; ++d)
    if (stride[d] == 1 && n[d] > 1) return d;
  return -1;
}

}  // namespace

template <class T>
void copy_box_device(const T* src, const std::array<long, 3>& src_stride, T* dst, const std::array<long, 3>& dst_stride,
                     const std::array<long, 3>& n, bool accumulate) {
  using D = typename core::DeviceType<T>::type;
  if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0) return;
  Box3 b{};
  for (int d = 0; d < 3; ++d) {
    b.n[d] = n[d];
    b.s[d] = src_stride[d];
    b.d[d] = dst_stride[d];
  }
  cudaStream_t st = core::device_context().stream;
  const int a = unit_axis(b.s, b.n), c = unit_axis(b.d, b.n);
  const D* s = reinterpret_cast<const D*>(src);
  D* d = reinterpret_cast<D*>(dst);
  if (a >= 0 && c >= 0 && a != c) {
    const int third = 3 - a - c;
    const dim3 grid(static_cast<unsigned>((n[a] + kTile - 1) / kTile), static_cast<unsigned>((n[c] + kTile - 1) / kTile),
                    static_cast<unsigned>(std::min<long>(n[third], 65535)));
    k_transpose<D><<<grid, dim3(kTile, kRows), 0, st>>>(s, d, b, a, c, third, accumulate);
  } else {
    const int f = a >= 0 ? a : (c >= 0 ? c : 0);
    const int m = f == 0 ? 1 : 0, l = 3 - f - m;
    if (n[f] >= 32) {
      const long tx = std::min<long>(kBlock, (n[f] + 31) / 32 * 32), ty = kBlock / tx;
      const dim3 block(static_cast<unsigned>(tx), static_cast<unsigned>(ty));
      const dim3 grid(static_cast<unsigned>(std::min<long>((n[f] + tx - 1) / tx, 1024)), static_cast<unsigned>(std::min<long>((n[m] + ty - 1) / ty, 65535)),
                      static_cast<unsigned>(std::min<long>(n[l], 65535)));
      k_copy_rows<D><<<grid, block, 0, st>>>(s, d, n[f], n[m], n[l], b.s[f], b.s[m], b.s[l], b.d[f], b.d[m], b.d[l], accumulate);
    } else {
      k_copy<D><<<core::grid_for(n[0] * n[1] * n[2]), kBlock, 0, st>>>(s, d, b, f, m, l, accumulate);
    }
  }
  core::cuda_check(cudaGetLastError(), "a device box copy");
}

template void copy_box_device<float>(const float*, const std::array<long, 3>&, float*, const std::array<long, 3>&, const std::array<long, 3>&, bool);
template void copy_box_device<double>(const double*, const std::array<long, 3>&, double*, const std::array<long, 3>&,
                                      const std::array<long, 3>&, bool);
template void copy_box_device<std::complex<double>>(const std::complex<double>*, const std::array<long, 3>&, std::complex<double>*,
                                                    const std::array<long, 3>&, const std::array<long, 3>&, bool);

}  // namespace kron::layout
