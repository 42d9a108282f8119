#pragma once
#include <array>
#include <complex>

namespace kron::layout {

/// Copies an n[0] x n[1] x n[2] box between two strided arrays (strides per axis, in elements).
/// When the fastest axes of source and destination differ the copy is a tiled transpose, so
/// both sides stay cache friendly. This one routine does every pack, unpack and reorder.
template <class T>
void copy_box(const T* src, const std::array<long, 3>& src_stride, T* dst,
              const std::array<long, 3>& dst_stride, const std::array<long, 3>& n);

/// dst[c*ldd + r] = src[r*lds + c] (or +=) for r < rows, c < cols: the cache-blocked 2D transpose
/// behind every reorder (copy_box) and the line kernels' panel gathers; 8x8 doubles or 4x4 complex
/// values per register tile where AVX-512 is available. `stream`: aligned destination cache lines
/// may be written with non-temporal stores (the caller fences).
void transpose_2d(const double* src, long lds, double* dst, long ldd, long rows, long cols, bool accumulate = false,
                  bool stream = false);
void transpose_2d(const std::complex<double>* src, long lds, std::complex<double>* dst, long ldd, long rows, long cols);

/// Strides of a densely packed box with axis 0 fastest (the message and file order).
inline std::array<long, 3> dense_strides(const std::array<long, 3>& n) { return {1, n[0], n[0] * n[1]}; }

}  // namespace kron::layout
