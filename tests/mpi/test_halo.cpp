#include <catch2/catch.hpp>

#include "common.hpp"
#include "kron/layout/halo.hpp"

using namespace kron;
using namespace kron::layout;

TEST_CASE("halo exchange fills ghosts from the right owners, every pencil, periodic or not", "[halo]") {
  const double sentinel = -1.0;
  const std::vector<std::array<long, 3>> sizes = {{5, 7, 3}, {16, 9, 4}, {2, 3, 8}};
  const std::vector<std::array<bool, 3>> periodics = {{true, true, true}, {false, false, false}, {true, false, true}};
  for (const auto& n : sizes)
    for (const auto& per : periodics)
      for (const auto& shape : test::all_grid_shapes())
        for (int axis = 0; axis < 3; ++axis)
          for (int ncomp : {1, 2}) {
            std::array<int, 3> w{2, 1, 2};
            for (int a = 0; a < 3; ++a) if (per[a] && w[a] > n[a]) w[a] = static_cast<int>(n[a]);
            auto grid = test::make_grid(shape);
            const Pencil p(n, grid, axis);
            Field<double> f(p, ncomp, w);
            f.fill(sentinel);
            const Box& b = p.box();
            for (int c = 0; c < ncomp; ++c)
              for (long k = 0; k < b.n[2]; ++k)
                for (long j = 0; j < b.n[1]; ++j)
                  for (long i = 0; i < b.n[0]; ++i) f(i, j, k, c) = test::tag(b.lo[0] + i, b.lo[1] + j, b.lo[2] + k, c);
            HaloExchange<double>(p, w, per, ncomp).execute(f);
            long long bad = 0;
            if (b.volume() > 0)
              for (int c = 0; c < ncomp; ++c)
                for (long k = -w[2]; k < b.n[2] + w[2]; ++k)
                  for (long j = -w[1]; j < b.n[1] + w[1]; ++j)
                    for (long i = -w[0]; i < b.n[0] + w[0]; ++i) {
                      std::array<long, 3> g{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
                      bool outside = false;
                      for (int a = 0; a < 3; ++a) {
                        if (g[a] >= 0 && g[a] < n[a]) continue;
                        if (per[a]) g[a] = (g[a] % n[a] + n[a]) % n[a];
                        else outside = true;
                      }
                      const double want = outside ? sentinel : test::tag(g[0], g[1], g[2], c);
                      bad += f(i, j, k, c) != want;
                    }
            INFO("n " << n[0] << "x" << n[1] << "x" << n[2] << ", periodic " << per[0] << per[1] << per[2] << ", grid "
                      << shape[0] << "x" << shape[1] << ", pencil " << axis << ", ncomp " << ncomp);
            CHECK(core::mpi::sum(bad, MPI_COMM_WORLD) == 0);
          }
}

TEST_CASE("halo exchange rejects what it cannot do", "[halo]") {
  auto grid = test::make_grid(test::all_grid_shapes().front());
  const Pencil p({4, 4, 4}, grid, 0);
  CHECK_THROWS_WITH(HaloExchange<double>(p, {5, 0, 0}, {true, true, true}), Catch::Contains("exceeds the 4 points"));
  Field<double> thin(p, 1, {1, 1, 1});
  HaloExchange<double> wide(p, {2, 2, 2}, {true, true, true});
  CHECK_THROWS_WITH(wide.execute(thin), Catch::Contains("narrower than the plan"));
}
