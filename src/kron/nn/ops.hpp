#pragma once
// The point-wise work of the nn layers, each on host or device arrays (the space says which; the
// device executors are ops_cuda.cu, a CPU build's ops_none.cpp answers with a clear error).
// Products are never here: they go through the engine's LineOps. Device reductions sum in a
// fixed order, so a device run gives the same bits every time.
#include <array>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/nn/array.hpp"

namespace kron::nn::ops {

using core::MemorySpace;

/// x = v (n values).
template <class T>
void fill(MemorySpace s, T* x, long n, T v);
/// y += x.
template <class T>
void add(MemorySpace s, const T* x, T* y, long n);
/// The functions below take real values R = double or float (single-precision training); sums
/// (bias gradients, losses) are formed in double either way.
/// The n[0] x n[1] x n[2] strided box copy (layout::copy_box) in either space.
template <class R>
void copy_box(MemorySpace s, const R* src, const std::array<long, 3>& src_stride, R* dst, const std::array<long, 3>& dst_stride,
              const std::array<long, 3>& n);
/// y[l nout + i] = x[l nin + idx[i]], or 0 where idx[i] < 0, for lines l < lines: a fixed
/// selection, permutation or embedding of each line's values (idx in the same space as x and y).
/// With an injective idx, its adjoint is the same gather with the inverse index.
template <class R>
void gather(MemorySpace s, const R* x, R* y, const long* idx, long lines, long nin, long nout);
/// y[(b c + i) points + p] += bias[i] (batch samples of c channels at `points` points).
template <class R>
void bias_add(MemorySpace s, R* y, const R* bias, long batch, long c, long points);
/// g[i] += sum over samples and points of dy[(b c + i) points + p].
template <class R>
void bias_gradient(MemorySpace s, const R* dy, R* g, long batch, long c, long points);
/// Exact GELU and its backward (dx may be dy): the model.hpp definitions.
template <class R>
void gelu(MemorySpace s, const R* x, R* y, long n);
template <class R>
void gelu_backward(MemorySpace s, const R* x, const R* dy, R* dx, long n);
/// x[b points + p] = factor scale[p] x[b points + p] + shift[p] (shift may be null).
template <class R>
void affine_points(MemorySpace s, R* x, const R* scale, double factor, const nd<R>* shift, long points, long batch);
/// The relative L2 loss (model.hpp's relative_l2_loss: the mean over samples of |pred - target| /
/// |target|, grad = its gradient when given); `errors`, when given, gets each sample's error.
template <class R>
double relative_l2(MemorySpace s, const R* pred, const R* target, long n, long batch, nd<R>* grad, std::vector<double>* errors = nullptr);
/// *sum += the sum over the batch of |pred - target| / |target|, grad (when given) as relative_l2's;
/// sum lives in space s, and on the device nothing waits for the GPU (a training loop reads the
/// sum once an epoch). Targets must not be zero: the caller checks its data (on the host a zero
/// one is an error, as in relative_l2; on the device it gives a sum that is not finite).
template <class R>
void relative_l2_accumulate(MemorySpace s, const R* pred, const R* target, long n, long batch, nd<R>* grad, double* sum);
/// y[b len + p] = x[rows[b] len + p] for b < count: a batch of rows from a data set resident in
/// space s (rows there too).
template <class R>
void gather_rows(MemorySpace s, const R* x, R* y, const long* rows, long count, long len);

/// One Adam/AdamW update of n values (model.hpp's Adam::step; c1, c2 the bias corrections).
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  double c1, c2;
};
/// In R's arithmetic (float: as PyTorch's fp32 Adam).
template <class R>
void adam(MemorySpace s, R* w, const R* g, R* m, R* v, long n, const AdamStep& a);

}  // namespace kron::nn::ops
