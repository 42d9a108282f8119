// kron-bench --suite gpu: kron's device executors on one GPU, each figure beside its floor (a
// device-to-device copy timed in the same rounds) or its peer (cuFFT; the same solve on this
// machine's CPU), each result checked against an exact answer:
//  - copy:      the floor, cudaMemcpy device to device of a field (read + write counted);
//  - cufft:     cuFFT's 3D r2c + c2r of the grid (the periodic Poisson solve's peer);
//  - fft:       kron's distributed r2c (DistributedTransform on a device field) vs cuFFT's 3D r2c
//               of an array of the same size; the round trip checked;
//  - lineop:    fd2 d2/dx2 and compact-6 d/dx along x, y, z of an x-pencil field (16 B a point);
//  - laplacian: the fd2 Laplacian as three accumulated line sweeps, and as KroneckerSum's fused
//               stencil kernel over a halo field (halo exchange included); floor: 16 B a point;
//  - dense_x:   a 512 x 512 dense operator along x (one cuBLAS GEMM);
//  - poisson_periodic:  fd2 periodic fast-diagonalization solve (FastDiagonalization's spectral
//               device path) vs cuFFT r2c + c2r;
//  - poisson_dirichlet: fd2 (DST-I) and compact-6 (dense eigenvectors) Dirichlet solves, device
//               time to solution vs the same solve on the CPU of this machine;
//  - adi:       one Douglas ADI step of the heat equation (fd2, Dirichlet data that move in
//               time, a source), device vs the same step on this machine's CPU.
//  - monarch:   a batch of vectors (65536; --quick 1024) times a Monarch matrix of n = 1024 and
//               4096 (sqrt(n) blocks, the paper's) on the device (nn::MonarchMap: two block-dense
//               LineOps, the permutation a view) vs cuBLAS's DGEMM of the same matrix formed
//               densely (kron's dense LineOp, one GEMM); fp64; the outputs must agree. Then the
//               fused kernel (nn::FusedMonarch) in fp64, fp32 and bf16 on CUDA cores, and in
//               fp32 (three tf32 products) and bf16 on tensor cores, against cuBLAS's DGEMM,
//               SGEMM (strict fp32) and bf16 GEMM (fp32 accumulation), all timed in the same
//               rounds and checked against the fp64 product.
//  - fno:       training steps (forward, relative L2 loss, backward, Adam) of the paper's Darcy FNO
//               (85^2, width 32, batch 20), samples/s against the PyTorch reference's recorded
//               3,846 (fp32 on an H200); the loss on the fixed batch must fall.
#include <cmath>
#include <map>
#include <memory>
#include <tuple>
#include <cstdio>

#include "bench.hpp"
#include "bench_gpu_cufft.hpp"
#include "bench_gpu_gemm.hpp"
#include "kron/core/device.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/halo.hpp"
#include "kron/linops/adi.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/linops/line_op.hpp"
#include "kron/nn/fused_monarch.hpp"
#include "kron/nn/structured.hpp"

