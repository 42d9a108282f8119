// kron-bench --suite linops: matrix-free operators and solvers against the structured and the
// assembled baselines, interleaved round by round on the same data, each result cross-checked:
//  - laplacian:   fd2 Laplacian (KroneckerSum stencil sweep) vs PETSc MatMult of the assembled
//                 7-point AIJ; time and memory (operator and work storage counted);
//  - compact:     compact-6 d/dx, d/dy, d/dz against the copy reference; order checked on two grids;
//  - dst1:        kron's DST-I (a real FFT of length m+1) vs FFTW's RODFT00 on the same lines;
//  - poisson_fftw: fast-diagonalization Dirichlet Poisson solve vs a 3D RODFT00 solve through
//                 FFTW-MPI (forward, divide, backward);
//  - poisson_amg: time to solution (setup included) vs PETSc CG + GAMG and CG + hypre BoomerAMG
//                 on the assembled system, tuned options (logged; '--' passes more).
#include <fftw3-mpi.h>
#include <petscksp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <sstream>

#include "bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/line_op.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::bench {
namespace {

using layout::AxisGrid;
using layout::Pencil;
using layout::RealField;
using linops::petsc::check;

layout::ProcessGridPtr auto_grid(long n, MPI_Comm comm) {
  const auto shape = layout::ProcessGrid::choose({n, n, n}, core::mpi::size(comm));
  return std::make_shared<const layout::ProcessGrid>(comm, shape[0], shape[1]);
}

double u_exact(double x, double y, double z) { return std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z) + x * y + z; }
double lap_exact(double x, double y, double z) { return -6 * M_PI * M_PI * std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z); }

std::array<AxisGrid, 3> unit_cube(long n) { return {AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)}; }

// PETSc rows are owned rank by rank in x-pencil storage order: the row of global point (i,j,k).
class Rows {
 public:
  Rows(const Pencil& px, MPI_Comm comm) {
    const int P = core::mpi::size(comm);
    long mine[6] = {px.box().lo[0], px.box().lo[1], px.box().lo[2], px.box().n[0], px.box().n[1], px.box().n[2]};
    box_.resize(6 * P);
    MPI_Allgather(mine, 6, MPI_LONG, box_.data(), 6, MPI_LONG, comm);
    long off = 0;
    for (int r = 0; r < P; ++r) {
      offset_.push_back(off);
      off += box_[6 * r + 3] * box_[6 * r + 4] * box_[6 * r + 5];
    }
  }
  PetscInt operator()(long i, long j, long k) const {
    for (std::size_t r = 0; r < offset_.size(); ++r) {
      const long* b = &box_[6 * r];
      if (i >= b[0] && i < b[0] + b[3] && j >= b[1] && j < b[1] + b[4] && k >= b[2] && k < b[2] + b[5])
        return static_cast<PetscInt>(offset_[r] + ((k - b[2]) * b[4] + (j - b[1])) * b[3] + (i - b[0]));
    }
    throw Error("grid point outside every rank's box");
  }

 private:
  std::vector<long> box_, offset_;
};

// The Kronecker sum of the banded 1D operators `ops` as an MPIAIJ matrix. `dirichlet`: boundary
// rows become identity rows and interior rows are negated (-Laplace, SPD) with boundary columns
// left out, i.e. the system CG solves; otherwise every row of the operator as it stands.
Mat assemble(const Pencil& px, const std::array<linops::Operator1D, 3>& ops, bool dirichlet, MPI_Comm comm) {
  const Rows rows(px, comm);
  const auto& b = px.box();
  const std::array<long, 3> n = px.global();
  Mat A;
  // Closure rows of fd2 reach 4 points per axis: up to 10 entries on corners.
  check(MatCreateAIJ(comm, b.volume(), b.volume(), PETSC_DETERMINE, PETSC_DETERMINE, 12, nullptr, 6, nullptr, &A), "MatCreateAIJ");
  check(MatSetOption(A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE), "MatSetOption");
  std::vector<PetscInt> cols;
  std::vector<PetscScalar> vals;
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const std::array<long, 3> g{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        const PetscInt row = rows(g[0], g[1], g[2]);
        bool bnd = false;
        for (int a = 0; a < 3; ++a) bnd = bnd || g[a] == 0 || g[a] == n[a] - 1;
        cols.clear();
        vals.clear();
        if (dirichlet && bnd) {
          cols.push_back(row);
          vals.push_back(1.0);
        } else {
          double diag = 0;
          for (int a = 0; a < 3; ++a) {
            const linops::Banded& B = ops[a].terms()[0].b;
            for (int t = 0; t < B.width(); ++t) {
              const double c = B.diag[t][g[a]];
              if (c == 0.0) continue;
              std::array<long, 3> q = g;
              q[a] += t - B.kl;
              if (q[a] == g[a]) { diag += c; continue; }
              if (dirichlet && (q[a] == 0 || q[a] == n[a] - 1)) continue;
              cols.push_back(rows(q[0], q[1], q[2]));
              vals.push_back(dirichlet ? -c : c);
            }
          }
          cols.push_back(row);
          vals.push_back(dirichlet ? -diag : diag);
        }
        check(MatSetValues(A, 1, &row, static_cast<PetscInt>(cols.size()), cols.data(), vals.data(), INSERT_VALUES), "MatSetValues");
      }
  check(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY), "MatAssemblyBegin");
  check(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY), "MatAssemblyEnd");
  return A;
}

