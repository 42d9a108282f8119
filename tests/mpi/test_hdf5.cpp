#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/output.hpp"

using namespace kron;
using namespace kron::layout;

namespace {
double value(long i, long j, long k, int c) { return std::exp(std::sin(0.37 * i + 1.1 * j - 0.3 * k * k + c)) / 3.0; }

template <class T>
void fill(Field<T>& f) {
  const Box& b = f.pencil().box();
  for (int c = 0; c < f.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const double v = value(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c);
          if constexpr (std::is_same_v<T, std::complex<double>>) f(i, j, k, c) = T(v, -2 * v);
          else f(i, j, k, c) = T(v);
        }
}
// Points (over all ranks) that differ bit for bit from the written values.
template <class T>
long long mismatches(const Field<T>& f, int c_in_file = 0, int c_field = 0) {
  const Box& b = f.pencil().box();
  long long bad = 0;
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const double v = value(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c_in_file);
        T want;
        if constexpr (std::is_same_v<T, std::complex<double>>) want = T(v, -2 * v);
        else want = T(v);
        bad += !(f(i, j, k, c_field) == want);
      }
  return core::mpi::sum(bad, MPI_COMM_WORLD);
}
const std::array<long, 3> N{17, 10, 9};
}  // namespace

TEST_CASE("HDF5 fields written from any pencil read back onto any pencil, bit for bit", "[hdf5]") {
  const test::ScratchDir dir("h5");
  const std::string path = dir / "fields.h5";
  for (const auto& shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (int from = 0; from < 3; ++from) {
      Field<double> f(Pencil(N, grid, from), 2, {1, 0, 2});  // components and halos: only interiors are written
      fill(f);
      Field<std::complex<double>> z(Pencil(N, grid, from));
      fill(z);
      {
        H5File h(path, H5File::Mode::Create, MPI_COMM_WORLD);
        h.write_field("/fields/a", f, 3, 1);
        h.write_field("/fields/b", f, 3, 0, {4, {8, 8, 8}});  // chunked and compressed
        h.write_field("/fields/z", z, 3);
        h.write_attribute("time", 1.25);
        h.write_attribute("deck", std::string("[problem]\ntype = \"spectrum\"\n"));
      }
      for (int to = 0; to < 3; ++to) {
        H5File h(path, H5File::Mode::Read, MPI_COMM_WORLD);
        Field<double> g(Pencil(N, grid, to), 2);
        h.read_field("/fields/a", g, 0);
        h.read_field("/fields/b", g, 1);
        Field<std::complex<double>> w(Pencil(N, grid, to));
        h.read_field("/fields/z", w);
        INFO("grid " << shape[0] << "x" << shape[1] << ", written from pencil " << from << ", read into pencil " << to);
        CHECK(mismatches(g, 1, 0) == 0);
        CHECK(mismatches(g, 0, 1) == 0);
        CHECK(mismatches(w) == 0);
        CHECK(h.shape("/fields/a") == std::vector<long>{9, 10, 17});
        CHECK(h.read_attribute_double("time") == 1.25);
        CHECK(h.read_attribute_string("deck") == "[problem]\ntype = \"spectrum\"\n");
      }
    }
  }
}

TEST_CASE("HDF5 errors name the file and what is wrong", "[hdf5]") {
  const test::ScratchDir dir("h5");
  const std::string path = dir / "errors.h5";
  auto grid = test::make_grid(test::all_grid_shapes().back());
  Field<double> f(Pencil(N, grid, 0));
  {
    H5File h(path, H5File::Mode::Create, MPI_COMM_WORLD);
    h.write_field("/fields/u", f, 3);
  }
  H5File h(path, H5File::Mode::Read, MPI_COMM_WORLD);
  Field<double> other(Pencil({8, 10, 9}, grid, 0));
  CHECK_THROWS_WITH(h.read_field("/fields/u", other), Catch::Contains("has shape [9 x 10 x 17] but the grid is 9 x 10 x 8"));
  CHECK_THROWS_WITH(h.read_field("/fields/nope", f), Catch::Contains("errors.h5: HDF5: no dataset '/fields/nope'"));
  CHECK_THROWS_WITH(H5File("no/such/dir/x.h5", H5File::Mode::Read, MPI_COMM_WORLD), Catch::Contains("no/such/dir/x.h5: HDF5: cannot open file"));
}

