// kron-bench --suite linops: matrix-free operators and solvers against PETSc on assembled
// matrices, in the same run and on the same data:
//  - Laplacian apply (fd2): KroneckerSum stencil sweep vs MatMult of the assembled 7-point AIJ;
//  - Dirichlet Poisson (fd2) to relative residual 1e-10: fast diagonalization (DST-I) vs
//    CG + GAMG and CG + hypre BoomerAMG, assembly and setup counted on both sides;
//  - compact-6 first derivative along each axis: achieved bytes/s against copy bandwidth.
#include <petscksp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/pencil_set.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace kron::bench {
namespace {

using layout::AxisGrid;
using layout::Pencil;
using layout::RealField;
using linops::petsc::check;

std::string cube(long n) { return std::to_string(n) + "^3"; }

layout::ProcessGridPtr auto_grid(long n, MPI_Comm comm) {
  const auto shape = layout::ProcessGrid::choose({n, n, n}, core::mpi::size(comm));
  return std::make_shared<const layout::ProcessGrid>(comm, shape[0], shape[1]);
}

double u_exact(double x, double y, double z) { return std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z) + x * y + z; }
double lap_exact(double x, double y, double z) { return -6 * M_PI * M_PI * std::sin(M_PI * x) * std::sin(2 * M_PI * y) * std::sin(M_PI * z); }

template <class F>
void fill(RealField& f, const std::array<AxisGrid, 3>& ax, F fn) {
  const auto& b = f.pencil().box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) f(i, j, k) = fn(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + k]);
}

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
    throw Error("kron-bench: grid point outside every rank's box");
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
std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string sci(double v) {
  std::ostringstream os;
  os.precision(2);
  os << std::scientific << v;
  return os.str();
}

std::array<linops::Operator1D, 3> fd2_ops(const std::array<AxisGrid, 3>& ax) {
  return {linops::derivative(ax[0], linops::Scheme::FD2, 2), linops::derivative(ax[1], linops::Scheme::FD2, 2),
          linops::derivative(ax[2], linops::Scheme::FD2, 2)};
}

void laplacian_apply(long n, int reps, double copy_bw, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  const Pencil px({n, n, n}, grid, 0);
  RealField in(px), out(px), ref(px);
  fill(in, ax, u_exact);
  const auto ops = fd2_ops(ax);
  linops::KroneckerSum L(grid, ops);
  const Timing tk = time_collective([&] { L.apply(in, out); }, reps, comm);
  // The same operator on a field that carries its halos (how a matrix-free code keeps its
  // state): no copy into a halo field, one exchange and the fused sweep.
  RealField with_halo(px, 1, L.halo());
  {
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) with_halo(i, j, k) = in(i, j, k);
  }
  RealField out_h(px);
  const Timing th = time_collective([&] { L.apply_with_halo(with_halo, out_h); }, reps, comm);
  const double t0 = MPI_Wtime();
  Mat A = assemble(px, ops, false, comm);
  const double assembly_s = core::mpi::max(MPI_Wtime() - t0, comm);
  Vec x, y;
  check(MatCreateVecs(A, &x, &y), "MatCreateVecs");
  to_vec(in, x);
  const Timing tp = time_collective([&] { check(MatMult(A, x, y), "MatMult"); }, reps, comm);
  from_vec(y, ref);
  // Rounding of the two summation orders scales with |L| |u| (terms ~ u / h^2 cancel).
  double lnorm = 0;
  for (const auto& op : ops) lnorm += op.dense().rowwise().lpNorm<1>().maxCoeff();
  const double err = std::max(max_diff(out, ref, comm), max_diff(out_h, ref, comm)) / (lnorm * max_abs(in, comm));
  if (!(err <= 1e-14)) throw Error("kron-bench: kron's Laplacian and PETSc's MatMult differ by " + sci(err) + " of |L| |u|");
  const double kron_bytes = double(L.operator_bytes()), petsc_bytes = matrix_bytes(A);
  PetscInt nnz_rows = 0;
  MatInfo info;
  check(MatGetInfo(A, MAT_GLOBAL_SUM, &info), "MatGetInfo");
  nnz_rows = static_cast<PetscInt>(info.nz_used);
  check(VecDestroy(&x), "VecDestroy");
  check(VecDestroy(&y), "VecDestroy");
  check(MatDestroy(&A), "MatDestroy");
  const double N = double(n) * n * n;
  Row r;
  r.name = "laplacian apply fd2";
  r.size = cube(n);
  r.seconds = tk.min;
  r.baseline = "PETSc MatMult AIJ 7-pt";
  r.baseline_seconds = tp.min;
  r.gbytes_per_s = 16.0 * N / tk.min / 1e9;  // read u, write Lu
  r.fraction_of_copy = r.gbytes_per_s * 1e9 / copy_bw;
  std::ostringstream note;
  note << "operator " << kron_bytes / 1024 << " KiB vs " << petsc_bytes / 1048576 << " MiB (" << petsc_bytes / kron_bytes
       << "x less); agree to " << sci(err) << " |L||u|";
  r.note = note.str();
  report.add(r);
  r.name = "laplacian apply fd2 (halo field)";
  r.seconds = th.min;
  r.gbytes_per_s = 16.0 * N / th.min / 1e9;
  r.fraction_of_copy = r.gbytes_per_s * 1e9 / copy_bw;
  r.note = "apply_with_halo: no copy into a halo field";
  report.add(r);
  auto& e = report.extra()["laplacian_apply_" + cube(n)];
  e["kron_halo_field_seconds"] = th.min;
  e["speedup_halo_field"] = tp.min / th.min;
  e["kron_seconds"] = tk.min;
  e["petsc_matmult_seconds"] = tp.min;
  e["speedup"] = tp.min / tk.min;
  e["kron_operator_bytes"] = kron_bytes;
  e["petsc_matrix_bytes"] = petsc_bytes;
  e["memory_ratio"] = petsc_bytes / kron_bytes;
  e["petsc_nonzeros"] = double(nnz_rows);
  e["petsc_assembly_seconds"] = assembly_s;
  e["petsc_gbytes_per_s"] = (12.0 * double(nnz_rows) + 16.0 * N) / tp.min / 1e9;
  e["relative_difference"] = err;
}

