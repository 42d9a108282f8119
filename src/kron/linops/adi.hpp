#pragma once
#include <array>
#include <functional>
#include <memory>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/boundary.hpp"
#include "kron/linops/kronecker.hpp"

namespace kron::linops {

/// ADI time stepping for u_t = nu Laplace(u) + f (Douglas, theta = 1/2, delta form; second order
/// in time, unconditionally stable):
///   D0 = dt (nu L u^n + f^{n+1/2}),
///   (I - dt nu/2 D2_x) D1 = D0,  (I - dt nu/2 D2_y) D2 = D1,  (I - dt nu/2 D2_z) D3 = D2,
///   u^{n+1} = u^n + D3.
/// Vector fields step every component alike (source and boundary fills get fields with u's
/// components). Each factor is a batched line solve along its axis: Thomas across interleaved lines when the
/// factor is tridiagonal (fd2; periodic compact4 as (A - c B) D = A r), the precomputed dense
/// inverse applied as one GEMM over all lines otherwise; a TensorOp stage each, planned once.
/// Dirichlet data of the intermediate stages are the exact factor products of dg = g^{n+1} - g^n
/// on the boundary faces, (I - c D2_y)(I - c D2_z) dg and (I - c D2_z) dg, which keeps second
/// order with time-dependent boundary values; each enters its stage as a lift TensorOp from dg
/// (the two face values of each line, the later factors on that face data only, then
/// M^{-1} c D2_ib onto the interior), so no full-size stage data are formed.
class Adi {
 public:
  /// Fills an x-pencil field at time t (source; or boundary values, read on boundary points only).
  using Fill = std::function<void(double t, layout::RealField& f)>;
  /// `space`: where the step runs (device: this rank's GPU, the CUDA build; the Laplacian as
  /// KroneckerSum's device path, the source and boundary fills evaluated on the host and sent
  /// over).
  Adi(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes, std::array<Scheme, 3> schemes,
      std::array<BoundaryKind, 3> bc, double nu, double dt, core::MemorySpace space = core::MemorySpace::Host);
  ~Adi();
  /// One step from t to t + dt. `u` holds u^n (boundary values g^n included) on entry; a host u
  /// with a device solver is copied over and back (pass a device field to keep it there).
  void step(layout::RealField& u, double t, const Fill& source, const Fill& boundary);
  /// Device solvers: hand the fills the solver's device fields themselves (fills that write
  /// device memory, e.g. copies of fields kept there) instead of host fields sent over after
  /// each fill (the default, for fills that evaluate expressions on the host).
  void set_device_fills(bool on);
  /// Per axis: "thomas", "thomas-compact" or "dense".
  std::string describe() const;
  std::size_t operator_bytes() const;
  /// Bytes of the step's scratch (workspace fields, transposes, line kernels) held now.
  std::size_t workspace_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::linops
