#pragma once
#include "kron/core/memory.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "surrogate_predict"`: a trained model (surrogate_train's checkpoint) applied
/// to samples of a data set: every prediction and its relative L2 error in one HDF5 file, and the
/// first few samples as fields (input a, truth u, prediction, error) over XDMF steps that ParaView
/// plays through.
class SurrogatePredict : public Problem {
 public:
  static void declare(core::Schema& schema);
  SurrogatePredict(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  core::MemorySpace space_ = core::MemorySpace::Host;  // device.backend
};

}  // namespace kron::problems
