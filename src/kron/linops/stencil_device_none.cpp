// A CPU build's device stencil sweep: a clear error (stencil_cuda.cu is the CUDA build's).
#include "kron/core/error.hpp"
#include "kron/linops/stencil_device.hpp"

namespace kron::linops::stencil::device {

void banded_sweep(const std::array<Taps, 3>&, double, const double*, const std::array<long, 3>&, double*, const std::array<long, 3>&,
                  const std::array<long, 3>&, const std::array<long, 2>&) {
  throw Error("a device stencil sweep needs the CUDA build of kron", {}, "use the CPU backend");
}

}  // namespace kron::linops::stencil::device
