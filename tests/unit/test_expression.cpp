#include <catch2/catch.hpp>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <string>

#include "kron/core/expression.hpp"

using kron::core::Expression;

TEST_CASE("expression: variables, pi and named constants", "[expression]") {
  Expression e("sin(pi*x)*exp(-nu*t) + y*z", {{"nu", 0.5}});
  CHECK(e(0.5, 2.0, 3.0, 2.0) == Approx(std::exp(-1.0) + 6.0).epsilon(1e-15));
  CHECK(e.uses("t"));
  CHECK_FALSE(Expression("x+1", {}).uses("t"));
}

TEST_CASE("expression: syntax errors and unknown names name the deck place", "[expression]") {
  try {
    Expression("sin(x", {}, {"deck.toml", 7, "spectrum.field"});
    FAIL("no error");
  } catch (const kron::Error& e) {
    CHECK_THAT(e.formatted(), Catch::StartsWith("deck.toml:7: cannot parse expression \"sin(x\""));
  }
  CHECK_THROWS_WITH(Expression("q*x", {}), Catch::Contains("Unexpected token \"q\""));
  CHECK_THROWS_WITH(Expression("x", {{"pi", 3.0}}), Catch::Contains("clashes with a built-in name"));
}

TEST_CASE("expression: the examples in docs/expressions.md give the values the page says", "[expression]") {
  const char* root = std::getenv("KRON_SOURCE_DIR");  // a bundle elsewhere (scripts/device-run.sh)
  std::ifstream doc(std::string(root ? root : KRON_SOURCE_DIR) + "/docs/expressions.md");
  REQUIRE(doc.good());
  std::string line;
  bool in_examples = false;
  int checked = 0;
  while (std::getline(doc, line)) {
    if (line.rfind("## ", 0) == 0) in_examples = line.find("Examples") != std::string::npos;
    if (!in_examples || line.rfind("| `", 0) != 0) continue;
    // | `expression` | value |
    const auto a = line.find('`'), b = line.find('`', a + 1), bar = line.find('|', b + 1), end = line.find('|', bar + 1);
    const std::string text = line.substr(a + 1, b - a - 1);
    const double want = std::stod(line.substr(bar + 1, end - bar - 1));
    INFO(text);
    CHECK(Expression(text, {{"nu", 0.5}})(0.5, 2.0, 0.25, 1.0) == Approx(want).epsilon(1e-12).margin(1e-12));
    ++checked;
  }
  CHECK(checked >= 10);
}
