#include "kron/nn/ops.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include "kron/core/error.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/layout/field_ops_device.hpp"
#include "kron/nn/model.hpp"
#include "kron/nn/ops_device.hpp"

namespace kron::nn::ops {

namespace {
bool dev(MemorySpace s) { return s == MemorySpace::Device; }
}  // namespace

template <class T>
void fill(MemorySpace s, T* x, long n, T v) {
  if (n <= 0) return;
  if (dev(s)) return layout::device_ops::fill<T>(v, x, static_cast<std::size_t>(n));
  std::fill(x, x + n, v);
}

template <class T>
void add(MemorySpace s, const T* x, T* y, long n) {
  if (n <= 0) return;
  if (dev(s)) return layout::device_ops::axpby<T>(T(1), x, T(1), y, static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) y[i] += x[i];
}

template void fill<double>(MemorySpace, double*, long, double);
template void fill<std::complex<double>>(MemorySpace, std::complex<double>*, long, std::complex<double>);
template void add<double>(MemorySpace, const double*, double*, long);
template void add<std::complex<double>>(MemorySpace, const std::complex<double>*, std::complex<double>*, long);

void copy_box(MemorySpace s, const double* src, const std::array<long, 3>& ss, double* dst, const std::array<long, 3>& ds, const std::array<long, 3>& n) {
  if (n[0] * n[1] * n[2] == 0) return;
  if (dev(s)) return layout::copy_box_device<double>(src, ss, dst, ds, n, false);
  layout::copy_box<double>(src, ss, dst, ds, n);
}

void gather(MemorySpace s, const double* x, double* y, const long* idx, long lines, long nin, long nout) {
  if (lines * nout == 0) return;
  if (dev(s)) return device::gather(x, y, idx, lines, nin, nout);
  for (long l = 0; l < lines; ++l) {
    const double* xl = x + l * nin;
    double* yl = y + l * nout;
    for (long i = 0; i < nout; ++i) yl[i] = idx[i] >= 0 ? xl[idx[i]] : 0.0;
  }
}

void bias_add(MemorySpace s, double* y, const double* bias, long batch, long c, long points) {
  if (dev(s)) return device::bias_add(y, bias, batch, c, points);
  for (long b = 0; b < batch; ++b)
    for (long i = 0; i < c; ++i) {
      double* row = y + (b * c + i) * points;
      const double v = bias[i];
      for (long p = 0; p < points; ++p) row[p] += v;
    }
}

void bias_gradient(MemorySpace s, const double* dy, double* g, long batch, long c, long points) {
  if (dev(s)) return device::bias_gradient(dy, g, batch, c, points);
  for (long b = 0; b < batch; ++b)
    for (long i = 0; i < c; ++i) {
      const double* row = dy + (b * c + i) * points;
      double sum = 0;
      for (long p = 0; p < points; ++p) sum += row[p];
      g[i] += sum;
    }
}

void gelu(MemorySpace s, const double* x, double* y, long n) {
  if (dev(s)) return device::gelu(x, y, n);
  nn::gelu(x, y, n);
}

void gelu_backward(MemorySpace s, const double* x, const double* dy, double* dx, long n) {
  if (dev(s)) return device::gelu_backward(x, dy, dx, n);
  nn::gelu_backward(x, dy, dx, n);
}

void affine_points(MemorySpace s, double* x, const double* scale, double factor, const double* shift, long points, long batch) {
  if (dev(s)) return device::affine_points(x, scale, factor, shift, points, batch);
  for (long b = 0; b < batch; ++b)
    for (long p = 0; p < points; ++p) {
      double& v = x[b * points + p];
      v = factor * scale[p] * v + (shift ? shift[p] : 0.0);
    }
}

double relative_l2(MemorySpace s, const double* pred, const double* target, long n, long batch, double* grad, std::vector<double>* errors) {
  if (!dev(s)) return relative_l2_loss(pred, target, n, batch, grad, errors);
  std::vector<double> e2, t2;
  device::relative_l2(pred, target, n, batch, grad, e2, t2);
  double total = 0;
  if (errors) errors->resize(static_cast<std::size_t>(batch));
  for (long b = 0; b < batch; ++b) {
    const double t = t2[static_cast<std::size_t>(b)];
    if (!(t > 0)) throw Error("relative L2 loss: sample " + std::to_string(b) + " has a zero target", {}, "use the mse loss for data with zero samples");
    const double e = std::sqrt(e2[static_cast<std::size_t>(b)]) / std::sqrt(t);  // as relative_l2_loss
    if (errors) (*errors)[static_cast<std::size_t>(b)] = e;
    total += e;
  }
  return total / static_cast<double>(batch);
}

void relative_l2_accumulate(MemorySpace s, const double* pred, const double* target, long n, long batch, double* grad, double* sum) {
  if (batch == 0) return;
  if (dev(s)) return device::relative_l2_accumulate(pred, target, n, batch, grad, sum);
  *sum += static_cast<double>(batch) * relative_l2_loss(pred, target, n, batch, grad, nullptr);
}

void gather_rows(MemorySpace s, const double* x, double* y, const long* rows, long count, long len) {
  if (count * len == 0) return;
  if (dev(s)) return device::gather_rows(x, y, rows, count, len);
  for (long b = 0; b < count; ++b) std::copy_n(x + rows[b] * len, len, y + b * len);
}

void adam(MemorySpace s, double* w, const double* g, double* m, double* v, long n, const AdamStep& a) {
  if (dev(s)) return device::adam(w, g, m, v, n, a);
  for (long i = 0; i < n; ++i) {
    double gi = g[i];
    if (a.weight_decay > 0) {
      if (a.decoupled) w[i] -= a.lr * a.weight_decay * w[i];
      else gi += a.weight_decay * w[i];
    }
    m[i] = a.beta1 * m[i] + (1 - a.beta1) * gi;
    v[i] = a.beta2 * v[i] + (1 - a.beta2) * gi * gi;
    w[i] -= a.lr * (m[i] / a.c1) / (std::sqrt(v[i] / a.c2) + a.eps);
  }
}

}  // namespace kron::nn::ops
