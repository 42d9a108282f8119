#include "kron/core/timer.hpp"

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
  auto& e = entries_[name];
  e.calls += 1;
  e.seconds += seconds;
}

void Timers::reset() { entries_.clear(); }

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
  std::snprintf(line, sizeof line, "%-32s %8s %12s %7s %12s %12s\n", "timer", "calls", "max [s]",
                "% run", "min [s]", "avg [s]");
  os << line << std::string(88, '-') << '\n';
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-32s %8lld %12.4f %6.1f%% %12.4f %12.4f\n", r.name.c_str(),
                  r.calls, r.total_max, run_seconds > 0 ? 100.0 * r.total_max / run_seconds : 0.0,
                  r.total_min, r.total_avg);
    os << line;
  }
  std::snprintf(line, sizeof line, "%-32s %8s %12.4f %6.1f%%\n", "total run", "", run_seconds, 100.0);
  os << line;
  return os.str();
}

}  // namespace kron::core
