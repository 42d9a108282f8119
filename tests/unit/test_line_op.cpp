// LineOp<T>: every kind x Trans (N, T, H) x T (real, complex) x square/rectangular x line
// layout (contiguous, interleaved, padded slabs, channel axis) x block groups, against a dense Eigen product
// line by line and by the dot-product test <A x, y> = <x, A^H y>; accumulation; shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <functional>
#include <random>
#include <vector>

#include "kron/linops/line_op.hpp"
#include "line_op_cases.hpp"

using namespace kron;
using namespace kron::linops;
using namespace kron::testing;
using cplx = std::complex<double>;

namespace {

// Storage for `outer` x `inner` lines of n points, slabs padded by `pad` elements.
template <class T>
struct Lines {
  std::vector<T> data;
  LineView<T> v;
  Lines(long outer, long n, long inner, long pad) : data(static_cast<std::size_t>(outer * (n * inner + pad) + 1)) {
    v = {data.data(), outer, n, inner, n * inner + pad};
  }
  T& at(long o, long i, long j) { return data[o * v.ostride + i * v.inner + j]; }
};

template <class T>
void check_all() {
  std::mt19937 g(11);
  // outer, inner, pad: contiguous lines, interleaved lines, padded slabs, one line, and a channel
  // axis (lines_along_channel: inner = component stride x lower channels, e.g. a 4 x 3 local box
  // times 2 lower channels; outer = the higher channels).
  const long shapes[][3] = {{7, 1, 0}, {3, 5, 0}, {2, 4, 3}, {9, 4, 1}, {1, 1, 0}, {2, 24, 0}};
  for (auto& c : cases<T>())
    for (const auto& sh : shapes)
      for (Trans t : {Trans::N, Trans::T, Trans::H})
        for (bool acc : {false, true}) {
          const long outer = sh[0], inner = sh[1], pad = sh[2];
          const long nin = t == Trans::N ? c.op.cols() : c.op.rows(), nout = t == Trans::N ? c.op.rows() : c.op.cols();
          Lines<T> x(outer, nin, inner, pad), y(outer, nout, inner, pad + 1);
          for (auto& v : x.data) v = rnd<T>(g);
          for (auto& v : y.data) v = rnd<T>(g);
          const std::vector<T> y0 = y.data, x0 = x.data;
          core::Workspace w;
          c.op.apply(x.v, y.v, t, acc, &w);
          double err = 0, scale = 0;
          for (long o = 0; o < outer; ++o)
            for (long j = 0; j < inner; ++j) {
              const long l = o * inner + j;
              const Mat<T> A = c.matrix(l);
              const Mat<T> M = t == Trans::N ? A : t == Trans::T ? Mat<T>(A.transpose()) : Mat<T>(A.adjoint());
              Eigen::Matrix<T, Eigen::Dynamic, 1> xv(nin), yv;
              for (long i = 0; i < nin; ++i) xv[i] = x.at(o, i, j);
              yv = M * xv;
              for (long i = 0; i < nout; ++i) {
                const T want = yv[i] + (acc ? y0[o * y.v.ostride + i * inner + j] : T(0));
                err = std::max(err, double(std::abs(y.at(o, i, j) - want)));
                scale = std::max(scale, double(std::abs(want)));
              }
            }
          INFO(c.name << ", " << (t == Trans::N ? "N" : t == Trans::T ? "T" : "H") << ", outer " << outer << ", inner " << inner
                      << ", pad " << pad << (acc ? ", accumulate" : "") << ": error " << err << " of " << scale);
          CHECK(err <= tolerance<T>(1e-13) * std::max(1.0, scale));
          CHECK(x.data == x0);  // the input is never written
          // Padding between slabs is left alone.
          bool pad_ok = true;
          for (long o = 0; o < outer; ++o)
            for (long q = nout * inner; q < y.v.ostride && o * y.v.ostride + q < static_cast<long>(y.data.size()); ++q)
              pad_ok = pad_ok && y.data[o * y.v.ostride + q] == y0[o * y.v.ostride + q];
          CHECK(pad_ok);
        }
}

// <A x, y> = <x, A^H y> (sesquilinear) and <A x, y>_bilinear = <x, A^T y>_bilinear.
template <class T>
void dot_product_tests() {
  std::mt19937 g(13);
  for (auto& c : cases<T>())
    for (const auto& sh : {std::array<long, 2>{6, 1}, std::array<long, 2>{2, 7}}) {
      const long outer = sh[0], inner = sh[1];
      Lines<T> x(outer, c.op.cols(), inner, 0), y(outer, c.op.rows(), inner, 0), Ax(outer, c.op.rows(), inner, 0),
          Hy(outer, c.op.cols(), inner, 0), Ty(outer, c.op.cols(), inner, 0);
      for (auto& v : x.data) v = rnd<T>(g);
      for (auto& v : y.data) v = rnd<T>(g);
      c.op.apply(x.v, Ax.v, Trans::N);
      c.op.apply(y.v, Hy.v, Trans::H);
      c.op.apply(y.v, Ty.v, Trans::T);
      T lhs = 0, rhs = 0, blhs = 0, brhs = 0;
      double norm = 0;
      for (std::size_t q = 0; q + 1 < y.data.size(); ++q) {
        if constexpr (std::is_floating_point_v<T>) lhs += y.data[q] * Ax.data[q];
        else lhs += std::conj(y.data[q]) * Ax.data[q];
        blhs += y.data[q] * Ax.data[q];
      }
      for (std::size_t q = 0; q + 1 < x.data.size(); ++q) {
        if constexpr (std::is_floating_point_v<T>) rhs += Hy.data[q] * x.data[q];
        else rhs += std::conj(Hy.data[q]) * x.data[q];
        brhs += Ty.data[q] * x.data[q];
        norm += std::abs(Hy.data[q]) * std::abs(x.data[q]);
      }
      INFO(c.name << ", " << outer << "x" << inner << " lines: <Ax,y> = " << lhs << ", <x,A^H y> = " << rhs);
      CHECK(std::abs(lhs - rhs) <= tolerance<T>(1e-13) * norm);
      CHECK(std::abs(blhs - brhs) <= tolerance<T>(1e-13) * norm);
    }
}

// The coefficient gradient of L = Re sum conj(w) op(A) x: L is linear in A, so for any direction E
// L(A + E) - L(A) = Re <G, E> exactly; checked with set_coefficients and apply alone.
template <class T>
void gradient_tests() {
  std::mt19937 g(17);
  const long shapes[][3] = {{7, 1, 0}, {3, 5, 0}, {2, 4, 3}, {9, 4, 1}, {2, 24, 0}};
  auto real_dot = [](const std::vector<T>& a, const std::vector<T>& b) {
    double s = 0;
    for (std::size_t q = 0; q < a.size(); ++q) s += std::real(std::conj(a[q]) * b[q]);
    return s;
  };
  int checked = 0;
  for (auto& c : cases<T>()) {
    if (c.op.kind() != LineOp<T>::Kind::Dense && c.op.kind() != LineOp<T>::Kind::BlockDense && c.op.kind() != LineOp<T>::Kind::Diagonal)
      continue;
    for (const auto& sh : shapes)
      for (Trans t : {Trans::N, Trans::T, Trans::H}) {
        const long outer = sh[0], inner = sh[1], pad = sh[2];
        const long nin = t == Trans::N ? c.op.cols() : c.op.rows(), nout = t == Trans::N ? c.op.rows() : c.op.cols();
        Lines<T> x(outer, nin, inner, pad), w(outer, nout, inner, pad), y(outer, nout, inner, pad);
        for (auto& v : x.data) v = rnd<T>(g);
        for (auto& v : w.data) v = rnd<T>(g);
        const std::vector<T> a0 = c.op.coefficients();
        std::vector<T> e(a0.size()), ae(a0.size()), grad(a0.size(), T(1));
        for (auto& v : e) v = rnd<T>(g);
        for (std::size_t q = 0; q < a0.size(); ++q) ae[q] = a0[q] + e[q];
        std::fill(y.data.begin(), y.data.end(), T(0));
        c.op.apply(x.v, y.v, t);
        const double l0 = real_dot(w.data, y.data);
        c.op.set_coefficients(ae.data());
        std::fill(y.data.begin(), y.data.end(), T(0));
        c.op.apply(x.v, y.v, t);
        const double l1 = real_dot(w.data, y.data);
        c.op.set_coefficients(a0.data());
        c.op.coefficient_gradient(x.v, w.v, grad.data(), t, false);
        const double pred = real_dot(grad, e);
        INFO(c.name << ", " << (t == Trans::N ? "N" : t == Trans::T ? "T" : "H") << ", outer " << outer << ", inner " << inner << ": dL "
                    << l1 - l0 << ", <G, E> " << pred);
        CHECK(std::abs((l1 - l0) - pred) <= tolerance<T>(1e-12) * (1 + std::abs(pred)));
        // Accumulation adds to what is there.
        std::vector<T> twice = grad;
        c.op.coefficient_gradient(x.v, w.v, twice.data(), t, true);
        double acc_err = 0;
        for (std::size_t q = 0; q < grad.size(); ++q) acc_err = std::max(acc_err, double(std::abs(twice[q] - T(2) * grad[q])));
        CHECK(acc_err <= tolerance<T>(1e-12) * (1 + std::abs(pred)));
        ++checked;
      }
  }
  CHECK(checked >= 5 * 5 * 3);
}

}  // namespace

