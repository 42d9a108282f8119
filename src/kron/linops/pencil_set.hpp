#pragma once
#include <array>
#include <map>
#include <memory>

#include "kron/layout/field.hpp"
#include "kron/layout/transpose.hpp"

namespace kron::linops {

/// Scratch copies of one scalar field in the x-, y- and z-pencils of a process grid, with the
/// transposes between them planned once: a 1D operator along axis a runs in a pencil where a is
/// local (the current one when possible), so every operator is a sequence of line sweeps.
class PencilSet {
 public:
  PencilSet(layout::ProcessGridPtr grid, std::array<long, 3> n,
            layout::TransposeMethod method = layout::TransposeMethod::Alltoallv);
  const layout::ProcessGridPtr& grid() const { return grid_; }
  const std::array<long, 3>& shape() const { return n_; }
  layout::RealField& field(int pencil);
  const layout::Pencil& pencil(int p) const { return pencils_[p]; }
  /// The pencil to work on axis `axis` from pencil `current`: current itself when the axis is
  /// local there, else the axis' own pencil.
  int home(int axis, int current) const;
  /// Copies field(from) into field(to) (a transpose; nothing when from == to).
  void move(int from, int to);
  /// Transposes an arbitrary field (no halos) into field(to).
  void move_in(const layout::RealField& src, int to);
  /// Bytes of the fields and transpose buffers allocated so far.
  std::size_t bytes() const;

 private:
  const layout::Transpose<double>& plan(int from, int to);
  layout::ProcessGridPtr grid_;
  std::array<long, 3> n_;
  layout::TransposeMethod method_;
  std::array<layout::Pencil, 3> pencils_;
  std::array<std::unique_ptr<layout::RealField>, 3> fields_;
  std::map<std::pair<int, int>, std::unique_ptr<layout::Transpose<double>>> plans_;
  layout::TransposeWork work_;
};

}  // namespace kron::linops
