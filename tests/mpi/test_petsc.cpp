// The PETSc bridge: the matrix-free variable-coefficient operator against an independently
// assembled PETSc AIJ matrix (MatMult and a CG + GAMG solve), observed orders of the Krylov
// diffusion solver, and a diverged solve reported with PETSc's converged reason.
#include <catch2/catch.hpp>
#include "kron/core/eigen.hpp"

#include <petscksp.h>
#include <unsupported/Eigen/KroneckerProduct>

#include <cmath>
#include <functional>

#include "common.hpp"
#include "kron/layout/gather.hpp"
#include "kron/linops/diffusion.hpp"
#include "kron/linops/diffusion_solver.hpp"
#include "kron/spectral/fit_tao.hpp"

using namespace kron;
using namespace kron::linops;
using layout::AxisGrid;

namespace {

const double kc = 0.5;
double coef(double x, double y, double z) { return 1 + kc * std::sin(2 * M_PI * x) * std::cos(M_PI * y) * z; }
double exact(double x, double y, double z) { return std::sin(M_PI * x) * std::sin(M_PI * y) * std::sin(M_PI * z) + x * y * z; }
// div(a grad u) for the two functions above.
double source(double x, double y, double z) {
  const double S = std::sin(M_PI * x) * std::sin(M_PI * y) * std::sin(M_PI * z);
  const double ux = M_PI * std::cos(M_PI * x) * std::sin(M_PI * y) * std::sin(M_PI * z) + y * z;
  const double uy = M_PI * std::sin(M_PI * x) * std::cos(M_PI * y) * std::sin(M_PI * z) + x * z;
  const double uz = M_PI * std::sin(M_PI * x) * std::sin(M_PI * y) * std::cos(M_PI * z) + x * y;
  const double ax = kc * 2 * M_PI * std::cos(2 * M_PI * x) * std::cos(M_PI * y) * z;
  const double ay = -kc * M_PI * std::sin(2 * M_PI * x) * std::sin(M_PI * y) * z;
  const double az = kc * std::sin(2 * M_PI * x) * std::cos(M_PI * y);
  return coef(x, y, z) * (-3 * M_PI * M_PI * S) + ax * ux + ay * uy + az * uz;
}

void fill(layout::RealField& f, const std::array<AxisGrid, 3>& ax, double (*fn)(double, double, double)) {
  const auto& b = f.pencil().box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) f(i, j, k) = fn(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + k]);
}

// PETSc's global index of every grid point, for rows owned rank by rank in x-pencil order.
struct Numbering {
  std::vector<long> lo, n, offset;  // per rank: box lo[3], n[3], first row
  long index(long i, long j, long k) const {
    for (std::size_t r = 0; r < offset.size(); ++r) {
      const long* L = &lo[3 * r];
      const long* N = &n[3 * r];
      if (i >= L[0] && i < L[0] + N[0] && j >= L[1] && j < L[1] + N[1] && k >= L[2] && k < L[2] + N[2])
        return offset[r] + ((k - L[2]) * N[1] + (j - L[1])) * N[0] + (i - L[0]);
    }
    return -1;
  }
};
Numbering numbering(const layout::Pencil& px) {
  const int P = core::mpi::size(MPI_COMM_WORLD);
  Numbering num;
  long mine[6] = {px.box().lo[0], px.box().lo[1], px.box().lo[2], px.box().n[0], px.box().n[1], px.box().n[2]};
  std::vector<long> all(6 * P);
  MPI_Allgather(mine, 6, MPI_LONG, all.data(), 6, MPI_LONG, MPI_COMM_WORLD);
  long off = 0;
  for (int r = 0; r < P; ++r) {
    for (int a = 0; a < 3; ++a) { num.lo.push_back(all[6 * r + a]); num.n.push_back(all[6 * r + 3 + a]); }
    num.offset.push_back(off);
    off += all[6 * r + 3] * all[6 * r + 4] * all[6 * r + 5];
  }
  return num;
}

