// kron-bench --suite layout: copy bandwidth (the physical reference), transpose bandwidth for
// both transpose methods, and distributed 3D r2c/c2r FFTs against FFTW-MPI on the same data.
#include <fftw3-mpi.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/transpose.hpp"

namespace kron::bench {
namespace {

using layout::Pencil;
using layout::ProcessGrid;
using layout::RealField;
using layout::ComplexField;

// Deterministic test data from the global index, so that kron and FFTW-MPI see the same array.
double value_at(long i, long j, long k) {
  const double x = 0.37 * i + 1.3 * std::sin(0.11 * j) + 0.07 * k * k;
  return std::sin(x) + 0.25 * std::cos(0.5 * i - 0.3 * j + 0.9 * k);
}

std::string cube(long n) { return std::to_string(n) + "^3"; }

layout::ProcessGridPtr auto_grid(long n, MPI_Comm comm) {
  const auto shape = ProcessGrid::choose({n, n, n}, core::mpi::size(comm));
  return std::make_shared<const ProcessGrid>(comm, shape[0], shape[1]);
}

void fill(RealField& f) {
  const auto& b = f.pencil().box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) f(i, j, k) = value_at(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k);
}

void transposes(long n, int reps, double copy_bw, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const std::array<long, 3> g{n, n, n};
  Pencil px(g, grid, 0), py(g, grid, 1), pz(g, grid, 2);
  RealField fx(px), fy(py), fz(pz);
  fill(fx);
  layout::TransposeWork work;
  const double bytes = 2.0 * sizeof(double) * n * n * n;  // every value read once, written once
  std::ostringstream grid_note;
  grid_note << "grid " << grid->p1() << "x" << grid->p2();
  double best[2] = {0, 0};
  for (auto method : {layout::TransposeMethod::Alltoallv, layout::TransposeMethod::Alltoallw}) {
    layout::Transpose<double> xy(px, py, 1, method), yz(py, pz, 1, method), yx(py, px, 1, method);
    struct Case { const char* name; const layout::Transpose<double>* t; const RealField* in; RealField* out; };
    const Case cases[] = {{"x->y", &xy, &fx, &fy}, {"y->z", &yz, &fy, &fz}, {"y->x", &yx, &fy, &fx}};
    for (const Case& c : cases) {
      const Timing t = time_collective([&] { c.t->execute(*c.in, *c.out, &work); }, reps, comm);
      Row r;
      r.name = std::string("transpose ") + c.name + " " + layout::to_string(method);
      r.size = cube(n);
      r.seconds = t.min;
      r.gbytes_per_s = bytes / t.min / 1e9;
      r.fraction_of_copy = bytes / t.min / copy_bw;
      const double off = core::mpi::sum(static_cast<double>(c.t->bytes_moved()), comm);
      std::ostringstream note;
      note << grid_note.str() << ", " << static_cast<int>(std::lround(100.0 * off / (bytes / 2))) << "% off-rank";
      r.note = note.str();
      report.add(r);
      best[method == layout::TransposeMethod::Alltoallw] += t.min;
    }
  }
  auto& e = report.extra()["transpose_" + cube(n)];
  e["alltoallv_total_seconds"] = best[0];
  e["alltoallw_total_seconds"] = best[1];
  e["faster"] = best[0] <= best[1] ? "alltoallv" : "alltoallw";
}

// Sum of |c|^2 over the stored half spectrum: an order-independent fingerprint that must agree
// between kron and FFTW-MPI (both keep x modes 0..n/2).
double energy(const std::complex<double>* c, long count, MPI_Comm comm) {
  double s = 0;
  for (long i = 0; i < count; ++i) s += std::norm(c[i]);
  return core::mpi::sum(s, comm);
}

void ffts(long n, int reps, const std::string& effort, Report& report, MPI_Comm comm) {
  // kron
  auto grid = auto_grid(n, comm);
  layout::FftOptions opt;
  opt.effort = layout::parse_fft_effort(effort);
  const double t_plan0 = MPI_Wtime();
  layout::DistributedTransform fft(grid, {n, n, n}, {layout::TransformKind::Fourier, layout::TransformKind::Fourier,
                                                     layout::TransformKind::Fourier}, opt);
  const double kron_plan = core::mpi::max(MPI_Wtime() - t_plan0, comm);
  RealField u(fft.input_pencil()), back(fft.input_pencil());
  ComplexField uh(fft.output_pencil());
  fill(u);
  const Timing kf = time_collective([&] { fft.forward(u, uh); }, reps, comm);
  const Timing kb = time_collective([&] { fft.backward(uh, back); }, reps, comm);
  const double kron_energy = energy(uh.data(), static_cast<long>(uh.storage_size()), comm);
  double kron_err = 0;
  {
    const double s = fft.normalization();
    const auto& b = u.pencil().box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) kron_err = std::max(kron_err, std::abs(back(i, j, k) * s - u(i, j, k)));
    kron_err = core::mpi::max(kron_err, comm);
  }

