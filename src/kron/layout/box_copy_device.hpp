#pragma once
// The device copy_box (CUDA-free declaration; box_copy_cuda.cu implements it, a CPU build's
// box_copy_none.cpp answers with a clear error): the same n[0] x n[1] x n[2] strided box copy as
// copy_box, between two device arrays, queued on the rank's stream (accumulate: dst += src).
#include <array>
#include <complex>

namespace kron::layout {

template <class T>
void copy_box_device(const T* src, const std::array<long, 3>& src_stride, T* dst, const std::array<long, 3>& dst_stride,
                     const std::array<long, 3>& n, bool accumulate = false);

}  // namespace kron::layout
