#include "kron/core/deck.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "kron/core/text.hpp"

namespace kron::core {

const char* to_string(ValueKind k) {
  switch (k) {
    case ValueKind::Integer: return "integer";
    case ValueKind::Real: return "real";
    case ValueKind::Boolean: return "boolean";
    case ValueKind::String: return "string";
    case ValueKind::IntegerList: return "list of integers";
    case ValueKind::RealList: return "list of reals";
    case ValueKind::StringList: return "list of strings";
    case ValueKind::Expression: return "expression";
  }
  return "?";
}

// ------------------------------------------------------------------------------------ Schema
void Schema::add(SectionSpec section) {
  if (find(section.name)) throw Error("schema: section [" + section.name + "] declared twice");
  sections_.push_back(std::move(section));
}

const SectionSpec* Schema::find(const std::string& name) const {
  for (const auto& s : sections_) if (s.name == name) return &s;
  return nullptr;
}

static std::string range_text(const KeySpec& k) {
  // Text and boolean keys have no range; +-1e300 is the schema's "unbounded".
  if (k.kind == ValueKind::String || k.kind == ValueKind::StringList || k.kind == ValueKind::Expression || k.kind == ValueKind::Boolean)
    return {};
  const bool lo = std::isfinite(k.min) && k.min > -1e300, hi = std::isfinite(k.max) && k.max < 1e300;
  if (!lo && !hi) return {};
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  if (lo && hi) return "[" + num(k.min) + ", " + num(k.max) + "]";
  if (lo) return ">= " + num(k.min);
  return "<= " + num(k.max);
}

std::string Schema::help() const {
  std::ostringstream os;
  for (const auto& s : sections_) {
    os << "\n[" << s.name << "]";
    if (!s.problem.empty()) os << "  (problem type '" << s.problem << "' only)";
    os << "\n    " << s.description << "\n";
    if (s.open_real_table) os << "    any name = real number; usable by name in every expression\n";
    if (s.open_option_table) os << "    any option = value (string, number or boolean), passed on as -option value\n";
    for (const auto& k : s.keys) {
      os << "  " << s.name << "." << k.name << "  (" << to_string(k.kind);
      if (!k.default_value.empty()) os << ", default " << k.default_value;
      else if (k.optional) os << ", optional";
      else os << ", required";
      os << ")\n      " << k.description;
      const std::string r = range_text(k);
      if (!r.empty()) os << " Range " << r << ".";
      if (!k.choices.empty()) os << " One of: " << text::join(k.choices, ", ") << ".";
      os << "\n";
    }
  }
  return os.str();
}

// -------------------------------------------------------------------------------------- Deck
struct Deck::Impl {
  std::string path;
  std::string text;
  std::vector<std::string> overrides;
  Schema schema;
  toml::table values;  // section -> key -> value, defaults included
  std::map<std::string, Where> where;
  std::string problem;  // [problem] type, when the schema has one
};

Deck::Deck() : impl_(std::make_unique<Impl>()) {}
Deck::Deck(Deck&&) noexcept = default;
Deck& Deck::operator=(Deck&&) noexcept = default;
Deck::~Deck() = default;

namespace {

std::string kind_of(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a real number";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

std::string format_number(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  std::string s = b;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a TOML float
  return s;
}

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (c == '\n') { q += "\\n"; continue; }
    q += c;
  }
  return q + "\"";
}

std::string format_node(const toml::node& n) {
  if (auto v = n.as_integer()) return std::to_string(v->get());
  if (auto v = n.as_floating_point()) return format_number(v->get());
  if (auto v = n.as_boolean()) return v->get() ? "true" : "false";
  if (auto v = n.as_string()) return quote(v->get());
  if (auto a = n.as_array()) {
    std::string s = "[";
    for (std::size_t i = 0; i < a->size(); ++i) s += (i ? ", " : "") + format_node(*a->get(i));
    return s + "]";
  }
  return "?";
}

bool is_list(ValueKind k) {
  return k == ValueKind::IntegerList || k == ValueKind::RealList || k == ValueKind::StringList;
}

ValueKind element_kind(ValueKind k) {
  switch (k) {
    case ValueKind::IntegerList: return ValueKind::Integer;
    case ValueKind::RealList: return ValueKind::Real;
    case ValueKind::StringList: return ValueKind::String;
    default: return k;
  }
}

// Checks one scalar against the key's element kind, range and choices. Returns an error text.
std::string check_scalar(const KeySpec& k, ValueKind kind, const toml::node& n) {
  auto range_ok = [&](double v) -> std::string {
    if (!std::isfinite(v)) return "must be a finite number";
    if (v < k.min || v > k.max) {
      char b[48];
      std::snprintf(b, sizeof b, "%g", v);
      return std::string("value ") + b + " is out of range " + range_text(k);
    }
    return {};
  };
  switch (kind) {
    case ValueKind::Integer:
      if (!n.is_integer()) return "must be an integer, got " + kind_of(n);
      return range_ok(static_cast<double>(n.as_integer()->get()));
    case ValueKind::Real:
      if (n.is_integer()) return range_ok(static_cast<double>(n.as_integer()->get()));
      if (!n.is_floating_point()) return "must be a number, got " + kind_of(n);
      return range_ok(n.as_floating_point()->get());
    case ValueKind::Boolean:
      if (!n.is_boolean()) return "must be true or false, got " + kind_of(n);
      return {};
    case ValueKind::String:
    case ValueKind::Expression: {
      if (!n.is_string()) return "must be a string, got " + kind_of(n);
      const std::string s = n.as_string()->get();
      if (!k.choices.empty()) {
        for (const auto& c : k.choices) if (c == s) return {};
        std::string msg = "'" + s + "' is not one of " + text::join(k.choices, ", ");
        const std::string near = text::closest(s, k.choices);
        if (!near.empty()) msg += "; did you mean '" + near + "'?";
        return msg;
      }
      return {};
    }
    default: return "internal: unexpected kind";
  }
}

}  // namespace

