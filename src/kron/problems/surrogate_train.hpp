#pragma once
#include "kron/core/memory.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "surrogate_train"`: trains a Fourier neural operator (any structure in its
/// spectral and point-wise mixing) on a data set from surrogate_data, as the FNO reference script
/// does: point-wise Gaussian normalisers of input and output fitted on the training set, the
/// relative L2 loss of the decoded output summed over each batch, Adam with L2 weight decay and a
/// step schedule, the data shuffled every epoch. Data-parallel over the ranks (each rank its share
/// of every batch, gradients summed by one all-reduce): the same weights on any rank count within
/// rounding. Progress lines (epoch, train loss, test error, samples/s), and the model, the
/// optimiser state and the normalisers in a checkpoint (`<name>_model.h5`) every
/// checkpoint_every epochs and at the end, from which `resume = true` continues bitwise on the
/// same rank count.
class SurrogateTrain : public Problem {
 public:
  static void declare(core::Schema& schema);
  SurrogateTrain(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  core::MemorySpace space_ = core::MemorySpace::Host;  // device.backend
};

}  // namespace kron::problems
