#pragma once
#include <complex>
#include <type_traits>

#include "kron/core/error.hpp"
#include "kron/core/memory.hpp"
#include "kron/layout/field.hpp"

namespace kron::linops {

/// All local lines of an array along one axis: element i of line (o, j) at
/// p[o*ostride + i*inner + j], i < n along the axis, j < inner over the lines stored faster than
/// the axis, o < outer over the slower axes and components. Every axis that is whole in a
/// pencil, and every channel axis of a component extent, has this form; a line's index is
/// l = o*inner + j. T may be const (input views). `space` says where p points: LineOp::apply runs
/// its host kernels on host lines and its CUDA executor on device lines.
template <class T>
struct LineView {
  T* p = nullptr;
  long outer = 0, n = 0, inner = 0, ostride = 0;
  core::MemorySpace space = core::MemorySpace::Host;

  long lines() const { return outer * inner; }
  bool on_device() const { return space == core::MemorySpace::Device; }
  /// Points lo .. lo+m-1 of every line (the same memory).
  LineView range(long lo, long m) const { return {p + lo * inner, outer, m, inner, ostride, space}; }
  /// The read-only view of the same lines.
  operator LineView<const T>() const { return {p, outer, n, inner, ostride, space}; }
};

/// Complex lines as real lines: the real and imaginary parts of line (o, j) become real lines
/// (o, 2j) and (o, 2j+1), so an operator with real coefficients treats both in one sweep.
template <class T>
auto as_real(const LineView<T>& v) {
  using R = std::conditional_t<std::is_const_v<T>, const double, double>;
  return LineView<R>{reinterpret_cast<R*>(v.p), v.outer, v.n, 2 * v.inner, 2 * v.ostride, v.space};
}

/// The local part of the lines of `f` (no halos) along `axis`, every component, lines numbered
/// component by component; on a split axis each rank gets its own segment of every line through
/// its box (lifts on faces need no whole lines).
template <class T>
LineView<T> local_lines(layout::Field<T>& f, int axis) {
  if (f.has_halo()) throw Error("internal: lines of a field with halos");
  const auto& L = f.layout();
  LineView<T> v;
  v.p = f.data();
  v.n = f.extent()[axis];
  v.inner = L.stride[axis];
  v.ostride = L.stride[axis] * v.n;
  v.outer = v.ostride > 0 ? static_cast<long>(f.storage_size()) / v.ostride : 0;
  v.space = f.space();
  return v;
}

/// Whole lines of a field along `axis` (the axis must be whole in the field's pencil).
template <class T>
LineView<T> lines_along(layout::Field<T>& f, int axis) {
  if (f.pencil().splits(axis) != 1) throw Error("internal: lines along an axis that is split over ranks");
  return local_lines(f, axis);
}

/// Lines along channel axis k of a channel shape `channels` (a factorisation of f's components,
/// fastest first; f's declared one when omitted): s_k points per line, cstride * s_0 .. s_{k-1}
/// apart, one line per (point of the storage, lower channel index) and higher channel index.
/// No data move; any pencil, halos included (they are transformed along, harmlessly).
template <class T>
LineView<T> lines_along_channel(layout::Field<T>& f, const std::vector<long>& channels, int k) {
  if (layout::Field<T>::channel_count(channels) != f.components())
    throw Error("internal: a channel shape that does not factor the field's components");
  if (k < 0 || k >= static_cast<int>(channels.size())) throw Error("internal: no channel axis " + std::to_string(k));
  long lower = 1, upper = 1;
  for (int i = 0; i < k; ++i) lower *= channels[static_cast<std::size_t>(i)];
  for (std::size_t i = static_cast<std::size_t>(k) + 1; i < channels.size(); ++i) upper *= channels[i];
  LineView<T> v;
  v.p = f.data();
  v.n = channels[static_cast<std::size_t>(k)];
  v.inner = f.layout().cstride * lower;
  v.ostride = v.inner * v.n;
  v.outer = upper;
  v.space = f.space();
  return v;
}
template <class T>
LineView<T> lines_along_channel(layout::Field<T>& f, int k) {
  return lines_along_channel(f, f.channels(), k);
}

}  // namespace kron::linops
