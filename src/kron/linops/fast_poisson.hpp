#pragma once
#include <map>
#include <vector>
#include <array>
#include <functional>
#include <memory>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/fft_lines.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/boundary.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::linops {

struct FastPoissonOptions {
  /// Singular problems (all axes periodic or Neumann, no shift): the largest relative size of
  /// the right-hand side's null-space component accepted as discretisation error and projected
  /// out; larger means the data are incompatible and the solve fails.
  double compatibility_tol = 1e-6;
  /// FFTW planner effort of the sine/real-FFT transforms. Measuring plans for strided batches
  /// of 3D-sized arrays costs seconds at 256^3 while gaining little, so the default estimates.
  layout::FftEffort effort = layout::FftEffort::Estimate;
  /// Where the solve runs: host, or this rank's GPU (device; the CUDA build): its workspace, the
  /// transforms, the division, the lifts and recoveries of boundary data (evaluated on the host
  /// face by face, O(n^2) values sent over). solve() takes host or device fields either way;
  /// fields in the other space are copied once each way.
  core::MemorySpace space = core::MemorySpace::Host;
  /// All-periodic problems: host solves on the fast diagonalization's spectral path (one
  /// distributed r2c transform around the division, as device solves always do) instead of the
  /// real-FFT line transforms (half its scratch). Tests compare the two.
  bool spectral_on_host = false;
};

/// Direct solver for the separable problem  sum_a D2_a u - shift u = f  by fast diagonalization:
/// along each axis the 1D operator (with its boundary condition folded in: Dirichlet values
/// moved to the right-hand side, Neumann rows eliminated through the scheme's first
/// derivative) is diagonalised once; a solve is one transform sweep per axis, a pointwise
/// division and the inverse sweeps. Transforms: DST-I when the 1D operator is a symmetric
/// Toeplitz tridiagonal (2nd-order Dirichlet), real FFT (R2HC) when it is circulant (periodic
/// differences, compact and Fourier), dense eigenvectors otherwise (compact, Chebyshev,
/// stretched, Neumann). Cost O(N log n) or O(N n); storage O(n^2) per dense axis.
class FastPoisson {
 public:
  FastPoisson(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes, std::array<Scheme, 3> schemes,
              std::array<BoundaryKind, 3> bc, double shift = 0.0, FastPoissonOptions opt = {});
  ~FastPoisson();

  /// Solves for u (x-pencil, full grid including boundary points) given f on the same grid
  /// (only interior equations are used) and the boundary data. Vector fields: every component is
  /// solved alike, with its own boundary function g[c] (or g[0] for all). Throws kron::Error for
  /// incompatible data of a singular problem or a non-finite result.
  void solve(const layout::RealField& f, const std::vector<BoundaryData>& g, layout::RealField& u);
  void solve(const layout::RealField& f, const BoundaryData& g, layout::RealField& u) {
    solve(f, std::vector<BoundaryData>{g}, u);
  }

  bool singular() const;
  /// Singular problems: relative size of the null-space component removed by the last solve.
  double compatibility_defect() const;
  /// Per axis: "dst1", "rfft" or "dense".
  std::string describe() const;
  /// The 1D second-derivative operators (full grid) used, e.g. for residual checks.
  const std::array<Operator1D, 3>& operators() const;
  std::size_t operator_bytes() const;
  /// Bytes of the solver's scratch (workspace fields, transposes, line kernels) held now.
  std::size_t workspace_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::linops