void to_vec(const RealField& f, Vec v) {
  PetscScalar* p;
  check(VecGetArray(v, &p), "VecGetArray");
  std::copy(f.data(), f.data() + f.storage_size(), p);
  check(VecRestoreArray(v, &p), "VecRestoreArray");
}
void from_vec(Vec v, RealField& f) {
  const PetscScalar* p;
  check(VecGetArrayRead(v, &p), "VecGetArrayRead");
  std::copy(p, p + f.storage_size(), f.data());
  check(VecRestoreArrayRead(v, &p), "VecRestoreArrayRead");
}
double max_abs(const RealField& f, MPI_Comm comm) {
  double m = 0;
  for (std::size_t q = 0; q < f.storage_size(); ++q) m = std::max(m, std::abs(f.data()[q]));
  return core::mpi::max(m, comm);
}
double max_diff(const RealField& a, const RealField& b, MPI_Comm comm) {
  double m = 0;
  for (std::size_t q = 0; q < a.storage_size(); ++q) m = std::max(m, std::abs(a.data()[q] - b.data()[q]));
  return core::mpi::max(m, comm);
}
double matrix_bytes(Mat A) {
  MatInfo info;
  check(MatGetInfo(A, MAT_GLOBAL_SUM, &info), "MatGetInfo");
  // AIJ: 8-byte value + 4-byte (PetscInt) column per nonzero, plus row pointers, as PETSc counts it.
  return info.memory > 0 ? info.memory : 12.0 * info.nz_used;
}

std::array<linops::Operator1D, 3> fd2_ops(const std::array<AxisGrid, 3>& ax) {
  return {linops::derivative(ax[0], linops::Scheme::FD2, 2), linops::derivative(ax[1], linops::Scheme::FD2, 2),
          linops::derivative(ax[2], linops::Scheme::FD2, 2)};
}

// ---- laplacian -------------------------------------------------------------------------------

void laplacian_apply(long n, int rounds, const Options& opt, CopyReference& copy, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const auto ax = unit_cube(n);
  const Pencil px({n, n, n}, grid, 0);
  RealField in(px), out(px), ref(px), out_h(px);
  fill(in, ax, u_exact);
  const auto ops = fd2_ops(ax);
  linops::KroneckerSum L(grid, ops);
  // The same operator on a field that carries its halos (how a matrix-free code keeps its
  // state): no copy into a halo field, one exchange and the fused sweep.
  RealField with_halo(px, 1, L.halo());
  fill(with_halo, ax, u_exact);
  const double t0 = MPI_Wtime();
  Mat A = assemble(px, ops, false, comm);
  const double assembly_s = core::mpi::max(MPI_Wtime() - t0, comm);
  Vec x, y;
  check(MatCreateVecs(A, &x, &y), "MatCreateVecs");
  to_vec(in, x);
  const auto s = interleave({{"kron apply", [&] { L.apply(in, out); }, {}},
                             {"kron apply_with_halo", [&] { L.apply_with_halo(with_halo, out_h); }, {}},
                             {"PETSc MatMult", [&] { check(MatMult(A, x, y), "MatMult"); }, {}},
                             copy.contender()},
                            rounds, comm);
  from_vec(y, ref);
  if (opt.injects("laplacian")) {
    // A wrong result the check must catch: one value off by 1e-10 of |L||u|.
    if (out.local_points() > 0) out(out.extent()[0] / 2, 0, 0) += 1e-10 * 8 * (n - 1) * (n - 1) * max_abs(in, MPI_COMM_SELF);
  }
  // Rounding of the two summation orders scales with |L| |u| (terms ~ u / h^2 cancel).
  double lnorm = 0;
  for (const auto& op : ops) lnorm += op.dense().rowwise().lpNorm<1>().maxCoeff();
  const double err = std::max(max_diff(out, ref, comm), max_diff(out_h, ref, comm)) / (lnorm * max_abs(in, comm));
  if (!(err <= 1e-14)) throw Error("kron's Laplacian and PETSc's MatMult differ by " + sci(err) + " of |L| |u|");
  // Memory: what kron keeps (operator coefficients, plus the halo field and message buffers
  // apply() holds between calls) against what PETSc keeps (the matrix and MatMult's ghost vector).
  const double kron_op = double(L.operator_bytes()), kron_work = double(L.workspace_bytes());
  const double kron_total = core::mpi::sum(kron_op / core::mpi::size(comm), comm) + core::mpi::sum(kron_work, comm);
  const double petsc_bytes = matrix_bytes(A);
  MatInfo info;
  check(MatGetInfo(A, MAT_GLOBAL_SUM, &info), "MatGetInfo");
  check(VecDestroy(&x), "VecDestroy");
  check(VecDestroy(&y), "VecDestroy");
  check(MatDestroy(&A), "MatDestroy");
  const double N = double(n) * n * n;
  for (int m = 0; m < 2; ++m) {
    Row r = baseline_row(m == 0 ? "laplacian apply fd2" : "laplacian apply fd2 (halo field)", cube(n), s[m], "PETSc MatMult AIJ 7-pt", s[2]);
    r.bytes = 16.0 * N;  // read u, write Lu
    r.copy = s[3];
    r.copy_bytes = copy.bytes();
    std::ostringstream note;
    if (m == 0)
      note << "apply(): copies u into a halo field, exchanges, sweeps; memory: kron operator " << fixed(kron_op / 1024, 1)
           << " KiB + work " << fixed(kron_work * core::mpi::size(comm) / 1048576, 1) << " MiB (all ranks) vs PETSc matrix "
           << fixed(petsc_bytes / 1048576, 1) << " MiB (" << fixed(petsc_bytes / kron_total, 1) << "x); agree to " << sci(err)
           << " |L||u|";
    else
      note << "apply_with_halo(): u already lives in a halo field (no copy)";
    r.note = note.str();
    r.details["kron_operator_bytes"] = kron_op;
    r.details["kron_workspace_bytes_all_ranks"] = core::mpi::sum(kron_work, comm);
    r.details["petsc_matrix_bytes"] = petsc_bytes;
    r.details["memory_ratio_petsc_matrix_over_kron_total"] = petsc_bytes / kron_total;
    r.details["petsc_nonzeros"] = double(info.nz_used);
    r.details["petsc_assembly_seconds"] = assembly_s;
    r.details["petsc_gbytes_per_s"] = (12.0 * double(info.nz_used) + 16.0 * N) / s[2].median / 1e9;
    r.details["relative_difference"] = err;
    report.add(r);
  }
}

