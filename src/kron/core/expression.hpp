#pragma once
#include <map>
#include <memory>
#include <string>

#include "kron/core/error.hpp"

namespace kron::core {

/// A scalar expression of x, y, z, t and named constants, compiled once by muparser and then
/// evaluated many times (bulk evaluation over a pencil lives in layout/evaluate).
/// `pi` is predefined; constants come from the deck's [parameters] table.
class Expression {
 public:
  /// Compiles `text`; a syntax error or unknown name throws kron::Error located at `where`.
  Expression(const std::string& text, const std::map<std::string, double>& constants, Where where = {});
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

  double operator()(double x, double y, double z, double t) const;
  const std::string& text() const;
  /// Where the expression was written (deck line and key), for errors found while evaluating.
  const Where& where() const;
  /// Whether the expression reads variable `name` (x, y, z or t).
  bool uses(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::core
