// CUDA executor of LineOp (the host executor is line_op.cpp): every kind and every Trans on
// device lines, on the rank's stream (core::device_context). Banded sweeps and diagonals are
// element kernels; compact solves one thread per line (Thomas, periodic by Sherman-Morrison:
// interleaved lines coalesce); dense and block-dense products are cuBLAS (strided-batched)
// GEMMs; transforms run on layout::DeviceLineFft (cuFFT with pre/post-processing kernels).
#include <cublas_v2.h>
#include <cuda/std/complex>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/core/error.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/layout/fft_lines_device.hpp"
#include "kron/linops/line_op_device.hpp"

namespace kron::linops::device {
namespace {

using core::grid_for;
using core::kBlock;
using Z = cuda::std::complex<double>;
using C = cuda::std::complex<float>;  // single precision (the coefficient kinds)
static_assert(sizeof(Z) == sizeof(std::complex<double>) && sizeof(C) == sizeof(std::complex<float>), "complex layouts differ");

void launched(const char* what) { core::cuda_check(cudaGetLastError(), what); }

// The shape of device lines (element (o, i, j) at o*ostride + i*inner + j).
struct Shape {
  long outer, n, inner, ostride;
};
Shape shape(const Lines& v) { return {v.outer, v.n, v.inner, v.ostride}; }

// Element (o, i, j) of lines as a 3D launch, no integer divisions: interleaved lines put j on
// the grid's x (coalesced), i on y and o on z; contiguous lines (inner = 1) put i on x and o on y.
dim3 grid3(const Shape& v) {
  auto cap = [](long x) { return static_cast<unsigned>(std::max(1L, std::min(x, 65535L))); };
  if (v.inner == 1) return dim3(static_cast<unsigned>((v.n + kBlock - 1) / kBlock), cap(v.outer), 1);
  return dim3(static_cast<unsigned>((v.inner + kBlock - 1) / kBlock), cap(v.n), cap(v.outer));
}
template <class F>
__device__ void for_elements(const Shape& v, F&& f) {
  if (v.inner == 1) {
    const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
    if (i >= v.n) return;
    for (long o = blockIdx.y; o < v.outer; o += gridDim.y) f(o, i, 0L);
  } else {
    const long j = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
    if (j >= v.inner) return;
    for (long o = blockIdx.z; o < v.outer; o += gridDim.z)
      for (long i = blockIdx.y; i < v.n; i += gridDim.y) f(o, i, j);
  }
}

__device__ inline double conj_if(double x, bool) { return x; }
__device__ inline Z conj_if(Z x, bool c) { return c ? cuda::std::conj(x) : x; }
__device__ inline float conj_if(float x, bool) { return x; }
__device__ inline C conj_if(C x, bool c) { return c ? cuda::std::conj(x) : x; }

// out (+)= diag(oscale) B diag(iscale) in, B banded (periodic wrap when asked).
__global__ void k_banded(const double* in, Shape vi, double* out, Shape vo, const double* diag, int kl, int ku, bool periodic,
                         const double* iscale, const double* oscale, bool acc) {
  const long n = vi.n;
  for_elements(vi, [&](long o, long i, long j) {
    const double* x = in + o * vi.ostride + j;
    double s = 0;
    for (int q = 0; q <= kl + ku; ++q) {
      long c = i + q - kl;
      if (periodic) c = c < 0 ? c + n : (c >= n ? c - n : c);
      else if (c < 0 || c >= n) continue;
      const double xc = iscale ? iscale[c] * x[c * vi.inner] : x[c * vi.inner];
      s += diag[q * n + i] * xc;
    }
    if (oscale) s *= oscale[i];
    double& y = out[o * vo.ostride + i * vo.inner + j];
    y = acc ? y + s : s;
  });
}

// y = diag(oscale) A^-1 B diag(iscale) x (B null: the identity), one thread per line: B applied on
// the fly in the forward sweep, whose results go to t (out itself unless accumulating); the
// backward sweep, or the periodic correction after it, writes the scaled result into out.
// `in` never aliases out or tmp (compact terms are not applied in place), so its loads may be
// issued ahead of the sweep's stores: the unrolled loops keep several lines' loads in flight
// while each thread's recurrence waits on the previous value.
__global__ void k_compact(const double* __restrict__ in, Shape vi, double* out, Shape vo, double* tmp, Shape vt, const double* diag, int kl, int ku,
                          bool periodic, const double* sub, const double* invp, const double* sup, const double* z, double vn, double denom,
                          const double* iscale, const double* oscale, bool acc) {
  const long n = vi.n, lines = vi.outer * vi.inner;
  for (long l = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; l < lines; l += static_cast<long>(gridDim.x) * blockDim.x) {
    const long o = l / vi.inner, j = l - o * vi.inner;
    const double* x = in + o * vi.ostride + j;
    double* t = tmp + o * vt.ostride + j;
    double* y = out + o * vo.ostride + j;
    const long si = vi.inner, st = vt.inner, so = vo.inner;
    auto write = [&](long i, double v) {
      if (oscale) v *= oscale[i];
      y[i * so] = acc ? y[i * so] + v : v;
    };
    double prev = 0;
#pragma unroll 4
    for (long i = 0; i < n; ++i) {
      double b;
      if (diag) {
        b = 0;
        for (int q = 0; q <= kl + ku; ++q) {
          long c = i + q - kl;
          if (periodic) c = c < 0 ? c + n : (c >= n ? c - n : c);
          else if (c < 0 || c >= n) continue;
          b += diag[q * n + i] * (iscale ? iscale[c] * x[c * si] : x[c * si]);
        }
      } else {
        b = iscale ? iscale[i] * x[i * si] : x[i * si];
      }
      prev = (b - sub[i] * prev) * invp[i];
      t[i * st] = prev;
    }
    double v = prev;
    if (!z) write(n - 1, v);
#pragma unroll 4
    for (long i = n - 2; i >= 0; --i) {
      v = t[i * st] - sup[i] * v;
      if (z) t[i * st] = v;
      else write(i, v);
    }
    if (z) {
      const double f = (t[0] + vn * t[(n - 1) * st]) / denom;
      for (long i = 0; i < n; ++i) write(i, t[i * st] - f * z[i]);
    }
  }
}

// The partitioned compact solve (device::Tridiagonal's chunk plan) on interleaved lines: a block
// of LB lines x P chunks (LB P = 256; LB >= 4 consecutive lines: whole 32-byte sectors), each
// thread one chunk of M rows of one line held in registers: b = B x on its rows (B null: the
// identity), the chunk's own Thomas sweeps, its first and last values to shared memory, the
// reduced system's solution by G (each thread two of its rows), then y = yhat + v E_{k-1} +
// w F_{k+1}. Every input is read from memory once and every output written once; the
// coefficients (the same for every line) are staged in shared memory once per block, row i at
// i + i / M so that the chunks of a warp fall on different banks.
struct Chunks {
  const double *csub, *cinv, *csup, *v, *w, *G;
  int P;
};
// B for the kernel (device::BandSplit): band null means no B (the identity).
struct SplitB {
  const double *band, *lead, *trail;
  int L, Cl, T, Ct;
};
constexpr int kChunkThreads = 256;
// Shared memory of the kernel: the staged coefficients, the chunks' ends and the reduced
// solution, and (with_g) G itself, rows padded to 2P + 1 so that a warp's rows fall on distinct banks.
std::size_t chunk_shared_bytes(int P, int M, int wb, int lb, bool with_g) {
  return sizeof(double) * (static_cast<std::size_t>(5 + wb) * P * (M + 1) + 4 * static_cast<std::size_t>(P) * lb +
                           (with_g ? static_cast<std::size_t>(2 * P) * (2 * P + 1) : 0));
}
// Two blocks a multiprocessor (at most 128 registers a thread, some spilled) ran 1.2-1.3x faster
// on the H200 than one block without spills.
template <int M, int K, int MB>
__global__ void __launch_bounds__(kChunkThreads, MB) k_compact_chunked(const double* __restrict__ in, Shape vi, double* out, Shape vo,
                                                                   SplitB sb_, bool periodic, Chunks ch, const double* iscale,
                                                                   const double* oscale, bool acc, bool g_shared) {
  extern __shared__ double sh[];
  const int P = ch.P, LB = blockDim.x, tx = threadIdx.x, c = threadIdx.y;
  const long n = vi.n, np = static_cast<long>(P) * (M + 1);
  const double* __restrict__ diag = sb_.band;
  const int wb = diag ? 2 * K + 1 : 0;
  double* sc = sh;                  // [5][np]: csub, cinv, csup, v, w
  double* sb = sc + 5 * np;         // [wb][np]: B's diagonals
  double* ends = sb + wb * np;      // [2P][LB]
  double* zs = ends + 2 * P * LB;   // [2P][LB]
  double* gs = zs + 2 * P * LB;     // [2P][2P + 1] when g_shared
  const int gstride = g_shared ? 2 * P + 1 : 2 * P;
  if (g_shared)
    for (int e = c * LB + tx; e < 4 * P * P; e += LB * P) gs[(e / (2 * P)) * gstride + e % (2 * P)] = ch.G[e];
  const double* Gm = g_shared ? gs : ch.G;
  for (long e = static_cast<long>(c) * LB + tx; e < n; e += static_cast<long>(LB) * P) {
    const long pe = e + e / M;
    sc[pe] = ch.csub[e];
    sc[np + pe] = ch.cinv[e];
    sc[2 * np + pe] = ch.csup[e];
    sc[3 * np + pe] = ch.v[e];
    sc[4 * np + pe] = ch.w[e];
    for (int t = 0; t < wb; ++t) sb[t * np + pe] = diag[t * n + e];
  }
  __syncthreads();
  const long s = c * static_cast<long>(M);
  const int len = static_cast<int>(min(static_cast<long>(M), n - s));
  const double* cf = sc + s + c;  // this chunk's rows in the staged arrays
  const double* bf = sb + s + c;
  // Work items: tiles of LB consecutive lines (line l = o inner + j), strided over the grid so
  // that each block stages the coefficients once for many items.
  const long lines = vi.outer * vi.inner, tiles = (lines + LB - 1) / LB;
  for (long item = blockIdx.x; item < tiles; item += gridDim.x) {
    const long l = item * LB + tx, o = l / vi.inner, j0 = l - o * vi.inner;
    const bool live = l < lines;
    double r[M];
    if (live) {
      const double* x = in + o * vi.ostride + j0;
      const long si = vi.inner;
      // The chunk's input rows and K either side (wrapped when periodic, zero off the line),
      // then b = B x row by row (rows past a short last chunk: computed, never used).
      double xw[M + 2 * K];
#pragma unroll
      for (int q = 0; q < M + 2 * K; ++q) {
        long cc = s - K + q;
        if (cc < 0) cc = periodic ? cc + n : -1;
        else if (cc >= n) cc = periodic ? cc - n : -1;
        const double xv = cc >= 0 ? __ldg(x + cc * si) : 0.0;
        xw[q] = iscale && cc >= 0 ? iscale[cc] * xv : xv;
      }
#pragma unroll
      for (int q = 0; q < M; ++q) {
        if (K > 0 && wb > 0) {
          double b = 0;
#pragma unroll
          for (int tt = 0; tt <= 2 * K; ++tt) b += bf[tt * np + q] * xw[q + tt];
          r[q] = b;
        } else if (wb > 0) {
          r[q] = bf[q] * xw[q];  // K = 0: a diagonal B
        } else {
          r[q] = xw[q + K];
        }
      }
      // Closure rows (dense blocks over the first and last columns) in the first and last chunks.
      if (diag && c == 0) {
#pragma unroll
        for (int q = 0; q < M; ++q)
          if (q < sb_.L) {
            double b = 0;
            for (int col = 0; col < sb_.Cl; ++col) b += sb_.lead[q * sb_.Cl + col] * __ldg(x + col * si);
            r[q] = b;
          }
      }
      if (diag && c == P - 1) {
#pragma unroll
        for (int q = 0; q < M; ++q) {
          const int m = q - (len - sb_.T);
          if (m >= 0 && q < len) {
            double b = 0;
            for (int col = 0; col < sb_.Ct; ++col) b += sb_.trail[m * sb_.Ct + col] * __ldg(x + (n - sb_.Ct + col) * si);
            r[q] = b;
          }
        }
      }
      double prev = 0;
#pragma unroll
      for (int q = 0; q < M; ++q)
        if (q < len) prev = r[q] = (r[q] - cf[q] * prev) * cf[np + q];
#pragma unroll
      for (int q = M - 2; q >= 0; --q)
        if (q < len - 1) r[q] -= cf[2 * np + q] * r[q + 1];
      ends[(2 * c) * LB + tx] = r[0];
      ends[(2 * c + 1) * LB + tx] = prev;  // row len - 1: the backward sweep leaves it as is
    }
    __syncthreads();
    if (live) {
      const double* g0 = Gm + (2 * c) * gstride;
      const double* g1 = g0 + gstride;
      double z0 = 0, z1 = 0;
      for (int q = 0; q < 2 * P; ++q) {
        const double e = ends[q * LB + tx];
        z0 += g0[q] * e;
        z1 += g1[q] * e;
      }
      zs[(2 * c) * LB + tx] = z0;
      zs[(2 * c + 1) * LB + tx] = z1;
    }
    __syncthreads();
    if (live) {
      const int left = c > 0 ? c - 1 : (periodic ? P - 1 : -1), right = c < P - 1 ? c + 1 : (periodic ? 0 : -1);
      const double E = left >= 0 ? zs[(2 * left + 1) * LB + tx] : 0.0, F = right >= 0 ? zs[(2 * right) * LB + tx] : 0.0;
      double* y = out + o * vo.ostride + j0;
#pragma unroll
      for (int q = 0; q < M; ++q) {
        if (q >= len) continue;
        const long i = s + q;
        double val = r[q] + cf[3 * np + q] * E + cf[4 * np + q] * F;
        if (oscale) val *= oscale[i];
        double& yi = y[i * vo.inner];
        yi = acc ? yi + val : val;
      }
    }
    __syncthreads();
  }
}

// out (+)= diag(scale) in (scale may be null).
template <class T>
__global__ void k_scale_add(const T* in, Shape vi, T* out, Shape vo, const double* scale, bool acc) {
  for_elements(vi, [&](long o, long i, long j) {
    T s = in[o * vi.ostride + i * vi.inner + j];
    if (scale) s *= scale[i];
    T& y = out[o * vo.ostride + i * vo.inner + j];
    y = acc ? y + s : s;
  });
}

template <class T>
__global__ void k_fill_zero(T* out, Shape vo) {
  for_elements(vo, [&](long o, long i, long j) { out[o * vo.ostride + i * vo.inner + j] = T(0); });
}

// out (+)= d_g .* in, g = (l / span) % groups of line l = o*inner + j.
template <class T>
__global__ void k_diagonal(const T* in, Shape vi, T* out, Shape vo, const T* d, long groups, long span, bool conj, bool acc) {
  const long n = vi.n;
  for_elements(vi, [&](long o, long i, long j) {
    const long g = groups == 1 ? 0 : ((o * vi.inner + j) / span) % groups;
    const T s = conj_if(d[g * n + i], conj) * in[o * vi.ostride + i * vi.inner + j];
    T& y = out[o * vo.ostride + i * vo.inner + j];
    y = acc ? y + s : s;
  });
}

// General block-dense product, one thread per output element (layouts cuBLAS batches cannot
// express): A_g row-major m x ncol; trans 0: y_i = sum_k A_ik x_k, 1: A_ki, 2: conj(A_ki).
template <class T>
__global__ void k_block_dense(const T* in, Shape vi, T* out, Shape vo, const T* a, long m, long ncol, long groups, long span,
                              int trans, bool acc) {
  for_elements(vo, [&](long o, long i, long j) {
    const long g = ((o * vo.inner + j) / span) % groups;
    const T* A = a + g * m * ncol;
    const T* x = in + o * vi.ostride + j;
    T s = T(0);
    for (long k = 0; k < vi.n; ++k) {
      const T c = trans == 0 ? A[i * ncol + k] : conj_if(A[k * ncol + i], trans == 2);
      s += c * x[k * vi.inner];
    }
    T& y = out[o * vo.ostride + i * vo.inner + j];
    y = acc ? y + s : s;
  });
}

// Row-major blocks (G of m x n) to their column-major copies.
template <class T>
__global__ void k_column_major(const T* row, T* col, long groups, long m, long n) {
  const long total = groups * m * n;
  for (long k = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; k < total; k += static_cast<long>(gridDim.x) * blockDim.x) {
    const long g = k / (m * n), r = k % (m * n);
    col[g * m * n + (r % n) * m + r / n] = row[k];
  }
}

// The coefficient gradient, one thread per coefficient k of `coefs` (block g, row i, column j; a
// diagonal's point i = j), summing over chunk blockIdx.y's share of its group's lines: lines
// t = 0 .. per_group-1 of group g are l = (t / span * G + g) span + t % span (increasing in t).
// trans 0: dout_i conj(in_j); 1: conj(in_i) dout_j; 2: in_i conj(dout_j); diagonal: dout_i
// conj(in_i) (trans 0, 1) or conj(dout_i) in_i (2). Partial sums to part[chunk * coefs + k].
template <class T>
__global__ void k_coefficient_gradient(const T* x, Shape vi, const T* y, Shape vo, T* part, long G, long m, long n, long span, int trans,
                                       bool diagonal, long per_group, long per_chunk, long coefs) {
  const long L = vi.outer * vi.inner, t0 = blockIdx.y * per_chunk, t1 = min(per_group, t0 + per_chunk);
  for (long k = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; k < coefs; k += static_cast<long>(gridDim.x) * blockDim.x) {
    long g, i, j;
    if (diagonal) {
      g = k / n;
      i = j = k % n;
    } else {
      g = k / (m * n);
      i = (k % (m * n)) / n;
      j = k % n;
    }
    T s = T(0);
    for (long t = t0; t < t1; ++t) {
      const long l = ((t / span) * G + g) * span + t % span;
      if (l >= L) break;
      const long o = l / vi.inner, q = l % vi.inner;
      const T* xl = x + o * vi.ostride + q;
      const T* yl = y + o * vo.ostride + q;
      if (diagonal) s += trans == 2 ? conj_if(yl[i * vo.inner], true) * xl[i * vi.inner] : yl[i * vo.inner] * conj_if(xl[i * vi.inner], true);
      else if (trans == 0) s += yl[i * vo.inner] * conj_if(xl[j * vi.inner], true);
      else if (trans == 1) s += conj_if(xl[i * vi.inner], true) * yl[j * vo.inner];
      else s += xl[i * vi.inner] * conj_if(yl[j * vo.inner], true);
    }
    part[blockIdx.y * coefs + k] = s;
  }
}

// grad (+)= the sum of the chunks' partial sums, in chunk order; conj: of their conjugates.
template <class T>
__global__ void k_sum_parts(const T* part, long chunks, long coefs, T* grad, bool acc, bool conj) {
  for (long k = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; k < coefs; k += static_cast<long>(gridDim.x) * blockDim.x) {
    T s = acc ? grad[k] : T(0);
    for (long c = 0; c < chunks; ++c) s += conj_if(part[c * coefs + k], conj);
    grad[k] = s;
  }
}

// Many parts: a block takes 32 coefficients and its 16 thread rows the parts c = row, row + 16,
// ... (a fixed assignment); row 0 then adds the rows' sums in order, so every run gives the same
// bits.
constexpr int kSumRows = 16;
template <class T>
__global__ void k_sum_parts_wide(const T* part, long chunks, long coefs, T* grad, bool acc, bool conj) {
  __shared__ alignas(16) unsigned char buf[kSumRows * 32 * sizeof(T)];
  T* rows = reinterpret_cast<T*>(buf);
  const long k = blockIdx.x * 32L + threadIdx.x;
  T s = T(0);
  if (k < coefs)
    for (long c = threadIdx.y; c < chunks; c += kSumRows) s += conj_if(part[c * coefs + k], conj);
  rows[threadIdx.y * 32 + threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && k < coefs) {
    T t = acc ? grad[k] : T(0);
    for (int r = 0; r < kSumRows; ++r) t += rows[r * 32 + threadIdx.x];
    grad[k] = t;
  }
}

// grad (+)= the sum of `chunks` parts of `coefs` values each, in a fixed order.
template <class T>
void sum_parts(const T* part, long chunks, long coefs, T* grad, bool acc, bool conj) {
  cudaStream_t st = core::device_context().stream;
  if (chunks >= kSumRows && (coefs + 31) / 32 <= (1L << 31) - 1)
    k_sum_parts_wide<T><<<static_cast<unsigned>((coefs + 31) / 32), dim3(32, kSumRows), 0, st>>>(part, chunks, coefs, grad, acc, conj);
  else
    k_sum_parts<T><<<grid_for(coefs), kBlock, 0, st>>>(part, chunks, coefs, grad, acc, conj);
}

template <class T>
core::DeviceBuffer<T> upload(const std::vector<T>& v) {
  core::DeviceBuffer<T> d(v.size());
  if (!v.empty()) core::copy_to_device(d.data(), v.data(), v.size() * sizeof(T));
  return d;
}
// Host values as device values of the same layout (std::complex as cuda::std::complex).
template <class D, class H>
core::DeviceBuffer<D> upload_as(const std::vector<H>& v) {
  static_assert(sizeof(D) == sizeof(H), "layouts differ");
  core::DeviceBuffer<D> d(v.size());
  if (!v.empty()) core::copy_to_device(d.data(), v.data(), v.size() * sizeof(D));
  return d;
}
// Row-major blocks (m x n each) as column-major blocks.
template <class T>
std::vector<T> column_major(const std::vector<T>& a, long groups, long m, long n) {
  std::vector<T> c(a.size());
  for (long g = 0; g < groups; ++g)
    for (long i = 0; i < m; ++i)
      for (long j = 0; j < n; ++j) c[static_cast<std::size_t>(g * m * n + j * m + i)] = a[static_cast<std::size_t>(g * m * n + i * n + j)];
  return c;
}

cublasOperation_t op_of(int trans) { return trans == 0 ? CUBLAS_OP_N : (trans == 1 ? CUBLAS_OP_T : CUBLAS_OP_C); }

// cuBLAS GEMMs of one scalar type.
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const double* a, long lda,
                    const double* b, long ldb, double beta, double* c, long ldc) {
  const double one = 1.0;
  return cublasDgemm(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a, static_cast<int>(lda), b,
                     static_cast<int>(ldb), &beta, c, static_cast<int>(ldc));
}
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const Z* a, long lda, const Z* b,
                    long ldb, double beta, Z* c, long ldc) {
  const cuDoubleComplex one{1.0, 0.0}, bz{beta, 0.0};
  return cublasZgemm(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one,
                     reinterpret_cast<const cuDoubleComplex*>(a), static_cast<int>(lda), reinterpret_cast<const cuDoubleComplex*>(b),
                     static_cast<int>(ldb), &bz, reinterpret_cast<cuDoubleComplex*>(c), static_cast<int>(ldc));
}
cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const double* a, long lda,
                            long sa, const double* b, long ldb, long sb, double beta, double* c, long ldc, long sc, long count) {
  const double one = 1.0;
  return cublasDgemmStridedBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a,
                                   static_cast<int>(lda), sa, b, static_cast<int>(ldb), sb, &beta, c, static_cast<int>(ldc), sc,
                                   static_cast<int>(count));
}
cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const Z* a, long lda,
                            long sa, const Z* b, long ldb, long sb, double beta, Z* c, long ldc, long sc, long count) {
  const cuDoubleComplex one{1.0, 0.0}, bz{beta, 0.0};
  return cublasZgemmStridedBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one,
                                   reinterpret_cast<const cuDoubleComplex*>(a), static_cast<int>(lda), sa,
                                   reinterpret_cast<const cuDoubleComplex*>(b), static_cast<int>(ldb), sb, &bz,
                                   reinterpret_cast<cuDoubleComplex*>(c), static_cast<int>(ldc), sc, static_cast<int>(count));
}

