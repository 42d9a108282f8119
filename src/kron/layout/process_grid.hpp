#pragma once
#include <mpi.h>

#include <array>
#include <memory>

#include "kron/core/mpi.hpp"

namespace kron::layout {

/// Block split of n points over p parts: part r gets n/p points, the first n%p parts one more.
/// Parts beyond n get zero points (empty local blocks are legal everywhere in kron).
inline long block_offset(long n, int p, int r) { return r * (n / p) + std::min<long>(r, n % p); }
inline long block_size(long n, int p, int r) { return n / p + (r < n % p ? 1 : 0); }
/// The part that owns global index g.
int block_owner(long n, int p, long g);

/// The 2D Cartesian process grid p1 x p2 over which pencils are split (p2 = 1: slabs).
/// In the pencil of axis a, the two other axes in increasing order are split over p1 and p2:
///   x-pencil: y over p1, z over p2;  y-pencil: x over p1, z over p2;  z-pencil: x over p1, y over p2.
/// So x<->y transposes talk within comm1 (ranks with equal coordinate 2) and y<->z within comm2.
class ProcessGrid {
 public:
  /// Collective over `comm`. Throws kron::Error when p1*p2 differs from the rank count.
  ProcessGrid(MPI_Comm comm, int p1, int p2);

  /// The shape that moves the fewest bytes per transpose for an array of `global` points:
  /// it minimises the largest per-rank volume sent off-rank over an x->y->z transpose chain
  /// (so uneven and empty blocks count), then the largest local block.
  static std::array<int, 2> choose(const std::array<long, 3>& global, int nranks);

  int p1() const { return dims_[0]; }
  int p2() const { return dims_[1]; }
  int c1() const { return coords_[0]; }
  int c2() const { return coords_[1]; }
  int size() const { return dims_[0] * dims_[1]; }
  int rank() const { return rank_; }
  /// Rank in comm() of the process at grid coordinates (c1, c2).
  int rank_of(int c1, int c2) const;
  std::array<int, 2> coords_of(int rank) const;
  MPI_Comm comm() const { return cart_.get(); }
  MPI_Comm comm1() const { return comm1_.get(); }  ///< varying c1 (rank in it = c1)
  MPI_Comm comm2() const { return comm2_.get(); }  ///< varying c2 (rank in it = c2)

 private:
  std::array<int, 2> dims_{1, 1}, coords_{0, 0};
  int rank_ = 0;
  core::mpi::Comm cart_, comm1_, comm2_;
};

using ProcessGridPtr = std::shared_ptr<const ProcessGrid>;

}  // namespace kron::layout
