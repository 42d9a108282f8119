#pragma once
// Shared pieces of kron-bench suites (docs/benchmarking.md says how they measure):
//  - contenders (kron and its baselines) run interleaved, round by round, in alternating order,
//    so that a shared machine's drift and cache warmth favour none of them;
//  - every figure is a median with its interquartile range, repetition count and page faults;
//  - one STREAM-style copy at a fixed size is the bandwidth reference of every suite;
//  - the machine's state (CPU, load, binding) is recorded with the results.
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "kron/core/json.hpp"
#include "kron/core/memory.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"

namespace kron::bench {

struct Options {
  std::vector<long> sizes;  ///< problem sizes (n per axis); empty: the suite's defaults
  int repeat = 0;           ///< timed rounds per case; 0: the suite's default (20, quick: 3)
  std::string effort = "measure";
  bool quick = false;       ///< small sizes and few repetitions (smoke runs in tests)
  std::vector<std::string> cases;  ///< run only these cases of the suite; empty: all
  std::string inject;       ///< perturb kron's result in this case (tests that the cross-checks fail)
  /// Whether case `name` runs (no --cases: every case).
  bool wants(const std::string& name) const;
  /// Timed rounds: --repeat, or `fallback` (the suite's default for this case).
  int rounds(int fallback) const;
  bool injects(const std::string& name) const { return inject == name; }
};
/// Checks that every name in --cases (and --inject-error) is one of `known` (clear error
/// naming the suite otherwise).
void check_cases(const Options& opt, const std::string& suite, const std::vector<std::string>& known);

/// Statistics of one contender over its timed rounds. A round's time is the slowest rank's
/// (barrier, then the operation, then a max over ranks): what the whole job waits for.
struct Stats {
  int reps = 0;
  double median = 0, q1 = 0, q3 = 0, min = 0, max = 0;
  double faults = 0;  ///< page faults (minor + major) per round, summed over ranks
  std::vector<double> samples;  ///< per-round times in the order they ran
  double iqr() const { return q3 - q1; }
  core::Json json() const;
};
/// Median and quartiles (linear interpolation between order statistics).
Stats summarize(const std::vector<double>& samples);

/// One thing to time. `prepare` runs untimed before every round (e.g. restoring an input that
/// the operation destroys).
struct Contender {
  std::string name;
  std::function<void()> op;
  std::function<void()> prepare;
};
/// `warmup` untimed runs of each contender, then `rounds` rounds in which every contender runs
/// once; the order alternates (A B C, C B A, ...).
std::vector<Stats> interleave(const std::vector<Contender>& contenders, int rounds, MPI_Comm comm, int warmup = 1);
/// The per-round ratios a_i / b_i of two contenders timed in the same rounds (drift cancels).
Stats paired_ratio(const Stats& a, const Stats& b);

/// The bandwidth reference: a STREAM-style copy b[i] = a[i] of a fixed number of doubles per
/// rank, all ranks at once, with non-temporal stores (so that, like a kernel that streams its
/// output, it moves 16 bytes per element: the 8-byte read and the 8-byte write are counted, and
/// no write-allocate traffic happens). A kernel that reads its input once and writes its output
/// once cannot beat it.
class CopyReference {
 public:
  CopyReference(MPI_Comm comm, bool quick);
  Contender contender();
  /// Bytes counted per round over all ranks (read + write).
  double bytes() const { return bytes_all_; }
  std::string label() const;
  std::size_t bytes_per_rank() const { return 8 * n_; }

 private:
  std::size_t n_;
  double bytes_all_;
  core::HostBuffer<double> a_, b_;
};

/// The suite's reference row: the copy alone, `rounds` rounds.
class Report;
void add_copy_reference(CopyReference& copy, int rounds, Report& report, MPI_Comm comm);

/// CPU model, cores online, load averages, and per rank its host and the CPUs it may run on.
/// `summary` (optional) receives the same in one line for the printed table.
core::Json machine_state(MPI_Comm comm, std::string* summary = nullptr);

/// Largest resident set size over ranks, in bytes (getrusage peak).
double peak_rss_max(MPI_Comm comm);

/// One row of a suite's table.
struct Row {
  std::string name;
  std::string size;
  Stats kron;
  std::string baseline;   ///< empty: no baseline
  Stats base;
  double bytes = 0;       ///< bytes kron moves per round (all ranks); 0: not a bandwidth case
  Stats copy;             ///< the copy reference timed in the same rounds (bandwidth cases)
  double copy_bytes = 0;
  std::string note;
  core::Json details = core::Json::object();
};

/// "n^3", the size label of the cubic cases.
inline std::string cube(long n) { return std::to_string(n) + "^3"; }

/// f(i, j, k) = fn(x, y, z) at the coordinates of every local point of a host field.
template <class F>
void fill(layout::RealField& f, const std::array<layout::AxisGrid, 3>& ax, F fn) {
  const auto& b = f.pencil().box();
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) f(i, j, k) = fn(ax[0][b.lo[0] + i], ax[1][b.lo[1] + j], ax[2][b.lo[2] + k]);
}

/// A row of kron timed against a named baseline in the same rounds.
inline Row baseline_row(std::string name, std::string size, const Stats& kron, std::string baseline, const Stats& base) {
  Row r;
  r.name = std::move(name);
  r.size = std::move(size);
  r.kron = kron;
  r.baseline = std::move(baseline);
  r.base = base;
  return r;
}

class Report {
 public:
  Report(std::string suite, MPI_Comm comm);
  void add(Row row);
  core::Json& extra() { return extra_; }
  void print() const;   ///< rank 0 prints the table
  core::Json json() const;

 private:
  std::string suite_;
  int nranks_;
  std::string machine_line_;  // before machine_: the constructor fills both at once
  core::Json machine_;
  std::vector<Row> rows_;
  core::Json extra_ = core::Json::object();
};

/// The suites. Each runs collectively and fills `report`.
void run_layout_suite(const Options& opt, Report& report, MPI_Comm comm);
void run_linops_suite(const Options& opt, Report& report, MPI_Comm comm);
void run_gp_suite(const Options& opt, Report& report, MPI_Comm comm);
void run_nn_suite(const Options& opt, Report& report, MPI_Comm comm);
/// Case fno of the nn and gpu suites: training steps of the paper's Darcy FNO in `space`.
void fno_training(const Options& opt, core::MemorySpace space, Report& report, MPI_Comm comm);
/// The CUDA build only (bench_gpu.cpp).
void run_gpu_suite(const Options& opt, Report& report, MPI_Comm comm);

/// Formatting helpers for notes.
std::string sci(double v, int digits = 2);
std::string fixed(double v, int digits);

}  // namespace kron::bench
