#include "kron/nn/monarch_dft.hpp"

#include <cmath>
#include <string>

#include "kron/core/error.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

namespace {
using cplx = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

long square_root(long n) {
  long m = static_cast<long>(std::llround(std::sqrt(static_cast<double>(n))));
  return m >= 2 && m * m == n ? m : -1;
}

long checked_root(long n) {
  const long m = square_root(n);
  if (m < 0)
    throw Error("Monarch DFT of " + std::to_string(n) + " points: the exact Monarch factors need a square number of points, n = m^2 with m >= 2", {},
                "pad the grid to a square, e.g. " + std::to_string(static_cast<long>(std::ceil(std::sqrt(static_cast<double>(n)))) *
                                                               static_cast<long>(std::ceil(std::sqrt(static_cast<double>(n))))) +
                    " points");
  return m;
}

cplx unit(double sign, long num, long den) { return std::polar(1.0, sign * 2 * kPi * static_cast<double>(num % den) / static_cast<double>(den)); }
}  // namespace

MonarchDft::MonarchDft(Kind kind, long n, long modes, Rng& rng) : kind_(kind), n_(n), m_(checked_root(n)), k_(modes), monarch_(n, n, m_, rng) {
  const bool real = kind == Kind::RealForward || kind == Kind::RealInverse;
  if (modes < 1 || (real ? modes > n / 2 : 2 * modes > n))
    throw Error("Monarch DFT of " + std::to_string(n) + " points: " + std::to_string(modes) + " modes" + (real ? "" : " at each end") +
                " do not fit (at most " + std::to_string(n / 2) + ")");
  const bool inverse = kind == Kind::RealInverse || kind == Kind::Inverse;
  const double sign = inverse ? 1.0 : -1.0;
  const long m = m_;
  // The spectrum weights of the inverses (folded into R's columns: R_k's column j meets the
  // spectrum's entry j m + k): 1/n, and the real inverse's Hermitian doubling.
  auto weight = [&](long f) {
    if (!inverse) return 1.0;
    double w = 1.0 / static_cast<double>(n);
    if (kind == Kind::RealInverse && f != 0 && 2 * f != n) w *= 2.0;
    return w;
  };
  for (long k = 0; k < m; ++k) {
    Eigen::MatrixXcd R(m, m), L(m, m);
    for (long l = 0; l < m; ++l)
      for (long j = 0; j < m; ++j) {
        R(l, j) = unit(sign, k * l, n) * unit(sign, j * l, m) * weight(j * m + k);
        L(l, j) = unit(sign, j * l, m);
      }
    monarch_.right().set_block(k, R);
    monarch_.left().set_block(k, L);
  }
}

long MonarchDft::in_rows() const {
  switch (kind_) {
    case Kind::RealForward:
    case Kind::Forward:
      return n_;
    case Kind::RealInverse:
      return k_;
    case Kind::Inverse:
      return 2 * k_;
  }
  return 0;
}

long MonarchDft::out_rows() const {
  switch (kind_) {
    case Kind::RealForward:
      return k_;
    case Kind::Forward:
      return 2 * k_;
    case Kind::RealInverse:
    case Kind::Inverse:
      return n_;
  }
  return 0;
}

