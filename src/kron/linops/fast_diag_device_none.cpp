// CPU build: no device fast diagonalization (no device field can exist here).
#include "kron/core/error.hpp"
#include "kron/linops/fast_diag_device.hpp"

namespace kron::linops::device {

DivideResult spectral_divide(double*, const layout::device_ops::Interior&, const std::vector<double>&, const std::vector<double>&,
                             const std::vector<double>&, bool, double, double, double) {
  throw Error("a fast diagonalization on device memory needs the CUDA build of kron", {}, "use the CPU backend");
}

}  // namespace kron::linops::device
