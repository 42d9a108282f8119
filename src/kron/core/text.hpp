#pragma once
#include <string>
#include <vector>

namespace kron::core::text {

/// Edit distance (insertions, deletions, substitutions), for did-you-mean suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);
/// The closest candidate within a small edit distance, or "" when nothing is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, const std::string& sep);
/// "12.3 MiB" style.
std::string bytes(double n);
/// A number as %g prints it ("0.25", "1e-06").
std::string number(double v);
/// A count with an SI prefix for rates: "3.21M" (3 significant digits).
std::string rate(double n);

}  // namespace kron::core::text