namespace kron::bench {
namespace {

using layout::AxisGrid;
using layout::Pencil;
using layout::RealField;
constexpr auto Dev = core::MemorySpace::Device;

// Max |a - exact| over the interior points at least `skip` points from every face.
template <class F>
double max_error(const RealField& a_dev, const std::array<AxisGrid, 3>& ax, long skip, F exact) {
  const RealField a = layout::to_host(a_dev);
  const auto& b = a.pencil().box();
  const auto& n = a.pencil().global();
  double e = 0;
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        bool in = true;
        for (int d = 0; d < 3; ++d) in = in && g[d] >= skip && g[d] < n[d] - skip;
        if (in) e = std::max(e, std::abs(a(i, j, k) - exact(ax[0][g[0]], ax[1][g[1]], ax[2][g[2]])));
      }
  return core::mpi::max(e, a.pencil().grid().comm());
}

// The floor: a device copy of `bytes` (read + written: 2 bytes counted per byte).
struct DeviceCopy {
  core::DeviceBytes a, b;
  explicit DeviceCopy(std::size_t bytes) : a(bytes), b(bytes) {
    core::fill_device_bytes(a.data(), 0, bytes);
    core::fill_device_bytes(b.data(), 0, bytes);
  }
  Contender contender() {
    return {"device copy", [this] {
              core::copy_on_device(b.data(), a.data(), a.bytes());
              core::device_synchronize();
            }, {}};
  }
  double counted() const { return 2.0 * double(a.bytes()); }
};

Row bandwidth_row(const std::string& name, long n, const Stats& k, const Stats& c, double bytes, double copy_bytes,
                  const std::string& note) {
  Row r;
  r.name = name;
  r.size = cube(n);
  r.kron = k;
  r.bytes = bytes;
  r.copy = c;
  r.copy_bytes = copy_bytes;
  r.note = note;
  return r;
}

void lineops(long n, int rounds, const Options& opt, DeviceCopy& copy, Report& report, MPI_Comm comm) {
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, 1, 1);
  const AxisGrid per = AxisGrid::periodic(n, 0, 2 * M_PI), uni = AxisGrid::uniform(n, 0, 1);
  const double N = double(n) * n * n;
  struct Op {
    const char* name;
    linops::Scheme s;
    int d;
    AxisGrid axis;
    double tol;  // the error bound the result must meet
  };
  const double h = 2 * M_PI / double(n);
  const Op ops[] = {{"fd2 d2/d", linops::Scheme::FD2, 2, per, h * h / 6},  // truncation h^2/12 for sin(x)
                    {"compact6 d/d", linops::Scheme::Compact6, 1, uni, 1e-7 + 2e3 / std::pow(double(n), 4)}};
  for (const Op& o : ops) {
    if (!opt.wants("lineop")) break;
    const std::array<AxisGrid, 3> ax{o.axis, o.axis, o.axis};
    const auto op = linops::LineOp<double>::real(linops::derivative(o.axis, o.s, o.d));
    const Pencil px({n, n, n}, grid, 0);
    for (int a = 0; a < 3; ++a) {
      const double w = o.s == linops::Scheme::FD2 ? 1.0 : 2.0;  // sin(w x_a): periodic on [0, 2 pi), smooth on [0, 1]
      RealField h(px);
      fill(h, ax, [&](double x, double y, double z) { const double c[3] = {x, y, z}; return std::sin(w * c[a]); });
      RealField f = layout::to_device(h), out(px, 1, {0, 0, 0}, Dev);
      const auto li = linops::lines_along(f, a);
      const auto lo = linops::lines_along(out, a);
      const auto s = interleave({{"kron", [&] { op.apply(li, lo); core::device_synchronize(); }, {}}, copy.contender()}, rounds, comm);
      const double err = max_error(out, ax, 0, [&](double x, double y, double z) {
        const double c[3] = {x, y, z};
        return o.d == 2 ? -w * w * std::sin(w * c[a]) : w * std::cos(w * c[a]);
      });
      if (!(err <= o.tol))
        throw Error(std::string(o.name) + "xyz"[a] + " on the device: error " + sci(err) + " above its bound " + sci(o.tol));
      report.add(bandwidth_row(std::string(o.name) + "xyz"[a], n, s[0], s[1], 16.0 * N, copy.counted(),
                               std::string(a == 0 ? "lines contiguous" : "lines interleaved") + "; max error " + sci(err)));
    }
  }
  if (opt.wants("laplacian")) {
    const std::array<AxisGrid, 3> ax{per, per, per};
    const auto d2 = linops::LineOp<double>::real(linops::derivative(per, linops::Scheme::FD2, 2));
    const Pencil px({n, n, n}, grid, 0);
    RealField h(px);
    fill(h, ax, [](double x, double y, double z) { return std::sin(x) * std::sin(2 * y) * std::cos(z); });
    RealField f = layout::to_device(h), out(px, 1, {0, 0, 0}, Dev);
    const auto s = interleave({{"kron", [&] {
                                  for (int a = 0; a < 3; ++a) d2.apply(linops::lines_along(f, a), linops::lines_along(out, a), linops::Trans::N, a > 0);
                                  core::device_synchronize();
                                }, {}},
                               copy.contender()},
                              rounds, comm);
    const double err = max_error(out, ax, 0, [](double x, double y, double z) { return -6 * std::sin(x) * std::sin(2 * y) * std::cos(z); });
    // Truncation error (h^2 / 12)(1 + 16 + 1) = 1.5 h^2 at most, h = 2 pi / n.
    const double hh = 2 * M_PI / double(n);
    if (!(err <= 2.0 * hh * hh)) throw Error("fd2 Laplacian on the device: error " + sci(err) + " above 2 h^2");
    report.add(bandwidth_row("fd2 Laplacian (3 sweeps)", n, s[0], s[1], 16.0 * N, copy.counted(),
                             "floor: 16 B a point (a fused 7-point kernel); three sweeps move 64; max error " + sci(err)));
    // The same operator as one fused stencil kernel over a halo field (KroneckerSum's device
    // path; the periodic halo exchange is part of each apply).
    const std::array<linops::Operator1D, 3> ops{linops::derivative(per, linops::Scheme::FD2, 2), linops::derivative(per, linops::Scheme::FD2, 2),
                                                linops::derivative(per, linops::Scheme::FD2, 2)};
    linops::KroneckerSum L(grid, ops, 0.0, {true, true, true}, Dev);
    RealField hf(px, 1, L.halo());
    fill(hf, ax, [](double x, double y, double z) { return std::sin(x) * std::sin(2 * y) * std::cos(z); });
    RealField fh = layout::to_device(hf);
    const auto s2 = interleave({{"kron", [&] { L.apply_with_halo(fh, out); core::device_synchronize(); }, {}}, copy.contender()}, rounds, comm);
    const double err2 = max_error(out, ax, 0, [](double x, double y, double z) { return -6 * std::sin(x) * std::sin(2 * y) * std::cos(z); });
    if (!(err2 <= 2.0 * hh * hh)) throw Error("fd2 Laplacian stencil on the device: error " + sci(err2) + " above 2 h^2");
    report.add(bandwidth_row("fd2 Laplacian (stencil kernel)", n, s2[0], s2[1], 16.0 * N, copy.counted(),
                             "KroneckerSum " + L.describe() + ", halo exchange included; max error " + sci(err2)));
    // Its halo exchange alone (the periodic wrap: six faces copied on the device).
    layout::HaloExchange<double> ex(px, L.halo(), {true, true, true});
    const auto s3 = interleave({{"kron", [&] { ex.execute(fh); core::device_synchronize(); }, {}}, copy.contender()}, rounds, comm);
    const double face = 2.0 * 8.0 * double(n) * n * 3;  // six faces of n^2 points, read + written
    report.add(bandwidth_row("  its halo exchange alone", n, s3[0], s3[1], face, copy.counted(), "six faces of the periodic wrap, device box copies"));
  }
  if (opt.wants("dense_x")) {
    const long m = n;
    std::vector<double> A(static_cast<std::size_t>(m * m));
    for (long i = 0; i < m; ++i)
      for (long j = 0; j < m; ++j) A[static_cast<std::size_t>(i * m + j)] = std::cos(0.37 * double(i) + 0.11 * double(j * j % 97));
    const auto op = linops::LineOp<double>::dense(m, m, A);
    const Pencil px({n, n, n}, grid, 0);
    RealField h(px);
    h.fill(1.0);
    RealField f = layout::to_device(h), out(px, 1, {0, 0, 0}, Dev);
    const auto s = interleave({{"kron", [&] { op.apply(linops::lines_along(f, 0), linops::lines_along(out, 0)); core::device_synchronize(); }, {}},
                               copy.contender()},
                              rounds, comm);
    // Every line is all ones: out_i = the row sums of A.
    const RealField o = layout::to_host(out);
    double err = 0;
    for (long i = 0; i < m; ++i) {
      double rs = 0;
      for (long j = 0; j < m; ++j) rs += A[static_cast<std::size_t>(i * m + j)];
      err = std::max({err, std::abs(o(i, 0, 0) - rs), std::abs(o(i, n - 1, n - 1) - rs)});
    }
    if (!(err <= 1e-10)) throw Error("dense operator on the device: error " + sci(err));
    Row r = bandwidth_row("dense " + std::to_string(m) + "x" + std::to_string(m) + " along x", n, s[0], s[1], 16.0 * N, copy.counted(),
                          "one cuBLAS DGEMM; " + fixed(2.0 * m * N / s[0].median / 1e12, 1) + " TFLOP/s; max error " + sci(err));
    report.add(r);
  }
}

