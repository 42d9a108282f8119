// kron-bench --suite nn: structured multiplies against the dense multiply of the same matrix. A
// batch of vectors times a Monarch matrix (nb = sqrt(n), the paper's, and nb = 4, the reference
// code's default) and a butterfly matrix, each against Eigen's dense GEMM with that structured
// matrix formed densely (the baseline a dense layer pays); the outputs must agree.
#include <cmath>

#include "bench/bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/nn/structured.hpp"

namespace kron::bench {

namespace {

void structured_vs_dense(const std::string& label, nn::StructuredMap<double>& map, long batch, int rounds, bool inject, Report& report,
                         MPI_Comm comm) {
  const long n = map.in();
  nn::Rng rng(42);
  std::vector<double> x(static_cast<std::size_t>(n * batch)), y(x.size()), yd(x.size());
  for (auto& v : x) v = rng.normal();
  const Eigen::MatrixXd A = map.matrix();
  const Eigen::Map<const Eigen::MatrixXd> X(x.data(), n, batch);
  Eigen::Map<Eigen::MatrixXd> Y(yd.data(), n, batch);
  const auto s = interleave({{"kron " + label, [&] { map.forward(x.data(), y.data(), batch, 1); }, {}},
                             {"dense GEMM (Eigen)", [&] { Y.noalias() = A * X; }, {}}},
                            rounds, comm);
  map.forward(x.data(), y.data(), batch, 1);
  Y.noalias() = A * X;
  if (inject) y[static_cast<std::size_t>(n / 2)] += 1e-6;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    diff = std::max(diff, std::abs(y[i] - yd[i]));
    scale = std::max(scale, std::abs(yd[i]));
  }
  const double rel = diff / scale;
  if (!(rel <= 1e-12)) throw Error("the " + label + " multiply and the dense GEMM of its matrix differ by " + sci(rel) + " (relative, max norm)");
  Row r = baseline_row(label + " multiply", "n = " + std::to_string(n) + ", batch " + std::to_string(batch), s[0], "dense GEMM (Eigen)", s[1]);
  const double dense_flops = 2.0 * double(n) * double(n);
  r.note = std::to_string(map.parameter_count()) + " parameters (dense: " + std::to_string(n * n) + "), " + fixed(dense_flops / map.flops(), 1) +
           "x fewer flops; kron at " + fixed(map.flops() * double(batch) / s[0].median * 1e-9, 1) + " GFLOP/s, the GEMM at " +
           fixed(dense_flops * double(batch) / s[1].median * 1e-9, 1) + " GFLOP/s (per rank); outputs agree to " + sci(rel);
  r.details["relative_difference"] = rel;
  r.details["parameters"] = static_cast<double>(map.parameter_count());
  r.details["flop_ratio"] = dense_flops / map.flops();
  report.add(r);
}

long isqrt(long n) {
  long r = static_cast<long>(std::llround(std::sqrt(static_cast<double>(n))));
  return r * r == n ? r : 0;
}

}  // namespace

void run_nn_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "nn", {"copy", "monarch", "butterfly"});
  const std::vector<long> sizes = !opt.sizes.empty() ? opt.sizes : opt.quick ? std::vector<long>{256} : std::vector<long>{1024, 4096};
  const long batch = opt.quick ? 64 : 1024;
  const int rounds = opt.rounds(opt.quick ? 3 : 10);
  CopyReference copy(comm, opt.quick);
  add_copy_reference(copy, rounds, report, comm);
  nn::Rng rng(1);
  for (long n : sizes) {
    if (opt.wants("monarch")) {
      const long m = isqrt(n);
      if (m == 0) throw Error("nn suite: size " + std::to_string(n) + " is not a square (Monarch takes sqrt(n) blocks)", {"command line", 0, {}});
      for (long nb : {m, 4L}) {
        if (n % nb != 0 || (nb == 4 && m == 4)) continue;
        core::log::info("nn suite: Monarch (", nb, " blocks) vs dense GEMM, n = ", n, ", batch ", batch, ", ", rounds, " rounds");
        nn::MonarchMap<double> M(n, n, nb, rng);
        structured_vs_dense("monarch (" + std::to_string(nb) + " blocks)", M, batch, rounds, opt.injects("monarch"), report, comm);
      }
    }
    if (opt.wants("butterfly")) {
      if ((n & (n - 1)) != 0) throw Error("nn suite: size " + std::to_string(n) + " is not a power of two (butterfly)", {"command line", 0, {}});
      core::log::info("nn suite: butterfly vs dense GEMM, n = ", n, ", batch ", batch, ", ", rounds, " rounds");
      nn::ButterflyMap<double> B(n, rng);
      structured_vs_dense("butterfly", B, batch, rounds, opt.injects("butterfly"), report, comm);
    }
  }
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
}

}  // namespace kron::bench