// ---- compact -------------------------------------------------------------------------------

// Max error of compact-6 d/dx_a on an m^3 grid, for u = sin(2 x_a + 0.3 x_{a+1}): out (if
// given) holds kron's result in the a-pencil, else it is computed here.
double compact_error(long m, int a, layout::ProcessGridPtr grid, MPI_Comm comm, const RealField* out = nullptr) {
  const AxisGrid axis = AxisGrid::uniform(m, 0, 1);
  const std::array<AxisGrid, 3> ax{axis, axis, axis};
  const layout::Pencil p({m, m, m}, grid, a);
  RealField own_in, own_out;
  if (!out) {
    own_in = RealField(p);
    own_out = RealField(p);
    const auto d1 = linops::LineOp<double>::real(linops::derivative(axis, linops::Scheme::Compact6, 1));
    fill(own_in, ax, [a](double x, double y, double z) { const double c[3] = {x, y, z}; return std::sin(2 * c[a] + 0.3 * c[(a + 1) % 3]); });
    d1.apply(linops::lines_along(own_in, a), linops::lines_along(own_out, a));
    out = &own_out;
  }
  RealField ex(p);
  fill(ex, ax, [a](double x, double y, double z) { const double c[3] = {x, y, z}; return 2 * std::cos(2 * c[a] + 0.3 * c[(a + 1) % 3]); });
  return max_diff(*out, ex, comm);
}

void compact_derivative(long n, int rounds, const Options& opt, CopyReference& copy, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const AxisGrid axis = AxisGrid::uniform(n, 0, 1);
  const std::array<AxisGrid, 3> ax{axis, axis, axis};
  const auto d1 = linops::LineOp<double>::real(linops::derivative(axis, linops::Scheme::Compact6, 1));
  core::Workspace work;
  const double N = double(n) * n * n;
  // Bounded compact-6 first derivatives close with 4th-order rows (operator1d.hpp): the error
  // must fall at least as h^4 between n/2 and n points; a lower-order kernel cannot pass.
  const double order = 4.0;
  for (int a = 0; a < 3; ++a) {
    const layout::Pencil pa({n, n, n}, grid, a);  // pencil a: axis a is local
    RealField f(pa), out(pa);
    fill(f, ax, [a](double x, double y, double z) { const double c[3] = {x, y, z}; return std::sin(2 * c[a] + 0.3 * c[(a + 1) % 3]); });
    const linops::LineView<const double> li = linops::lines_along(f, a);
    const auto lo = linops::lines_along(out, a);
    const auto s = interleave({{"kron", [&] { d1.apply(li, lo, linops::Trans::N, false, &work); }, {}}, copy.contender()}, rounds, comm);
    const long nh = n / 2 + 1;  // (nh - 1) = (n - 1) / 2: h doubles
    const double err_h = compact_error(nh, a, grid, comm);
    // A wrong result the check must catch: one value off by the coarse grid's error.
    if (opt.injects("compact") && out.local_points() > 0) out.data()[out.storage_size() / 2] += err_h;
    const double err = compact_error(n, a, grid, comm, &out);
    const double ratio = double(n - 1) / double(nh - 1);
    const double observed = std::log(err_h / err) / std::log(ratio);
    // Near rounding level (about 1e-13 here) the order cannot show; require the error bound then.
    const bool ok = err <= err_h * std::pow(ratio, -(order - 0.3)) || err <= 64 * 2.2e-16 * double(n);
    if (!ok)
      throw Error("compact6 d/d" + std::string(1, "xyz"[a]) + " error " + sci(err) + " at n = " + std::to_string(n) +
                  " vs " + sci(err_h) + " at n = " + std::to_string(nh) + ": observed order " + fixed(observed, 2) +
                  ", expected at least " + fixed(order - 0.3, 1));
    Row r;
    r.name = std::string("compact6 d/d") + "xyz"[a];
    r.size = cube(n);
    r.kron = s[0];
    r.bytes = 16.0 * N;  // read u, write u'
    r.copy = s[1];
    r.copy_bytes = copy.bytes();
    r.note = std::string(1, "xyz"[a]) + "-pencil, lines contiguous; max error " + sci(err) + " (n = " + std::to_string(nh) +
             ": " + sci(err_h) + ", observed order " + fixed(observed, 2) + ")";
    r.details["max_error"] = err;
    r.details["max_error_half_grid"] = err_h;
    r.details["observed_order"] = observed;
    report.add(r);
  }
}

