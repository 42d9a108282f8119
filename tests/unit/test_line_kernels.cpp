// The batched line engine against plain dense matrix-vector products, line by line: every kind of
// term (banded, compact, periodic compact, dense, row-scaled, sums of terms), every path through
// LineOperator::apply (contiguous lines streamed through a ring in panels of 32 and 8 and the
// scalar remainder; interleaved lines in column blocks), with and without accumulation.
#include <catch2/catch.hpp>
#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fftw3.h>

#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/line_transforms.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/operator1d.hpp"

using namespace kron;
using namespace kron::linops;

namespace {

layout::AxisGrid stretched(long n) {
  // A name of this process's own: the unit tests may run concurrently with other builds' tests.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("kron_line_kernels_grid_" + std::to_string(n) + "_" + std::to_string(getpid()) + ".txt")).string();
  std::ofstream f(path);
  f.precision(17);
  for (long i = 0; i < n; ++i) {
    const double s = double(i) / double(n - 1);
    f << std::sinh(2.0 * s) / std::sinh(2.0) << "\n";
  }
  f.close();
  auto g = layout::AxisGrid::from_file(path);
  std::remove(path.c_str());
  return g;
}

// out = Op in on every line, by the dense matrix (the reference).
void reference(const Eigen::MatrixXd& D, const Lines& in, std::vector<double>& out, bool accumulate) {
  const long n = in.n;
  Eigen::VectorXd v(n);
  for (long o = 0; o < in.outer; ++o)
    for (long j = 0; j < in.inner; ++j) {
      for (long i = 0; i < n; ++i) v[i] = in.p[o * in.ostride + i * in.inner + j];
      const Eigen::VectorXd w = D * v;
      for (long i = 0; i < n; ++i) {
        double& r = out[o * in.ostride + i * in.inner + j];
        r = accumulate ? r + w[i] : w[i];
      }
    }
}

void check_operator(const Operator1D& op, const std::string& what) {
  const long n = op.size();
  const Eigen::MatrixXd D = op.dense();
  const double scale = D.cwiseAbs().maxCoeff();
  LineOperator lo(op);
  core::Workspace work;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> U(-1, 1);
  // (outer, inner): contiguous line counts that hit 32-panels, 8-panels and the remainder;
  // interleaved blocks narrower and wider than a panel.
  const long shapes[][2] = {{1, 1}, {5, 1}, {8, 1}, {41, 1}, {77, 1}, {3, 5}, {2, 70}, {1, 131}};
  for (const auto& sh : shapes)
    for (bool acc : {false, true}) {
      const long outer = sh[0], inner = sh[1];
      const long size = outer * n * inner;
      std::vector<double> in(size), out(size), ref(size);
      for (auto& v : in) v = U(rng);
      for (long i = 0; i < size; ++i) out[i] = ref[i] = U(rng);
      const Lines li{in.data(), outer, n, inner, n * inner};
      const Lines lo_{out.data(), outer, n, inner, n * inner};
      lo.apply(li, lo_, acc, work);
      reference(D, li, ref, acc);
      double err = 0;
      for (long i = 0; i < size; ++i) err = std::max(err, std::abs(out[i] - ref[i]));
      INFO(what << ", n " << n << ", outer " << outer << ", inner " << inner << (acc ? ", accumulate" : ""));
      CHECK(err <= 1e-12 * scale * std::sqrt(double(n)));
    }
}

}  // namespace

TEST_CASE("line engine equals dense products on every path", "[lines]") {
  for (long n : {9L, 24L, 61L}) {
    const layout::AxisGrid uni = layout::AxisGrid::uniform(n, 0, 1);
    const layout::AxisGrid per = layout::AxisGrid::periodic(n, 0, 1);
    const layout::AxisGrid str = stretched(n);
    for (Scheme s : {Scheme::FD2, Scheme::FD4, Scheme::FD6, Scheme::Compact4, Scheme::Compact6})
      for (int d : {1, 2}) {
        if (n < 2 * scheme_order(s)) continue;
        check_operator(derivative(uni, s, d), std::string(to_string(s)) + " d" + std::to_string(d) + " uniform");
        check_operator(derivative(per, s, d), std::string(to_string(s)) + " d" + std::to_string(d) + " periodic");
        check_operator(derivative(str, s, d), std::string(to_string(s)) + " d" + std::to_string(d) + " stretched");
      }
    check_operator(derivative(layout::AxisGrid::chebyshev(n, -1, 1), Scheme::Chebyshev, 2), "chebyshev d2");
    // A sum of terms: compact d2 + banded d1 (product-form operators look like this).
    Operator1D sum(n, "sum");
    const Operator1D c6 = derivative(uni, Scheme::Compact6, 2), f4 = derivative(str, Scheme::FD4, 1);
    for (const auto& t : c6.terms()) sum.add(t);
    for (const auto& t : f4.terms()) sum.add(t);
    check_operator(sum, "compact6 d2 + stretched fd4 d1");
  }
}

