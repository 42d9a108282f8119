// CPU build: nn's device executors are absent; asking for them is a clear error.
#include "kron/core/error.hpp"
#include "kron/nn/ops_device.hpp"

namespace kron::nn::ops::device {
namespace {
[[noreturn]] void absent() {
  throw Error("a neural-network layer on device memory needs the CUDA build of kron", {},
              "rebuild with nvcc available (cmake -DKRON_ENABLE_CUDA=ON), or use device.backend = \"cpu\"");
}
}  // namespace
void gather(const double*, double*, const long*, long, long, long) { absent(); }
void bias_add(double*, const double*, long, long, long) { absent(); }
void bias_gradient(const double*, double*, long, long, long) { absent(); }
void gelu(const double*, double*, long) { absent(); }
void gelu_backward(const double*, const double*, double*, long) { absent(); }
void affine_points(double*, const double*, double, const double*, long, long) { absent(); }
void relative_l2(const double*, const double*, long, long, double*, std::vector<double>&, std::vector<double>&) { absent(); }
void relative_l2_accumulate(const double*, const double*, long, long, double*, double*) { absent(); }
void gather_rows(const double*, double*, const long*, long, long) { absent(); }
void adam(double*, const double*, double*, double*, long, const AdamStep&) { absent(); }
}  // namespace kron::nn::ops::device