// ---- dst1 ----------------------------------------------------------------------------------

unsigned fftw_flag(const std::string& effort) {
  return effort == "estimate" ? FFTW_ESTIMATE : effort == "patient" ? FFTW_PATIENT : effort == "exhaustive" ? FFTW_EXHAUSTIVE : FFTW_MEASURE;
}

// DST-I of every line of a local m x m x (m/P) block per rank, lines contiguous (along the
// fastest index) or interleaved (along the middle index, inner = m): kron's LineOp DST-I
// (out of place) against FFTW's own RODFT00 (fftw_plan_guru64_r2r, in place, same effort), the
// same lines, both reading the input once and writing the output once.
void dst1_lines(long n, int rounds, const Options& opt, CopyReference& copy, Report& report, MPI_Comm comm) {
  const long m = n - 2;  // the interior of a Dirichlet axis
  const int P = core::mpi::size(comm), me = core::mpi::rank(comm);
  const long nz = layout::block_size(m, P, me);
  const long count = m * m * nz;
  core::HostBuffer<double> x(std::size_t(std::max(count, 1L))), saved(std::size_t(std::max(count, 1L))),
      ref(std::size_t(std::max(count, 1L)));
  std::mt19937 rng(11 + me);
  std::uniform_real_distribution<double> U(-1, 1);
  for (long q = 0; q < count; ++q) saved[q] = U(rng);
  const linops::LineOp<double> dst =
      linops::LineOp<double>::transform(linops::LineOp<double>::Transform::DST1, m, layout::parse_fft_effort(opt.effort));
  for (int interleaved = 0; interleaved < 2; ++interleaved) {
    const linops::LineView<double> L = interleaved ? linops::LineView<double>{x.data(), nz, m, m, m * m}
                                                   : linops::LineView<double>{x.data(), m * nz, m, 1, m};
    const linops::LineView<double> S{saved.data(), L.outer, L.n, L.inner, L.ostride};
    fftw_iodim64 dim{m, L.inner, L.inner};
    fftw_iodim64 how[2] = {{L.inner, 1, 1}, {L.outer, L.ostride, L.ostride}};
    fftw_r2r_kind kind = FFTW_RODFT00;
    fftw_plan p = fftw_plan_guru64_r2r(1, &dim, 2, how, x.data(), x.data(), &kind, fftw_flag(opt.effort));
    if (!p) throw Error("FFTW could not plan RODFT00");
    auto restore = [&] { std::memcpy(x.data(), saved.data(), sizeof(double) * count); };
    core::Workspace w;
    const auto s = interleave({{"kron LineOp dst1", [&] { if (count) dst.apply(S, L, linops::Trans::N, false, &w); }, {}},
                               {"FFTW RODFT00", [&] { if (count) fftw_execute(p); }, restore},
                               copy.contender()},
                              rounds, comm);
    restore();
    fftw_execute(p);
    std::memcpy(ref.data(), x.data(), sizeof(double) * count);
    if (count) dst.apply(S, L, linops::Trans::N, false, &w);
    fftw_destroy_plan(p);
    if (opt.injects("dst1") && count) x[count / 3] += 1e-9;
    double diff = 0, scale = 0;
    for (long q = 0; q < count; ++q) {
      diff = std::max(diff, std::abs(x[q] - ref[q]));
      scale = std::max(scale, std::abs(ref[q]));
    }
    const double rel = core::mpi::max(diff, comm) / core::mpi::max(scale, comm);
    // Both compute the same transform in O(log m) roundings per output.
    if (!(rel <= 1e-13)) throw Error("kron's DST-I and FFTW's RODFT00 differ by " + sci(rel) + " (relative)");
    Row r = baseline_row(std::string("dst1 lines ") + (interleaved ? "interleaved" : "contiguous"), cube(m), s[0], "FFTW RODFT00 (same lines)", s[1]);
    r.bytes = 16.0 * core::mpi::sum(double(count), comm);
    r.copy = s[2];
    r.copy_bytes = copy.bytes();
    r.note = std::string("m = ") + std::to_string(m) + " per line, " + (interleaved ? "stride m (interleaved lines)" : "stride 1") +
             ", kron out of place, FFTW in place, effort " + opt.effort + "; agree to " + sci(rel) + " relative";
    r.details["relative_difference"] = rel;
    report.add(r);
  }
}

// ---- poisson (structured baseline) ----------------------------------------------------------

struct PoissonData {
  long n;
  std::array<AxisGrid, 3> ax;
  layout::ProcessGridPtr grid;
  Pencil px;
  RealField f, g;
  linops::BoundaryData bd;
};

PoissonData poisson_data(long n, MPI_Comm comm) {
  PoissonData d{n, unit_cube(n), auto_grid(n, comm), {}, {}, {}, {}};
  d.px = Pencil({n, n, n}, d.grid, 0);
  d.f = RealField(d.px);
  d.g = RealField(d.px);
  fill(d.f, d.ax, lap_exact);
  fill(d.g, d.ax, u_exact);
  d.bd = [](int, int, const std::array<double, 3>& X) { return u_exact(X[0], X[1], X[2]); };
  return d;
}

