#include "kron/layout/axis_grid.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace kron::layout {

const char* to_string(AxisKind k) {
  switch (k) {
    case AxisKind::Uniform: return "uniform";
    case AxisKind::Cell: return "cell";
    case AxisKind::Periodic: return "periodic";
    case AxisKind::Chebyshev: return "chebyshev";
    case AxisKind::File: return "file";
    case AxisKind::Mapped: return "mapped";
  }
  return "?";
}

AxisKind parse_axis_kind(const std::string& s) {
  for (AxisKind k : {AxisKind::Uniform, AxisKind::Cell, AxisKind::Periodic, AxisKind::Chebyshev, AxisKind::File})
    if (s == to_string(k)) return k;
  throw Error("unknown axis kind '" + s + "'", {}, "use uniform, cell, periodic, chebyshev or file");
}

static void check_interval(long n, double a, double b, long min_n) {
  if (n < min_n) throw Error("an axis needs at least " + std::to_string(min_n) + " points, got " + std::to_string(n));
  if (!(b > a)) throw Error("axis interval must have upper > lower");
}

AxisGrid AxisGrid::uniform(long n, double a, double b) {
  check_interval(n, a, b, 2);
  AxisGrid g;
  g.kind_ = AxisKind::Uniform;
  g.a_ = a;
  g.b_ = b;
  g.x_.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) g.x_[i] = a + (b - a) * double(i) / double(n - 1);
  g.x_.back() = b;
  return g;
}

AxisGrid AxisGrid::cell(long n, double a, double b) {
  check_interval(n, a, b, 1);
  AxisGrid g;
  g.kind_ = AxisKind::Cell;
  g.a_ = a;
  g.b_ = b;
  g.x_.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) g.x_[i] = a + (b - a) * (double(i) + 0.5) / double(n);
  return g;
}

AxisGrid AxisGrid::periodic(long n, double a, double b) {
  check_interval(n, a, b, 1);
  AxisGrid g;
  g.kind_ = AxisKind::Periodic;
  g.a_ = a;
  g.b_ = b;
  g.x_.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) g.x_[i] = a + (b - a) * double(i) / double(n);
  return g;
}

AxisGrid AxisGrid::chebyshev(long n, double a, double b) {
  check_interval(n, a, b, 2);
  AxisGrid g;
  g.kind_ = AxisKind::Chebyshev;
  g.a_ = a;
  g.b_ = b;
  g.x_.resize(static_cast<std::size_t>(n));
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  // sin form of the CGL nodes: symmetric to rounding, exact end points
  for (long i = 0; i < n; ++i) g.x_[i] = c + h * std::sin(M_PI * double(2 * i - (n - 1)) / double(2 * (n - 1)));
  g.x_.front() = a;
  g.x_.back() = b;
  return g;
}

AxisGrid AxisGrid::mapped_chebyshev(long n, double a, double b, double center, double width) {
  check_interval(n, a, b, 2);
  if (!(center > a && center < b)) throw Error("a mapped Chebyshev axis needs its centre inside the interval");
  if (!(width > 0) || !std::isfinite(width)) throw Error("a mapped Chebyshev axis needs a positive width");
  AxisGrid g = chebyshev(n, -1.0, 1.0);
  g.kind_ = AxisKind::Mapped;
  g.a_ = a;
  g.b_ = b;
  const double ta = std::atan((a - center) / width), tb = std::atan((b - center) / width);
  for (double& x : g.x_) x = center + width * std::tan(0.5 * (ta + tb) + 0.5 * (tb - ta) * x);
  g.x_.front() = a;
  g.x_.back() = b;
  return g;
}

AxisGrid AxisGrid::from_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error("cannot open grid coordinate file '" + path + "'", {path, 0, {}}, "check the path; relative paths are taken from the working directory");
  AxisGrid g;
  g.kind_ = AxisKind::File;
  g.x_.clear();
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream is(line);
    double v;
    if (!(is >> v)) {
      std::string rest;
      if (std::istringstream(line) >> rest) throw Error("not a number: '" + rest + "'", {path, lineno, {}}, "one coordinate per line");
      continue;
    }
    std::string extra;
    if (is >> extra) throw Error("more than one value on a line", {path, lineno, {}}, "one coordinate per line");
    if (!std::isfinite(v)) throw Error("coordinate is not finite", {path, lineno, {}});
    if (!g.x_.empty() && !(v > g.x_.back()))
      throw Error("coordinates must be strictly increasing", {path, lineno, {}});
    g.x_.push_back(v);
  }
  if (g.x_.size() < 2) throw Error("a coordinate file needs at least 2 points", {path, 0, {}});
  g.a_ = g.x_.front();
  g.b_ = g.x_.back();
  return g;
}

}  // namespace kron::layout