// The second-order flux-form matrix of div(a grad .) on a uniform Dirichlet grid, written
// straight from the formula: interior rows (1/h^2)[a_{i+1/2}(u_{i+1}-u_i) - a_{i-1/2}(u_i-u_{i-1})]
// summed over axes with a_{i+1/2} = (a_i + a_{i+1})/2; boundary rows empty (`full`) or the
// identity with boundary columns left out (`dirichlet_system`, negated interior rows).
Mat assemble(const layout::Pencil& px, const std::array<AxisGrid, 3>& ax, bool dirichlet_system) {
  const Numbering num = numbering(px);
  const auto& b = px.box();
  const long nl = b.volume();
  const long n = ax[0].size();
  const double h = ax[0][1] - ax[0][0];
  Mat A;
  MatCreateAIJ(MPI_COMM_WORLD, nl, nl, PETSC_DETERMINE, PETSC_DETERMINE, 7, nullptr, 7, nullptr, &A);
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const long g[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        const PetscInt row = num.index(g[0], g[1], g[2]);
        const bool bnd = g[0] == 0 || g[1] == 0 || g[2] == 0 || g[0] == n - 1 || g[1] == n - 1 || g[2] == n - 1;
        if (bnd) {
          if (dirichlet_system) MatSetValue(A, row, row, 1.0, INSERT_VALUES);
          continue;
        }
        const double sign = dirichlet_system ? -1.0 : 1.0;
        const double a0 = coef(ax[0][g[0]], ax[1][g[1]], ax[2][g[2]]);
        double diag = 0;
        for (int a = 0; a < 3; ++a)
          for (int s : {-1, 1}) {
            long q[3] = {g[0], g[1], g[2]};
            q[a] += s;
            const double an = 0.5 * (a0 + coef(ax[0][q[0]], ax[1][q[1]], ax[2][q[2]])) / (h * h);
            diag -= an;
            const bool qb = q[a] == 0 || q[a] == n - 1;
            if (dirichlet_system && qb) continue;
            MatSetValue(A, row, num.index(q[0], q[1], q[2]), sign * an, INSERT_VALUES);
          }
        petsc::check(MatSetValue(A, row, row, sign * diag, INSERT_VALUES), "MatSetValue");
      }
  petsc::check(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY), "MatAssemblyBegin");
  petsc::check(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY), "MatAssemblyEnd");
  return A;
}

void to_vec(const layout::RealField& f, Vec v) {
  PetscScalar* p;
  VecGetArray(v, &p);
  std::copy(f.data(), f.data() + f.storage_size(), p);
  VecRestoreArray(v, &p);
}
void from_vec(Vec v, layout::RealField& f) {
  const PetscScalar* p;
  VecGetArrayRead(v, &p);
  std::copy(p, p + f.storage_size(), f.data());
  VecRestoreArrayRead(v, &p);
}

double max_abs_diff(const layout::RealField& a, const layout::RealField& b) {
  double d = 0;
  for (std::size_t q = 0; q < a.storage_size(); ++q) d = std::max(d, std::abs(a.data()[q] - b.data()[q]));
  return core::mpi::max(d, MPI_COMM_WORLD);
}

double solve_error(Scheme s, long n, layout::ProcessGridPtr grid, KrylovResult* info = nullptr) {
  std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  layout::Pencil px({n, n, n}, grid, 0);
  layout::RealField a(px), f(px), u(px), ue(px);
  fill(a, ax, coef);
  fill(f, ax, source);
  fill(ue, ax, exact);
  const BoundaryKind D = BoundaryKind::Dirichlet;
  DiffusionSolver solver(grid, ax, {s, s, s}, {D, D, D}, a, true);
  KrylovOptions opt;
  opt.rtol = 1e-13;
  opt.progress_every = 0;
  const KrylovResult r = solver.solve(f, [](int, int, const std::array<double, 3>& X) { return exact(X[0], X[1], X[2]); }, u, opt);
  if (info) *info = r;
  return max_abs_diff(u, ue);
}

}  // namespace