// The same fd2 Dirichlet problem through FFTW-MPI: the interior right-hand side (boundary values
// moved over) on FFTW-MPI's z-slabs, one 3D RODFT00 forward (transposed out), the division by
// the eigenvalue sums, one RODFT00 back (transposed in).
void poisson_fftw(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  PoissonData d = poisson_data(n, comm);
  const long m = n - 2;
  const double h = 1.0 / double(n - 1);
  ptrdiff_t ln0, l0s, ln1, l1s;
  const ptrdiff_t alloc = fftw_mpi_local_size_3d_transposed(m, m, m, comm, &ln0, &l0s, &ln1, &l1s);
  double* buf = fftw_alloc_real(std::max<ptrdiff_t>(alloc, 1));
  double* rhs = fftw_alloc_real(std::max<ptrdiff_t>(alloc, 1));
  if (!buf || !rhs) throw Error("out of memory for the FFTW-MPI Poisson baseline");
  const unsigned flags = fftw_flag(opt.effort) | FFTW_DESTROY_INPUT;
  double t0 = MPI_Wtime();
  fftw_plan fwd = fftw_mpi_plan_r2r_3d(m, m, m, buf, buf, comm, FFTW_RODFT00, FFTW_RODFT00, FFTW_RODFT00, flags | FFTW_MPI_TRANSPOSED_OUT);
  fftw_plan bwd = fftw_mpi_plan_r2r_3d(m, m, m, buf, buf, comm, FFTW_RODFT00, FFTW_RODFT00, FFTW_RODFT00, flags | FFTW_MPI_TRANSPOSED_IN);
  const double fftw_plan_s = core::mpi::max(MPI_Wtime() - t0, comm);
  if (!fwd || !bwd) throw Error("FFTW-MPI could not plan the 3D RODFT00");
  // Interior rhs at global interior index (i, j, k) (0-based over the m interior points): slab
  // layout [k - l0s][j][i].
  const auto& ax = d.ax;
  for (ptrdiff_t k = 0; k < ln0; ++k)
    for (long j = 0; j < m; ++j)
      for (long i = 0; i < m; ++i) {
        const long gi[3] = {i + 1, j + 1, k + l0s + 1};
        double v = lap_exact(ax[0][gi[0]], ax[1][gi[1]], ax[2][gi[2]]);
        for (int a = 0; a < 3; ++a)
          for (int side : {-1, 1}) {
            long q[3] = {gi[0], gi[1], gi[2]};
            q[a] += side;
            if (q[a] == 0 || q[a] == n - 1) v -= u_exact(ax[0][q[0]], ax[1][q[1]], ax[2][q[2]]) / (h * h);
          }
        rhs[(k * m + j) * m + i] = v;
      }
  std::vector<double> lam(static_cast<std::size_t>(m));
  for (long p = 0; p < m; ++p) lam[p] = (2 * std::cos(M_PI * double(p + 1) / double(m + 1)) - 2) / (h * h);
  const double norm = std::pow(2.0 * double(m + 1), 3);
  auto baseline = [&] {
    fftw_execute(fwd);
    // Transposed layout: [j - l1s][k][i] (y slabs).
    for (ptrdiff_t j = 0; j < ln1; ++j)
      for (long k = 0; k < m; ++k) {
        double* row = buf + (j * m + k) * m;
        const double lyz = lam[j + l1s] + lam[k];
        for (long i = 0; i < m; ++i) row[i] /= (lam[i] + lyz) * norm;
      }
    fftw_execute(bwd);
  };
  t0 = MPI_Wtime();
  linops::FastPoissonOptions fo;
  fo.effort = layout::parse_fft_effort(opt.effort);
  const linops::BoundaryKind D = linops::BoundaryKind::Dirichlet;
  linops::FastPoisson fp(d.grid, ax, {linops::Scheme::FD2, linops::Scheme::FD2, linops::Scheme::FD2}, {D, D, D}, 0.0, fo);
  const double kron_setup = core::mpi::max(MPI_Wtime() - t0, comm);
  RealField u(d.px);
  const auto restore = [&] { std::memcpy(buf, rhs, sizeof(double) * std::max<ptrdiff_t>(alloc, 1)); };
  const auto s = interleave({{"kron FastPoisson::solve", [&] { fp.solve(d.f, d.bd, u); }, {}},
                             {"FFTW-MPI RODFT00 solve", baseline, restore}},
                            rounds, comm);
  fp.solve(d.f, d.bd, u);
  restore();
  baseline();
  // Cross-check at sampled interior points (both solve the same discrete system exactly).
  std::mt19937 rng(5);
  const auto& b = d.px.box();
  std::vector<double> kv(512, 0.0), fv(512, 0.0);
  std::vector<std::array<long, 3>> pts(512);
  for (auto& p : pts) p = {1 + long(rng() % m), 1 + long(rng() % m), 1 + long(rng() % m)};
  if (opt.injects("poisson_fftw")) {
    bool mine = true;
    for (int a = 0; a < 3; ++a) mine = mine && pts[7][a] >= b.lo[a] && pts[7][a] < b.lo[a] + b.n[a];
    if (mine) u(pts[7][0] - b.lo[0], pts[7][1] - b.lo[1], pts[7][2] - b.lo[2]) += 1e-8;
  }
  for (std::size_t q = 0; q < pts.size(); ++q) {
    const auto& p = pts[q];
    bool mine = true;
    for (int a = 0; a < 3; ++a) mine = mine && p[a] >= b.lo[a] && p[a] < b.lo[a] + b.n[a];
    if (mine) kv[q] = u(p[0] - b.lo[0], p[1] - b.lo[1], p[2] - b.lo[2]);
    const long k = p[2] - 1 - l0s;
    if (k >= 0 && k < ln0) fv[q] = buf[(k * m + (p[1] - 1)) * m + (p[0] - 1)];
  }
  MPI_Allreduce(MPI_IN_PLACE, kv.data(), int(kv.size()), MPI_DOUBLE, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, fv.data(), int(fv.size()), MPI_DOUBLE, MPI_SUM, comm);
  double diff = 0;
  for (std::size_t q = 0; q < kv.size(); ++q) diff = std::max(diff, std::abs(kv[q] - fv[q]));
  const double rel = diff / max_abs(u, comm);
  fftw_destroy_plan(fwd);
  fftw_destroy_plan(bwd);
  fftw_free(buf);
  fftw_free(rhs);
  if (!(rel <= 1e-11)) throw Error("kron's fast Poisson solution and the FFTW-MPI solve differ by " + sci(rel) + " (relative)");
  Row r = baseline_row("poisson fd2 dirichlet solve", cube(n), s[0], "FFTW-MPI 3D RODFT00 solve", s[1]);
  r.note = "solve only (plans made once); kron from f and g (boundary data moved over inside), baseline from the "
           "ready interior right-hand side; " + fp.describe() + "; agree to " + sci(rel) + " at 512 points; setup: kron " +
           fixed(kron_setup, 3) + " s, FFTW-MPI plans " + fixed(fftw_plan_s, 3) + " s (effort " + opt.effort + ")";
  r.details["kron_setup_seconds"] = kron_setup;
  r.details["fftw_mpi_plan_seconds"] = fftw_plan_s;
  r.details["relative_difference"] = rel;
  report.add(r);
}

