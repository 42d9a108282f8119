// The neural-network family on the GPU: LineOp coefficient gradients and device coefficient
// updates against the host executor (every coefficient kind, Trans, layout, accumulate); every
// structured map, the MLP and the FNO (forward, input gradient, every parameter's gradient) on
// the device against the same model on the host; and training steps (normaliser, relative L2
// loss, Adam) on both sides giving the same weights.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "device_lines.hpp"
#include "kron/core/device.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/nn/fno.hpp"
#include "kron/nn/fused_monarch.hpp"
#include "kron/nn/normalizer.hpp"
#include "kron/nn/ops.hpp"
#include "line_op_cases.hpp"
#include "nn_cases.hpp"
#include "nn_ops_cases.hpp"
#include "random_values.hpp"

using namespace kron;
using namespace kron::linops;
using namespace kron::testing;
using cplx = std::complex<double>;
using core::MemorySpace;

namespace {

const char* name(Trans t) { return t == Trans::N ? "N" : t == Trans::T ? "T" : "H"; }

template <class T>
std::vector<T> download(const T* d, std::size_t n) {
  std::vector<T> h(n);
  core::copy_to_host(h.data(), d, n * sizeof(T));
  return h;
}

template <class T>
void coefficient_gradients() {
  std::mt19937 g(5);
  const long shapes[][3] = {{7, 1, 0}, {12, 1, 0}, {3, 5, 0}, {2, 4, 3}, {2, 24, 0}, {5, 1000, 0}, {100, 1, 2}, {40, 6, 0}};
  long checked = 0;
  for (auto& c : cases<T>()) {
    const auto k = c.op.kind();
    if (k != LineOp<T>::Kind::Dense && k != LineOp<T>::Kind::BlockDense && k != LineOp<T>::Kind::Diagonal) continue;
    const std::size_t nc = c.op.coefficients().size();
    for (const auto& sh : shapes)
      for (Trans t : {Trans::N, Trans::T, Trans::H})
        for (bool acc : {false, true}) {
          const long nin = t == Trans::N ? c.op.cols() : c.op.rows(), nout = t == Trans::N ? c.op.rows() : c.op.cols();
          DeviceLines<T> x(sh[0], nin, sh[1], sh[2]), dy(sh[0], nout, sh[1], sh[2] + 1);
          for (auto& v : x.host) v = rnd<T>(g);
          for (auto& v : dy.host) v = rnd<T>(g);
          x.upload();
          dy.upload();
          std::vector<T> gh(nc);
          for (auto& v : gh) v = rnd<T>(g);
          core::DeviceBuffer<T> gd(nc);
          core::copy_to_device(gd.data(), gh.data(), nc * sizeof(T));
          c.op.coefficient_gradient(x.host_view(), dy.host_view(), gh.data(), t, acc);
          c.op.coefficient_gradient(x.device_view(), dy.device_view(), gd.data(), t, acc);
          const double e = rel_diff(gh, download(gd.data(), nc));
          INFO(c.name << ", " << name(t) << ", " << sh[0] << " x " << sh[1] << " lines, pad " << sh[2] << (acc ? ", accumulate" : "") << ": " << e);
          CHECK(e <= tolerance<T>(1e-13));
          ++checked;
        }
  }
  CHECK(checked >= 200);
}

template <class T>
void device_coefficients() {
  std::mt19937 g(8);
  const long G = 3, m = 4, n = 5, span = 2;
  std::vector<T> a(static_cast<std::size_t>(G * m * n)), b(a.size());
  for (auto& v : a) v = rnd<T>(g);
  for (auto& v : b) v = rnd<T>(g);
  auto op = LineOp<T>::block_dense(G, m, n, a, span);
  const auto fresh = LineOp<T>::block_dense(G, m, n, b, span);
  const long shapes[][2] = {{12, 1}, {2, 6}};
  for (const auto& sh : shapes)
    for (Trans t : {Trans::N, Trans::T, Trans::H}) {
      const long nin = t == Trans::N ? n : m, nout = t == Trans::N ? m : n;
      DeviceLines<T> x(sh[0], nin, sh[1], 0), y(sh[0], nout, sh[1], 0);
      for (auto& v : x.host) v = rnd<T>(g);
      x.upload();
      y.poison();
      core::DeviceBuffer<T> bd(b.size());
      core::copy_to_device(bd.data(), b.data(), b.size() * sizeof(T));
      op.apply(x.device_view(), y.device_view(), t);  // the executor built from a
      op.set_device_coefficients(bd.data());
      op.apply(x.device_view(), y.device_view(), t);
      core::device_synchronize();
      std::vector<T> want = y.host;
      fresh.apply(x.host_view(), {want.data(), y.outer, y.n, y.inner, y.ostride}, t);
      INFO(name(t) << ", inner " << sh[1]);
      CHECK(rel_diff(y.points(want), y.points(y.download())) <= tolerance<T>(1e-13));
      // The host copy is stale now: host applies refuse until host coefficients are given.
      CHECK_THROWS_WITH(op.apply(x.host_view(), y.host_view(), t), Catch::Contains("last set in device memory"));
      op.set_coefficients(a.data());
    }
}

// The ParamRefs' gradients (or values), where they live, as one host vector.
std::vector<double> gathered(const std::vector<nn::ParamRef>& ps, bool grads) {
  std::vector<double> r;
  for (const auto& p : ps) {
    const double* src = grads ? p.live_grad() : p.live_value();
    const auto v = p.on_device() ? download(src, static_cast<std::size_t>(p.size)) : std::vector<double>(src, src + p.size);
    r.insert(r.end(), v.begin(), v.end());
  }
  return r;
}
std::vector<double> gradients(const std::vector<nn::ParamRef>& ps) { return gathered(ps, true); }
std::vector<double> values(const std::vector<nn::ParamRef>& ps) { return gathered(ps, false); }


// A map's parameter gradients (or values), where they live, as one host vector.
template <class T>
std::vector<T> parameter_values(nn::StructuredMap<T>& m, bool grads) {
  std::vector<T> r;
  for (auto* p : m.parameters()) {
    std::vector<T> v;
    if (p->on_device()) v = download(grads ? p->dgrad.data() : p->dvalue.data(), static_cast<std::size_t>(p->size()));
    else v = grads ? p->grad : p->value;
    r.insert(r.end(), v.begin(), v.end());
  }
  return r;
}

// y, dx and the parameter gradients of a map on the device against its twin on the host.
template <class T>
void compare_map(const std::string& spec, long in, long out, long pg, long points, long batch) {
  nn::Rng r1(3), r2(3);
  auto h = nn::make_map<T>(spec, in, out, r1, pg);
  auto d = nn::make_map<T>(spec, in, out, r2, pg);
  d->to(MemorySpace::Device);
  std::mt19937 g(2);
  std::vector<T> x(static_cast<std::size_t>(batch * in * points)), dy(static_cast<std::size_t>(batch * out * points));
  for (auto& v : x) v = rnd<T>(g);
  for (auto& v : dy) v = rnd<T>(g);
  std::vector<T> y(dy.size()), dx(x.size());
  h->forward(x.data(), y.data(), batch, points);
  h->backward(x.data(), dy.data(), dx.data(), batch, points);
  nn::Array<T> xd(MemorySpace::Device), dyd(MemorySpace::Device), yd(MemorySpace::Device), dxd(MemorySpace::Device);
  xd.assign(x.data(), x.size());
  dyd.assign(dy.data(), dy.size());
  yd.resize(y.size());
  dxd.resize(x.size());
  d->forward(xd.data(), yd.data(), batch, points);
  d->backward(xd.data(), dyd.data(), dxd.data(), batch, points);
  INFO(d->describe() << ", " << pg << " point groups, " << points << " points, batch " << batch);
  CHECK(rel_diff(y, yd.to_host()) <= tolerance<T>(1e-13));
  CHECK(rel_diff(dx, dxd.to_host()) <= tolerance<T>(1e-13));
  CHECK(rel_diff(parameter_values(*h, true), parameter_values(*d, true)) <= tolerance<T>(1e-13));
  CHECK(rel_diff(parameter_values(*h, false), parameter_values(*d, false)) == 0.0);
}

}  // namespace

