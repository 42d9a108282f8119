// A CPU build's device line transforms: a clear error (fft_lines_cuda.cu is the CUDA build's).
#include "kron/core/error.hpp"
#include "kron/layout/fft_lines_device.hpp"

namespace kron::layout {

struct DeviceLineFft::Impl {};

DeviceLineFft::DeviceLineFft(LineFft::Kind, long, LineFft::R2R, bool) {
  throw Error("device line transforms need the CUDA build of kron", {}, "use the CPU backend");
}
DeviceLineFft::~DeviceLineFft() = default;
void DeviceLineFft::execute(const LineSet&, const LineSet&, bool) const {}
void DeviceLineFft::execute_scaled(const LineSet&, const LineSet&, const double*, const double*, bool) const {}
void DeviceLineFft::prepare(const LineSet&, const LineSet&, bool) const {}

struct DeviceBoxFft::Impl {};
DeviceBoxFft::DeviceBoxFft(LineFft::Kind, std::array<long, 3>, int) {
  throw Error("device transforms need the CUDA build of kron", {}, "use the CPU backend");
}
DeviceBoxFft::~DeviceBoxFft() = default;
void DeviceBoxFft::execute(const void*, void*, bool) const {}

}  // namespace kron::layout
