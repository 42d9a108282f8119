#include "bench.hpp"
#include "kron/core/log.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/core/memory.hpp"
#include "kron/core/mpi.hpp"

namespace kron::bench {

Timing time_collective(const std::function<void()>& op, int reps, MPI_Comm comm, int warmup,
                       const std::function<void()>& prepare) {
  for (int i = 0; i < warmup; ++i) {
    if (prepare) prepare();
    op();
  }
  std::vector<double> t;
  t.reserve(reps);
  for (int i = 0; i < reps; ++i) {
    if (prepare) prepare();
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    op();
    const double local = MPI_Wtime() - t0;
    t.push_back(core::mpi::max(local, comm));
  }
  std::sort(t.begin(), t.end());
  Timing r;
  r.reps = reps;
  r.min = t.front();
  r.max = t.back();
  r.median = t[t.size() / 2];
  return r;
}

double copy_bandwidth(std::size_t bytes, MPI_Comm comm) {
  core::HostBuffer<unsigned char> a(bytes), b(bytes);
  std::memset(a.data(), 1, bytes);
  std::memset(b.data(), 2, bytes);
  const Timing t = time_collective([&] { std::memcpy(b.data(), a.data(), bytes); }, 5, comm, 2);
  const double total = core::mpi::sum(static_cast<double>(2 * bytes), comm);
  return total / t.min;
}

bool Options::wants(const std::string& name) const {
  return cases.empty() || std::find(cases.begin(), cases.end(), name) != cases.end();
}

void check_cases(const Options& opt, const std::string& suite, const std::vector<std::string>& known) {
  for (const auto& c : opt.cases)
    if (std::find(known.begin(), known.end(), c) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error("suite " + suite + " has no case '" + c + "'", {"command line", 0, {}}, "its cases: " + list);
    }
}

double peak_rss_max(MPI_Comm comm) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return core::mpi::max(static_cast<double>(u.ru_maxrss) * 1024.0, comm);  // Linux: KiB
}

Report::Report(std::string suite, MPI_Comm comm) : suite_(std::move(suite)), nranks_(core::mpi::size(comm)) {}

void Report::add(const Row& row) {
  rows_.push_back(row);
  // A progress line per case: long suites show their figures as they come.
  if (row.baseline.empty()) core::log::info("  ", row.name, " ", row.size, ": ", row.seconds, " s");
  else core::log::info("  ", row.name, " ", row.size, ": ", row.seconds, " s, ", row.baseline, " ", row.baseline_seconds, " s");
}

void Report::print() const {
  if (core::mpi::rank(MPI_COMM_WORLD) != 0) return;
  std::printf("\nkron-bench --suite %s on %d rank%s\n", suite_.c_str(), nranks_, nranks_ == 1 ? "" : "s");
  std::printf("%-34s %-10s %11s %11s  %-22s %8s %9s  %s\n", "case", "size", "kron [s]", "GB/s", "baseline",
              "base [s]", "speedup", "note");
  for (const Row& r : rows_) {
    char gb[32] = "", base_t[32] = "", ratio[32] = "";
    if (r.gbytes_per_s > 0) {
      if (r.fraction_of_copy > 0)
        std::snprintf(gb, sizeof gb, "%.2f (%2.0f%%)", r.gbytes_per_s, 100 * r.fraction_of_copy);
      else
        std::snprintf(gb, sizeof gb, "%.2f", r.gbytes_per_s);
    }
    if (r.baseline_seconds > 0) {
      std::snprintf(base_t, sizeof base_t, "%.4g", r.baseline_seconds);
      std::snprintf(ratio, sizeof ratio, "%.2fx", r.baseline_seconds / r.seconds);
    }
    std::printf("%-34s %-10s %11.4g %11s  %-22s %8s %9s  %s\n", r.name.c_str(), r.size.c_str(), r.seconds, gb,
                r.baseline.c_str(), base_t, ratio, r.note.c_str());
  }
  std::printf("speedup = baseline time / kron time (> 1: kron is faster); GB/s (%% of copy bandwidth)\n");
  std::fflush(stdout);
}

core::Json Report::json() const {
  core::Json j = core::Json::object();
  j["suite"] = suite_;
  j["nranks"] = nranks_;
  core::Json rows = core::Json::array();
  for (const Row& r : rows_) {
    core::Json o = core::Json::object();
    o["case"] = r.name;
    o["size"] = r.size;
    o["seconds"] = r.seconds;
    if (r.gbytes_per_s > 0) o["gbytes_per_s"] = r.gbytes_per_s;
    if (r.fraction_of_copy > 0) o["fraction_of_copy_bandwidth"] = r.fraction_of_copy;
    if (r.baseline_seconds > 0) {
      o["baseline"] = r.baseline;
      o["baseline_seconds"] = r.baseline_seconds;
      o["speedup_vs_baseline"] = r.baseline_seconds / r.seconds;
      o["time_ratio_kron_over_baseline"] = r.seconds / r.baseline_seconds;
    }
    if (!r.note.empty()) o["note"] = r.note;
    rows.push_back(o);
  }
  j["results"] = rows;
  j["details"] = extra_;
  return j;
}

}  // namespace kron::bench