// ---- poisson (assembled baselines) ----------------------------------------------------------

// Tuned option sets for the AMG baselines (prefix gamg_ and hypre_); the command line after '--'
// wins over them. GAMG: plain (unsmoothed) aggregation on the squared graph with Chebyshev/Jacobi
// smoothing: of the sets tried at 96^3 (docs/benchmarking.md) the fastest time to solution (3.0 s
// against 4.3 s for PETSc 3.18's smoothed default, 7.2 s with threshold 0.02, 3.5 s without graph
// squaring; smoothed aggregation without squaring ran out of memory at 256^3). BoomerAMG: HMIS
// coarsening with ext+i interpolation, truncation to 4 entries and one level of aggressive
// coarsening (hypre's recommendation for 3D problems; 1.3 s at 96^3, the defaults 195 s of setup
// at 256^3).
const char* kTuned[][2] = {
    {"gamg_", "-gamg_ksp_type cg -gamg_ksp_norm_type unpreconditioned -gamg_pc_type gamg -gamg_pc_gamg_type agg "
              "-gamg_pc_gamg_agg_nsmooths 0 -gamg_mg_levels_ksp_type chebyshev -gamg_mg_levels_pc_type jacobi"},
    {"hypre_", "-hypre_ksp_type cg -hypre_ksp_norm_type unpreconditioned -hypre_pc_type hypre -hypre_pc_hypre_type boomeramg "
               "-hypre_pc_hypre_boomeramg_coarsen_type HMIS -hypre_pc_hypre_boomeramg_interp_type ext+i "
               "-hypre_pc_hypre_boomeramg_strong_threshold 0.5 -hypre_pc_hypre_boomeramg_P_max 4 "
               "-hypre_pc_hypre_boomeramg_agg_nl 1"},
};

// Inserts each tuned option unless the command line set it already.
void insert_tuned(const std::string& opts) {
  std::istringstream is(opts);
  std::vector<std::string> tok{std::istream_iterator<std::string>(is), std::istream_iterator<std::string>()};
  for (std::size_t i = 0; i < tok.size(); ++i) {
    if (tok[i][0] != '-') continue;
    const bool has_value = i + 1 < tok.size() && tok[i + 1][0] != '-';
    PetscBool set = PETSC_FALSE;
    check(PetscOptionsHasName(nullptr, nullptr, tok[i].c_str(), &set), "PetscOptionsHasName");
    if (!set) check(PetscOptionsSetValue(nullptr, tok[i].c_str(), has_value ? tok[i + 1].c_str() : nullptr), "PetscOptionsSetValue");
  }
}

// The options in PETSc's database that start with -prefix (what the solve with that prefix read).
std::string options_with_prefix(const std::string& prefix) {
  char* all = nullptr;
  check(PetscOptionsGetAll(nullptr, &all), "PetscOptionsGetAll");
  std::istringstream is(all ? all : "");
  PetscFree(all);
  std::string out, tok;
  bool take = false;
  while (is >> tok) {
    if (tok[0] == '-' && !(tok.size() > 1 && std::isdigit(static_cast<unsigned char>(tok[1])))) take = tok.rfind("-" + prefix, 0) == 0;
    if (take) out += (out.empty() ? "" : " ") + tok;
  }
  return out;
}

struct AmgRound {
  double assembly = 0, setup = 0, solve = 0, residual = 0, memory = 0;
  long iterations = 0;
  std::string reason;
};

