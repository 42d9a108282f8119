#pragma once
// Layers, models, losses and the Adam optimiser (issue 15). Batches of vectors, sample by sample
// (sample b at x + b * width). Every backward is written by hand and checked against finite
// differences (tests/unit/test_nn.cpp).
#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

#include "kron/nn/array.hpp"
#include "kron/nn/structured.hpp"

namespace kron::nn {

/// A layer or model in real precision R (double, or float for single-precision training): every
/// value it takes, gives and trains is an R.
template <class R>
class ModuleT {
 public:
  using real_type = R;
  virtual ~ModuleT() = default;
  virtual long in() const = 0;
  virtual long out() const = 0;
  /// y = f(x) for `batch` samples.
  virtual void forward(const R* x, R* y, long batch) = 0;
  /// dx = (df/dx)^T dy (skipped when dx is null) and parameters' grad += (df/dtheta)^T dy, x the
  /// input of the last forward, given again.
  virtual void backward(const R* x, const R* dy, R* dx, long batch) = 0;
  virtual std::vector<ParamRefT<R>> parameters() { return {}; }
  virtual std::string describe() const = 0;
  /// Floating-point operations of a forward pass per sample.
  virtual double flops() const { return 0; }
  /// Moves the module to memory space `s`: inputs, outputs and activations live there from now
  /// on, and so do its trainable parameters (take parameters() afterwards).
  virtual void to(core::MemorySpace s) = 0;
  virtual core::MemorySpace space() const = 0;
};
using Module = ModuleT<double>;

/// y = M x + b with any structured map M.
template <class R>
class LinearT : public ModuleT<R> {
 public:
  explicit LinearT(std::unique_ptr<StructuredMap<R>> map, bool bias = true);
  long in() const override { return map_->in(); }
  long out() const override { return map_->out(); }
  void forward(const R* x, R* y, long batch) override;
  void backward(const R* x, const R* dy, R* dx, long batch) override;
  std::vector<ParamRefT<R>> parameters() override;
  std::string describe() const override { return map_->describe() + (bias_.size() ? " + bias" : ""); }
  double flops() const override { return map_->flops() + static_cast<double>(bias_.size()); }
  void to(core::MemorySpace s) override;
  core::MemorySpace space() const override { return map_->space(); }
  StructuredMap<R>& map() { return *map_; }

 private:
  std::unique_ptr<StructuredMap<R>> map_;
  Parameter<R> bias_;
};
using Linear = LinearT<double>;

/// GELU, exact (PyTorch's default): y = x Phi(x) for n values, and dx = dy (Phi(x) + x phi(x))
/// (dx may be dy).
template <class R>
void gelu(const R* x, R* y, long n);
template <class R>
void gelu_backward(const R* x, const R* dy, R* dx, long n);

/// GELU as a layer.
template <class R>
class GeluT : public ModuleT<R> {
 public:
  explicit GeluT(long n) : n_(n) {}
  long in() const override { return n_; }
  long out() const override { return n_; }
  void forward(const R* x, R* y, long batch) override;
  void backward(const R* x, const R* dy, R* dx, long batch) override;
  std::string describe() const override { return "GELU"; }
  double flops() const override { return 20.0 * static_cast<double>(n_); }
  void to(core::MemorySpace s) override { space_ = s; }
  core::MemorySpace space() const override { return space_; }

 private:
  long n_;
  core::MemorySpace space_ = core::MemorySpace::Host;
};
using Gelu = GeluT<double>;

/// Modules one after the other; keeps the activations of the last forward for backward.
template <class R>
class SequentialT : public ModuleT<R> {
 public:
  void add(std::unique_ptr<ModuleT<R>> m);
  long in() const override { return layers_.front()->in(); }
  long out() const override { return layers_.back()->out(); }
  void forward(const R* x, R* y, long batch) override;
  void backward(const R* x, const R* dy, R* dx, long batch) override;
  std::vector<ParamRefT<R>> parameters() override;
  std::string describe() const override;
  double flops() const override;
  void to(core::MemorySpace s) override;
  core::MemorySpace space() const override { return space_; }
  long size() const { return static_cast<long>(layers_.size()); }
  ModuleT<R>& layer(long i) { return *layers_[static_cast<std::size_t>(i)]; }

