#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kron::core {

/// A small JSON value for run summaries (summary.json, kron-bench --json). Objects keep
/// insertion order so files read top-down in the order a run produced them.
class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Json() = default;
  Json(bool b) : kind_(Kind::Bool), b_(b) {}
  Json(double d) : kind_(Kind::Number), d_(d) {}
  Json(int i) : kind_(Kind::Number), d_(i) {}
  Json(long i) : kind_(Kind::Number), d_(static_cast<double>(i)) {}
  Json(long long i) : kind_(Kind::Number), d_(static_cast<double>(i)) {}
  Json(unsigned long i) : kind_(Kind::Number), d_(static_cast<double>(i)) {}
  Json(const char* s) : kind_(Kind::String), s_(s) {}
  Json(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
  Json(const std::vector<double>& v);

  static Json array() { Json j; j.kind_ = Kind::Array; return j; }
  static Json object() { Json j; j.kind_ = Kind::Object; return j; }

  /// Object member access; inserts (keeping order) when absent. Turns a null into an object.
  Json& operator[](const std::string& key);
  void push_back(Json v);

  Kind kind() const { return kind_; }
  /// The member `key` of an object (nullptr when absent or not an object).
  const Json* find(const std::string& key) const {
    for (const auto& [k, v] : members_)
      if (k == key) return &v;
    return nullptr;
  }
  /// The value of a number (0 for other kinds).
  double number() const { return kind_ == Kind::Number ? d_ : 0.0; }
  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  Kind kind_ = Kind::Null;
  bool b_ = false;
  double d_ = 0;
  std::string s_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

/// Writes `text` to `path` through a temporary file and a rename, so that a reader never sees
/// a half-written file. Throws kron::Error on failure.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace kron::core
