#include "bench.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"

namespace kron::bench {

std::string sci(double v, int digits) {
  std::ostringstream os;
  os.precision(digits);
  os << std::scientific << v;
  return os.str();
}

std::string fixed(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

bool Options::wants(const std::string& name) const {
  return cases.empty() || std::find(cases.begin(), cases.end(), name) != cases.end();
}

int Options::rounds(int fallback) const { return repeat > 0 ? repeat : (quick ? 3 : fallback); }

void check_cases(const Options& opt, const std::string& suite, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  for (const auto& c : opt.cases)
    if (std::find(known.begin(), known.end(), c) == known.end())
      throw Error("suite " + suite + " has no case '" + c + "'", {"command line", 0, {}}, "its cases: " + list);
  if (!opt.inject.empty() && std::find(known.begin(), known.end(), opt.inject) == known.end())
    throw Error("--inject-error: suite " + suite + " has no case '" + opt.inject + "'", {"command line", 0, {}},
                "its cases: " + list);
}

namespace {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * double(sorted.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

double page_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_minflt + u.ru_majflt);
}

}  // namespace

Stats summarize(const std::vector<double>& samples) {
  Stats s;
  s.samples = samples;
  s.reps = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  std::vector<double> t = samples;
  std::sort(t.begin(), t.end());
  s.min = t.front();
  s.max = t.back();
  s.median = quantile(t, 0.5);
  s.q1 = quantile(t, 0.25);
  s.q3 = quantile(t, 0.75);
  return s;
}

core::Json Stats::json() const {
  core::Json j = core::Json::object();
  j["median_seconds"] = median;
  j["q1_seconds"] = q1;
  j["q3_seconds"] = q3;
  j["iqr_seconds"] = iqr();
  j["min_seconds"] = min;
  j["max_seconds"] = max;
  j["repetitions"] = reps;
  j["page_faults_per_repetition"] = faults;
  return j;
}

std::vector<Stats> interleave(const std::vector<Contender>& cs, int rounds, MPI_Comm comm, int warmup) {
  const std::size_t m = cs.size();
  for (int w = 0; w < warmup; ++w)
    for (const auto& c : cs) {
      if (c.prepare) c.prepare();
      c.op();
    }
  std::vector<std::vector<double>> t(m);
  std::vector<double> faults(m, 0.0);
  for (int r = 0; r < rounds; ++r)
    for (std::size_t q = 0; q < m; ++q) {
      const std::size_t i = (r % 2 == 0) ? q : m - 1 - q;  // A B C, C B A, ...
      const Contender& c = cs[i];
      if (c.prepare) c.prepare();
      MPI_Barrier(comm);
      const double f0 = page_faults();
      const double t0 = MPI_Wtime();
      c.op();
      const double local = MPI_Wtime() - t0;
      const double df = page_faults() - f0;
      t[i].push_back(core::mpi::max(local, comm));
      faults[i] += core::mpi::sum(df, comm);
    }
  std::vector<Stats> s(m);
  for (std::size_t i = 0; i < m; ++i) {
    s[i] = summarize(t[i]);
    s[i].faults = rounds > 0 ? faults[i] / rounds : 0.0;
  }
  return s;
}

Stats paired_ratio(const Stats& a, const Stats& b) {
  std::vector<double> r;
  for (std::size_t i = 0; i < std::min(a.samples.size(), b.samples.size()); ++i)
    if (b.samples[i] > 0) r.push_back(a.samples[i] / b.samples[i]);
  return summarize(r);
}

CopyReference::CopyReference(MPI_Comm comm, bool quick) : n_(quick ? (std::size_t(1) << 20) : (std::size_t(16) << 20)) {
  a_.resize(n_);
  b_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    a_[i] = 1.0 + 1e-9 * double(i % 1000);
    b_[i] = 0.0;
  }
  bytes_all_ = core::mpi::sum(16.0 * double(n_), comm);
}

std::string CopyReference::label() const {
  return "STREAM copy b[i]=a[i], " + std::to_string(bytes_per_rank() >> 20) +
         " MiB per array per rank, non-temporal stores, 16 B/element counted";
}

