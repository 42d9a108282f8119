// poisson.cpp: a small simulation code in C++ on kron's layers (kron::layout, kron::linops).
//
// The code keeps its fields in its own std::vectors (x fastest over its local box) and hands them
// to kron as fields without copying (Field::wrap). It solves the Dirichlet problem
//   lap u = f on [0,1]^3,  u = g on the boundary,
// with the exact solution u = sin(pi x) sin(2 pi y) sin(pi z) + x y z, by kron's fast
// diagonalisation with fourth-order compact differences on two grids, prints the errors and the
// observed order, and writes the finer solution and its error to HDF5/XDMF.
//
//   mpirun -n 3 ./poisson_cpp [OUTPUT_DIR]
#include <kron/core/error.hpp>
#include <kron/layout/output.hpp>
#include <kron/layout/process_grid.hpp>
#include <kron/linops/fast_poisson.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

using namespace kron;

namespace {
const double pi = std::acos(-1.0);
double exact(double x, double y, double z) { return std::sin(pi * x) * std::sin(2 * pi * y) * std::sin(pi * z) + x * y * z; }
double source(double x, double y, double z) { return -6 * pi * pi * std::sin(pi * x) * std::sin(2 * pi * y) * std::sin(pi * z); }

struct Result {
  double error;
  std::vector<double> u, e;
  layout::Pencil pencil;
  layout::Domain domain;
};

Result solve(MPI_Comm comm, long n, int p1, int p2) {
  layout::Domain dom;
  for (auto& a : dom.axes) a = layout::AxisGrid::uniform(n, 0.0, 1.0);
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, p1, p2);
  const layout::Pencil px(dom.shape(), grid, 0);
  const auto& box = px.box();
  // The code's own arrays of its box.
  std::vector<double> f(static_cast<std::size_t>(box.volume())), u(f.size()), e(f.size());
  auto X = [&](int a, long i) { return dom.axes[a][box.lo[a] + i]; };
  for (long k = 0; k < box.n[2]; ++k)
    for (long j = 0; j < box.n[1]; ++j)
      for (long i = 0; i < box.n[0]; ++i) f[(k * box.n[1] + j) * box.n[0] + i] = source(X(0, i), X(1, j), X(2, k));
  auto ff = layout::RealField::wrap(px, f.data());
  auto fu = layout::RealField::wrap(px, u.data());
  using linops::BoundaryKind;
  const auto D = BoundaryKind::Dirichlet;
  const auto s = linops::Scheme::Compact4;
  linops::FastPoisson solver(grid, dom.axes, {s, s, s}, {D, D, D});
  solver.solve(ff, [](int, int, const std::array<double, 3>& P) { return exact(P[0], P[1], P[2]); }, fu);
  double err = 0;
  for (long k = 0; k < box.n[2]; ++k)
    for (long j = 0; j < box.n[1]; ++j)
      for (long i = 0; i < box.n[0]; ++i) {
        const long p = (k * box.n[1] + j) * box.n[0] + i;
        e[p] = u[p] - exact(X(0, i), X(1, j), X(2, k));
        err = std::max(err, std::abs(e[p]));
      }
  MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPI_DOUBLE, MPI_MAX, comm);
  return {err, std::move(u), std::move(e), px, dom};
}
}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, np = 1, status = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  const std::string dir = argc > 1 ? argv[1] : "out_cpp";
  try {
    const auto shape = layout::ProcessGrid::choose({33, 33, 33}, np);
    const Result coarse = solve(MPI_COMM_WORLD, 17, shape[0], shape[1]);
    Result fine = solve(MPI_COMM_WORLD, 33, shape[0], shape[1]);
    const double order = std::log2(coarse.error / fine.error);
    // Write the finer solution and its error (wrapped again: still no copy).
    auto fu = layout::RealField::wrap(fine.pencil, fine.u.data());
    auto fe = layout::RealField::wrap(fine.pencil, fine.e.data());
    layout::make_directory(dir, MPI_COMM_WORLD);
    layout::OutputWriter out(dir, "poisson", fine.domain, {"# examples/cpp/poisson.cpp\n", np}, {}, MPI_COMM_WORLD);
    out.write_step(0, 0.0, {{"u", &fu, 0}, {"error", &fe, 0}});
    const bool ok = order > 3.5 && fine.error < 1e-4;
    if (rank == 0)
      std::printf("poisson_cpp: compact4 Dirichlet on 17^3 and 33^3 over %d x %d ranks: max errors %.3e, %.3e, order %.2f\n"
                  "  output: %s/poisson.xdmf\n%s\n",
                  shape[0], shape[1], coarse.error, fine.error, order, dir.c_str(), ok ? "poisson_cpp: ok" : "poisson_cpp: FAILED");
    status = ok ? 0 : 1;
  } catch (const kron::Error& e) {
    if (rank == 0) std::fprintf(stderr, "poisson_cpp: %s\n", e.formatted().c_str());
    status = 2;
  }
  MPI_Finalize();
  return status;
}
