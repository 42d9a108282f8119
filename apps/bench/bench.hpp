#pragma once
// Shared pieces of kron-bench suites: collective timing, the machine's copy bandwidth as a
// physical reference, a result table printed on rank 0 and mirrored into the JSON report.
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "kron/core/json.hpp"

namespace kron::bench {

struct Options {
  std::vector<long> sizes;  ///< problem sizes (n per axis); empty: the suite's defaults
  int repeat = 0;           ///< timed repetitions; 0: the suite's defaults
  std::string effort = "measure";
  bool quick = false;       ///< small sizes and few repetitions (smoke runs in tests)
  std::vector<std::string> cases;  ///< run only these cases of the suite; empty: all
  /// Whether case `name` runs (no --cases: every case).
  bool wants(const std::string& name) const;
};
/// Checks that every name in --cases is one of `known` (clear error naming the suite otherwise).
void check_cases(const Options& opt, const std::string& suite, const std::vector<std::string>& known);

/// Timing of a collective operation: each repetition is bracketed by barriers and its time is
/// the slowest rank's, so a figure is what the whole job waits for.
struct Timing {
  double min = 0, median = 0, max = 0;
  int reps = 0;
};
/// `prepare` (untimed) runs before each repetition, e.g. to restore an input a baseline destroys.
Timing time_collective(const std::function<void()>& op, int reps, MPI_Comm comm, int warmup = 1,
                       const std::function<void()>& prepare = {});

/// Aggregate memcpy bandwidth of all ranks copying `bytes` each at once (bytes read + written
/// per second, summed over ranks): the memory-bandwidth ceiling any data movement shares.
double copy_bandwidth(std::size_t bytes, MPI_Comm comm);

/// Largest resident set size over ranks, in bytes (getrusage peak).
double peak_rss_max(MPI_Comm comm);

/// One row of a suite's table. `ratio` compares against the named baseline (>1: kron faster).
struct Row {
  std::string name;
  std::string size;
  double seconds = 0;
  std::string baseline;
  double baseline_seconds = 0;
  double gbytes_per_s = 0;       ///< 0 when not meaningful
  double fraction_of_copy = 0;   ///< gbytes_per_s / copy bandwidth, 0 when not meaningful
  std::string note;
};

class Report {
 public:
  Report(std::string suite, MPI_Comm comm);
  void add(const Row& row);
  core::Json& extra() { return extra_; }
  void print() const;   ///< rank 0 prints the table
  core::Json json() const;

 private:
  std::string suite_;
  int nranks_;
  std::vector<Row> rows_;
  core::Json extra_ = core::Json::object();
};

/// The suites. Each runs collectively and fills `report`.
void run_layout_suite(const Options& opt, Report& report, MPI_Comm comm);
void run_linops_suite(const Options& opt, Report& report, MPI_Comm comm);

}  // namespace kron::bench
