// TensorOp<T>: chains of stages (rectangular, several per axis, every Trans, real and complex
// coefficients, two components) against the dense Kronecker product of the per-axis matrices,
// on every process grid (uneven splits at 3 ranks), apply, apply_transpose (T and H) and
// accumulation; the dot-product test of the whole chain; shape errors.
#include <catch2/catch.hpp>
#include "kron/core/eigen.hpp"

#include <unsupported/Eigen/KroneckerProduct>

#include <cmath>
#include <complex>
#include <random>

#include "common.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/gather.hpp"
#include "kron/linops/tensor_op.hpp"

using namespace kron;
using namespace kron::linops;
using cplx = std::complex<double>;

namespace {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
T value(long g, int c) {
  const double a = std::sin(0.731 * double(g) + c), b = std::cos(1.37 * double(g) - 2.0 * c);
  if constexpr (std::is_same_v<T, double>) return a;
  else return T(a, b);
}

template <class T>
Mat<T> random_matrix(long m, long n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> U(-1, 1);
  Mat<T> A(m, n);
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) {
      if constexpr (std::is_same_v<T, double>) A(i, j) = U(g);
      else A(i, j) = T(U(g), U(g));
    }
  return A;
}

template <class T>
std::shared_ptr<const LineOp<T>> dense(const Mat<T>& A) {
  std::vector<T> a(static_cast<std::size_t>(A.size()));
  for (long i = 0; i < A.rows(); ++i)
    for (long j = 0; j < A.cols(); ++j) a[i * A.cols() + j] = A(i, j);
  return std::make_shared<LineOp<T>>(LineOp<T>::dense(A.rows(), A.cols(), a));
}

template <class T>
Mat<T> op_of(const Mat<T>& A, Trans t) {
  return t == Trans::N ? A : t == Trans::T ? Mat<T>(A.transpose()) : Mat<T>(A.adjoint());
}

// The whole array of component c on rank 0 (x fastest), as a vector.
template <class T>
Vec<T> all(const layout::Field<T>& f, int c) {
  const std::vector<T> g = layout::gather(f, c);
  return Eigen::Map<const Vec<T>>(g.data(), static_cast<long>(g.size()));
}