// GEMMs of equal shapes at the addresses in a, b and c (device arrays of `count` pointers).
cublasStatus_t gemm_pointers(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, double* const* a, long lda,
                             double* const* b, long ldb, double* const* c, long ldc, long count) {
  const double one = 1.0, zero = 0.0;
  return cublasDgemmBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a, static_cast<int>(lda), b,
                            static_cast<int>(ldb), &zero, c, static_cast<int>(ldc), static_cast<int>(count));
}
cublasStatus_t gemm_pointers(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, Z* const* a, long lda,
                             Z* const* b, long ldb, Z* const* c, long ldc, long count) {
  const cuDoubleComplex one{1.0, 0.0}, zero{0.0, 0.0};
  return cublasZgemmBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one,
                            reinterpret_cast<cuDoubleComplex* const*>(a), static_cast<int>(lda), reinterpret_cast<cuDoubleComplex* const*>(b),
                            static_cast<int>(ldb), &zero, reinterpret_cast<cuDoubleComplex* const*>(c), static_cast<int>(ldc),
                            static_cast<int>(count));
}

// Single precision: SGEMM and CGEMM (beta is 0 or 1).
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const float* a, long lda,
                    const float* b, long ldb, double beta, float* c, long ldc) {
  const float one = 1.0f, bf = static_cast<float>(beta);
  return cublasSgemm(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a, static_cast<int>(lda), b,
                     static_cast<int>(ldb), &bf, c, static_cast<int>(ldc));
}
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const C* a, long lda, const C* b,
                    long ldb, double beta, C* c, long ldc) {
  const cuComplex one{1.0f, 0.0f}, bz{static_cast<float>(beta), 0.0f};
  return cublasCgemm(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, reinterpret_cast<const cuComplex*>(a),
                     static_cast<int>(lda), reinterpret_cast<const cuComplex*>(b), static_cast<int>(ldb), &bz, reinterpret_cast<cuComplex*>(c),
                     static_cast<int>(ldc));
}
cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const float* a, long lda,
                            long sa, const float* b, long ldb, long sb, double beta, float* c, long ldc, long sc, long count) {
  const float one = 1.0f, bf = static_cast<float>(beta);
  return cublasSgemmStridedBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a,
                                   static_cast<int>(lda), sa, b, static_cast<int>(ldb), sb, &bf, c, static_cast<int>(ldc), sc,
                                   static_cast<int>(count));
}
cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, const C* a, long lda,
                            long sa, const C* b, long ldb, long sb, double beta, C* c, long ldc, long sc, long count) {
  const cuComplex one{1.0f, 0.0f}, bz{static_cast<float>(beta), 0.0f};
  return cublasCgemmStridedBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one,
                                   reinterpret_cast<const cuComplex*>(a), static_cast<int>(lda), sa, reinterpret_cast<const cuComplex*>(b),
                                   static_cast<int>(ldb), sb, &bz, reinterpret_cast<cuComplex*>(c), static_cast<int>(ldc), sc,
                                   static_cast<int>(count));
}
cublasStatus_t gemm_pointers(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, float* const* a, long lda,
                             float* const* b, long ldb, float* const* c, long ldc, long count) {
  const float one = 1.0f, zero = 0.0f;
  return cublasSgemmBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one, a, static_cast<int>(lda), b,
                            static_cast<int>(ldb), &zero, c, static_cast<int>(ldc), static_cast<int>(count));
}
cublasStatus_t gemm_pointers(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, long m, long n, long k, C* const* a, long lda,
                             C* const* b, long ldb, C* const* c, long ldc, long count) {
  const cuComplex one{1.0f, 0.0f}, zero{0.0f, 0.0f};
  return cublasCgemmBatched(h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &one,
                            reinterpret_cast<cuComplex* const*>(a), static_cast<int>(lda), reinterpret_cast<cuComplex* const*>(b),
                            static_cast<int>(ldb), &zero, reinterpret_cast<cuComplex* const*>(c), static_cast<int>(ldc),
                            static_cast<int>(count));
}

