#pragma once
// Fitting nodal values to a linear PDE by least squares (issue 13, BWLer): the unknowns are the
// values at a tensor grid of nodes, the loss the mean squared PDE residual at collocation points
// plus weighted initial terms, as in the BWLer paper; kron solves the linear problem exactly
// instead of training on it.
#include "kron/core/eigen.hpp"

#include <mpi.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "kron/layout/axis_grid.hpp"

namespace kron::spectral {

/// A linear space-time problem on the tensor grid of nodes t x x, x periodic (Fourier nodes):
///   sum_j c_j d^{p_j}/dt^{p_j} d^{q_j}/dx^{q_j} u = f(t, x)   at every node (collocation),
///   d^{p}/dt^{p} u(t0, x) = g(x)                                at the x nodes, t0 = t.lower(),
/// each initial term weighted by its weight. Loss (the objective minimised):
///   mean over nodes of the squared residual + sum over initial terms of weight * mean over x of
///   the squared initial misfit.
struct SpaceTimeProblem {
  layout::AxisGrid t, x;
  struct Term {
    double coef = 1;
    int dt = 0, dx = 0;  ///< derivative orders in t and in x
  };
  std::vector<Term> terms;
  /// A reaction term sum_k reaction[k] u^k added to the left side (k = 0 .. 3; empty: none).
  /// Terms of degree 2 and 3 make the problem nonlinear: it is then solved by Gauss-Newton.
  std::vector<double> reaction;
  /// Products u * (d^dt/dt^dt d^dx/dx^dx u) added to the left side, coef times each (Burgers'
  /// u*u_x: {1, 0, 1}). Nonlinear: solved by fit_time_slabs.
  std::vector<Term> products;
  /// f at the nodes, t-major (f[i * nx + j] at (t_i, x_j)); empty: zero.
  std::vector<double> source;
  struct Initial {
    int dt = 0;                  ///< which t-derivative is prescribed at t0
    std::vector<double> values;  ///< at the x nodes (bounded x: at the x collocation points)
    double weight = 1;
  };
  std::vector<Initial> initial;
  /// Bounded x axis only: collocation points in t and x (empty: the nodes), where the PDE
  /// residual is taken (`source` then holds f there, t-major), and Dirichlet data u(t, x_side)
  /// at the t collocation points, weighted like the initial terms.
  std::vector<double> t_collocation, x_collocation;
  struct Boundary {
    int side = 0;                ///< 0: x = x.lower(), 1: x = x.upper()
    std::vector<double> values;  ///< at the t collocation points
    double weight = 1;
  };
  std::vector<Boundary> boundary;
  /// The ranks that share the work: the per-mode (and per-node Gauss-Newton) problems are dealt
  /// out round-robin and their results combined, so every rank holds the whole fit (the same on
  /// any rank count). The dense bounded solve runs on every rank alike.
  MPI_Comm comm = MPI_COMM_SELF;
  /// fit_time_slabs: [t0, t1] cut into this many equal slabs, each with t's node count; f(t, x)
  /// and the boundary data u(t, x_side) as functions (each slab collocates at its own nodes;
  /// empty: zero).
  int time_slabs = 1;
  std::function<double(double, double)> source_fn;
  std::array<std::function<double(double)>, 2> boundary_fn;
};

struct FitResult {
  Eigen::MatrixXd u;             ///< nt x nx nodal values
  double loss = 0;               ///< the objective at u, evaluated in physical space
  double residual_rms = 0;       ///< sqrt(mean squared PDE residual)
  double initial_rms = 0;        ///< sqrt(mean squared initial misfit), all initial terms
  double condition = 0;          ///< largest 2-norm condition number of the per-mode problems
  long modes = 0;                ///< least-squares problems solved (per Gauss-Newton step)
  int iterations = 1;            ///< Gauss-Newton steps (1: a linear problem)
  std::string method;
  /// fit_time_slabs: the fit of every time slab (t nodes, nt x nx values); u is the last one's.
  /// Empty for the other paths (one slab: t and u).
  struct Slab {
    layout::AxisGrid t;
    Eigen::MatrixXd u;
  };
  std::vector<Slab> slabs;
};

/// The exact least-squares fit: the Fourier axis diagonalises every x-derivative ((i kappa)^q,
/// the Nyquist mode of an odd order dropped as spectral differentiation does), so the problem
/// splits into one dense complex least-squares problem per Fourier mode, (nt + initial terms) x
/// nt, solved by SVD (which gives its condition number); modes -k are the conjugates of modes k.
/// The loss and residuals of the result are evaluated in physical space with the
/// differentiation matrices, independently of the mode-wise solve.
/// With a nonlinear reaction term: Gauss-Newton from u = the initial data at every t, each step
/// the linearised least-squares problem (reaction derivative on the diagonal) solved exactly,
/// until the step is below 1e-13 of u (at most 50 steps). Its linearised operator couples
/// Fourier modes, so this path needs a PDE without x-derivatives (an ODE at every x node, as
/// BWLer's reaction case): one dense problem per x node; other nonlinear PDEs are refused.
/// A bounded x axis (e.g. Chebyshev nodes, BWLer's wave case) has no such splitting: the linear
/// least-squares problem is solved densely, its PDE rows first reduced by the thin QR factors of
/// the two collocation matrices ((Q_x (x) Q_t)^T leaves the residual norm unchanged and shrinks
/// the rows to nt nx), by a Householder QR (dense_least_squares: the 2-norm condition number
/// estimated from R); up to 8192 unknowns.
FitResult fit_space_time(const SpaceTimeProblem& p);

/// Nonlinear first-order-in-t PDEs with x-derivatives (Burgers: u_t + u u_x = nu u_xx), by
/// space-time spectral collocation on time slabs: [t0, t1] is cut into p.time_slabs slabs, each
/// represented by its values at nt Chebyshev-Lobatto t nodes x the x nodes. In every slab the
/// PDE holds at the nodes with t > slab start (and, on a bounded x axis, away from both ends),
/// the first t row is the previous slab's last (the initial data in the first slab) and the end
/// columns hold the Dirichlet data: a square nonlinear system whose least-squares loss has the
/// minimum zero, solved by Newton's method (= Gauss-Newton on that loss), each step one dense LU
/// of the Jacobian (linear terms: Kronecker products of the t and x differentiation matrices;
/// the reaction and the products u * D u: their derivatives), from u constant in t, until the
/// step is below 1e-13 of max|u|. Reports the largest 1-norm condition estimate of the
/// Jacobians, the rms PDE residual at the collocation nodes, and the Newton steps in all.
/// Every rank computes the same fit. Up to 4096 unknowns per slab; a Newton iteration that does
/// not converge in 30 steps, or turns non-finite, is an error naming the slab.
FitResult fit_time_slabs(const SpaceTimeProblem& p);

/// The fit's objective as a function of the nodal values U (nt x nx), the one every method
/// minimises: with It, Ix the interpolation matrices to the collocation points (identities when
/// collocating at the nodes) and R(U) = sum_j c_j It Dt^p_j U (Ix Dx^q_j)^T + reaction(It U Ix^T) - F,
///   loss = |R|^2 / (nct ncx) + sum_init w |row_t0 Dt^p U Ix^T - g|^2 / ncx + sum_bnd w |It U s^T - h|^2 / nct,
/// and its gradient in closed form (adjoints of the same products; the reaction's derivative
/// point-wise). fit_space_time reports this loss for its exact solution.
class SpaceTimeLoss {
 public:
  explicit SpaceTimeLoss(const SpaceTimeProblem& p);
  struct Parts {
    double loss = 0, residual_rms = 0, initial_rms = 0;
  };
  /// The loss at U; `grad` (optional) receives d loss / dU, nt x nx.
  double operator()(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad = nullptr) const { return evaluate(U, grad).loss; }
  Parts evaluate(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad = nullptr) const;
  /// R(U) at the collocation points (nct x ncx).
  Eigen::MatrixXd residual(const Eigen::MatrixXd& U) const;
  long nt() const { return nt_; }
  long nx() const { return nx_; }

