// How a family composes the engine: three rectangular LineOps (barycentric interpolation from
// 17 Chebyshev nodes to 24 uniform points per axis) and a channel-mixing LineOp in one TensorOp,
// applied to a 2-channel field on any number of ranks, then its adjoint from the same plan.
// Run:  mpirun -n 2 build/bin/kron-example-interpolate   (prints the error; exit 1 if too large)
#include <mpi.h>

#include <cmath>
#include <cstdio>

#include "kron/layout/field_ops.hpp"
#include "kron/linops/tensor_op.hpp"

using namespace kron;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    using linops::LineOp;
    using linops::TensorOp;
    using linops::Trans;
    const long n = 17, m = 24;
    const auto p = layout::ProcessGrid::choose({n, n, n}, core::mpi::size());
    auto grid = std::make_shared<layout::ProcessGrid>(MPI_COMM_WORLD, p[0], p[1]);
    const auto cheb = layout::AxisGrid::chebyshev(n, -1, 1), fine = layout::AxisGrid::uniform(m, -1, 1);
    // The 1D operators: an m x n interpolation matrix and a 2 x 2 channel mix.
    auto interp = linops::dense_op(linops::lagrange_matrix(cheb.coords(), fine.coords()));
    auto mix = std::make_shared<LineOp<double>>(LineOp<double>::dense(2, 2, {1, 1, 1, -1}));
    // One plan: stage order, pencils, transposes and scratch sizes are decided here, once.
    const TensorOp<double> op(grid, {n, n, n}, std::vector<long>{2},
                              {{0, interp, Trans::N}, {1, interp, Trans::N}, {2, interp, Trans::N},
                               {TensorOp<double>::channel_axis(0), mix, Trans::N}});
    linops::PencilWorkspace ws(grid);  // caller-owned scratch, shared by any number of operators
    layout::RealField u(layout::Pencil({n, n, n}, grid, 0), 2), v(layout::Pencil(op.out_shape(), grid, 0), 2);
    auto f = [](double x, double y, double z) { return std::sin(2 * x) * std::cos(y) * std::exp(0.5 * z); };
    layout::ops::fill_global(u, [&](const std::array<long, 3>& g, int c) { return (c + 1) * f(cheb[g[0]], cheb[g[1]], cheb[g[2]]); });
    op.apply(u, v, ws);  // v = (mix (x) Iz Iy Ix)(I (x) P (x) P (x) P) u
    // Check: channel 0 is u0 + u1 = 3 f, channel 1 is u0 - u1 = -f, on the fine grid.
    layout::RealField want(v.pencil(), 2);
    layout::ops::fill_global(want, [&](const std::array<long, 3>& g, int c) { return (c == 0 ? 3 : -1) * f(fine[g[0]], fine[g[1]], fine[g[2]]); });
    layout::ops::axpy(-1.0, v, want);
    const double err = layout::ops::max_abs(want);
    // The adjoint (least-squares fits, back-propagation) from the same plan: <A u, v> = <u, A^T v>.
    layout::RealField back(u.pencil(), 2);
    op.apply_transpose(v, back, ws);
    const double lhs = layout::ops::dot(v, v), rhs = layout::ops::dot(back, u);
    if (core::mpi::rank() == 0)
      std::printf("%s\ninterpolation error %.3e, adjoint test |<Au,v> - <u,A^T v>| / |<Au,v>| = %.3e, workspace %zu bytes\n",
                  op.describe().c_str(), err, std::abs(lhs - rhs) / std::abs(lhs), ws.bytes());
    rc = err < 1e-12 && std::abs(lhs - rhs) <= 1e-12 * std::abs(lhs) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kron-example-interpolate: error: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
