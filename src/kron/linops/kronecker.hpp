#pragma once
#include <array>
#include <map>
#include <memory>
#include <optional>

#include "kron/layout/field.hpp"
#include "kron/layout/halo.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/tensor_op.hpp"

namespace kron::linops {

/// A Kronecker sum  L = sum_a (I x .. x Op_a x .. x I) - shift * I  on a tensor-product grid,
/// e.g. the Laplacian (Op_a = d2/dx_a^2) or Helmholtz (shift = lambda). Never assembled:
/// operator storage is O(nx + ny + nz).
///  - banded operators (explicit differences) apply as one fused stencil sweep over a field with
///    halos (one halo exchange, no transposes);
///  - compact, spectral and dense operators apply as batched line sweeps in the pencil where
///    their axis is local (transposes as needed).
/// With space = Device the fields live on the GPU: the stencil sweep is one device kernel over
/// the halo field (halos exchanged on the device), the line stages run on LineOp's device
/// executor.
class KroneckerSum {
 public:
  /// ops[a] of size 0 (default-constructed) leaves axis a out (absent axes of 1D/2D problems).
  KroneckerSum(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops, double shift = 0.0,
               std::array<bool, 3> periodic = {false, false, false}, core::MemorySpace space = core::MemorySpace::Host);
  ~KroneckerSum();

  const std::array<long, 3>& shape() const { return n_; }
  bool stencil_path() const { return stencil_; }
  /// Halo widths a field must have for apply_with_halo().
  const std::array<int, 3>& halo() const { return halo_; }

  /// out = L in; both on the x-pencil without halos, any number of components (each one
  /// transformed alike).
  void apply(const layout::RealField& in, layout::RealField& out);
  /// out = L in for an x-pencil `in` allocated with halo() (stencil path only): exchanges in's
  /// halos, then one fused sweep. Saves the copy into a halo field.
  void apply_with_halo(layout::RealField& in, layout::RealField& out);

  /// out = diag(L) (every component): sum_a diag(Op_a)[g_a] - shift, for Jacobi-type
  /// preconditioners and checks; x-pencil without halos, in host memory.
  void diagonal(layout::RealField& out) const;
  /// "stencil sweep (halo hx, hy, hz)" or the per-axis line stages.
  std::string describe() const;
  /// Bytes held by the operator itself (coefficients, factorizations), not by work fields.
  std::size_t operator_bytes() const;
  /// Bytes of the work storage apply() keeps between calls (the halo field and message buffers
  /// of the stencil path, the pencil copies of the line path), as allocated so far.
  std::size_t workspace_bytes() const;

 private:
  std::array<const Banded*, 3> stencil_taps() const;
  void sweep(const layout::RealField& h, layout::RealField& out, int c) const;
  const std::array<TensorOp<double>, 3>& terms(int ncomp);
  layout::ProcessGridPtr grid_;
  core::MemorySpace space_;
  std::array<core::DeviceBuffer<double>, 3> device_taps_;  // the stencil's diagonals on the device
  std::array<long, 3> n_;
  std::array<Operator1D, 3> ops_;
  double shift_;
  bool stencil_ = false;
  std::array<int, 3> halo_{0, 0, 0};
  std::unique_ptr<layout::HaloExchange<double>> exchange_;
  std::unique_ptr<layout::RealField> with_halo_;
  std::map<int, std::unique_ptr<std::array<TensorOp<double>, 3>>> terms_;  // by component count
  std::unique_ptr<PencilWorkspace> ws_;
};

/// A Kronecker product  A_x (x) A_y (x) A_z  of 1D operators, applied by sum factorization: a
/// TensorOp with one stage per axis (the 3D matrix never exists). Absent axes (size 0) are
/// identities.
class KroneckerProduct {
 public:
  KroneckerProduct(layout::ProcessGridPtr grid, std::array<Operator1D, 3> ops);
  /// out = (A_x (x) A_y (x) A_z) in; x-pencil fields without halos (in and out may be the same),
  /// scratch from `ws` (or the product's own workspace).
  void apply(const layout::RealField& in, layout::RealField& out, PencilWorkspace& ws);
  void apply(const layout::RealField& in, layout::RealField& out);
  const TensorOp<double>& tensor_op() const { return op_; }
  std::string describe() const { return op_.describe(); }

 private:
  layout::ProcessGridPtr grid_;
  TensorOp<double> op_;
  std::unique_ptr<PencilWorkspace> own_;
};

}  // namespace kron::linops
