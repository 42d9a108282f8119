#include "kron/core/memory_budget.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/text.hpp"

namespace kron::core {

double MemoryEstimate::total() const {
  double t = 0;
  for (const auto& i : items) t += i.bytes;
  return t;
}

std::string MemoryEstimate::describe() const {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : "; ") + i.what + " " + text::bytes(i.bytes);
  return s;
}

namespace {
// The value (in kB) of `key` in a /proc file of "Key:   value kB" lines; -1 when absent.
double proc_kb(const char* file, const std::string& key) {
  std::ifstream f(file);
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      std::istringstream is(line.substr(key.size() + 1));
      double v = -1;
      is >> v;
      return v;
    }
  return -1;
}

// A number in a cgroup file ("max" or absent: none).
double cgroup_number(const char* file) {
  std::ifstream f(file);
  std::string s;
  if (!(f >> s) || s == "max") return -1;
  try {
    return std::stod(s);
  } catch (...) {
    return -1;
  }
}
}  // namespace

double node_available_bytes() {
  double avail = proc_kb("/proc/meminfo", "MemAvailable");
  avail = avail > 0 ? avail * 1024.0 : 0.0;
  // A container's limit: cgroup v2, else v1 (whose "no limit" is a huge number).
  double limit = cgroup_number("/sys/fs/cgroup/memory.max"), used = cgroup_number("/sys/fs/cgroup/memory.current");
  if (limit < 0) {
    limit = cgroup_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = cgroup_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    if (limit > 1e18) limit = -1;
  }
  if (limit > 0 && used >= 0) {
    const double room = std::max(limit - used, 0.0);
    avail = avail > 0 ? std::min(avail, room) : room;
  }
  return avail;
}

double resident_bytes() {
  const double kb = proc_kb("/proc/self/status", "VmRSS");
  return kb > 0 ? kb * 1024.0 : 0.0;
}

namespace {

// The estimate against a pool shared by the ranks of `pool` (a node, or the ranks of one GPU):
// `held` what each rank holds there now, `available` what the pool has (the same on its ranks).
// The neediest pool relative to what it has speaks for all.
MemoryCheck pooled(const MemoryEstimate& estimate, MPI_Comm comm, MPI_Comm pool, double held, double available) {
  MemoryCheck c;
  const double mine = estimate.total();
  c.rank_max = mpi::max(mine, comm);
  c.all = mpi::sum(mine, comm);
  const double need = mpi::sum(mine + held, pool);
  const int nranks = mpi::size(pool);
  struct {
    double ratio;
    int rank;
  } in{available > 0 ? need / available : 0.0, mpi::rank(comm)}, out{};
  MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm);
  double vals[3] = {need, available, double(nranks)};
  MPI_Bcast(vals, 3, MPI_DOUBLE, out.rank, comm);
  c.node_need = vals[0];
  c.node_available = vals[1];
  c.node_ranks = static_cast<int>(vals[2]);
  return c;
}

}  // namespace

MemoryCheck check_memory(const MemoryEstimate& estimate, MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, mpi::rank(comm), MPI_INFO_NULL, &node);
  // Every rank of a node reads the same number.
  const MemoryCheck c = pooled(estimate, comm, node, resident_bytes(), node_available_bytes());
  MPI_Comm_free(&node);
  return c;
}

MemoryCheck check_device_memory(const MemoryEstimate& estimate, MPI_Comm comm) {
  MPI_Comm node, gpu;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, mpi::rank(comm), MPI_INFO_NULL, &node);
  const int dev = current_device();
  MPI_Comm_split(node, dev < 0 ? MPI_UNDEFINED : dev, mpi::rank(node), &gpu);
  MPI_Comm_free(&node);
  if (gpu == MPI_COMM_NULL) MPI_Comm_dup(MPI_COMM_SELF, &gpu);  // no GPU: a pool of one, nothing available
  // Free memory already excludes what the ranks hold there.
  const MemoryCheck c = pooled(estimate, comm, gpu, 0.0, dev < 0 ? 0.0 : device_memory().free);
  MPI_Comm_free(&gpu);
  return c;
}

}  // namespace kron::core
