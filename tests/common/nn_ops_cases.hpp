#pragma once
// Every nn::ops point-wise operation run once in precision R and space s on the same inputs
// (values that float represents exactly, so fp32 and fp64 runs start equal), each result returned
// as doubles under its name: the unit tests compare fp32 against fp64 on the host, the GPU tests
// the device against the host in both precisions.
#include <array>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kron/nn/array.hpp"
#include "kron/nn/ops.hpp"

namespace kron::testing {

template <class R>
std::vector<std::pair<std::string, std::vector<double>>> run_nn_ops(core::MemorySpace s) {
  std::mt19937 g(31);
  std::uniform_real_distribution<double> U(-1, 1);
  auto values = [&](long n, double lo = 0) {
    std::vector<R> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = static_cast<R>(static_cast<float>(lo + U(g)));
    return v;
  };
  auto put = [&](const std::vector<R>& h) {
    nn::Array<R> a(s);
    a.assign(h.data(), h.size());
    return a;
  };
  std::vector<std::pair<std::string, std::vector<double>>> out;
  auto keep = [&](const std::string& name, const nn::Array<R>& a) {
    const std::vector<R> h = a.to_host();
    out.emplace_back(name, std::vector<double>(h.begin(), h.end()));
  };
  namespace ops = nn::ops;
  const long B = 3, c = 4, P = 700;
  auto y = put(values(B * c * P)), bias = put(values(c)), gb = put(values(c));
  ops::bias_add<R>(s, y.data(), bias.data(), B, c, P);
  keep("bias_add", y);
  ops::bias_gradient<R>(s, y.data(), gb.data(), B, c, P);
  keep("bias_gradient", gb);
  auto x = put(values(B * P)), gx = put(values(B * P));
  nn::Array<R> act(s), dx(s);
  act.resize(static_cast<std::size_t>(B * P));
  dx.resize(static_cast<std::size_t>(B * P));
  ops::gelu<R>(s, x.data(), act.data(), B * P);
  keep("gelu", act);
  ops::gelu_backward<R>(s, x.data(), gx.data(), dx.data(), B * P);
  keep("gelu_backward", dx);
  auto scale = put(values(P, 1.5)), shift = put(values(P));
  ops::affine_points<R>(s, x.data(), scale.data(), 0.75, shift.data(), P, B);
  keep("affine_points", x);
  ops::affine_points<R>(s, x.data(), scale.data(), 2.0, nullptr, P, B);
  keep("affine_points without shift", x);
  auto target = put(values(B * P)), grad = put(values(B * P));
  std::vector<double> errors;
  const double loss = ops::relative_l2<R>(s, x.data(), target.data(), P, B, grad.data(), &errors);
  keep("relative_l2 gradient", grad);
  errors.push_back(loss);
  out.emplace_back("relative_l2 errors and loss", errors);
  nn::Array<double> sum(s);
  const double half = 0.5;
  sum.assign(&half, 1);
  ops::relative_l2_accumulate<R>(s, x.data(), target.data(), P, B, nullptr, sum.data());
  out.emplace_back("relative_l2_accumulate", sum.to_host());
  const std::vector<long> idx = {5, -1, 0, 9, 9, 2}, rows = {2, 0, 2};
  nn::Array<long> idx_d(s), rows_d(s);
  idx_d.assign(idx.data(), idx.size());
  rows_d.assign(rows.data(), rows.size());
  nn::Array<R> sel(s);
  sel.resize(static_cast<std::size_t>(B * 6));
  ops::gather<R>(s, x.data(), sel.data(), idx_d.data(), B, 10, 6);
  keep("gather", sel);
  nn::Array<R> picked(s);
  picked.resize(static_cast<std::size_t>(3 * P));
  ops::gather_rows<R>(s, x.data(), picked.data(), rows_d.data(), 3, P);
  keep("gather_rows", picked);
  nn::Array<R> box(s);
  box.resize(static_cast<std::size_t>(12 * 9 * 2));
  ops::fill<R>(s, box.data(), 12 * 9 * 2, R(7));
  ops::copy_box<R>(s, x.data(), {1, 50, 400}, box.data(), {1, 12, 108}, {10, 8, 2});
  keep("copy_box", box);
  auto w = put(values(50)), gw = put(values(50)), m = put(values(50, 0)), v = put(values(50, 1.5));
  for (bool decoupled : {false, true}) {
    const ops::AdamStep a{1e-3, 0.9, 0.999, 1e-8, 1e-4, decoupled, 0.19, 0.002};
    for (int k = 0; k < 3; ++k) ops::adam<R>(s, w.data(), gw.data(), m.data(), v.data(), 50, a);
  }
  keep("adam weights", w);
  keep("adam moments", m);
  keep("adam second moments", v);
  return out;
}

}  // namespace kron::testing