// kron's distributed r2c transform of a device field against cuFFT's 3D r2c; the round
// trip must give the field back.
void distributed_fft(long n, int rounds, Report& report, MPI_Comm comm) {
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, 1, 1);
  layout::FftOptions o;
  o.space = Dev;
  const layout::TransformKind F = layout::TransformKind::Fourier;
  const layout::DistributedTransform plan(grid, {n, n, n}, {F, F, F}, o);
  const AxisGrid per = AxisGrid::periodic(n, 0, 2 * M_PI);
  const std::array<AxisGrid, 3> ax{per, per, per};
  auto u_ex = [](double x, double y, double z) { return std::sin(x) * std::cos(3 * y) * std::sin(2 * z) + 0.5; };
  RealField h(plan.input_pencil());
  fill(h, ax, u_ex);
  RealField u = layout::to_device(h), v(plan.input_pencil(), 1, {0, 0, 0}, Dev);
  layout::ComplexField uh(plan.output_pencil(), 1, {0, 0, 0}, Dev);
  CufftR2C fft(n, n, n);
  // The forward r2c transform alone against cuFFT's on an array of the same size.
  const auto s = interleave({{"kron", [&] { plan.forward(u, uh); core::device_synchronize(); }, {}},
                             {"cuFFT r2c", [&] { fft.forward(); core::device_synchronize(); }, {}}},
                            rounds, comm);
  plan.backward(uh, v);
  layout::ops::scale(plan.normalization(), v);
  const double err = max_error(v, ax, 0, u_ex);
  if (!(err <= 1e-12)) throw Error("distributed FFT round trip on the device: error " + sci(err));
  Row r = baseline_row("distributed r2c (forward)", cube(n), s[0], "cuFFT r2c", s[1]);
  r.note = plan.describe() + "; round-trip error " + sci(err) + "; time / cuFFT " + fixed(s[0].median / s[1].median, 2) + " (target <= 1.1)";
  r.details["ratio_to_cufft"] = s[0].median / s[1].median;
  r.details["max_error"] = err;
  report.add(r);
}

