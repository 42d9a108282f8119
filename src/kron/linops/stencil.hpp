#pragma once
// The halo stencil fast path of linops, in one place: sweeps over a field whose halos hold the
// neighbours (one exchange, no transposes, each point loaded and stored once). KroneckerSum
// takes it for banded operators; VariableDiffusion for its conservative fd2 flux form. Every
// other axis sweep goes through TensorOp.
#include <array>
#include <vector>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::linops::stencil {

/// out(.., c) = sum_a B_a u - shift u for banded B_a (null: absent axis) indexed by global row;
/// u: component 0 of an x-pencil field with halos at least the bandwidths (exchanged).
void banded_sweep(const std::array<const Banded*, 3>& B, double shift, const layout::RealField& u, layout::RealField& out, int c);

/// The conservative second-order flux form of div(a grad u) on tensor-product axes:
///   (1/V_i) [a_{i+1/2}(u_{i+1}-u_i)/h_{i+1/2} - a_{i-1/2}(u_i-u_{i-1})/h_{i-1/2}],
/// a_{i+1/2} = (a_i + a_{i+1})/2, V_i the dual cell; rows of non-periodic boundary points zero.
class FluxStencil {
 public:
  FluxStencil() = default;
  explicit FluxStencil(const std::array<layout::AxisGrid, 3>& axes);
  /// Whether the operator is symmetric in the plain dot product (uniform spacing on every axis).
  bool symmetric() const { return symmetric_; }
  /// out(.., c) = div(a grad u); a and u: component 0 of x-pencil fields with halo 1 on active
  /// axes (exchanged).
  void sweep(const layout::RealField& a, const layout::RealField& u, layout::RealField& out, int c) const;
  std::size_t bytes() const;

 private:
  std::array<long, 3> n_{1, 1, 1};
  std::array<bool, 3> active_{}, periodic_{};
  bool symmetric_ = true;
  // per axis and global row, 1/(V h+) and 1/(V h-) (zero on non-periodic boundary rows)
  std::array<std::vector<double>, 3> cp_, cm_;
};

}  // namespace kron::linops::stencil
