// The distributed data layer and TensorOp on device fields, against the host path on the same
// values: transposes between every pair of pencils (components and halos, uneven splits, every
// process grid of the run's ranks; MPI on device buffers or staged through pinned memory), and a
// TensorOp chain of every stage kind (rectangular dense, compact, transform, ranged, channel
// axes; forward, T, H, accumulate) with every element compared, and its dot-product test on the
// device.
#include <catch2/catch.hpp>

#include <complex>
#include <random>

#include "../mpi/common.hpp"
#include "kron/core/device.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/halo.hpp"
#include "kron/layout/transpose.hpp"
#include "kron/linops/tensor_op.hpp"
#include "device_lines.hpp"
#include "random_values.hpp"

using namespace kron;
using namespace kron::linops;
using cplx = std::complex<double>;
using testing::randomize;
using testing::rel_diff;
using testing::rnd;

namespace {

template <class T>
std::shared_ptr<const LineOp<T>> random_dense(long m, long n, std::mt19937& g) {
  std::vector<T> a(static_cast<std::size_t>(m * n));
  for (auto& v : a) v = rnd<T>(g);
  return std::make_shared<LineOp<T>>(LineOp<T>::dense(m, n, a));
}

template <class T>
void transpose_test() {
  std::mt19937 g(41 + core::mpi::rank());
  const std::array<long, 3> n{11, 7, 5};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        if (a == b) continue;
        const layout::Pencil pa(n, grid, a), pb(n, grid, b);
        const std::array<int, 3> ha{1, 0, 2}, hb{0, 1, 0};
        layout::Field<T> in(pa, 2, ha), out(pb, 2, hb);
        randomize(in, g);
        randomize(out, g);
        layout::Field<T> din = layout::to_device(in), dout(pb, 2, hb, core::MemorySpace::Device);
        dout.fill(T(std::nan("")));  // poisoned: every interior value must be written
        const layout::Transpose<T> plan(pa, pb, 2, layout::TransposeMethod::Alltoallv, ha, hb);
        layout::TransposeWork w;
        plan.execute(in, out, &w);
        plan.execute(din, dout, &w);
        INFO("grid " << shape[0] << "x" << shape[1] << ", " << "xyz"[a] << " -> " << "xyz"[b] << " pencil");
        CHECK(rel_diff(out, dout) == 0);
        // The halos of the destination are not touched.
        const layout::Field<T> back = layout::to_host(dout);
        CHECK(std::isnan(std::abs(back.data()[0])));
      }
  }
}

