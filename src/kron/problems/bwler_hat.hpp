#pragma once
// BWLer-hat (Liu et al. 2025, "BWLer-hatted MLP"): an MLP evaluated at the BWLer nodes gives the
// field's nodal values, and the barycentric interpolant of those values is the field everywhere
// (its derivatives the spectral differentiation matrices'). Trained on the BWLer space-time loss
// (spectral::SpaceTimeLoss: PDE residual at the collocation points plus weighted initial and
// boundary terms) by Adam with the gradient clipped, as the paper's protocol; the loss's gradient
// with respect to the nodal values goes back through the MLP (nn's hand-written backward). The
// two families meet here, in the problems layer: spectral gives the output layer and the loss,
// nn the network and the optimiser.
#include <cstdint>
#include <string>
#include <vector>

#include "kron/nn/model.hpp"
#include "kron/spectral/fit.hpp"

namespace kron::problems {

struct BwlerHatOptions {
  std::vector<long> hidden = {64, 64, 64};  ///< hidden widths of the MLP (GELU between layers)
  std::string structure = "dense";           ///< the hidden-to-hidden layers (nn::make_map's descriptions)
  long steps = 1000;
  double seconds = 60;  ///< wall-time limit of train()
  double lr = 1e-3, clip = 1.0;
  std::uint64_t seed = 0;
  long time_features = 0;  ///< K: sin(pi k s), cos(pi k s) of t's position s in [0, 1], k = 1 .. K, as inputs too
};

class BwlerHat {
 public:
  /// The MLP's inputs at node (t_i, x_j): t scaled to [-1, 1], and (sin, cos) of x's phase on a
  /// periodic x axis (the field is periodic there), x scaled to [-1, 1] on a bounded one; then
  /// the time_features pairs (Fourier features of t: an MLP learns slow functions first, and
  /// sin(x - c t) at large c oscillates c / (2 pi) times in t).
  BwlerHat(const spectral::SpaceTimeProblem& p, const BwlerHatOptions& o);
  /// The loss at the MLP's current weights; with `gradient`, every parameter's gradient is set to
  /// the loss's (zeroed first).
  double loss(bool gradient);
  /// The nodal values (nt x nx) of the last loss().
  const Eigen::MatrixXd& values() const { return u_; }
  std::vector<nn::ParamRef> parameters() { return net_->parameters(); }
  std::string describe() const { return net_->describe(); }
  /// Adam (the options' lr, gradient clipped to norm clip) for steps steps or seconds of wall
  /// time, a progress line every 5 s; the fit of the final weights (method names the protocol,
  /// iterations the steps taken). A loss or gradient that turns non-finite is an error naming
  /// the step.
  spectral::FitResult train();

 private:
  BwlerHatOptions o_;
  spectral::SpaceTimeLoss loss_;
  long nt_, nx_, nin_;
  std::unique_ptr<nn::Sequential> net_;
  std::vector<double> in_, out_, dout_;
  Eigen::MatrixXd u_, g_;
};

}  // namespace kron::problems
