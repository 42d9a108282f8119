#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kron/layout/fft.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/tensor_op.hpp"

namespace kron::linops {

/// Fast diagonalization, the one skeleton behind every separable direct solver: a forward
/// TensorOp of per-axis transforms (eigenvector bases: DST, real FFT, dense V^-1 or V^T), a
/// point-wise division by the combined per-axis eigenvalues, and the backward TensorOp. The
/// eigenvalues combine by sum (Laplacians and Helmholtz: sum_a lambda_a + shift) or by product
/// (Kronecker covariances: prod_a lambda_a + shift). The forward sweep leaves the data in the
/// pencil of its last stage, where the division happens and the backward sweep starts.
/// When every axis is a whole-line real FFT (periodic axes), device solves take the spectral
/// path instead (host solves too after use_spectral_on_host(true); by default the host keeps the
/// line transforms, which need half the scratch): one distributed r2c transform (layout::DistributedTransform; on the device a single
/// multi-dimensional cuFFT plan where the whole field is on one rank), the division on the
/// complex half spectrum (the real FFT's eigenvalues hold for both halves of a symmetric
/// operator), and the c2r transform back.
class FastDiagonalization {
 public:
  enum class Combine { Sum, Product };
  struct Axis {
    std::shared_ptr<const LineOp<double>> fwd, bwd;  ///< null: the axis is absent (one point)
    Trans fwd_trans = Trans::N, bwd_trans = Trans::N;
    long lo = -1;                  ///< transform points lo .. lo+m-1 only (interiors); -1: whole lines
    std::vector<double> lambda;    ///< eigenvalue of each transformed point
    double norm = 1.0;             ///< bwd(fwd(x)) = norm x (unnormalised transforms)
  };
  /// `what` names the operator in errors. allow_singular: a zero combined eigenvalue drops that
  /// mode (the null space of a singular problem; solve() reports its size); otherwise it is an
  /// error.
  FastDiagonalization(layout::ProcessGridPtr grid, std::array<long, 3> n, std::array<Axis, 3> axes, Combine combine, double shift,
                      bool allow_singular, std::string what);

  /// u = B D^-1 F r for an x-pencil r of the grid's shape (any number of components, each solved
  /// alike), zero outside the transformed ranges; r is scratch (overwritten). u is returned as a
  /// workspace field (x-pencil, valid until the workspace's next use). `dropped` (optional)
  /// receives per component the largest dropped null-space coefficient relative to the
  /// component's largest coefficient (0 unless singular).
  layout::RealField& solve(layout::RealField& r, PencilWorkspace& ws, std::vector<double>* dropped = nullptr) const;
  /// Whether solves of r take the spectral path (one real FFT each way around the division).
  bool spectral_for(const layout::RealField& r) const { return spectral_ && (r.on_device() || spectral_host_); }
  /// The spectral path straight from r (read only) into u (x-pencils without halos, r != u):
  /// the forward transform reads r, the backward one writes u, no copies. Returns false where
  /// a value of the divided spectrum is not finite (u then holds no solution); `dropped` as in
  /// solve(). Needs spectral_for(r).
  bool solve_spectral(const layout::RealField& r, PencilWorkspace& ws, layout::RealField& u, std::vector<double>* dropped = nullptr) const;
  /// Allocates the workspace fields solve(r, ws) will use (setup, not the first solve, pays).
  void reserve(layout::RealField& r, PencilWorkspace& ws) const;
  /// Whether some combined eigenvalue is zero (the operator's null space is not empty).
  bool singular() const { return singular_; }
  const std::array<Axis, 3>& axes() const { return axes_; }
  std::size_t bytes() const;
  std::size_t operator_bytes() const { return bytes(); }
  /// The forward and backward plans (TensorOp::describe) of scalar fields.
  std::string describe() const;
  /// Host solves on the spectral path as well (tests compare it with the line transforms).
  void use_spectral_on_host(bool on) { spectral_host_ = on; }

 private:
  layout::ProcessGridPtr grid_;
  std::array<long, 3> n_;
  std::array<Axis, 3> axes_;
  Combine combine_;
  double shift_, scale_ = 0, norm_ = 1;
  bool allow_singular_, singular_ = false, spectral_ = false, spectral_host_ = false;
  std::string what_;
  struct Plans {
    TensorOp<double> fwd, bwd;
  };
  const Plans& plans(int ncomp) const;
  const layout::DistributedTransform& spectral_plan(int ncomp, core::MemorySpace space) const;
  // The spectral path: r -> spectrum -> division -> out (a workspace field where out is null).
  struct DivideSums;
  layout::RealField& spectral_solve(const layout::RealField& r, PencilWorkspace& ws, DivideSums& d, layout::RealField* out) const;
  void finish_divide(DivideSums& d) const;
  // The eigenvalue of every local index of `box` along each axis (NaN outside the transformed
  // ranges), and the division of one device component by their combination.
  std::array<std::vector<double>, 3> local_eigenvalues(const layout::Box& box) const;
  mutable std::map<std::pair<int, int>, std::unique_ptr<layout::DistributedTransform>> spectral_plans_;  // by (ncomp, space)
  std::vector<TensorOp<double>::Stage> fwd_stages_, bwd_stages_;
  mutable std::map<int, std::unique_ptr<Plans>> plans_;  // by component count, planned on first use
};

}  // namespace kron::linops
