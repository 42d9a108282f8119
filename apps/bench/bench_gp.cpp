// kron-bench --suite gp: the Kronecker covariance solve (per-axis eigendecompositions, fast
// diagonalization with eigenvalues combined by product) against a dense Cholesky GP solve (Eigen
// LLT on the full N x N covariance, formed from the same factors), time to solution from the
// kernel and the data, both including their factorisations; the two solutions must agree.
#include <unsupported/Eigen/KroneckerProduct>

#include <cmath>

#include "bench/bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/gp/kronecker.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/gather.hpp"

namespace kron::bench {

namespace {

void kronecker_vs_cholesky(long n, int rounds, const Options& opt, Report& report, MPI_Comm comm) {
  // 2D, n x n points on [0, 1]^2, a Student-t (Matern-5/2) spectral mixture per axis, shift 1e-6
  // (GP-HM's jitter).
  using SM = gp::SpectralMixture;
  std::vector<double> x;
  for (long i = 0; i < n; ++i) x.push_back(double(i) / double(n - 1));
  const auto k = std::make_shared<SM>(SM::Envelope::Matern52, std::vector<double>{1.0, 0.5, 0.2}, std::vector<double>{3.0, 8.0, 20.0},
                                      std::vector<double>{0.0, 2.0, 7.0});
  const double shift = 1e-6;
  const int np = core::mpi::size(comm);
  auto grid = std::make_shared<const layout::ProcessGrid>(comm, np, 1);
  const std::array<long, 3> shape{n, n, 1};
  layout::RealField y(layout::Pencil(shape, grid, 0)), w(y.pencil());
  layout::ops::fill_global(y, [&](const std::array<long, 3>& g, int) { return std::sin(3.1 * double(g[0]) / double(n)) * std::cos(1.7 * double(g[1]) / double(n)) + 0.1; });
  linops::PencilWorkspace ws(grid);
  const long N = n * n;
  std::vector<double> yall = layout::gather(y, 0);
  yall.resize(static_cast<std::size_t>(N));
  MPI_Bcast(yall.data(), static_cast<int>(N), MPI_DOUBLE, 0, comm);
  Eigen::VectorXd dense_x;
  auto kron_solve = [&]() -> layout::RealField& {
    const gp::KroneckerCovariance K(grid, {x, x, {0.0}}, {k, k, nullptr});
    layout::ops::copy(y, w);
    return K.solve(w, ws, shift);
  };
  auto dense_solve = [&] {
    const Eigen::MatrixXd Kx = k->gram(x, x);
    Eigen::MatrixXd K = Eigen::kroneckerProduct(Kx, Kx).eval();
    K.diagonal().array() += shift;
    Eigen::LLT<Eigen::MatrixXd> llt(K);
    if (llt.info() != Eigen::Success) throw Error("the dense Cholesky baseline failed: the covariance is not positive definite");
    dense_x = llt.solve(Eigen::Map<const Eigen::VectorXd>(yall.data(), N));
  };
  const auto s = interleave({{"kron Kronecker solve", [&] { kron_solve(); }, {}}, {"dense Cholesky", dense_solve, {}}}, rounds, comm);
  layout::RealField& u = kron_solve();
  if (opt.injects("kronecker_solve")) u(0, 0, 0) += 1e-6;
  std::vector<double> uall = layout::gather(u, 0);
  uall.resize(static_cast<std::size_t>(N));
  MPI_Bcast(uall.data(), static_cast<int>(N), MPI_DOUBLE, 0, comm);
  dense_solve();
  const Eigen::Map<const Eigen::VectorXd> ku(uall.data(), N);
  const double rel = (ku - dense_x).cwiseAbs().maxCoeff() / dense_x.cwiseAbs().maxCoeff();
  if (!(rel <= 1e-8)) throw Error("kron's Kronecker solve and the dense Cholesky solve differ by " + sci(rel) + " (relative, max norm)");
  Row r = baseline_row("kronecker GP solve (K + 1e-6 I) x = y", std::to_string(n) + "^2 (N = " + std::to_string(N) + ")", s[0], "dense Cholesky (Eigen LLT)", s[1]);
  r.note = "time to solution from the kernel: kron's per-axis eigendecompositions and fast diagonalization on pencils, the "
           "baseline forming K and factorising it (on every rank alike); agree to " + sci(rel) + " relative";
  r.details["relative_difference"] = rel;
  report.add(r);
}

}  // namespace

void run_gp_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "gp", {"copy", "kronecker_solve"});
  const long n = !opt.sizes.empty() ? opt.sizes.front() : opt.quick ? 16 : 64;
  const int rounds = opt.rounds(5);
  CopyReference copy(comm, opt.quick);
  add_copy_reference(copy, rounds, report, comm);
  if (opt.wants("kronecker_solve")) {
    core::log::info("gp suite: Kronecker solve vs dense Cholesky, ", n, "^2 points, ", rounds, " rounds");
    kronecker_vs_cholesky(n, rounds, opt, report, comm);
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
}

}  // namespace kron::bench
