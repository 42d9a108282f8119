#pragma once
// The device executors of nn::ops (CUDA-free declarations; ops_cuda.cu implements them, a CPU
// build's ops_none.cpp throws a clear error). Same meanings as ops.hpp, device pointers.
#include <vector>

#include "kron/nn/ops.hpp"

namespace kron::nn::ops::device {

void gather(const double* x, double* y, const long* idx, long lines, long nin, long nout);
void bias_add(double* y, const double* bias, long batch, long c, long points);
void bias_gradient(const double* dy, double* g, long batch, long c, long points);
void gelu(const double* x, double* y, long n);
void gelu_backward(const double* x, const double* dy, double* dx, long n);
void affine_points(double* x, const double* scale, double factor, const double* shift, long points, long batch);
/// Per sample: e2[b] = |pred - target|^2 and t2[b] = |target|^2 (host vectors on return), then
/// grad (when given) from them, as ops::relative_l2.
void relative_l2(const double* pred, const double* target, long n, long batch, double* grad, std::vector<double>& e2, std::vector<double>& t2);
/// *sum (device) += the batch's summed relative errors, grad as above; no host synchronisation.
void relative_l2_accumulate(const double* pred, const double* target, long n, long batch, double* grad, double* sum);
void gather_rows(const double* x, double* y, const long* rows, long count, long len);
void adam(double* w, const double* g, double* m, double* v, long n, const AdamStep& a);

}  // namespace kron::nn::ops::device