static std::string slurp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error("'" + path + "' is a directory, not a deck file", {path, 0, {}}, "give the path of a .toml deck, e.g. inputs/quickstart.toml");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open deck file '" + path + "'", {path, 0, {}}, "check the path and permissions");
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

Deck Deck::from_file(const std::string& path, const Schema& schema, const std::vector<std::string>& overrides) {
  return from_string(slurp(path), path, schema, overrides);
}

Deck Deck::from_string(const std::string& text, const std::string& name, const Schema& schema,
                       const std::vector<std::string>& overrides) {
  Deck d;
  Impl& m = *d.impl_;
  m.path = name;
  m.text = text;
  m.overrides = overrides;
  m.schema = schema;

  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw Error("TOML syntax: " + std::string(e.description()),
                {name, static_cast<int>(e.source().begin.line), {}}, "see https://toml.io for the syntax");
  }

  std::map<std::string, Where> where;
  auto loc = [&](const toml::node& n, const std::string& key) {
    return Where{name, static_cast<int>(n.source().begin.line), key};
  };

  // Command-line overrides: section.key=value, the value read as TOML (a bare word is a string).
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    const std::string& ov = overrides[i];
    const Where w{"command line", 0, ov};
    const auto eq = ov.find('=');
    const auto dot = ov.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      throw Error("override '" + ov + "' is not of the form section.key=value", w);
    // "section.key = value" (spaces around '=' or the name, as in a deck) reads the same.
    auto trim = [](std::string t) {
      const auto b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
    };
    const std::string section = trim(ov.substr(0, dot)), key = trim(ov.substr(dot + 1, eq - dot - 1));
    const std::string value = trim(ov.substr(eq + 1));
    if (section.empty() || key.empty() || key.find('.') != std::string::npos)
      throw Error("override '" + ov + "' is not of the form section.key=value", w);
    toml::table parsed;
    bool ok = true;
    try {
      parsed = toml::parse("v = " + value);
    } catch (const toml::parse_error&) {
      ok = false;
    }
    if (!root.contains(section)) root.insert(section, toml::table{});
    toml::table* sec = root[section].as_table();
    if (!sec) throw Error("override '" + ov + "': '" + section + "' is not a section", w);
    // A string-valued key given an unquoted number or word keeps the text as written.
    const SectionSpec* ss = schema.find(section);
    // A list of strings given one bare number (poisson.gradient=0) is that text too.
    bool wants_string = false;
    if (ss) for (const auto& k : ss->keys)
      if (k.name == key)
        wants_string = k.kind == ValueKind::String || k.kind == ValueKind::Expression ||
                       (k.kind == ValueKind::StringList && ok && !parsed["v"].is_array());
    if (!ok || (wants_string && !parsed["v"].is_string()))
      sec->insert_or_assign(key, value);
    else
      parsed["v"].node()->visit([&](auto&& v) { sec->insert_or_assign(key, v); });
    where[section + "." + key] = {"command line", 0, section + "." + key};
  }

  std::vector<std::string> section_names;
  for (const auto& s : schema.sections()) section_names.push_back(s.name);

  // The problem type decides which problem sections apply.
  if (const SectionSpec* ps = schema.find("problem")) {
    if (auto t = root["problem"]["type"].as_string()) {
      m.problem = t->get();
      // An unknown type is the error to report, before any section it would make look misplaced.
      for (const auto& k : ps->keys)
        if (k.name == "type" && !k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), m.problem) == k.choices.end()) {
          const auto wi = where.find("problem.type");
          const Where w = wi != where.end() ? wi->second : Where{name, static_cast<int>(t->source().begin.line), "problem.type"};
          const std::string near = text::closest(m.problem, k.choices);
          throw Error("problem.type '" + m.problem + "' is not one of " + text::join(k.choices, ", ") +
                          (near.empty() ? std::string() : "; did you mean '" + near + "'?"),
                      w);
        }
    }
  }

  std::set<std::string> seen_sections;
  for (auto&& [skey, snode] : root) {
    const std::string sname(skey.str());
    const Where sw{name, static_cast<int>(skey.source().begin.line), sname};
    const SectionSpec* spec = schema.find(sname);
    if (!snode.is_table()) {
      std::string hint = "every key belongs to a [section]";
      for (const auto& s : schema.sections())
        for (const auto& k : s.keys) if (k.name == sname) hint = "did you mean " + s.name + "." + sname + " under [" + s.name + "]?";
      throw Error("key '" + sname + "' is outside any section", sw, hint);
    }
    if (!spec) {
      const std::string near = text::closest(sname, section_names);
      throw Error("unknown section [" + sname + "]", sw,
                  near.empty() ? "sections are: " + text::join(section_names, ", ") : "did you mean [" + near + "]?");
    }
    if (!spec->problem.empty() && spec->problem != m.problem)
      throw Error("section [" + sname + "] belongs to problem type '" + spec->problem + "', but [problem] type is '" +
                      m.problem + "'", sw, "remove the section or change problem.type");
    seen_sections.insert(sname);
    toml::table& stable = *snode.as_table();
    toml::table out;
    for (auto&& [kkey, knode] : stable) {
      const std::string kname(kkey.str());
      const std::string full = sname + "." + kname;
      Where kw = where.count(full) ? where[full] : Where{name, static_cast<int>(kkey.source().begin.line), full};
      if (kw.line == 0 && kw.file == name) kw = loc(knode, full);
      if (spec->open_real_table) {
        if (!(knode.is_integer() || knode.is_floating_point()))
          throw Error(full + " must be a number, got " + kind_of(knode), kw, "[" + sname + "] holds named real constants");
        const double v = knode.value<double>().value_or(0.0);
        if (!std::isfinite(v)) throw Error(full + " must be a finite number", kw);
        out.insert_or_assign(kname, v);
        where[full] = kw;
        continue;
      }
      if (spec->open_option_table) {
        if (!(knode.is_string() || knode.is_integer() || knode.is_floating_point() || knode.is_boolean()))
          throw Error(full + " must be a string, number or boolean, got " + kind_of(knode), kw,
                      "[" + sname + "] holds options such as ksp_type = \"gmres\" or ksp_rtol = 1e-10");
        if (const auto* fp = knode.as_floating_point(); fp && !std::isfinite(fp->get()))
          throw Error(full + " must be a finite number", kw);
        if (knode.is_string()) out.insert_or_assign(kname, *knode.value<std::string>());
        else if (knode.is_boolean()) out.insert_or_assign(kname, *knode.value<bool>());
        else if (knode.is_integer()) out.insert_or_assign(kname, *knode.value<long long>());
        else out.insert_or_assign(kname, *knode.value<double>());
        where[full] = kw;
        continue;
      }
      const KeySpec* ks = nullptr;
      std::vector<std::string> key_names;
      for (const auto& k : spec->keys) {
        key_names.push_back(k.name);
        if (k.name == kname) ks = &k;
      }
      if (!ks) {
        std::string hint;
        const std::string near = text::closest(kname, key_names);
        if (!near.empty()) hint = "did you mean " + sname + "." + near + "?";
        for (const auto& s : schema.sections())
          for (const auto& k : s.keys)
            if (k.name == kname && s.name != sname && hint.empty()) hint = "'" + kname + "' belongs to [" + s.name + "]";
        if (hint.empty()) hint = "keys of [" + sname + "]: " + text::join(key_names, ", ");
        throw Error("unknown key '" + kname + "' in [" + sname + "]", kw, hint + (hint.back() == '?' ? " " : "; ") + "kron --help lists every key");
      }
      if (is_list(ks->kind)) {
        toml::array arr;
        if (const toml::array* a = knode.as_array()) {
          arr = *a;
        } else {
          knode.visit([&](auto&& v) { arr.push_back(v); });  // a scalar is a list of one
        }
        const int len = static_cast<int>(arr.size());
        if ((ks->min_length > 0 && len < ks->min_length) || (ks->max_length > 0 && len > ks->max_length)) {
          std::string want = ks->min_length == ks->max_length ? std::to_string(ks->min_length)
                                                              : std::to_string(ks->min_length) + " to " + std::to_string(ks->max_length);
          throw Error(full + " has " + std::to_string(len) + " entries, expected " + want, kw);
        }
        for (std::size_t i = 0; i < arr.size(); ++i) {
          const std::string e = check_scalar(*ks, element_kind(ks->kind), *arr.get(i));
          if (!e.empty()) throw Error(full + "[" + std::to_string(i) + "] " + e, kw);
        }
        out.insert_or_assign(kname, arr);
      } else {
        const std::string e = check_scalar(*ks, ks->kind, knode);
        if (!e.empty()) throw Error(full + " " + e, kw);
        knode.visit([&](auto&& v) { out.insert_or_assign(kname, v); });
      }
      where[full] = kw;
    }
    m.values.insert_or_assign(sname, std::move(out));
  }

  // Defaults and required keys of every applicable section.
  for (const auto& s : schema.sections()) {
    if (!s.problem.empty() && s.problem != m.problem) continue;
    if (!m.values.contains(s.name)) m.values.insert(s.name, toml::table{});
    toml::table& t = *m.values[s.name].as_table();
    for (const auto& k : s.keys) {
      const std::string full = s.name + "." + k.name;
      if (t.contains(k.name)) continue;
      if (k.default_value.empty()) {
        if (k.optional) continue;
        throw Error("missing required key " + full, {name, 0, full},
                    "add '" + k.name + " = ...' under [" + s.name + "]" +
                        (k.choices.empty() ? std::string() : "; one of: " + text::join(k.choices, ", ")));
      }
      toml::table def = toml::parse("v = " + k.default_value);
      def["v"].node()->visit([&](auto&& v) { t.insert_or_assign(k.name, v); });
      where[full] = {name, 0, full};
    }
  }
  m.where = std::move(where);
  return d;
}