void MonarchDft::build(long points) {
  if (points == points_) return;
  const long n = n_, m = m_, P = points;
  // The spectrum row of the complex kinds' k-th kept mode (modes 0 .. k-1, then n-k .. n-1).
  auto mode = [&](long r) { return r < k_ ? r : n - 2 * k_ + r; };
  // In front: Monarch input row t = a m + b holds the original row b m + a, as complex values,
  // points outermost (p n + t): the Monarch product then runs on lines x points lines of one
  // point each, where the engine's block-dense operators take their batched-GEMM path.
  Gather& gi = in_gather();
  const long in_width = real_in() ? 1 : 2;
  gi.nin = in_rows() * P * in_width;
  gi.nout = n * P * 2;
  gi.idx.assign(static_cast<std::size_t>(gi.nout), -1);
  std::vector<long> row_of(static_cast<std::size_t>(n), -1);  // original spectrum row -> input row
  if (kind_ == Kind::RealInverse)
    for (long r = 0; r < k_; ++r) row_of[static_cast<std::size_t>(r)] = r;
  else if (kind_ == Kind::Inverse)
    for (long r = 0; r < 2 * k_; ++r) row_of[static_cast<std::size_t>(mode(r))] = r;
  else
    for (long r = 0; r < n; ++r) row_of[static_cast<std::size_t>(r)] = r;
  for (long t = 0; t < n; ++t) {
    const long src = row_of[static_cast<std::size_t>((t % m) * m + t / m)];
    if (src < 0) continue;
    for (long p = 0; p < P; ++p)
      for (long c = 0; c < 2; ++c) {
        const long at = (p * n + t) * 2 + c;
        if (real_in()) gi.idx[static_cast<std::size_t>(at)] = c == 0 ? src * P + p : -1;
        else gi.idx[static_cast<std::size_t>(at)] = (src * P + p) * 2 + c;
      }
  }
  // Behind: back to rows x points, with the kept modes or the real part.
  Gather& go = out_gather();
  go.nin = n * P * 2;
  go.nout = out_rows() * P * (real_out() ? 1 : 2);
  go.idx.assign(static_cast<std::size_t>(go.nout), -1);
  for (long r = 0; r < out_rows(); ++r)
    for (long p = 0; p < P; ++p) {
      if (real_out()) {
        go.idx[static_cast<std::size_t>(r * P + p)] = (p * n + r) * 2;
      } else {
        const long f = kind_ == Kind::Forward ? mode(r) : r;
        for (long c = 0; c < 2; ++c) go.idx[static_cast<std::size_t>((r * P + p) * 2 + c)] = (p * n + f) * 2 + c;
      }
    }
  for (Gather* g : {&gi, &go}) {
    g->inv.assign(static_cast<std::size_t>(g->nin), -1);
    for (long i = 0; i < g->nout; ++i)
      if (g->idx[static_cast<std::size_t>(i)] >= 0) g->inv[static_cast<std::size_t>(g->idx[static_cast<std::size_t>(i)])] = i;
    g->d_idx.set_space(space_);
    g->d_inv.set_space(space_);
    g->d_idx.assign(g->idx.data(), g->idx.size());
    g->d_inv.assign(g->inv.data(), g->inv.size());
  }
  points_ = points;
}

void MonarchDft::forward(const double* x, double* y, long lines, long points) {
  build(points);
  const Gather &gi = g_[0], &go = g_[1];
  u_.set_space(space_);
  u_.resize(static_cast<std::size_t>(lines * gi.nout));
  ops::gather(space_, x, u_.data(), gi.d_idx.data(), lines, gi.nin, gi.nout);
  v_.set_space(space_);
  v_.resize(static_cast<std::size_t>(lines * go.nin));
  monarch_.forward(reinterpret_cast<const cplx*>(u_.data()), reinterpret_cast<cplx*>(v_.data()), lines * points, 1);
  ops::gather(space_, v_.data(), y, go.d_idx.data(), lines, go.nin, go.nout);
}

void MonarchDft::backward(const double* /*x*/, const double* dy, double* dx, long lines, long points) {
  if (points != points_ || u_.size() != static_cast<std::size_t>(lines * g_[0].nout))
    throw Error("internal: Monarch DFT backward for another shape than the last forward");
  const Gather &gi = g_[0], &go = g_[1];
  dv_.set_space(space_);
  dv_.resize(static_cast<std::size_t>(lines * go.nin));
  ops::gather(space_, dy, dv_.data(), go.d_inv.data(), lines, go.nout, go.nin);
  du_.set_space(space_);
  du_.resize(u_.size());
  monarch_.backward(reinterpret_cast<const cplx*>(u_.data()), reinterpret_cast<const cplx*>(dv_.data()),
                    dx ? reinterpret_cast<cplx*>(du_.data()) : nullptr, lines * points, 1);
  if (dx) ops::gather(space_, du_.data(), dx, gi.d_inv.data(), lines, gi.nout, gi.nin);
}

void MonarchDft::to(core::MemorySpace s) {
  monarch_.to(s);
  space_ = s;
  points_ = -1;  // the index arrays are rebuilt in the new space
}

}  // namespace kron::nn
