#include "kron/layout/pencil.hpp"

#include <algorithm>

#include "kron/core/error.hpp"

namespace kron::layout {

Box intersect(const Box& a, const Box& b) {
  Box r;
  for (int d = 0; d < 3; ++d) {
    const long lo = std::max(a.lo[d], b.lo[d]);
    const long hi = std::min(a.lo[d] + a.n[d], b.lo[d] + b.n[d]);
    r.lo[d] = lo;
    r.n[d] = std::max(0L, hi - lo);
  }
  if (r.empty()) r.n = {0, 0, 0};
  return r;
}

Pencil::Pencil(std::array<long, 3> global, ProcessGridPtr grid, int axis)
    : global_(global), grid_(std::move(grid)), axis_(axis) {
  if (axis < 0 || axis > 2) throw Error("pencil axis must be 0, 1 or 2");
  if (!grid_) throw Error("pencil needs a process grid");
  for (long g : global_) if (g < 1) throw Error("pencil global extents must be >= 1");
  const int o1 = axis == 0 ? 1 : 0, o2 = axis == 2 ? 1 : 2;
  order_ = {axis, o1, o2};
  box_ = box_of(grid_->c1(), grid_->c2());
}

Box Pencil::box_of(int c1, int c2) const {
  Box b;
  const int o1 = order_[1], o2 = order_[2];
  b.lo[axis_] = 0;
  b.n[axis_] = global_[axis_];
  b.lo[o1] = block_offset(global_[o1], grid_->p1(), c1);
  b.n[o1] = block_size(global_[o1], grid_->p1(), c1);
  b.lo[o2] = block_offset(global_[o2], grid_->p2(), c2);
  b.n[o2] = block_size(global_[o2], grid_->p2(), c2);
  return b;
}

int Pencil::splits(int a) const {
  if (a == axis_) return 1;
  return a == order_[1] ? grid_->p1() : grid_->p2();
}

std::string Pencil::describe() const {
  static const char* names = "xyz";
  return std::string(1, names[axis_]) + "-pencil of " + std::to_string(global_[0]) + "x" +
         std::to_string(global_[1]) + "x" + std::to_string(global_[2]) + " on " +
         std::to_string(grid_->p1()) + "x" + std::to_string(grid_->p2()) + " ranks";
}

long max_local_points(const std::array<long, 3>& global, const ProcessGridPtr& grid) {
  long most = 0;
  for (int axis = 0; axis < 3; ++axis) {
    const Pencil p(global, grid, axis);
    for (int c1 = 0; c1 < grid->p1(); ++c1)
      for (int c2 = 0; c2 < grid->p2(); ++c2) most = std::max(most, p.box_of(c1, c2).volume());
  }
  return most;
}

}  // namespace kron::layout
