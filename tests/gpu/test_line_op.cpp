// LineOp's CUDA executor: every kind x Trans x real/complex x line layout x accumulate, on fresh
// random inputs with outputs poisoned beforehand, against the dense matrix of each line (the
// independent reference) and against the host executor, every element checked; the padding
// between slabs and the input are left alone; dot-product tests on the device.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "kron/core/device.hpp"
#include "device_lines.hpp"
#include "line_op_cases.hpp"

using namespace kron;
using namespace kron::linops;
using namespace kron::testing;
using cplx = std::complex<double>;

namespace {

const char* name(Trans t) { return t == Trans::N ? "N" : t == Trans::T ? "T" : "H"; }

template <class T>
void check_device() {
  std::mt19937 g(21);
  // contiguous lines (a partial and a whole number of block cycles), interleaved lines, padded
  // slabs, one line, a channel-axis layout, many interleaved lines (grid-stride loops), and
  // enough padded contiguous and interleaved lines to be re-laid out for compact solves and
  // transforms.
  const long shapes[][3] = {{7, 1, 0}, {12, 1, 0}, {3, 5, 0}, {2, 4, 3}, {1, 1, 0}, {2, 24, 0}, {5, 1000, 0}, {100, 1, 2}, {3, 40, 5}};
  long checked = 0;
  for (auto& c : cases<T>())
    for (const auto& sh : shapes)
      for (Trans t : {Trans::N, Trans::T, Trans::H})
        for (bool acc : {false, true}) {
          const long outer = sh[0], inner = sh[1], pad = sh[2];
          const long nin = t == Trans::N ? c.op.cols() : c.op.rows(), nout = t == Trans::N ? c.op.rows() : c.op.cols();
          DeviceLines<T> x(outer, nin, inner, pad), y(outer, nout, inner, pad + 1);
          for (auto& v : x.host) v = rnd<T>(g);
          for (auto& v : y.host) v = rnd<T>(g);
          x.upload();
          if (acc) y.upload();
          else y.poison();
          // The host executor on the same input, for agreement.
          std::vector<T> yh = y.host;
          {
            LineView<T> hv{yh.data(), outer, nout, inner, y.ostride};
            c.op.apply(x.host_view(), hv, t, acc);
          }
          c.op.apply(x.device_view(), y.device_view(), t, acc);
          core::device_synchronize();
          std::vector<T> yd = y.download();
          double err = 0, err_host = 0, scale = 0;
          for (long o = 0; o < outer; ++o)
            for (long j = 0; j < inner; ++j) {
              const Mat<T> A = c.matrix(o * inner + j);
              const Mat<T> M = t == Trans::N ? A : t == Trans::T ? Mat<T>(A.transpose()) : Mat<T>(A.adjoint());
              Eigen::Matrix<T, Eigen::Dynamic, 1> xv(nin), yv;
              for (long i = 0; i < nin; ++i) xv[i] = x.at(x.host, o, i, j);
              yv = M * xv;
              for (long i = 0; i < nout; ++i) {
                const T want = yv[i] + (acc ? y.at(y.host, o, i, j) : T(0));
                const T got = y.at(yd, o, i, j);
                // NaN (the poison) fails every comparison below.
                err = std::max(err, std::isfinite(std::abs(got)) ? double(std::abs(got - want)) : INFINITY);
                err_host = std::max(err_host, std::isfinite(std::abs(got)) ? double(std::abs(got - y.at(yh, o, i, j))) : INFINITY);
                scale = std::max(scale, double(std::abs(want)));
              }
            }
          INFO(c.name << ", " << name(t) << ", outer " << outer << ", inner " << inner << ", pad " << pad << (acc ? ", accumulate" : "")
                      << ": error " << err << " (against the host executor " << err_host << ") of " << scale);
          CHECK(err <= tolerance<T>(1e-12) * std::max(1.0, scale));
          CHECK(err_host <= tolerance<T>(1e-12) * std::max(1.0, scale));
          // Padding between slabs keeps its bytes (poison or the old values); the input is unchanged.
          bool pad_ok = true;
          for (long o = 0; o < outer; ++o)
            for (long q = nout * inner; q < y.ostride && o * y.ostride + q < static_cast<long>(yd.size()); ++q) {
              const T& a = yd[o * y.ostride + q];
              if (acc) pad_ok = pad_ok && a == y.host[o * y.ostride + q];
              else {
                unsigned char b[sizeof(T)];
                std::memcpy(b, &a, sizeof(T));
                for (unsigned char v : b) pad_ok = pad_ok && v == 0xff;
              }
            }
          CHECK(pad_ok);
          CHECK(x.download() == x.host);
          ++checked;
        }
  INFO("cases checked: " << checked);
  CHECK(checked > 0);
}

// <A x, y> = <x, A^H y> with every product on the device.
template <class T>
void device_dot_products() {
  std::mt19937 g(23);
  for (auto& c : cases<T>())
    for (const auto& sh : {std::array<long, 2>{6, 1}, std::array<long, 2>{2, 7}, std::array<long, 2>{3, 300}}) {
      const long outer = sh[0], inner = sh[1];
      DeviceLines<T> x(outer, c.op.cols(), inner, 0), y(outer, c.op.rows(), inner, 0), Ax(outer, c.op.rows(), inner, 0),
          Hy(outer, c.op.cols(), inner, 0);
      for (auto& v : x.host) v = rnd<T>(g);
      for (auto& v : y.host) v = rnd<T>(g);
      x.upload();
      y.upload();
      Ax.poison();
      Hy.poison();
      c.op.apply(x.device_view(), Ax.device_view(), Trans::N);
      c.op.apply(y.device_view(), Hy.device_view(), Trans::H);
      const std::vector<T> ax = Ax.download(), hy = Hy.download();
      T lhs = 0, rhs = 0;
      double norm = 0;
      for (std::size_t q = 0; q + 1 < y.host.size(); ++q) {
        if constexpr (std::is_floating_point_v<T>) lhs += y.host[q] * ax[q];
        else lhs += std::conj(y.host[q]) * ax[q];
      }
      for (std::size_t q = 0; q + 1 < x.host.size(); ++q) {
        if constexpr (std::is_floating_point_v<T>) rhs += hy[q] * x.host[q];
        else rhs += std::conj(hy[q]) * x.host[q];
        norm += std::abs(hy[q]) * std::abs(x.host[q]);
      }
      INFO(c.name << ", " << outer << "x" << inner << " device lines: <Ax,y> = " << lhs << ", <x,A^H y> = " << rhs);
      CHECK(std::abs(lhs - rhs) <= tolerance<T>(1e-13) * norm);
    }
}

}  // namespace

