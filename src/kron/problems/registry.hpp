#pragma once
#include <mpi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/deck.hpp"
#include "kron/core/json.hpp"

namespace kron::problems {

/// A runnable problem kind. Its constructor reads and checks everything in the deck (grid,
/// expressions, files, rank counts), so `kron --validate` is construction alone and a bad
/// deck fails before any output exists. `run` does the work and returns the run's scalars
/// (they go to summary.json).
class Problem {
 public:
  virtual ~Problem() = default;
  virtual core::Json run() = 0;
};

struct ProblemKind {
  std::string name;
  std::string description;
  std::function<void(core::Schema&)> declare;  ///< adds the kind's own deck section(s)
  std::function<std::unique_ptr<Problem>(const core::Deck&, MPI_Comm)> make;
  bool cuda = false;  ///< runs with [device] backend = "cuda"
};

/// Every problem kind kron knows, in the order `--help` lists them.
const std::vector<ProblemKind>& kinds();
/// The complete deck schema: [problem], [parameters], [log], the layout sections and every
/// problem kind's section.
core::Schema schema();
/// Builds the problem named by [problem] type.
std::unique_ptr<Problem> make(const core::Deck& deck, MPI_Comm comm);

}  // namespace kron::problems
