#include "kron/nn/model.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

// ---- Linear -----------------------------------------------------------------------------------

template <class R>
LinearT<R>::LinearT(std::unique_ptr<StructuredMap<R>> map, bool bias) : map_(std::move(map)), bias_("bias", bias ? map_->out() : 0) {
  // Zero bias (PyTorch draws it uniform(+-1/sqrt(in))): the map alone sets the output variance.
}

template <class R>
void LinearT<R>::forward(const R* x, R* y, long batch) {
  map_->forward(x, y, batch, 1);
  if (bias_.size()) ops::bias_add(space(), y, bias_.values(), batch, out(), 1);
}

template <class R>
void LinearT<R>::backward(const R* x, const R* dy, R* dx, long batch) {
  if (bias_.size()) ops::bias_gradient(space(), dy, bias_.grads(), batch, out(), 1);
  map_->backward(x, dy, dx, batch, 1);
}

template <class R>
void LinearT<R>::to(core::MemorySpace s) {
  map_->to(s);
  if (s == core::MemorySpace::Device) bias_.to_device();
  else bias_.to_host();
}

template <class R>
std::vector<ParamRefT<R>> LinearT<R>::parameters() {
  std::vector<ParamRefT<R>> r;
  for (auto* p : map_->parameters()) r.push_back(real_view(*p));
  if (bias_.size()) r.push_back(real_view(bias_));
  return r;
}

// ---- GELU -------------------------------------------------------------------------------------

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
}

// In the values' precision R (float: erff and expf, as PyTorch's fp32 GELU).
template <class R>
void gelu(const R* x, R* y, long n) {
  const R h = R(0.5), one = R(1), is2 = R(kInvSqrt2);
  for (long i = 0; i < n; ++i) y[i] = h * x[i] * (one + std::erf(x[i] * is2));
}

template <class R>
void gelu_backward(const R* x, const R* dy, R* dx, long n) {
  const R h = R(0.5), one = R(1), is2 = R(kInvSqrt2), is2pi = R(kInvSqrt2Pi);
  for (long i = 0; i < n; ++i) {
    const R phi = h * (one + std::erf(x[i] * is2)), pdf = is2pi * std::exp(-h * x[i] * x[i]);
    dx[i] = dy[i] * (phi + x[i] * pdf);
  }
}
template void gelu<double>(const double*, double*, long);
template void gelu<float>(const float*, float*, long);
template void gelu_backward<double>(const double*, const double*, double*, long);
template void gelu_backward<float>(const float*, const float*, float*, long);

template <class R>
void GeluT<R>::forward(const R* x, R* y, long batch) {
  ops::gelu(space_, x, y, batch * n_);
}

template <class R>
void GeluT<R>::backward(const R* x, const R* dy, R* dx, long batch) {
  if (dx) ops::gelu_backward(space_, x, dy, dx, batch * n_);
}

// ---- Sequential -------------------------------------------------------------------------------

template <class R>
void SequentialT<R>::add(std::unique_ptr<ModuleT<R>> m) {
  if (!layers_.empty() && m->in() != layers_.back()->out())
    throw Error("model: layer " + std::to_string(layers_.size()) + " (" + m->describe() + ") takes " + std::to_string(m->in()) +
                " values but the layer before gives " + std::to_string(layers_.back()->out()));
  layers_.push_back(std::move(m));
}

template <class R>
void SequentialT<R>::forward(const R* x, R* y, long batch) {
  if (layers_.empty()) throw Error("model: no layers");
  act_.resize(layers_.size() - 1);
  const R* src = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    R* dst = y;
    if (i + 1 < layers_.size()) {
      act_[i].set_space(space_);
      act_[i].resize(static_cast<std::size_t>(batch * layers_[i]->out()));
      dst = act_[i].data();
    }
    layers_[i]->forward(src, dst, batch);
    src = dst;
  }
}

template <class R>
void SequentialT<R>::backward(const R* x, const R* dy, R* dx, long batch) {
  // The gradient at layer i's output: dy for the last layer, then g_ and prev_ in turn.
  const R* g = dy;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const R* xi = i == 0 ? x : act_[i - 1].data();
    if (i == 0) {
      layers_[0]->backward(xi, g, dx, batch);
      break;
    }
    Array<R>& next = g == g_.data() ? prev_ : g_;
    next.set_space(space_);
    next.resize(static_cast<std::size_t>(batch * layers_[i]->in()));
    layers_[i]->backward(xi, g, next.data(), batch);
    g = next.data();
  }
}

