#pragma once
// Models shared by the unit and GPU tests of the neural-network family.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kron/nn/fno.hpp"

namespace kron::testing {

/// A small 2D FNO (12 x 12 grid, 3 x 3 modes, width 8, 2 layers, padding 2, head 16); its
/// transforms map 14 padded points to 6 and back.
inline nn::FnoOptions small_fno(const std::string& spectral, const std::string& mixing, const std::string& transform = "fixed") {
  nn::FnoOptions o;
  o.nx = o.ny = 12;
  o.modes_x = o.modes_y = 3;
  o.width = 8;
  o.layers = 2;
  o.padding = transform == "monarch_dft" ? 4 : 2;  // 16 = 4^2 padded points for the Monarch DFT
  o.head = 16;
  o.spectral = spectral;
  o.mixing = mixing;
  o.transform = transform;
  return o;
}

/// The largest difference between a and b relative to b's largest value.
template <class A, class B>
double max_rel_diff(const A& a, const B& b) {
  double e = 0, sc = 0;
  for (std::size_t q = 0; q < b.size(); ++q) {
    e = std::max(e, std::abs(double(a[q]) - double(b[q])));
    sc = std::max(sc, std::abs(double(b[q])));
  }
  return e / std::max(sc, 1e-300);
}

/// The parameters' gradients, host copies, one after the other.
template <class R>
std::vector<double> gradients_of(const std::vector<nn::ParamRefT<R>>& ps) {
  std::vector<double> g;
  for (const auto& p : ps) {
    std::vector<R> h(static_cast<std::size_t>(p.size));
    if (p.on_device() && p.size) core::copy_to_host(h.data(), p.dgrad, h.size() * sizeof(R));
    else std::copy(p.grad, p.grad + p.size, h.begin());
    g.insert(g.end(), h.begin(), h.end());
  }
  return g;
}

/// An fp32 model of options o and its fp64 twin (the fp32 weights exactly, through the ParamRefs'
/// doubles) in memory space s, one forward and backward of the same inputs (fp32 values): the
/// largest relative differences of the outputs, the input gradients and the parameter gradients.
struct PrecisionGap {
  double y = 0, dx = 0, grad = 0;
};
inline PrecisionGap fp32_fno_gap(const nn::FnoOptions& o, core::MemorySpace s) {
  nn::Rng r1(6), r2(6);
  nn::FnoT<float> f(o, r1);
  nn::FnoT<double> d(o, r2);
  f.to(s);
  d.to(s);
  const auto fp = f.parameters();
  const auto dp = d.parameters();
  if (fp.size() != dp.size()) return {1, 1, 1};
  for (std::size_t k = 0; k < fp.size(); ++k) {
    fp[k].download();
    dp[k].assign(fp[k].values_as_double());
    dp[k].upload();
  }
  const long B = 3;
  std::mt19937 g(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(B * f.in())), dy(static_cast<std::size_t>(B * f.out()));
  for (auto& v : x) v = u(g);
  for (auto& v : dy) v = u(g);
  const std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end());
  auto run = [&](auto& model, const auto& xin, const auto& dyin) {
    using R = typename std::decay_t<decltype(xin)>::value_type;
    nn::Array<R> xa(s), dya(s), ya(s), dxa(s);
    xa.assign(xin.data(), xin.size());
    dya.assign(dyin.data(), dyin.size());
    ya.resize(dyin.size());
    dxa.resize(xin.size());
    model.forward(xa.data(), ya.data(), B);
    model.backward(xa.data(), dya.data(), dxa.data(), B);
    return std::make_pair(ya.to_host(), dxa.to_host());
  };
  const auto [yf, dxf] = run(f, x, dy);
  const auto [yd, dxdd] = run(d, xd, dyd);
  return {max_rel_diff(yf, yd), max_rel_diff(dxf, dxdd), max_rel_diff(gradients_of(fp), gradients_of(dp))};
}

}  // namespace kron::testing
