// Data-parallel training (issue 15): each rank trains on its share of every batch and the
// gradients are averaged over ranks (one all-reduce); the weights after a number of Adam steps
// equal those of one process training on the whole batch, within rounding, on every rank count
// (12 samples split evenly over 1, 2, 3 and 4 ranks), and are the same on every rank.
#include <catch2/catch.hpp>

#include <cmath>

#include "kron/core/mpi.hpp"
#include "kron/nn/fno.hpp"

using namespace kron;
using namespace kron::nn;

namespace {

template <class Make>
void data_parallel(Make make, const char* what) {
  const int np = core::mpi::size(MPI_COMM_WORLD), rank = core::mpi::rank(MPI_COMM_WORLD);
  const long batch = 12, local = batch / np;
  REQUIRE(batch % np == 0);
  auto serial = make(), parallel = make();
  const long nin = serial->in(), nout = serial->out();
  Rng data(99);
  std::vector<double> x(static_cast<std::size_t>(batch * nin)), t(static_cast<std::size_t>(batch * nout));
  for (auto& v : x) v = data.normal();
  for (auto& v : t) v = data.normal();
  Adam as(serial->parameters(), {1e-2, 0.9, 0.999, 1e-8, 1e-4, false}), ap(parallel->parameters(), {1e-2, 0.9, 0.999, 1e-8, 1e-4, false});
  std::vector<double> y(t.size()), g(t.size());
  for (int step = 0; step < 15; ++step) {
    as.zero_grad();
    serial->forward(x.data(), y.data(), batch);
    mse_loss(y.data(), t.data(), nout, batch, g.data());
    serial->backward(x.data(), g.data(), nullptr, batch);
    as.step();
    ap.zero_grad();
    const double* xl = x.data() + rank * local * nin;
    const double* tl = t.data() + rank * local * nout;
    parallel->forward(xl, y.data(), local);
    mse_loss(y.data(), tl, nout, local, g.data());
    parallel->backward(xl, g.data(), nullptr, local);
    allreduce_gradients(parallel->parameters(), MPI_COMM_WORLD);
    ap.step();
  }
  double diff = 0, scale = 0, spread = 0;
  const auto ps = serial->parameters(), pp = parallel->parameters();
  for (std::size_t k = 0; k < ps.size(); ++k)
    for (long i = 0; i < ps[k].size; ++i) {
      diff = std::max(diff, std::abs(ps[k].value[i] - pp[k].value[i]));
      scale = std::max(scale, std::abs(ps[k].value[i]));
      const double mx = core::mpi::max(pp[k].value[i], MPI_COMM_WORLD), mn = core::mpi::min(pp[k].value[i], MPI_COMM_WORLD);
      spread = std::max(spread, mx - mn);
    }
  INFO(what << " on " << np << " ranks: weights differ from the one-process run by " << diff << " of " << scale << ", across ranks by " << spread);
  CHECK(diff <= 1e-10 * scale);
  CHECK(spread == 0.0);
}

}  // namespace

TEST_CASE("Data-parallel training gives one process's weights on every rank count", "[nn][mpi]") {
  data_parallel(
      [] {
        Rng rng(5);
        return mlp({6, 16, 16, 3}, "monarch:4", rng);
      },
      "Monarch MLP");
  data_parallel(
      [] {
        Rng rng(6);
        FnoOptions o;
        o.nx = 8;
        o.ny = 6;
        o.modes_x = 3;
        o.modes_y = 2;
        o.width = 4;
        o.layers = 2;
        o.padding = 2;
        o.head = 6;
        o.spectral = "block_diag:2";
        return std::make_unique<Fno>(o, rng);
      },
      "2D FNO");
}