void poisson(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, 1, 1);
  using linops::BoundaryKind;
  using linops::Scheme;
  if (opt.wants("poisson_periodic")) {
    const AxisGrid per = AxisGrid::periodic(n, 0, 2 * M_PI);
    const std::array<AxisGrid, 3> ax{per, per, per};
    linops::FastPoissonOptions o;
    o.space = Dev;
    linops::FastPoisson fp(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2}, {BoundaryKind::Periodic, BoundaryKind::Periodic, BoundaryKind::Periodic},
                           0.0, o);
    // u = sin x sin 2y cos z is an eigenvector of the discrete operator: f = lambda u exactly.
    const double h = 2 * M_PI / double(n);
    auto lam = [h](double k) { return (2 * std::cos(k * h) - 2) / (h * h); };
    const double L = lam(1) + lam(2) + lam(1);
    auto u_ex = [](double x, double y, double z) { return std::sin(x) * std::sin(2 * y) * std::cos(z); };
    const Pencil px({n, n, n}, grid, 0);
    RealField fh(px);
    fill(fh, ax, [&](double x, double y, double z) { return L * u_ex(x, y, z); });
    RealField f = layout::to_device(fh), u(px, 1, {0, 0, 0}, Dev);
    CufftR2C fft(n, n, n);
    const auto zero = [](int, int, const std::array<double, 3>&) { return 0.0; };
    const auto s = interleave({{"kron", [&] { fp.solve(f, zero, u); core::device_synchronize(); }, {}},
                               {"cuFFT r2c + c2r", [&] { fft.forward(); fft.inverse(); core::device_synchronize(); }, {}}},
                              rounds, comm);
    const double err = max_error(u, ax, 0, u_ex);
    if (!(err <= 1e-10)) throw Error("periodic Poisson on the device: error " + sci(err) + " against the discrete solution");
    Row r = baseline_row("Poisson fd2 periodic", cube(n), s[0], "cuFFT r2c+c2r", s[1]);
    r.note = "spectral path: one cuFFT r2c/c2r plan each way around the division; error against the discrete solution " + sci(err) + "; time / cuFFT " +
             fixed(s[0].median / s[1].median, 2) + " (target <= 1.3)";
    r.details["ratio_to_cufft"] = s[0].median / s[1].median;
    r.details["max_error"] = err;
    report.add(r);
  }
  if (opt.wants("poisson_dirichlet")) {
    const AxisGrid uni = AxisGrid::uniform(n, 0, 1);
    const std::array<AxisGrid, 3> ax{uni, uni, uni};
    auto u_ex = [](double x, double y, double z) { return std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z) + x * y + z; };
    auto lap = [](double x, double y, double z) { return -6 * M_PI * M_PI * std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z); };
    const linops::BoundaryData g = [&](int, int, const std::array<double, 3>& X) { return u_ex(X[0], X[1], X[2]); };
    const Pencil px({n, n, n}, grid, 0);
    RealField fh(px);
    fill(fh, ax, lap);
    for (Scheme sc : {Scheme::FD2, Scheme::Compact6}) {
      const std::array<BoundaryKind, 3> D{BoundaryKind::Dirichlet, BoundaryKind::Dirichlet, BoundaryKind::Dirichlet};
      linops::FastPoissonOptions od;
      od.space = Dev;
      linops::FastPoisson dev(grid, ax, {sc, sc, sc}, D, 0.0, od), host(grid, ax, {sc, sc, sc}, D, 0.0);
      RealField f = layout::to_device(fh), u(px, 1, {0, 0, 0}, Dev), uh(px);
      const int r_cpu = opt.repeat > 0 ? opt.repeat : 3;
      const auto s = interleave({{"kron cuda", [&] { dev.solve(f, g, u); core::device_synchronize(); }, {}},
                                 {"kron cpu", [&] { host.solve(fh, g, uh); }, {}}},
                                std::min(rounds, r_cpu), comm);
      const double err = max_error(u, ax, 0, u_ex), err_cpu = max_error(layout::to_device(uh), ax, 0, u_ex);
      const double tol = sc == Scheme::FD2 ? 20.0 / (double(n) * n) : 1e-6;
      if (!(err <= tol) || std::abs(err - err_cpu) > 1e-9 * std::max(1.0, err))
        throw Error(std::string("Dirichlet Poisson on the device (") + to_string(sc) + "): error " + sci(err) + ", on the CPU " + sci(err_cpu));
      Row r = baseline_row(std::string("Poisson ") + to_string(sc) + " Dirichlet", cube(n), s[0], "same solve, CPU", s[1]);
      r.note = dev.describe() + "; error " + sci(err) + " (CPU " + sci(err_cpu) + ")";
      r.details["max_error"] = err;
      r.details["max_error_cpu"] = err_cpu;
      report.add(r);
    }
  }
}

