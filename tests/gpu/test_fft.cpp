// cuFFT line transforms and the distributed transform on device fields, against the FFTW host
// path on the same random values: every LineFft kind (R2C, C2R, complex DFTs, every r2r kind the
// device provides, on real and on complex data) in every line layout, outputs poisoned
// beforehand and every element compared, inputs left alone; distributed forward and backward
// transforms of Fourier, DCT and DST mixes, real and complex, several components, on every
// process grid of the run's ranks.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "../mpi/common.hpp"
#include "kron/core/device.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/fft_lines_device.hpp"
#include "device_lines.hpp"
#include "random_values.hpp"

using namespace kron;
using namespace kron::layout;
using cplx = std::complex<double>;
using testing::DeviceLines;
using testing::randomize;
using testing::rel_diff;
using testing::rnd;

namespace {

// One kind on one layout: the device result equals FFTW's; the device input is unchanged.
template <class TI, class TO>
void check_kind(LineFft::Kind kind, long n, LineFft::R2R r2r, bool cplx_data, long outer, long inner, long pad, std::mt19937& g) {
  const LineFft host(kind, n, FftEffort::Estimate, r2r, cplx_data);
  const DeviceLineFft dev(kind, n, r2r, cplx_data);
  DeviceLines<TI> x(outer, host.in_length(), inner, pad);
  DeviceLines<TO> y(outer, host.out_length(), inner, pad + 1);
  for (auto& v : x.host) v = rnd<TI>(g);
  // A C2R's input is Hermitian data: the imaginary parts of the DC (and Nyquist) modes are zero.
  if constexpr (std::is_same_v<TI, cplx>)
    if (kind == LineFft::Kind::C2R)
      for (long o = 0; o < outer; ++o)
        for (long j = 0; j < inner; ++j) {
          x.host[static_cast<std::size_t>(o * x.ostride + j)].imag(0);
          if (n % 2 == 0) x.host[static_cast<std::size_t>(o * x.ostride + (x.n - 1) * inner + j)].imag(0);
        }
  x.upload();
  y.poison();
  std::vector<TI> xin = x.host;
  dev.execute(x.device_set(), y.device_set());
  host.execute({xin.data(), outer, x.n, inner, x.ostride}, y.host_set());
  const double e = rel_diff(y.points(y.host), y.points(y.download()));
  INFO("kind " << int(kind) << " r2r " << int(r2r) << " complex data " << cplx_data << " n " << n << " lines " << outer << " x " << inner
               << " pad " << pad);
  CHECK(e < 1e-13);
  CHECK(x.download() == x.host);
}

}  // namespace

TEST_CASE("cuFFT line transforms equal FFTW's, every kind and line layout", "[gpu][fft]") {
  std::mt19937 g(7);
  using K = LineFft::Kind;
  using R = LineFft::R2R;
  // contiguous lines, padded ones, one interleaved slab, several padded slabs, many interleaved
  // lines (re-laid out), one line.
  const long layouts[][3] = {{5, 1, 0}, {4, 1, 3}, {1, 6, 0}, {3, 4, 2}, {2, 80, 1}, {1, 1, 0}};
  for (long n : {1L, 2L, 7L, 16L, 33L})
    for (const auto& l : layouts) {
      check_kind<double, cplx>(K::R2C, n, R::R2HC, false, l[0], l[1], l[2], g);
      check_kind<cplx, double>(K::C2R, n, R::R2HC, false, l[0], l[1], l[2], g);
      check_kind<cplx, cplx>(K::Forward, n, R::R2HC, false, l[0], l[1], l[2], g);
      check_kind<cplx, cplx>(K::Backward, n, R::R2HC, false, l[0], l[1], l[2], g);
      for (R r : {R::R2HC, R::HC2R, R::REDFT00, R::REDFT10, R::REDFT01, R::RODFT00, R::RODFT10, R::RODFT01}) {
        if (r == R::REDFT00 && n < 2) continue;
        check_kind<double, double>(K::R2R, n, r, false, l[0], l[1], l[2], g);
        check_kind<cplx, cplx>(K::R2R, n, r, true, l[0], l[1], l[2], g);
      }
    }
  CHECK_THROWS_WITH(DeviceLineFft(K::R2R, 8, R::REDFT11), Catch::Contains("REDFT11"));
}

TEST_CASE("cuFFT line transforms in place equal FFTW's (complex DFTs and r2r kinds)", "[gpu][fft]") {
  std::mt19937 g(8);
  for (auto kind : {LineFft::Kind::Forward, LineFft::Kind::R2R}) {
    const LineFft host(kind, 12, FftEffort::Estimate, LineFft::R2R::REDFT10, true);
    const DeviceLineFft dev(kind, 12, LineFft::R2R::REDFT10, true);
    DeviceLines<cplx> x(3, 12, 5, 1);
    for (auto& v : x.host) v = rnd<cplx>(g);
    x.upload();
    dev.execute(x.device_set(), x.device_set());
    host.execute(x.host_set(), x.host_set());
    CHECK(rel_diff(x.points(x.host), x.points(x.download())) < 1e-13);
  }
}