TEST_CASE("Coefficient gradients of line operators on the device", "[gpu][nn]") {
  coefficient_gradients<double>();
  coefficient_gradients<cplx>();
}

TEST_CASE("Line-operator coefficients set from device memory", "[gpu][nn]") {
  device_coefficients<double>();
  device_coefficients<cplx>();
}

TEST_CASE("Coefficient gradients and device coefficients of single-precision line operators", "[gpu][nn]") {
  coefficient_gradients<float>();
  coefficient_gradients<std::complex<float>>();
  device_coefficients<float>();
  device_coefficients<std::complex<float>>();
}

TEST_CASE("Structured maps on the device match the host", "[gpu][nn]") {
  for (const std::string spec : {"dense", "low_rank:3", "block_diag:2", "monarch:2", "monarch:4", "butterfly", "butterfly+low_rank:2", "flat_butterfly:4",
                                 "flat_butterfly:2+low_rank:2"})
    for (long pg : {1L, 3L})
      for (long points : {3L, 6L}) {
        compare_map<double>(spec, 8, 8, pg, points, 5);
        compare_map<cplx>(spec, 8, 8, pg, points, 5);
      }
  compare_map<double>("dense", 5, 7, 1, 1, 33);
  compare_map<double>("monarch:2", 6, 10, 1, 1, 17);
  compare_map<cplx>("low_rank:2", 6, 4, 4, 4, 3);
}

