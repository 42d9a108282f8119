// libFuzzer target: the expression evaluator (muparser behind kron::core::Expression).
// Input: an expression; it is compiled with named constants and evaluated at a few points. Bad
// expressions must end as kron::Error; anything else escaping is a finding.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "kron/core/error.hpp"
#include "kron/core/expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const std::map<std::string, double> constants{{"a", 1.5}, {"nu", 0.01}, {"c", -2.0}};
  try {
    const kron::core::Expression e(text, constants, {"fuzz.toml", 3, "problem.exact"});
    volatile double s = e(0.1, 0.2, 0.3, 0.4) + e(0, 0, 0, 0) + e(-1e300, 1e-300, 7, -0.0);
    (void)s;
    (void)e.uses("x");
  } catch (const kron::Error& e) {
    (void)e.formatted();
  }
  return 0;
}
