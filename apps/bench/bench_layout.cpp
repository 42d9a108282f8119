// kron-bench --suite layout: the copy reference, transposes (both methods, against a pre-packed
// MPI_Alltoall of the same bytes and the copy reference), and distributed 3D r2c/c2r FFTs against
// FFTW-MPI at its best (FFTW_DESTROY_INPUT; in-place and out-of-place, the faster reported),
// interleaved round by round and cross-checked mode by mode.
#include <fftw3-mpi.h>

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/transpose.hpp"

namespace kron::bench {
namespace {

using layout::ComplexField;
using layout::Pencil;
using layout::ProcessGrid;
using layout::RealField;
using cplx = std::complex<double>;

// Deterministic test data from the global index, so that kron and FFTW-MPI see the same array.
double value_at(long i, long j, long k) {
  const double x = 0.37 * i + 1.3 * std::sin(0.11 * j) + 0.07 * k * k;
  return std::sin(x) + 0.25 * std::cos(0.5 * i - 0.3 * j + 0.9 * k);
}

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

// Transposes: both kron methods, the copy reference and a pre-packed MPI_Alltoall over the same
// communicator with the same bytes (the exchange alone, no packing), in the same rounds.
void transposes(long n, int rounds, const Options& opt, CopyReference& copy, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const std::array<long, 3> g{n, n, n};
  Pencil px(g, grid, 0), py(g, grid, 1), pz(g, grid, 2);
  RealField fx(px), fy(py), fz(pz);
  fill(fx);
  layout::TransposeWork work;
  const double bytes = 2.0 * sizeof(double) * double(n) * n * n;  // every value read once, written once
  const std::string grid_note = "grid " + std::to_string(grid->p1()) + "x" + std::to_string(grid->p2());
  struct Case {
    const char* name;
    const Pencil* from;
    const Pencil* to;
    RealField* in;
    RealField* out;
    MPI_Comm sub;
  };
  const Case cases[] = {{"x->y", &px, &py, &fx, &fy, grid->comm1()},
                        {"y->z", &py, &pz, &fy, &fz, grid->comm2()},
                        {"y->x", &py, &px, &fy, &fx, grid->comm1()}};
  for (const Case& c : cases) {
    layout::Transpose<double> tv(*c.from, *c.to, 1, layout::TransposeMethod::Alltoallv);
    layout::Transpose<double> tw(*c.from, *c.to, 1, layout::TransposeMethod::Alltoallw);
    const int P = core::mpi::size(c.sub);
    const long per_peer = (c.from->local_size() + P - 1) / P;
    std::vector<double> sb(std::size_t(per_peer) * P, 1.0), rb(sb.size());
    const auto s = interleave(
        {{"alltoallv", [&] { tv.execute(*c.in, *c.out, &work); }, {}},
         {"alltoallw", [&] { tw.execute(*c.in, *c.out, &work); }, {}},
         {"MPI_Alltoall", [&] { core::mpi::check(MPI_Alltoall(sb.data(), int(per_peer), MPI_DOUBLE, rb.data(), int(per_peer), MPI_DOUBLE, c.sub), "MPI_Alltoall"); }, {}},
         copy.contender()},
        rounds, comm);
    // Both methods moved every value to its place, bit for bit (each checked after its own run).
    for (auto* t : {&tv, &tw}) {
      c.out->fill(-1.0);
      t->execute(*c.in, *c.out, &work);
      if (opt.injects("transpose") && c.out->local_points() > 0) c.out->data()[c.out->storage_size() / 2] += 1e-12;
      const auto& b = c.out->pencil().box();
      long long wrong = 0;
      for (long k = 0; k < b.n[2]; ++k)
        for (long j = 0; j < b.n[1]; ++j)
          for (long i = 0; i < b.n[0]; ++i) wrong += (*c.out)(i, j, k) != value_at(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k);
      wrong = core::mpi::sum(wrong, comm);
      if (wrong)
        throw Error("transpose " + std::string(c.name) + " " + layout::to_string(t->method()) + " misplaced " +
                    std::to_string(wrong) + " values");
    }
    const double off = core::mpi::sum(static_cast<double>(tv.bytes_moved()), comm);
    for (int m = 0; m < 2; ++m) {
      Row r = baseline_row(std::string("transpose ") + c.name + (m == 0 ? " alltoallv" : " alltoallw"), cube(n), s[m], "MPI_Alltoall same bytes", s[2]);
      r.bytes = bytes;
      r.copy = s[3];
      r.copy_bytes = copy.bytes();
      r.note = grid_note + ", " + std::to_string(std::lround(100.0 * off / (bytes / 2))) +
               "% of the data off-rank; baseline: the exchange alone (pre-packed contiguous buffers, " +
               std::to_string(P) + " ranks per exchange)";
      report.add(r);
    }
  }
}

// A fixed sample of modes (or points) to cross-check: corners, Nyquist planes and random ones.
std::vector<std::array<long, 3>> sample(const std::array<long, 3>& shape, std::size_t count, unsigned seed) {
  std::vector<std::array<long, 3>> s;
  for (long i : {0L, shape[0] - 1})
    for (long j : {0L, shape[1] / 2, shape[1] - 1})
      for (long k : {0L, shape[2] / 2, shape[2] - 1}) s.push_back({i, j, k});
  std::mt19937 rng(seed);
  for (std::size_t q = 0; q < count; ++q)
    s.push_back({long(rng() % shape[0]), long(rng() % shape[1]), long(rng() % shape[2])});
  return s;
}

// The sampled values of a distributed array, on every rank: each owner contributes its values.
template <class Lookup>
std::vector<cplx> sampled(const std::vector<std::array<long, 3>>& pts, Lookup&& lookup, MPI_Comm comm) {
  std::vector<cplx> v(pts.size(), cplx(0, 0));
  for (std::size_t q = 0; q < pts.size(); ++q) lookup(pts[q], v[q]);
  std::vector<cplx> all(v.size());
  core::mpi::check(MPI_Allreduce(v.data(), all.data(), int(v.size()), MPI_C_DOUBLE_COMPLEX, MPI_SUM, comm), "MPI_Allreduce");
  return all;
}

double max_diff(const std::vector<cplx>& a, const std::vector<cplx>& b) {
  double m = 0;
  for (std::size_t q = 0; q < a.size(); ++q) m = std::max(m, std::abs(a[q] - b[q]));
  return m;
}

void ffts(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  const std::string& effort = opt.effort;
  auto grid = auto_grid(n, comm);
  layout::FftOptions fo;
  fo.effort = layout::parse_fft_effort(effort);
  double t0 = MPI_Wtime();
  layout::DistributedTransform fft(grid, {n, n, n}, {layout::TransformKind::Fourier, layout::TransformKind::Fourier,
                                                     layout::TransformKind::Fourier}, fo);
  const double kron_plan = core::mpi::max(MPI_Wtime() - t0, comm);
  RealField u(fft.input_pencil()), back(fft.input_pencil());
  ComplexField uh(fft.output_pencil());
  fill(u);

  // FFTW-MPI: slabs over z (its first dimension), output left transposed (as kron leaves its
  // output in the last pencil), input destroyable (restored, untimed, before every round).
  const unsigned flag = (effort == "estimate" ? FFTW_ESTIMATE
                         : effort == "patient" ? FFTW_PATIENT
                         : effort == "exhaustive" ? FFTW_EXHAUSTIVE : FFTW_MEASURE) | FFTW_DESTROY_INPUT;
  const ptrdiff_t nh = n / 2 + 1;
  ptrdiff_t ln0, l0s, ln1, l1s;
  const ptrdiff_t alloc = fftw_mpi_local_size_3d_transposed(n, n, nh, comm, &ln0, &l0s, &ln1, &l1s);
  double* rin = fftw_alloc_real(2 * alloc);        // out-of-place real side (padded rows)
  fftw_complex* cout = fftw_alloc_complex(alloc);  // out-of-place complex side
  fftw_complex* ip = fftw_alloc_complex(alloc);    // in-place buffer
  double* saved = fftw_alloc_real(2 * alloc);
  fftw_complex* spectrum = fftw_alloc_complex(alloc);
  if (!rin || !cout || !ip || !saved || !spectrum) throw Error("out of memory allocating FFTW-MPI arrays");
  t0 = MPI_Wtime();
  fftw_plan f_oop = fftw_mpi_plan_dft_r2c_3d(n, n, n, rin, cout, comm, flag | FFTW_MPI_TRANSPOSED_OUT);
  fftw_plan b_oop = fftw_mpi_plan_dft_c2r_3d(n, n, n, cout, rin, comm, flag | FFTW_MPI_TRANSPOSED_IN);
  fftw_plan f_ip = fftw_mpi_plan_dft_r2c_3d(n, n, n, reinterpret_cast<double*>(ip), ip, comm, flag | FFTW_MPI_TRANSPOSED_OUT);
  fftw_plan b_ip = fftw_mpi_plan_dft_c2r_3d(n, n, n, ip, reinterpret_cast<double*>(ip), comm, flag | FFTW_MPI_TRANSPOSED_IN);
  const double fftw_plan_s = core::mpi::max(MPI_Wtime() - t0, comm);
  if (!f_oop || !b_oop || !f_ip || !b_ip) throw Error("FFTW-MPI could not create its r2c/c2r plans");
  for (ptrdiff_t k = 0; k < ln0; ++k)
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < 2 * nh; ++i) saved[(k * n + j) * 2 * nh + i] = i < n ? value_at(i, j, l0s + k) : 0.0;
  const std::size_t real_bytes = sizeof(double) * 2 * alloc, cplx_bytes = sizeof(fftw_complex) * alloc;
  auto restore_real = [&](double* dst) { std::memcpy(dst, saved, real_bytes); };
  std::memcpy(rin, saved, real_bytes);
  fftw_execute(f_oop);
  std::memcpy(spectrum, cout, cplx_bytes);

