// cuFFT 3D real transforms as kron-bench's GPU baseline.
#include <cufft.h>

#include <string>

#include "bench_gpu_cufft.hpp"
#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/core/error.hpp"

namespace kron::bench {
namespace {
void check(cufftResult rc, const char* what) {
  if (rc != CUFFT_SUCCESS) throw Error(std::string(what) + " failed: cuFFT error " + std::to_string(static_cast<int>(rc)));
}
}  // namespace

struct CufftR2C::Impl {
  cufftHandle fwd = 0, inv = 0;
  core::DeviceBuffer<double> x;
  core::DeviceBuffer<cufftDoubleComplex> y;
};

CufftR2C::CufftR2C(long n0, long n1, long n2) : impl_(std::make_unique<Impl>()) {
  impl_->x = core::DeviceBuffer<double>(static_cast<std::size_t>(n0 * n1 * n2));
  impl_->y = core::DeviceBuffer<cufftDoubleComplex>(static_cast<std::size_t>(n0 * n1 * (n2 / 2 + 1)));
  core::fill_device_bytes(impl_->x.data(), 0, impl_->x.size() * sizeof(double));
  check(cufftPlan3d(&impl_->fwd, static_cast<int>(n0), static_cast<int>(n1), static_cast<int>(n2), CUFFT_D2Z), "cufftPlan3d (D2Z)");
  check(cufftPlan3d(&impl_->inv, static_cast<int>(n0), static_cast<int>(n1), static_cast<int>(n2), CUFFT_Z2D), "cufftPlan3d (Z2D)");
  check(cufftSetStream(impl_->fwd, core::device_context().stream), "cufftSetStream");
  check(cufftSetStream(impl_->inv, core::device_context().stream), "cufftSetStream");
}
CufftR2C::~CufftR2C() {
  cufftDestroy(impl_->fwd);
  cufftDestroy(impl_->inv);
}
void CufftR2C::forward() { check(cufftExecD2Z(impl_->fwd, impl_->x.data(), impl_->y.data()), "cufftExecD2Z"); }
void CufftR2C::inverse() { check(cufftExecZ2D(impl_->inv, impl_->y.data(), impl_->x.data()), "cufftExecZ2D"); }
double* CufftR2C::real() { return impl_->x.data(); }

}  // namespace kron::bench
