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

}  // namespace kron::core::text