TEST_CASE("cache-blocked transpose", "[lines]") {
  for (long rows : {1L, 7L, 8L, 19L, 64L})
    for (long cols : {1L, 8L, 13L, 40L})
      for (bool acc : {false, true}) {
        const long lds = cols + 3, ldd = rows + 5;
        std::vector<double> src(rows * lds), dst(cols * ldd);
        for (std::size_t i = 0; i < src.size(); ++i) src[i] = double(i) * 0.5 - 3;
        for (std::size_t i = 0; i < dst.size(); ++i) dst[i] = double(i % 11);
        std::vector<double> ref = dst;
        for (long r = 0; r < rows; ++r)
          for (long c = 0; c < cols; ++c) ref[c * ldd + r] = (acc ? ref[c * ldd + r] : 0.0) + src[r * lds + c];
        layout::transpose_2d(src.data(), lds, dst.data(), ldd, rows, cols, acc);
        INFO("rows " << rows << ", cols " << cols << (acc ? ", accumulate" : ""));
        CHECK(dst == ref);
      }
}

TEST_CASE("cache-blocked transpose of complex values", "[lines]") {
  using cplx = std::complex<double>;
  for (long rows : {1L, 3L, 4L, 9L, 33L})
    for (long cols : {1L, 4L, 6L, 37L}) {
      const long lds = cols + 2, ldd = rows + 3;
      std::vector<cplx> src(rows * lds), dst(cols * ldd, cplx(-1, -1)), ref;
      for (std::size_t i = 0; i < src.size(); ++i) src[i] = cplx(double(i), -0.5 * double(i));
      ref = dst;
      for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) ref[c * ldd + r] = src[r * lds + c];
      layout::transpose_2d(src.data(), lds, dst.data(), ldd, rows, cols);
      INFO("rows " << rows << ", cols " << cols);
      CHECK(dst == ref);  // bit for bit, padding untouched
    }
}

TEST_CASE("sine transform of many lines equals FFTW's RODFT00", "[lines]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> U(-1, 1);
  for (long m : {1L, 2L, 3L, 4L, 5L, 8L, 15L, 16L, 31L, 254L, 255L}) {
    Dst1Executor dst(m, layout::FftEffort::Estimate);
    const long shapes[][2] = {{1, 1}, {5, 1}, {33, 1}, {70, 1}, {2, 3}, {1, 32}, {2, 45}};
    for (const auto& sh : shapes) {
      const long outer = sh[0], inner = sh[1], size = outer * m * inner;
      std::vector<double> x(size);
      for (auto& v : x) v = U(rng);
      std::vector<double> ref = x;
      // Reference: FFTW's RODFT00, one line at a time.
      std::vector<double> line(m);
      fftw_plan p = fftw_plan_r2r_1d(int(m), line.data(), line.data(), FFTW_RODFT00, FFTW_ESTIMATE);
      for (long o = 0; o < outer; ++o)
        for (long j = 0; j < inner; ++j) {
          for (long i = 0; i < m; ++i) line[i] = ref[o * m * inner + i * inner + j];
          fftw_execute(p);
          for (long i = 0; i < m; ++i) ref[o * m * inner + i * inner + j] = line[i];
        }
      fftw_destroy_plan(p);
      // Out of place (and the input left alone), then in place.
      std::vector<double> y(size, -7.0);
      const std::vector<double> x0 = x;
      dst.execute(Lines{x.data(), outer, m, inner, m * inner}, Lines{y.data(), outer, m, inner, m * inner});
      CHECK(x == x0);
      dst.execute(Lines{x.data(), outer, m, inner, m * inner});
      double err = 0, big = 0;
      for (long i = 0; i < size; ++i) {
        err = std::max({err, std::abs(x[i] - ref[i]), std::abs(y[i] - ref[i])});
        big = std::max(big, std::abs(ref[i]));
      }
      INFO("m " << m << ", outer " << outer << ", inner " << inner);
      CHECK(err <= 1e-13 * big * std::max(1.0, std::log2(double(m))));
    }
  }
}