void poisson_amg(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  PoissonData d = poisson_data(n, comm);
  const auto& ax = d.ax;
  const auto ops = fd2_ops(ax);
  const Pencil& px = d.px;
  // The assembled system's right-hand side: -f inside plus the boundary columns moved over, g on
  // the boundary.
  RealField rb(px);
  {
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const std::array<long, 3> gi{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          bool bnd = false;
          for (int a = 0; a < 3; ++a) bnd = bnd || gi[a] == 0 || gi[a] == n - 1;
          if (bnd) { rb(i, j, k) = d.g(i, j, k); continue; }
          double v = -d.f(i, j, k);
          for (int a = 0; a < 3; ++a) {
            const linops::Banded& B = ops[a].terms()[0].b;
            for (int t = 0; t < B.width(); ++t) {
              std::array<long, 3> q = gi;
              q[a] += t - B.kl;
              if (q[a] == 0 || q[a] == n - 1) v += B.diag[t][gi[a]] * u_exact(ax[0][q[0]], ax[1][q[1]], ax[2][q[2]]);
            }
          }
          rb(i, j, k) = v;
        }
  }
  for (const auto& t : kTuned) insert_tuned(t[1]);
  std::vector<std::string> prefixes = {"gamg_"};
#if defined(PETSC_HAVE_HYPRE)
  prefixes.push_back("hypre_");
#endif
  Vec vb, vu, vr;
  {
    Mat A0 = assemble(px, ops, true, comm);
    check(MatCreateVecs(A0, &vu, &vb), "MatCreateVecs");
    check(MatDestroy(&A0), "MatDestroy");
  }
  check(VecDuplicate(vb, &vr), "VecDuplicate");
  to_vec(rb, vb);
  PetscReal bnorm = 0;
  check(VecNorm(vb, NORM_2, &bnorm), "VecNorm");

  // Each round from nothing, as a user runs it: kron builds its solver and solves; PETSc
  // assembles, sets up the preconditioner and solves.
  RealField u(px), ur(px);
  double kron_setup_last = 0;
  const linops::BoundaryKind D = linops::BoundaryKind::Dirichlet;
  auto kron_run = [&] {
    const double t = MPI_Wtime();
    linops::FastPoissonOptions fo;
    fo.effort = layout::parse_fft_effort(opt.effort);
    linops::FastPoisson fp(d.grid, ax, {linops::Scheme::FD2, linops::Scheme::FD2, linops::Scheme::FD2}, {D, D, D}, 0.0, fo);
    kron_setup_last = MPI_Wtime() - t;
    fp.solve(d.f, d.bd, u);
  };
  std::vector<std::vector<AmgRound>> amg(prefixes.size());
  auto petsc_run = [&](std::size_t which) {
    AmgRound r;
    PetscLogDouble m0 = 0, m1 = 0;
    check(PetscMemoryGetCurrentUsage(&m0), "PetscMemoryGetCurrentUsage");
    double t = MPI_Wtime();
    Mat A = assemble(px, ops, true, comm);
    r.assembly = MPI_Wtime() - t;
    KSP ksp;
    check(KSPCreate(comm, &ksp), "KSPCreate");
    check(KSPSetOptionsPrefix(ksp, prefixes[which].c_str()), "KSPSetOptionsPrefix");
    check(KSPSetOperators(ksp, A, A), "KSPSetOperators");
    check(KSPSetTolerances(ksp, 1e-10, 0.0, PETSC_DEFAULT, 10000), "KSPSetTolerances");
    check(KSPSetFromOptions(ksp), "KSPSetFromOptions");
    check(VecSet(vu, 0.0), "VecSet");
    t = MPI_Wtime();
    check(KSPSetUp(ksp), "KSPSetUp");
    r.setup = MPI_Wtime() - t;
    check(PetscMemoryGetCurrentUsage(&m1), "PetscMemoryGetCurrentUsage");
    r.memory = double(m1 - m0);
    t = MPI_Wtime();
    check(KSPSolve(ksp, vb, vu), "KSPSolve");
    r.solve = MPI_Wtime() - t;
    KSPConvergedReason reason;
    check(KSPGetConvergedReason(ksp, &reason), "KSPGetConvergedReason");
    r.reason = KSPConvergedReasons[reason];
    PetscInt its;
    check(KSPGetIterationNumber(ksp, &its), "KSPGetIterationNumber");
    r.iterations = its;
    PetscReal rnorm = 0;
    check(MatMult(A, vu, vr), "MatMult");
    check(VecAYPX(vr, -1.0, vb), "VecAYPX");
    check(VecNorm(vr, NORM_2, &rnorm), "VecNorm");
    r.residual = rnorm / bnorm;
    check(KSPDestroy(&ksp), "KSPDestroy");
    check(MatDestroy(&A), "MatDestroy");
    if (reason < 0) throw Error("PETSc CG + " + prefixes[which].substr(0, prefixes[which].size() - 1) + " did not converge: " + r.reason);
    amg[which].push_back(r);
  };
  std::vector<Contender> cs = {{"kron", kron_run, {}}};
  for (std::size_t w = 0; w < prefixes.size(); ++w) cs.push_back({prefixes[w], [&, w] { petsc_run(w); }, {}});
  const auto s = interleave(cs, rounds, comm, 0);

  // Checks: kron's residual in the assembled system; every PETSc solve agrees with kron's.
  Mat A0 = assemble(px, ops, true, comm);
  PetscReal rnorm = 0;
  if (opt.injects("poisson_amg") && u.local_points() > 0) u(u.extent()[0] / 2, u.extent()[1] / 2, u.extent()[2] / 2) += 1e-6;
  to_vec(u, vu);
  check(MatMult(A0, vu, vr), "MatMult");
  check(VecAYPX(vr, -1.0, vb), "VecAYPX");
  check(VecNorm(vr, NORM_2, &rnorm), "VecNorm");
  check(MatDestroy(&A0), "MatDestroy");
  const double kron_residual = rnorm / bnorm;
  if (!(kron_residual <= 1e-10)) throw Error("the fast Poisson solution's relative residual is " + sci(kron_residual));
  for (std::size_t w = 0; w < prefixes.size(); ++w) {
    petsc_run(w);  // once more, untimed, to compare its solution
    from_vec(vu, ur);
    const double diff = max_diff(u, ur, comm) / max_abs(u, comm);
    // Both meet rtol 1e-10: their solutions agree to about cond(A) * 1e-10 of the data.
    if (!(diff <= 1e-6))
      throw Error("kron and PETSc CG + " + prefixes[w] + " solutions differ by " + sci(diff));
  }
  check(VecDestroy(&vb), "VecDestroy");
  check(VecDestroy(&vu), "VecDestroy");
  check(VecDestroy(&vr), "VecDestroy");
  // Options given after '--' that no solve read are mistakes, as in kron itself.
  for (const auto& name : linops::petsc::command_line_options())
    if (!linops::petsc::unused({name}).empty())
      throw Error("PETSc option -" + name + " was not used by any baseline", {"command line", 0, {}},
                  "the GAMG solve reads options with prefix gamg_, the hypre solve prefix hypre_");
  for (std::size_t w = 0; w < prefixes.size(); ++w) {
    const std::string name = prefixes[w].substr(0, prefixes[w].size() - 1);
    const AmgRound& last = amg[w].back();
    auto med = [&](double AmgRound::*f) {
      std::vector<double> v;
      for (std::size_t q = 0; q + 1 < amg[w].size(); ++q) v.push_back(core::mpi::max(amg[w][q].*f, comm));
      return summarize(v).median;
    };
    Row r = baseline_row("poisson fd2 time to solution", cube(n), s[0], "PETSc CG+" + name + " (asm+setup+solve)", s[1 + w]);
    const std::string used = options_with_prefix(prefixes[w]);
    r.note = "kron: setup + solve, residual " + sci(kron_residual) + "; " + name + ": " + std::to_string(last.iterations) +
             " its, asm " + fixed(med(&AmgRound::assembly), 2) + " s, setup " + fixed(med(&AmgRound::setup), 2) + " s, solve " +
             fixed(med(&AmgRound::solve), 2) + " s (medians), residual " + sci(last.residual) + "; options: " + used;
    r.details["kron_relative_residual"] = kron_residual;
    r.details["kron_setup_seconds_last_round"] = core::mpi::max(kron_setup_last, comm);
    r.details["petsc_options"] = used;
    r.details["assembly_median_seconds"] = med(&AmgRound::assembly);
    r.details["setup_median_seconds"] = med(&AmgRound::setup);
    r.details["solve_median_seconds"] = med(&AmgRound::solve);
    r.details["iterations"] = double(last.iterations);
    r.details["relative_residual"] = last.residual;
    r.details["converged_reason"] = last.reason;
    r.details["setup_memory_bytes_all_ranks"] = core::mpi::sum(last.memory, comm);
    report.add(r);
  }
}

}  // namespace