template <class T>
void chain_test() {
  std::mt19937 g(43);  // the same operators on every rank
  const std::array<long, 3> n{9, 6, 8};
  auto dct2 = std::make_shared<LineOp<T>>(LineOp<T>::transform(LineOp<T>::Transform::DCT2, 8));
  auto dst1 = std::make_shared<LineOp<T>>(LineOp<T>::transform(LineOp<T>::Transform::DST1, 6));
  auto c6 = std::make_shared<LineOp<T>>(LineOp<T>::real(derivative(layout::AxisGrid::uniform(9, 0.0, 1.0), Scheme::Compact6, 1)));
  auto per = std::make_shared<LineOp<T>>(LineOp<T>::real(derivative(layout::AxisGrid::periodic(6, 0.0, 1.0), Scheme::Compact4, 2)));
  std::vector<T> dg{T(1.5), T(-0.5), T(2.0)};
  using TO = TensorOp<T>;
  const std::vector<typename TO::Stage> stages = {
      {0, c6, Trans::N},                              // x: compact6 d/dx (Thomas on the device)
      {1, per, Trans::T},                             // y: periodic compact4 d2, transposed
      {2, random_dense<T>(5, 8, g), Trans::N},        // z: 8 -> 5
      {TO::channel_axis(0), random_dense<T>(3, 2, g), Trans::N},  // channels 2 -> 3
      {0, dct2, Trans::N, 1},                         // x: DCT-II on points 1 .. 8, ranged
      {1, dst1, Trans::H},                            // y: DST-I
      {TO::channel_axis(0), std::make_shared<LineOp<T>>(LineOp<T>::diagonal(3, dg)), Trans::H},
      {0, random_dense<T>(9, 9, g), Trans::H},
  };
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const TO op(grid, n, std::vector<long>{2}, stages);
    PencilWorkspace hw(grid), dw(grid, layout::TransposeMethod::Alltoallv, core::MemorySpace::Device);
    std::mt19937 gr(47 + core::mpi::rank());
    layout::Field<T> in(layout::Pencil(n, grid, 0), 2), out(layout::Pencil(op.out_shape(), grid, 0), 3);
    randomize(in, gr);
    randomize(out, gr);
    layout::Field<T> din = layout::to_device(in), dout = layout::to_device(out);
    INFO("grid " << shape[0] << "x" << shape[1] << ": " << op.describe());
    for (bool acc : {false, true}) {
      if (!acc) dout.fill(T(std::nan("")));
      op.apply(in, out, hw, acc);
      op.apply(din, dout, dw, acc);
      CHECK(rel_diff(out, dout) <= 1e-13);
    }
    for (Trans t : {Trans::T, Trans::H}) {
      layout::Field<T> back(in.pencil(), 2), dback(in.pencil(), 2, {0, 0, 0}, core::MemorySpace::Device);
      dback.fill(T(std::nan("")));
      op.apply_transpose(out, back, hw, t);
      op.apply_transpose(dout, dback, dw, t);
      CHECK(rel_diff(back, dback) <= 1e-13);
    }
    // The dot-product test on the device: <A x, y> = <x, A^H y>.
    layout::Field<T> Ax(out.pencil(), 3, {0, 0, 0}, core::MemorySpace::Device), Hy(in.pencil(), 2, {0, 0, 0}, core::MemorySpace::Device);
    op.apply(din, Ax, dw);
    op.apply_transpose(dout, Hy, dw, Trans::H);
    const T lhs = layout::ops::dot(dout, Ax), rhs = layout::ops::dot(Hy, din);
    CHECK(std::abs(lhs - rhs) <= 1e-12 * std::abs(lhs));
    // A device field with a host workspace is refused.
    CHECK_THROWS_WITH(op.apply(din, dout, hw), Catch::Contains("the workspace in host memory"));
  }
}

}  // namespace

TEST_CASE("device transposes equal host transposes bitwise, every pencil pair and process grid", "[gpu][transpose]") {
  if (core::mpi::rank() == 0) std::printf("MPI for device data: %s\n", core::mpi_device_path().c_str());
  transpose_test<double>();
  transpose_test<cplx>();
}

TEST_CASE("device halo exchanges equal host ones bitwise, every pencil, width and process grid", "[gpu][halo]") {
  // Every stored value compared, halos included: interior ghosts and periodic wraps filled alike,
  // non-periodic outer ghosts left as they were; widths wider than a neighbour's block.
  std::mt19937 g(53 + core::mpi::rank());
  const std::array<long, 3> n{9, 5, 7};
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    for (int a = 0; a < 3; ++a)
      for (auto w : {std::array<int, 3>{1, 1, 1}, std::array<int, 3>{2, 3, 1}})
        for (auto per : {std::array<bool, 3>{true, true, true}, std::array<bool, 3>{false, true, false}}) {
          const layout::Pencil p(n, grid, a);
          layout::Field<cplx> f(p, 2, w);
          randomize(f, g);
          layout::Field<cplx> d = layout::to_device(f);
          const layout::HaloExchange<cplx> plan(p, w, per, 2);
          plan.execute(f);
          plan.execute(d);
          const layout::Field<cplx> back = layout::to_host(d);
          bool same = true;
          for (std::size_t q = 0; q < f.storage_size(); ++q) same = same && back.data()[q] == f.data()[q];
          INFO("grid " << shape[0] << "x" << shape[1] << ", " << "xyz"[a] << "-pencil, widths " << w[0] << w[1] << w[2]);
          CHECK(same);
        }
  }
}

TEST_CASE("TensorOp on device fields equals the host path, every stage kind, forward and adjoint", "[gpu][tensorop]") {
  chain_test<double>();
  chain_test<cplx>();
}
