#include "kron/nn/normalizer.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

Normalizer::Normalizer(std::vector<double> mean, std::vector<double> sd) : mean_(std::move(mean)), sd_(std::move(sd)) {
  if (mean_.size() != sd_.size())
    throw Error("normaliser: " + std::to_string(mean_.size()) + " means but " + std::to_string(sd_.size()) + " standard deviations");
  scale_.resize(sd_.size());
  for (std::size_t p = 0; p < sd_.size(); ++p) scale_[p] = sd_[p] + kEps;
}

Normalizer Normalizer::fit(const std::vector<double>& x, long samples, long points) {
  std::vector<double> mean(static_cast<std::size_t>(points), 0.0), sd(mean.size(), 0.0);
  for (long b = 0; b < samples; ++b)
    for (long p = 0; p < points; ++p) mean[static_cast<std::size_t>(p)] += x[static_cast<std::size_t>(b * points + p)] / double(samples);
  for (long b = 0; b < samples; ++b)
    for (long p = 0; p < points; ++p) {
      const double d = x[static_cast<std::size_t>(b * points + p)] - mean[static_cast<std::size_t>(p)];
      sd[static_cast<std::size_t>(p)] += d * d / double(std::max(1L, samples - 1));
    }
  for (auto& v : sd) v = std::sqrt(v);
  return Normalizer(std::move(mean), std::move(sd));
}

void Normalizer::encode(std::vector<double>& x) const {
  const std::size_t P = mean_.size();
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (x[i] - mean_[i % P]) / scale_[i % P];
}

const double* Normalizer::scale(core::MemorySpace s) const {
  if (s == core::MemorySpace::Host) return scale_.data();
  if (dscale_.size() != scale_.size()) dscale_.assign(scale_.data(), scale_.size());
  return dscale_.data();
}

const double* Normalizer::shift(core::MemorySpace s) const {
  if (s == core::MemorySpace::Host) return mean_.data();
  if (dmean_.size() != mean_.size()) dmean_.assign(mean_.data(), mean_.size());
  return dmean_.data();
}

void Normalizer::decode(core::MemorySpace s, double* x, long batch) const { ops::affine_points(s, x, scale(s), 1.0, shift(s), points(), batch); }

void Normalizer::backward(core::MemorySpace s, double* g, double factor, long batch) const {
  ops::affine_points(s, g, scale(s), factor, nullptr, points(), batch);
}

}  // namespace kron::nn