struct AmgRun {
  double assembly = 0, setup = 0, solve = 0, residual = 0, memory = 0;
  long iterations = 0;
  std::string reason;
};

void poisson_solve(long n, bool quick, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  const Pencil px({n, n, n}, grid, 0);
  RealField f(px), u(px), g(px), ur(px);
  fill(f, ax, lap_exact);
  fill(g, ax, u_exact);
  const linops::BoundaryData bd = [](int, int, const std::array<double, 3>& X) { return u_exact(X[0], X[1], X[2]); };
  const linops::BoundaryKind D = linops::BoundaryKind::Dirichlet;
  // kron: setup (eigenvalues, FFTW plans) + solve, from nothing, as a user runs it.
  double kron_setup = 0, kron_solve = 0;
  std::size_t kron_bytes = 0;
  {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    linops::FastPoisson fp(grid, ax, {linops::Scheme::FD2, linops::Scheme::FD2, linops::Scheme::FD2}, {D, D, D});
    kron_setup = core::mpi::max(MPI_Wtime() - t0, comm);
    const Timing ts = time_collective([&] { fp.solve(f, bd, u); }, quick ? 2 : 3, comm, 0);
    kron_solve = ts.min;
    kron_bytes = fp.operator_bytes();
  }
  // The same system assembled: identity rows carry the boundary values, -Laplace inside.
  const auto ops = fd2_ops(ax);
  RealField rb(px);
  {
    // b = -f inside plus the boundary columns moved over; g on the boundary.
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const std::array<long, 3> gi{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          bool bnd = false;
          for (int a = 0; a < 3; ++a) bnd = bnd || gi[a] == 0 || gi[a] == n - 1;
          if (bnd) { rb(i, j, k) = g(i, j, k); continue; }
          double v = -f(i, j, k);
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
  // Residual of kron's answer in the assembled system: same criterion as the KSP's.
  Mat A0 = assemble(px, ops, true, comm);
  Vec vb, vu, vr;
  check(MatCreateVecs(A0, &vu, &vb), "MatCreateVecs");
  check(VecDuplicate(vb, &vr), "VecDuplicate");
  to_vec(rb, vb);
  PetscReal bnorm = 0, rnorm = 0;
  check(VecNorm(vb, NORM_2, &bnorm), "VecNorm");
  to_vec(u, vu);
  check(MatMult(A0, vu, vr), "MatMult");
  check(VecAYPX(vr, -1.0, vb), "VecAYPX");
  check(VecNorm(vr, NORM_2, &rnorm), "VecNorm");
  const double kron_residual = rnorm / bnorm;
  check(MatDestroy(&A0), "MatDestroy");
  if (!(kron_residual <= 1e-10)) throw Error("kron-bench: the fast Poisson solution's relative residual is " + sci(kron_residual));

  auto amg = [&](const char* pc_type) {
    AmgRun r;
    PetscLogDouble m0 = 0, m1 = 0;
    check(PetscMemoryGetCurrentUsage(&m0), "PetscMemoryGetCurrentUsage");
    MPI_Barrier(comm);
    double t = MPI_Wtime();
    Mat A = assemble(px, ops, true, comm);
    r.assembly = core::mpi::max(MPI_Wtime() - t, comm);
    KSP ksp;
    check(KSPCreate(comm, &ksp), "KSPCreate");
    check(KSPSetOperators(ksp, A, A), "KSPSetOperators");
    check(KSPSetType(ksp, KSPCG), "KSPSetType");
    check(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED), "KSPSetNormType");
    check(KSPSetTolerances(ksp, 1e-10, 0.0, PETSC_DEFAULT, 10000), "KSPSetTolerances");
    PC pc;
    check(KSPGetPC(ksp, &pc), "KSPGetPC");
    check(PCSetType(pc, pc_type), "PCSetType");
    if (std::string(pc_type) == PCHYPRE) check(PCHYPRESetType(pc, "boomeramg"), "PCHYPRESetType");
    check(KSPSetFromOptions(ksp), "KSPSetFromOptions");
    check(VecSet(vu, 0.0), "VecSet");
    MPI_Barrier(comm);
    t = MPI_Wtime();
    check(KSPSetUp(ksp), "KSPSetUp");
    r.setup = core::mpi::max(MPI_Wtime() - t, comm);
    check(PetscMemoryGetCurrentUsage(&m1), "PetscMemoryGetCurrentUsage");
    r.memory = core::mpi::sum(double(m1 - m0), comm);
    MPI_Barrier(comm);
    t = MPI_Wtime();
    check(KSPSolve(ksp, vb, vu), "KSPSolve");
    r.solve = core::mpi::max(MPI_Wtime() - t, comm);
    KSPConvergedReason reason;
    check(KSPGetConvergedReason(ksp, &reason), "KSPGetConvergedReason");
    r.reason = KSPConvergedReasons[reason];
    PetscInt its;
    check(KSPGetIterationNumber(ksp, &its), "KSPGetIterationNumber");
    r.iterations = its;
    check(MatMult(A, vu, vr), "MatMult");
    check(VecAYPX(vr, -1.0, vb), "VecAYPX");
    check(VecNorm(vr, NORM_2, &rnorm), "VecNorm");
    r.residual = rnorm / bnorm;
    from_vec(vu, ur);
    check(KSPDestroy(&ksp), "KSPDestroy");
    check(MatDestroy(&A), "MatDestroy");
    if (reason < 0) throw Error(std::string("kron-bench: PETSc CG + ") + pc_type + " did not converge: " + r.reason);
    const double diff = max_diff(u, ur, comm) / max_abs(u, comm);
    // Both meet rtol 1e-10: their solutions agree to about cond(A) * 1e-10 of the data.
    if (!(diff <= 1e-6)) throw Error(std::string("kron-bench: kron and PETSc CG + ") + pc_type + " solutions differ by " + sci(diff));
    return r;
  };
  const double kron_total = kron_setup + kron_solve;
  std::vector<std::pair<std::string, AmgRun>> runs;
  runs.push_back({"gamg", amg(PCGAMG)});
#if defined(PETSC_HAVE_HYPRE)
  runs.push_back({"hypre", amg(PCHYPRE)});
#endif
  check(VecDestroy(&vb), "VecDestroy");
  check(VecDestroy(&vu), "VecDestroy");
  check(VecDestroy(&vr), "VecDestroy");
  auto& e = report.extra()["poisson_dirichlet_" + cube(n)];
  e["kron_setup_seconds"] = kron_setup;
  e["kron_solve_seconds"] = kron_solve;
  e["kron_time_to_solution_seconds"] = kron_total;
  e["kron_relative_residual"] = kron_residual;
  e["kron_operator_bytes"] = double(kron_bytes);
  for (const auto& [name, r] : runs) {
    const double total = r.assembly + r.setup + r.solve;
    Row row;
    row.name = "poisson fd2 dirichlet";
    row.size = cube(n);
    row.seconds = kron_total;
    row.baseline = "PETSc CG+" + name + " (asm+setup+solve)";
    row.baseline_seconds = total;
    std::ostringstream note;
    note << "kron setup " << kron_setup << " s + solve " << kron_solve << " s, residual " << sci(kron_residual) << "; "
         << name << " " << r.iterations << " its, asm " << r.assembly << " s, setup " << r.setup << " s, solve " << r.solve
         << " s, residual " << sci(r.residual);
    row.note = note.str();
    report.add(row);
    auto& o = e[name];
    o["assembly_seconds"] = r.assembly;
    o["setup_seconds"] = r.setup;
    o["solve_seconds"] = r.solve;
    o["time_to_solution_seconds"] = total;
    o["iterations"] = double(r.iterations);
    o["relative_residual"] = r.residual;
    o["converged_reason"] = r.reason;
    o["setup_memory_bytes"] = r.memory;
    o["speedup_kron_time_to_solution"] = total / kron_total;
  }
}

void compact_derivative(long n, int reps, double copy_bw, Report& report, MPI_Comm comm) {
  auto grid = auto_grid(n, comm);
  const AxisGrid axis = AxisGrid::uniform(n, 0, 1);
  const std::array<AxisGrid, 3> ax{axis, axis, axis};
  linops::PencilSet in(grid, {n, n, n}), out(grid, {n, n, n});
  const linops::LineOperator d1(linops::derivative(axis, linops::Scheme::Compact6, 1));
  const double N = double(n) * n * n;
  for (int a = 0; a < 3; ++a) {
    RealField& f = in.field(a);  // pencil a: axis a is local
    fill(f, ax, [a](double x, double y, double z) { const double c[3] = {x, y, z}; return std::sin(2 * c[a] + 0.3 * c[(a + 1) % 3]); });
    const linops::Lines li = linops::lines_of(f, a), lo = linops::lines_of(out.field(a), a);
    // The copy reference again, right before the case and on the same arrays: a shared machine's
    // bandwidth drifts, and the fraction is taken against the better of the two measurements.
    const std::size_t bytes = sizeof(double) * f.storage_size();
    const Timing tc = time_collective([&] { std::memcpy(out.field(a).data(), f.data(), bytes); }, reps, comm);
    const double copy_ref = std::max(copy_bw, core::mpi::sum(2.0 * double(bytes), comm) / tc.min);
    const Timing t = time_collective([&] { d1.apply(li, lo); }, reps, comm);
    RealField ex(f.pencil());
    fill(ex, ax, [a](double x, double y, double z) { const double c[3] = {x, y, z}; return 2 * std::cos(2 * c[a] + 0.3 * c[(a + 1) % 3]); });
    const double err = max_diff(out.field(a), ex, comm);
    if (!(err <= 1e-5)) throw Error("kron-bench: compact6 derivative error " + sci(err) + " is too large");
    Row r;
    r.name = std::string("compact6 d/d") + "xyz"[a];
    r.size = cube(n);
    r.seconds = t.min;
    r.gbytes_per_s = 16.0 * N / t.min / 1e9;  // read u, write u'
    r.fraction_of_copy = r.gbytes_per_s * 1e9 / copy_ref;
    r.note = std::string(1, "xyz"[a]) + "-pencil, lines contiguous; copy reference " + fixed(copy_ref / 1e9, 1) +
             " GB/s; max error " + sci(err);
    report.add(r);
    report.extra()[std::string("compact6_d") + "xyz"[a] + "_" + cube(n) + "_fraction_of_copy"] = r.fraction_of_copy;
  }
}

}  // namespace

