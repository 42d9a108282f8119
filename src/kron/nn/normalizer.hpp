#pragma once
// Point-wise Gaussian normalisation of data sets (the FNO reference's UnitGaussianNormalizer):
// encode (x - mean_p) / (sd_p + eps), decode x (sd_p + eps) + mean_p, per point p of a sample.
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/nn/array.hpp"

namespace kron::nn {

class Normalizer {
 public:
  static constexpr double kEps = 1e-5;
  Normalizer(std::vector<double> mean, std::vector<double> sd);
  /// Mean and unbiased standard deviation (torch.std) over `samples` samples of `points` values.
  static Normalizer fit(const std::vector<double>& x, long samples, long points);
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& sd() const { return sd_; }
  long points() const { return static_cast<long>(mean_.size()); }
  /// Host samples (any count) encoded in place.
  void encode(std::vector<double>& x) const;
  /// `batch` samples decoded in place, in memory space s, in precision R (double or float).
  template <class R>
  void decode(core::MemorySpace s, R* x, long batch) const;
  /// The gradient of a loss of decoded values turned into one of the encoded ones, times
  /// `factor`: g *= factor (sd + eps).
  template <class R>
  void backward(core::MemorySpace s, R* g, double factor, long batch) const;

 private:
  // The scale and the mean in R, in space s (copies made on first use).
  template <class R>
  struct Copies {
    Array<R> scale{core::MemorySpace::Device}, mean{core::MemorySpace::Device};
    std::vector<R> hscale, hmean;
  };
  template <class R>
  Copies<R>& copies() const;
  template <class R>
  const R* scale(core::MemorySpace s) const;
  template <class R>
  const R* shift(core::MemorySpace s) const;
  std::vector<double> mean_, sd_, scale_;
  mutable Copies<double> c64_;
  mutable Copies<float> c32_;
};

}  // namespace kron::nn