TEST_CASE("LineOp on the device: real lines, every kind and Trans, against dense products and the host", "[gpu][lineop]") {
  check_device<double>();
}
TEST_CASE("LineOp on the device: complex lines, every kind and Trans, against dense products and the host", "[gpu][lineop]") {
  check_device<cplx>();
}
TEST_CASE("LineOp on the device passes the dot-product test, real and complex", "[gpu][lineop]") {
  device_dot_products<double>();
  device_dot_products<cplx>();
}
TEST_CASE("LineOp on the device in single precision: coefficient kinds against dense products and the host", "[gpu][lineop]") {
  check_device<float>();
  check_device<std::complex<float>>();
  device_dot_products<float>();
  device_dot_products<std::complex<float>>();
}

TEST_CASE("LineOp refuses lines split between host and device memory", "[gpu][lineop]") {
  const LineOp<double> op = LineOp<double>::dense(3, 4, std::vector<double>(12, 1.0));
  std::vector<double> a(8);
  core::DeviceBuffer<double> b(6);
  LineView<double> in{a.data(), 2, 4, 1, 4}, out{b.data(), 2, 3, 1, 3, core::MemorySpace::Device};
  CHECK_THROWS_WITH(op.apply(in, out), Catch::Contains("input in host memory, output in device memory"));
}
