// Device executors of nn::ops: element kernels on the rank's stream, and per-channel / per-sample
// reductions one block each, summed in a fixed order (the same bits every run). Values are R =
// double or float; sums are formed in double either way, element arithmetic in R.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/nn/ops_device.hpp"

namespace kron::nn::ops::device {
namespace {

using core::grid_for;
using core::kBlock;

void launched(const char* what) { core::cuda_check(cudaGetLastError(), what); }

#define KRON_NN_LOOP(idx, total) \
  for (long idx = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; idx < (total); idx += static_cast<long>(gridDim.x) * blockDim.x)

constexpr double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;

// The sum of v over the block's threads (tree order fixed by the block shape); thread 0 gets it.
__device__ double block_sum(double v) {
  __shared__ double s[kBlock];
  s[threadIdx.x] = v;
  __syncthreads();
  for (unsigned w = kBlock / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  const double r = s[0];
  __syncthreads();
  return r;
}

// The exact GELU in R's precision (float: erff and expf).
__device__ inline double erf_r(double x) { return erf(x); }
__device__ inline float erf_r(float x) { return erff(x); }
__device__ inline double exp_r(double x) { return exp(x); }
__device__ inline float exp_r(float x) { return expf(x); }
__device__ inline double sqrt_r(double x) { return sqrt(x); }
__device__ inline float sqrt_r(float x) { return sqrtf(x); }

template <class R>
__global__ void k_gather(const R* x, R* y, const long* idx, long nin, long nout, long total) {
  KRON_NN_LOOP(q, total) {
    const long l = q / nout, j = idx[q % nout];
    y[q] = j >= 0 ? x[l * nin + j] : R(0);
  }
}

// Planes are (sample, channel) rows of `points` values: blockIdx.y strides over them, so the
// channel is one division a block, not one a value.
template <class R>
__global__ void k_bias_add(R* y, const R* bias, long c, long points, long planes) {
  for (long pl = blockIdx.y; pl < planes; pl += gridDim.y) {
    const R v = bias[pl % c];
    R* row = y + pl * points;
    for (long p = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; p < points; p += static_cast<long>(gridDim.x) * blockDim.x) row[p] += v;
  }
}

// The bias gradient in two fixed-order stages: each block sums one piece of one plane into
// part[plane * pieces + piece]; then each channel's pieces are summed, sample by sample.
template <class R>
__global__ void k_plane_sums(const R* dy, double* part, long points, long planes, long pieces, long piece) {
  for (long pl = blockIdx.y; pl < planes; pl += gridDim.y)
    for (long k = blockIdx.x; k < pieces; k += gridDim.x) {
      const long p0 = k * piece, p1 = p0 + piece < points ? p0 + piece : points;
      const R* row = dy + pl * points;
      double s = 0;
      for (long p = p0 + threadIdx.x; p < p1; p += blockDim.x) s += row[p];
      s = block_sum(s);
      if (threadIdx.x == 0) part[pl * pieces + k] = s;
    }
}

template <class R>
__global__ void k_channel_sums(const double* part, R* g, long batch, long c, long pieces) {
  KRON_NN_LOOP(i, c) {
    double s = 0;
    for (long b = 0; b < batch; ++b)
      for (long k = 0; k < pieces; ++k) s += part[(b * c + i) * pieces + k];
    g[i] = static_cast<R>(g[i] + s);
  }
}

template <class R>
__global__ void k_gelu(const R* x, R* y, long n) {
  const R h = R(0.5), one = R(1), is2 = R(kInvSqrt2);
  KRON_NN_LOOP(q, n) y[q] = h * x[q] * (one + erf_r(x[q] * is2));
}

template <class R>
__global__ void k_gelu_backward(const R* x, const R* dy, R* dx, long n) {
  const R h = R(0.5), one = R(1), is2 = R(kInvSqrt2), is2pi = R(kInvSqrt2Pi);
  KRON_NN_LOOP(q, n) {
    const R phi = h * (one + erf_r(x[q] * is2)), pdf = is2pi * exp_r(-h * x[q] * x[q]);
    dx[q] = dy[q] * (phi + x[q] * pdf);
  }
}

template <class R>
__global__ void k_affine_points(R* x, const R* scale, R factor, const R* shift, long points, long total) {
  KRON_NN_LOOP(q, total) {
    const long p = q % points;
    x[q] = factor * scale[p] * x[q] + (shift ? shift[p] : R(0));
  }
}

// One block per sample: |pred - target|^2 and |target|^2 (in double).
template <class R>
__global__ void k_sample_norms(const R* pred, const R* target, long n, double* e2, double* t2) {
  const long b = blockIdx.x;
  double se = 0, st = 0;
  for (long i = threadIdx.x; i < n; i += blockDim.x) {
    const double t = target[b * n + i], d = double(pred[b * n + i]) - t;
    se += d * d;
    st += t * t;
  }
  se = block_sum(se);
  st = block_sum(st);
  if (threadIdx.x == 0) {
    e2[b] = se;
    t2[b] = st;
  }
}

template <class R>
__global__ void k_relative_l2_grad(const R* pred, const R* target, long n, long batch, const double* e2, const double* t2, R* grad) {
  KRON_NN_LOOP(q, n * batch) {
    const long b = q / n;
    const double e = sqrt(e2[b]), tn = sqrt(t2[b]);
    grad[q] = static_cast<R>(e > 0 ? (double(pred[q]) - double(target[q])) / (e * tn * static_cast<double>(batch)) : 0.0);
  }
}

template <class R>
__global__ void k_gather_rows(const R* x, R* y, const long* rows, long len, long total) {
  KRON_NN_LOOP(q, total) y[q] = x[rows[q / len] * len + q % len];
}

// sum += sum over the batch of sqrt(e2 / t2), in sample order (one thread).
__global__ void k_add_relative(const double* e2, const double* t2, long batch, double* sum) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double s = 0;
    for (long b = 0; b < batch; ++b) s += sqrt(e2[b]) / sqrt(t2[b]);
    *sum += s;
  }
}

// In R's arithmetic.
template <class R>
__global__ void k_adam(R* w, const R* g, R* m, R* v, long n, R lr, R b1, R b2, R eps, R wd, bool decoupled, R c1, R c2) {
  const R one = R(1);
  KRON_NN_LOOP(i, n) {
    R gi = g[i], wi = w[i];
    if (wd > R(0)) {
      if (decoupled) wi -= lr * wd * wi;
      else gi += wd * wi;
    }
    const R mi = b1 * m[i] + (one - b1) * gi, vi = b2 * v[i] + (one - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - lr * (mi / c1) / (sqrt_r(vi / c2) + eps);
  }
}

// Blocks for planes of `points` values: enough along a plane to keep the GPU busy when planes
// are few, at most 65535 planes a grid row (the kernels loop over the rest).
dim3 plane_grid(long planes, long points, long per_block) {
  const long along = std::max(1L, std::min((points + per_block - 1) / per_block, 1024L));
  return dim3(static_cast<unsigned>(along), static_cast<unsigned>(std::min(planes, 65535L)));
}

// |pred - target|^2 and |target|^2 of each sample into norms[0, batch) and [batch, 2 batch), and
// the gradient of the batch's mean relative error when asked.
template <class R>
double* sample_norms(const R* pred, const R* target, long n, long batch, R* grad) {
  auto& ctx = core::device_context();
  double* norms = ctx.scratch<double>(6, static_cast<std::size_t>(2 * batch));
  k_sample_norms<R><<<static_cast<unsigned>(batch), kBlock, 0, ctx.stream>>>(pred, target, n, norms, norms + batch);
  launched("the relative L2 kernel");
  if (grad) {
    k_relative_l2_grad<R><<<grid_for(n * batch), kBlock, 0, ctx.stream>>>(pred, target, n, batch, norms, norms + batch, grad);
    launched("the relative L2 gradient kernel");
  }
  return norms;
}

}  // namespace

template <class R>
void gather(const R* x, R* y, const long* idx, long lines, long nin, long nout) {
  const long total = lines * nout;
  if (total == 0) return;
  k_gather<R><<<grid_for(total), kBlock, 0, core::device_context().stream>>>(x, y, idx, nin, nout, total);
  launched("the gather kernel");
}

template <class R>
void bias_add(R* y, const R* bias, long batch, long c, long points) {
  if (batch * c * points == 0) return;
  k_bias_add<R><<<plane_grid(batch * c, points, 4L * kBlock), kBlock, 0, core::device_context().stream>>>(y, bias, c, points, batch * c);
  launched("the bias kernel");
}

template <class R>
void bias_gradient(const R* dy, R* g, long batch, long c, long points) {
  if (c == 0 || batch * points == 0) return;
  auto& ctx = core::device_context();
  constexpr long kPiece = 8L * kBlock;  // values a block sums
  const long planes = batch * c, pieces = (points + kPiece - 1) / kPiece;
  double* part = ctx.scratch<double>(8, static_cast<std::size_t>(planes * pieces));
  k_plane_sums<R><<<plane_grid(planes, points, kPiece), kBlock, 0, ctx.stream>>>(dy, part, points, planes, pieces, kPiece);
  k_channel_sums<R><<<grid_for(c), kBlock, 0, ctx.stream>>>(part, g, batch, c, pieces);
  launched("the bias gradient kernels");
}

template <class R>
void gelu(const R* x, R* y, long n) {
  if (n == 0) return;
  k_gelu<R><<<grid_for(n), kBlock, 0, core::device_context().stream>>>(x, y, n);
  launched("the GELU kernel");
}

template <class R>
void gelu_backward(const R* x, const R* dy, R* dx, long n) {
  if (n == 0) return;
  k_gelu_backward<R><<<grid_for(n), kBlock, 0, core::device_context().stream>>>(x, dy, dx, n);
  launched("the GELU backward kernel");
}

template <class R>
void affine_points(R* x, const R* scale, double factor, const R* shift, long points, long batch) {
  if (points * batch == 0) return;
  k_affine_points<R><<<grid_for(points * batch), kBlock, 0, core::device_context().stream>>>(x, scale, static_cast<R>(factor), shift, points,
                                                                                              points * batch);
  launched("the point-wise affine kernel");
}

template <class R>
void relative_l2(const R* pred, const R* target, long n, long batch, R* grad, std::vector<double>& e2, std::vector<double>& t2) {
  e2.assign(static_cast<std::size_t>(batch), 0.0);
  t2.assign(e2.size(), 0.0);
  if (batch == 0) return;
  const double* norms = sample_norms(pred, target, n, batch, grad);
  core::stream_synchronize();
  core::copy_to_host(e2.data(), norms, e2.size() * sizeof(double));
  core::copy_to_host(t2.data(), norms + batch, t2.size() * sizeof(double));
}

template <class R>
void relative_l2_accumulate(const R* pred, const R* target, long n, long batch, R* grad, double* sum) {
  if (batch == 0) return;
  const double* norms = sample_norms(pred, target, n, batch, grad);
  k_add_relative<<<1, 32, 0, core::device_context().stream>>>(norms, norms + batch, batch, sum);
  launched("the relative L2 sum kernel");
}

template <class R>
void gather_rows(const R* x, R* y, const long* rows, long count, long len) {
  if (count * len == 0) return;
  k_gather_rows<R><<<grid_for(count * len), kBlock, 0, core::device_context().stream>>>(x, y, rows, len, count * len);
  launched("the row gather kernel");
}

template <class R>
void adam(R* w, const R* g, R* m, R* v, long n, const AdamStep& a) {
  if (n == 0) return;
  k_adam<R><<<grid_for(n), kBlock, 0, core::device_context().stream>>>(w, g, m, v, n, R(a.lr), R(a.beta1), R(a.beta2), R(a.eps),
                                                                       R(a.weight_decay), a.decoupled, R(a.c1), R(a.c2));
  launched("the Adam kernel");
}

KRON_NN_DEVICE_OPS(double)
KRON_NN_DEVICE_OPS(float)

}  // namespace kron::nn::ops::device
