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

KRON_FIELD_OPS_INSTANTIATE

}  // namespace kron::layout::device_ops