 private:
  std::vector<std::unique_ptr<ModuleT<R>>> layers_;
  std::vector<Array<R>> act_;  // the outputs of layers 0 .. n-2
  Array<R> g_, prev_;           // backward's gradients
  core::MemorySpace space_ = core::MemorySpace::Host;
};
using Sequential = SequentialT<double>;

/// An MLP through widths w0 -> w1 -> ... -> wL with GELU between layers: the layers from one
/// hidden width to another use `structure` (make_map's description), the first and the last are
/// dense (their sizes rarely suit a structure).
template <class R = double>
std::unique_ptr<SequentialT<R>> mlp(const std::vector<long>& widths, const std::string& structure, Rng& rng);

template <class R>
long parameter_count(const std::vector<ParamRefT<R>>& ps) {
  long c = 0;
  for (const auto& p : ps) c += p.size;
  return c;
}

/// Mean squared error over all values; grad (if given) = dL/dpred.
double mse_loss(const double* pred, const double* target, long n, long batch, double* grad);
/// The mean over samples of |pred - target| / |target| (the FNO papers' relative L2); grad as
/// above; `errors` (if given) gets each sample's relative error.
template <class R>
double relative_l2_loss(const R* pred, const R* target, long n, long batch, nd<R>* grad, std::vector<double>* errors = nullptr);

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  /// L2 added to the gradient (PyTorch's Adam weight_decay), or decoupled (AdamW) when
  /// `decoupled`.
  double weight_decay = 0;
  bool decoupled = false;
};

/// Adam / AdamW (Kingma and Ba; Loshchilov and Hutter), bias-corrected, state per parameter in
/// the parameters' precision R (float: as PyTorch's fp32 Adam); parameters on the device are
/// updated there (take the ParamRefs after moving the model).
template <class R>
class AdamT {
 public:
  AdamT(std::vector<ParamRefT<R>> params, AdamOptions o);
  void zero_grad();
  /// One update from the parameters' gradients; marks every parameter changed.
  void step();
  double lr() const { return o_.lr; }
  void set_lr(double lr) { o_.lr = lr; }
  long steps() const { return t_; }
  /// The moment estimates of parameter k as host arrays of doubles (checkpoints, whatever R), and
  /// their restoration (rounded to R; an error when the arrays do not fit the parameters). The
  /// state lives where each parameter does.
  std::vector<double> first_moment(std::size_t k) const { return as_double(m_[k]); }
  std::vector<double> second_moment(std::size_t k) const { return as_double(v_[k]); }
  void restore(long steps, const std::vector<std::vector<double>>& m, const std::vector<std::vector<double>>& v);

 private:
  static std::vector<double> as_double(const Array<R>& a) {
    const std::vector<R> h = a.to_host();
    return std::vector<double>(h.begin(), h.end());
  }
  std::vector<ParamRefT<R>> p_;
  AdamOptions o_;
  std::vector<Array<R>> m_, v_;
  long t_ = 0;
};
using Adam = AdamT<double>;

/// lr0 gamma^floor(epoch / step_size) (PyTorch's StepLR).
double step_schedule(double lr0, long epoch, long step_size, double gamma);

/// Data-parallel training: every rank's gradients replaced by their mean over `comm` (one
/// all-reduce for all parameters), or by their sum (`average` false: a loss summed over samples
/// split unevenly over the ranks).
/// The sums are formed in double whatever R is.
template <class R>
void allreduce_gradients(const std::vector<ParamRefT<R>>& ps, MPI_Comm comm, bool average = true);

}  // namespace kron::nn