// One ADI step of u_t = nu Laplace(u) + f on the device and on the host from the same u^n: the
// steps must agree (and both stay near the exact solution u = exp(-3 pi^2 nu t) sin sin sin + t xyz).
void adi(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, 1, 1);
  using linops::BoundaryKind;
  using linops::Scheme;
  const AxisGrid uni = AxisGrid::uniform(n, 0, 1);
  const std::array<AxisGrid, 3> ax{uni, uni, uni};
  const double nu = 0.1, dt = 1e-3;
  auto u_ex = [nu](double t, double x, double y, double z) {
    return std::exp(-3 * M_PI * M_PI * nu * t) * std::sin(M_PI * x) * std::sin(M_PI * y) * std::sin(M_PI * z) + t * x * y * z;
  };
  // The fills copy fields evaluated once per (kind, time, memory space) and kept, so that the
  // timed step is the solver's, not the host's evaluation of sines at n^3 points.
  std::map<std::tuple<int, double, bool>, RealField> kept;
  auto fill_at = [&](int kind, double t, RealField& f, auto fn) {
    auto key = std::make_tuple(kind, t, f.on_device());
    auto it = kept.find(key);
    if (it == kept.end()) {
      RealField h(f.pencil(), f.components());
      fill(h, ax, [&](double x, double y, double z) { return fn(t, x, y, z); });
      it = kept.emplace(key, f.on_device() ? layout::to_device(h) : std::move(h)).first;
    }
    layout::ops::copy(it->second, f);
  };
  // f = u_t - nu Laplace(u) = x y z for the exact solution above.
  const linops::Adi::Fill source = [&](double t, RealField& f) { fill_at(0, t, f, [](double, double x, double y, double z) { return x * y * z; }); };
  const linops::Adi::Fill boundary = [&](double t, RealField& f) { fill_at(1, t, f, u_ex); };
  const std::array<Scheme, 3> s{Scheme::FD2, Scheme::FD2, Scheme::FD2};
  const std::array<BoundaryKind, 3> D{BoundaryKind::Dirichlet, BoundaryKind::Dirichlet, BoundaryKind::Dirichlet};
  linops::Adi dev(grid, ax, s, D, nu, dt, Dev), host(grid, ax, s, D, nu, dt);
  dev.set_device_fills(true);  // the kept fields are copied device to device
  const Pencil px({n, n, n}, grid, 0);
  RealField u0(px);
  fill(u0, ax, [&](double x, double y, double z) { return u_ex(0, x, y, z); });
  RealField ud = layout::to_device(u0), uh(px);
  layout::ops::copy(u0, uh);
  const int r_cpu = opt.repeat > 0 ? opt.repeat : 3;
  // Each round steps from u^0 again, so the checked result is one step.
  const auto st = interleave({{"kron cuda", [&] { core::copy_to_device(ud.data(), u0.data(), u0.storage_size() * sizeof(double));
                                                  dev.step(ud, 0.0, source, boundary); core::device_synchronize(); }, {}},
                              {"kron cpu", [&] { layout::ops::copy(u0, uh); host.step(uh, 0.0, source, boundary); }, {}}},
                             std::min(rounds, r_cpu), comm);
  const RealField back = layout::to_host(ud);
  double diff = 0, err = 0;
  const auto& b = px.box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        diff = std::max(diff, std::abs(back(i, j, k) - uh(i, j, k)));
        err = std::max(err, std::abs(back(i, j, k) - u_ex(dt, ax[0][i], ax[1][j], ax[2][k])));
      }
  if (!(diff <= 1e-12) || !(err <= 1e-4)) throw Error("ADI step on the device: " + sci(diff) + " from the CPU step, error " + sci(err));
  Row r = baseline_row("ADI step fd2 Dirichlet", cube(n), st[0], "same step, CPU", st[1]);
  r.note = dev.describe() + "; source and boundary fields evaluated once, kept in each memory space and copied in by the fills; |GPU - CPU| " + sci(diff) + ", error " + sci(err);
  r.details["max_error"] = err;
  r.details["gpu_cpu_difference"] = diff;
  report.add(r);
}