namespace {
const toml::node& lookup(const toml::table& values, const std::string& section, const std::string& key) {
  const toml::node* n = values.at_path(section + "." + key).node();
  if (!n) throw Error("internal: deck key " + section + "." + key + " was read but is not declared or has no value");
  return *n;
}
}  // namespace

bool Deck::has(const std::string& section, const std::string& key) const {
  return impl_->values.at_path(section + "." + key).node() != nullptr;
}
long long Deck::integer(const std::string& s, const std::string& k) const {
  return lookup(impl_->values, s, k).value<long long>().value();
}
double Deck::real(const std::string& s, const std::string& k) const {
  return lookup(impl_->values, s, k).value<double>().value();
}
bool Deck::boolean(const std::string& s, const std::string& k) const {
  return lookup(impl_->values, s, k).value<bool>().value();
}
std::string Deck::string(const std::string& s, const std::string& k) const {
  return lookup(impl_->values, s, k).value<std::string>().value();
}
std::vector<long long> Deck::integers(const std::string& s, const std::string& k) const {
  std::vector<long long> v;
  for (auto&& e : *lookup(impl_->values, s, k).as_array()) v.push_back(e.value<long long>().value());
  return v;
}
std::vector<double> Deck::reals(const std::string& s, const std::string& k) const {
  std::vector<double> v;
  for (auto&& e : *lookup(impl_->values, s, k).as_array()) v.push_back(e.value<double>().value());
  return v;
}
std::vector<std::string> Deck::strings(const std::string& s, const std::string& k) const {
  std::vector<std::string> v;
  for (auto&& e : *lookup(impl_->values, s, k).as_array()) v.push_back(e.value<std::string>().value());
  return v;
}
std::map<std::string, double> Deck::table(const std::string& section) const {
  std::map<std::string, double> out;
  if (const toml::table* t = impl_->values[section].as_table())
    for (auto&& [k, v] : *t) out[std::string(k.str())] = v.value<double>().value_or(0.0);
  return out;
}

