// CPU build: the fused Monarch multiply is a GPU kernel; asking for it is a clear error.
#include "kron/core/error.hpp"
#include "kron/nn/fused_monarch_device.hpp"

namespace kron::nn::fused {
namespace {
[[noreturn]] void absent() {
  throw Error("the fused Monarch multiply runs on a GPU and needs the CUDA build of kron", {},
              "rebuild with nvcc available (cmake -DKRON_ENABLE_CUDA=ON), or use MonarchMap's forward on the CPU");
}
}  // namespace
int monarch_tile(Precision, const MonarchShape&) { absent(); }
void monarch_forward(Precision, const void*, void*, const void*, const void*, long, const MonarchShape&, int) { absent(); }
TcConfig monarch_tc_config(Precision, int, int) { absent(); }
void monarch_tc_forward(Precision, const void*, void*, const void*, const void*, long, int, int, TcConfig) { absent(); }
void narrow(const double*, void*, long, Precision) { absent(); }
void widen(const void*, double*, long, Precision) { absent(); }
}  // namespace kron::nn::fused
