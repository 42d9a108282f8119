#include <catch2/catch.hpp>
#include <cmath>
#include <algorithm>
#include <complex>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <mpi.h>

#include "kron/core/json.hpp"
#include "kron/core/stop.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/box_copy.hpp"

TEST_CASE("json dump", "[json]") {
  kron::core::Json j;
  j["name"] = "a \"b\"\n";
  j["x"] = 1.5;
  j["v"] = kron::core::Json(std::vector<double>{1, 2});
  j["nan"] = std::nan("");
  j["ok"] = true;
  CHECK(j.dump() == "{\n  \"name\": \"a \\\"b\\\"\\n\",\n  \"x\": 1.5,\n  \"v\": [1, 2],\n  \"nan\": null,\n  \"ok\": true\n}\n");
}

TEST_CASE("did-you-mean picks the closest name", "[text]") {
  using kron::core::text::closest;
  CHECK(closest("nn", {"n", "lower", "upper"}) == "n");
  CHECK(closest("comprssion", {"dir", "compression"}) == "compression");
  CHECK(closest("zzzzzz", {"n", "dir"}).empty());
}

TEST_CASE("copy_box transposes between any axis orders", "[box]") {
  const std::array<long, 3> n{37, 19, 5};
  std::vector<std::complex<double>> a(n[0] * n[1] * n[2]), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = {double(i), -double(i)};
  const std::array<long, 3> sa{1, n[0], n[0] * n[1]};      // x fastest
  const std::array<long, 3> sb{n[1], 1, n[0] * n[1]};      // y fastest, then x, z
  const std::array<long, 3> sc{n[2], n[0] * n[2], 1};      // z fastest, then x, y
  kron::layout::copy_box(a.data(), sa, b.data(), sb, n);
  kron::layout::copy_box(static_cast<const std::complex<double>*>(b.data()), sb, c.data(), sc, n);
  for (long k = 0; k < n[2]; ++k)
    for (long j = 0; j < n[1]; ++j)
      for (long i = 0; i < n[0]; ++i) {
        const auto v = a[i + n[0] * (j + n[1] * k)];
        REQUIRE(b[i * sb[0] + j * sb[1] + k * sb[2]] == v);
        REQUIRE(c[i * sc[0] + j * sc[1] + k * sc[2]] == v);
      }
}

TEST_CASE("timers nest: a timer started inside another is its row's child", "[timer]") {
  kron::core::Timers t;
  {
    kron::core::ScopedTimer outer("solve", t);
    { kron::core::ScopedTimer inner("transpose", t); }
    { kron::core::ScopedTimer inner("transpose", t); }
    t.add("fft", 0.25);
  }
  { kron::core::ScopedTimer top("output", t); }
  const auto rows = t.reduce(MPI_COMM_WORLD);
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  CHECK(std::find(names.begin(), names.end(), "solve") != names.end());
  CHECK(std::find(names.begin(), names.end(), "solve/transpose") != names.end());
  CHECK(std::find(names.begin(), names.end(), "solve/fft") != names.end());
  CHECK(std::find(names.begin(), names.end(), "output") != names.end());
  for (const auto& r : rows)
    if (r.name == "solve/transpose") CHECK(r.calls == 2);
  // The table lists children indented right under their parent.
  const std::string table = t.summary(MPI_COMM_WORLD, 1.0);
  const auto solve = table.find("\nsolve "), child = table.find("\n  transpose "), output = table.find("\noutput ");
  CHECK(solve != std::string::npos);
  CHECK(child != std::string::npos);
  CHECK(output != std::string::npos);
  CHECK(solve < child);
  CHECK(table.find("\n  fft ") != std::string::npos);
}

TEST_CASE("stop: a signal removes the write in progress and stops the run at its next check point", "[stop]") {
  namespace stop = kron::core::stop;
  stop::install();
  const std::string tmp = "kron_unit_stop_test.h5.tmp";
  { std::ofstream(tmp) << "partial"; }
  {
    const stop::TemporaryFile guard(tmp);
    CHECK_NOTHROW(stop::check(MPI_COMM_SELF, "during the test"));
    std::raise(SIGTERM);
    CHECK(stop::signal_received() == SIGTERM);
    CHECK_FALSE(std::ifstream(tmp).good());  // the handler removed it
  }
  try {
    stop::check(MPI_COMM_SELF, "after step 3 of 9", "two step files are complete");
    FAIL("no Interrupted after a signal");
  } catch (const stop::Interrupted& e) {
    CHECK(e.signal() == SIGTERM);
    CHECK(std::string(e.what()) == "interrupted by SIGTERM after step 3 of 9; two step files are complete");
  }
  stop::reset();
  CHECK(stop::signal_received() == 0);
  // Without a guard a signal removes nothing.
  { std::ofstream(tmp) << "kept"; }
  std::raise(SIGINT);
  CHECK(std::ifstream(tmp).good());
  CHECK(stop::signal_received() == SIGINT);
  stop::reset();
  std::remove(tmp.c_str());
}

TEST_CASE("text: byte sizes and rates with their units", "[text]") {
  namespace text = kron::core::text;
  CHECK(text::bytes(512) == "512 B");
  CHECK(text::bytes(1536) == "1.5 KiB");
  CHECK(text::bytes(180.1 * 1048576) == "180.1 MiB");
  CHECK(text::bytes(56.0 * 1099511627776.0) == "56.0 TiB");
  CHECK(text::bytes(3.0 * 1125899906842624.0) == "3072.0 TiB");  // no unit past TiB
  CHECK(text::rate(950) == "950");
  CHECK(text::rate(9.23e6) == "9.23M");
  CHECK(text::rate(1.5e12) == "1.5T");
  CHECK(text::number(1e-6) == "1e-06");
}