// A batch of vectors times a Monarch matrix on the device against the dense GEMM of the same
// matrix (cuBLAS through kron's dense LineOp).
void monarch(const Options& opt, DeviceCopy& copy, Report& report, MPI_Comm comm) {
  const long batch = opt.quick ? 1024 : 65536;
  const int rounds = opt.rounds(opt.quick ? 3 : 10);
  for (long n : opt.quick ? std::vector<long>{256} : std::vector<long>{1024, 4096}) {
    const long nb = static_cast<long>(std::llround(std::sqrt(double(n))));
    nn::Rng rng(3);
    nn::MonarchMap<double> M(n, n, nb, rng);
    const auto A = M.matrix();
    nn::DenseMap<double> D(A);
    M.to(Dev);
    D.to(Dev);
    std::vector<double> xh(static_cast<std::size_t>(n * batch));
    for (auto& v : xh) v = rng.normal();
    nn::Array<double> x(Dev), y(Dev), yd(Dev);
    x.assign(xh.data(), xh.size());
    y.resize(xh.size());
    yd.resize(xh.size());
    core::log::info("gpu suite: Monarch (", nb, " blocks) vs cuBLAS DGEMM, n = ", n, ", batch ", batch, ", ", rounds, " rounds");
    const auto s = interleave({{"kron", [&] { M.forward(x.data(), y.data(), batch, 1); core::device_synchronize(); }, {}},
                               {"cuBLAS DGEMM", [&] { D.forward(x.data(), yd.data(), batch, 1); core::device_synchronize(); }, {}},
                               copy.contender()},
                              rounds, comm);
    // The first and last 256 samples of both.
    const long k = std::min(batch, 256L) * n;
    std::vector<double> a(static_cast<std::size_t>(2 * k)), b(a.size());
    for (int part = 0; part < 2; ++part) {
      const long off = part == 0 ? 0 : n * batch - k;
      core::copy_to_host(a.data() + part * k, y.data() + off, sizeof(double) * static_cast<std::size_t>(k));
      core::copy_to_host(b.data() + part * k, yd.data() + off, sizeof(double) * static_cast<std::size_t>(k));
    }
    if (opt.injects("monarch")) a[static_cast<std::size_t>(n / 2)] += 1e-6;
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      diff = std::max(diff, std::abs(a[i] - b[i]));
      scale = std::max(scale, std::abs(b[i]));
    }
    const double rel = diff / scale;
    if (!(rel <= 1e-12)) throw Error("the Monarch multiply on the device and cuBLAS's GEMM of its matrix differ by " + sci(rel));
    Row r = baseline_row("monarch (" + std::to_string(nb) + " blocks) multiply, fp64", "n = " + std::to_string(n) + ", batch " + std::to_string(batch), s[0],
                         "cuBLAS DGEMM", s[1]);
    const double dense = 2.0 * double(n) * double(n) * double(batch), bytes = 4.0 * 8.0 * double(n) * double(batch);
    r.note = fixed(dense / (M.flops() * double(batch)), 1) + "x fewer flops; kron at " + fixed(M.flops() * double(batch) / s[0].median * 1e-12, 2) +
             " TFLOP/s and " + fixed(bytes / s[0].median * 1e-9, 0) + " GB/s (x, h, y: 4 passes; the device copy's " +
             fixed(copy.counted() / s[2].median * 1e-9, 0) + "), the GEMM at " + fixed(dense / s[1].median * 1e-12, 1) +
             " TFLOP/s; outputs agree to " + sci(rel);
    r.details["relative_difference"] = rel;
    r.details["flop_ratio"] = dense / (M.flops() * double(batch));
    r.details["kron_gb_per_s"] = bytes / s[0].median * 1e-9;
    report.add(r);

    // The fused kernel in fp64, fp32 and bf16 against cuBLAS's GEMM of the same matrix in the same
    // precision; both compared with the fp64 product above on the same samples.
    std::vector<double> wh(static_cast<std::size_t>(n * n));
    for (long o = 0; o < n; ++o)
      for (long i = 0; i < n; ++i) wh[static_cast<std::size_t>(o * n + i)] = A(o, i);
    core::DeviceBuffer<double> wd(wh.size());
    core::copy_to_device(wd.data(), wh.data(), wh.size() * sizeof(double));
    const long len = n * batch;
    // max |v - b| / max |b| over the compared samples, v on the device in precision p (widened into y).
    auto error_of = [&](const void* v, nn::Precision p) {
      nn::FusedMonarch::widen(v, y.data(), len, p);
      core::stream_synchronize();
      for (int part = 0; part < 2; ++part)
        core::copy_to_host(a.data() + part * k, y.data() + (part == 0 ? 0 : len - k), sizeof(double) * static_cast<std::size_t>(k));
      double d = 0;
      for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
      return d / scale;
    };
    for (const auto p : {nn::Precision::FP64, nn::Precision::FP32, nn::Precision::BF16}) {
      const std::size_t eb = nn::element_bytes(p);
      core::DeviceBytes xp(static_cast<std::size_t>(len) * eb), yf(xp.bytes()), yt(xp.bytes()), yg(xp.bytes()), wp(wh.size() * eb);
      nn::FusedMonarch::narrow(x.data(), xp.data(), len, p);
      nn::FusedMonarch::narrow(wd.data(), wp.data(), n * n, p);
      // Both kernels where the tensor cores take the shape (fp32 and bf16), timed in the same rounds
      // as the GEMM: the CUDA-core kernel is the previous build's path, side by side.
      nn::FusedMonarch F(M, p, 0, nn::MonarchKernel::cuda_cores);
      std::unique_ptr<nn::FusedMonarch> T;
      if (p != nn::Precision::FP64) T = std::make_unique<nn::FusedMonarch>(M, p, 0, nn::MonarchKernel::tensor_cores);
      const std::string gemm = p == nn::Precision::FP64 ? "cuBLAS DGEMM" : p == nn::Precision::FP32 ? "cuBLAS SGEMM" : "cuBLAS bf16 GEMM (fp32 accumulation)";
      core::log::info("gpu suite: fused Monarch (", nb, " blocks) on CUDA cores (", F.tile(), " samples a thread block)", T ? " and on tensor cores (" : "",
                      T ? std::to_string(T->tile()) + " samples)" : std::string(), " vs ", gemm, ", ", nn::to_string(p), ", n = ", n, ", batch ", batch);
      std::vector<Contender> cs{{"kron fused", [&] { F.forward(xp.data(), yf.data(), batch); core::device_synchronize(); }, {}},
                                {gemm, [&] { device_gemm(p, wp.data(), xp.data(), yg.data(), n, batch); core::device_synchronize(); }, {}},
                                copy.contender()};
      if (T) cs.push_back({"kron fused, tensor cores", [&] { T->forward(xp.data(), yt.data(), batch); core::device_synchronize(); }, {}});
      const auto t = interleave(cs, rounds, comm);
      const double eg = error_of(yg.data(), p);
      const double tol = p == nn::Precision::FP64 ? 1e-12 : p == nn::Precision::FP32 ? 1e-5 : 5e-2;
      const double io = 2.0 * double(eb) * double(len);
      auto row = [&](const nn::FusedMonarch& K, const Stats& st, void* yk) {
        const double ef = error_of(yk, p);
        if (!(ef <= tol))
          throw Error("the fused Monarch multiply on " + nn::to_string(K.kernel()) + " in " + nn::to_string(p) + " is " + sci(ef) +
                      " from the fp64 product (allowed " + sci(tol) + ")");
        const bool tc = K.kernel() == nn::MonarchKernel::tensor_cores;
        Row f = baseline_row("monarch fused (" + std::to_string(nb) + " blocks) multiply, " + nn::to_string(p) + (tc ? ", tensor cores" : ""),
                             "n = " + std::to_string(n) + ", batch " + std::to_string(batch), st, gemm, t[1]);
        f.note = std::string(tc ? (p == nn::Precision::FP32 ? "tensor cores, three tf32 products a product; " : "tensor cores; ") : "CUDA cores; ") +
                 "one kernel, " + std::to_string(K.tile()) + " samples a thread block; " + fixed(M.flops() * double(batch) / st.median * 1e-12, 2) +
                 " TFLOP/s, " + fixed(io / st.median * 1e-9, 0) + " GB/s of x and y (the device copy's " + fixed(copy.counted() / t[2].median * 1e-9, 0) +
                 "); the GEMM at " + fixed(dense / t[1].median * 1e-12, 1) + " TFLOP/s; from the fp64 product: fused " + sci(ef) + ", GEMM " + sci(eg);
        f.details["relative_error"] = ef;
        f.details["gemm_relative_error"] = eg;
        f.details["kron_tflops"] = M.flops() * double(batch) / st.median * 1e-12;
        f.details["kron_gb_per_s"] = io / st.median * 1e-9;
        f.details["tile"] = double(K.tile());
        report.add(f);
      };
      row(F, t[0], yf.data());
      if (T) row(*T, t[3], yt.data());
    }
  }
}

}  // namespace

