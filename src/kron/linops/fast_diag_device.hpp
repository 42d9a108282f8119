#pragma once
// The device step of fast diagonalization between its transform sweeps (CUDA-free declaration;
// fast_diag_cuda.cu implements it, a CPU build's fast_diag_device_none.cpp answers with a clear
// error): the point-wise division by the combined per-axis eigenvalues.
#include <vector>

#include "kron/layout/field_ops_device.hpp"

namespace kron::linops::device {

struct DivideResult {
  double fmax = 0;     ///< largest |value| met before dividing
  double dropped = 0;  ///< largest |value| at a zero combined eigenvalue (set to zero)
  bool zero_mode = false;
  bool nonfinite = false;  ///< a value is NaN or infinite before or after the division
};

/// One component's interior `box` (storage order) of device data x: x /= (l0 (*|+) l1 (*|+) l2 +
/// shift) * norm, with l_d the eigenvalue along storage dimension d (host arrays of the local
/// lengths; NaN: outside the transformed range, where x becomes 0); |denominator| <= zero: x
/// becomes 0 and counts as dropped.
DivideResult spectral_divide(double* x, const layout::device_ops::Interior& box, const std::vector<double>& l0,
                             const std::vector<double>& l1, const std::vector<double>& l2, bool product, double shift, double zero,
                             double norm);

}  // namespace kron::linops::device
