#include "kron/layout/gather.hpp"

#include "kron/core/mpi.hpp"
#include "kron/layout/box_copy.hpp"

namespace kron::layout {

namespace {
struct Plan {
  std::vector<int> counts, displs;
  std::vector<Box> boxes;
  int total = 0;
};
Plan plan_for(const Pencil& p) {
  const ProcessGrid& g = p.grid();
  Plan pl;
  const int np = g.size();
  pl.counts.resize(np);
  pl.displs.resize(np);
  for (int r = 0; r < np; ++r) {
    const auto c = g.coords_of(r);
    pl.boxes.push_back(p.box_of(c[0], c[1]));
    pl.counts[r] = static_cast<int>(pl.boxes.back().volume());
    pl.displs[r] = pl.total;
    pl.total += pl.counts[r];
  }
  return pl;
}
std::array<long, 3> global_strides(const Pencil& p) { return dense_strides(p.global()); }
long global_offset(const Pencil& p, const Box& b) {
  const auto s = global_strides(p);
  return b.lo[0] * s[0] + b.lo[1] * s[1] + b.lo[2] * s[2];
}
}  // namespace

template <class T>
std::vector<T> gather(const Field<T>& f, int c, int root) {
  const Pencil& p = f.pencil();
  MPI_Comm comm = p.grid().comm();
  const Plan pl = plan_for(p);
  const Box& mine = p.box();
  std::vector<T> local(static_cast<std::size_t>(mine.volume()));
  copy_box(f.origin(c), f.layout().stride, local.data(), dense_strides(mine.n), mine.n);
  const bool am_root = core::mpi::rank(comm) == root;
  std::vector<T> all(am_root ? static_cast<std::size_t>(pl.total) : 0);
  const MPI_Datatype t = core::mpi::datatype<T>();
  core::mpi::check(MPI_Gatherv(local.data(), static_cast<int>(local.size()), t, all.data(), pl.counts.data(),
                               pl.displs.data(), t, root, comm), "MPI_Gatherv");
  if (!am_root) return {};
  const auto g = p.global();
  std::vector<T> out(static_cast<std::size_t>(g[0] * g[1] * g[2]));
  for (std::size_t r = 0; r < pl.boxes.size(); ++r)
    copy_box(all.data() + pl.displs[r], dense_strides(pl.boxes[r].n), out.data() + global_offset(p, pl.boxes[r]),
             global_strides(p), pl.boxes[r].n);
  return out;
}

template <class T>
void scatter(const std::vector<T>& global, Field<T>& f, int c, int root) {
  const Pencil& p = f.pencil();
  MPI_Comm comm = p.grid().comm();
  const Plan pl = plan_for(p);
  const bool am_root = core::mpi::rank(comm) == root;
  std::vector<T> all(am_root ? static_cast<std::size_t>(pl.total) : 0);
  if (am_root) {
    const auto g = p.global();
    if (static_cast<long>(global.size()) != g[0] * g[1] * g[2]) throw Error("scatter: global array has the wrong size");
    for (std::size_t r = 0; r < pl.boxes.size(); ++r)
      copy_box(global.data() + global_offset(p, pl.boxes[r]), global_strides(p), all.data() + pl.displs[r],
               dense_strides(pl.boxes[r].n), pl.boxes[r].n);
  }
  const Box& mine = p.box();
  std::vector<T> local(static_cast<std::size_t>(mine.volume()));
  const MPI_Datatype t = core::mpi::datatype<T>();
  core::mpi::check(MPI_Scatterv(all.data(), pl.counts.data(), pl.displs.data(), t, local.data(),
                                static_cast<int>(local.size()), t, root, comm), "MPI_Scatterv");
  copy_box(static_cast<const T*>(local.data()), dense_strides(mine.n), f.origin(c), f.layout().stride, mine.n);
}

template std::vector<double> gather(const Field<double>&, int, int);
template std::vector<float> gather(const Field<float>&, int, int);
template std::vector<std::complex<double>> gather(const Field<std::complex<double>>&, int, int);
template void scatter(const std::vector<double>&, Field<double>&, int, int);
template void scatter(const std::vector<float>&, Field<float>&, int, int);
template void scatter(const std::vector<std::complex<double>>&, Field<std::complex<double>>&, int, int);

}  // namespace kron::layout