void run_gpu_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "gpu", {"copy", "cufft", "fft", "lineop", "laplacian", "dense_x", "poisson_periodic", "poisson_dirichlet", "adi", "monarch", "fno"});
  if (!core::cuda_enabled()) throw Error("the gpu suite needs the CUDA build of kron", {"command line", 0, {}});
  if (core::mpi::size(comm) != 1)
    throw Error("the gpu suite measures one GPU: run it on one rank", {"command line", 0, {}}, "mpirun -n 1 kron-bench --suite gpu");
  if (core::cuda_device_count() == 0) throw Error("the gpu suite needs a GPU, and none is visible", {"command line", 0, {}});
  core::select_device(comm);
  core::log::info("gpu suite: ", core::device_summary());
  const long n = !opt.sizes.empty() ? opt.sizes.front() : opt.quick ? 32 : 512;
  const int rounds = opt.rounds(20);
  DeviceCopy copy(static_cast<std::size_t>(n * n * n) * sizeof(double));
  if (opt.wants("copy")) {
    const auto s = interleave({copy.contender()}, rounds, comm, 2);
    report.add(bandwidth_row("device copy (floor)", n, s[0], s[0], copy.counted(), copy.counted(), "cudaMemcpy device to device"));
  }
  if (opt.wants("cufft")) {
    CufftR2C fft(n, n, n);
    const auto s = interleave({{"cuFFT", [&] { fft.forward(); fft.inverse(); core::device_synchronize(); }, {}}}, rounds, comm);
    Row r;
    r.name = "cuFFT r2c + c2r (peer)";
    r.size = cube(n);
    r.kron = s[0];
    r.note = "cuFFT's 3D real transform pair, the periodic solve's peer";
    report.add(r);
  }
  if (opt.wants("fft")) distributed_fft(n, rounds, report, comm);
  lineops(n, rounds, opt, copy, report, comm);
  poisson(n, rounds, opt, report, comm);
  if (opt.wants("adi")) adi(n, rounds, opt, report, comm);
  if (opt.wants("monarch")) monarch(opt, copy, report, comm);
  if (opt.wants("fno")) fno_training(opt, Dev, report, comm);
}

}  // namespace kron::bench
