#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"

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
