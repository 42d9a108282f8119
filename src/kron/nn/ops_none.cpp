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
template <class R>
void gather(const R*, R*, const long*, long, long, long) { absent(); }
template <class R>
void bias_add(R*, const R*, long, long, long) { absent(); }
template <class R>
void bias_gradient(const R*, R*, long, long, long) { absent(); }
template <class R>
void gelu(const R*, R*, long) { absent(); }
template <class R>
void gelu_backward(const R*, const R*, R*, long) { absent(); }
template <class R>
void affine_points(R*, const R*, double, const R*, long, long) { absent(); }
template <class R>
void relative_l2(const R*, const R*, long, long, R*, std::vector<double>&, std::vector<double>&) { absent(); }
template <class R>
void relative_l2_accumulate(const R*, const R*, long, long, R*, double*) { absent(); }
template <class R>
void gather_rows(const R*, R*, const long*, long, long) { absent(); }
template <class R>
void adam(R*, const R*, R*, R*, long, const AdamStep&) { absent(); }
KRON_NN_DEVICE_OPS(double)
KRON_NN_DEVICE_OPS(float)
}  // namespace kron::nn::ops::device