  const auto sf = interleave({{"kron", [&] { fft.forward(u, uh); }, {}},
                              {"fftw-mpi out-of-place", [&] { fftw_execute(f_oop); }, [&] { restore_real(rin); }},
                              {"fftw-mpi in-place", [&] { fftw_execute(f_ip); }, [&] { restore_real(reinterpret_cast<double*>(ip)); }}},
                             rounds, comm);
  const auto sb = interleave({{"kron", [&] { fft.backward(uh, back); }, {}},
                              {"fftw-mpi out-of-place", [&] { fftw_execute(b_oop); }, [&] { std::memcpy(cout, spectrum, cplx_bytes); }},
                              {"fftw-mpi in-place", [&] { fftw_execute(b_ip); }, [&] { std::memcpy(ip, spectrum, cplx_bytes); }}},
                             rounds, comm);

  // Cross-check, mode by mode: kron's spectrum against FFTW-MPI's at sampled modes, and kron's
  // c2r against FFTW-MPI's at sampled points. An FFT's error in any one mode is bounded by
  // c eps log2(N) ||U||_2 = c eps log2(N) sqrt(N) ||u||_2 (Higham, "Accuracy and Stability", 24.1).
  fft.forward(u, uh);
  fft.backward(uh, back);
  std::memcpy(rin, saved, real_bytes);
  fftw_execute(f_oop);
  std::memcpy(spectrum, cout, cplx_bytes);
  fftw_execute(b_oop);  // rin = FFTW-MPI's c2r of its own spectrum
  double u2 = 0;
  for (std::size_t q = 0; q < u.storage_size(); ++q) u2 += u.data()[q] * u.data()[q];
  const double unorm = std::sqrt(core::mpi::sum(u2, comm));
  const std::array<long, 3> hshape{nh, n, n};
  const auto modes = sample(hshape, 2000, 17);
  const auto& ob = uh.pencil().box();
  if (opt.injects("fft")) {
    // A wrong result the check must catch: one sampled mode off by 1e-6 ||u||_2.
    const auto& m = modes[20];
    bool mine = true;
    for (int a = 0; a < 3; ++a) mine = mine && m[a] >= ob.lo[a] && m[a] < ob.lo[a] + ob.n[a];
    if (mine) uh(m[0] - ob.lo[0], m[1] - ob.lo[1], m[2] - ob.lo[2]) += 1e-6 * unorm;
  }
  const auto k_modes = sampled(modes, [&](const std::array<long, 3>& m, cplx& v) {
    for (int a = 0; a < 3; ++a) if (m[a] < ob.lo[a] || m[a] >= ob.lo[a] + ob.n[a]) return;
    v = uh(m[0] - ob.lo[0], m[1] - ob.lo[1], m[2] - ob.lo[2]);
  }, comm);
  const auto f_modes = sampled(modes, [&](const std::array<long, 3>& m, cplx& v) {
    if (m[1] < l1s || m[1] >= l1s + ln1) return;
    const fftw_complex& c = spectrum[((m[1] - l1s) * n + m[2]) * nh + m[0]];
    v = cplx(c[0], c[1]);
  }, comm);
  const auto pts = sample({n, n, n}, 2000, 23);
  const auto& ib = back.pencil().box();
  const auto k_pts = sampled(pts, [&](const std::array<long, 3>& p, cplx& v) {
    for (int a = 0; a < 3; ++a) if (p[a] < ib.lo[a] || p[a] >= ib.lo[a] + ib.n[a]) return;
    v = back(p[0] - ib.lo[0], p[1] - ib.lo[1], p[2] - ib.lo[2]);
  }, comm);
  const auto f_pts = sampled(pts, [&](const std::array<long, 3>& p, cplx& v) {
    if (p[2] < l0s || p[2] >= l0s + ln0) return;
    v = rin[((p[2] - l0s) * n + p[1]) * 2 * nh + p[0]];
  }, comm);
  const double N = double(n) * n * n, eps = 2.220446049250313e-16;
  const double bound_fwd = 8 * eps * std::log2(N) * std::sqrt(N) * unorm;
  const double bound_bwd = 8 * eps * std::log2(N) * N * unorm;  // c2r of U: ||.||_2 = N ||u||_2
  const double e_fwd = max_diff(k_modes, f_modes), e_bwd = max_diff(k_pts, f_pts);