Contender CopyReference::contender() {
  return {"copy", [this] {
            const double* a = a_.data();
            double* b = b_.data();
            const std::size_t n = n_;
#if defined(__SSE2__)
            // Both arrays are 64-byte aligned (HostBuffer).
            for (std::size_t i = 0; i + 8 <= n; i += 8) {
              _mm_stream_pd(b + i, _mm_load_pd(a + i));
              _mm_stream_pd(b + i + 2, _mm_load_pd(a + i + 2));
              _mm_stream_pd(b + i + 4, _mm_load_pd(a + i + 4));
              _mm_stream_pd(b + i + 6, _mm_load_pd(a + i + 6));
            }
            _mm_sfence();
#else
            std::memcpy(b, a, 8 * n);
#endif
          },
          {}};
}

void add_copy_reference(CopyReference& copy, int rounds, Report& report, MPI_Comm comm) {
  const auto s = interleave({copy.contender()}, rounds, comm, 2);
  Row c;
  c.name = "copy reference";
  c.size = std::to_string(copy.bytes_per_rank() >> 20) + " MiB";
  c.kron = s[0];
  c.bytes = copy.bytes();
  c.copy = s[0];
  c.copy_bytes = copy.bytes();
  c.note = copy.label();
  c.details["label"] = copy.label();
  c.details["gbytes_per_s"] = copy.bytes() / s[0].median / 1e9;
  report.add(c);
}

core::Json machine_state(MPI_Comm comm, std::string* summary) {
  core::Json j = core::Json::object();
  std::string model = "unknown";
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("model name", 0) == 0) {
        const auto p = line.find(':');
        if (p != std::string::npos) model = line.substr(p + 2);
        break;
      }
  }
  j["cpu_model"] = model;
  j["cores_online"] = static_cast<long>(sysconf(_SC_NPROCESSORS_ONLN));
  double l1 = 0, l5 = 0, l15 = 0;
  {
    std::ifstream f("/proc/loadavg");
    f >> l1 >> l5 >> l15;
    core::Json la = core::Json::array();
    la.push_back(l1);
    la.push_back(l5);
    la.push_back(l15);
    j["load_average_1_5_15_min"] = la;
  }
  // Per rank: host and the CPUs the scheduler may run it on (its binding).
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
  }
  const std::string mine = std::string(host) + " cpus " + cpus;
  const int P = core::mpi::size(comm);
  char buf[512] = {0};
  std::snprintf(buf, sizeof buf, "%s", mine.c_str());
  std::vector<char> all(512 * std::size_t(P));
  MPI_Allgather(buf, 512, MPI_CHAR, all.data(), 512, MPI_CHAR, comm);
  core::Json ranks = core::Json::array();
  for (int r = 0; r < P; ++r) ranks.push_back(std::string(&all[512 * std::size_t(r)]));
  j["ranks"] = ranks;
  char ver[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(ver, &len);
  std::string v(ver, static_cast<std::size_t>(len));
  if (const auto p = v.find_first_of("\r\n,"); p != std::string::npos) v.resize(p);
  j["mpi_library"] = v;
  if (summary) {
    std::ostringstream os;
    os << model << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " cores online, load " << l1 << " " << l5 << " " << l15 << "; ";
    for (int r = 0; r < P; ++r) os << (r ? ", " : "") << "rank " << r << ": " << &all[512 * std::size_t(r)];
    os << "; " << v;
    *summary = os.str();
  }
  return j;
}

double peak_rss_max(MPI_Comm comm) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return core::mpi::max(static_cast<double>(u.ru_maxrss) * 1024.0, comm);  // Linux: KiB
}

Report::Report(std::string suite, MPI_Comm comm)
    : suite_(std::move(suite)), nranks_(core::mpi::size(comm)), machine_(machine_state(comm, &machine_line_)) {}

namespace {
std::string med_iqr(const Stats& s) {
  if (s.reps == 0) return "";
  char b[64];
  std::snprintf(b, sizeof b, "%.4g ±%.2g", s.median, s.iqr() / 2);
  return b;
}
}  // namespace

void Report::add(Row row) {
  // A progress line per case: long suites show their figures as they come.
  std::string line = "  " + row.name + " " + row.size + ": kron " + med_iqr(row.kron) + " s";
  if (!row.baseline.empty()) line += ", " + row.baseline + " " + med_iqr(row.base) + " s";
  core::log::info(line);
  rows_.push_back(std::move(row));
}