// The addresses of piece q of slab o (q < pieces, o < slabs) in x and y, and of its part.
template <class T>
__global__ void k_piece_pointers(const T* x, long sx, const T* y, long sy, T* part, long coefs, long slabs, long pieces, long piece, T** p) {
  const long count = slabs * pieces;
  for (long j = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; j < count; j += static_cast<long>(gridDim.x) * blockDim.x) {
    const long o = j / pieces, q = j % pieces;
    p[j] = const_cast<T*>(x + o * sx + q * piece);
    p[count + j] = const_cast<T*>(y + o * sy + q * piece);
    p[2 * count + j] = part + j * coefs;
  }
}

// out (+)= op(A) in for every line, A given row-major (`row`, = column-major A^T) and
// column-major (`col`), m x n. Contiguous lines are the columns of one column-major matrix:
// Y = op(A) X, one GEMM. Interleaved lines of a slab are the rows of one: Y^T = X^T op(A)^T, and
// op(A)^T is `row` under N, T or C; the slabs are one strided-batched GEMM.
template <class T>
void gemm_lines(const T* row, const T* col, long m, long n, int trans, const T* in, const Shape& vi, T* out, const Shape& vo, bool acc) {
  cublasHandle_t h = core::device_context().blas;
  const double beta = acc ? 1.0 : 0.0;
  if (vi.inner == 1) {
    for (long o0 = 0; o0 < vi.outer; o0 += (1L << 30)) {  // cuBLAS takes int sizes
      const long cols = std::min(vi.outer - o0, 1L << 30);
      core::cublas_check(gemm(h, op_of(trans), CUBLAS_OP_N, vo.n, cols, vi.n, col, m, in + o0 * vi.ostride, vi.ostride, beta,
                              out + o0 * vo.ostride, vo.ostride),
                         "cuBLAS GEMM of a line operator");
    }
    return;
  }
  core::cublas_check(gemm_batched(h, CUBLAS_OP_N, op_of(trans), vi.inner, vo.n, vi.n, in, vi.inner, vi.ostride, row, n, 0, beta, out,
                                  vo.inner, vo.ostride, vi.outer),
                     "cuBLAS strided-batched GEMM of a line operator");
}

