#include <catch2/catch.hpp>
#include <cstdlib>
#include <unistd.h>
#include <cmath>
#include <fstream>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/process_grid.hpp"

using namespace kron::layout;

TEST_CASE("axis grids place their points", "[grid]") {
  auto u = AxisGrid::uniform(5, 0, 2);
  CHECK(u.coords() == std::vector<double>{0, 0.5, 1.0, 1.5, 2.0});
  auto c = AxisGrid::cell(4, 0, 1);
  CHECK(c[0] == 0.125);
  CHECK(c[3] == 0.875);
  auto p = AxisGrid::periodic(4, 0, 1);
  CHECK(p[3] == 0.75);
  CHECK(p.periodic());
  auto ch = AxisGrid::chebyshev(9, -1, 1);
  for (long i = 0; i < 9; ++i) CHECK(ch[i] == Approx(-std::cos(M_PI * i / 8.0)).margin(1e-15));
  CHECK(ch[4] == 0.0);  // symmetric to rounding
  CHECK(ch[0] == -1.0);
  CHECK(ch[8] == 1.0);
  CHECK_THROWS_WITH(AxisGrid::uniform(1, 0, 1), Catch::Contains("at least 2 points"));
}

TEST_CASE("axis grids from coordinate files", "[grid]") {
  const char* root = std::getenv("KRON_SOURCE_DIR");  // a bundle elsewhere (scripts/device-run.sh)
  auto g = AxisGrid::from_file(std::string(root ? root : KRON_SOURCE_DIR) + "/meshes/tanh_stretched_33.txt");
  CHECK(g.size() == 33);
  CHECK(g.lower() == 0.0);
  CHECK(g.upper() == Approx(1.0).margin(1e-15));
  CHECK(g[1] - g[0] < g[17] - g[16]);  // clustered at the wall
  const std::string bad = "bad_coords_" + std::to_string(getpid()) + ".txt";  // this run's own name
  std::ofstream(bad) << "# header\n0\n0.5\nabc\n";
  CHECK_THROWS_WITH(AxisGrid::from_file(bad), bad + ":4: not a number: 'abc' (one coordinate per line)");
  std::ofstream(bad) << "0\n1 2\n";
  CHECK_THROWS_WITH(AxisGrid::from_file(bad), bad + ":2: more than one value on a line (one coordinate per line)");
  CHECK_THROWS_WITH(AxisGrid::from_file("nope.txt"), Catch::StartsWith("nope.txt: cannot open grid coordinate file"));
  std::remove(bad.c_str());
}

TEST_CASE("block splits cover every index once, empty parts allowed", "[grid]") {
  for (long n : {1L, 2L, 5L, 17L, 64L})
    for (int p : {1, 2, 3, 4, 7, 20}) {
      long total = 0;
      for (int r = 0; r < p; ++r) {
        CHECK(block_offset(n, p, r) == total);
        for (long g = total; g < total + block_size(n, p, r); ++g) CHECK(block_owner(n, p, g) == r);
        total += block_size(n, p, r);
      }
      CHECK(total == n);
    }
}

TEST_CASE("automatic process grid choice", "[grid]") {
  // Slabs move the least when every rank gets a plane.
  CHECK(ProcessGrid::choose({256, 256, 256}, 4) == std::array<int, 2>{4, 1});
  // A 2D problem never splits its unit z axis.
  CHECK(ProcessGrid::choose({64, 64, 1}, 4)[1] == 1);
  // More ranks than planes: pencils beat a slab split with idle ranks.
  const auto g = ProcessGrid::choose({64, 8, 8}, 16);
  CHECK(g[0] * g[1] == 16);
  CHECK(g[0] < 16);
  CHECK(ProcessGrid::choose({7, 5, 3}, 1) == std::array<int, 2>{1, 1});
}