TEST_CASE("matrix-free variable-coefficient operator and Krylov solve agree with PETSc on the assembled matrix", "[petsc]") {
  const long n = 20;
  std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  petsc::initialize();
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    layout::Pencil px({n, n, n}, grid, 0);
    layout::RealField a(px), x(px), y(px), ya(px), f(px), u(px), ue(px);
    fill(a, ax, coef);
    // Operator: a smooth but non-polynomial input, all rows.
    fill(x, ax, [](double x, double y, double z) { return std::exp(x - 0.3 * y) * std::cos(2 * z + x); });
    const BoundaryKind D = BoundaryKind::Dirichlet;
    DiffusionSolver solver(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2}, {D, D, D}, a, true);
    REQUIRE(solver.op().flux_form());
    REQUIRE(solver.op().symmetric());
    solver.op().apply(x, y);
    Mat L = assemble(px, ax, false);
    Vec vx, vy;
    MatCreateVecs(L, &vx, &vy);
    to_vec(x, vx);
    petsc::check(MatMult(L, vx, vy), "MatMult");
    from_vec(vy, ya);
    double ymax = 0;
    for (std::size_t q = 0; q < y.storage_size(); ++q) ymax = std::max(ymax, std::abs(ya.data()[q]));
    ymax = core::mpi::max(ymax, MPI_COMM_WORLD);
    INFO("matrix-free vs assembled: " << max_abs_diff(y, ya) / ymax << " relative");
    CHECK(max_abs_diff(y, ya) <= 1e-12 * ymax);  // different summation order, terms ~ a u / h^2
    MatDestroy(&L);

    // Solve: kron (MATSHELL + fast-diagonalization PCSHELL, CG) against PETSc CG + GAMG on the
    // assembled Dirichlet system, both to rtol 1e-13.
    fill(f, ax, source);
    KrylovOptions opt;
    opt.rtol = 1e-13;
    opt.progress_every = 0;
    auto g = [](int, int, const std::array<double, 3>& X) { return exact(X[0], X[1], X[2]); };
    const KrylovResult kr = solver.solve(f, g, u, opt);
    CHECK(kr.ksp_type == "cg");
    CHECK(kr.pc_type == "shell");
    CHECK(kr.iterations < 40);  // mean-coefficient preconditioning: independent of n, ~20 here
    // Reference right-hand side: -f inside, the boundary values on the boundary, moved over.
    Mat A = assemble(px, ax, true);
    layout::RealField rb(px);
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const long gi[3] = {b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          const double X = ax[0][gi[0]], Y = ax[1][gi[1]], Z = ax[2][gi[2]];
          const bool bnd = gi[0] == 0 || gi[1] == 0 || gi[2] == 0 || gi[0] == n - 1 || gi[1] == n - 1 || gi[2] == n - 1;
          if (bnd) { rb(i, j, k) = exact(X, Y, Z); continue; }
          double v = -f(i, j, k);
          // Known boundary neighbours: -(a_face/h^2) g moves to the right-hand side with a + sign.
          const double h = ax[0][1] - ax[0][0];
          for (int a2 = 0; a2 < 3; ++a2)
            for (int s : {-1, 1}) {
              long q[3] = {gi[0], gi[1], gi[2]};
              q[a2] += s;
              if (!(q[a2] == 0 || q[a2] == n - 1)) continue;
              const double an = 0.5 * (coef(X, Y, Z) + coef(ax[0][q[0]], ax[1][q[1]], ax[2][q[2]])) / (h * h);
              v += an * exact(ax[0][q[0]], ax[1][q[1]], ax[2][q[2]]);
            }
          rb(i, j, k) = v;
        }
    KSP ksp;
    KSPCreate(MPI_COMM_WORLD, &ksp);
    KSPSetOperators(ksp, A, A);
    KSPSetType(ksp, KSPCG);
    PC pc;
    KSPGetPC(ksp, &pc);
    PCSetType(pc, PCGAMG);
    KSPSetTolerances(ksp, 1e-13, 1e-50, PETSC_DEFAULT, 2000);
    Vec vb, vu;
    MatCreateVecs(A, &vu, &vb);
    to_vec(rb, vb);
    REQUIRE(KSPSolve(ksp, vb, vu) == 0);
    KSPConvergedReason reason;
    KSPGetConvergedReason(ksp, &reason);
    CHECK(reason > 0);
    layout::RealField ur(px);
    from_vec(vu, ur);
    double umax = 0;
    for (std::size_t q = 0; q < u.storage_size(); ++q) umax = std::max(umax, std::abs(u.data()[q]));
    umax = core::mpi::max(umax, MPI_COMM_WORLD);
    INFO("kron " << kr.iterations << " iterations; |u_kron - u_petsc| = " << max_abs_diff(u, ur));
    CHECK(max_abs_diff(u, ur) <= 1e-10 * umax);
    KSPDestroy(&ksp);
    VecDestroy(&vb);
    VecDestroy(&vu);
    VecDestroy(&vx);
    VecDestroy(&vy);
    MatDestroy(&A);
  }
}