template <class T>
const T* ptr(const core::DeviceBuffer<T>& b) {
  return b.size() ? b.data() : nullptr;
}

}  // namespace

// The same lines in another layout (tiled transposes through copy_box_device; accumulate adds):
// contiguous (L lines, ostride s) <-> interleaved (one slab, inner L).
Shape interleaved_shape(const Shape& v) { return {1, v.n, v.outer, v.n * v.outer}; }
void to_interleaved(const double* src, const Shape& v, double* dst) {
  layout::copy_box_device<double>(src, {1, v.ostride, 0}, dst, {v.outer, 1, 0}, {v.n, v.outer, 1}, false);
}
void from_interleaved(const double* src, double* dst, const Shape& v, bool acc) {
  layout::copy_box_device<double>(src, {v.outer, 1, 0}, dst, {1, v.ostride, 0}, {v.n, v.outer, 1}, acc);
}
// Enough lines that re-laying them out pays for itself.
constexpr long kRelayoutLines = 64;

struct Executor::Impl {
  Kind kind;
  long m, n, groups, span;
  bool complex, single;
  Transform transform;
  // Dense / BlockDense / Diagonal coefficients (row-major and column-major copies for GEMMs), in
  // the plan's one scalar type.
  core::DeviceBuffer<double> row, col;
  core::DeviceBuffer<Z> zrow, zcol;
  core::DeviceBuffer<float> srow, scol;
  core::DeviceBuffer<C> crow, ccol;
  // f(row, col) with the coefficient buffers of the plan's scalar type.
  template <class F>
  void with_coefficients(F&& f) const {
    auto& self = const_cast<Impl&>(*this);
    if (single) {
      if (complex) f(self.crow, self.ccol);
      else f(self.srow, self.scol);
    } else {
      if (complex) f(self.zrow, self.zcol);
      else f(self.row, self.col);
    }
  }
  // Real: prepared terms.
  struct DTerm {
    Term::Kind kind;
    int kl = 0, ku = 0;
    bool periodic = false;
    core::DeviceBuffer<double> diag, sub, invp, sup, z, scale, drow, dcol;
    double vn = 0, denom = 1;
    // The partitioned solve's plan (P = 0: none).
    core::DeviceBuffer<double> csub, cinv, csup, cv, cw, G;
    int P = 0;
    core::DeviceBuffer<double> band, lead, trail;
    device::BandSplit split;  // its sizes (the vectors left empty)
    SplitB split_b() const { return {band.data(), lead.data(), trail.data(), split.L, split.Cl, split.T, split.Ct}; }
    Chunks chunks() const { return {csub.data(), cinv.data(), csup.data(), cv.data(), cw.data(), G.data(), P}; }
  };
  std::vector<DTerm> fwd, tr;
  // Transform: the line transforms of A and of A^T, and the pre/post scalings of the transposes.
  std::unique_ptr<layout::DeviceLineFft> fft, fft_t;
  core::DeviceBuffer<double> first_double, first_half, w, w_inv;

