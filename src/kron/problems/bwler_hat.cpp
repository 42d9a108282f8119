// BWLer-hat: an MLP under the BWLer output layer (bwler_hat.hpp).
#include "kron/problems/bwler_hat.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/timer.hpp"

namespace kron::problems {

BwlerHat::BwlerHat(const spectral::SpaceTimeProblem& p, const BwlerHatOptions& o)
    : o_(o), loss_(p), nt_(loss_.nt()), nx_(loss_.nx()), nin_((p.x.periodic() ? 3 : 2) + 2 * o.time_features) {
  if (o.time_features < 0) throw Error("BWLer-hat: a negative number of time features");
  const long nb = p.x.periodic() ? 3 : 2;
  std::vector<long> widths{nin_};
  widths.insert(widths.end(), o.hidden.begin(), o.hidden.end());
  widths.push_back(1);
  nn::Rng rng(o.seed);
  net_ = nn::mlp(widths, o.structure, rng);
  const double pi = 3.14159265358979323846;
  const auto& t = p.t.coords();
  const auto& x = p.x.coords();
  in_.resize(static_cast<std::size_t>(nt_ * nx_ * nin_));
  for (long i = 0; i < nt_; ++i)
    for (long j = 0; j < nx_; ++j) {
      double* f = in_.data() + (i * nx_ + j) * nin_;
      f[0] = 2.0 * (t[static_cast<std::size_t>(i)] - p.t.lower()) / (p.t.upper() - p.t.lower()) - 1.0;
      const double s = (x[static_cast<std::size_t>(j)] - p.x.lower()) / (p.x.upper() - p.x.lower());
      const double st = 0.5 * (f[0] + 1.0);
      for (long k = 1; k <= o.time_features; ++k) {
        f[nb + 2 * (k - 1)] = std::sin(pi * double(k) * st);
        f[nb + 2 * (k - 1) + 1] = std::cos(pi * double(k) * st);
      }
      if (nb == 3) {
        f[1] = std::sin(2.0 * pi * s);
        f[2] = std::cos(2.0 * pi * s);
      } else {
        f[1] = 2.0 * s - 1.0;
      }
    }
  out_.resize(static_cast<std::size_t>(nt_ * nx_));
  dout_.resize(out_.size());
  u_.resize(nt_, nx_);
}

double BwlerHat::loss(bool gradient) {
  const long n = nt_ * nx_;
  net_->forward(in_.data(), out_.data(), n);
  for (long i = 0; i < nt_; ++i)
    for (long j = 0; j < nx_; ++j) u_(i, j) = out_[static_cast<std::size_t>(i * nx_ + j)];
  const double l = loss_(u_, gradient ? &g_ : nullptr);
  if (!gradient) return l;
  for (long i = 0; i < nt_; ++i)
    for (long j = 0; j < nx_; ++j) dout_[static_cast<std::size_t>(i * nx_ + j)] = g_(i, j);
  for (auto& p : net_->parameters()) p.zero_grad();
  net_->backward(in_.data(), dout_.data(), nullptr, n);
  return l;
}

spectral::FitResult BwlerHat::train() {
  core::ScopedTimer timer("bwler.hat");
  auto params = net_->parameters();
  nn::AdamOptions ao;
  ao.lr = o_.lr;
  nn::Adam adam(params, ao);
  const double t0 = core::wall_time();
  double next_report = t0 + 5.0;
  long k = 0;
  for (; k < o_.steps; ++k) {
    const double now = core::wall_time();
    if (now - t0 > o_.seconds) break;
    const double l = loss(true);
    double gn2 = 0;
    for (auto& p : params)
      for (long i = 0; i < p.size; ++i) gn2 += p.grad[i] * p.grad[i];
    if (!std::isfinite(l) || !std::isfinite(gn2))
      throw Error("BWLer-hat: the loss or its gradient is not finite at Adam step " + std::to_string(k), {},
                  "lower bwler.learning_rate or bwler.clip");
    if (now >= next_report) {
      core::log::info("BWLer-hat Adam step ", k, ": loss ", l, " (", now - t0, " s)");
      next_report = now + 5.0;
    }
    const double gn = std::sqrt(gn2);
    if (gn > o_.clip)
      for (auto& p : params)
        for (long i = 0; i < p.size; ++i) p.grad[i] *= o_.clip / gn;
    adam.step();
  }
  spectral::FitResult r;
  r.loss = loss(false);
  const auto parts = loss_.evaluate(u_);
  r.residual_rms = parts.residual_rms;
  r.initial_rms = parts.initial_rms;
  r.u = u_;
  r.iterations = static_cast<int>(k);
  r.method = "BWLer-hat: MLP " + net_->describe() + " at the nodes, Adam (lr " + std::to_string(o_.lr) + ", gradient clipped at " +
             std::to_string(o_.clip) + ", " + std::to_string(k) + " steps)";
  return r;
}

}  // namespace kron::problems