TEST_CASE("LineOp coefficient gradients match the change of a linear functional, real and complex", "[lineop]") {
  gradient_tests<double>();
  gradient_tests<cplx>();
  const LineOp<double> op = LineOp<double>::real(dense_operator(Eigen::MatrixXd::Identity(3, 3), "identity"));
  std::vector<double> a(9), b(9), gr(9);
  LineView<double> v{a.data(), 3, 3, 1, 3}, u{b.data(), 3, 3, 1, 3};
  CHECK_THROWS_WITH(op.coefficient_gradient(v, u, gr.data()), Catch::Contains("coefficients to train"));
}

TEST_CASE("LineOp of real lines equals a dense product for every kind and Trans", "[lineop]") { check_all<double>(); }
TEST_CASE("LineOp of complex lines equals a dense product for every kind and Trans", "[lineop]") { check_all<cplx>(); }
TEST_CASE("LineOp passes the dot-product test, real and complex", "[lineop]") {
  dot_product_tests<double>();
  dot_product_tests<cplx>();
}

// Single precision (training in fp32): the coefficient kinds against the same references, with
// tolerances scaled by the unit roundoffs' ratio; the fp64-only kinds refused by name.
TEST_CASE("LineOp in single precision: coefficient kinds against dense products, adjoints and gradients", "[lineop]") {
  using cf = std::complex<float>;
  check_all<float>();
  check_all<cf>();
  dot_product_tests<float>();
  dot_product_tests<cf>();
  gradient_tests<float>();
  gradient_tests<cf>();
  const Operator1D d2 = derivative(layout::AxisGrid::uniform(9, 0.0, 1.0), Scheme::FD2, 2);
  CHECK_THROWS_WITH(LineOp<float>::real(d2), Catch::Contains("double precision only"));
  CHECK_THROWS_WITH(LineOp<cf>::transform(LineOp<cf>::Transform::DCT2, 8), Catch::Contains("double precision only"));
}

