#include "kron/core/json.hpp"

#include "kron/core/stop.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "kron/core/error.hpp"

namespace kron::core {

Json::Json(const std::vector<double>& v) : kind_(Kind::Array) {
  for (double d : v) items_.emplace_back(d);
}

Json& Json::operator[](const std::string& key) {
  if (kind_ == Kind::Null) kind_ = Kind::Object;
  for (auto& [k, v] : members_) if (k == key) return v;
  members_.emplace_back(key, Json());
  return members_.back().second;
}

void Json::push_back(Json v) {
  if (kind_ == Kind::Null) kind_ = Kind::Array;
  items_.push_back(std::move(v));
}

static void escape(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void Json::dump_to(std::string& out, int indent, int depth) const {
  const std::string pad = indent > 0 ? "\n" + std::string(static_cast<std::size_t>(indent * (depth + 1)), ' ') : "";
  const std::string pad_end = indent > 0 ? "\n" + std::string(static_cast<std::size_t>(indent * depth), ' ') : "";
  switch (kind_) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += b_ ? "true" : "false"; break;
    case Kind::Number: {
      if (!std::isfinite(d_)) { out += "null"; break; }  // JSON has no NaN/Inf
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d_);
      out += buf;
      break;
    }
    case Kind::String: escape(out, s_); break;
    case Kind::Array: {
      // Arrays of numbers stay on one line: spectra and convergence tables read better so.
      bool flat = true;
      for (const auto& i : items_) flat = flat && i.kind_ != Kind::Array && i.kind_ != Kind::Object;
      out += '[';
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) out += flat ? ", " : ",";
        if (!flat) out += pad;
        items_[i].dump_to(out, indent, depth + 1);
      }
      if (!flat && !items_.empty()) out += pad_end;
      out += ']';
      break;
    }
    case Kind::Object: {
      out += '{';
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ',';
        out += pad;
        escape(out, members_[i].first);
        out += indent > 0 ? ": " : ":";
        members_[i].second.dump_to(out, indent, depth + 1);
      }
      if (!members_.empty()) out += pad_end;
      out += '}';
      break;
    }
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  out += '\n';
  return out;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  // A name of this process's own: two runs writing the same file never share a temporary.
  const std::string tmp = path + "." + std::to_string(static_cast<long>(getpid())) + ".tmp";
  const stop::TemporaryFile guard(tmp);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write '" + tmp + "': " + std::strerror(errno), {}, "check that the output directory is writable");
    f << text;
    f.flush();
    if (!f) throw Error("writing '" + tmp + "' failed", {}, "is the disk full?");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
}

}  // namespace kron::core