std::map<std::string, std::string> Deck::options(const std::string& section) const {
  std::map<std::string, std::string> out;
  if (const toml::table* t = impl_->values[section].as_table())
    for (auto&& [k, v] : *t) {
      std::string text;
      if (v.is_string()) text = *v.value<std::string>();
      else if (v.is_boolean()) text = *v.value<bool>() ? "true" : "false";
      else if (v.is_integer()) text = std::to_string(*v.value<long long>());
      else {
        std::ostringstream os;
        os.precision(17);
        os << *v.value<double>();
        text = os.str();
      }
      out[std::string(k.str())] = text;
    }
  return out;
}

Where Deck::where(const std::string& section, const std::string& key) const {
  const std::string full = section + "." + key;
  auto it = impl_->where.find(full);
  if (it != impl_->where.end()) return it->second;
  return {impl_->path, 0, full};
}

Error Deck::error(const std::string& section, const std::string& key, const std::string& what,
                  const std::string& hint) const {
  return Error(section + "." + key + ": " + what, where(section, key), hint);
}

const std::string& Deck::path() const { return impl_->path; }

std::vector<std::string> Deck::decks_with(const std::string& folder, const std::map<std::string, std::string>& values) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder.empty() ? "." : folder, ec)) {
    if (entry.path().extension() != ".toml") continue;
    toml::table t;
    try {
      t = toml::parse_file(entry.path().string());
    } catch (const toml::parse_error&) {
      continue;
    }
    bool all = true;
    for (const auto& [full, want] : values) {
      const auto dot = full.find('.');
      const auto* v = t[full.substr(0, dot)][full.substr(dot + 1)].as_string();
      all = all && v && v->get() == want;
    }
    if (all) found.push_back(entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::string Deck::provenance_text() const {
  // The effective deck (defaults filled in, overrides applied): a file that reruns the run as is.
  std::string s = "# effective deck of " + impl_->path + " (defaults filled in";
  if (!impl_->overrides.empty()) {
    s += "; command-line overrides:";
    for (const auto& o : impl_->overrides) s += " " + o;
  }
  return s + ")\n" + effective_text();
}

static std::string one_line(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == ' ' || c == '\t') { space = true; continue; }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Deck::effective_text() const {
  std::ostringstream os;
  os << "# effective deck of " << impl_->path << " (defaults filled in)\n";
  for (const auto& s : impl_->schema.sections()) {
    const toml::table* t = impl_->values[s.name].as_table();
    if (!t) continue;
    os << "\n[" << s.name << "]\n";
    if (s.open_real_table || s.open_option_table) {
      for (auto&& [k, v] : *t) os << k.str() << " = " << format_node(v) << "\n";
      continue;
    }
    for (const auto& k : s.keys) {
      const toml::node* n = t->get(k.name);
      if (!n) {
        os << "# " << k.name << " = (not given)  # " << one_line(k.description) << "\n";
        continue;
      }
      os << k.name << " = " << format_node(*n) << "  # " << one_line(k.description) << "\n";
    }
  }
  return os.str();
}

}  // namespace kron::core
