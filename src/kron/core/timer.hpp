#pragma once
#include <mpi.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kron::core {

/// Named wall-clock timers, accumulated per rank; `summary` reduces them over ranks into the
/// end-of-run table (PETSc -log_view style). Timers nest: a timer started while another runs is
/// recorded under it (its path "outer/inner"), so the table shows each row under the one it ran
/// inside and the top-level rows do not overlap.
class Timers {
 public:
  static Timers& global();

  /// Adds a span to `name` under the timers running now.
  void add(const std::string& name, double seconds);
  /// ScopedTimer's bracket: enter() starts a nested span, leave() ends the innermost one.
  void enter(const std::string& name);
  void leave(double seconds);
  void reset();

  struct Row {
    std::string name;  ///< the path: enclosing timers and the timer, joined by '/' 
    long long calls = 0;
    double total_max = 0, total_min = 0, total_avg = 0;  ///< seconds, over ranks
  };
  /// Collective over `comm`: the union of timer names over ranks, reduced.
  std::vector<Row> reduce(MPI_Comm comm) const;
  /// Collective: the formatted table (meaningful on rank 0). `run_seconds` sets the % column.
  std::string summary(MPI_Comm comm, double run_seconds) const;

 private:
  struct Entry {
    long long calls = 0;
    double seconds = 0;
  };
  std::map<std::string, Entry> entries_;  // by path
  std::vector<std::string> stack_;        // paths of the timers running now
};

/// Adds the time between construction and destruction to a named timer.
class ScopedTimer {
 public:
  explicit ScopedTimer(std::string name, Timers& t = Timers::global())
      : name_(std::move(name)), timers_(t), t0_(std::chrono::steady_clock::now()) {
    timers_.enter(name_);
  }
  ~ScopedTimer() { timers_.leave(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count()); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::string name_;
  Timers& timers_;
  std::chrono::steady_clock::time_point t0_;
};

/// Wall time in seconds (monotonic), for benchmarks and progress lines.
inline double wall_time() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace kron::core
