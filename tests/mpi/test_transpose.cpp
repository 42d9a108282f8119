#include <catch2/catch.hpp>

#include "common.hpp"
#include "kron/layout/gather.hpp"
#include "kron/layout/transpose.hpp"

using namespace kron;
using namespace kron::layout;

namespace {
template <class T>
void fill_tags(Field<T>& f) {
  const Box& b = f.pencil().box();
  for (int c = 0; c < f.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) f(i, j, k, c) = T(test::tag(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c));
}
// Number of points (over all ranks) whose value is not the tag of its global index.
template <class T>
long long count_wrong(const Field<T>& f) {
  const Box& b = f.pencil().box();
  long long bad = 0;
  for (int c = 0; c < f.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i)
          bad += f(i, j, k, c) != T(test::tag(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c));
  return core::mpi::sum(bad, MPI_COMM_WORLD);
}
}  // namespace

TEST_CASE("transposes keep every value, any grid shape, uneven and empty blocks", "[transpose]") {
  const std::vector<std::array<long, 3>> sizes = {{17, 10, 9}, {3, 2, 5}, {1, 7, 1}, {8, 8, 8}};
  for (const auto& n : sizes)
    for (const auto& shape : test::all_grid_shapes())
      for (auto method : {TransposeMethod::Alltoallv, TransposeMethod::Alltoallw})
        for (int ncomp : {1, 3}) {
          auto grid = test::make_grid(shape);
          const Pencil x(n, grid, 0), y = x.with_axis(1), z = x.with_axis(2);
          Field<double> fx(x, ncomp), fy(y, ncomp), fz(z, ncomp), gx(x, ncomp), gz(z, ncomp);
          fill_tags(fx);
          TransposeWork work;
          Transpose<double>(x, y, ncomp, method).execute(fx, fy, &work);
          Transpose<double>(y, z, ncomp, method).execute(fy, fz, &work);
          Transpose<double>(z, x, ncomp, method).execute(fz, gx, &work);
          Transpose<double>(x, z, ncomp, method).execute(gx, gz, &work);
          INFO("n = " << n[0] << "x" << n[1] << "x" << n[2] << ", grid " << shape[0] << "x" << shape[1] << ", "
                      << to_string(method) << ", ncomp " << ncomp);
          CHECK(count_wrong(fy) == 0);
          CHECK(count_wrong(fz) == 0);
          CHECK(count_wrong(gx) == 0);
          CHECK(count_wrong(gz) == 0);
        }
}

TEST_CASE("transposes of complex and float fields, fields with halos", "[transpose]") {
  const std::array<long, 3> n{11, 6, 7};
  for (const auto& shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const Pencil x(n, grid, 0), y = x.with_axis(1);
    Field<std::complex<double>> cx(x), cy(y);
    fill_tags(cx);
    Transpose<std::complex<double>>(x, y).execute(cx, cy);
    CHECK(count_wrong(cy) == 0);
    Field<float> fx(x), fy(y);
    fill_tags(fx);
    Transpose<float>(x, y, 1, TransposeMethod::Alltoallw).execute(fx, fy);
    CHECK(count_wrong(fy) == 0);
    // Only interiors move; halo storage of the target stays as it was.
    Field<double> hx(x, 1, {2, 1, 1}), hy(y, 1, {1, 2, 0});
    fill_tags(hx);
    hy.fill(-7.0);
    Transpose<double>(x, y, 1, TransposeMethod::Alltoallv, {2, 1, 1}, {1, 2, 0}).execute(hx, hy);
    CHECK(count_wrong(hy) == 0);
    bool halo_untouched = hy.local_points() == 0 || hy(-1, -1, 0) == -7.0;
    CHECK(core::mpi::all(halo_untouched, MPI_COMM_WORLD));
  }
}

TEST_CASE("gather and scatter round trip", "[gather]") {
  for (const auto& shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (int axis = 0; axis < 3; ++axis) {
      const Pencil p({9, 4, 6}, grid, axis);
      Field<double> f(p), g(p);
      fill_tags(f);
      const auto all = gather(f);
      bool ok = true;
      if (core::mpi::rank() == 0) {
        for (long k = 0; k < 6; ++k)
          for (long j = 0; j < 4; ++j)
            for (long i = 0; i < 9; ++i) ok = ok && all[i + 9 * (j + 4 * k)] == test::tag(i, j, k);
      }
      CHECK(core::mpi::all(ok, MPI_COMM_WORLD));
      scatter(all, g);
      CHECK(count_wrong(g) == 0);
    }
  }
}
