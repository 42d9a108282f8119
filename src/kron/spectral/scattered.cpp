#include "kron/spectral/scattered.hpp"

#include <algorithm>
#include <string>

#include "kron/core/eigen.hpp"
#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/spectral/barycentric.hpp"

namespace kron::spectral {

std::vector<double> evaluate_at(const layout::RealField& u_in, const std::array<layout::AxisGrid, 3>& axes,
                                const std::vector<std::array<double, 3>>& points, int c) {
  core::ScopedTimer timer("spectral.evaluate_at");
  const layout::Pencil& px = u_in.pencil();
  const MPI_Comm comm = px.grid().comm();
  if (px.axis() != 0 || u_in.has_halo()) throw Error("evaluate_at: u must be an x-pencil field without halos");
  for (int a = 0; a < 3; ++a)
    if (px.global()[a] != axes[a].size())
      throw Error("evaluate_at: the field has " + std::to_string(px.global()[a]) + " points along axis " + std::to_string(a) + ", the nodes " +
                  std::to_string(axes[a].size()));
  if (c < 0 || c >= u_in.components()) throw Error("evaluate_at: no component " + std::to_string(c));
  const layout::RealField hcopy = u_in.on_device() ? layout::to_host(u_in) : layout::RealField();
  const layout::RealField& u = u_in.on_device() ? hcopy : u_in;

  // Every rank's points, in rank order.
  const int np = core::mpi::size(comm);
  const int mine = static_cast<int>(points.size());
  std::vector<int> counts(static_cast<std::size_t>(np)), displ(static_cast<std::size_t>(np), 0);
  core::mpi::check(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, comm), "MPI_Allgather (point counts)");
  long total = 0;
  for (int r = 0; r < np; ++r) {
    displ[static_cast<std::size_t>(r)] = static_cast<int>(3 * total);
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<int> c3(counts);
  for (int& v : c3) v *= 3;
  std::vector<double> all(static_cast<std::size_t>(3 * total));
  core::mpi::check(MPI_Allgatherv(points.empty() ? nullptr : points.data()->data(), 3 * mine, MPI_DOUBLE, all.data(), c3.data(), displ.data(),
                                  MPI_DOUBLE, comm),
                   "MPI_Allgatherv (points)");
  // Checked on every rank alike (all ranks hold all points): the same error everywhere.
  for (long p = 0; p < total; ++p)
    for (int a = 0; a < 3; ++a) {
      const double v = all[static_cast<std::size_t>(3 * p + a)];
      const layout::AxisGrid& g = axes[a];
      if (g.size() <= 1) continue;
      const double tol = 1e-12 * g.length();
      if (!std::isfinite(v) || (!g.periodic() && (v < g.lower() - tol || v > g.upper() + tol)))
        throw Error("evaluate_at: point " + std::to_string(p) + " has " + "xyz"[a] + " = " + std::to_string(v) + ", outside [" +
                    std::to_string(g.lower()) + ", " + std::to_string(g.upper()) + "]");
    }

  const layout::Box& b = px.box();
  const long nx = b.n[0], ny = b.n[1], nz = b.n[2], lines = ny * nz;
  std::vector<double> partial(static_cast<std::size_t>(total), 0.0);
  if (lines > 0 && total > 0) {
    // The local values as an nx x lines matrix (x contiguous; lines j + ny k).
    const auto& st = u.layout().stride;
    Eigen::MatrixXd U(nx, lines);
    for (long k = 0; k < nz; ++k)
      for (long j = 0; j < ny; ++j)
        for (long i = 0; i < nx; ++i) U(i, j + ny * k) = u.origin(c)[i * st[0] + j * st[1] + k * st[2]];
    auto weights_of = [&](int a, long p0, long m, long lo, long n) {
      // Rows: points p0 .. p0+m-1; columns: this rank's nodes lo .. lo+n-1 of axis a.
      if (axes[a].size() <= 1) return Eigen::MatrixXd(Eigen::MatrixXd::Ones(m, 1));
      std::vector<double> y(static_cast<std::size_t>(m));
      for (long q = 0; q < m; ++q) y[static_cast<std::size_t>(q)] = all[static_cast<std::size_t>(3 * (p0 + q) + a)];
      return Eigen::MatrixXd(interpolation_matrix(axes[a], y).middleCols(lo, n));
    };
    // Batches of points bound the GEMM's result to about 32 MiB.
    const long batch = std::max(1L, std::min(total, (4L << 20) / std::max(1L, lines)));
    for (long p0 = 0; p0 < total; p0 += batch) {
      const long m = std::min(batch, total - p0);
      const Eigen::MatrixXd Wx = weights_of(0, p0, m, b.lo[0], nx), Wy = weights_of(1, p0, m, b.lo[1], ny), Wz = weights_of(2, p0, m, b.lo[2], nz);
      const Eigen::MatrixXd T = Wx * U;  // m x lines
      for (long q = 0; q < m; ++q) {
        double s = 0;
        for (long k = 0; k < nz; ++k) {
          double sj = 0;
          for (long j = 0; j < ny; ++j) sj += Wy(q, j) * T(q, j + ny * k);
          s += Wz(q, k) * sj;
        }
        partial[static_cast<std::size_t>(p0 + q)] = s;
      }
    }
  }
  std::vector<double> out(static_cast<std::size_t>(mine));
  core::mpi::check(MPI_Reduce_scatter(partial.data(), out.data(), counts.data(), MPI_DOUBLE, MPI_SUM, comm), "MPI_Reduce_scatter (point values)");
  return out;
}

}  // namespace kron::spectral