void run_linops_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "linops", {"copy", "laplacian", "compact", "poisson"});
  linops::petsc::initialize();
  const long n = !opt.sizes.empty() ? opt.sizes.front() : opt.quick ? 32 : 256;
  const int reps = opt.repeat > 0 ? opt.repeat : opt.quick ? 2 : 10;
  const double copy_bw = copy_bandwidth(sizeof(double) * std::size_t(n) * n * n / core::mpi::size(comm), comm);
  Row c;
  c.name = "copy (memcpy, all ranks)";
  c.size = cube(n);
  c.gbytes_per_s = copy_bw / 1e9;
  c.fraction_of_copy = 1;
  report.add(c);
  report.extra()["copy_bandwidth_gbytes_per_s"] = copy_bw / 1e9;
  if (opt.wants("laplacian")) {
    core::log::info("linops suite: Laplacian apply ", cube(n));
    laplacian_apply(n, reps, copy_bw, report, comm);
  }
  if (opt.wants("compact")) {
    core::log::info("linops suite: compact-6 derivatives ", cube(n));
    compact_derivative(n, reps, copy_bw, report, comm);
  }
  if (opt.wants("poisson")) {
    core::log::info("linops suite: Dirichlet Poisson ", cube(n), " (PETSc AMG runs take minutes at 256^3)");
    poisson_solve(n, opt.quick, report, comm);
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
}

}  // namespace kron::bench