TEST_CASE("Structured maps in single precision on the device match the host", "[gpu][nn]") {
  for (const std::string spec : {"dense", "low_rank:3", "block_diag:2", "monarch:4", "butterfly", "flat_butterfly:2", "butterfly+low_rank:2"}) {
    compare_map<float>(spec, 8, 8, 1, 37, 5);
    compare_map<std::complex<float>>(spec, 8, 8, 4, 4, 5);
  }
  compare_map<float>("monarch:2", 6, 10, 1, 1, 17);
}

TEST_CASE("Every point-wise op on the device matches the host in fp64 and fp32", "[gpu][nn]") {
  auto compare = [](const auto& h, const auto& d, double tol) {
    REQUIRE(h.size() == d.size());
    for (std::size_t k = 0; k < h.size(); ++k) {
      INFO(h[k].first);
      CHECK(rel_diff(h[k].second, d[k].second) <= tol);
    }
  };
  compare(run_nn_ops<double>(MemorySpace::Host), run_nn_ops<double>(MemorySpace::Device), 1e-14);
  compare(run_nn_ops<float>(MemorySpace::Host), run_nn_ops<float>(MemorySpace::Device), 1e-6);
}

TEST_CASE("Point-wise ops on the device match the host", "[gpu][nn]") {
  std::mt19937 g(11);
  auto random = [&](std::size_t n) {
    std::vector<double> v(n);
    for (auto& x : v) x = rnd<double>(g);
    return v;
  };
  auto device = [](const std::vector<double>& h) {
    nn::Array<double> d(MemorySpace::Device);
    d.assign(h.data(), h.size());
    return d;
  };
  // Planes shorter than a block's piece, several pieces, and more pieces than a grid row holds.
  const long shapes[][3] = {{3, 5, 7}, {2, 4, 5000}, {20, 32, 8836}, {1, 2, 3000000}};
  for (const auto& sh : shapes) {
    const long B = sh[0], c = sh[1], P = sh[2];
    INFO(B << " samples, " << c << " channels, " << P << " points");
    const auto y0 = random(static_cast<std::size_t>(B * c * P)), bias = random(static_cast<std::size_t>(c)), g0 = random(bias.size());
    auto yh = y0, gh = g0;
    nn::ops::bias_add(MemorySpace::Host, yh.data(), bias.data(), B, c, P);
    nn::ops::bias_gradient(MemorySpace::Host, y0.data(), gh.data(), B, c, P);
    auto yd = device(y0), bd = device(bias), gd = device(g0);
    nn::ops::bias_add(MemorySpace::Device, yd.data(), bd.data(), B, c, P);
    nn::ops::bias_gradient(MemorySpace::Device, device(y0).data(), gd.data(), B, c, P);
    CHECK(rel_diff(yh, yd.to_host()) == 0.0);
    CHECK(rel_diff(gh, gd.to_host()) <= 1e-13);
  }
  {  // rows of a resident set, and the summed relative L2 error with its gradient
    const long rows = 9, len = 37, B = 4;
    const auto set = random(static_cast<std::size_t>(rows * len)), target = random(static_cast<std::size_t>(B * len));
    const std::vector<long> pick = {7, 2, 2, 8};
    std::vector<double> xh(static_cast<std::size_t>(B * len)), gh(xh.size());
    nn::ops::gather_rows(MemorySpace::Host, set.data(), xh.data(), pick.data(), B, len);
    CHECK(xh[static_cast<std::size_t>(len + 3)] == set[static_cast<std::size_t>(2 * len + 3)]);
    double sh = 0.5;
    nn::ops::relative_l2_accumulate(MemorySpace::Host, xh.data(), target.data(), len, B, gh.data(), &sh);
    CHECK(sh == Approx(0.5 + B * nn::ops::relative_l2(MemorySpace::Host, xh.data(), target.data(), len, B, nullptr)).epsilon(1e-14));
    nn::Array<long> pd(MemorySpace::Device);
    pd.assign(pick.data(), pick.size());
    auto setd = device(set), td = device(target), xd = device(xh), gd = device(gh), sd = device({0.5});
    nn::ops::gather_rows(MemorySpace::Device, setd.data(), xd.data(), pd.data(), B, len);
    CHECK(rel_diff(xh, xd.to_host()) == 0.0);
    nn::ops::relative_l2_accumulate(MemorySpace::Device, xd.data(), td.data(), len, B, gd.data(), sd.data());
    CHECK(sd.to_host()[0] == Approx(sh).epsilon(1e-14));
    CHECK(rel_diff(gh, gd.to_host()) <= 1e-14);
  }
  {  // box copies with a fast axis of a warp or more (rows a thread block) and less (elements)
    for (const std::array<long, 3> n : {std::array<long, 3>{85, 85, 6}, {31, 40, 3}, {300, 2, 20}, {40, 1, 70000}}) {
      const std::array<long, 3> ss{1, n[0], n[0] * n[1]}, ds{1, n[0] + 9, (n[0] + 9) * (n[1] + 1)};
      const auto src = random(static_cast<std::size_t>(n[0] * n[1] * n[2]));
      const auto dst0 = random(static_cast<std::size_t>(ds[2] * n[2]));
      for (bool acc : {false, true}) {
        auto dh = dst0;
        auto sd = device(src), dd = device(dst0);
        if (acc) {
          layout::copy_box_device<double>(sd.data(), ss, dd.data(), ds, n, true);
          for (long k = 0; k < n[2]; ++k)
            for (long j = 0; j < n[1]; ++j)
              for (long i = 0; i < n[0]; ++i) dh[static_cast<std::size_t>(i + j * ds[1] + k * ds[2])] += src[static_cast<std::size_t>(i + j * ss[1] + k * ss[2])];
        } else {
          nn::ops::copy_box(MemorySpace::Device, sd.data(), ss, dd.data(), ds, n);
          nn::ops::copy_box(MemorySpace::Host, src.data(), ss, dh.data(), ds, n);
        }
        INFO(n[0] << " x " << n[1] << " x " << n[2] << (acc ? ", accumulate" : ""));
        CHECK(rel_diff(dh, dd.to_host()) == 0.0);
      }
    }
  }
}

