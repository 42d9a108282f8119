#pragma once
// The device executors of nn::ops (CUDA-free declarations; ops_cuda.cu implements them, a CPU
// build's ops_none.cpp throws a clear error). Same meanings as ops.hpp, device pointers.
#include <vector>

#include "kron/nn/ops.hpp"

namespace kron::nn::ops::device {

template <class R>
void gather(const R* x, R* y, const long* idx, long lines, long nin, long nout);
template <class R>
void bias_add(R* y, const R* bias, long batch, long c, long points);
template <class R>
void bias_gradient(const R* dy, R* g, long batch, long c, long points);
template <class R>
void gelu(const R* x, R* y, long n);
template <class R>
void gelu_backward(const R* x, const R* dy, R* dx, long n);
template <class R>
void affine_points(R* x, const R* scale, double factor, const R* shift, long points, long batch);
/// Per sample: e2[b] = |pred - target|^2 and t2[b] = |target|^2 (host vectors on return), then
/// grad (when given) from them, as ops::relative_l2.
template <class R>
void relative_l2(const R* pred, const R* target, long n, long batch, R* grad, std::vector<double>& e2, std::vector<double>& t2);
/// *sum (device) += the batch's summed relative errors, grad as above; no host synchronisation.
template <class R>
void relative_l2_accumulate(const R* pred, const R* target, long n, long batch, R* grad, double* sum);
template <class R>
void gather_rows(const R* x, R* y, const long* rows, long count, long len);
template <class R>
void adam(R* w, const R* g, R* m, R* v, long n, const AdamStep& a);

/// Instantiates every device op for R (ops_cuda.cu and ops_none.cpp).
#define KRON_NN_DEVICE_OPS(R)                                                                              \
  template void gather<R>(const R*, R*, const long*, long, long, long);                                   \
  template void bias_add<R>(R*, const R*, long, long, long);                                              \
  template void bias_gradient<R>(const R*, R*, long, long, long);                                         \
  template void gelu<R>(const R*, R*, long);                                                              \
  template void gelu_backward<R>(const R*, const R*, R*, long);                                           \
  template void affine_points<R>(R*, const R*, double, const R*, long, long);                             \
  template void relative_l2<R>(const R*, const R*, long, long, R*, std::vector<double>&, std::vector<double>&); \
  template void relative_l2_accumulate<R>(const R*, const R*, long, long, R*, double*);                   \
  template void gather_rows<R>(const R*, R*, const long*, long, long);                                    \
  template void adam<R>(R*, const R*, R*, R*, long, const AdamStep&);

}  // namespace kron::nn::ops::device