  static DTerm prepare(const Term& t, long n) {
    DTerm d;
    d.kind = t.kind;
    d.scale = upload(t.scale);
    if (t.kind == Term::Kind::Dense) {
      d.drow = upload(t.d);
      d.dcol = upload(column_major(t.d, 1, n, n));
      return d;
    }
    d.kl = t.b.kl;
    d.ku = t.b.ku;
    d.periodic = t.b.periodic;
    d.diag = upload(t.b.diag);
    if (t.kind == Term::Kind::Compact) {
      d.sub = upload(t.a.sub);
      d.invp = upload(t.a.inv_pivot);
      d.sup = upload(t.a.sup);
      d.z = upload(t.a.z);
      d.vn = t.a.vn;
      d.denom = t.a.denom;
      if (!t.a.G.empty()) {
        d.csub = upload(t.a.csub);
        d.cinv = upload(t.a.cinv);
        d.csup = upload(t.a.csup);
        d.cv = upload(t.a.v);
        d.cw = upload(t.a.w);
        d.G = upload(t.a.G);
        d.P = static_cast<int>((n + Tridiagonal::kChunk - 1) / Tridiagonal::kChunk);
        d.split.K = t.split.K;
        if (t.split.K >= 0) {
          d.band = upload(t.split.band);
          d.lead = upload(t.split.lead);
          d.trail = upload(t.split.trail);
          d.split.L = t.split.L;
          d.split.Cl = t.split.Cl;
          d.split.T = t.split.T;
          d.split.Ct = t.split.Ct;
        }
      }
    }
    return d;
  }

