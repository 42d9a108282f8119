// Device executor of field_ops: element kernels over the storage and deterministic reductions
// over interiors (per-block partials in a fixed launch shape, combined on the host in order).
#include <cuda/std/complex>
#include <cuda_runtime.h>

#include <cmath>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/layout/field_ops_device.hpp"

namespace kron::layout::device_ops {
namespace {

using core::grid_for;
using core::kBlock;
using Z = cuda::std::complex<double>;

template <class T>
using D = typename core::DeviceType<T>::type;
template <class T>
D<T>* dev(T* p) {
  return reinterpret_cast<D<T>*>(p);
}
template <class T>
const D<T>* dev(const T* p) {
  return reinterpret_cast<const D<T>*>(p);
}
template <class T>
D<T> dev(T v) {
  if constexpr (std::is_floating_point_v<T>) return v;
  else return D<T>(v.real(), v.imag());
}

void launched(const char* what) { core::cuda_check(cudaGetLastError(), what); }

#define KRON_GRID_LOOP(idx, total) \
  for (long idx = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; idx < (total); idx += static_cast<long>(gridDim.x) * blockDim.x)

template <class T>
__global__ void k_axpby(T a, const T* x, T b, T* y, long n, int mode) {
  KRON_GRID_LOOP(q, n) {
    if (mode == 0) y[q] = a * x[q];
    else if (mode == 1) y[q] += a * x[q];
    else y[q] = a * x[q] + b * y[q];
  }
}
template <class T>
__global__ void k_scale(T a, T* x, long n) {
  KRON_GRID_LOOP(q, n) x[q] *= a;
}
template <class T>
__global__ void k_add(T a, T* x, long n) {
  KRON_GRID_LOOP(q, n) x[q] += a;
}
template <class T>
__global__ void k_fill(T a, T* x, long n) {
  KRON_GRID_LOOP(q, n) x[q] = a;
}
template <class T>
__global__ void k_fill_box(T a, T* x, long s0, long s1, long s2, long n0, long n1, long n2) {
  KRON_GRID_LOOP(q, n0 * n1 * n2) {
    const long i = q % n0, t = q / n0, j = t % n1, k = t / n1;
    x[i * s0 + j * s1 + k * s2] = a;
  }
}
__global__ void k_conj(Z* x, long n) {
  KRON_GRID_LOOP(q, n) x[q] = cuda::std::conj(x[q]);
}

__device__ inline double mag(double v) { return fabs(v); }
__device__ inline double mag(Z v) { return hypot(v.real(), v.imag()); }  // as std::abs on the host
__device__ inline double mag2(double v) { return v * v; }
__device__ inline double mag2(Z v) { return cuda::std::norm(v); }
__device__ inline double cj(double v) { return v; }
__device__ inline Z cj(Z v) { return cuda::std::conj(v); }

__device__ inline long interior_offset(const Interior& b, long q) {
  const long i = q % b.n[0], t = q / b.n[0], j = t % b.n[1], u = t / b.n[1], k = u % b.n[2], c = u / b.n[2];
  return b.offset + c * b.cstride + i * b.stride[0] + j * b.stride[1] + k * b.stride[2];
}

constexpr unsigned kReduceBlocks = 512;

// Per-block partials (in a fixed order: the same bits every run); combine: 0 sum, 1 max, 2 min.
template <class A, class F>
__device__ void block_reduce(A v, int combine, A* out) {
  __shared__ A s[kBlock];
  s[threadIdx.x] = v;
  __syncthreads();
  for (unsigned w = kBlock / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) {
      const A a = s[threadIdx.x], b = s[threadIdx.x + w];
      if (combine == 0) s[threadIdx.x] = a + b;
      else if constexpr (std::is_same_v<A, double>) s[threadIdx.x] = combine == 1 ? fmax(a, b) : fmin(a, b);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

template <class T>
__global__ void k_reduce(const T* x, Interior b, int what, double* partial) {
  const long total = b.n[0] * b.n[1] * b.n[2] * b.ncomp;
  double acc = what == static_cast<int>(Reduce::Min) ? INFINITY : 0.0;
  KRON_GRID_LOOP(q, total) {
    const T v = x[interior_offset(b, q)];
    switch (what) {
      case static_cast<int>(Reduce::MaxAbs): acc = fmax(acc, mag(v)); break;
      case static_cast<int>(Reduce::NonFinite): acc += isfinite(mag(v)) ? 0.0 : 1.0; break;
      case static_cast<int>(Reduce::Min):
        if constexpr (std::is_same_v<T, double>) acc = fmin(acc, v);
        break;
      case static_cast<int>(Reduce::Sum1): acc += mag(v); break;
      case static_cast<int>(Reduce::Sum2): acc += mag2(v); break;
    }
  }
  const int combine = what == static_cast<int>(Reduce::MaxAbs) ? 1 : (what == static_cast<int>(Reduce::Min) ? 2 : 0);
  block_reduce<double, void>(acc, combine, partial);
}

template <class T>
__global__ void k_dot(const T* x, const T* y, Interior b, T* partial) {
  const long total = b.n[0] * b.n[1] * b.n[2] * b.ncomp;
  T acc = T(0);
  KRON_GRID_LOOP(q, total) {
    const long o = interior_offset(b, q);
    acc += x ? cj(x[o]) * y[o] : y[o];  // x null: the plain sum of y
  }
  block_reduce<T, void>(acc, 0, partial);
}

template <class T>
std::vector<T> partials(const T* d) {
  std::vector<T> h(kReduceBlocks);
  core::copy_to_host(h.data(), d, h.size() * sizeof(T));
  return h;
}

}  // namespace

template <class T>
void copy(const T* x, T* y, std::size_t n) {
  core::cuda_check(cudaMemcpyAsync(y, x, n * sizeof(T), cudaMemcpyDeviceToDevice, core::device_context().stream), "cudaMemcpyAsync (field copy)");
}

template <class T>
void axpby(T a, const T* x, T b, T* y, std::size_t n) {
  const int mode = b == T(0) ? 0 : (b == T(1) ? 1 : 2);
  k_axpby<<<grid_for(static_cast<long>(n)), kBlock, 0, core::device_context().stream>>>(dev(a), dev(x), dev(b), dev(y), static_cast<long>(n), mode);
  launched("field_ops::axpby");
}
template <class T>
void scale(T a, T* x, std::size_t n) {
  k_scale<<<grid_for(static_cast<long>(n)), kBlock, 0, core::device_context().stream>>>(dev(a), dev(x), static_cast<long>(n));
  launched("field_ops::scale");
}
template <class T>
void add(T a, T* x, std::size_t n) {
  k_add<<<grid_for(static_cast<long>(n)), kBlock, 0, core::device_context().stream>>>(dev(a), dev(x), static_cast<long>(n));
  launched("field_ops::add");
}
template <class T>
void fill(T a, T* x, std::size_t n) {
  k_fill<<<grid_for(static_cast<long>(n)), kBlock, 0, core::device_context().stream>>>(dev(a), dev(x), static_cast<long>(n));
  launched("Field::fill");
}
template <class T>
void fill_box(T a, T* x, const long* s, const long* n) {
  const long total = n[0] * n[1] * n[2];
  if (total <= 0) return;
  k_fill_box<<<grid_for(total), kBlock, 0, core::device_context().stream>>>(dev(a), dev(x), s[0], s[1], s[2], n[0], n[1], n[2]);
  launched("field_ops::fill_faces");
}
void conj(std::complex<double>* x, std::size_t n) {
  k_conj<<<grid_for(static_cast<long>(n)), kBlock, 0, core::device_context().stream>>>(dev(x), static_cast<long>(n));
  launched("field_ops::conj");
}

template <class T>
double reduce(const T* x, const Interior& box, Reduce what) {
  auto& ctx = core::device_context();
  double* part = ctx.scratch<double>(7, kReduceBlocks);
  k_reduce<<<kReduceBlocks, kBlock, 0, ctx.stream>>>(dev(x), box, static_cast<int>(what), part);
  launched("a field reduction");
  const std::vector<double> h = partials(part);
  double r = what == Reduce::Min ? INFINITY : 0.0;
  for (double v : h) r = what == Reduce::MaxAbs ? std::max(r, v) : (what == Reduce::Min ? std::min(r, v) : r + v);
  return r;
}

template <class T>
T dot(const T* x, const T* y, const Interior& box) {
  auto& ctx = core::device_context();
  D<T>* part = ctx.scratch<D<T>>(7, kReduceBlocks);
  k_dot<<<kReduceBlocks, kBlock, 0, ctx.stream>>>(dev(x), dev(y), box, part);
  launched("field_ops::dot");
  const std::vector<T> h = partials(reinterpret_cast<const T*>(part));
  T r = T(0);
  for (const T& v : h) r += v;
  return r;
}

template <class T>
std::vector<T> sums(const T* x, const Interior& box) {
  auto& ctx = core::device_context();
  std::vector<T> r(static_cast<std::size_t>(box.ncomp), T(0));
  // Component by component: the dot kernel without x sums y.
  for (int c = 0; c < box.ncomp; ++c) {
    Interior one = box;
    one.ncomp = 1;
    one.offset = box.offset + c * box.cstride;
    D<T>* part = ctx.scratch<D<T>>(7, kReduceBlocks);
    k_dot<<<kReduceBlocks, kBlock, 0, ctx.stream>>>(static_cast<const D<T>*>(nullptr), dev(x), one, part);
    launched("field_ops::sums");
    const std::vector<T> h = partials(reinterpret_cast<const T*>(part));
    for (const T& v : h) r[static_cast<std::size_t>(c)] += v;
  }
  return r;
}

KRON_FIELD_OPS_INSTANTIATE

}  // namespace kron::layout::device_ops
