#pragma once
// The point-wise work of the nn layers, each on host or device arrays (the space says which; the
// device executors are ops_cuda.cu, a CPU build's ops_none.cpp answers with a clear error).
// Products are never here: they go through the engine's LineOps. Device reductions sum in a
// fixed order, so a device run gives the same bits every time.
#include <array>
#include <vector>

#include "kron/core/memory.hpp"

namespace kron::nn::ops {

using core::MemorySpace;

/// x = v (n values).
template <class T>
void fill(MemorySpace s, T* x, long n, T v);
/// y += x.
template <class T>
void add(MemorySpace s, const T* x, T* y, long n);
/// The n[0] x n[1] x n[2] strided box copy (layout::copy_box) in either space.
void copy_box(MemorySpace s, const double* src, const std::array<long, 3>& src_stride, double* dst, const std::array<long, 3>& dst_stride,
              const std::array<long, 3>& n);
/// y[l nout + i] = x[l nin + idx[i]], or 0 where idx[i] < 0, for lines l < lines: a fixed
/// selection, permutation or embedding of each line's values (idx in the same space as x and y).
/// With an injective idx, its adjoint is the same gather with the inverse index.
void gather(MemorySpace s, const double* x, double* y, const long* idx, long lines, long nin, long nout);
/// y[(b c + i) points + p] += bias[i] (batch samples of c channels at `points` points).
void bias_add(MemorySpace s, double* y, const double* bias, long batch, long c, long points);
/// g[i] += sum over samples and points of dy[(b c + i) points + p].
void bias_gradient(MemorySpace s, const double* dy, double* g, long batch, long c, long points);
/// Exact GELU and its backward (dx may be dy): the model.hpp definitions.
void gelu(MemorySpace s, const double* x, double* y, long n);
void gelu_backward(MemorySpace s, const double* x, const double* dy, double* dx, long n);
/// x[b points + p] = factor scale[p] x[b points + p] + shift[p] (shift may be null).
void affine_points(MemorySpace s, double* x, const double* scale, double factor, const double* shift, long points, long batch);
/// The relative L2 loss (model.hpp's relative_l2_loss: the mean over samples of |pred - target| /
/// |target|, grad = its gradient when given); `errors`, when given, gets each sample's error.
double relative_l2(MemorySpace s, const double* pred, const double* target, long n, long batch, double* grad,
                   std::vector<double>* errors = nullptr);
/// *sum += the sum over the batch of |pred - target| / |target|, grad (when given) as relative_l2's;
/// sum lives in space s, and on the device nothing waits for the GPU (a training loop reads the
/// sum once an epoch). Targets must not be zero: the caller checks its data (on the host a zero
/// one is an error, as in relative_l2; on the device it gives a sum that is not finite).
void relative_l2_accumulate(MemorySpace s, const double* pred, const double* target, long n, long batch, double* grad, double* sum);
/// y[b len + p] = x[rows[b] len + p] for b < count: a batch of rows from a data set resident in
/// space s (rows there too).
void gather_rows(MemorySpace s, const double* x, double* y, const long* rows, long count, long len);

/// One Adam/AdamW update of n values (model.hpp's Adam::step; c1, c2 the bias corrections).
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  double c1, c2;
};
void adam(MemorySpace s, double* w, const double* g, double* m, double* v, long n, const AdamStep& a);

}  // namespace kron::nn::ops
