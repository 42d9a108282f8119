#include <catch2/catch.hpp>
#include <cmath>

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
