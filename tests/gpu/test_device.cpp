#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/memory_budget.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/process_grid.hpp"

using namespace kron::core;

TEST_CASE("device memory: host -> device -> device -> host returns every value, over poisoned buffers", "[gpu]") {
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t(10'000'019)}) {
    std::mt19937_64 rng(n);
    std::uniform_real_distribution<double> U(-1, 1);
    std::vector<double> x(n), back(n, std::nan(""));
    for (auto& v : x) v = U(rng);
    DeviceBuffer<double> a(n), b(n);
    fill_device_bytes(b.data(), 0xff, n * sizeof(double));  // NaN in every element
    copy_to_device(a.data(), x.data(), n * sizeof(double));
    copy_on_device(b.data(), a.data(), n * sizeof(double));
    device_synchronize();
    copy_to_host(back.data(), b.data(), n * sizeof(double));
    INFO("n = " << n);
    CHECK(std::memcmp(back.data(), x.data(), n * sizeof(double)) == 0);
  }
}

TEST_CASE("device memory: a failed allocation is a kron::Error, not a crash", "[gpu]") {
  CHECK_THROWS_WITH(DeviceBuffer<double>(std::size_t(1) << 50), Catch::Contains("cudaMalloc") && Catch::Contains("failed"));
  DeviceBuffer<double> ok(16);  // the device still works afterwards
  CHECK(ok.data() != nullptr);
}

TEST_CASE("device memory: the estimate of a run against the GPU's free memory", "[gpu]") {
  const DeviceMemory m = device_memory();
  CHECK(current_device() >= 0);
  CHECK(m.free > 0);
  CHECK(m.free <= m.total);
  MemoryEstimate small, huge;
  small.add("a little", 1e6);
  huge.add("more than any GPU", 1e16);
  const MemoryCheck a = check_device_memory(small, MPI_COMM_WORLD), b = check_device_memory(huge, MPI_COMM_WORLD);
  CHECK(a.fits());
  CHECK(a.node_available > 0);
  CHECK(a.node_ranks >= 1);
  CHECK(a.node_need >= 1e6);
  CHECK_FALSE(b.fits());
  CHECK(b.node_need >= 1e16);
}

TEST_CASE("device memory: copy bandwidth (printed; the floor kron-bench compares GPU kernels with)", "[gpu]") {
  const std::size_t bytes = std::size_t(2) << 30;
  DeviceBytes a(bytes), b(bytes);
  fill_device_bytes(a.data(), 1, bytes);
  copy_on_device(b.data(), a.data(), bytes);
  device_synchronize();
  std::vector<double> gbps;
  for (int r = 0; r < 9; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    copy_on_device(b.data(), a.data(), bytes);
    device_synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gbps.push_back(2.0 * double(bytes) / s / 1e9);  // bytes read + written
  }
  std::sort(gbps.begin(), gbps.end());
  if (mpi::rank() == 0)
    std::printf("device copy, 2 GiB, read + written: median %.0f GB/s (min %.0f, max %.0f) over 9 rounds on %d rank(s)\n", gbps[4],
                gbps.front(), gbps.back(), mpi::size());
  CHECK(gbps[4] > 0);
}

TEST_CASE("device fields: to_device and to_host keep every stored value, halos and components included", "[gpu]") {
  using namespace kron::layout;
  const int P = mpi::size();
  auto grid = std::make_shared<ProcessGrid>(MPI_COMM_WORLD, P, 1);
  for (int axis = 0; axis < 3; ++axis) {
    Field<std::complex<double>> h(Pencil({37, 22, 9}, grid, axis), std::vector<long>{2, 3}, {1, 0, 2});
    std::mt19937_64 rng(7 + axis + 100 * mpi::rank());
    std::uniform_real_distribution<double> U(-1, 1);
    for (std::size_t q = 0; q < h.storage_size(); ++q) h.data()[q] = {U(rng), U(rng)};
    const Field<std::complex<double>> d = to_device(h);
    CHECK(d.on_device());
    CHECK(d.channels() == h.channels());
    Field<std::complex<double>> back(h.pencil(), h.components(), h.halo());
    back.fill({std::nan(""), std::nan("")});  // poisoned: every value must come back
    back = to_host(d);
    REQUIRE(back.storage_size() == h.storage_size());
    CHECK(std::memcmp(back.data(), h.data(), h.storage_size() * sizeof(std::complex<double>)) == 0);
    // A new device field is zero everywhere.
    const Field<double> z(h.pencil(), 2, {0, 0, 0}, MemorySpace::Device);
    const Field<double> zh = to_host(z);
    CHECK(ops::max_abs(zh) == 0.0);
  }
}

TEST_CASE("device fields: host-only operations refuse a device field with a clear error", "[gpu]") {
  using namespace kron::layout;
  auto grid = std::make_shared<ProcessGrid>(MPI_COMM_WORLD, mpi::size(), 1);
  Field<double> d(Pencil({16, 8, 4}, grid, 0), 1, {0, 0, 0}, MemorySpace::Device), h(Pencil({16, 8, 4}, grid, 0), 1);
  CHECK_THROWS_WITH(ops::map(d, [](double a) { return 2 * a; }), Catch::Contains("a device field") && Catch::Contains("to_host"));
  CHECK_THROWS_WITH(ops::fill_global(d, [](std::array<long, 3>, int) { return 1.0; }), Catch::Contains("field_ops::fill_global"));
  CHECK_THROWS_WITH(ops::copy(h, d), Catch::Contains("one field in host memory, the other in device memory"));
}
