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

template <>
Normalizer::Copies<double>& Normalizer::copies<double>() const {
  return c64_;
}
template <>
Normalizer::Copies<float>& Normalizer::copies<float>() const {
  return c32_;
}

template <class R>
const R* Normalizer::scale(core::MemorySpace s) const {
  Copies<R>& c = copies<R>();
  if (c.hscale.size() != scale_.size()) c.hscale.assign(scale_.begin(), scale_.end());
  if (s == core::MemorySpace::Host) return c.hscale.data();
  if (c.scale.size() != scale_.size()) c.scale.assign(c.hscale.data(), c.hscale.size());
  return c.scale.data();
}

template <class R>
const R* Normalizer::shift(core::MemorySpace s) const {
  Copies<R>& c = copies<R>();
  if (c.hmean.size() != mean_.size()) c.hmean.assign(mean_.begin(), mean_.end());
  if (s == core::MemorySpace::Host) return c.hmean.data();
  if (c.mean.size() != mean_.size()) c.mean.assign(c.hmean.data(), c.hmean.size());
  return c.mean.data();
}

template <class R>
void Normalizer::decode(core::MemorySpace s, R* x, long batch) const {
  ops::affine_points(s, x, scale<R>(s), 1.0, shift<R>(s), points(), batch);
}

template <class R>
void Normalizer::backward(core::MemorySpace s, R* g, double factor, long batch) const {
  ops::affine_points(s, g, scale<R>(s), factor, nullptr, points(), batch);
}

template void Normalizer::decode<double>(core::MemorySpace, double*, long) const;
template void Normalizer::decode<float>(core::MemorySpace, float*, long) const;
template void Normalizer::backward<double>(core::MemorySpace, double*, double, long) const;
template void Normalizer::backward<float>(core::MemorySpace, float*, double, long) const;

}  // namespace kron::nn
