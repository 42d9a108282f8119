#pragma once
// Eigen's dense module, included after kron/core/simd.hpp so that the intrinsics headers it
// pulls in are the ones whose GCC 12 false warnings are silenced (see simd.hpp).
#include "kron/core/simd.hpp"

#include <Eigen/Dense>