void Report::print() const {
  if (core::mpi::rank(MPI_COMM_WORLD) != 0) return;
  std::printf("\nkron-bench --suite %s on %d rank%s\nmachine at start: %s\n", suite_.c_str(), nranks_, nranks_ == 1 ? "" : "s",
              machine_line_.c_str());
  std::printf("%-30s %-8s %18s %4s %8s %14s  %-28s %18s %4s %8s %15s\n", "case", "size", "kron median ±IQR/2 [s]",
              "reps", "faults", "GB/s (% copy)", "baseline", "median ±IQR/2 [s]", "reps", "faults",
              "speedup [IQR]");
  for (const Row& r : rows_) {
    char gb[40] = "", ratio[48] = "", bf[24] = "", br[16] = "";
    if (r.bytes > 0 && r.kron.median > 0) {
      const double bw = r.bytes / r.kron.median;
      if (r.copy.reps > 0)
        std::snprintf(gb, sizeof gb, "%.2f (%3.0f%%)", bw / 1e9, 100 * bw / (r.copy_bytes / r.copy.median));
      else
        std::snprintf(gb, sizeof gb, "%.2f", bw / 1e9);
    }
    if (!r.baseline.empty() && r.base.reps > 0) {
      const Stats pr = paired_ratio(r.base, r.kron);
      std::snprintf(ratio, sizeof ratio, "%.2fx [%.2f,%.2f]", pr.median, pr.q1, pr.q3);
      std::snprintf(bf, sizeof bf, "%.0f", r.base.faults);
      std::snprintf(br, sizeof br, "%d", r.base.reps);
    }
    std::printf("%-30s %-8s %18s %4d %8.0f %14s  %-28s %18s %4s %8s %15s\n", r.name.c_str(), r.size.c_str(),
                med_iqr(r.kron).c_str(), r.kron.reps, r.kron.faults, gb, r.baseline.c_str(), med_iqr(r.base).c_str(), br, bf,
                ratio);
    if (!r.note.empty()) std::printf("    %s\n", r.note.c_str());
  }
  std::printf(
      "times: median over rounds ±IQR/2; kron and baseline interleaved round by round (each round's time is the\n"
      "slowest rank's). speedup = per-round baseline/kron time ratio, median [quartiles] (> 1: kron is faster).\n"
      "faults = page faults per round, all ranks. %% copy: against the copy reference timed in the same rounds.\n");
  std::fflush(stdout);
}

core::Json Report::json() const {
  core::Json j = core::Json::object();
  j["suite"] = suite_;
  j["nranks"] = nranks_;
  j["machine_at_start"] = machine_;
  j["machine_at_end"] = machine_state(MPI_COMM_WORLD);
  core::Json rows = core::Json::array();
  for (const Row& r : rows_) {
    core::Json o = core::Json::object();
    o["case"] = r.name;
    o["size"] = r.size;
    o["kron"] = r.kron.json();
    o["seconds"] = r.kron.median;
    if (r.bytes > 0 && r.kron.median > 0) {
      o["bytes_per_round"] = r.bytes;
      o["gbytes_per_s"] = r.bytes / r.kron.median / 1e9;
      if (r.copy.reps > 0) {
        o["copy_reference"] = r.copy.json();
        o["copy_reference_gbytes_per_s"] = r.copy_bytes / r.copy.median / 1e9;
        o["fraction_of_copy_bandwidth"] = (r.bytes / r.kron.median) / (r.copy_bytes / r.copy.median);
      }
    }
    if (!r.baseline.empty() && r.base.reps > 0) {
      o["baseline"] = r.baseline;
      o["baseline_stats"] = r.base.json();
      o["baseline_seconds"] = r.base.median;
      const Stats pr = paired_ratio(r.base, r.kron);
      o["speedup_vs_baseline"] = pr.median;
      o["speedup_q1"] = pr.q1;
      o["speedup_q3"] = pr.q3;
      o["time_ratio_kron_over_baseline"] = r.kron.median / r.base.median;
    }
    if (!r.note.empty()) o["note"] = r.note;
    o["details"] = r.details;
    rows.push_back(o);
  }
  j["results"] = rows;
  j["details"] = extra_;
  return j;
}

}  // namespace kron::bench
