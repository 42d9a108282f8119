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
template void fill<float>(MemorySpace, float*, long, float);
template void fill<std::complex<float>>(MemorySpace, std::complex<float>*, long, std::complex<float>);
template void add<double>(MemorySpace, const double*, double*, long);
template void add<std::complex<double>>(MemorySpace, const std::complex<double>*, std::complex<double>*, long);
template void add<float>(MemorySpace, const float*, float*, long);
template void add<std::complex<float>>(MemorySpace, const std::complex<float>*, std::complex<float>*, long);

template <class R>
void copy_box(MemorySpace s, const R* src, const std::array<long, 3>& ss, R* dst, const std::array<long, 3>& ds, const std::array<long, 3>& n) {
  if (n[0] * n[1] * n[2] == 0) return;
  if (dev(s)) return layout::copy_box_device<R>(src, ss, dst, ds, n, false);
  layout::copy_box<R>(src, ss, dst, ds, n);
}

template <class R>
void gather(MemorySpace s, const R* x, R* y, const long* idx, long lines, long nin, long nout) {
  if (lines * nout == 0) return;
  if (dev(s)) return device::gather(x, y, idx, lines, nin, nout);
  for (long l = 0; l < lines; ++l) {
    const R* xl = x + l * nin;
    R* yl = y + l * nout;
    for (long i = 0; i < nout; ++i) yl[i] = idx[i] >= 0 ? xl[idx[i]] : R(0);
  }
}

template <class R>
void bias_add(MemorySpace s, R* y, const R* bias, long batch, long c, long points) {
  if (dev(s)) return device::bias_add(y, bias, batch, c, points);
  for (long b = 0; b < batch; ++b)
    for (long i = 0; i < c; ++i) {
      R* row = y + (b * c + i) * points;
      const R v = bias[i];
      for (long p = 0; p < points; ++p) row[p] += v;
    }
}

template <class R>
void bias_gradient(MemorySpace s, const R* dy, R* g, long batch, long c, long points) {
  if (dev(s)) return device::bias_gradient(dy, g, batch, c, points);
  for (long b = 0; b < batch; ++b)
    for (long i = 0; i < c; ++i) {
      const R* row = dy + (b * c + i) * points;
      double sum = 0;
      for (long p = 0; p < points; ++p) sum += row[p];
      g[i] = static_cast<R>(g[i] + sum);
    }
}

template <class R>
void gelu(MemorySpace s, const R* x, R* y, long n) {
  if (dev(s)) return device::gelu(x, y, n);
  nn::gelu(x, y, n);
}

template <class R>
void gelu_backward(MemorySpace s, const R* x, const R* dy, R* dx, long n) {
  if (dev(s)) return device::gelu_backward(x, dy, dx, n);
  nn::gelu_backward(x, dy, dx, n);
}

template <class R>
void affine_points(MemorySpace s, R* x, const R* scale, double factor, const nd<R>* shift, long points, long batch) {
  if (dev(s)) return device::affine_points(x, scale, factor, shift, points, batch);
  const R f = static_cast<R>(factor);
  for (long b = 0; b < batch; ++b)
    for (long p = 0; p < points; ++p) {
      R& v = x[b * points + p];
      v = f * scale[p] * v + (shift ? shift[p] : R(0));
    }
}

template <class R>
double relative_l2(MemorySpace s, const R* pred, const R* target, long n, long batch, nd<R>* grad, std::vector<double>* errors) {
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

template <class R>
void relative_l2_accumulate(MemorySpace s, const R* pred, const R* target, long n, long batch, nd<R>* grad, double* sum) {
  if (batch == 0) return;
  if (dev(s)) return device::relative_l2_accumulate(pred, target, n, batch, grad, sum);
  *sum += static_cast<double>(batch) * relative_l2_loss(pred, target, n, batch, grad, nullptr);
}

template <class R>
void gather_rows(MemorySpace s, const R* x, R* y, const long* rows, long count, long len) {
  if (count * len == 0) return;
  if (dev(s)) return device::gather_rows(x, y, rows, count, len);
  for (long b = 0; b < count; ++b) std::copy_n(x + rows[b] * len, len, y + b * len);
}

template <class R>
void adam(MemorySpace s, R* w, const R* g, R* m, R* v, long n, const AdamStep& a) {
  if (dev(s)) return device::adam(w, g, m, v, n, a);
  const R lr = R(a.lr), b1 = R(a.beta1), b2 = R(a.beta2), eps = R(a.eps), wd = R(a.weight_decay), c1 = R(a.c1), c2 = R(a.c2), one = R(1);
  for (long i = 0; i < n; ++i) {
    R gi = g[i];
    if (a.weight_decay > 0) {
      if (a.decoupled) w[i] -= lr * wd * w[i];
      else gi += wd * w[i];
    }
    m[i] = b1 * m[i] + (one - b1) * gi;
    v[i] = b2 * v[i] + (one - b2) * gi * gi;
    w[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
  }
}

#define KRON_NN_OPS(R)                                                                                                            \
  template void copy_box<R>(MemorySpace, const R*, const std::array<long, 3>&, R*, const std::array<long, 3>&, const std::array<long, 3>&); \
  template void gather<R>(MemorySpace, const R*, R*, const long*, long, long, long);                                            \
  template void bias_add<R>(MemorySpace, R*, const R*, long, long, long);                                                       \
  template void bias_gradient<R>(MemorySpace, const R*, R*, long, long, long);                                                  \
  template void gelu<R>(MemorySpace, const R*, R*, long);                                                                       \
  template void gelu_backward<R>(MemorySpace, const R*, const R*, R*, long);                                                    \
  template void affine_points<R>(MemorySpace, R*, const R*, double, const R*, long, long);                                      \
  template double relative_l2<R>(MemorySpace, const R*, const R*, long, long, R*, std::vector<double>*);                        \
  template void relative_l2_accumulate<R>(MemorySpace, const R*, const R*, long, long, R*, double*);                            \
  template void gather_rows<R>(MemorySpace, const R*, R*, const long*, long, long);                                             \
  template void adam<R>(MemorySpace, R*, const R*, R*, R*, long, const AdamStep&);
KRON_NN_OPS(double)
KRON_NN_OPS(float)

}  // namespace kron::nn::ops
