#include "kron/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace kron::core::text {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  return best;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

namespace {
// n scaled by `base` until below it (at most to the last unit), printed with `fmt` (value, unit).
std::string scaled(double n, double base, const char* const (&units)[5], const char* fmt_first, const char* fmt) {
  int u = 0;
  while (n >= base && u < 4) {
    n /= base;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? fmt_first : fmt, n, units[u]);
  return buf;
}
const char* const binary_units[5] = {"B", "KiB", "MiB", "GiB", "TiB"};
const char* const si_prefixes[5] = {"", "k", "M", "G", "T"};
}  // namespace

std::string bytes(double n) { return scaled(n, 1024.0, binary_units, "%.0f %s", "%.1f %s"); }

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string rate(double n) { return scaled(n, 1000.0, si_prefixes, "%.3g%s", "%.3g%s"); }

}  // namespace kron::core::text