TEST_CASE("Krylov diffusion solves converge at the order of the scheme", "[petsc]") {
  // fd2: flux form; the others: product form a D2 u + (D1 a)(D1 u) with the scheme's closures.
  // Orders from three grids (17, 33, 65 points: h halving): the coarse pair within [lo1, hi1]
  // (compact4's is still pre-asymptotic, converging from above), the fine pair within
  // [lo2, hi2] around the scheme's order; the finest error below ceiling (measured, x ~2).
  struct Case { Scheme s; double lo1, hi1, lo2, hi2, ceiling; };
  const Case cases[] = {{Scheme::FD2, 1.9, 2.1, 1.9, 2.1, 4e-4},
                        {Scheme::FD4, 3.7, 4.1, 3.8, 4.2, 1.3e-7},
                        {Scheme::Compact4, 4.5, 5.2, 3.8, 4.2, 5e-8},
                        {Scheme::Compact6, 5.8, 6.3, 5.7, 6.2, 1.8e-9}};
  auto grid = test::make_grid(test::all_grid_shapes().back());
  for (const Case& c : cases) {
    double e[3];
    for (int q = 0; q < 3; ++q) e[q] = solve_error(c.s, (16L << q) + 1, grid);
    const double o1 = std::log2(e[0] / e[1]), o2 = std::log2(e[1] / e[2]);
    INFO(to_string(c.s) << ": errors " << e[0] << ", " << e[1] << ", " << e[2] << ", orders " << o1 << ", " << o2);
    CHECK(o1 >= c.lo1);
    CHECK(o1 <= c.hi1);
    CHECK(o2 >= c.lo2);
    CHECK(o2 <= c.hi2);
    CHECK(e[2] <= c.ceiling);
  }
}

TEST_CASE("a diverged Krylov solve stops with PETSc's converged reason", "[petsc]") {
  auto grid = test::make_grid(test::all_grid_shapes().front());
  const long n = 12;
  std::array<AxisGrid, 3> ax{AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1), AxisGrid::uniform(n, 0, 1)};
  layout::Pencil px({n, n, n}, grid, 0);
  layout::RealField a(px), f(px), u(px);
  fill(a, ax, coef);
  fill(f, ax, source);
  const BoundaryKind D = BoundaryKind::Dirichlet;
  DiffusionSolver solver(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2}, {D, D, D}, a, false);
  KrylovOptions opt;
  opt.rtol = 1e-12;
  opt.max_it = 3;
  opt.progress_every = 0;
  auto g = [](int, int, const std::array<double, 3>& X) { return exact(X[0], X[1], X[2]); };
  CHECK_THROWS_WITH(solver.solve(f, g, u, opt), Catch::Contains("DIVERGED_ITS") && Catch::Contains("3 iterations"));
  // A non-finite coefficient (on the rank holding the first interior point): PETSc notices.
  if (px.box().lo[0] <= 1 && px.box().lo[1] <= 1 && px.box().lo[2] <= 1 && px.box().volume() > 0)
    a(1 - px.box().lo[0], 1 - px.box().lo[1], 1 - px.box().lo[2]) = std::nan("");
  DiffusionSolver bad(grid, ax, {Scheme::FD2, Scheme::FD2, Scheme::FD2}, {D, D, D}, a, false);
  opt.max_it = 100;
  CHECK_THROWS_WITH(bad.solve(f, g, u, opt), Catch::Contains("NAN") || Catch::Contains("nan") || Catch::Contains("Inf"));
}

