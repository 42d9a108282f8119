#pragma once
// The LineOp test cases shared by the unit tests (host executor) and the GPU tests (CUDA
// executor): every kind with the dense matrix of each line as the independent reference.
#include <cmath>
#include <complex>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kron/linops/line_op.hpp"
#include "random_values.hpp"

namespace kron::testing {

using namespace kron::linops;

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// A test case: the operator and the dense matrix of line l (l = o*inner + j).
template <class T>
struct Case {
  std::string name;
  LineOp<T> op;
  std::function<Mat<T>(long)> matrix;
};

// FFTW's unnormalised real transforms, by their definitions (a column per unit vector).
inline Eigen::MatrixXd transform_matrix(LineOp<double>::Transform k, long n) {
  Eigen::MatrixXd M(n, n);
  for (long j = 0; j < n; ++j)
    for (long r = 0; r < n; ++r) {
      double v = 0;
      switch (k) {
        case LineOp<double>::Transform::DST1: v = 2 * std::sin(M_PI * double((j + 1) * (r + 1)) / double(n + 1)); break;
        case LineOp<double>::Transform::DCT2: v = 2 * std::cos(M_PI * (double(j) + 0.5) * double(r) / double(n)); break;
        case LineOp<double>::Transform::DCT3: v = j == 0 ? 1.0 : 2 * std::cos(M_PI * double(j) * (double(r) + 0.5) / double(n)); break;
        case LineOp<double>::Transform::R2HC:
          // r_k at index k <= n/2, i_k = -sum x sin at index n - k.
          v = r <= n / 2 ? std::cos(2 * M_PI * double(j * r) / double(n)) : -std::sin(2 * M_PI * double(j * (n - r)) / double(n));
          break;
        case LineOp<double>::Transform::HC2R: {
          const long k = j;  // input index (halfcomplex), output index r
          const double ph = 2 * M_PI * double(r) / double(n);
          if (k == 0) v = 1;
          else if (2 * k == n) v = (r % 2 == 0) ? 1 : -1;
          else if (2 * k < n) v = 2 * std::cos(ph * double(k));
          else v = -2 * std::sin(ph * double(n - k));
          break;
        }
      }
      M(r, j) = v;
    }
  return M;
}

template <class T>
std::vector<Case<T>> cases() {
  std::vector<Case<T>> cs;
  std::mt19937 g(5);
  const layout::AxisGrid uni = layout::AxisGrid::uniform(11, 0.0, 1.0), per = layout::AxisGrid::periodic(12, 0.0, 1.0);
  const layout::AxisGrid cheb = layout::AxisGrid::chebyshev(9, 0.0, 1.0);
  // Single precision: the coefficient kinds only (real-coefficient and transform kinds are fp64).
  if constexpr (!is_single<T>) {
  for (auto [grid, s, d, label] : std::vector<std::tuple<layout::AxisGrid, Scheme, int, const char*>>{
           {uni, Scheme::FD2, 2, "fd2 d2 bounded (banded)"},
           {per, Scheme::FD4, 1, "fd4 d1 periodic (banded, wrapped)"},
           {uni, Scheme::Compact6, 1, "compact6 d1 bounded (compact)"},
           {per, Scheme::Compact4, 2, "compact4 d2 periodic (cyclic compact)"},
           {cheb, Scheme::Chebyshev, 2, "chebyshev d2 (dense term)"},
           // Lines long enough for the device's partitioned compact solve (chunks of 16 rows; a
           // short last chunk; cyclic coupling when periodic).
           {layout::AxisGrid::uniform(77, 0.0, 1.0), Scheme::Compact6, 1, "compact6 d1 bounded, 77 points (partitioned)"},
           {layout::AxisGrid::periodic(64, 0.0, 1.0), Scheme::Compact4, 2, "compact4 d2 periodic, 64 points (partitioned, cyclic)"},
           {layout::AxisGrid::periodic(50, 0.0, 1.0), Scheme::Compact6, 1, "compact6 d1 periodic, 50 points (partitioned, short last chunk)"}}) {
    const Operator1D op = derivative(grid, s, d);
    const Eigen::MatrixXd D = op.dense();
    cs.push_back({label, LineOp<T>::real(op), [D](long) { return Mat<T>(D.cast<T>()); }});
  }
  {
    // A stretched grid: two terms with row scales (metric terms).
    std::vector<double> c(13);
    for (long i = 0; i < 13; ++i) c[i] = std::sinh(1.3 * double(i) / 12.0);
    Operator1D op(13, "stretched");
    const layout::AxisGrid u13 = layout::AxisGrid::uniform(13, 0.0, 1.0);
    const Operator1D c4 = derivative(u13, Scheme::Compact4, 2), f4 = derivative(u13, Scheme::FD4, 1);
    for (const auto& t : c4.terms()) {
      Term s = t;
      s.scale = c;
      op.add(s);
    }
    for (const auto& t : f4.terms()) {
      Term s = t;
      s.scale.assign(13, 0.0);
      for (long i = 0; i < 13; ++i) s.scale[i] = 1.0 + 0.1 * double(i);
      op.add(s);
    }
    const Eigen::MatrixXd D = op.dense();
    cs.push_back({"scaled compact4 d2 + scaled fd4 d1", LineOp<T>::real(op), [D](long) { return Mat<T>(D.cast<T>()); }});
  }
  }
  {
    const long m = 6, n = 9;
    std::vector<T> a(m * n);
    for (auto& v : a) v = rnd<T>(g);
    Mat<T> A(m, n);
    for (long i = 0; i < m; ++i)
      for (long j = 0; j < n; ++j) A(i, j) = a[i * n + j];
    cs.push_back({"dense 6x9", LineOp<T>::dense(m, n, a), [A](long) { return A; }});
    Mat<T> B = A.transpose();
    std::vector<T> b(n * m);
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < m; ++j) b[i * m + j] = B(i, j);
    cs.push_back({"dense 9x6", LineOp<T>::dense(n, m, b), [B](long) { return B; }});
  }
  {
    const long G = 3, m = 4, n = 5, span = 2;
    std::vector<T> a(G * m * n);
    for (auto& v : a) v = rnd<T>(g);
    cs.push_back({"block-dense 3 x (4x5), span 2", LineOp<T>::block_dense(G, m, n, a, span), [a, G, m, n, span](long l) {
                    Mat<T> A(m, n);
                    const long b = (l / span) % G;
                    for (long i = 0; i < m; ++i)
                      for (long j = 0; j < n; ++j) A(i, j) = a[(b * m + i) * n + j];
                    return A;
                  }});
  }
  // Span 1 with G a multiple of the lines per slab: one strided GEMM per block (Monarch factors);
  // 4 and 12 blocks against slabs of 1, 4 (12 = 3 slabs x 4) and 5 lines. Blocks of at most 4 x 4
  // (butterfly levels) go line by line: 2 x 2 and 2 x 3 ones, span 1 and 2.
  for (const auto& shape : std::vector<std::array<long, 4>>{{4, 5, 3, 1}, {12, 5, 3, 1}, {12, 2, 2, 1}, {3, 2, 3, 2}}) {
    const long G = shape[0], m = shape[1], n = shape[2], span = shape[3];  // plain variables: lambdas capture them (C++17)
    std::vector<T> a(G * m * n);
    for (auto& v : a) v = rnd<T>(g);
    cs.push_back({"block-dense " + std::to_string(G) + " x (" + std::to_string(m) + "x" + std::to_string(n) + "), span " + std::to_string(span),
                  LineOp<T>::block_dense(G, m, n, a, span), [a, G, m, n, span](long l) {
                    Mat<T> A(m, n);
                    const long b = (l / span) % G;
                    for (long i = 0; i < m; ++i)
                      for (long j = 0; j < n; ++j) A(i, j) = a[(b * m + i) * n + j];
                    return A;
                  }});
  }
  {
    const long G = 2, n = 7, span = 3;
    std::vector<T> d(G * n);
    for (auto& v : d) v = rnd<T>(g);
    cs.push_back({"diagonal 7, 2 groups of 3 lines", LineOp<T>::diagonal(n, d, G, span), [d, G, n, span](long l) {
                    Mat<T> A = Mat<T>::Zero(n, n);
                    const long b = (l / span) % G;
                    for (long i = 0; i < n; ++i) A(i, i) = d[b * n + i];
                    return A;
                  }});
  }
  if constexpr (is_single<T>) return cs;
  using TK = typename LineOp<T>::Transform;
  for (auto [k, label] : std::vector<std::pair<TK, const char*>>{
           {TK::DST1, "dst1"}, {TK::DCT2, "dct2"}, {TK::DCT3, "dct3"}, {TK::R2HC, "r2hc"}, {TK::HC2R, "hc2r"}})
    for (long n : {8L, 9L}) {
      const Eigen::MatrixXd M = transform_matrix(static_cast<LineOp<double>::Transform>(k), n);
      cs.push_back({std::string(label) + " n=" + std::to_string(n), LineOp<T>::transform(k, n), [M](long) { return Mat<T>(M.cast<T>()); }});
    }
  return cs;
}

}  // namespace kron::testing
