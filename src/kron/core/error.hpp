#pragma once
#include <stdexcept>
#include <string>

namespace kron::core {

/// Where a problem was found: a file and line of an input deck, or a place in the code or on
/// the command line. An empty `file` means "no location" (e.g. an internal consistency check).
struct Where {
  std::string file;
  int line = 0;
  std::string key;  ///< the deck key ("grid.n") the problem concerns, if any

  std::string str() const;  ///< "FILE:LINE" / "FILE" / ""
};

/// The one exception type of kron: what is wrong, where, and a hint on how to fix it.
/// Apps catch it at the top and print `kron: error: FILE:LINE: what (hint)` once, from rank 0.
class Error : public std::runtime_error {
 public:
  explicit Error(std::string what, Where where = {}, std::string hint = {});

  const std::string& message() const { return what_; }
  const Where& where() const { return where_; }
  const std::string& hint() const { return hint_; }
  /// "FILE:LINE: what (hint)"; the prefix and the parenthesised hint appear only when known.
  std::string formatted() const;

 private:
  std::string what_;
  Where where_;
  std::string hint_;
};

/// Throws an Error when `condition` is false. For checks of caller input, not internal bugs.
inline void require(bool condition, const std::string& what, const std::string& hint = {}) {
  if (!condition) throw Error(what, {}, hint);
}

}  // namespace kron::core

namespace kron {
using core::Error;
using core::Where;
}  // namespace kron
