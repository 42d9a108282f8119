#pragma once
#include "kron/core/eigen.hpp"
#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "kron/layout/axis_grid.hpp"
#include "kron/core/device.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/line_op.hpp"

namespace kron::linops {

/// Boundary conditions of the separable solvers (FastPoisson, Adi, the diffusion solver): the
/// kinds, the data, the faces they live on, the one boundary predicate and the per-axis split of
/// a 1D operator into interior equations and boundary lifts.
enum class BoundaryKind { Periodic, Dirichlet, Neumann };
const char* to_string(BoundaryKind b);

/// Boundary data: Dirichlet value u, or Neumann value du/dx_a (derivative along +x_a, not the
/// outward normal), at the boundary point X of side `side` (0 low, 1 high) of axis `axis`.
using BoundaryData = std::function<double(int axis, int side, const std::array<double, 3>& X)>;

/// The boundary conditions of a tensor-product grid of n[0] x n[1] x n[2] points: an axis of
/// one point is absent (no faces).
class Boundaries {
 public:
  Boundaries() = default;
  Boundaries(std::array<long, 3> n, std::array<BoundaryKind, 3> kind);
  const std::array<long, 3>& shape() const { return n_; }
  BoundaryKind kind(int a) const { return kind_[a]; }
  /// Axis a has boundary points (present and not periodic).
  bool bounded(int a) const { return n_[a] > 1 && kind_[a] != BoundaryKind::Periodic; }
  /// Per axis: whether its faces carry kind k (present axes only).
  std::array<bool, 3> faces(BoundaryKind k) const;
  /// Per axis: whether it has faces of any kind (bounded()).
  std::array<bool, 3> faces() const;
  /// The one boundary predicate: global index g lies on a face of a bounded axis.
  bool on_boundary(const std::array<long, 3>& g) const;

 private:
  std::array<long, 3> n_{1, 1, 1};
  std::array<BoundaryKind, 3> kind_{BoundaryKind::Periodic, BoundaryKind::Periodic, BoundaryKind::Periodic};
};

/// Sets the Dirichlet boundary points of `u` (any pencil, no halos; component c from g[c], or
/// every component from g[0] when one function is given) to the data, visiting the faces only;
/// where faces of two axes meet, the later axis' value stands (the data should agree).
void fill_dirichlet(const std::array<layout::AxisGrid, 3>& axes, const std::array<BoundaryKind, 3>& bc,
                    const std::vector<BoundaryData>& g, layout::RealField& u);
inline void fill_dirichlet(const std::array<layout::AxisGrid, 3>& axes, const std::array<BoundaryKind, 3>& bc, const BoundaryData& g,
                           layout::RealField& u) {
  fill_dirichlet(axes, bc, std::vector<BoundaryData>{g}, u);
}

/// A square 1D operator A (n x n, a full line with its two boundary points) split for a bounded
/// axis: unknowns are the m = n-2 interior points, and the boundary values follow from the data
/// g = (g_lo, g_hi) (Dirichlet values, or Neumann derivatives through the first-derivative rows
/// D1 at both ends). The interior equations of  A u = f  become  M u_I = f_I - B g  and the
/// boundary values  u_b = S g + R u_I.
struct AxisSplit {
  long lo = 1, m = 0;
  Eigen::MatrixXd M;  ///< m x m interior operator (Neumann rows eliminated)
  Eigen::MatrixXd B;  ///< m x 2 lift of the boundary data into the interior equations
  Eigen::MatrixXd S;  ///< 2 x 2 boundary values from the data (identity for Dirichlet)
  Eigen::MatrixXd R;  ///< 2 x m boundary values from the interior (zero for Dirichlet)
};
/// D1: the first-derivative matrix (Neumann only; may be null for Dirichlet).
AxisSplit split_axis(const Eigen::MatrixXd& A, BoundaryKind kind, const Eigen::MatrixXd* D1);

/// Per-line face data of a field's local box along one axis: two values (low, high side) for
/// every local line of local_lines(f, axis), laid out as lines of length 2 (face(v) below), so a
/// lift is one LineOp application.
class FaceValues {
 public:
  /// Evaluates g (one function per component, or one for all) on both faces of `axis` for the
  /// local lines of f.
  void evaluate(const std::vector<BoundaryData>& g, int axis, const std::array<layout::AxisGrid, 3>& grids,
                const layout::RealField& f);
  /// The values as lines of length 2 matching `lines` (local_lines of the field evaluated on),
  /// in the lines' memory space (device lines: the values are sent to the device).
  LineView<const double> view(const LineView<double>& lines) const;
  /// Whether every value evaluated (on this rank) is finite.
  bool all_finite() const;

 private:
  std::vector<double> values_;
  mutable core::DeviceBuffer<double> device_values_;
};

/// A lift: an n x 2 matrix P taking the two face values of each line along `axis` to the points
/// of the line, applied to a pencil's local segments of the lines (no whole lines, no transposes):
/// only the runs of rows with non-zero entries that the local box holds are computed, so a
/// second-order Dirichlet lift touches one row next to each face, not the whole field.
class FaceLift {
 public:
  FaceLift() = default;
  /// P: n x 2; box: the local box the lift will be applied on.
  FaceLift(const Eigen::MatrixXd& P, int axis, const layout::Box& box);
  /// out (+)= P faces on the local segments (out = local_lines(f, axis) of a field with the box;
  /// faces = FaceValues::view(out)). Rows without entries are left as they are.
  void apply(const LineView<const double>& faces, const LineView<double>& out, bool accumulate) const;
  std::size_t bytes() const;

 private:
  struct Run {
    long lo = 0;  // first local row
    std::shared_ptr<const LineOp<double>> op;
  };
  std::vector<Run> runs_;
};

}  // namespace kron::linops
