#pragma once
#include <array>
#include <memory>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/halo.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/pencil_set.hpp"

namespace kron::linops {

/// The variable-coefficient operator  L u = div(a grad u)  with a coefficient field a > 0,
/// never assembled:
///  - every axis fd2: the conservative flux form  (1/V_i) [a_{i+1/2}(u_{i+1}-u_i)/h_{i+1/2}
///    - a_{i-1/2}(u_i-u_{i-1})/h_{i-1/2}],  a_{i+1/2} = (a_i + a_{i+1})/2, V_i the dual cell:
///    one halo exchange and one 7-point sweep; symmetric on uniform axes (CG applies);
///  - other schemes: the product form  a D2 u + (D1 a)(D1 u)  with the scheme's own first and
///    second derivatives, as batched line sweeps (order of the scheme, not symmetric).
/// Rows of non-periodic boundary points are left zero: boundary conditions belong to the caller.
class VariableDiffusion {
 public:
  VariableDiffusion(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                    std::array<Scheme, 3> schemes, const layout::RealField& coefficient);
  ~VariableDiffusion();

  bool flux_form() const { return flux_; }
  /// True when the operator is symmetric in the plain dot product (flux form on uniform axes).
  bool symmetric() const { return symmetric_; }
  /// out = div(a grad in); x-pencil fields without halos.
  void apply(const layout::RealField& in, layout::RealField& out);
  std::size_t operator_bytes() const;

 private:
  void flux_sweep(const layout::RealField& u, layout::RealField& out) const;
  layout::ProcessGridPtr grid_;
  std::array<long, 3> n_;
  std::array<bool, 3> active_{}, periodic_{};
  bool flux_ = true, symmetric_ = true;
  // flux form: per axis and global row, 1/(V h+) and 1/(V h-) (zero on non-periodic boundary rows)
  std::array<std::vector<double>, 3> cp_, cm_;
  std::unique_ptr<layout::RealField> a_;     // coefficient; flux form: with halo 1
  std::unique_ptr<layout::RealField> u_;     // flux form: input copy with halo 1
  std::unique_ptr<layout::HaloExchange<double>> exchange_;
  // product form
  std::array<std::unique_ptr<LineOperator>, 3> d1_, d2_;
  std::array<std::unique_ptr<layout::RealField>, 3> grad_a_;  // D1_a a, x-pencil
  std::unique_ptr<PencilSet> work_, t1_, t2_;
};

}  // namespace kron::linops
