#pragma once
#include <vector>

#include "kron/layout/field.hpp"

namespace kron::layout {

/// Collective: component c of the global array on rank `root`, C order with x fastest
/// (index i + nx*(j + ny*k)); an empty vector elsewhere. For tests, serial references and
/// small outputs; large arrays go through HDF5.
template <class T>
std::vector<T> gather(const Field<T>& f, int c = 0, int root = 0);

/// Collective: fills component c of `f` from the global array (x fastest) held on `root`.
template <class T>
void scatter(const std::vector<T>& global, Field<T>& f, int c = 0, int root = 0);

}  // namespace kron::layout