void run_linops_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "linops", {"copy", "laplacian", "compact", "dst1", "poisson_fftw", "poisson_amg"});
  linops::petsc::initialize();
  fftw_mpi_init();
  const long n = !opt.sizes.empty() ? opt.sizes.front() : opt.quick ? 32 : 256;
  const int rounds = opt.rounds(20);
  CopyReference copy(comm, opt.quick);
  add_copy_reference(copy, rounds, report, comm);
  if (opt.wants("laplacian")) {
    core::log::info("linops suite: Laplacian apply ", cube(n), ", ", rounds, " rounds");
    laplacian_apply(n, rounds, opt, copy, report, comm);
  }
  if (opt.wants("compact")) {
    core::log::info("linops suite: compact-6 derivatives ", cube(n), ", ", rounds, " rounds");
    compact_derivative(n, rounds, opt, copy, report, comm);
  }
  if (opt.wants("dst1")) {
    core::log::info("linops suite: DST-I lines ", cube(n - 2), ", ", rounds, " rounds");
    dst1_lines(n, rounds, opt, copy, report, comm);
  }
  if (opt.wants("poisson_fftw")) {
    core::log::info("linops suite: Dirichlet Poisson solve vs FFTW-MPI ", cube(n), ", ", rounds, " rounds");
    poisson_fftw(n, rounds, opt, report, comm);
  }
  if (opt.wants("poisson_amg")) {
    const int amg_rounds = opt.repeat > 0 ? opt.repeat : 3;
    core::log::info("linops suite: Dirichlet Poisson time to solution vs PETSc AMG ", cube(n), ", ", amg_rounds,
                    " rounds (minutes at 256^3)");
    poisson_amg(n, amg_rounds, opt, report, comm);
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
  fftw_mpi_cleanup();
}

}  // namespace kron::bench
