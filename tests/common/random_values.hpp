#pragma once
// Random test data shared by the unit and GPU tests: uniform values in [-1, 1] (both parts for
// complex), and fields whose every stored value (halos included) is one.
#include <complex>
#include <random>
#include <type_traits>

#include "kron/layout/field.hpp"

namespace kron::testing {

template <class T>
T rnd(std::mt19937& g) {
  std::uniform_real_distribution<double> U(-1, 1);
  if constexpr (std::is_floating_point_v<T>) return static_cast<T>(U(g));
  else {
    const double re = U(g), im = U(g);
    return T(static_cast<typename T::value_type>(re), static_cast<typename T::value_type>(im));
  }
}

/// Single precision: float or std::complex<float>.
template <class T>
constexpr bool is_single = std::is_same_v<T, float> || std::is_same_v<T, std::complex<float>>;

/// A double-precision test's tolerance as the same test's in T (single precision: scaled by the
/// ratio of the unit roundoffs, 2^-24 / 2^-53, rounded to 5e8).
template <class T>
constexpr double tolerance(double fp64) {
  return is_single<T> ? fp64 * 5e8 : fp64;
}

/// Every stored value of a host field (halos included) drawn afresh.
template <class T>
void randomize(layout::Field<T>& f, std::mt19937& g) {
  for (std::size_t q = 0; q < f.storage_size(); ++q) f.data()[q] = rnd<T>(g);
}

}  // namespace kron::testing