TEST_CASE("2D fields are stored as [ny][nx] datasets", "[hdf5]") {
  const test::ScratchDir dir("h5");
  const std::string path = dir / "plane.h5";
  auto grid = test::make_grid({core::mpi::size(), 1});
  Field<double> f(Pencil({13, 6, 1}, grid, 1));
  fill(f);
  {
    H5File h(path, H5File::Mode::Create, MPI_COMM_WORLD);
    h.write_field("/fields/u", f, 2);
  }
  H5File h(path, H5File::Mode::Read, MPI_COMM_WORLD);
  CHECK(h.shape("/fields/u") == std::vector<long>{6, 13});
  Field<double> g(Pencil({13, 6, 1}, grid, 0));
  h.read_field("/fields/u", g);
  CHECK(mismatches(g) == 0);
}

TEST_CASE("checkpoints are written atomically and restore the fields", "[hdf5]") {
  const test::ScratchDir dir("h5");
  const std::string path = dir / "restart.h5";
  auto grid = test::make_grid(test::all_grid_shapes().front());
  Domain d;
  d.axes = {AxisGrid::periodic(N[0], 0, 1), AxisGrid::uniform(N[1], 0, 1), AxisGrid::cell(N[2], 0, 2)};
  Field<double> f(Pencil(N, grid, 0), 2);
  fill(f);
  write_checkpoint(path, d, {{"u", &f, 0}, {"v", &f, 1}}, 42, 3.5, {"deck text", core::mpi::size()}, MPI_COMM_WORLD);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  Field<double> g(Pencil(N, grid, 2), 2);
  RealField u(Pencil(N, grid, 2)), v(Pencil(N, grid, 1));
  const auto info = read_checkpoint(path, {{"u", &u}, {"v", &v}}, MPI_COMM_WORLD);
  CHECK(info.step == 42);
  CHECK(info.time == 3.5);
  CHECK(mismatches(u, 0) == 0);
  CHECK(mismatches(v, 1) == 0);
}

// Cross-run tests: written by one job on 4 ranks, read by jobs on 1 and 3 ranks (ctest fixture).
TEST_CASE("cross-run: write on 4 ranks", "[.][crossrun-write]") {
  const char* dir = std::getenv("KRON_CROSSRUN_DIR");
  REQUIRE(dir);
  make_directory(dir, MPI_COMM_WORLD);
  auto grid = test::make_grid({2, core::mpi::size() / 2 > 0 ? core::mpi::size() / 2 : 1});
  Domain d;
  d.axes = {AxisGrid::periodic(N[0], 0, 1), AxisGrid::periodic(N[1], 0, 1), AxisGrid::periodic(N[2], 0, 1)};
  Field<double> f(Pencil(N, grid, 1), 2);
  fill(f);
  write_checkpoint(std::string(dir) + "/cross.h5", d, {{"u", &f, 0}, {"v", &f, 1}}, 7, 0.5, {"cross", core::mpi::size()},
                   MPI_COMM_WORLD);
  H5File h(std::string(dir) + "/cross_compressed.h5", H5File::Mode::Create, MPI_COMM_WORLD);
  h.write_field("/fields/u", f, 3, 0, {6, {5, 4, 3}});
}

TEST_CASE("cross-run: read on another rank count, bit for bit", "[.][crossrun-read]") {
  const char* dir = std::getenv("KRON_CROSSRUN_DIR");
  REQUIRE(dir);
  for (const auto& shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (int axis = 0; axis < 3; ++axis) {
      RealField u(Pencil(N, grid, axis)), v(Pencil(N, grid, axis)), w(Pencil(N, grid, axis));
      const auto info = read_checkpoint(std::string(dir) + "/cross.h5", {{"u", &u}, {"v", &v}}, MPI_COMM_WORLD);
      H5File h(std::string(dir) + "/cross_compressed.h5", H5File::Mode::Read, MPI_COMM_WORLD);
      h.read_field("/fields/u", w);
      CHECK(info.step == 7);
      CHECK(mismatches(u, 0) == 0);
      CHECK(mismatches(v, 1) == 0);
      CHECK(mismatches(w, 0) == 0);
    }
  }
}