 private:
  long nt_, nx_, nct_, ncx_;
  std::vector<double> coef_, reaction_;
  std::vector<Eigen::MatrixXd> A_, B_;  // per term: It Dt^p and Ix Dx^q
  std::vector<double> pcoef_;
  std::vector<Eigen::MatrixXd> PA_, PB_;  // per product u * D u: the same for D
  Eigen::MatrixXd It_, Ix_, F_;
  struct Side {
    Eigen::RowVectorXd row;  // initial: the t-row at t0; boundary: the x-row at the side
    Eigen::VectorXd data;
    double weight;
    bool initial;
  };
  std::vector<Side> sides_;
};

/// A differentiable objective of a matrix of unknowns: its value at U and, when `grad` is given,
/// its gradient (U's shape) written there. What the first-order protocols minimise.
using Objective = std::function<double(const Eigen::MatrixXd& U, Eigen::MatrixXd* grad)>;

/// Adam (beta 0.9, 0.999, eps 1e-8) on any objective from U = 0 (rows x cols), the gradient
/// clipped to norm `clip`, for `steps` steps or `seconds` of wall time; progress lines every 5 s.
/// Returns U; `steps` receives the steps taken. Throws kron::Error when the gradient turns
/// non-finite (naming the step).
Eigen::MatrixXd minimize_adam(const Objective& f, long rows, long cols, long& steps, double seconds, double lr, double clip);
/// The same Adam from U = U0 (clip = infinity: no clipping).
Eigen::MatrixXd minimize_adam(const Objective& f, Eigen::MatrixXd U0, long& steps, double seconds, double lr, double clip);

/// BWLer's first-order protocol for comparison: Adam (beta 0.9, 0.999, eps 1e-8) on the same
/// loss and gradient from U = 0, the gradient clipped to norm `clip` (the paper: lr 1e-3, clip
/// 1), for `steps` steps or `seconds` of wall time, whichever ends first (iterations: the steps
/// taken). The result's loss and parts are SpaceTimeLoss's; condition is not estimated (0).
FitResult fit_adam(const SpaceTimeProblem& p, long steps, double seconds, double lr = 1e-3, double clip = 1.0);

}  // namespace kron::spectral