template <class R>
void SequentialT<R>::to(core::MemorySpace s) {
  space_ = s;
  for (auto& l : layers_) l->to(s);
}

template <class R>
std::vector<ParamRefT<R>> SequentialT<R>::parameters() {
  std::vector<ParamRefT<R>> r;
  for (auto& l : layers_)
    for (auto& p : l->parameters()) r.push_back(p);
  return r;
}

template <class R>
std::string SequentialT<R>::describe() const {
  std::string s;
  for (const auto& l : layers_) s += (s.empty() ? "" : ", ") + l->describe();
  return s;
}

template <class R>
double SequentialT<R>::flops() const {
  double f = 0;
  for (const auto& l : layers_) f += l->flops();
  return f;
}

template <class R>
std::unique_ptr<SequentialT<R>> mlp(const std::vector<long>& widths, const std::string& structure, Rng& rng) {
  if (widths.size() < 2) throw Error("MLP: needs at least an input and an output width");
  for (long w : widths)
    if (w < 1) throw Error("MLP: width " + std::to_string(w) + " is not positive");
  auto m = std::make_unique<SequentialT<R>>();
  const std::size_t L = widths.size() - 1;
  for (std::size_t i = 0; i < L; ++i) {
    const bool inner = i > 0 && i + 1 < L;
    m->add(std::make_unique<LinearT<R>>(make_map<R>(inner ? structure : "dense", widths[i], widths[i + 1], rng)));
    if (i + 1 < L) m->add(std::make_unique<GeluT<R>>(widths[i + 1]));
  }
  return m;
}

// ---- losses -----------------------------------------------------------------------------------

double mse_loss(const double* pred, const double* target, long n, long batch, double* grad) {
  const long c = n * batch;
  double s = 0;
  for (long i = 0; i < c; ++i) {
    const double d = pred[i] - target[i];
    s += d * d;
    if (grad) grad[i] = 2.0 * d / static_cast<double>(c);
  }
  return s / static_cast<double>(c);
}

// Sums in double whatever R is.
template <class R>
double relative_l2_loss(const R* pred, const R* target, long n, long batch, nd<R>* grad, std::vector<double>* errors) {
  double total = 0;
  if (errors) errors->resize(static_cast<std::size_t>(batch));
  for (long b = 0; b < batch; ++b) {
    const R* p = pred + b * n;
    const R* t = target + b * n;
    double e2 = 0, t2 = 0;
    for (long i = 0; i < n; ++i) {
      const double d = double(p[i]) - double(t[i]);
      e2 += d * d;
      t2 += double(t[i]) * double(t[i]);
    }
    if (!(t2 > 0)) throw Error("relative L2 loss: sample " + std::to_string(b) + " has a zero target", {}, "use the mse loss for data with zero samples");
    const double e = std::sqrt(e2), tn = std::sqrt(t2);
    total += e / tn;
    if (errors) (*errors)[static_cast<std::size_t>(b)] = e / tn;
    if (grad)
      for (long i = 0; i < n; ++i) grad[b * n + i] = static_cast<R>(e > 0 ? (double(p[i]) - double(t[i])) / (e * tn * static_cast<double>(batch)) : 0.0);
  }
  return total / static_cast<double>(batch);
}
template double relative_l2_loss<double>(const double*, const double*, long, long, double*, std::vector<double>*);
template double relative_l2_loss<float>(const float*, const float*, long, long, float*, std::vector<double>*);

// ---- Adam -------------------------------------------------------------------------------------

template <class R>
AdamT<R>::AdamT(std::vector<ParamRefT<R>> params, AdamOptions o) : p_(std::move(params)), o_(o) {
  if (!(o_.lr > 0) || !(o_.beta1 >= 0 && o_.beta1 < 1) || !(o_.beta2 >= 0 && o_.beta2 < 1) || !(o_.eps > 0) || !(o_.weight_decay >= 0))
    throw Error("Adam: needs lr > 0, 0 <= beta1, beta2 < 1, eps > 0 and weight_decay >= 0");
  for (const auto& p : p_) {
    const auto space = p.on_device() ? core::MemorySpace::Device : core::MemorySpace::Host;
    for (auto* s : {&m_, &v_}) {
      s->emplace_back(space);
      s->back().resize(static_cast<std::size_t>(p.size));
      ops::fill(space, s->back().data(), p.size, R(0));
    }
  }
}