template <class T>
void chain_test() {
  const std::array<long, 3> n{7, 5, 6};
  // Per-axis matrices of the stages, in the order they apply.
  const Mat<T> X1 = random_matrix<T>(4, 7, 1), X2 = random_matrix<T>(4, 4, 2), Y1 = random_matrix<T>(5, 3, 3);
  const layout::AxisGrid zg = layout::AxisGrid::uniform(6, 0.0, 1.0);
  const Operator1D d2 = derivative(zg, Scheme::Compact4, 2);
  const Mat<T> Z1 = d2.dense().cast<T>();
  auto dct2 = std::make_shared<LineOp<T>>(LineOp<T>::transform(LineOp<T>::Transform::DCT2, 6));
  Mat<T> Z2(6, 6);  // DCT-II by its definition
  for (long k = 0; k < 6; ++k)
    for (long j = 0; j < 6; ++j) Z2(k, j) = T(2 * std::cos(M_PI * (double(j) + 0.5) * double(k) / 6.0));
  const std::vector<typename TensorOp<T>::Stage> stages = {
      {0, dense<T>(X1), Trans::N},                                           // x: 7 -> 4
      {2, std::make_shared<LineOp<T>>(LineOp<T>::real(d2)), Trans::N},        // z: compact4 d2
      {1, dense<T>(Y1), Trans::T},                                           // y: 5 -> 3 (Y1^T)
      {0, dense<T>(X2), Trans::H},                                           // x again: X2^H
      {2, dct2, Trans::T},                                                    // z: DCT-II^T
  };
  const Mat<T> Mx = op_of<T>(X2, Trans::H) * X1, My = op_of<T>(Y1, Trans::T), Mz = op_of<T>(Z2, Trans::T) * Z1;
  const Mat<T> K = Eigen::kroneckerProduct(Mz, Eigen::kroneckerProduct(My, Mx)).eval();  // x fastest
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const TensorOp<T> op(grid, n, 2, stages);
    REQUIRE(op.out_shape() == std::array<long, 3>{4, 3, 6});
    PencilWorkspace ws(grid);
    layout::Field<T> in(layout::Pencil(n, grid, 0), 2), out(layout::Pencil(op.out_shape(), grid, 0), 2);
    layout::ops::fill_global(in, [&](const std::array<long, 3>& g, int c) { return value<T>(g[0] + n[0] * (g[1] + n[1] * g[2]), c); });
    layout::ops::fill_global(out, [&](const std::array<long, 3>& g, int c) { return value<T>(3 * g[0] + 7 * g[1] + g[2], c + 5); });
    layout::Field<T> out0(out.pencil(), 2);
    layout::ops::copy(out, out0);
    for (bool acc : {false, true}) {
      if (acc) layout::ops::copy(out0, out);
      op.apply(in, out, ws, acc);
      for (int c = 0; c < 2; ++c) {
        const Vec<T> x = all(in, c), y = all(out, c), y0 = all(out0, c);
        double err = 0, scale = 1;
        if (core::mpi::rank() == 0) {
          const Vec<T> want = K * x + (acc ? y0 : Vec<T>::Zero(y.size()));
          err = (y - want).cwiseAbs().maxCoeff();
          scale = want.cwiseAbs().maxCoeff();
        }
        INFO("grid " << shape[0] << "x" << shape[1] << ", component " << c << (acc ? ", accumulate" : "") << ": " << op.describe());
        CHECK(test::from_root(err) <= 1e-13 * test::from_root(scale));
      }
    }
    // The transposed chains: out_shape -> in_shape.
    for (Trans t : {Trans::T, Trans::H}) {
      layout::Field<T> back(in.pencil(), 2);
      op.apply_transpose(out, back, ws, t);
      for (int c = 0; c < 2; ++c) {
        const Vec<T> y = all(out, c), b = all(back, c);
        double err = 0, scale = 1;
        if (core::mpi::rank() == 0) {
          const Vec<T> want = (t == Trans::T ? Mat<T>(K.transpose()) : Mat<T>(K.adjoint())) * y;
          err = (b - want).cwiseAbs().maxCoeff();
          scale = want.cwiseAbs().maxCoeff();
        }
        INFO("grid " << shape[0] << "x" << shape[1] << ", transpose " << (t == Trans::T ? "T" : "H"));
        CHECK(test::from_root(err) <= 1e-13 * test::from_root(scale));
      }
    }
    // Dot-product test of the chain: <A x, y> = <x, A^H y>.
    layout::Field<T> Ax(out.pencil(), 2), Hy(in.pencil(), 2);
    op.apply(in, Ax, ws);
    op.apply_transpose(out, Hy, ws, Trans::H);
    const T lhs = layout::ops::dot(out, Ax), rhs = layout::ops::dot(Hy, in);
    CHECK(std::abs(lhs - rhs) <= 1e-12 * std::abs(lhs));
  }
}

