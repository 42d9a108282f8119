#pragma once
#include <array>

namespace kron::layout {

/// Copies an n[0] x n[1] x n[2] box between two strided arrays (strides per axis, in elements).
/// When the fastest axes of source and destination differ the copy is a tiled transpose, so
/// both sides stay cache friendly. This one routine does every pack, unpack and reorder.
template <class T>
void copy_box(const T* src, const std::array<long, 3>& src_stride, T* dst,
              const std::array<long, 3>& dst_stride, const std::array<long, 3>& n);

/// Strides of a densely packed box with axis 0 fastest (the message and file order).
inline std::array<long, 3> dense_strides(const std::array<long, 3>& n) { return {1, n[0], n[0] * n[1]}; }

}  // namespace kron::layout