  fftw_destroy_plan(f_oop);
  fftw_destroy_plan(b_oop);
  fftw_destroy_plan(f_ip);
  fftw_destroy_plan(b_ip);
  for (void* p : {static_cast<void*>(rin), static_cast<void*>(cout), static_cast<void*>(ip), static_cast<void*>(saved),
                  static_cast<void*>(spectrum)})
    fftw_free(p);

  if (!(e_fwd <= bound_fwd))
    throw Error("kron's r2c spectrum differs from FFTW-MPI's by " + sci(e_fwd) + " at a sampled mode (bound " +
                sci(bound_fwd) + ")");
  if (!(e_bwd <= bound_bwd))
    throw Error("kron's c2r output differs from FFTW-MPI's by " + sci(e_bwd) + " at a sampled point (bound " +
                sci(bound_bwd) + ")");

  const char* names[] = {"out-of-place", "in-place"};
  for (int dir = 0; dir < 2; ++dir) {
    const auto& s = dir == 0 ? sf : sb;
    const int best = s[1].median <= s[2].median ? 1 : 2;
    Row r = baseline_row(dir == 0 ? "fft r2c forward" : "fft c2r backward", cube(n), s[0], std::string("FFTW-MPI ") + (dir == 0 ? "r2c" : "c2r") + " " + names[best - 1], s[best]);
    r.note = "grid " + std::to_string(grid->p1()) + "x" + std::to_string(grid->p2()) + ", effort " + effort +
             "; kron plan: " + fft.describe() + "; FFTW-MPI " + names[2 - best] + " " + fixed(s[3 - best].median * 1e3, 2) +
             " ms; " + std::to_string(modes.size()) + (dir == 0 ? " modes" : " points") + " agree to " +
             sci(dir == 0 ? e_fwd : e_bwd) + " (bound " + sci(dir == 0 ? bound_fwd : bound_bwd) + ")";
    r.details["kron_plan"] = fft.describe();
    r.details["kron_plan_seconds"] = kron_plan;
    r.details["fftw_mpi_plan_seconds_all_four"] = fftw_plan_s;
    r.details["fftw_mpi_flags"] = "FFTW_" + std::string(effort == "estimate" ? "ESTIMATE" : effort == "patient" ? "PATIENT"
                                                         : effort == "exhaustive" ? "EXHAUSTIVE" : "MEASURE") +
                                  " | FFTW_DESTROY_INPUT | FFTW_MPI_TRANSPOSED_" + (dir == 0 ? "OUT" : "IN");
    r.details["fftw_mpi_out_of_place"] = s[1].json();
    r.details["fftw_mpi_in_place"] = s[2].json();
    r.details["max_sampled_difference"] = dir == 0 ? e_fwd : e_bwd;
    r.details["difference_bound"] = dir == 0 ? bound_fwd : bound_bwd;
    report.add(r);
  }
}

}  // namespace

void run_layout_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "layout", {"copy", "transpose", "fft"});
  fftw_mpi_init();
  std::vector<long> sizes = opt.sizes;
  if (sizes.empty()) sizes = opt.quick ? std::vector<long>{24, 32} : std::vector<long>{128, 256};
  const int rounds = opt.rounds(20);
  CopyReference copy(comm, opt.quick);
  add_copy_reference(copy, rounds, report, comm);
  for (long n : sizes) {
    if (opt.wants("transpose")) {
      core::log::info("layout suite: transposes ", cube(n), ", ", rounds, " rounds");
      transposes(n, rounds, opt, copy, report, comm);
    }
    if (opt.wants("fft")) {
      core::log::info("layout suite: FFTs ", cube(n), " (planning with effort ", opt.effort, "), ", rounds, " rounds");
      ffts(n, rounds, opt, report, comm);
    }
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
  fftw_mpi_cleanup();
}

}  // namespace kron::bench
