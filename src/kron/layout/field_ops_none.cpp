// CPU build: field_ops on device fields are a clear error (no device field can exist here:
// allocating one already fails, so these only guard against misuse).
#include "kron/core/error.hpp"
#include "kron/layout/field_ops_device.hpp"

namespace kron::layout::device_ops {
namespace {
[[noreturn]] void none() { throw Error("field_ops on a device field need the CUDA build of kron", {}, "use the CPU backend"); }
}  // namespace

template <class T>
void copy(const T*, T*, std::size_t) { none(); }
template <class T>
void axpby(T, const T*, T, T*, std::size_t) { none(); }
template <class T>
void scale(T, T*, std::size_t) { none(); }
template <class T>
void add(T, T*, std::size_t) { none(); }
template <class T>
void fill(T, T*, std::size_t) { none(); }
void conj(std::complex<double>*, std::size_t) { none(); }
template <class T>
void fill_box(T, T*, const long*, const long*) { none(); }
template <class T>
double reduce(const T*, const Interior&, Reduce) { none(); }
template <class T>
T dot(const T*, const T*, const Interior&) { none(); }
template <class T>
std::vector<T> sums(const T*, const Interior&) { none(); }

#define KRON_INSTANTIATE(T)                                        \
  template void copy<T>(const T*, T*, std::size_t);                \
  template void axpby<T>(T, const T*, T, T*, std::size_t);         \
  template void scale<T>(T, T*, std::size_t);                      \
  template void add<T>(T, T*, std::size_t);                        \
  template void fill<T>(T, T*, std::size_t);                       \
  template void fill_box<T>(T, T*, const long*, const long*);      \
  template double reduce<T>(const T*, const Interior&, Reduce);    \
  template T dot<T>(const T*, const T*, const Interior&);          \
  template std::vector<T> sums<T>(const T*, const Interior&);
KRON_INSTANTIATE(double)
KRON_INSTANTIATE(std::complex<double>)
#undef KRON_INSTANTIATE
// Single precision (nn's fp32 training): the element operations.
#define KRON_INSTANTIATE_ELEMENTS(T)                               \
  template void copy<T>(const T*, T*, std::size_t);                \
  template void axpby<T>(T, const T*, T, T*, std::size_t);         \
  template void scale<T>(T, T*, std::size_t);                      \
  template void add<T>(T, T*, std::size_t);                        \
  template void fill<T>(T, T*, std::size_t);                       \
  template void fill_box<T>(T, T*, const long*, const long*);
KRON_INSTANTIATE_ELEMENTS(float)
KRON_INSTANTIATE_ELEMENTS(std::complex<float>)
#undef KRON_INSTANTIATE_ELEMENTS

}  // namespace kron::layout::device_ops
