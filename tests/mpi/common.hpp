#pragma once
#include <array>
#include <complex>
#include <memory>
#include <vector>

#include "kron/core/mpi.hpp"
#include "kron/layout/process_grid.hpp"

namespace kron::test {

/// Every process grid shape p1 x p2 for the ranks of MPI_COMM_WORLD.
inline std::vector<std::array<int, 2>> all_grid_shapes() {
  const int n = core::mpi::size(MPI_COMM_WORLD);
  std::vector<std::array<int, 2>> s;
  for (int p1 = 1; p1 <= n; ++p1) if (n % p1 == 0) s.push_back({p1, n / p1});
  return s;
}

inline layout::ProcessGridPtr make_grid(std::array<int, 2> s) {
  return std::make_shared<layout::ProcessGrid>(MPI_COMM_WORLD, s[0], s[1]);
}

/// A value that identifies global point (i, j, k) of component c exactly.
inline double tag(long i, long j, long k, int c = 0) { return double(i) + 1e3 * double(j) + 1e6 * double(k) + 1e9 * c; }

}  // namespace kron::test
