#include <catch2/catch.hpp>

#include "kron/core/deck.hpp"
#include "kron/problems/registry.hpp"

using kron::Error;
using kron::core::Deck;

namespace {
const kron::core::Schema& schema() {
  static const auto s = kron::problems::schema();
  return s;
}
// The formatted message of the error a deck text raises ("" when it parses).
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    Deck::from_string(text, "deck.toml", schema(), overrides);
  } catch (const Error& e) {
    return e.formatted();
  }
  return "";
}
const char* head = "[problem]\ntype = \"spectrum\"\n";
}  // namespace

TEST_CASE("deck: defaults are filled and values read back", "[deck]") {
  const Deck d = Deck::from_string(std::string(head) + "[grid]\nn = [8, 4]\nupper = 2\n", "deck.toml", schema());
  CHECK(d.integers("grid", "n") == std::vector<long long>{8, 4});
  CHECK(d.reals("grid", "upper") == std::vector<double>{2.0});  // scalar given for a list, integer for a real
  CHECK(d.reals("grid", "lower") == std::vector<double>{0.0});
  CHECK(d.string("output", "dir") == "out");
  CHECK(d.integer("output", "compression") == 0);
  CHECK_FALSE(d.has("parallel", "process_grid"));
  CHECK(d.where("grid", "n").line == 4);
  CHECK(d.where("grid", "n").file == "deck.toml");
}

TEST_CASE("deck: unknown keys and sections are errors with a did-you-mean", "[deck]") {
  CHECK(error_of(std::string(head) + "[grid]\nnn = [8]\n") ==
        "deck.toml:4: unknown key 'nn' in [grid] (did you mean grid.n? kron --help lists every key)");
  CHECK_THAT(error_of(std::string(head) + "[gird]\nn = [8]\n"),
             Catch::Matches("deck.toml:3: unknown section \\[gird\\] \\(did you mean \\[grid\\]\\?\\)"));
  // A key placed in the wrong section says where it belongs.
  CHECK_THAT(error_of(std::string(head) + "[output]\neffort = \"measure\"\n"), Catch::Contains("'effort' belongs to [fft]"));
  CHECK_THAT(error_of("n = 3\n" + std::string(head)), Catch::Contains("deck.toml:1: key 'n' is outside any section"));
}

TEST_CASE("deck: types, ranges, choices and list lengths are checked", "[deck]") {
  CHECK(error_of(std::string(head) + "[grid]\nn = [8, 8.5]\n") == "deck.toml:4: grid.n[1] must be an integer, got a real number");
  CHECK(error_of(std::string(head) + "[grid]\nn = [0]\n") == "deck.toml:4: grid.n[0] value 0 is out of range [1, 1e+09]");
  CHECK(error_of(std::string(head) + "[grid]\nn = [1, 2, 3, 4]\n") == "deck.toml:4: grid.n has 4 entries, expected 1 to 3");
  CHECK(error_of(std::string(head) + "[output]\nwrite_fields = 1\n") == "deck.toml:4: output.write_fields must be true or false, got an integer");
  CHECK(error_of(std::string(head) + "[fft]\neffort = \"mesure\"\n") ==
        "deck.toml:4: fft.effort 'mesure' is not one of estimate, measure, patient, exhaustive; did you mean 'measure'?");
  CHECK(error_of(std::string(head) + "[parameters]\nnu = \"small\"\n") ==
        "deck.toml:4: parameters.nu must be a number, got a string ([parameters] holds named real constants)");
  CHECK(error_of("[grid]\nn = [8]\n") == "deck.toml: missing required key problem.type (add 'type = ...' under [problem]; one of: poisson, helmholtz, diffusion, heat, spectrum, bwler, bwler_plane, gp_pde, surrogate_data, surrogate_train, surrogate_predict)");
  CHECK_THAT(error_of(std::string(head) + "[grid\n"), Catch::StartsWith("deck.toml:3: TOML syntax"));
}

TEST_CASE("deck: command-line overrides", "[deck]") {
  const Deck d = Deck::from_string(std::string(head) + "[grid]\nn = [8]\n", "deck.toml", schema(),
                                   {"grid.n=[16,4]", "output.name=run7", "output.dir=123", "fft.effort=estimate"});
  CHECK(d.integers("grid", "n") == std::vector<long long>{16, 4});
  CHECK(d.string("output", "name") == "run7");
  CHECK(d.string("output", "dir") == "123");  // a string key keeps digits as text
  CHECK(d.string("fft", "effort") == "estimate");
  CHECK(d.where("grid", "n").file == "command line");
  // The provenance is the effective deck under a header naming the overrides.
  CHECK_THAT(d.provenance_text(), Catch::Contains("command-line overrides: grid.n=[16,4]"));
  CHECK_THAT(d.provenance_text(), Catch::Contains("n = [16, 4]"));
  CHECK(error_of(head, {"grid.n=0"}) == "command line: grid.n[0] value 0 is out of range [1, 1e+09]");
  CHECK(error_of(head, {"gridn=3"}) == "command line: override 'gridn=3' is not of the form section.key=value");
}

TEST_CASE("deck: the effective deck parses back to the same values", "[deck]") {
  const Deck d = Deck::from_string(std::string(head) + "[grid]\nn = [8, 4]\n[parameters]\nnu = 0.5\n[spectrum]\nfield = [\"x*\\\"\"]\n",
                                   "deck.toml", schema());
  const Deck again = Deck::from_string(d.effective_text(), "effective.toml", schema());
  CHECK(again.integers("grid", "n") == d.integers("grid", "n"));
  CHECK(again.table("parameters") == d.table("parameters"));
  CHECK(again.strings("spectrum", "field") == d.strings("spectrum", "field"));
  CHECK(again.real("spectrum", "time") == 0.0);
}

TEST_CASE("deck: an override of a list of expressions by one bare number is that expression", "[deck]") {
  const Deck d = Deck::from_string(std::string(head) + "[grid]\nn = [8, 4]\n", "deck.toml", schema(), {"spectrum.field=0", "grid.kind=periodic"});
  CHECK(d.strings("spectrum", "field") == std::vector<std::string>{"0"});
  CHECK(d.strings("grid", "kind") == std::vector<std::string>{"periodic"});
}

TEST_CASE("deck: --help text lists every key with its default", "[deck]") {
  const std::string help = schema().help();
  for (const auto& s : schema().sections())
    for (const auto& k : s.keys) CHECK_THAT(help, Catch::Contains(s.name + "." + k.name));
  CHECK_THAT(help, Catch::Contains("grid.n  (list of integers, default [64, 64, 64])"));
}