namespace {

// Every stored value of a field, on the host.
template <class T>
std::vector<T> values(const Field<T>& f) {
  const Field<T> h = to_host(f);
  return std::vector<T>(h.data(), h.data() + h.storage_size());
}

template <class TI, class TO>
void distributed_case(std::array<long, 3> n, std::array<TransformKind, 3> kinds, int ncomp, std::mt19937& g) {
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    FftOptions ho;
    ho.effort = FftEffort::Estimate;
    ho.ncomp = ncomp;
    ho.complex_input = std::is_same_v<TI, cplx>;
    FftOptions dopt = ho;
    dopt.space = core::MemorySpace::Device;
    const DistributedTransform hp(grid, n, kinds, ho), dp(grid, n, kinds, dopt);
    REQUIRE(hp.describe() == dp.describe());
    Field<TI> u(hp.input_pencil(), ncomp);
    randomize(u, g);
    Field<TO> uh(hp.output_pencil(), ncomp), uhd(dp.output_pencil(), ncomp, {0, 0, 0}, core::MemorySpace::Device);
    uhd.fill(TO(NAN));
    const Field<TI> ud = to_device(u);
    hp.forward(u, uh);
    dp.forward(ud, uhd);
    // Forward: every output value; backward from the host spectrum: every value, and the device
    // input spectrum unchanged (a C2R must not destroy it).
    INFO(dp.describe() << " on " << shape[0] << " x " << shape[1] << ", " << ncomp << " component(s)");
    const double ef = core::mpi::max(rel_diff(values(uh), values(uhd)), MPI_COMM_WORLD);
    CHECK(ef < 1e-13);
    Field<TI> v(hp.input_pencil(), ncomp), vd(dp.input_pencil(), ncomp, {0, 0, 0}, core::MemorySpace::Device);
    vd.fill(TI(NAN));
    Field<TO> uhd2 = to_device(uh);
    hp.backward(uh, v);
    dp.backward(uhd2, vd);
    const double eb = core::mpi::max(rel_diff(values(v), values(vd)), MPI_COMM_WORLD);
    CHECK(eb < 1e-13);
    CHECK(core::mpi::max(rel_diff(values(uh), values(uhd2)), MPI_COMM_WORLD) == 0.0);
    if constexpr (std::is_same_v<TI, double> && std::is_same_v<TO, cplx>) {
      // The backward transform that may use its input as scratch gives the same values.
      vd.fill(NAN);
      dp.backward_destroying(uhd2, vd);
      CHECK(core::mpi::max(rel_diff(values(v), values(vd)), MPI_COMM_WORLD) < 1e-13);
    }
  }
}

}  // namespace

TEST_CASE("distributed transforms on device fields equal the host transforms, every process grid", "[gpu][fft]") {
  std::mt19937 g(9 + core::mpi::rank());
  using TK = TransformKind;
  const TK F = TK::Fourier;
  distributed_case<double, cplx>({12, 10, 9}, {F, F, F}, 1, g);
  distributed_case<double, cplx>({9, 8, 6}, {F, F, F}, 3, g);
  distributed_case<cplx, cplx>({8, 7, 6}, {F, F, F}, 2, g);
  distributed_case<double, cplx>({10, 6, 8}, {TK::DST1, F, TK::DCT2}, 1, g);
  distributed_case<double, double>({9, 7, 6}, {TK::DCT1, TK::DST2, TK::DCT3}, 2, g);
  distributed_case<double, double>({8, 6, 7}, {TK::DST3, TK::DCT2, TK::DST1}, 1, g);
  distributed_case<cplx, cplx>({7, 6, 8}, {TK::DCT2, F, TK::DST2}, 1, g);
  distributed_case<double, cplx>({16, 12, 1}, {F, F, TK::None}, 1, g);
}

TEST_CASE("a device transform refuses host fields and a host transform device fields", "[gpu][fft]") {
  auto grid = test::make_grid(test::all_grid_shapes().front());
  FftOptions o;
  o.effort = FftEffort::Estimate;
  o.space = core::MemorySpace::Device;
  const DistributedTransform dp(grid, {8, 8, 8}, {TransformKind::Fourier, TransformKind::Fourier, TransformKind::Fourier}, o);
  RealField u(dp.input_pencil());
  ComplexField uh(dp.output_pencil(), 1, {0, 0, 0}, core::MemorySpace::Device);
  CHECK_THROWS_WITH(dp.forward(u, uh), Catch::Contains("input field is in host memory, the plan's in device memory"));
}
