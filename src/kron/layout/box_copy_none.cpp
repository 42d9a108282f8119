// CPU build: no device box copies (no device array can exist here).
#include "kron/core/error.hpp"
#include "kron/layout/box_copy_device.hpp"

namespace kron::layout {

template <class T>
void copy_box_device(const T*, const std::array<long, 3>&, T*, const std::array<long, 3>&, const std::array<long, 3>&, bool) {
  throw Error("a device box copy needs the CUDA build of kron", {}, "use the CPU backend");
}

template void copy_box_device<float>(const float*, const std::array<long, 3>&, float*, const std::array<long, 3>&, const std::array<long, 3>&, bool);
template void copy_box_device<double>(const double*, const std::array<long, 3>&, double*, const std::array<long, 3>&,
                                      const std::array<long, 3>&, bool);
template void copy_box_device<std::complex<double>>(const std::complex<double>*, const std::array<long, 3>&, std::complex<double>*,
                                                    const std::array<long, 3>&, const std::array<long, 3>&, bool);

}  // namespace kron::layout
