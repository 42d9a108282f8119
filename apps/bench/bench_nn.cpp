// kron-bench --suite nn: structured multiplies against the dense multiply of the same matrix. A
// batch of vectors times a Monarch matrix (nb = sqrt(n), the paper's, and nb = 4, the reference
// code's default) and a butterfly matrix, each against Eigen's dense GEMM with that structured
// matrix formed densely (the baseline a dense layer pays); the outputs must agree. Case fno
// (shared with the gpu suite) times training steps of the paper's Darcy FNO.
#include <cmath>

#include "bench/bench.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"
#include "kron/nn/fno.hpp"
#include "kron/nn/ops.hpp"
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

namespace {
// The training steps in precision R (the model, its gradients, Adam's state and the batch).
template <class R>
void fno_training_in(const Options& opt, core::MemorySpace space, Report& report, MPI_Comm comm) {
  constexpr bool fp32 = std::is_same_v<R, float>;
  // The paper's model and batch (Li et al. 2021, Darcy 85 x 85: 12 x 12 modes, width 32, 4
  // layers, padding 9, head 128, batch 20); --quick a small one.
  nn::FnoOptions o;
  if (opt.quick) {
    o.nx = o.ny = 21;
    o.modes_x = o.modes_y = 4;
    o.width = 8;
    o.head = 16;
    o.padding = 3;
  }
  const long B = 20, P = o.nx * o.ny, steps = opt.quick ? 2 : 10;
  const int rounds = opt.rounds(opt.quick ? 3 : 10);
  const bool gpu = space == core::MemorySpace::Device;
  nn::Rng rng(7);
  nn::FnoT<R> model(o, rng);
  model.to(space);
  nn::AdamT<R> adam(model.parameters(), {1e-3, 0.9, 0.999, 1e-8, 1e-4, false});
  // One fixed batch: a field and a smooth positive target, so that the loss must fall.
  std::vector<R> xh(static_cast<std::size_t>(B * P)), yh(xh.size());
  for (auto& v : xh) v = static_cast<R>(rng.normal());
  for (long b = 0; b < B; ++b)
    for (long p = 0; p < P; ++p) yh[static_cast<std::size_t>(b * P + p)] = static_cast<R>(1.0 + 0.5 * std::sin(0.1 * double(p) + double(b)));
  nn::Array<R> x(space), y(space), out(space), g(space);
  nn::Array<double> sum(space);
  x.assign(xh.data(), xh.size());
  y.assign(yh.data(), yh.size());
  out.resize(xh.size());
  g.resize(xh.size());
  sum.resize(1);
  auto step = [&] {
    adam.zero_grad();
    model.forward(x.data(), out.data(), B);
    nn::ops::relative_l2_accumulate(space, out.data(), y.data(), P, B, g.data(), sum.data());
    model.backward(x.data(), g.data(), nullptr, B);
    adam.step();
  };
  auto loss = [&] {
    nn::ops::fill(space, sum.data(), 1, 0.0);
    model.forward(x.data(), out.data(), B);
    nn::ops::relative_l2_accumulate(space, out.data(), y.data(), P, B, nullptr, sum.data());
    double v = 0;
    sum.copy_to(&v);
    return v / double(B);
  };
  const double before = loss();
  core::log::info(gpu ? "gpu" : "nn", " suite: FNO training in ", fp32 ? "fp32" : "fp64", ", ", o.nx, "^2, width ", o.width, ", batch ", B, ", ", steps, " steps a round, ", rounds, " rounds");
  const auto st = interleave({{"kron", [&] {
                                 for (long k = 0; k < steps; ++k) step();
                                 if (gpu) core::device_synchronize();
                               }, {}}},
                             rounds, comm);
  double after = loss();
  if (opt.injects("fno")) after = before + 1.0;
  if (!(std::isfinite(after) && after < before))
    throw Error("the FNO training steps did not lower the loss on their fixed batch: " + sci(before) + " before, " + sci(after) + " after");
  const double rate = double(B * steps) / st[0].median;  // one rank's (each trains its own copy here)
  Row r;
  r.name = std::string("FNO training step, ") + (fp32 ? "fp32" : "fp64") + (gpu ? ", GPU" : "");
  r.size = std::to_string(o.nx) + "^2, width " + std::to_string(o.width) + ", batch " + std::to_string(B) + " x " + std::to_string(steps) + " steps";
  r.kron = st[0];
  // The anchor: the reference PyTorch script (fp32) on an H200, 1000 samples in 0.26 s.
  constexpr double kPyTorchH200 = 1000.0 / 0.26;
  r.note = fixed(rate, 0) + " samples/s" + (core::mpi::size(comm) > 1 ? " a rank" : "") + " (forward, relative L2 loss, backward, Adam); the loss on the fixed batch fell " + sci(before) + " -> " + sci(after);
  if (gpu && !opt.quick)
    r.note += "; the PyTorch reference's recorded 3,846 samples/s (fp32, H200, not run here): " + fixed(rate / kPyTorchH200, 2) + "x";
  r.details["samples_per_second"] = rate;
  r.details["reference_samples_per_second"] = kPyTorchH200;
  r.details["loss_before"] = before;
  r.details["loss_after"] = after;
  report.add(r);
}
}  // namespace

void fno_training(const Options& opt, core::MemorySpace space, Report& report, MPI_Comm comm) {
  fno_training_in<double>(opt, space, report, comm);
  fno_training_in<float>(opt, space, report, comm);
}

void run_nn_suite(const Options& opt, Report& report, MPI_Comm comm) {
  check_cases(opt, "nn", {"copy", "monarch", "butterfly", "fno"});
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
  if (opt.wants("fno")) fno_training(opt, core::MemorySpace::Host, report, comm);
  report.extra()["peak_rss_bytes_max_rank"] = peak_rss_max(comm);
}

}  // namespace kron::bench
