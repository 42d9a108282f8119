// libFuzzer target: the deck parser with command-line overrides, against kron's full schema.
// Input: deck text, then optionally a line "--" and one `section.key=value` override per line.
// Every bad input must end as a kron::Error (the one clear message); anything else that escapes
// (another exception, a crash, a sanitizer report, a hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kron/core/deck.hpp"
#include "kron/core/error.hpp"
#include "kron/problems/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kron::core::Schema schema = kron::problems::schema();
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string text = input;
  std::vector<std::string> overrides;
  const auto sep = input.find("\n--\n");
  if (sep != std::string::npos) {
    text = input.substr(0, sep);
    std::string rest = input.substr(sep + 4);
    for (std::size_t p = 0; p <= rest.size();) {
      const auto e = rest.find('\n', p);
      const std::string line = rest.substr(p, e == std::string::npos ? std::string::npos : e - p);
      if (!line.empty()) overrides.push_back(line);
      if (e == std::string::npos) break;
      p = e + 1;
    }
  }
  try {
    const auto deck = kron::core::Deck::from_string(text, "fuzz.toml", schema, overrides);
    (void)deck.effective_text();
    (void)deck.provenance_text();
  } catch (const kron::Error& e) {
    (void)e.formatted();
  }
  return 0;
}
