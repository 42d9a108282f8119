// The README's neural-network example: a Monarch MLP learns u(x, y) = sin(2x) + y^2 on [-1, 1]^2
// with Adam, data-parallel over the ranks (each rank its share of every batch, gradients averaged
// by one all-reduce). Exits non-zero unless the mean squared error falls below 1e-3.
//   mpirun -n 2 build/bin/kron-example-monarch-mlp
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "kron/core/mpi.hpp"
#include "kron/nn/model.hpp"

using namespace kron;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    const int np = core::mpi::size(), rank = core::mpi::rank();
    const long total = 240, batch = total / np;  // this rank's share (240 splits over 1-6 ranks)
    nn::Rng data(3);
    std::vector<double> x, target;
    for (long i = 0; i < total; ++i) {
      const double a = data.uniform(-1, 1), b = data.uniform(-1, 1);
      if (i / batch != rank) continue;
      x.insert(x.end(), {a, b});
      target.push_back(std::sin(2 * a) + b * b);
    }
    std::vector<double> y(target.size()), grad(target.size());

    nn::Rng rng(7);                                        // seeded: the same weights everywhere
    auto net = nn::mlp({2, 64, 64, 1}, "monarch:8", rng);  // 64 -> 64 as Monarch, 8 blocks
    nn::Adam opt(net->parameters(), {1e-2});
    double loss = 0;
    for (int step = 0; step < 1000; ++step) {
      opt.zero_grad();
      net->forward(x.data(), y.data(), batch);             // batch samples, sample-major
      loss = nn::mse_loss(y.data(), target.data(), 1, batch, grad.data());
      net->backward(x.data(), grad.data(), nullptr, batch);
      nn::allreduce_gradients(net->parameters(), MPI_COMM_WORLD);
      opt.set_lr(nn::step_schedule(1e-2, step, 400, 0.5));
      opt.step();
    }
    loss = core::mpi::sum(loss, MPI_COMM_WORLD) / np;
    if (rank == 0)
      std::printf("%s\n%ld parameters (dense hidden layer: %d), mean squared error %.3e after 1000 Adam steps on %d rank%s\n",
                  net->describe().c_str(), nn::parameter_count(net->parameters()), 64 * 64, loss, np, np == 1 ? "" : "s");
    rc = loss < 1e-3 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kron-example-monarch-mlp: error: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
