#pragma once
// The device executor of field_ops (CUDA-free declarations; field_ops_cuda.cu implements them, a
// CPU build's field_ops_none.cpp answers with a clear error). Element-wise operations visit the
// whole storage; reductions visit an interior box and combine per-block partial results on the
// host in a fixed order, so a reduction gives the same bits every run.
#include <complex>
#include <cstddef>
#include <vector>

namespace kron::layout::device_ops {

/// An interior box of a field: n[d] points along storage dimension d (fastest first) with
/// strides stride[d]; ncomp components cstride apart; `offset` of point (0, 0, 0).
struct Interior {
  long n[3] = {0, 0, 0};
  long stride[3] = {1, 1, 1};
  long cstride = 0, offset = 0;
  int ncomp = 1;
};

/// y = x (n elements, device to device).
template <class T>
void copy(const T* x, T* y, std::size_t n);
/// y = a x + b y.
template <class T>
void axpby(T a, const T* x, T b, T* y, std::size_t n);
/// x = a x.
template <class T>
void scale(T a, T* x, std::size_t n);
/// x += a.
template <class T>
void add(T a, T* x, std::size_t n);
/// x = v.
template <class T>
void fill(T v, T* x, std::size_t n);
/// x = conj(x).
void conj(std::complex<double>* x, std::size_t n);
/// Every point of an n[0] x n[1] x n[2] box of x (strides `stride`) set to v.
template <class T>
void fill_box(T v, T* x, const long* stride, const long* n);

/// Local reductions over an interior: max |x|, count of non-finite values, min (real), sum |x|,
/// sum |x|^2.
enum class Reduce { MaxAbs, NonFinite, Min, Sum1, Sum2 };
template <class T>
double reduce(const T* x, const Interior& box, Reduce what);
/// Local sum of conj(x) y over an interior.
template <class T>
T dot(const T* x, const T* y, const Interior& box);
/// Local per-component sums over an interior.
template <class T>
std::vector<T> sums(const T* x, const Interior& box);

/// The explicit instantiations every executor (CUDA or none) provides: the element operations for
/// T = double, complex<double>, float and complex<float> (nn's fp32 training), the reductions for
/// the double-precision types.
#define KRON_FIELD_OPS_ELEMENTS(T)                         \
  template void copy<T>(const T*, T*, std::size_t);        \
  template void axpby<T>(T, const T*, T, T*, std::size_t); \
  template void scale<T>(T, T*, std::size_t);              \
  template void add<T>(T, T*, std::size_t);                \
  template void fill<T>(T, T*, std::size_t);               \
  template void fill_box<T>(T, T*, const long*, const long*);
#define KRON_FIELD_OPS_REDUCTIONS(T)                            \
  template double reduce<T>(const T*, const Interior&, Reduce); \
  template T dot<T>(const T*, const T*, const Interior&);       \
  template std::vector<T> sums<T>(const T*, const Interior&);
#define KRON_FIELD_OPS_INSTANTIATE                    \
  KRON_FIELD_OPS_ELEMENTS(double)                     \
  KRON_FIELD_OPS_ELEMENTS(std::complex<double>)       \
  KRON_FIELD_OPS_ELEMENTS(float)                      \
  KRON_FIELD_OPS_ELEMENTS(std::complex<float>)        \
  KRON_FIELD_OPS_REDUCTIONS(double)                   \
  KRON_FIELD_OPS_REDUCTIONS(std::complex<double>)

}  // namespace kron::layout::device_ops
