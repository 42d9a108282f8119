#pragma once
#include <array>
#include <string>

#include "kron/layout/process_grid.hpp"

namespace kron::layout {

/// A box of global indices: lo[a] .. lo[a]+n[a]-1 along each axis a (0 = x, 1 = y, 2 = z).
struct Box {
  std::array<long, 3> lo{0, 0, 0};
  std::array<long, 3> n{0, 0, 0};
  long volume() const { return n[0] * n[1] * n[2]; }
  bool empty() const { return volume() == 0; }
};
Box intersect(const Box& a, const Box& b);

/// The pencil of axis `axis` of a global array distributed over a process grid: which box of
/// global indices each rank holds. Local storage keeps the pencil axis fastest, then the two
/// other axes in increasing order: x-pencil (x,y,z), y-pencil (y,x,z), z-pencil (z,x,y).
class Pencil {
 public:
  Pencil() = default;
  Pencil(std::array<long, 3> global, ProcessGridPtr grid, int axis);

  int axis() const { return axis_; }
  const std::array<long, 3>& global() const { return global_; }
  const ProcessGrid& grid() const { return *grid_; }
  const ProcessGridPtr& grid_ptr() const { return grid_; }

  /// Box of this rank, and of the rank at grid coordinates (c1, c2).
  const Box& box() const { return box_; }
  Box box_of(int c1, int c2) const;
  /// Axes fastest first in local storage.
  const std::array<int, 3>& order() const { return order_; }
  /// Number of ranks axis a is split over in this pencil (1: the axis is whole on every rank).
  int splits(int a) const;
  long local_size() const { return box_.volume(); }
  /// Same global shape and grid, other orientation.
  Pencil with_axis(int axis) const { return Pencil(global_, grid_, axis); }
  /// Same grid and orientation, other global shape (e.g. the half axis after an r2c transform).
  Pencil with_global(std::array<long, 3> global) const { return Pencil(global, grid_, axis_); }
  std::string describe() const;

  bool operator==(const Pencil& o) const {
    return axis_ == o.axis_ && global_ == o.global_ && grid_ == o.grid_;
  }
  bool operator!=(const Pencil& o) const { return !(*this == o); }

 private:
  std::array<long, 3> global_{1, 1, 1};
  ProcessGridPtr grid_;
  int axis_ = 0;
  std::array<int, 3> order_{0, 1, 2};
  Box box_;
};

/// The most points any rank holds in any of the three pencils of `global` on `grid` (uneven
/// splits included): the size of the largest field-sized array a rank allocates.
long max_local_points(const std::array<long, 3>& global, const ProcessGridPtr& grid);

}  // namespace kron::layout