// Stages along channel axes: a field of channel shape 2 x 3 (6 components), a spatial stage on
// x, a rectangular dense stage on channel axis 0 (2 -> 3 channels), a transposed one on channel
// axis 1 (3 -> 2), a per-channel diagonal, and z; against the Kronecker product with the channel
// matrices outermost (component c = c0 + s0 c1 is the slowest index).
template <class T>
void channel_test() {
  const std::array<long, 3> n{5, 4, 3};
  const Mat<T> X = random_matrix<T>(4, 5, 21), C0 = random_matrix<T>(3, 2, 22), C1 = random_matrix<T>(3, 2, 23), Z = random_matrix<T>(3, 3, 24);
  std::vector<T> dg{T(1.5), T(-0.5), T(2.0)};
  const Mat<T> D = Eigen::Map<const Vec<T>>(dg.data(), 3).asDiagonal();
  auto diag = std::make_shared<LineOp<T>>(LineOp<T>::diagonal(3, dg));
  using TO = TensorOp<T>;
  const std::vector<typename TO::Stage> stages = {
      {TO::channel_axis(0), dense<T>(C0), Trans::N},  // channels 2 -> 3
      {0, dense<T>(X), Trans::N},                     // x: 5 -> 4
      {TO::channel_axis(1), dense<T>(C1), Trans::T},  // channels 3 -> 2 (C1^T)
      {TO::channel_axis(0), diag, Trans::N},          // per-channel scale on axis 0 (now 3)
      {2, dense<T>(Z), Trans::H},
  };
  const Mat<T> Ks = Eigen::kroneckerProduct(op_of<T>(Z, Trans::H), Eigen::kroneckerProduct(Mat<T>::Identity(4, 4), X)).eval();
  const Mat<T> Kc = Eigen::kroneckerProduct(op_of<T>(C1, Trans::T), Mat<T>(D * C0)).eval();
  const Mat<T> K = Eigen::kroneckerProduct(Kc, Ks).eval();
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    const TO op(grid, n, std::vector<long>{2, 3}, stages);
    REQUIRE(op.out_channels() == std::vector<long>{3, 2});
    REQUIRE(op.out_components() == 6);
    PencilWorkspace ws(grid);
    layout::Field<T> in(layout::Pencil(n, grid, 0), std::vector<long>{2, 3}), out(layout::Pencil(op.out_shape(), grid, 0), std::vector<long>{3, 2});
    layout::ops::fill_global(in, [&](const std::array<long, 3>& g, int c) { return value<T>(g[0] + n[0] * (g[1] + n[1] * g[2]), c); });
    op.apply(in, out, ws);
    auto stacked = [](const layout::Field<T>& f) {
      std::vector<Vec<T>> parts;
      long len = 0;
      for (int c = 0; c < f.components(); ++c) {
        parts.push_back(all(f, c));
        len += parts.back().size();
      }
      Vec<T> v(len);
      long o = 0;
      for (const auto& p : parts) {
        v.segment(o, p.size()) = p;
        o += p.size();
      }
      return v;
    };
    const Vec<T> x = stacked(in), y = stacked(out);
    double err = 0, scale = 1;
    if (core::mpi::rank() == 0) {
      const Vec<T> want = K * x;
      err = (y - want).cwiseAbs().maxCoeff();
      scale = want.cwiseAbs().maxCoeff();
    }
    INFO("grid " << shape[0] << "x" << shape[1] << ": " << op.describe());
    CHECK(test::from_root(err) <= 1e-13 * test::from_root(scale));
    // Adjoint: the dot-product test, and the channel shape travels back.
    layout::Field<T> back(in.pencil(), std::vector<long>{2, 3});
    op.apply_transpose(out, back, ws, Trans::H);
    const T lhs = layout::ops::dot(out, out), rhs = layout::ops::dot(back, in);
    CHECK(std::abs(lhs - rhs) <= 1e-12 * std::abs(lhs));
    // A field whose declared channel shape differs is refused.
    layout::Field<T> wrong(layout::Pencil(n, grid, 0), std::vector<long>{3, 2});
    CHECK_THROWS_WITH(op.apply(wrong, out, ws), Catch::Contains("as 3 x 2") && Catch::Contains("as 2 x 3"));
  }
}

}  // namespace

TEST_CASE("TensorOp chains equal the dense Kronecker product, forward, transposed and adjoint", "[tensorop]") {
  chain_test<double>();
  chain_test<cplx>();
}

TEST_CASE("TensorOp stages along channel axes change the channel shape without moving data", "[tensorop]") {
  channel_test<double>();
  channel_test<cplx>();
}

