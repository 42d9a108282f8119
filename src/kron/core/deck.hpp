#pragma once
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/error.hpp"

namespace kron::core {

enum class ValueKind { Integer, Real, Boolean, String, IntegerList, RealList, StringList, Expression };
const char* to_string(ValueKind k);

/// One deck key: its type, default, allowed values and meaning. The same declaration drives
/// validation, `--help` and `--print-deck`, so the three never disagree.
struct KeySpec {
  std::string name;
  ValueKind kind = ValueKind::Real;
  /// Default as TOML value text ("64", "\"periodic\"", "[64, 64]"). Empty: the key has no
  /// default; it is then required unless `optional` is set (absent means "not given").
  std::string default_value;
  std::string description;
  double min = -std::numeric_limits<double>::infinity();  ///< numbers and list elements
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  ///< strings and string-list elements; empty: any
  int min_length = 0, max_length = 0;  ///< lists; 0: unbounded
  bool optional = false;
};

struct SectionSpec {
  std::string name;
  std::string description;
  std::vector<KeySpec> keys;
  /// A free table of named real numbers (the [parameters] table of expression constants).
  bool open_real_table = false;
  /// When not empty: the section is valid only for this `[problem] type`.
  std::string problem;
  /// A free table of option = value (string, number or boolean), passed on verbatim to a
  /// library's own options database (the [petsc] table).
  bool open_option_table = false;
};

/// The set of sections a deck may hold. Each layer and problem kind declares its own sections.
class Schema {
 public:
  void add(SectionSpec section);
  const SectionSpec* find(const std::string& name) const;
  const std::vector<SectionSpec>& sections() const { return sections_; }
  /// Every section and key with type, default, range and meaning (for `kron --help`).
  std::string help() const;
  /// The same as a Markdown page (docs/deck-reference.md is this text; `kron --deck-reference`
  /// prints it and a test checks that the page matches the code).
  std::string markdown() const;

 private:
  std::vector<SectionSpec> sections_;
};

/// A parsed and validated input deck with defaults filled in. Every value remembers where it
/// came from (file and line, or the command line), so later checks can name it precisely.
class Deck {
 public:
  /// Parses `path`, applies `section.key=value` overrides, validates against `schema`.
  /// Throws kron::Error naming file, line and key on any problem.
  static Deck from_file(const std::string& path, const Schema& schema,
                        const std::vector<std::string>& overrides = {});
  static Deck from_string(const std::string& text, const std::string& name, const Schema& schema,
                          const std::vector<std::string>& overrides = {});
  /// The deck files (*.toml) in `folder` whose string keys equal the given values
  /// ({"output.dir": "out/tg", ...}), sorted; unreadable or invalid files are skipped. For hints
  /// such as "this input is written by inputs/x.toml".
  static std::vector<std::string> decks_with(const std::string& folder, const std::map<std::string, std::string>& values);
  Deck(Deck&&) noexcept;
  Deck& operator=(Deck&&) noexcept;
  ~Deck();

  /// True when the key was given or has a default (false only for absent optional keys).
  bool has(const std::string& section, const std::string& key) const;
  long long integer(const std::string& section, const std::string& key) const;
  double real(const std::string& section, const std::string& key) const;
  bool boolean(const std::string& section, const std::string& key) const;
  std::string string(const std::string& section, const std::string& key) const;
  std::vector<long long> integers(const std::string& section, const std::string& key) const;
  std::vector<double> reals(const std::string& section, const std::string& key) const;
  std::vector<std::string> strings(const std::string& section, const std::string& key) const;
  /// All entries of an open table of reals (e.g. [parameters]).
  std::map<std::string, double> table(const std::string& section) const;
  /// All entries of an open option table, each value as text ("gmres", "1e-10", "true").
  std::map<std::string, std::string> options(const std::string& section) const;

  /// Where the value of `section.key` came from (deck line, command line, or the deck file
  /// itself for a default).
  Where where(const std::string& section, const std::string& key) const;
  /// An Error located at `section.key`, for checks made after parsing (cross-key consistency).
  Error error(const std::string& section, const std::string& key, const std::string& what,
              const std::string& hint = {}) const;

  const std::string& path() const;
  /// The effective deck under a header naming the deck file and the overrides (stored in every
  /// output file; rerunning it reproduces the run).
  std::string provenance_text() const;
  /// The effective deck: every applicable section and key with defaults filled in.
  std::string effective_text() const;

 private:
  Deck();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::core
