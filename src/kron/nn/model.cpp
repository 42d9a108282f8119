#include "kron/nn/model.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

// ---- Linear -----------------------------------------------------------------------------------

Linear::Linear(std::unique_ptr<StructuredMap<double>> map, bool bias) : map_(std::move(map)), bias_("bias", bias ? map_->out() : 0) {
  // Zero bias (PyTorch draws it uniform(+-1/sqrt(in))): the map alone sets the output variance.
}

void Linear::forward(const double* x, double* y, long batch) {
  map_->forward(x, y, batch, 1);
  if (bias_.size()) ops::bias_add(space(), y, bias_.values(), batch, out(), 1);
}

void Linear::backward(const double* x, const double* dy, double* dx, long batch) {
  if (bias_.size()) ops::bias_gradient(space(), dy, bias_.grads(), batch, out(), 1);
  map_->backward(x, dy, dx, batch, 1);
}

void Linear::to(core::MemorySpace s) {
  map_->to(s);
  if (s == core::MemorySpace::Device) bias_.to_device();
  else bias_.to_host();
}

std::vector<ParamRef> Linear::parameters() {
  std::vector<ParamRef> r;
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

void Gelu::forward(const double* x, double* y, long batch) { ops::gelu(space_, x, y, batch * n_); }

void Gelu::backward(const double* x, const double* dy, double* dx, long batch) {
  if (dx) ops::gelu_backward(space_, x, dy, dx, batch * n_);
}

// ---- Sequential -------------------------------------------------------------------------------

void Sequential::add(std::unique_ptr<Module> m) {
  if (!layers_.empty() && m->in() != layers_.back()->out())
    throw Error("model: layer " + std::to_string(layers_.size()) + " (" + m->describe() + ") takes " + std::to_string(m->in()) +
                " values but the layer before gives " + std::to_string(layers_.back()->out()));
  layers_.push_back(std::move(m));
}

void Sequential::forward(const double* x, double* y, long batch) {
  if (layers_.empty()) throw Error("model: no layers");
  act_.resize(layers_.size() - 1);
  const double* src = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    double* dst = y;
    if (i + 1 < layers_.size()) {
      act_[i].set_space(space_);
      act_[i].resize(static_cast<std::size_t>(batch * layers_[i]->out()));
      dst = act_[i].data();
    }
    layers_[i]->forward(src, dst, batch);
    src = dst;
  }
}

void Sequential::backward(const double* x, const double* dy, double* dx, long batch) {
  // The gradient at layer i's output: dy for the last layer, then g_ and prev_ in turn.
  const double* g = dy;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const double* xi = i == 0 ? x : act_[i - 1].data();
    if (i == 0) {
      layers_[0]->backward(xi, g, dx, batch);
      break;
    }
    Array<double>& next = g == g_.data() ? prev_ : g_;
    next.set_space(space_);
    next.resize(static_cast<std::size_t>(batch * layers_[i]->in()));
    layers_[i]->backward(xi, g, next.data(), batch);
    g = next.data();
  }
}

void Sequential::to(core::MemorySpace s) {
  space_ = s;
  for (auto& l : layers_) l->to(s);
}

std::vector<ParamRef> Sequential::parameters() {
  std::vector<ParamRef> r;
  for (auto& l : layers_)
    for (auto& p : l->parameters()) r.push_back(p);
  return r;
}

std::string Sequential::describe() const {
  std::string s;
  for (const auto& l : layers_) s += (s.empty() ? "" : ", ") + l->describe();
  return s;
}

double Sequential::flops() const {
  double f = 0;
  for (const auto& l : layers_) f += l->flops();
  return f;
}

std::unique_ptr<Sequential> mlp(const std::vector<long>& widths, const std::string& structure, Rng& rng) {
  if (widths.size() < 2) throw Error("MLP: needs at least an input and an output width");
  for (long w : widths)
    if (w < 1) throw Error("MLP: width " + std::to_string(w) + " is not positive");
  auto m = std::make_unique<Sequential>();
  const std::size_t L = widths.size() - 1;
  for (std::size_t i = 0; i < L; ++i) {
    const bool inner = i > 0 && i + 1 < L;
    m->add(std::make_unique<Linear>(make_map<double>(inner ? structure : "dense", widths[i], widths[i + 1], rng)));
    if (i + 1 < L) m->add(std::make_unique<Gelu>(widths[i + 1]));
  }
  return m;
}

long parameter_count(const std::vector<ParamRef>& ps) {
  long c = 0;
  for (const auto& p : ps) c += p.size;
  return c;
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

Adam::Adam(std::vector<ParamRef> params, AdamOptions o) : p_(std::move(params)), o_(o) {
  if (!(o_.lr > 0) || !(o_.beta1 >= 0 && o_.beta1 < 1) || !(o_.beta2 >= 0 && o_.beta2 < 1) || !(o_.eps > 0) || !(o_.weight_decay >= 0))
    throw Error("Adam: needs lr > 0, 0 <= beta1, beta2 < 1, eps > 0 and weight_decay >= 0");
  for (const auto& p : p_) {
    const auto space = p.on_device() ? core::MemorySpace::Device : core::MemorySpace::Host;
    for (auto* s : {&m_, &v_}) {
      s->emplace_back(space);
      s->back().resize(static_cast<std::size_t>(p.size));
      ops::fill(space, s->back().data(), p.size, 0.0);
    }
  }
}

void Adam::zero_grad() {
  for (const auto& p : p_) p.zero_grad();
}

void Adam::step() {
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

void Adam::restore(long steps, const std::vector<std::vector<double>>& m, const std::vector<std::vector<double>>& v) {
  if (m.size() != p_.size() || v.size() != p_.size()) throw Error("Adam: a state of " + std::to_string(m.size()) + " parameters for " + std::to_string(p_.size()));
  for (std::size_t k = 0; k < p_.size(); ++k)
    if (static_cast<long>(m[k].size()) != p_[k].size || static_cast<long>(v[k].size()) != p_[k].size)
      throw Error("Adam: the state of parameter " + std::to_string(k) + " (" + p_[k].name + ") does not fit its size " + std::to_string(p_[k].size));
  t_ = steps;
  for (std::size_t k = 0; k < p_.size(); ++k) {
    m_[k].assign(m[k].data(), m[k].size());
    v_[k].assign(v[k].data(), v[k].size());
  }
}

void allreduce_gradients(const std::vector<ParamRef>& ps, MPI_Comm comm, bool average) {
  const int n = core::mpi::size(comm);
  if (n == 1) return;
  std::vector<double> buf;
  for (const auto& p : ps) {
    const std::size_t o = buf.size();
    buf.resize(o + static_cast<std::size_t>(p.size));
    if (p.on_device()) core::copy_to_host(buf.data() + o, p.dgrad, static_cast<std::size_t>(p.size) * sizeof(double));
    else std::copy(p.grad, p.grad + p.size, buf.begin() + static_cast<long>(o));
  }
  core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce of gradients");
  if (average)
    for (auto& x : buf) x /= n;
  std::size_t o = 0;
  for (const auto& p : ps) {
    if (p.on_device()) core::copy_to_device(p.dgrad, buf.data() + o, static_cast<std::size_t>(p.size) * sizeof(double));
    else std::copy(buf.begin() + static_cast<long>(o), buf.begin() + static_cast<long>(o) + p.size, p.grad);
    o += static_cast<std::size_t>(p.size);
  }
}

}  // namespace kron::nn
