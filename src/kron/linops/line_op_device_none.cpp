// CPU build: LineOp's CUDA executor is absent; asking for it is a clear error.
#include "kron/core/error.hpp"
#include "kron/linops/line_op_device.hpp"

namespace kron::linops::device {

struct Executor::Impl {};

Executor::Executor(const Plan&) {
  throw Error("a line operator on device memory needs the CUDA build of kron", {},
              "rebuild with nvcc available (cmake -DKRON_ENABLE_CUDA=ON), or use the CPU backend");
}
Executor::~Executor() = default;
void Executor::apply(const Lines&, const Lines&, int, bool) const {}
void Executor::set_coefficients(const void*) {}
void Executor::coefficient_gradient(const Lines&, const Lines&, void*, int, bool) const {}

}  // namespace kron::linops::device