  // The partitioned compact kernel serves interleaved lines whose length has a chunk plan.
  // Interleaved lines coalesce; contiguous ones (inner = 1) read each line's chunk as a run of
  // 128 bytes per thread, whole sectors through L1.
  // (Measured on the H200 at 512^3: contiguous lines read directly 3.36 ms, re-laid out 4.95 ms.)
  static bool chunked(const DTerm& t, const Shape& v, bool with_b) {
    return t.P > 0 && (v.inner >= 32 || v.inner == 1) && (!with_b || t.split.K >= 0) &&
           chunk_shared_bytes(t.P, Tridiagonal::kChunk, with_b ? 2 * t.split.K + 1 : 0, kChunkThreads / t.P, false) <= 200 * 1024;
  }
  static void compact_chunked(const DTerm& t, const double* x, const Shape& vi, double* y, const Shape& vo, bool with_b, const double* iscale,
                              const double* oscale, bool acc) {
    auto& ctx = core::device_context();
    const unsigned lb = static_cast<unsigned>(kChunkThreads / t.P);
    const long items = (vi.outer * vi.inner + lb - 1) / lb;
    const dim3 grid(static_cast<unsigned>(std::min(items, 4096L)));
    const dim3 block(lb, static_cast<unsigned>(t.P));
    SplitB B = t.split_b();
    if (!with_b) B = {nullptr, nullptr, nullptr, 0, 0, 0, 0};
    constexpr int M = Tridiagonal::kChunk;
    const int K = with_b ? t.split.K : 0;
    // G in shared memory where it fits beside the rest (two blocks a multiprocessor), else read
    // from global memory through L1.
    const bool g_shared = chunk_shared_bytes(t.P, M, with_b ? 2 * K + 1 : 0, static_cast<int>(lb), true) <= 110 * 1024;
    const std::size_t shared = chunk_shared_bytes(t.P, M, with_b ? 2 * K + 1 : 0, static_cast<int>(lb), g_shared);
    auto launch = [&](auto kernel) {
      core::cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
                       "the compact kernel's shared memory");
      kernel<<<grid, block, shared, ctx.stream>>>(x, vi, y, vo, B, t.periodic, t.chunks(), iscale, oscale, acc, g_shared);
    };
    switch (K) {
      case 0: launch(k_compact_chunked<M, 0, 2>); break;
      case 1: launch(k_compact_chunked<M, 1, 2>); break;
      case 2: launch(k_compact_chunked<M, 2, 2>); break;
      case 3: launch(k_compact_chunked<M, 3, 2>); break;
      default: launch(k_compact_chunked<M, 4, 2>); break;
    }
  }

  bool all_chunked(const Shape& v, bool transposed) const {
    for (const DTerm& t : transposed ? tr : fwd)
      if (t.kind == Term::Kind::Compact && !chunked(t, v, !transposed)) return false;
    return true;
  }

  bool has_compact(bool transposed) const {
    for (const DTerm& t : transposed ? tr : fwd)
      if (t.kind == Term::Kind::Compact) return true;
    return false;
  }

  void real_apply(const Lines& in, const Lines& out, bool transposed, bool acc) const {
    auto& ctx = core::device_context();
    const Shape vi = shape(in), vo = shape(out);
    if (vi.inner == 1 && vi.outer >= kRelayoutLines && has_compact(transposed) && !all_chunked(vi, transposed)) {
      // Compact solves run one thread per line: contiguous lines would not coalesce. Interleave
      // them (a tiled transpose), solve, and transpose back (adding when accumulating).
      const Shape vs = interleaved_shape(vi);
      double* xi = ctx.scratch<double>(2, static_cast<std::size_t>(vi.outer * vi.n));
      double* yi = ctx.scratch<double>(3, static_cast<std::size_t>(vi.outer * vi.n));
      to_interleaved(static_cast<const double*>(in.p), vi, xi);
      real_apply({xi, vs.outer, vs.n, vs.inner, vs.ostride}, {yi, vs.outer, vs.n, vs.inner, vs.ostride}, transposed, false);
      from_interleaved(yi, static_cast<double*>(out.p), vo, acc);
      launched("a line operator's relayout");
      return;
    }
    const double* x = static_cast<const double*>(in.p);
    double* y = static_cast<double*>(out.p);
    const Shape vt{vi.outer, vi.n, vi.inner, vi.n * vi.inner};  // scratch laid out like the input, packed
    const std::size_t count = static_cast<std::size_t>(vi.outer * vi.n * vi.inner);
    const dim3 blocks = grid3(vi);
    const std::vector<DTerm>& terms = transposed ? tr : fwd;
    if (terms.empty() && !acc) k_fill_zero<double><<<grid3(vo), kBlock, 0, ctx.stream>>>(y, vo);
    bool first = !acc;
    for (const DTerm& t : terms) {
      const double* s = ptr(t.scale);
      if (!transposed) {
        if (t.kind == Term::Kind::Banded) {
          k_banded<<<blocks, kBlock, 0, ctx.stream>>>(x, vi, y, vo, t.diag.data(), t.kl, t.ku, t.periodic, nullptr, s, !first);
        } else if (t.kind == Term::Kind::Compact) {
          // One fused pass per line; the forward sweep's values go to the output itself unless
          // the output accumulates.
          if (chunked(t, vi, true)) {
            compact_chunked(t, x, vi, y, vo, true, nullptr, s, !first);
            launched("a line operator's kernel");
            first = false;
            continue;
          }
          double* tmp = first ? y : ctx.scratch<double>(0, count);
          const Shape vtt = first ? vo : vt;
          k_compact<<<grid_for(vi.outer * vi.inner), kBlock, 0, ctx.stream>>>(x, vi, y, vo, tmp, vtt, t.diag.data(), t.kl, t.ku, t.periodic,
                                                                               t.sub.data(), t.invp.data(), t.sup.data(), ptr(t.z), t.vn,
                                                                               t.denom, nullptr, s, !first);
        } else {
          double* tmp = ctx.scratch<double>(0, count);
          gemm_lines(t.drow.data(), t.dcol.data(), n, n, 0, x, vi, tmp, vt, false);
          k_scale_add<double><<<blocks, kBlock, 0, ctx.stream>>>(tmp, vt, y, vo, s, !first);
        }
      } else {
        if (t.kind == Term::Kind::Banded) {
          k_banded<<<blocks, kBlock, 0, ctx.stream>>>(x, vi, y, vo, t.diag.data(), t.kl, t.ku, t.periodic, s, nullptr, !first);
        } else if (t.kind == Term::Kind::Compact) {
          // B^T A^-T diag(s): the scaled solve in one pass, then B^T.
          double* tmp = ctx.scratch<double>(0, count);
          if (chunked(t, vi, false)) compact_chunked(t, x, vi, tmp, vt, false, s, nullptr, false);
          else
          k_compact<<<grid_for(vi.outer * vi.inner), kBlock, 0, ctx.stream>>>(x, vi, tmp, vt, tmp, vt, nullptr, 0, 0, false, t.sub.data(),
                                                                               t.invp.data(), t.sup.data(), ptr(t.z), t.vn, t.denom, s,
                                                                               nullptr, false);
          k_banded<<<blocks, kBlock, 0, ctx.stream>>>(tmp, vt, y, vo, t.diag.data(), t.kl, t.ku, t.periodic, nullptr, nullptr, !first);
        } else {
          const double* src = x;
          Shape vs = vi;
          if (s) {
            double* tmp = ctx.scratch<double>(0, count);
            k_scale_add<double><<<blocks, kBlock, 0, ctx.stream>>>(x, vi, tmp, vt, s, false);
            src = tmp;
            vs = vt;
          }
          gemm_lines(t.drow.data(), t.dcol.data(), n, n, 1, src, vs, y, vo, !first);
        }
      }
      launched("a line operator's kernel");
      first = false;
    }
  }

  // The transposes: DST-I is symmetric; DCT-II^T = DCT-III after doubling x_0; DCT-III^T =
  // DCT-II, then halving y_0; R2HC^T = HC2R after weighting by w; HC2R^T = R2HC, then / w.
  void transform_apply(const Lines& in, const Lines& out, bool transposed, bool acc) const {
    const double *pre = nullptr, *post = nullptr;
    if (transposed) {
      switch (transform) {
        case Transform::DST1: break;
        case Transform::DCT2: pre = first_double.data(); break;
        case Transform::DCT3: post = first_half.data(); break;
        case Transform::R2HC: pre = w.data(); break;
        case Transform::HC2R: post = w_inv.data(); break;
      }
    }
    (transposed ? fft_t : fft)->execute_scaled({in.p, in.outer, in.n, in.inner, in.ostride}, {out.p, out.outer, out.n, out.inner, out.ostride},
                                              pre, post, acc);
  }

  template <class T>
  void coefficient_apply(const core::DeviceBuffer<T>& r, const core::DeviceBuffer<T>& c, const Lines& in, const Lines& out, int trans,
                         bool acc) const {
    auto& ctx = core::device_context();
    const Shape vi = shape(in), vo = shape(out);
    const T* x = static_cast<const T*>(in.p);
    T* y = static_cast<T*>(out.p);
    if (kind == Kind::Diagonal) {
      k_diagonal<T><<<grid3(vi), kBlock, 0, ctx.stream>>>(x, vi, y, vo, r.data(), groups, span, trans == 2, acc);
    } else if (groups == 1) {
      gemm_lines(r.data(), c.data(), m, n, trans, x, vi, y, vo, acc);
    } else if (vi.inner == 1 && vi.outer % (groups * span) == 0) {
      // Contiguous lines in whole cycles of the groups: per group, one strided-batched GEMM over
      // its runs of `span` lines.
      const long cycles = vi.outer / (groups * span), stride = groups * span;
      for (long g = 0; g < groups; ++g)
        core::cublas_check(gemm_batched(ctx.blas, op_of(trans), CUBLAS_OP_N, vo.n, span, vi.n, c.data() + g * m * n, m, 0,
                                        x + g * span * vi.ostride, vi.ostride, stride * vi.ostride, acc ? 1.0 : 0.0,
                                        y + g * span * vo.ostride, vo.ostride, stride * vo.ostride, cycles),
                           "cuBLAS strided-batched GEMM of a block-dense line operator");
    } else {
      k_block_dense<T><<<grid3(vo), kBlock, 0, ctx.stream>>>(x, vi, y, vo, r.data(), m, n, groups, span,
                                                                                         trans, acc);
    }
    launched("a line operator's kernel");
  }

  template <class T>
  void set_coefficients(core::DeviceBuffer<T>& r, core::DeviceBuffer<T>& c, const void* a) {
    auto& ctx = core::device_context();
    core::cuda_check(cudaMemcpyAsync(r.data(), a, r.size() * sizeof(T), cudaMemcpyDeviceToDevice, ctx.stream), "copying line-operator coefficients");
    if (c.size()) k_column_major<T><<<grid_for(static_cast<long>(r.size())), kBlock, 0, ctx.stream>>>(r.data(), c.data(), groups, m, n);
    launched("a line operator's coefficient update");
  }

  // grad (+)= dL/dA. Trans N products of whole runs of lines sharing a block (few enough) are
  // cuBLAS GEMMs accumulating into the block's gradient; the rest one thread per coefficient
  // over chunks of its group's lines, the chunks summed in order.
  template <class T>
  void coefficient_gradient(const Lines& in, const Lines& dout, T* grad, int trans, bool acc) const {
    auto& ctx = core::device_context();
    const Shape vi = shape(in), vo = shape(dout);
    const T* x = static_cast<const T*>(in.p);
    const T* y = static_cast<const T*>(dout.p);
    const bool diagonal = kind == Kind::Diagonal;
    const long coefs = diagonal ? groups * n : groups * m * n, L = vi.outer * vi.inner;
    constexpr bool cplx = !std::is_same_v<T, double> && !std::is_same_v<T, float>;
    // Runs of lines with one block: (offset of the run's first line in x and in dout, lines, block).
    struct Run {
      long ox, oy, len, g;
    };
    std::vector<Run> runs;
    constexpr std::size_t kMaxRuns = 256;
    if (!diagonal && trans == 0) {
      if (vi.inner == 1) {
        const long step = groups == 1 ? vi.outer : span;
        for (long c0 = 0; c0 < vi.outer && runs.size() <= kMaxRuns; c0 += step)
          runs.push_back({c0 * vi.ostride, c0 * vo.ostride, std::min(step, vi.outer - c0), (c0 / span) % groups});
      } else if (span % vi.inner == 0 || vi.inner % span == 0) {
        const long len = std::min(span, vi.inner);
        for (long o = 0; o < vi.outer && runs.size() <= kMaxRuns; ++o)
          for (long q0 = 0; q0 < vi.inner; q0 += len)
            runs.push_back({o * vi.ostride + q0, o * vo.ostride + q0, len, ((o * vi.inner + q0) / span) % groups});
      }
    }
    // One block and interleaved lines (a point-wise map over channels): the product is a sum over
    // slabs and their points. Each slab's points are cut into pieces so that the GEMMs fill the
    // GPU; every piece is one GEMM of a pointer-array batch into its own part (what is left over
    // after equal pieces, one strided batch more), and the parts are summed in a fixed order. One
    // launch where a GEMM a slab cost a launch each, and a split-K reduction each.
    if (!diagonal && trans == 0 && groups == 1 && vi.inner > 1 && vi.outer > 1) {
      static const long sms = [] {
        int dev = 0, count = 0;
        cudaGetDevice(&dev);
        cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev);
        return count > 0 ? static_cast<long>(count) : 132L;
      }();
      const long tiles = ((m + 31) / 32) * ((n + 31) / 32), fill = sms;  // 32 x 32 output tiles for a wave
      const long pieces = std::clamp((fill + vi.outer * tiles - 1) / (vi.outer * tiles), 1L, std::max(1L, vi.inner / 256));
      const long piece = vi.inner / pieces, rest = vi.inner - pieces * piece, per_slab = pieces + (rest > 0 ? 1 : 0);
      const long most = std::max(1L, (1L << 22) / (coefs * per_slab));  // slabs a round: parts of at most 32 MiB
      const long slabs = std::min(vi.outer, most);
      T* part = ctx.scratch<T>(5, static_cast<std::size_t>(slabs * per_slab * coefs));
      T** p = ctx.scratch<T*>(9, static_cast<std::size_t>(3 * slabs * pieces));
      const cublasOperation_t tx = cplx ? CUBLAS_OP_C : CUBLAS_OP_T;
      for (long o0 = 0; o0 < vi.outer; o0 += most) {
        const long count = std::min(most, vi.outer - o0);
        const T* xo = x + o0 * vi.ostride;
        const T* yo = y + o0 * vo.ostride;
        k_piece_pointers<T><<<grid_for(count * pieces), kBlock, 0, ctx.stream>>>(xo, vi.ostride, yo, vo.ostride, part, coefs, count, pieces, piece, p);
        core::cublas_check(gemm_pointers(ctx.blas, tx, CUBLAS_OP_N, n, m, piece, p, vi.inner, p + count * pieces, vo.inner, p + 2 * count * pieces, n,
                                         count * pieces),
                           "cuBLAS batched GEMM of a coefficient gradient");
        if (rest > 0)
          core::cublas_check(gemm_batched(ctx.blas, tx, CUBLAS_OP_N, n, m, rest, xo + pieces * piece, vi.inner, vi.ostride, yo + pieces * piece, vo.inner,
                                          vo.ostride, 0.0, part + count * pieces * coefs, n, coefs, count),
                             "cuBLAS strided-batched GEMM of a coefficient gradient");
        sum_parts(part, count * per_slab, coefs, grad, acc || o0 > 0, false);
      }
      launched("a coefficient gradient");
      return;
    }
    if (!runs.empty() && runs.size() <= kMaxRuns) {
      if (!acc) core::cuda_check(cudaMemsetAsync(grad, 0, static_cast<std::size_t>(coefs) * sizeof(T), ctx.stream), "zeroing a gradient");
      T* conj_part = nullptr;
      for (const Run& r : runs) {
        T* gg = grad + r.g * m * n;
        if (vi.inner > 1) {
          // Row-major G_g = column-major G_g^T = Xc^H DYc, Xc (len x n) and DYc (len x m) with ld inner.
          core::cublas_check(gemm(ctx.blas, cplx ? CUBLAS_OP_C : CUBLAS_OP_T, CUBLAS_OP_N, n, m, r.len, x + r.ox, vi.inner, y + r.oy, vo.inner,
                                  1.0, gg, n),
                             "cuBLAS GEMM of a coefficient gradient");
        } else if (!cplx) {
          // Contiguous lines are columns: G^T = X DY^T.
          core::cublas_check(gemm(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_T, n, m, r.len, x + r.ox, vi.ostride, y + r.oy, vo.ostride, 1.0, gg, n),
                             "cuBLAS GEMM of a coefficient gradient");
        } else {
          // Complex columns: X DY^H = conj(G^T), then added conjugated.
          if (!conj_part) conj_part = ctx.scratch<T>(5, static_cast<std::size_t>(m * n));
          core::cublas_check(gemm(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_C, n, m, r.len, x + r.ox, vi.ostride, y + r.oy, vo.ostride, 0.0, conj_part, n),
                             "cuBLAS GEMM of a coefficient gradient");
          k_sum_parts<T><<<grid_for(m * n), kBlock, 0, ctx.stream>>>(conj_part, 1, m * n, gg, true, true);
        }
      }
      launched("a coefficient gradient");
      return;
    }
    const long per_group = ((L + groups * span - 1) / (groups * span)) * span;
    const long chunks = std::max(1L, std::min({per_group / 32, std::max(1L, (1L << 18) / coefs), 4096L}));
    const long per_chunk = (per_group + chunks - 1) / chunks;
    T* part = ctx.scratch<T>(5, static_cast<std::size_t>(chunks * coefs));
    const dim3 grid(std::min(grid_for(coefs), 65535u), static_cast<unsigned>(chunks));
    k_coefficient_gradient<T><<<grid, kBlock, 0, ctx.stream>>>(x, vi, y, vo, part, groups, m, n, span, trans, diagonal, per_group, per_chunk, coefs);
    sum_parts(part, chunks, coefs, grad, acc, false);
    launched("a coefficient gradient");
  }
};

