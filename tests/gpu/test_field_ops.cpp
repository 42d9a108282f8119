// field_ops on device fields against the host executor on the same values: element-wise
// operations on the whole storage (halos included), reductions over interiors only (a NaN or
// a huge value planted in a halo must not show), on 1, 2 or more ranks.
#include <catch2/catch.hpp>

#include <complex>
#include <random>

#include "kron/core/mpi.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/process_grid.hpp"
#include "random_values.hpp"

using namespace kron;
using namespace kron::layout;
using cplx = std::complex<double>;
using testing::rnd;

namespace {

template <class T>
Field<T> random_field(const Pencil& p, int ncomp, std::array<int, 3> halo, std::mt19937& g) {
  Field<T> f(p, ncomp, halo);
  testing::randomize(f, g);
  return f;
}

template <class T>
double max_diff(const Field<T>& a, const Field<T>& b) {
  const Field<T> ah = a.on_device() ? to_host(a) : copy_to_space(a, core::MemorySpace::Host);
  const Field<T> bh = b.on_device() ? to_host(b) : copy_to_space(b, core::MemorySpace::Host);
  double e = 0;
  for (std::size_t q = 0; q < ah.storage_size(); ++q) {
    const double d = std::abs(ah.data()[q] - bh.data()[q]);
    e = std::max(e, std::isfinite(d) ? d : INFINITY);
  }
  return e;
}

template <class T>
void check_ops() {
  std::mt19937 g(31 + core::mpi::rank());
  auto grid = std::make_shared<ProcessGrid>(MPI_COMM_WORLD, core::mpi::size(), 1);
  for (int axis : {0, 1, 2})
    for (auto halo : {std::array<int, 3>{0, 0, 0}, std::array<int, 3>{1, 2, 0}}) {
      const Pencil p({13, 9, 7}, grid, axis);
      Field<T> x = random_field<T>(p, 3, halo, g), y = random_field<T>(p, 3, halo, g);
      Field<T> dx = to_device(x), dy = to_device(y);
      INFO("axis " << axis << ", halo " << halo[0] << halo[1] << halo[2]);
      const T a = rnd<T>(g), b = rnd<T>(g);
      ops::axpby(a, x, b, y);
      ops::axpby(a, dx, b, dy);
      CHECK(max_diff(y, dy) <= 1e-15 * 4);
      ops::axpy(2.0, x, y);
      ops::axpy(2.0, dx, dy);
      ops::axpby(T(1.5), x, T(0), y);
      ops::axpby(T(1.5), dx, T(0), dy);
      CHECK(max_diff(y, dy) <= 1e-15 * 4);
      ops::scale(a, y);
      ops::scale(a, dy);
      ops::add(b, y, 1);
      ops::add(b, dy, 1);
      ops::conj(y);
      ops::conj(dy);
      CHECK(max_diff(y, dy) <= 1e-15 * 8);
      Field<T> dz(p, 3, halo, core::MemorySpace::Device);
      ops::copy(dy, dz);
      CHECK(max_diff(y, dz) <= 1e-15 * 8);
      dz.fill(b);
      Field<T> z(p, 3, halo);
      z.fill(b);
      CHECK(max_diff(z, dz) == 0);
      // Reductions: interiors only (halo values that would spoil any reduction that visited
      // them), every rank.
      if (halo[0]) {
        x.data()[0] = T(1e300);
        y.data()[0] = T(std::nan(""));
        dx = to_device(x);
        dy = to_device(y);
      }
      CHECK(ops::max_abs(dx) == Approx(ops::max_abs(x)).epsilon(1e-15));  // |z| may round differently
      CHECK(ops::all_finite(dy) == ops::all_finite(y));
      CHECK(ops::norm1(dx) == Approx(ops::norm1(x)).epsilon(1e-13));
      CHECK(ops::norm2(dx) == Approx(ops::norm2(x)).epsilon(1e-13));
      const T dd = ops::dot(dx, dy), dh = ops::dot(x, y);
      CHECK(std::abs(dd - dh) <= 1e-12 * std::max(1.0, std::abs(dh)));
      const auto sd = ops::sums(dx), sh = ops::sums(x);
      for (std::size_t c = 0; c < sd.size(); ++c) CHECK(std::abs(sd[c] - sh[c]) <= 1e-12 * (1 + std::abs(sh[c])));
      if constexpr (std::is_same_v<T, double>) CHECK(ops::min_value(dx) == ops::min_value(x));
      // A NaN in rank 0's interior is seen by all_finite on every rank.
      Field<T> xn = copy_to_space(x, core::MemorySpace::Host);
      if (core::mpi::rank() == 0) xn(0, 0, 0, 2) = T(std::nan(""));
      CHECK(ops::all_finite(dx));
      CHECK_FALSE(ops::all_finite(to_device(xn)));
    }
}

}  // namespace

TEST_CASE("field_ops on device fields match the host executor, real and complex", "[gpu][field_ops]") {
  check_ops<double>();
  check_ops<cplx>();
}

#include "../mpi/common.hpp"
#include "kron/layout/hdf5_io.hpp"

TEST_CASE("device fields are written to and read from parallel HDF5 through the host, bitwise", "[gpu][hdf5]") {
  test::ScratchDir dir("gpu_h5");
  auto grid = std::make_shared<ProcessGrid>(MPI_COMM_WORLD, core::mpi::size(), 1);
  for (int axis : {0, 2}) {
    const Pencil p({13, 9, 7}, grid, axis);
    Field<double> h(p, 2, {1, 0, 1});
    const auto& b = p.box();
    for (int c = 0; c < 2; ++c)
      for (long k = 0; k < b.n[2]; ++k)
        for (long j = 0; j < b.n[1]; ++j)
          for (long i = 0; i < b.n[0]; ++i) h(i, j, k, c) = test::tag(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c);
    const Field<double> d = to_device(h);
    const std::string path = dir / ("f" + std::to_string(axis) + ".h5");
    {
      H5File f(path, H5File::Mode::Create, MPI_COMM_WORLD);
      f.write_field("c0", d, 3, 0);
      f.write_field("c1", d, 3, 1);
    }
    // Back into a host field on another pencil, and into a device field.
    const Pencil q({13, 9, 7}, grid, axis == 0 ? 1 : 0);
    Field<double> back(q, 2), dback(q, 2, {0, 0, 0}, core::MemorySpace::Device);
    dback.fill(std::nan(""));
    {
      H5File f(path, H5File::Mode::Read, MPI_COMM_WORLD);
      for (int c = 0; c < 2; ++c) {
        f.read_field(c == 0 ? "c0" : "c1", back, c);
        f.read_field(c == 0 ? "c0" : "c1", dback, c);
      }
    }
    const Field<double> db = to_host(dback);
    const auto& bq = q.box();
    bool ok = true;
    for (int c = 0; c < 2; ++c)
      for (long k = 0; k < bq.n[2]; ++k)
        for (long j = 0; j < bq.n[1]; ++j)
          for (long i = 0; i < bq.n[0]; ++i) {
            const double want = test::tag(bq.lo[0] + i, bq.lo[1] + j, bq.lo[2] + k, c);
            ok = ok && back(i, j, k, c) == want && db(i, j, k, c) == want;
          }
    INFO("pencil " << axis);
    CHECK(core::mpi::all(ok, MPI_COMM_WORLD));
  }
}