  // FFTW-MPI: slabs over z (its first dimension), output left transposed, same planner effort.
  const unsigned flag = effort == "estimate" ? FFTW_ESTIMATE
                        : effort == "patient" ? FFTW_PATIENT
                        : effort == "exhaustive" ? FFTW_EXHAUSTIVE : FFTW_MEASURE;
  const ptrdiff_t nh = n / 2 + 1;
  ptrdiff_t local_n0, local_0_start, local_n1, local_1_start;
  const ptrdiff_t alloc = fftw_mpi_local_size_3d_transposed(n, n, nh, comm, &local_n0, &local_0_start, &local_n1,
                                                            &local_1_start);
  double* in = fftw_alloc_real(2 * alloc);
  double* saved = fftw_alloc_real(2 * alloc);
  fftw_complex* out = fftw_alloc_complex(alloc);
  if (!in || !saved || !out) throw Error("kron-bench: out of memory allocating FFTW-MPI arrays");
  const double t_plan1 = MPI_Wtime();
  fftw_plan pf = fftw_mpi_plan_dft_r2c_3d(n, n, n, in, out, comm, flag | FFTW_MPI_TRANSPOSED_OUT);
  fftw_plan pb = fftw_mpi_plan_dft_c2r_3d(n, n, n, out, in, comm, flag | FFTW_MPI_TRANSPOSED_IN);
  const double fftw_plan_s = core::mpi::max(MPI_Wtime() - t_plan1, comm);
  if (!pf || !pb) throw Error("kron-bench: FFTW-MPI could not create its r2c/c2r plans");
  for (ptrdiff_t k = 0; k < local_n0; ++k)
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < 2 * nh; ++i)
        saved[(k * n + j) * 2 * nh + i] = i < n ? value_at(i, j, local_0_start + k) : 0.0;
  auto restore_in = [&] { std::memcpy(in, saved, sizeof(double) * 2 * alloc); };
  const Timing ff = time_collective([&] { fftw_execute(pf); }, reps, comm, 1, restore_in);
  restore_in();
  fftw_execute(pf);
  const double fftw_energy = energy(reinterpret_cast<std::complex<double>*>(out), local_n1 * n * nh, comm);
  // c2r destroys its input: restore the spectrum before each timed backward transform.
  std::vector<fftw_complex> spectrum(static_cast<std::size_t>(alloc));
  std::memcpy(spectrum.data(), out, sizeof(fftw_complex) * alloc);
  const Timing fb = time_collective([&] { fftw_execute(pb); }, reps, comm, 1,
                                    [&] { std::memcpy(out, spectrum.data(), sizeof(fftw_complex) * alloc); });
  fftw_destroy_plan(pf);
  fftw_destroy_plan(pb);
  fftw_free(in);
  fftw_free(saved);
  fftw_free(out);

  // The timed transforms are checked, so a wrong result cannot pass as a fast one.
  if (!(kron_err <= 1e-12))
    throw Error("kron-bench: kron's c2r(r2c(u)) differs from u by " + std::to_string(kron_err) + " (data are O(1))");
  const double agree = std::abs(kron_energy - fftw_energy) / fftw_energy;
  if (!(agree < 1e-12))
    throw Error("kron-bench: kron and FFTW-MPI spectra differ (relative energy difference " + std::to_string(agree) +
                ")");
  std::ostringstream note;
  note << "grid " << grid->p1() << "x" << grid->p2() << ", spectra agree to " << std::scientific;
  note.precision(1);
  note << agree;
  Row r;
  r.size = cube(n);
  r.baseline = "FFTW-MPI r2c (transp.)";
  r.name = "fft r2c forward";
  r.seconds = kf.min;
  r.baseline_seconds = ff.min;
  r.note = note.str();
  report.add(r);
  r.name = "fft c2r backward";
  r.baseline = "FFTW-MPI c2r (transp.)";
  r.seconds = kb.min;
  r.baseline_seconds = fb.min;
  std::ostringstream note2;
  note2 << "round-trip error " << std::scientific;
  note2.precision(1);
  note2 << kron_err;
  r.note = note2.str();
  report.add(r);

  auto& e = report.extra()["fft_" + cube(n)];
  e["kron_plan_seconds"] = kron_plan;
  e["fftw_mpi_plan_seconds"] = fftw_plan_s;
  e["kron_forward_median_seconds"] = kf.median;
  e["fftw_mpi_forward_median_seconds"] = ff.median;
  e["kron_backward_median_seconds"] = kb.median;
  e["fftw_mpi_backward_median_seconds"] = fb.median;
  e["forward_time_ratio_kron_over_fftw_mpi"] = kf.min / ff.min;
  e["backward_time_ratio_kron_over_fftw_mpi"] = kb.min / fb.min;
  e["spectrum_energy_relative_difference"] = agree;
  e["kron_round_trip_max_error"] = kron_err;
  e["planner_effort"] = effort;
}

}  // namespace

void run_layout_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "layout", {"copy", "transpose", "fft"});
  fftw_mpi_init();
  std::vector<long> sizes = opt.sizes;
  if (sizes.empty()) sizes = opt.quick ? std::vector<long>{24, 32} : std::vector<long>{128, 256};
  const int reps = opt.repeat > 0 ? opt.repeat : (opt.quick ? 2 : 10);

  const std::size_t copy_bytes = opt.quick ? (8u << 20) : (256u << 20);
  const double copy_bw = copy_bandwidth(copy_bytes, comm);
  Row c;
  c.name = "memcpy (all ranks at once)";
  c.size = std::to_string(copy_bytes >> 20) + " MiB";
  c.seconds = core::mpi::sum(static_cast<double>(2 * copy_bytes), comm) / copy_bw;
  c.gbytes_per_s = copy_bw / 1e9;
  c.fraction_of_copy = 1.0;
  c.note = "reference: read+write bytes/s";
  report.add(c);
  report.extra()["copy_bandwidth_gbytes_per_s"] = copy_bw / 1e9;

  for (long n : sizes) {
    if (opt.wants("transpose")) {
      core::log::info("layout suite: transposes ", cube(n));
      transposes(n, reps, copy_bw, report, comm);
    }
    if (opt.wants("fft")) {
      core::log::info("layout suite: FFTs ", cube(n), " (planning with effort ", opt.effort, ")");
      ffts(n, reps, opt.effort, report, comm);
    }
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
  fftw_mpi_cleanup();
}

}  // namespace kron::bench