TEST_CASE("An MLP and the FNO on the device match the host", "[gpu][nn]") {
  {
    nn::Rng r1(4), r2(4);
    auto h = nn::mlp({5, 16, 16, 3}, "monarch:4", r1), d = nn::mlp({5, 16, 16, 3}, "monarch:4", r2);
    d->to(MemorySpace::Device);
    std::mt19937 g(1);
    const long B = 9;
    std::vector<double> x(5 * B), dy(3 * B), y(dy.size()), dx(x.size());
    for (auto& v : x) v = rnd<double>(g);
    for (auto& v : dy) v = rnd<double>(g);
    h->forward(x.data(), y.data(), B);
    h->backward(x.data(), dy.data(), dx.data(), B);
    nn::Array<double> xd(MemorySpace::Device), dyd(MemorySpace::Device), yd(MemorySpace::Device), dxd(MemorySpace::Device);
    xd.assign(x.data(), x.size());
    dyd.assign(dy.data(), dy.size());
    yd.resize(y.size());
    dxd.resize(x.size());
    d->forward(xd.data(), yd.data(), B);
    d->backward(xd.data(), dyd.data(), dxd.data(), B);
    CHECK(rel_diff(y, yd.to_host()) <= 1e-13);
    CHECK(rel_diff(dx, dxd.to_host()) <= 1e-13);
    CHECK(rel_diff(gradients(h->parameters()), gradients(d->parameters())) <= 1e-13);
  }
  for (const auto& [spectral, mixing, transform] : {std::tuple<std::string, std::string, std::string>{"dense", "dense", "fixed"},
                                                      {"monarch:2", "block_diag:2", "fixed"},
                                                      {"low_rank:2", "monarch:2", "fixed"},
                                                      {"dense", "dense", "dense"},
                                                      {"dense", "block_diag:2", "monarch:2"},
                                                      {"dense", "dense", "monarch_dft"},
                                                      {"block_diag:2", "dense", "monarch_dft"}}) {
    nn::Rng r1(6), r2(6);
    const auto o = small_fno(spectral, mixing, transform);
    nn::Fno h(o, r1), d(o, r2);
    d.to(MemorySpace::Device);
    std::mt19937 g(9);
    const long B = 3;
    std::vector<double> x(static_cast<std::size_t>(B * h.in())), dy(static_cast<std::size_t>(B * h.out())), y(dy.size()), dx(x.size());
    for (auto& v : x) v = rnd<double>(g);
    for (auto& v : dy) v = rnd<double>(g);
    h.forward(x.data(), y.data(), B);
    h.backward(x.data(), dy.data(), dx.data(), B);
    nn::Array<double> xd(MemorySpace::Device), dyd(MemorySpace::Device), yd(MemorySpace::Device), dxd(MemorySpace::Device);
    xd.assign(x.data(), x.size());
    dyd.assign(dy.data(), dy.size());
    yd.resize(y.size());
    dxd.resize(x.size());
    d.forward(xd.data(), yd.data(), B);
    d.backward(xd.data(), dyd.data(), dxd.data(), B);
    INFO(d.describe());
    CHECK(rel_diff(y, yd.to_host()) <= 1e-12);
    CHECK(rel_diff(dx, dxd.to_host()) <= 1e-12);
    CHECK(rel_diff(gradients(h.parameters()), gradients(d.parameters())) <= 1e-12);
  }
}

