#include "kron/core/expression.hpp"

#include <muParser.h>

#include <cmath>
#include <set>

namespace kron::core {

struct Expression::Impl {
  std::string text;
  mu::Parser parser;
  double x = 0, y = 0, z = 0, t = 0;  // muparser reads the variables through these addresses
  std::set<std::string> used;
  Where where;
};

Expression::Expression(const std::string& text, const std::map<std::string, double>& constants, Where where)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.text = text;
  m.where = where;
  try {
    m.parser.DefineVar("x", &m.x);
    m.parser.DefineVar("y", &m.y);
    m.parser.DefineVar("z", &m.z);
    m.parser.DefineVar("t", &m.t);
    m.parser.DefineConst("pi", M_PI);
    for (const auto& [name, value] : constants) {
      if (name == "x" || name == "y" || name == "z" || name == "t" || name == "pi")
        throw Error("parameter '" + name + "' clashes with a built-in name", where,
                    "x, y, z, t and pi are reserved in expressions");
      m.parser.DefineConst(name, value);
    }
    m.parser.SetExpr(text);
    m.parser.Eval();  // muparser compiles lazily: force the syntax check now
    for (const auto& [name, ptr] : m.parser.GetUsedVar()) m.used.insert(name);
  } catch (const mu::Parser::exception_type& e) {
    // The usual slip from Fortran/Python: muparser's power operator is ^.
    const std::string hint = text.find("**") != std::string::npos
                                 ? "powers are written with ^, as in x^2, not with **"
                                 : "variables are x, y, z, t and the names in [parameters]; pi is predefined";
    throw Error("cannot parse expression \"" + text + "\": " + e.GetMsg(), where, hint);
  }
}

Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

double Expression::operator()(double x, double y, double z, double t) const {
  Impl& m = *impl_;
  m.x = x;
  m.y = y;
  m.z = z;
  m.t = t;
  return m.parser.Eval();
}

const std::string& Expression::text() const { return impl_->text; }
const Where& Expression::where() const { return impl_->where; }
bool Expression::uses(const std::string& name) const { return impl_->used.count(name) > 0; }

}  // namespace kron::core