TEST_CASE("product-form variable-coefficient operator equals the dense assembled operator", "[petsc][diffusion]") {
  // An independent reference: every 1D derivative as a dense matrix, the 3D operator
  // sum_a [diag(a) D2_a + diag(D1_a a) D1_a] assembled with Eigen's Kronecker products (x fastest:
  // I_z (x) I_y (x) D_x), boundary rows of non-periodic axes zero, applied on rank 0.
  const std::array<long, 3> n{9, 8, 10};
  const std::array<AxisGrid, 3> ax{AxisGrid::uniform(n[0], 0, 1), AxisGrid::periodic(n[1], 0, 1), AxisGrid::uniform(n[2], 0, 2)};
  const std::array<Scheme, 3> sch{Scheme::Compact4, Scheme::FD4, Scheme::Compact6};
  const long N = n[0] * n[1] * n[2];
  auto coef3 = [](double x, double y, double z) { return 1 + 0.3 * std::sin(2 * M_PI * x) * std::cos(2 * M_PI * y) + 0.2 * z; };
  auto u3 = [](double x, double y, double z) { return std::exp(x - 0.3 * z) * std::cos(2 * M_PI * y + x) + z * z * x; };
  Eigen::VectorXd A(N), U(N);
  for (long k = 0; k < n[2]; ++k)
    for (long j = 0; j < n[1]; ++j)
      for (long i = 0; i < n[0]; ++i) {
        A[i + n[0] * (j + n[1] * k)] = coef3(ax[0][i], ax[1][j], ax[2][k]);
        U[i + n[0] * (j + n[1] * k)] = u3(ax[0][i], ax[1][j], ax[2][k]);
      }
  auto along = [&](int a, const Eigen::MatrixXd& D) {
    const Eigen::MatrixXd I0 = Eigen::MatrixXd::Identity(n[0], n[0]), I1 = Eigen::MatrixXd::Identity(n[1], n[1]),
                          I2 = Eigen::MatrixXd::Identity(n[2], n[2]);
    if (a == 0) return Eigen::MatrixXd(Eigen::kroneckerProduct(I2, Eigen::kroneckerProduct(I1, D)));
    if (a == 1) return Eigen::MatrixXd(Eigen::kroneckerProduct(I2, Eigen::kroneckerProduct(D, I0)));
    return Eigen::MatrixXd(Eigen::kroneckerProduct(D, Eigen::kroneckerProduct(I1, I0)));
  };
  Eigen::VectorXd ref = Eigen::VectorXd::Zero(N);
  for (int a = 0; a < 3; ++a) {
    const Eigen::MatrixXd D1 = along(a, derivative(ax[a], sch[a], 1).dense()), D2 = along(a, derivative(ax[a], sch[a], 2).dense());
    ref += A.cwiseProduct(D2 * U) + (D1 * A).cwiseProduct(D1 * U);
  }
  for (long k = 0; k < n[2]; ++k)
    for (long j = 0; j < n[1]; ++j)
      for (long i = 0; i < n[0]; ++i)
        if (i == 0 || i == n[0] - 1 || k == 0 || k == n[2] - 1) ref[i + n[0] * (j + n[1] * k)] = 0;
  for (auto shape : test::all_grid_shapes()) {
    auto grid = test::make_grid(shape);
    layout::Pencil px(n, grid, 0);
    layout::RealField a(px), u(px), Lu(px);
    const auto& b = px.box();
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) {
          const long g = (b.lo[0] + i) + n[0] * ((b.lo[1] + j) + n[1] * (b.lo[2] + k));
          a(i, j, k) = A[g];
          u(i, j, k) = U[g];
        }
    VariableDiffusion L(grid, ax, sch, a);
    REQUIRE_FALSE(L.flux_form());
    L.apply(u, Lu);
    const std::vector<double> all = layout::gather(Lu);
    double d = 0;
    if (core::mpi::rank() == 0)
      for (long q = 0; q < N; ++q) d = std::max(d, std::abs(all[q] - ref[q]));
    INFO("grid " << shape[0] << "x" << shape[1] << ": max |L u - reference| = " << test::from_root(d) << " of "
                 << ref.cwiseAbs().maxCoeff());
    CHECK(test::from_root(d) <= 1e-12 * ref.cwiseAbs().maxCoeff());
    // A vector field is refused with a clear error, not truncated to its first component.
    layout::RealField u3c(px, 3), Lu3c(px, 3);
    CHECK_THROWS_WITH(L.apply(u3c, Lu3c), Catch::Contains("one component"));
  }
}

TEST_CASE("L-BFGS (TAO) on BWLer's space-time loss: lower than Adam's at equal steps, above the exact fit", "[petsc][fit]") {
  // u_t + 2 u_x = 0, u(0, x) = sin x: 11 Chebyshev (t) x 10 Fourier (x) nodes.
  spectral::SpaceTimeProblem p;
  p.t = AxisGrid::chebyshev(11, 0.0, 1.0);
  p.x = AxisGrid::periodic(10, 0.0, 2 * M_PI);
  p.terms = {{1.0, 1, 0}, {2.0, 0, 1}};
  spectral::SpaceTimeProblem::Initial u0;
  u0.weight = 100;
  for (double X : p.x.coords()) u0.values.push_back(std::sin(X));
  p.initial = {u0};
  const auto exact = spectral::fit_space_time(p);
  const auto lb = spectral::fit_lbfgs(p, 300, 60.0);
  const auto adam = spectral::fit_adam(p, 300, 60.0);
  const spectral::SpaceTimeLoss loss(p);
  INFO("exact " << exact.loss << "; " << lb.method << ": " << lb.loss << "; " << adam.method << ": " << adam.loss);
  CHECK(lb.iterations > 0);
  CHECK(lb.iterations <= 300);
  CHECK(lb.loss == Approx(loss(lb.u)).epsilon(1e-12));
  CHECK(lb.loss < adam.loss);
  CHECK(lb.loss >= exact.loss);
  CHECK(lb.loss < 1e-3 * loss(Eigen::MatrixXd::Zero(11, 10)));
}