TEST_CASE("FNOs in single precision on the device agree with their double-precision twins", "[gpu][nn]") {
  // fp32 SGEMM/CGEMM LineOps and fp32 point-wise kernels against the fp64 model of the same
  // weights, both on the device (the fp64 device model is checked against the host above).
  for (const auto& [spectral, mixing, transform] : {std::tuple<std::string, std::string, std::string>{"dense", "dense", "fixed"},
                                                      {"monarch:2", "block_diag:2", "fixed"},
                                                      {"low_rank:2", "monarch:2", "fixed"},
                                                      {"dense", "block_diag:2", "monarch:2"}}) {
    const auto gap = fp32_fno_gap(small_fno(spectral, mixing, transform), MemorySpace::Device);
    INFO(spectral << " / " << mixing << " / " << transform << ": outputs " << gap.y << ", input gradients " << gap.dx << ", parameter gradients " << gap.grad);
    CHECK(gap.y <= 1e-5);
    CHECK(gap.dx <= 1e-5);
    CHECK(gap.grad <= 1e-5);
  }
}

TEST_CASE("FNO training steps on the device give the host's weights", "[gpu][nn]") {
  const auto o = small_fno("dense", "dense");
  const long S = 6, B = 3, P = o.nx * o.ny;
  std::mt19937 g(12);
  std::vector<double> a(static_cast<std::size_t>(S * P)), u(a.size());
  for (auto& v : a) v = rnd<double>(g);
  for (auto& v : u) v = 2.0 + rnd<double>(g);
  auto xn = nn::Normalizer::fit(a, S, P), yn = nn::Normalizer::fit(u, S, P);
  std::vector<double> x = a;
  xn.encode(x);
  std::vector<std::vector<double>> weights, losses;
  for (MemorySpace s : {MemorySpace::Host, MemorySpace::Device}) {
    nn::Rng rng(7);
    nn::Fno model(o, rng);
    model.to(s);
    const auto ps = model.parameters();
    nn::Adam opt(ps, {3e-3, 0.9, 0.999, 1e-8, 1e-4, false});
    nn::Array<double> xd(s), yd(s), out(s), grad(s);
    out.resize(static_cast<std::size_t>(B * P));
    grad.resize(out.size());
    std::vector<double> ls;
    for (long step = 0; step < 4; ++step) {
      const long b0 = (step * B) % S;
      xd.assign(x.data() + b0 * P, static_cast<std::size_t>(B * P));
      yd.assign(u.data() + b0 * P, static_cast<std::size_t>(B * P));
      opt.zero_grad();
      model.forward(xd.data(), out.data(), B);
      yn.decode(s, out.data(), B);
      ls.push_back(nn::ops::relative_l2(s, out.data(), yd.data(), P, B, grad.data()));
      yn.backward(s, grad.data(), double(B), B);
      model.backward(xd.data(), grad.data(), nullptr, B);
      opt.step();
    }
    weights.push_back(values(ps));
    losses.push_back(ls);
  }
  CHECK(rel_diff(losses[0], losses[1]) <= 1e-12);
  CHECK(rel_diff(weights[0], weights[1]) <= 1e-12);
}

