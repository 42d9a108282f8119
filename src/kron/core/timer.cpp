#include "kron/core/timer.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "kron/core/mpi.hpp"

namespace kron::core {

Timers& Timers::global() {
  static Timers t;
  return t;
}

void Timers::add(const std::string& name, double seconds) {
  auto& e = entries_[stack_.empty() ? name : stack_.back() + "/" + name];
  e.calls += 1;
  e.seconds += seconds;
}

void Timers::enter(const std::string& name) { stack_.push_back(stack_.empty() ? name : stack_.back() + "/" + name); }

void Timers::leave(double seconds) {
  if (stack_.empty()) return;
  auto& e = entries_[stack_.back()];
  e.calls += 1;
  e.seconds += seconds;
  stack_.pop_back();
}

void Timers::reset() {
  entries_.clear();
  stack_.clear();
}

std::vector<Timers::Row> Timers::reduce(MPI_Comm comm) const {
  // Union of names: ranks may have timed different things (e.g. an empty local block).
  std::string mine;
  for (const auto& [name, e] : entries_) mine += name + '\n';
  const int n = mpi::size(comm);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(n), displs(n);
  mpi::check(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm), "MPI_Allgather");
  int total = 0;
  for (int i = 0; i < n; ++i) { displs[i] = total; total += lens[i]; }
  std::string all(static_cast<std::size_t>(total), '\0');
  mpi::check(MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(),
                            MPI_CHAR, comm), "MPI_Allgatherv");
  std::set<std::string> names;
  std::istringstream is(all);
  for (std::string line; std::getline(is, line);) if (!line.empty()) names.insert(line);

  std::vector<Row> rows;
  for (const auto& name : names) {
    auto it = entries_.find(name);
    const double s = it == entries_.end() ? 0.0 : it->second.seconds;
    long long c = it == entries_.end() ? 0 : it->second.calls, cmax = 0;
    Row r;
    r.name = name;
    r.total_max = mpi::max(s, comm);
    r.total_min = mpi::min(s, comm);
    r.total_avg = mpi::sum(s, comm) / n;
    mpi::check(MPI_Allreduce(&c, &cmax, 1, MPI_LONG_LONG, MPI_MAX, comm), "MPI_Allreduce");
    r.calls = cmax;
    rows.push_back(r);
  }
  return rows;
}

std::string Timers::summary(MPI_Comm comm, double run_seconds) const {
  const auto rows = reduce(comm);
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-40s %8s %12s %7s %12s %12s\n", "timer (nested rows: inside the one above)", "calls",
                "max [s]", "% run", "min [s]", "avg [s]");
  os << line << std::string(96, '-') << '\n';
  // Rows in path order, so each sits under the timer it ran inside, indented by its depth; a
  // row's time includes its children's, and only the top-level rows add up (to at most 100%).
  std::vector<Row> sorted = rows;
  auto key = [](std::string p) {
    for (char& c : p) if (c == '/') c = '\x01';  // children right after their parent
    return p;
  };
  std::sort(sorted.begin(), sorted.end(), [&](const Row& a, const Row& b) { return key(a.name) < key(b.name); });
  for (const auto& r : sorted) {
    const std::size_t depth = static_cast<std::size_t>(std::count(r.name.begin(), r.name.end(), '/'));
    const std::size_t cut = r.name.rfind('/');
    const std::string label = std::string(2 * depth, ' ') + (cut == std::string::npos ? r.name : r.name.substr(cut + 1));
    std::snprintf(line, sizeof line, "%-40s %8lld %12.4f %6.1f%% %12.4f %12.4f\n", label.c_str(),
                  r.calls, r.total_max, run_seconds > 0 ? 100.0 * r.total_max / run_seconds : 0.0,
                  r.total_min, r.total_avg);
    os << line;
  }
  std::snprintf(line, sizeof line, "%-40s %8s %12.4f %6.1f%%\n", "total run", "", run_seconds, 100.0);
  os << line;
  return os.str();
}

}  // namespace kron::core
