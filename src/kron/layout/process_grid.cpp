#include "kron/layout/process_grid.hpp"

#include <algorithm>
#include <limits>

#include "kron/core/error.hpp"

namespace kron::layout {

int block_owner(long n, int p, long g) {
  const long q = n / p, r = n % p;
  // the first r parts have q+1 points
  if (g < r * (q + 1)) return static_cast<int>(g / (q + 1));
  return static_cast<int>(r + (g - r * (q + 1)) / q);
}

ProcessGrid::ProcessGrid(MPI_Comm comm, int p1, int p2) {
  const int n = core::mpi::size(comm);
  if (p1 < 1 || p2 < 1 || p1 * p2 != n)
    throw Error("process grid " + std::to_string(p1) + " x " + std::to_string(p2) + " does not match " +
                    std::to_string(n) + " MPI ranks", {}, "the product must equal the rank count; or use \"auto\"");
  dims_ = {p1, p2};
  int periods[2] = {0, 0};
  MPI_Comm cart;
  core::mpi::check(MPI_Cart_create(comm, 2, dims_.data(), periods, 0, &cart), "MPI_Cart_create");
  cart_ = core::mpi::Comm(cart);
  MPI_Comm_set_errhandler(cart, MPI_ERRORS_RETURN);
  core::mpi::check(MPI_Comm_rank(cart, &rank_), "MPI_Comm_rank");
  core::mpi::check(MPI_Cart_coords(cart, rank_, 2, coords_.data()), "MPI_Cart_coords");
  MPI_Comm c1, c2;
  int keep1[2] = {1, 0}, keep2[2] = {0, 1};
  core::mpi::check(MPI_Cart_sub(cart, keep1, &c1), "MPI_Cart_sub");
  core::mpi::check(MPI_Cart_sub(cart, keep2, &c2), "MPI_Cart_sub");
  comm1_ = core::mpi::Comm(c1);
  comm2_ = core::mpi::Comm(c2);
}

int ProcessGrid::rank_of(int a, int b) const {
  int coords[2] = {a, b}, r = 0;
  core::mpi::check(MPI_Cart_rank(cart_.get(), coords, &r), "MPI_Cart_rank");
  return r;
}

std::array<int, 2> ProcessGrid::coords_of(int r) const {
  std::array<int, 2> c{};
  core::mpi::check(MPI_Cart_coords(cart_.get(), r, 2, c.data()), "MPI_Cart_coords");
  return c;
}

std::array<int, 2> ProcessGrid::choose(const std::array<long, 3>& n, int nranks) {
  auto maxblock = [](long len, int p) { return block_size(len, p, 0); };
  std::array<int, 2> best{nranks, 1};
  double best_cost = std::numeric_limits<double>::infinity(), best_local = best_cost;
  // Larger p1 first: on ties the slab split [P, 1] wins (it keeps z whole for y<->z).
  for (int p1 = nranks; p1 >= 1; --p1) {
    if (nranks % p1) continue;
    const int p2 = nranks / p1;
    // Largest local blocks in the three pencils.
    const double xb = double(n[0]) * maxblock(n[1], p1) * maxblock(n[2], p2);
    const double yb = double(maxblock(n[0], p1)) * n[1] * maxblock(n[2], p2);
    const double zb = double(maxblock(n[0], p1)) * maxblock(n[1], p2) * n[2];
    // Volume leaving a rank: x<->y moves (p1-1)/p1 of a block, y<->z (p2-1)/p2.
    const double cost = std::max(xb, yb) * (p1 - 1) / p1 + std::max(yb, zb) * (p2 - 1) / p2;
    const double local = std::max({xb, yb, zb});
    // Imbalance costs as much as traffic: the slowest rank sets the pace.
    const double total = cost + local;
    if (total < best_cost - 1e-9 * best_cost || (total <= best_cost && local < best_local)) {
      best_cost = total;
      best_local = local;
      best = {p1, p2};
    }
  }
  return best;
}

}  // namespace kron::layout