template <class R>
void AdamT<R>::zero_grad() {
  for (const auto& p : p_) p.zero_grad();
}

template <class R>
void AdamT<R>::step() {
  ++t_;
  const ops::AdamStep a{o_.lr, o_.beta1, o_.beta2, o_.eps, o_.weight_decay, o_.decoupled,
                        1.0 - std::pow(o_.beta1, static_cast<double>(t_)), 1.0 - std::pow(o_.beta2, static_cast<double>(t_))};
  for (std::size_t k = 0; k < p_.size(); ++k) {
    ops::adam(m_[k].space(), p_[k].live_value(), p_[k].live_grad(), m_[k].data(), v_[k].data(), p_[k].size, a);
    p_[k].changed();
  }
}

double step_schedule(double lr0, long epoch, long step_size, double gamma) {
  return lr0 * std::pow(gamma, static_cast<double>(step_size > 0 ? epoch / step_size : 0));
}

template <class R>
void AdamT<R>::restore(long steps, const std::vector<std::vector<double>>& m, const std::vector<std::vector<double>>& v) {
  if (m.size() != p_.size() || v.size() != p_.size()) throw Error("Adam: a state of " + std::to_string(m.size()) + " parameters for " + std::to_string(p_.size()));
  for (std::size_t k = 0; k < p_.size(); ++k)
    if (static_cast<long>(m[k].size()) != p_[k].size || static_cast<long>(v[k].size()) != p_[k].size)
      throw Error("Adam: the state of parameter " + std::to_string(k) + " (" + p_[k].name + ") does not fit its size " + std::to_string(p_[k].size));
  t_ = steps;
  for (std::size_t k = 0; k < p_.size(); ++k) {
    const std::vector<R> mk(m[k].begin(), m[k].end()), vk(v[k].begin(), v[k].end());
    m_[k].assign(mk.data(), mk.size());
    v_[k].assign(vk.data(), vk.size());
  }
}

template <class R>
void allreduce_gradients(const std::vector<ParamRefT<R>>& ps, MPI_Comm comm, bool average) {
  const int n = core::mpi::size(comm);
  if (n == 1) return;
  // Gathered in R (one device copy per parameter), summed in double.
  std::vector<R> buf;
  for (const auto& p : ps) {
    const std::size_t o = buf.size();
    buf.resize(o + static_cast<std::size_t>(p.size));
    if (p.on_device()) core::copy_to_host(buf.data() + o, p.dgrad, static_cast<std::size_t>(p.size) * sizeof(R));
    else std::copy(p.grad, p.grad + p.size, buf.begin() + static_cast<long>(o));
  }
  std::vector<double> sum(buf.begin(), buf.end());
  core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, sum.data(), static_cast<int>(sum.size()), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce of gradients");
  for (std::size_t i = 0; i < sum.size(); ++i) buf[i] = static_cast<R>(average ? sum[i] / n : sum[i]);
  std::size_t o = 0;
  for (const auto& p : ps) {
    if (p.on_device()) core::copy_to_device(p.dgrad, buf.data() + o, static_cast<std::size_t>(p.size) * sizeof(R));
    else std::copy(buf.begin() + static_cast<long>(o), buf.begin() + static_cast<long>(o) + p.size, p.grad);
    o += static_cast<std::size_t>(p.size);
  }
}

#define KRON_NN_MODEL(R)                                                                                                          \
  template class LinearT<R>;                                                                                                      \
  template class GeluT<R>;                                                                                                        \
  template class SequentialT<R>;                                                                                                  \
  template class AdamT<R>;                                                                                                        \
  template std::unique_ptr<SequentialT<R>> mlp<R>(const std::vector<long>&, const std::string&, Rng&);                            \
  template void allreduce_gradients<R>(const std::vector<ParamRefT<R>>&, MPI_Comm, bool);
KRON_NN_MODEL(double)
KRON_NN_MODEL(float)
#undef KRON_NN_MODEL

}  // namespace kron::nn
