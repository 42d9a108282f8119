#include "kron/linops/kronecker.hpp"

#include <algorithm>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/core/device.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/stencil.hpp"
#include "kron/linops/stencil_device.hpp"

namespace kron::linops {

KroneckerSum::KroneckerSum(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops, double shift,
                           std::array<bool, 3> periodic, core::MemorySpace space)
    : grid_(std::move(grid)), space_(space), ops_(std::move(ops)), shift_(shift) {
  for (int a = 0; a < 3; ++a) n_[a] = ops_[a].size() > 0 ? ops_[a].size() : 1;
  stencil_ = true;
  for (int a = 0; a < 3; ++a) {
    if (ops_[a].size() == 0) continue;
    if (!ops_[a].banded_only() || ops_[a].terms().size() != 1 || !ops_[a].terms()[0].scale.empty()) stencil_ = false;
    halo_[a] = std::max(ops_[a].lower_bandwidth(), ops_[a].upper_bandwidth());
  }
  if (stencil_) {
    const layout::Pencil px(n_, grid_, 0);
    exchange_ = std::make_unique<layout::HaloExchange<double>>(px, halo_, periodic);
    if (space_ == core::MemorySpace::Device)
      for (int a = 0; a < 3; ++a) {
        if (ops_[a].size() == 0) continue;
        const Banded& b = ops_[a].terms()[0].b;
        std::vector<double> flat;
        for (const auto& d : b.diag) flat.insert(flat.end(), d.begin(), d.end());
        device_taps_[a] = core::DeviceBuffer<double>(flat.size());
        core::copy_to_device(device_taps_[a].data(), flat.data(), flat.size() * sizeof(double));
      }
  } else {
    halo_ = {0, 0, 0};
  }
  ws_ = std::make_unique<PencilWorkspace>(grid_, layout::TransposeMethod::Alltoallv, space_);
}

KroneckerSum::~KroneckerSum() = default;

std::size_t KroneckerSum::operator_bytes() const {
  std::size_t b = 0;
  for (const auto& op : ops_) b += op.bytes();
  return b;
}

void KroneckerSum::diagonal(layout::RealField& out) const {
  const layout::Pencil px(n_, grid_, 0);
  if (out.pencil() != px || out.has_halo()) throw Error("KroneckerSum::diagonal: the field must be an x-pencil of the operator's grid without halos");
  std::array<Eigen::VectorXd, 3> d;
  for (int a = 0; a < 3; ++a) d[a] = ops_[a].size() > 0 ? Eigen::VectorXd(ops_[a].dense().diagonal()) : Eigen::VectorXd::Zero(1);
  layout::ops::fill_global(out, [&](const std::array<long, 3>& g, int) { return d[0][g[0]] + d[1][g[1]] + d[2][g[2]] - shift_; });
}

std::string KroneckerSum::describe() const {
  std::string s;
  if (stencil_)
    return "stencil sweep (halo " + std::to_string(halo_[0]) + ", " + std::to_string(halo_[1]) + ", " + std::to_string(halo_[2]) + ")";
  for (int a = 0; a < 3; ++a)
    if (ops_[a].size() > 0) s += std::string(s.empty() ? "" : " + ") + ops_[a].name() + " along " + "xyz"[a];
  return "line stages: " + s;
}

std::size_t KroneckerSum::workspace_bytes() const {
  std::size_t b = ws_->bytes();
  if (with_halo_) b += sizeof(double) * with_halo_->storage_size();
  if (exchange_) b += exchange_->buffer_bytes();
  return b;
}

std::array<const Banded*, 3> KroneckerSum::stencil_taps() const {
  std::array<const Banded*, 3> B{nullptr, nullptr, nullptr};
  for (int a = 0; a < 3; ++a)
    if (ops_[a].size() > 0) B[a] = &ops_[a].terms()[0].b;
  return B;
}

// out(.., c) = L h for the halo field h (halos exchanged), on the host or the device.
void KroneckerSum::sweep(const layout::RealField& h, layout::RealField& out, int c) const {
  if (space_ == core::MemorySpace::Host) {
    stencil::banded_sweep(stencil_taps(), shift_, h, out, c);
    return;
  }
  std::array<stencil::device::Taps, 3> t{};
  const auto& box = h.pencil().box();
  for (int a = 0; a < 3; ++a) {
    if (ops_[a].size() == 0) continue;
    const Banded& b = ops_[a].terms()[0].b;
    t[a] = {device_taps_[a].data(), b.kl, b.width(), n_[a], box.lo[a]};
  }
  // The local z planes that some non-zero z tap reads (the kernel loads no others).
  std::array<long, 2> zread{0, box.n[2]};
  if (ops_[2].size() > 0) {
    const Banded& b = ops_[2].terms()[0].b;
    for (int q = 0; q < b.width(); ++q)
      for (long k = 0; k < box.n[2]; ++k)
        if (b.diag[q][box.lo[2] + k] != 0.0) {
          zread[0] = std::min(zread[0], k + q - b.kl);
          zread[1] = std::max(zread[1], k + q - b.kl + 1);
        }
  }
  stencil::device::banded_sweep(t, shift_, h.origin(0), h.layout().stride, out.origin(c), out.layout().stride, h.extent(), zread);
}

// One single-stage TensorOp per axis for fields of `ncomp` components (planned on first use).
const std::array<TensorOp<double>, 3>& KroneckerSum::terms(int ncomp) {
  auto& t = terms_[ncomp];
  if (!t) {
    t = std::make_unique<std::array<TensorOp<double>, 3>>();
    for (int a = 0; a < 3; ++a)
      if (ops_[a].size() > 0)
        (*t)[a] = TensorOp<double>(grid_, n_, ncomp, {{a, std::make_shared<LineOp<double>>(LineOp<double>::real(ops_[a])), Trans::N}});
  }
  return *t;
}

void KroneckerSum::apply(const layout::RealField& in, layout::RealField& out) {
  const layout::Pencil px(n_, grid_, 0);
  if (in.pencil() != px || out.pencil() != px || in.has_halo() || out.has_halo() || in.components() != out.components())
    throw Error("KroneckerSum::apply: fields must be x-pencils of the operator's grid without halos, with equal components");
  if (in.space() != space_ || out.space() != space_)
    throw Error(std::string("KroneckerSum::apply: the operator works on ") + core::to_string(space_) + " fields", {},
                "make the fields in the operator's memory space");
  core::ScopedTimer timer("linops.apply");
  if (stencil_) {
    // Component by component through the halo field: copy in, exchange, one fused sweep.
    if (!with_halo_) with_halo_ = std::make_unique<layout::RealField>(px, 1, halo_, space_);
    layout::RealField& h = *with_halo_;
    for (int c = 0; c < in.components(); ++c) {
      if (space_ == core::MemorySpace::Device) layout::copy_box_device(in.origin(c), in.layout().stride, h.origin(0), h.layout().stride, in.extent());
      else layout::copy_box(in.origin(c), in.layout().stride, h.origin(0), h.layout().stride, in.extent());
      exchange_->execute(h);
      sweep(h, out, c);
    }
    return;
  }
  // Line sweeps: out = -shift in + sum_a Op_a in, each term a TensorOp accumulating into out.
  layout::ops::axpby(-shift_, in, 0.0, out);
  const auto& t = terms(in.components());
  for (int a = 0; a < 3; ++a)
    if (ops_[a].size() > 0) t[a].apply(in, out, *ws_, true);
}

void KroneckerSum::apply_with_halo(layout::RealField& in, layout::RealField& out) {
  if (!stencil_) throw Error("KroneckerSum::apply_with_halo needs banded operators on every axis");
  if (in.halo() != halo_) throw Error("KroneckerSum::apply_with_halo: the input field's halo widths do not match halo()");
  core::ScopedTimer timer("linops.apply");
  if (in.components() != 1 || out.components() != 1)
    throw Error("KroneckerSum::apply_with_halo: one component (use apply() for vector fields)");
  if (in.space() != space_ || out.space() != space_)
    throw Error(std::string("KroneckerSum::apply_with_halo: the operator works on ") + core::to_string(space_) + " fields");
  exchange_->execute(in);
  sweep(in, out, 0);
}


KroneckerProduct::KroneckerProduct(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops) : grid_(grid) {
  std::array<long, 3> n{1, 1, 1};
  std::vector<TensorOp<double>::Stage> st;
  for (int a = 0; a < 3; ++a) {
    if (ops[a].size() == 0) continue;
    n[a] = ops[a].size();
    st.push_back({a, std::make_shared<LineOp<double>>(LineOp<double>::real(ops[a])), Trans::N});
  }
  op_ = TensorOp<double>(std::move(grid), n, 1, std::move(st));
}

void KroneckerProduct::apply(const layout::RealField& in, layout::RealField& out, PencilWorkspace& ws) {
  core::ScopedTimer timer("linops.kron_product");
  if (&in != &out) {
    op_.apply(in, out, ws);
    return;
  }
  // In place: through a copy of the input (the chain reads its input while it writes the output).
  layout::RealField& copy = ws.field<double>(0, op_.in_shape(), 1, 4);
  layout::ops::copy(in, copy);
  op_.apply(copy, out, ws);
}

void KroneckerProduct::apply(const layout::RealField& in, layout::RealField& out) {
  if (!own_) own_ = std::make_unique<PencilWorkspace>(grid_);
  apply(in, out, *own_);
}

}  // namespace kron::linops
