#pragma once
#include <array>
#include <memory>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/halo.hpp"
#include "kron/linops/operator1d.hpp"
#include "kron/linops/pencil_workspace.hpp"
#include "kron/linops/stencil.hpp"
#include "kron/linops/tensor_op.hpp"

namespace kron::linops {

/// The variable-coefficient operator  L u = div(a grad u)  with a coefficient field a > 0,
/// never assembled:
///  - every axis fd2: the conservative flux form (stencil::FluxStencil): one halo exchange and
///    one 7-point sweep; symmetric on uniform axes (CG applies);
///  - other schemes: the product form  a D2 u + (D1 a)(D1 u)  with the scheme's own first and
///    second derivatives, one TensorOp stage each (order of the scheme, not symmetric).
/// Rows of non-periodic boundary points are left zero: boundary conditions belong to the caller.
/// Scalar fields (the coefficient is one field); vector fields are refused.
class VariableDiffusion {
 public:
  VariableDiffusion(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                    std::array<Scheme, 3> schemes, const layout::RealField& coefficient);
  ~VariableDiffusion();

  bool flux_form() const { return flux_; }
  /// True when the operator is symmetric in the plain dot product (flux form on uniform axes).
  bool symmetric() const { return symmetric_; }
  /// out = div(a grad in); x-pencil fields of one component without halos.
  void apply(const layout::RealField& in, layout::RealField& out);
  /// "flux form (stencil sweep)" or "product form (TensorOp stages)".
  std::string describe() const { return flux_ ? "flux form (stencil sweep)" : "product form (D1, D2 TensorOp stages per axis)"; }
  std::size_t operator_bytes() const;
  /// Scratch held: the halo copy of the input (flux form) or the workspace (product form).
  std::size_t workspace_bytes() const;

 private:
  layout::ProcessGridPtr grid_;
  std::array<long, 3> n_;
  std::array<bool, 3> active_{}, bounded_{};
  bool flux_ = true, symmetric_ = true;
  stencil::FluxStencil flux_stencil_;
  std::unique_ptr<layout::RealField> a_;  // coefficient; flux form: with halo 1
  std::unique_ptr<layout::RealField> u_;  // flux form: input copy with halo 1
  std::unique_ptr<layout::HaloExchange<double>> exchange_;
  // product form: per axis D1 and D2 (one TensorOp stage each) and D1 a
  std::array<TensorOp<double>, 3> d1_, d2_;
  std::array<std::unique_ptr<layout::RealField>, 3> grad_a_;
  std::unique_ptr<PencilWorkspace> ws_;
};

}  // namespace kron::linops
