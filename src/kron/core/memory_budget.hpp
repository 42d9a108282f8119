#pragma once
#include <mpi.h>

#include <string>
#include <vector>

namespace kron::core {

/// What a run will allocate on its largest rank, item by item, known before it allocates
/// anything large (fields, solver scratch, per-axis dense factors).
struct MemoryEstimate {
  struct Item {
    std::string what;
    double bytes = 0;
  };
  std::vector<Item> items;
  void add(std::string what, double bytes) { items.push_back({std::move(what), bytes}); }
  double total() const;
  /// "u, f, error, residual 32 MiB; solver scratch 56 MiB; ..."
  std::string describe() const;
};

/// Bytes this node can still give: MemAvailable of /proc/meminfo, or less under a cgroup (v2 or
/// v1) memory limit. 0 when unknown.
double node_available_bytes();
/// Resident bytes of this process now (VmRSS), 0 when unknown.
double resident_bytes();

/// Collective over `comm`: every node's need (the estimate plus what each of its ranks holds
/// now) against what the node has available. Filled on every rank.
struct MemoryCheck {
  double rank_max = 0;        ///< the largest rank's estimate
  double all = 0;             ///< the sum of the estimates over all ranks
  double node_need = 0;       ///< the neediest node: its ranks' estimates plus their resident bytes now
  double node_available = 0;  ///< what that node has available (0: unknown)
  int node_ranks = 0;         ///< ranks on that node
  bool fits() const { return node_available <= 0 || node_need <= 0.95 * node_available; }
};
MemoryCheck check_memory(const MemoryEstimate& estimate, MPI_Comm comm);

/// The same for GPU memory (collective over `comm`): the estimates of the ranks that share each
/// GPU (one node, one device) against that GPU's free memory now; node_* then describe the
/// neediest GPU. Fits trivially (node_available 0) where no GPU is visible.
MemoryCheck check_device_memory(const MemoryEstimate& estimate, MPI_Comm comm);

}  // namespace kron::core