namespace {

// The fused kernel on `batch` samples against MonarchMap's forward on the host, in precision p:
// the largest |difference| over the largest |y|.
double fused_vs_host(long in, long out, long nb, long batch, nn::Precision p, nn::MonarchKernel kernel = nn::MonarchKernel::automatic,
                     nn::MonarchKernel* used = nullptr) {
  nn::Rng rng(static_cast<std::uint64_t>(in * 131 + out * 17 + nb));
  nn::MonarchMap<double> M(in, out, nb, rng);
  std::vector<double> x(static_cast<std::size_t>(in * batch)), y(static_cast<std::size_t>(out * batch));
  for (auto& v : x) v = rng.normal();
  M.forward(x.data(), y.data(), batch, 1);
  nn::FusedMonarch F(M, p, 0, kernel);
  if (used) *used = F.kernel();
  const std::size_t eb = nn::element_bytes(p);
  core::DeviceBuffer<double> xd(x.size()), yd(y.size());
  core::DeviceBytes xs(x.size() * eb), ys(y.size() * eb);
  core::copy_to_device(xd.data(), x.data(), x.size() * sizeof(double));
  nn::FusedMonarch::narrow(xd.data(), xs.data(), static_cast<long>(x.size()), p);
  F.forward(xs.data(), ys.data(), batch);
  nn::FusedMonarch::widen(ys.data(), yd.data(), static_cast<long>(y.size()), p);
  core::stream_synchronize();
  const auto got = download(yd.data(), y.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    diff = std::max(diff, std::abs(got[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("The fused Monarch multiply matches MonarchMap in fp64, fp32 and bf16", "[gpu][nn]") {
  // The paper's nb = sqrt(n), few blocks, rectangular both ways, and batches that do not fill a tile.
  const long shapes[][3] = {{16, 16, 4}, {256, 256, 16}, {256, 256, 4}, {1024, 1024, 32}, {4096, 4096, 64}, {12, 18, 3}, {18, 12, 3}, {96, 64, 8}, {100, 100, 10}};
  for (const auto& s : shapes)
    for (long batch : {1L, 37L, 100L}) {
      INFO("in " << s[0] << ", out " << s[1] << ", nb " << s[2] << ", batch " << batch);
      CHECK(fused_vs_host(s[0], s[1], s[2], batch, nn::Precision::FP64) <= 1e-13);
      CHECK(fused_vs_host(s[0], s[1], s[2], batch, nn::Precision::FP32, nn::MonarchKernel::cuda_cores) <= 5e-6);
      CHECK(fused_vs_host(s[0], s[1], s[2], batch, nn::Precision::BF16, nn::MonarchKernel::cuda_cores) <= 3e-2);
    }
}

TEST_CASE("The fused Monarch multiply on tensor cores matches MonarchMap in fp32 and bf16", "[gpu][nn]") {
  // Square blocks of 16, 32, 64 and 128; nb a power of two or not (24), nb not a multiple of the
  // copy-out's 4 (30), fewer blocks than warps (4); batches that do not fill a tile.
  const long shapes[][3] = {{256, 256, 16}, {512, 512, 32}, {256, 256, 4}, {1024, 1024, 32}, {4096, 4096, 64}, {2048, 2048, 16}, {1536, 1536, 24}, {960, 960, 30}};
  for (const auto& s : shapes)
    for (long batch : {1L, 37L, 100L}) {
      INFO("in " << s[0] << ", out " << s[1] << ", nb " << s[2] << ", batch " << batch);
      nn::MonarchKernel used{};
      CHECK(fused_vs_host(s[0], s[1], s[2], batch, nn::Precision::FP32, nn::MonarchKernel::tensor_cores, &used) <= 5e-6);
      CHECK(used == nn::MonarchKernel::tensor_cores);
      CHECK(fused_vs_host(s[0], s[1], s[2], batch, nn::Precision::BF16, nn::MonarchKernel::automatic, &used) <= 3e-2);
      CHECK(used == nn::MonarchKernel::tensor_cores);
    }
  // Not square, or fp64: automatic keeps the CUDA cores, and asking for tensor cores is an error.
  nn::MonarchKernel used{};
  CHECK(fused_vs_host(96, 64, 8, 37, nn::Precision::BF16, nn::MonarchKernel::automatic, &used) <= 3e-2);
  CHECK(used == nn::MonarchKernel::cuda_cores);
  CHECK(fused_vs_host(256, 256, 16, 37, nn::Precision::FP64, nn::MonarchKernel::automatic, &used) <= 1e-13);
  CHECK(used == nn::MonarchKernel::cuda_cores);
  nn::Rng rng(1);
  nn::MonarchMap<double> M(96, 64, 8, rng);
  REQUIRE_THROWS_WITH(nn::FusedMonarch(M, nn::Precision::FP32, 0, nn::MonarchKernel::tensor_cores),
                      Catch::Contains("square blocks of 16, 32, 64 or 128") && Catch::Contains("8 blocks of 8 x 12 in fp32"));
  // x one bf16 element off an 8-byte boundary.
  nn::MonarchMap<double> S(256, 256, 16, rng);
  nn::FusedMonarch T(S, nn::Precision::BF16);
  core::DeviceBytes xs(2 * 256 * 2 + 8), ys(2 * 256 * 2);
  REQUIRE_THROWS_WITH(T.forward(static_cast<char*>(xs.data()) + 2, ys.data(), 2), Catch::Contains("not 8-byte aligned"));
}

TEST_CASE("The fused Monarch multiply refuses what does not fit", "[gpu][nn]") {
  nn::Rng rng(1);
  nn::MonarchMap<double> M(1 << 15, 1 << 15, 128, rng);  // one sample's h: 32768 values, 256 KiB in fp64
  REQUIRE_THROWS_WITH(nn::FusedMonarch(M, nn::Precision::FP64), Catch::Contains("do not fit in 227 KiB"));
}
