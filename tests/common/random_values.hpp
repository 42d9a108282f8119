#pragma once
// Random test data shared by the unit and GPU tests: uniform values in [-1, 1] (both parts for
// complex), and fields whose every stored value (halos included) is one.
#include <random>
#include <type_traits>

#include "kron/layout/field.hpp"

namespace kron::testing {

template <class T>
T rnd(std::mt19937& g) {
  std::uniform_real_distribution<double> U(-1, 1);
  if constexpr (std::is_same_v<T, double>) return U(g);
  else return T(U(g), U(g));
}

/// Every stored value of a host field (halos included) drawn afresh.
template <class T>
void randomize(layout::Field<T>& f, std::mt19937& g) {
  for (std::size_t q = 0; q < f.storage_size(); ++q) f.data()[q] = rnd<T>(g);
}

}  // namespace kron::testing
