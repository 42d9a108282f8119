// FusedMonarch: MonarchMap's weights re-laid for the fused kernel (fused_monarch.hpp).
#include "kron/nn/fused_monarch.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/nn/fused_monarch_tc_layout.hpp"

namespace kron::nn {

std::string to_string(MonarchKernel k) {
  return k == MonarchKernel::automatic ? "automatic" : k == MonarchKernel::cuda_cores ? "CUDA cores" : "tensor cores";
}

FusedMonarch::FusedMonarch(MonarchMap<double>& M, Precision p, long group, MonarchKernel kernel) : prec_(p), in_(M.in()), out_(M.out()) {
  const long nb = M.blocks(), pp = in_ / nb, s = out_ / nb, q = std::min(pp, s);
  sh_ = fused::MonarchShape{static_cast<int>(nb), static_cast<int>(pp), static_cast<int>(q), static_cast<int>(s)};
  if (kernel != MonarchKernel::cuda_cores) {
    if (pp == s && p != Precision::FP64) tc_ = fused::monarch_tc_config(p, sh_.nb, sh_.p);
    if (tc_.tile > 0) {
      kernel_ = MonarchKernel::tensor_cores;
      tile_ = tc_.tile;
    } else if (kernel == MonarchKernel::tensor_cores) {
      throw Error("the fused Monarch multiply on tensor cores takes square blocks of 16, 32, 64 or 128 in fp32 or bf16 whose tile fits in " +
                      std::to_string(fused::kSmemLimit / 1024) + " KiB of shared memory; this one has " + std::to_string(nb) + " blocks of " +
                      std::to_string(s) + " x " + std::to_string(pp) + " in " + to_string(p),
                  {}, "use the CUDA-core kernel, which takes any shape and precision");
    }
  }
  if (kernel_ == MonarchKernel::cuda_cores) {
    tile_ = fused::monarch_tile(p, sh_);
    if (tile_ == 0)
      throw Error("the fused Monarch multiply keeps one sample's h (" + std::to_string(nb * q) + " values) in a thread block's shared memory, and " +
                      std::to_string(nb * q) + " " + to_string(p) + " values do not fit in " + std::to_string(fused::kSmemLimit / 1024) + " KiB",
                  {}, "use more blocks, or MonarchMap's forward");
  }
  set_weights(M, group);
}

void FusedMonarch::set_weights(MonarchMap<double>& M, long group) {
  const long nb = sh_.nb, p = sh_.p, q = sh_.q, s = sh_.s;
  if (M.blocks() != nb || M.in() != in_ || M.out() != out_) throw Error("internal: FusedMonarch::set_weights with a Monarch matrix of another shape");
  const long pg = M.point_groups();
  if (group < 0 || group >= pg) throw Error("internal: FusedMonarch: point group " + std::to_string(group) + " of " + std::to_string(pg));
  std::vector<double> rp(static_cast<std::size_t>(nb * q * p)), lp(static_cast<std::size_t>(nb * s * q));
  std::vector<Eigen::MatrixXd> R(static_cast<std::size_t>(nb)), L(R.size());  // q x p, s x q
  for (long k = 0; k < nb; ++k) {
    R[static_cast<std::size_t>(k)] = M.right().block(k * pg + group);
    L[static_cast<std::size_t>(k)] = M.left().block(k * pg + group);
  }
  if (kernel_ == MonarchKernel::tensor_cores) {
    const bool bf = prec_ == Precision::BF16;
    rp = fused::tc_fragment_layout(nb, static_cast<int>(p), bf, [&](long k, int i, int j) { return R[static_cast<std::size_t>(k)](i, j); });
    lp = fused::tc_fragment_layout(nb, static_cast<int>(p), bf, [&](long k, int t, int r) { return L[static_cast<std::size_t>(k)](t, r); });
  } else {
    for (long k = 0; k < nb; ++k) {
      const auto& Rk = R[static_cast<std::size_t>(k)];
      const auto& Lk = L[static_cast<std::size_t>(k)];
      for (long i = 0; i < q; ++i)
        for (long j = 0; j < p; ++j) rp[static_cast<std::size_t>((i * p + j) * nb + k)] = Rk(i, j);
      for (long t = 0; t < s; ++t)
        for (long r = 0; r < q; ++r) lp[static_cast<std::size_t>((t * q + r) * nb + k)] = Lk(t, r);
    }
  }
  const std::size_t eb = element_bytes(prec_);
  core::DeviceBuffer<double> tmp(std::max(rp.size(), lp.size()));
  rp_ = core::DeviceBytes(rp.size() * eb);
  lp_ = core::DeviceBytes(lp.size() * eb);
  core::copy_to_device(tmp.data(), rp.data(), rp.size() * sizeof(double));
  fused::narrow(tmp.data(), rp_.data(), static_cast<long>(rp.size()), prec_);
  core::stream_synchronize();
  core::copy_to_device(tmp.data(), lp.data(), lp.size() * sizeof(double));
  fused::narrow(tmp.data(), lp_.data(), static_cast<long>(lp.size()), prec_);
  core::stream_synchronize();
}

void FusedMonarch::forward(const void* x, void* y, long batch) const {
  if (batch <= 0) return;
  if (kernel_ == MonarchKernel::tensor_cores && (reinterpret_cast<std::uintptr_t>(x) | reinterpret_cast<std::uintptr_t>(y)) % 8 != 0)
    throw Error("the fused Monarch multiply on tensor cores reads x and writes y 8 bytes at a time, and x or y is not 8-byte aligned", {},
                "pass the start of a device array or an offset of whole samples, or use MonarchKernel::cuda_cores");
  if (kernel_ == MonarchKernel::tensor_cores) fused::monarch_tc_forward(prec_, x, y, rp_.data(), lp_.data(), batch, sh_.nb, sh_.p, tc_);
  else fused::monarch_forward(prec_, x, y, rp_.data(), lp_.data(), batch, sh_, static_cast<int>(tile_));
}

}  // namespace kron::nn
