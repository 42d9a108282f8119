#include "kron/core/error.hpp"

namespace kron::core {

std::string Where::str() const {
  if (file.empty()) return {};
  if (line > 0) return file + ":" + std::to_string(line);
  return file;
}

static std::string compose(const std::string& what, const Where& where, const std::string& hint) {
  std::string s;
  const std::string loc = where.str();
  if (!loc.empty()) s += loc + ": ";
  s += what;
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}

Error::Error(std::string what, Where where, std::string hint)
    : std::runtime_error(compose(what, where, hint)),
      what_(std::move(what)),
      where_(std::move(where)),
      hint_(std::move(hint)) {}

std::string Error::formatted() const { return compose(what_, where_, hint_); }

}  // namespace kron::core
