#include <fftw3.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "common.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/gather.hpp"

using namespace kron;
using namespace kron::layout;
using cplx = std::complex<double>;
using K = TransformKind;

namespace {

double value(long i, long j, long k, int c) { return std::sin(1.3 * i + 0.7 * j * j + 2.1 * k + c) + 0.1 * (i % 3) - 0.05 * j; }

struct Ref {
  bool cplx_out = false;
  std::array<long, 3> n{};
  std::vector<cplx> data;  // global array, x fastest (real results stored with zero imaginary part)
};

fftw_r2r_kind r2r_of(K k) {
  switch (k) {
    case K::DCT1: return FFTW_REDFT00;
    case K::DCT2: return FFTW_REDFT10;
    case K::DCT3: return FFTW_REDFT01;
    case K::DST1: return FFTW_RODFT00;
    case K::DST2: return FFTW_RODFT10;
    default: return FFTW_RODFT01;
  }
}

// Serial FFTW on the whole array. Uniform kinds use FFTW's own multidimensional planners
// (an independent path from kron's per-axis plans); mixed kinds apply every r2r axis first,
// then the Fourier axes, unlike kron's x, y, z order.
Ref reference(const std::vector<double>& u, const std::array<long, 3>& n, const std::array<K, 3>& kinds) {
  Ref r;
  r.n = n;
  const int nx = int(n[0]), ny = int(n[1]), nz = int(n[2]);
  const long N = n[0] * n[1] * n[2];
  bool all_fourier = true, all_same_r2r = true, any_fourier = false;
  for (int a = 0; a < 3; ++a) {
    const bool trivial = kinds[a] == K::None || (kinds[a] == K::Fourier && n[a] == 1);
    all_fourier = all_fourier && (kinds[a] == K::Fourier || trivial);
    any_fourier = any_fourier || (kinds[a] == K::Fourier && n[a] > 1);
    all_same_r2r = all_same_r2r && kinds[a] != K::Fourier && kinds[a] != K::None;
  }
  std::vector<double> w(u);
  if (all_fourier && kinds[0] == K::Fourier) {
    r.cplx_out = true;
    r.n[0] = n[0] / 2 + 1;
    std::vector<cplx> out(static_cast<std::size_t>(r.n[0] * n[1] * n[2]));
    fftw_plan p = fftw_plan_dft_r2c_3d(nz, ny, nx, w.data(), reinterpret_cast<fftw_complex*>(out.data()), FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    r.data = out;
    return r;
  }
  if (all_same_r2r) {
    std::vector<double> out(static_cast<std::size_t>(N));
    fftw_plan p = fftw_plan_r2r_3d(nz, ny, nx, w.data(), out.data(), r2r_of(kinds[2]), r2r_of(kinds[1]), r2r_of(kinds[0]), FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    r.data.assign(out.begin(), out.end());
    return r;
  }
  // Mixed: r2r axes first, on real data.
  const std::array<long, 3> s{1, n[0], n[0] * n[1]};
  for (int a = 0; a < 3; ++a) {
    if (kinds[a] == K::Fourier || kinds[a] == K::None) continue;
    fftw_iodim64 d{n[a], s[a], s[a]};
    std::vector<fftw_iodim64> how;
    for (int b = 0; b < 3; ++b) if (b != a) how.push_back({n[b], s[b], s[b]});
    fftw_r2r_kind kk = r2r_of(kinds[a]);
    fftw_plan p = fftw_plan_guru64_r2r(1, &d, 2, how.data(), w.data(), w.data(), &kk, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
  }
  if (!any_fourier) {
    r.data.assign(w.begin(), w.end());
    return r;
  }
  // Then the Fourier axes: r2c on the first, c2c on the others.
  int first = -1;
  for (int a = 0; a < 3; ++a) if (kinds[a] == K::Fourier && n[a] > 1 && first < 0) first = a;
  r.cplx_out = true;
  r.n[first] = n[first] / 2 + 1;
  const std::array<long, 3> so{1, r.n[0], r.n[0] * r.n[1]};
  std::vector<cplx> out(static_cast<std::size_t>(r.n[0] * r.n[1] * r.n[2]));
  {
    fftw_iodim64 d{n[first], s[first], so[first]};
    std::vector<fftw_iodim64> how;
    for (int b = 0; b < 3; ++b) if (b != first) how.push_back({n[b], s[b], so[b]});
    fftw_plan p = fftw_plan_guru64_dft_r2c(1, &d, 2, how.data(), w.data(), reinterpret_cast<fftw_complex*>(out.data()), FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
  }
  for (int a = first + 1; a < 3; ++a) {
    if (kinds[a] != K::Fourier || n[a] == 1) continue;
    fftw_iodim64 d{r.n[a], so[a], so[a]};
    std::vector<fftw_iodim64> how;
    for (int b = 0; b < 3; ++b) if (b != a) how.push_back({r.n[b], so[b], so[b]});
    auto* o = reinterpret_cast<fftw_complex*>(out.data());
    fftw_plan p = fftw_plan_guru64_dft(1, &d, 2, how.data(), o, o, FFTW_FORWARD, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
  }
  r.data = out;
  return r;
}

template <class T>
double rel_err(const std::vector<T>& got, const Ref& ref) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.data.size(); ++i) {
    num = std::max(num, std::abs(cplx(got[i]) - ref.data[i]));
    den = std::max(den, std::abs(ref.data[i]));
  }
  return num / den;
}

// Runs the distributed transform of the test field and compares with serial FFTW on rank 0;
// returns the (rank-reduced) worst relative errors of forward and of the round trip.
std::array<double, 2> check_transform(const std::array<long, 3>& n, const std::array<K, 3>& kinds, std::array<int, 2> shape, int ncomp,
                                      TransposeMethod method = TransposeMethod::Alltoallv, FftEffort effort = FftEffort::Estimate) {
  auto grid = test::make_grid(shape);
  FftOptions opt;
  opt.effort = effort;
  opt.ncomp = ncomp;
  opt.transpose = method;
  DistributedTransform plan(grid, n, kinds, opt);
  RealField u(plan.input_pencil(), ncomp), back(plan.input_pencil(), ncomp);
  const Box& b = u.pencil().box();
  for (int c = 0; c < ncomp; ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) u(i, j, k, c) = value(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c);
  double fwd_err = 0, rt_err = 0;
  const bool root = core::mpi::rank() == 0;
  // The whole input array of component c, x fastest, for the serial FFTW reference.
  auto global_values = [&](int c) {
    std::vector<double> g(static_cast<std::size_t>(n[0] * n[1] * n[2]));
    for (long k = 0; k < n[2]; ++k)
      for (long j = 0; j < n[1]; ++j)
        for (long i = 0; i < n[0]; ++i) g[i + n[0] * (j + n[1] * k)] = value(i, j, k, c);
    return g;
  };
  if (plan.output_complex()) {
    ComplexField uh(plan.output_pencil(), ncomp);
    plan.forward(u, uh);
    for (int c = 0; c < ncomp; ++c) {
      const auto got = gather(uh, c);
      bool shape_ok = true;
      if (root) {
        const Ref ref = reference(global_values(c), n, kinds);
        shape_ok = ref.cplx_out && ref.n == plan.output_pencil().global();
        if (shape_ok) fwd_err = std::max(fwd_err, rel_err(got, ref));
      }
      // Decided on rank 0, asserted on every rank (a failure there must not strand the others).
      REQUIRE(test::from_root(shape_ok));
    }
    plan.backward(uh, back);
  } else {
    RealField uh(plan.output_pencil(), ncomp);
    plan.forward(u, uh);
    for (int c = 0; c < ncomp; ++c) {
      const auto got = gather(uh, c);
      bool real_ok = true;
      if (root) {
        const Ref ref = reference(global_values(c), n, kinds);
        real_ok = !ref.cplx_out;
        if (real_ok) fwd_err = std::max(fwd_err, rel_err(got, ref));
      }
      REQUIRE(test::from_root(real_ok));
    }
    plan.backward(uh, back);
  }
  double local = 0, scale = 0;
  for (int c = 0; c < ncomp; ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          local = std::max(local, std::abs(back(i, j, k, c) * plan.normalization() - u(i, j, k, c)));
          scale = std::max(scale, std::abs(u(i, j, k, c)));
        }
  rt_err = core::mpi::max(local, MPI_COMM_WORLD) / core::mpi::max(scale, MPI_COMM_WORLD);
  return {test::from_root(fwd_err), rt_err};
}

std::string name_of(const std::array<long, 3>& n, const std::array<K, 3>& k, std::array<int, 2> s) {
  return std::to_string(n[0]) + "x" + std::to_string(n[1]) + "x" + std::to_string(n[2]) + " [" + to_string(k[0]) + "," +
         to_string(k[1]) + "," + to_string(k[2]) + "] on " + std::to_string(s[0]) + "x" + std::to_string(s[1]);
}

}  // namespace

TEST_CASE("r2c FFT in 3D, 2D and 1D matches serial FFTW for every process grid", "[fft]") {
  const std::vector<std::array<long, 3>> sizes = {{17, 10, 9}, {16, 12, 8}, {12, 10, 1}, {20, 1, 1}, {3, 2, 5}};
  for (const auto& n : sizes)
    for (const auto& shape : test::all_grid_shapes()) {
      const std::array<K, 3> kinds{K::Fourier, n[1] > 1 ? K::Fourier : K::None, n[2] > 1 ? K::Fourier : K::None};
      const auto e = check_transform(n, kinds, shape, 1);
      INFO(name_of(n, kinds, shape));
      CHECK(e[0] <= 1e-13);
      CHECK(e[1] <= 1e-13);
    }
}

TEST_CASE("measured plans (as benchmarks and decks use by default) match serial FFTW", "[fft]") {
  // FFTW_MEASURE picks other algorithms than FFTW_ESTIMATE (and kron other panel plans); the
  // benchmark sizes themselves are cross-checked mode by mode by kron-bench on every run.
  for (const auto& shape : test::all_grid_shapes())
    for (const auto& n : std::vector<std::array<long, 3>>{{64, 48, 40}, {30, 36, 42}}) {
      const std::array<K, 3> kinds{K::Fourier, K::Fourier, K::Fourier};
      const auto e = check_transform(n, kinds, shape, 1, TransposeMethod::Alltoallv, FftEffort::Measure);
      INFO(name_of(n, kinds, shape) << " (measured plans)");
      CHECK(e[0] <= 1e-13);
      CHECK(e[1] <= 1e-13);
      const auto d = check_transform(n, {K::DST1, K::DCT2, K::Fourier}, shape, 2, TransposeMethod::Alltoallv, FftEffort::Measure);
      CHECK(d[0] <= 1e-13);
      CHECK(d[1] <= 1e-13);
    }
}

TEST_CASE("DCT-I/II/III and DST-I/II/III on every axis match serial FFTW", "[fft]") {
  for (K k : {K::DCT1, K::DCT2, K::DCT3, K::DST1, K::DST2, K::DST3})
    for (const auto& shape : test::all_grid_shapes()) {
      const std::array<long, 3> n{9, 8, 7};
      const auto e = check_transform(n, {k, k, k}, shape, 1);
      INFO(name_of(n, {k, k, k}, shape));
      CHECK(e[0] <= 1e-13);
      CHECK(e[1] <= 1e-13);
    }
}

TEST_CASE("mixed per-axis transforms (periodic, Dirichlet, Neumann) match serial FFTW", "[fft]") {
  const std::vector<std::array<K, 3>> mixes = {{K::Fourier, K::DST1, K::DCT2},
                                               {K::DST2, K::Fourier, K::DCT1},
                                               {K::DCT3, K::DST3, K::Fourier},
                                               {K::None, K::Fourier, K::DST2},
                                               {K::DCT2, K::DST1, K::None}};
  for (const auto& kinds : mixes)
    for (const auto& shape : test::all_grid_shapes())
      for (int ncomp : {1, 2}) {
        const std::array<long, 3> n{10, 9, 6};
        const auto e = check_transform(n, kinds, shape, ncomp, ncomp == 2 ? TransposeMethod::Alltoallw : TransposeMethod::Alltoallv);
        INFO(name_of(n, kinds, shape) << ", " << ncomp << " components");
        CHECK(e[0] <= 1e-13);
        CHECK(e[1] <= 1e-13);
      }
}

TEST_CASE("complex-input c2c FFT matches serial FFTW and round-trips", "[fft]") {
  const std::array<long, 3> n{9, 10, 7};
  for (const auto& shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    FftOptions opt;
    opt.effort = FftEffort::Estimate;
    opt.complex_input = true;
    DistributedTransform plan(grid, n, {K::Fourier, K::Fourier, K::Fourier}, opt);
    ComplexField u(plan.input_pencil()), uh(plan.output_pencil()), back(plan.input_pencil());
    const Box& b = u.pencil().box();
    auto val = [](long i, long j, long k) { return cplx(value(i, j, k, 0), value(k, i, j, 1)); };
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) u(i, j, k) = val(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k);
    plan.forward(u, uh);
    const auto got = gather(uh);
    double err = 0;
    if (core::mpi::rank() == 0) {
      std::vector<cplx> in(static_cast<std::size_t>(n[0] * n[1] * n[2])), out(in.size());
      for (long k = 0; k < n[2]; ++k)
        for (long j = 0; j < n[1]; ++j)
          for (long i = 0; i < n[0]; ++i) in[i + n[0] * (j + n[1] * k)] = val(i, j, k);
      fftw_plan p = fftw_plan_dft_3d(int(n[2]), int(n[1]), int(n[0]), reinterpret_cast<fftw_complex*>(in.data()),
                                     reinterpret_cast<fftw_complex*>(out.data()), FFTW_FORWARD, FFTW_ESTIMATE);
      fftw_execute(p);
      fftw_destroy_plan(p);
      Ref r;
      r.data = out;
      err = rel_err(got, r);
    }
    CHECK(test::from_root(err) <= 1e-13);
    plan.backward(uh, back);
    double rt = 0;
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) rt = std::max(rt, std::abs(back(i, j, k) * plan.normalization() - u(i, j, k)));
    CHECK(core::mpi::max(rt, MPI_COMM_WORLD) <= 1e-13);
  }
}

TEST_CASE("transform plans document their output pencil and reject mismatched fields", "[fft]") {
  const int np = core::mpi::size();
  auto grid = test::make_grid({np, 1});
  DistributedTransform plan(grid, {8, 8, 8}, {K::Fourier, K::Fourier, K::Fourier}, {FftEffort::Estimate});
  CHECK(plan.output_pencil().axis() == (np == 1 ? 0 : 1));  // slabs end in the y-pencil
  CHECK(plan.output_pencil().global() == std::array<long, 3>{5, 8, 8});
  CHECK(plan.normalization() == Approx(1.0 / 512));
  RealField wrong(plan.input_pencil().with_axis(2));
  ComplexField out(plan.output_pencil());
  CHECK_THROWS_WITH(plan.forward(wrong, out), Catch::Contains("does not match the plan"));
  CHECK_THROWS_WITH(DistributedTransform(grid, {1, 4, 4}, {K::DCT1, K::None, K::None}), Catch::Contains("DCT-I needs at least 2"));
}

TEST_CASE("backward_destroying gives backward's values and refuses a real-to-real plan", "[fft]") {
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    DistributedTransform plan(grid, {9, 6, 5}, {K::Fourier, K::Fourier, K::Fourier}, {FftEffort::Estimate});
    RealField u(plan.input_pencil()), a(plan.input_pencil()), b(plan.input_pencil());
    const auto& bx = u.pencil().box();
    for (long k = 0; k < bx.n[2]; ++k)
      for (long j = 0; j < bx.n[1]; ++j)
        for (long i = 0; i < bx.n[0]; ++i) u(i, j, k) = std::sin(1.3 * double(bx.lo[0] + i) + 0.7 * double(bx.lo[1] + j) * double(bx.lo[2] + k));
    ComplexField uh(plan.output_pencil());
    plan.forward(u, uh);
    plan.backward(uh, a);
    plan.backward_destroying(uh, b);
    double d = 0;
    for (long k = 0; k < bx.n[2]; ++k)
      for (long j = 0; j < bx.n[1]; ++j)
        for (long i = 0; i < bx.n[0]; ++i) d = std::max(d, std::abs(a(i, j, k) - b(i, j, k)));
    CHECK(core::mpi::max(d, MPI_COMM_WORLD) == 0.0);
  }
  auto grid = test::make_grid({core::mpi::size(), 1});
  DistributedTransform r2r(grid, {8, 8, 8}, {K::DCT2, K::DST1, K::None}, {FftEffort::Estimate});
  ComplexField c(r2r.output_pencil());
  RealField r(r2r.input_pencil());
  CHECK_THROWS_WITH(r2r.backward_destroying(c, r), Catch::Contains("does not fit this plan"));
}