TEST_CASE("TensorOp refuses fields that do not fit its plan", "[tensorop]") {
  auto grid = test::make_grid(test::all_grid_shapes().back());
  const std::array<long, 3> n{6, 5, 4};
  const layout::AxisGrid xg = layout::AxisGrid::uniform(6, 0.0, 1.0);
  const std::vector<TensorOp<double>::Stage> st = {{0, std::make_shared<LineOp<double>>(LineOp<double>::real(derivative(xg, Scheme::FD2, 2))), Trans::N}};
  const TensorOp<double> op(grid, n, 1, st);
  PencilWorkspace ws(grid);
  layout::RealField three(layout::Pencil(n, grid, 0), 3), out(layout::Pencil(n, grid, 0));
  CHECK_THROWS_WITH(op.apply(three, out, ws), Catch::Contains("3 components") && Catch::Contains("1 component(s)"));
  layout::RealField wrong(layout::Pencil({6, 5, 5}, grid, 0));
  CHECK_THROWS_WITH(op.apply(wrong, out, ws), Catch::Contains("does not fit the plan"));
  CHECK_THROWS_WITH(TensorOp<double>(grid, {5, 5, 4}, 1, st), Catch::Contains("expects 6 points along axis x, the data have 5"));
}

TEST_CASE("TensorOp ranged stages, input in any pencil, output left in the last stage's pencil", "[tensorop]") {
  using T = double;
  const std::array<long, 3> n{8, 4, 7};
  const Mat<T> A = random_matrix<T>(5, 5, 7), Y = random_matrix<T>(6, 4, 8);
  const layout::AxisGrid zg = layout::AxisGrid::uniform(5, 0.0, 1.0);
  const Operator1D dz = derivative(zg, Scheme::FD2, 2);
  // Per-axis matrices: identity outside the ranges.
  Mat<T> Mx = Mat<T>::Identity(8, 8), Mz = Mat<T>::Identity(7, 7);
  Mx.block(2, 2, 5, 5) = A;
  Mz.block(1, 1, 5, 5) = dz.dense();
  const Mat<T> K = Eigen::kroneckerProduct(Mz, Eigen::kroneckerProduct(Y, Mx)).eval();
  const std::vector<TensorOp<T>::Stage> stages = {{0, dense<T>(A), Trans::N, 2},
                                                  {1, dense<T>(Y), Trans::N},
                                                  {2, std::make_shared<LineOp<T>>(LineOp<T>::real(dz)), Trans::N, 1}};
  for (auto shape : test::all_grid_shapes())
    for (int in_axis : {0, 2}) {
      auto grid = test::make_grid(shape);
      TensorOp<T>::Options opt;
      opt.in_axis = in_axis;
      opt.return_to_x = false;
      const TensorOp<T> op(grid, n, 1, stages, opt);
      PencilWorkspace ws(grid);
      layout::Field<T> in(layout::Pencil(n, grid, in_axis)), out(layout::Pencil(op.out_shape(), grid, op.out_axis()));
      layout::ops::fill_global(in, [&](const std::array<long, 3>& g, int) { return value<T>(g[0] + n[0] * (g[1] + n[1] * g[2]), 0); });
      op.apply(in, out, ws);
      const Vec<T> x = all(in, 0), y = all(out, 0);
      double err = 0, scale = 1;
      if (core::mpi::rank() == 0) {
        const Vec<T> want = K * x;
        err = (y - want).cwiseAbs().maxCoeff();
        scale = want.cwiseAbs().maxCoeff();
      }
      INFO("grid " << shape[0] << "x" << shape[1] << ", input pencil " << in_axis << ", output pencil " << op.out_axis() << ": "
                   << op.describe());
      CHECK(test::from_root(err) <= 1e-13 * test::from_root(scale));
      layout::Field<T> back(in.pencil());
      op.apply_transpose(out, back, ws);
      const Vec<T> b = all(back, 0);
      err = 0;
      if (core::mpi::rank() == 0) {
        const Vec<T> want = K.transpose() * y;
        err = (b - want).cwiseAbs().maxCoeff();
        scale = want.cwiseAbs().maxCoeff();
      }
      CHECK(test::from_root(err) <= 1e-13 * test::from_root(scale));
    }
}