TEST_CASE("LineOp refuses lines that do not fit and coefficients that do not add up", "[lineop]") {
  const LineOp<double> op = LineOp<double>::dense(3, 4, std::vector<double>(12, 1.0));
  std::vector<double> a(40), b(40);
  LineView<double> in{a.data(), 2, 4, 1, 4}, out{b.data(), 2, 3, 1, 3};
  CHECK_NOTHROW(op.apply(in, out));
  CHECK_THROWS_WITH(op.apply(in, out, Trans::T), Catch::Contains("do not fit its transpose"));
  CHECK_THROWS_WITH(op.apply(out, in, Trans::N), Catch::Contains("do not fit the operator"));
  CHECK_THROWS_WITH(LineOp<double>::dense(3, 4, std::vector<double>(11)), Catch::Contains("need 12 coefficients, got 11"));
  CHECK_THROWS_WITH(LineOp<double>::diagonal(5, std::vector<double>(5), 2), Catch::Contains("needs 10 values, got 5"));
}

#include "kron/linops/boundary.hpp"

TEST_CASE("split_axis reproduces the full 1D system for Dirichlet and Neumann data", "[lineop][boundary]") {
  // For a random full operator A, derivative rows D1 and random u: with f = A u and the data g
  // (u at both ends, or D1 u there), M u_I = f_I - B g and u_b = S g + R u_I.
  std::mt19937 gen(7);
  for (long N : {3L, 4L, 9L}) {
    Eigen::MatrixXd A(N, N), D1(N, N);
    Eigen::VectorXd u(N);
    for (long i = 0; i < N; ++i) {
      u(i) = rnd<double>(gen);
      for (long j = 0; j < N; ++j) {
        A(i, j) = rnd<double>(gen);
        D1(i, j) = rnd<double>(gen) + (i == j ? 3.0 : 0.0);
      }
    }
    const Eigen::VectorXd f = A * u, du = D1 * u;
    for (BoundaryKind k : {BoundaryKind::Dirichlet, BoundaryKind::Neumann}) {
      const AxisSplit s = split_axis(A, k, &D1);
      REQUIRE(s.m == N - 2);
      Eigen::Vector2d g;
      if (k == BoundaryKind::Dirichlet) g << u(0), u(N - 1);
      else g << du(0), du(N - 1);
      const Eigen::VectorXd uI = u.segment(1, N - 2);
      INFO(to_string(k) << " N = " << N);
      CHECK((s.M * uI - (f.segment(1, N - 2) - s.B * g)).cwiseAbs().maxCoeff() <= 1e-12);
      const Eigen::Vector2d ub(u(0), u(N - 1));
      CHECK((s.S * g + s.R * uI - ub).cwiseAbs().maxCoeff() <= 1e-12);
    }
  }
  CHECK_THROWS_WITH(split_axis(Eigen::MatrixXd::Identity(2, 2), BoundaryKind::Dirichlet, nullptr), Catch::Contains("at least 3 points"));
}
