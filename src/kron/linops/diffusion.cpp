#include "kron/linops/diffusion.hpp"

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {

namespace {
// Workspace slots of the product form's two derivative fields (TensorOps use the low slots).
constexpr int kD1 = 10, kD2 = 11;
}  // namespace

VariableDiffusion::VariableDiffusion(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                                     std::array<Scheme, 3> schemes, const layout::RealField& coefficient)
    : grid_(std::move(grid)) {
  for (int a = 0; a < 3; ++a) {
    n_[a] = axes[a].size();
    active_[a] = n_[a] > 1;
    bounded_[a] = active_[a] && !axes[a].periodic();
    if (active_[a] && schemes[a] != Scheme::FD2) flux_ = false;
  }
  const layout::Pencil px(n_, grid_, 0);
  if (coefficient.pencil() != px || coefficient.has_halo() || coefficient.components() != 1)
    throw Error("VariableDiffusion: the coefficient must be a one-component x-pencil field of the operator's grid without halos");
  if (flux_) {
    flux_stencil_ = stencil::FluxStencil(axes);
    symmetric_ = flux_stencil_.symmetric();
    std::array<int, 3> halo{};
    std::array<bool, 3> periodic{};
    for (int a = 0; a < 3; ++a) {
      halo[a] = active_[a] ? 1 : 0;
      periodic[a] = axes[a].periodic();
    }
    a_ = std::make_unique<layout::RealField>(px, 1, halo);
    u_ = std::make_unique<layout::RealField>(px, 1, halo);
    exchange_ = std::make_unique<layout::HaloExchange<double>>(px, halo, periodic);
    layout::copy_box(&coefficient(0, 0, 0), coefficient.layout().stride, &(*a_)(0, 0, 0), a_->layout().stride,
                     coefficient.extent());
    exchange_->execute(*a_);
    return;
  }
  symmetric_ = false;
  a_ = std::make_unique<layout::RealField>(px);
  layout::ops::copy(coefficient, *a_);
  ws_ = std::make_unique<PencilWorkspace>(grid_);
  for (int a = 0; a < 3; ++a) {
    if (!active_[a]) continue;
    auto line = [&](int d) { return std::make_shared<LineOp<double>>(LineOp<double>::real(derivative(axes[a], schemes[a], d))); };
    d1_[a] = TensorOp<double>(grid_, n_, 1, {{a, line(1), Trans::N}});
    d2_[a] = TensorOp<double>(grid_, n_, 1, {{a, line(2), Trans::N}});
    grad_a_[a] = std::make_unique<layout::RealField>(px);
    d1_[a].apply(*a_, *grad_a_[a], *ws_);
  }
}

VariableDiffusion::~VariableDiffusion() = default;

std::size_t VariableDiffusion::operator_bytes() const {
  std::size_t b = flux_stencil_.bytes();
  for (int a = 0; a < 3; ++a) {
    for (const auto* t : {&d1_[a], &d2_[a]})
      for (const auto& s : t->stages()) b += s.op->bytes();
    if (grad_a_[a]) b += sizeof(double) * grad_a_[a]->storage_size();
  }
  // The coefficient field itself is problem data of the same size as a solution, counted too.
  if (a_) b += sizeof(double) * a_->storage_size();
  return b;
}

std::size_t VariableDiffusion::workspace_bytes() const {
  std::size_t b = ws_ ? ws_->bytes() : 0;
  if (u_) b += sizeof(double) * u_->storage_size();
  if (exchange_) b += exchange_->buffer_bytes();
  return b;
}

void VariableDiffusion::apply(const layout::RealField& in, layout::RealField& out) {
  const layout::Pencil px(n_, grid_, 0);
  if (in.pencil() != px || out.pencil() != px || in.has_halo() || out.has_halo())
    throw Error("VariableDiffusion::apply: fields must be x-pencils of the operator's grid without halos");
  if (in.components() != 1 || out.components() != 1)
    throw Error("VariableDiffusion::apply: one component (the coefficient is a scalar field); got " + std::to_string(in.components()) +
                    " and " + std::to_string(out.components()),
                {}, "apply it to each component's own field");
  core::ScopedTimer timer("linops.diffusion");
  if (flux_) {
    layout::copy_box(&in(0, 0, 0), in.layout().stride, &(*u_)(0, 0, 0), u_->layout().stride, in.extent());
    exchange_->execute(*u_);
    flux_stencil_.sweep(*a_, *u_, out, 0);
    return;
  }
  // out = sum_a a D2_a in + (D1_a a)(D1_a in).
  layout::RealField& t1 = ws_->field<double>(0, n_, 1, kD1);
  layout::RealField& t2 = ws_->field<double>(0, n_, 1, kD2);
  out.fill(0.0);
  for (int a = 0; a < 3; ++a) {
    if (!active_[a]) continue;
    d1_[a].apply(in, t1, *ws_);
    d2_[a].apply(in, t2, *ws_);
    layout::ops::map(out, [](double o, double av, double ga, double g1, double g2) { return o + av * g2 + ga * g1; }, *a_, *grad_a_[a], t1,
                     t2);
  }
  // Boundary rows belong to the boundary conditions.
  layout::ops::fill_faces(out, bounded_, 0.0);
}

}  // namespace kron::linops