Executor::Executor(const Plan& p) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.kind = p.kind;
  d.m = p.m;
  d.n = p.n;
  d.groups = p.groups;
  d.span = p.span;
  d.complex = p.complex;
  d.single = p.single;
  d.transform = p.transform;
  switch (p.kind) {
    case Kind::Real:
      for (const Term& t : p.fwd) d.fwd.push_back(Impl::prepare(t, p.n));
      for (const Term& t : p.tr) d.tr.push_back(Impl::prepare(t, p.n));
      break;
    case Kind::Transform: {
      using R2R = layout::LineFft::R2R;
      static const R2R forward[] = {R2R::RODFT00, R2R::REDFT10, R2R::REDFT01, R2R::R2HC, R2R::HC2R};
      static const R2R transposed[] = {R2R::RODFT00, R2R::REDFT01, R2R::REDFT10, R2R::HC2R, R2R::R2HC};
      const int t = static_cast<int>(p.transform);
      d.fft = std::make_unique<layout::DeviceLineFft>(layout::LineFft::Kind::R2R, p.n, forward[t]);
      d.fft_t = std::make_unique<layout::DeviceLineFft>(layout::LineFft::Kind::R2R, p.n, transposed[t]);
      std::vector<double> first(static_cast<std::size_t>(p.n), 1.0);
      first[0] = 2.0;
      d.first_double = upload(first);
      first[0] = 0.5;
      d.first_half = upload(first);
      d.w = upload(p.hc_weight);
      std::vector<double> inv(p.hc_weight.size());
      for (std::size_t i = 0; i < inv.size(); ++i) inv[i] = 1.0 / p.hc_weight[i];
      d.w_inv = upload(inv);
      break;
    }
    case Kind::Diagonal:
    case Kind::Dense:
    case Kind::BlockDense: {
      // Row-major coefficients, and for products their column-major copy.
      const bool gemm = p.kind != Kind::Diagonal;
      auto load = [&](auto& row, auto& col, const auto& a) {
        using D = typename std::decay_t<decltype(row)>::value_type;
        row = upload_as<D>(a);
        if (gemm) col = upload_as<D>(column_major(a, p.groups, p.m, p.n));
      };
      if (p.single) {
        if (p.complex) load(d.crow, d.ccol, p.acf);
        else load(d.srow, d.scol, p.af);
      } else {
        if (p.complex) load(d.zrow, d.zcol, p.ac);
        else load(d.row, d.col, p.a);
      }
      break;
    }
  }
}

Executor::~Executor() = default;

void Executor::apply(const Lines& in, const Lines& out, int trans, bool accumulate) const {
  const Impl& d = *impl_;
  if (in.outer * in.inner == 0) return;
  switch (d.kind) {
    case Kind::Real: d.real_apply(in, out, trans != 0, accumulate); return;
    case Kind::Transform: d.transform_apply(in, out, trans != 0, accumulate); return;
    default: d.with_coefficients([&](const auto& row, const auto& col) { d.coefficient_apply(row, col, in, out, trans, accumulate); });
  }
}

void Executor::set_coefficients(const void* a) {
  Impl& d = *impl_;
  if (d.kind == Kind::Real || d.kind == Kind::Transform) return;
  d.with_coefficients([&](auto& row, auto& col) { d.set_coefficients(row, col, a); });
}

void Executor::coefficient_gradient(const Lines& in, const Lines& dout, void* grad, int trans, bool accumulate) const {
  const Impl& d = *impl_;
  d.with_coefficients([&](const auto& row, const auto&) {
    using T = typename std::decay_t<decltype(row)>::value_type;
    d.coefficient_gradient(in, dout, static_cast<T*>(grad), trans, accumulate);
  });
}

}  // namespace kron::linops::device
