#include <catch2/catch.hpp>
#include <cmath>
#include <complex>

#include "kron/core/json.hpp"
#include "kron/core/text.hpp"
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
