#pragma once
#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/nn/fno.hpp"
#include "kron/nn/normalizer.hpp"

namespace kron::nn {

/// A trained surrogate as surrogate_train writes it (`<dir>/<name>_model.h5`): the FNO's options,
/// its parameters and the point-wise normalisers of input and output. The one reader of model
/// files: the surrogate_predict problem and the library API (kron.h) both load through it.
class SurrogateModel {
 public:
  /// Collective over `comm` (every rank reads the file). Throws kron::Error naming the file when it
  /// cannot be read, lacks a part, or holds parameters of another size than its model needs.
  static SurrogateModel load(const std::string& path, MPI_Comm comm, core::MemorySpace space = core::MemorySpace::Host);

  int dim() const { return options_.dim; }
  long grid_points() const { return options_.nx; }        ///< points a side of the model's grid
  long points() const { return options_.nx * options_.ny; }  ///< values of one sample
  const FnoOptions& options() const { return options_; }
  std::string describe() const { return described_; }
  Fno& model() { return *model_; }
  const Normalizer& input_normalizer() const { return *xn_; }
  const Normalizer& output_normalizer() const { return *yn_; }
  core::MemorySpace space() const { return space_; }

  /// Predictions u of `samples` inputs a (host arrays of samples x points() values, x fastest, as in
  /// the data sets), in chunks of `chunk` samples. Local: no communication.
  void predict(const double* a, double* u, long samples, long chunk = 20);

 private:
  SurrogateModel() = default;
  FnoOptions options_;
  std::string described_;
  core::MemorySpace space_ = core::MemorySpace::Host;
  std::unique_ptr<Fno> model_;
  std::unique_ptr<Normalizer> xn_, yn_;
};

/// Data-set rows read from a file are untrusted: the first bad sample among `rows` rows of inputs
/// `a` and targets `u` (each `points` values; `row0` is the first row's sample index in the file)
/// as a code, or +infinity when all are good. Bad: a value that is not finite, or a target that is
/// zero everywhere (the relative L2 error divides by its norm). The code is a number so that the
/// ranks holding different rows agree on the first by a minimum; `bad_sample_message` says it.
double first_bad_sample(const double* a, const double* u, long rows, long points, long row0);
std::string bad_sample_message(double code);

}  // namespace kron::nn
