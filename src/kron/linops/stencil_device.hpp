#pragma once
// The halo stencil sweep on the device (CUDA-free declarations; stencil_cuda.cu implements it, a
// CPU build's stencil_device_none.cpp answers with a clear error).
#include <array>

namespace kron::linops::stencil::device {

/// The banded operator of one axis in device memory: diag[t * n + g] multiplies the value at
/// offset t - kl from global row g (zero where the row has no such entry); lo is this rank's
/// first global row. width = 0: the axis is absent.
struct Taps {
  const double* diag = nullptr;
  int kl = 0, width = 0;
  long n = 0, lo = 0;
};

/// out = sum_a B_a u - shift u at every point of an `extent` box (each point's neighbours read
/// from u's halos, zero taps skipped so that untouched outer ghosts are never read). u and out:
/// device pointers to point (0, 0, 0) with strides su and so; zread: the local z planes
/// [zread[0], zread[1]) that some non-zero z tap reads (halo planes included).
void banded_sweep(const std::array<Taps, 3>& taps, double shift, const double* u, const std::array<long, 3>& su, double* out,
                  const std::array<long, 3>& so, const std::array<long, 3>& extent, const std::array<long, 2>& zread);

}  // namespace kron::linops::stencil::device
