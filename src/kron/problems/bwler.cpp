#include "kron/problems/bwler.hpp"

#include <cmath>
#include <sstream>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/pencil.hpp"
#include "kron/linops/petsc_krylov.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/spectral/fit_tao.hpp"
#include "kron/spectral/hopf_cole.hpp"

namespace kron::problems {

using core::ValueKind;

namespace {
constexpr const char* S = "bwler";
constexpr int kMaxDt = 2, kMaxDx = 4;

// The name of d^dt/dt^dt d^dx/dx^dx u in an operator expression: u, u_t, u_x, u_tt, u_tx, u_xx, ...
std::string symbol(int dt, int dx) { return dt + dx == 0 ? "u" : "u_" + std::string(std::size_t(dt), 't') + std::string(std::size_t(dx), 'x'); }
}  // namespace

void Bwler::declare(core::Schema& schema) {
  core::SectionSpec s{"bwler",
                      "A linear space-time PDE fitted by its values at Chebyshev (t) x Fourier (x) nodes (BWLer), the "
                      "least-squares loss minimised exactly.",
                      {}, false, "bwler"};
  s.keys = {
      {"operator", ValueKind::String, "",
       "The PDE's left side with constant coefficients: linear terms in u and its derivatives u, u_t, u_x, u_tt, u_tx, "
       "u_xx, ... (t-derivatives up to 2, x-derivatives up to 4, t before x), a polynomial of degree <= 3 in u, and products "
       "of u with one derivative, e.g. \"u_t + c*u_x\", \"u_t - rho*u*(1 - u)\", \"u_t + u*u_x - nu*u_xx\"."},
      {"source", ValueKind::String, "\"0\"", "The right side f(t, x)."},
      {"t", ValueKind::RealList, "[0.0, 1.0]", "Time interval [t0, t1] (Chebyshev-Lobatto nodes).", -1e300, 1e300, {}, 2, 2},
      {"x", ValueKind::RealList, "[0.0, 6.283185307179586]", "Periodic space interval [x0, x1) (Fourier nodes).", -1e300, 1e300, {}, 2, 2},
      {"nodes", ValueKind::IntegerList, "[81, 80]", "Nodes in t and in x.", 2, 100000, {}, 2, 2},
      {"x_nodes", ValueKind::String, "\"fourier\"",
       "Nodes along x: fourier (periodic x, collocation at the nodes) or chebyshev (bounded x: Chebyshev-Lobatto nodes, "
       "Dirichlet data in bwler.boundary, collocation at bwler.collocation points; solved densely, up to 8192 unknowns).",
       -1e300, 1e300, {"fourier", "chebyshev"}},
      {"collocation", ValueKind::IntegerList, "", "Chebyshev collocation points in t and x (x_nodes = chebyshev); absent: the nodes.", 2,
       100000, {}, 2, 2, true},
      {"boundary", ValueKind::StringList, "", "u at x0 and at x1, expressions of t (x_nodes = chebyshev).", -1e300, 1e300, {}, 2, 2, true},
      {"initial", ValueKind::StringList, "",
       "Initial data at t0 of u, then of u_t, ... (one expression of x each; a PDE of order 2 in t takes two).", -1e300, 1e300, {}, 1,
       kMaxDt},
      {"initial_weight", ValueKind::Real, "100.0", "Weight of the initial terms in the loss (the BWLer paper's: 100).", 0, 1e300},
      {"exact", ValueKind::String, "", "Exact solution u(t, x), for the error on the test grid; absent: no error is reported.", -1e300,
       1e300, {}, 0, 0, true},
      {"test_points", ValueKind::IntegerList, "[201, 200]", "Test grid in t (uniform, ends included) and x (periodic).", 2, 100000, {}, 2,
       2},
      {"method", ValueKind::String, "\"exact\"",
       "How the loss is minimised: exact (the least-squares problems solved directly; Gauss-Newton for a reaction term), or the "
       "BWLer paper's first-order protocols on the same loss and analytic gradient, from u = 0: adam (bwler.learning_rate, "
       "gradient clipped at bwler.clip) or lbfgs (PETSc TAO TAOLMVM; -bwler_tao_* options reach it), for bwler.steps steps or "
       "bwler.time_limit seconds; or hat (BWLer-hat: an MLP, bwler.hat_widths, gives the nodal values and is trained by the adam "
       "protocol on the same loss).",
       -1e300, 1e300, {"exact", "adam", "lbfgs", "hat"}},
      {"hat_widths", ValueKind::IntegerList, "[64, 64, 64]",
       "method hat: the MLP's hidden widths (GELU between layers; inputs t and x, or sin and cos of x's phase on a periodic x).", 1,
       100000, {}, 1, 64},
      {"hat_structure", ValueKind::String, "\"dense\"",
       "method hat: the MLP's hidden-to-hidden layers: dense, low_rank:R, block_diag:NB, monarch:NB, butterfly, flat_butterfly:NB or "
       "a sum joined by '+'."},
      {"hat_time_features", ValueKind::Integer, "0",
       "method hat: K > 0 adds sin(pi k s) and cos(pi k s), k = 1 .. K, of t's position s in [0, 1] to the MLP's inputs (Fourier "
       "features of t, against the MLP's bias to slow functions; 0: the paper's inputs). For convection at speed c, K of c/pi or more (12.7 at c = 40).",
       0, 1000},
      {"seed", ValueKind::Integer, "0", "method hat: the seed of the MLP's initial weights.", 0, 1e18},
      {"time_slabs", ValueKind::Integer, "1",
       "Above 1: [t0, t1] in this many equal slabs of bwler.nodes[0] t nodes each, every slab's collocation system solved by "
       "Newton (first-order equations in t; the path also taken for products u*D u and for nonlinear reactions with "
       "x-derivatives or a bounded x axis).",
       1, 100000},
      {"x_map", ValueKind::RealList, "",
       "x_nodes = chebyshev: [centre, width] clusters the x nodes around the centre by the tan map x = centre + width*tan(theta) "
       "(a rational barycentric interpolant with Chebyshev weights), for fronts and layers of about that width.",
       -1e300, 1e300, {}, 2, 2, true},
      {"reference", ValueKind::String, "",
       "A reference solution for the error where no closed form exists: burgers_sine (Hopf-Cole, Gauss-Hermite quadrature) for "
       "u_t + u*u_x - nu*u_xx = 0, u(0, x) = -sin(pi*x) on [-1, 1], u = 0 at both ends. Excludes bwler.exact.",
       -1e300, 1e300, {"burgers_sine"}, 0, 0, true},
      {"reference_quadrature", ValueKind::Integer, "200",
       "bwler.reference: Gauss-Hermite nodes; the reference is also evaluated with twice as many and the largest change reported "
       "as its accuracy.",
       8, 100000},
      {"steps", ValueKind::Integer, "1000000", "method adam or lbfgs: the most steps (iterations).", 1, 1e12},
      {"time_limit", ValueKind::Real, "60.0", "method adam or lbfgs: the most wall time in seconds.", 0, 1e300},
      {"learning_rate", ValueKind::Real, "1e-3", "method adam: the step size (the paper's: 1e-3).", 0, 1e300},
      {"clip", ValueKind::Real, "1.0", "method adam: the largest gradient norm; larger gradients are scaled down to it (the paper's: 1).",
       0, 1e300},
  };
  schema.add(s);
}

Bwler::Bwler(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  p_.comm = comm;
  const auto params = deck.table("parameters");
  const auto tl = deck.reals(S, "t"), xl = deck.reals(S, "x");
  if (!(tl[1] > tl[0])) throw deck.error(S, "t", "the interval is empty or reversed");
  if (!(xl[1] > xl[0])) throw deck.error(S, "x", "the interval is empty or reversed");
  const auto nodes = deck.integers(S, "nodes");
  p_.t = layout::AxisGrid::chebyshev(nodes[0], tl[0], tl[1]);
  const bool bounded = deck.string(S, "x_nodes") == "chebyshev";
  if (deck.has(S, "x_map")) {
    if (!bounded) throw deck.error(S, "x_map", "maps Chebyshev nodes; set x_nodes = \"chebyshev\"");
    const auto m = deck.reals(S, "x_map");
    if (!(m[0] > xl[0] && m[0] < xl[1])) throw deck.error(S, "x_map", "the centre " + std::to_string(m[0]) + " lies outside the x interval");
    if (!(m[1] > 0)) throw deck.error(S, "x_map", "the width must be positive");
    p_.x = layout::AxisGrid::mapped_chebyshev(nodes[1], xl[0], xl[1], m[0], m[1]);
  } else {
    p_.x = bounded ? layout::AxisGrid::chebyshev(nodes[1], xl[0], xl[1]) : layout::AxisGrid::periodic(nodes[1], xl[0], xl[1]);
  }
  p_.time_slabs = static_cast<int>(deck.integer(S, "time_slabs"));
  if (!bounded && deck.has(S, "collocation"))
    throw deck.error(S, "collocation", "is for x_nodes = \"chebyshev\"; Fourier fits collocate at the nodes");
  if (!bounded && deck.has(S, "boundary")) throw deck.error(S, "boundary", "is for x_nodes = \"chebyshev\"; a periodic x has no boundary");
  if (bounded && !deck.has(S, "boundary"))
    throw deck.error(S, "x_nodes", "is chebyshev but bwler.boundary is not given", "add boundary = [\"u at x0\", \"u at x1\"], expressions of t");
  if (bounded && deck.has(S, "collocation")) {
    const auto c = deck.integers(S, "collocation");
    if (c[0] < nodes[0] || c[1] < nodes[1]) throw deck.error(S, "collocation", "needs at least as many points as nodes per axis");
    p_.t_collocation = layout::AxisGrid::chebyshev(c[0], tl[0], tl[1]).coords();
    p_.x_collocation = layout::AxisGrid::chebyshev(c[1], xl[0], xl[1]).coords();
  }
  for (long long v : deck.integers(S, "test_points")) test_points_.push_back(static_cast<long>(v));

  // An expression of t and x (a deck key), checked for other variables.
  auto expr = [&](const std::string& key, const std::string& text, const std::map<std::string, double>& consts) {
    core::Expression e(text, consts, deck.where(S, key));
    for (const char* v : {"y", "z"})
      if (e.uses(v)) throw deck.error(S, key, "\"" + text + "\" uses " + v + "; a space-time fit has t and x only");
    return e;
  };
  // The operator, compiled with each derivative symbol set to 1 in turn: the coefficients, and
  // checks that it is linear (a sum of coefficient * symbol) with constant coefficients.
  operator_text_ = deck.string(S, "operator");
  auto with = [&](const std::map<std::string, double>& set) {
    std::map<std::string, double> c = params;
    for (int dt = 0; dt <= kMaxDt; ++dt)
      for (int dx = 0; dx <= kMaxDx; ++dx) c[symbol(dt, dx)] = 0.0;
    for (const auto& kv : set) c[kv.first] = kv.second;
    return expr("operator", operator_text_, c);
  };
  const double probe[][2] = {{0.0, 0.0}, {0.37, 1.3}, {0.91, 4.1}};
  auto value = [&](const core::Expression& e, int q) { return e(probe[q][1], 0, 0, probe[q][0]); };
  const core::Expression zero = with({});
  for (int q = 0; q < 3; ++q)
    if (value(zero, q) != 0.0)
      throw deck.error(S, "operator", "\"" + operator_text_ + "\" has a term without u", "move terms free of u to bwler.source");
  std::vector<std::pair<std::string, double>> coef;
  for (int dt = 0; dt <= kMaxDt; ++dt)
    for (int dx = 0; dx <= kMaxDx; ++dx) {
      const std::string name = symbol(dt, dx);
      if (dt + dx == 0) {
        // u itself may enter through a polynomial of degree <= 3 (a reaction term, e.g.
        // -rho*u*(1-u)): its coefficients from u = 1, 2, 3, checked at two more values.
        double v[4];
        for (int q = 1; q <= 3; ++q) v[q] = value(with({{name, double(q)}}), 0);
        const double a3 = (v[3] - 3 * v[2] + 3 * v[1]) / 6.0, a2 = (v[2] - 2 * v[1]) / 2.0 - 3 * a3, a1 = v[1] - a2 - a3;
        p_.reaction = {0.0, a1, a2, a3};
        for (double uq : {-1.5, 0.5})
          for (int q = 0; q < 3; ++q) {
            const double want = a1 * uq + a2 * uq * uq + a3 * uq * uq * uq, got = value(with({{name, uq}}), q);
            if (std::abs(got - want) > 1e-10 * std::max(1.0, std::abs(want)))
              throw deck.error(S, "operator", "\"" + operator_text_ + "\" is not a polynomial of degree <= 3 in u with constant coefficients",
                               "the bwler problem takes reaction terms such as rho*u*(1-u) or u^3 - u");
          }
        if (a1 != 0.0 || a2 != 0.0 || a3 != 0.0) coef.push_back({name, a1 + a2 + a3});
        continue;
      }
      const core::Expression one = with({{name, 1.0}}), two = with({{name, 2.0}});
      const double c = value(one, 0);
      for (int q = 0; q < 3; ++q) {
        if (std::abs(value(one, q) - c) > 1e-14 * std::max(1.0, std::abs(c)))
          throw deck.error(S, "operator", "the coefficient of " + name + " varies with t or x",
                           "a Fourier-mode fit needs constant coefficients");
        if (std::abs(value(two, q) - 2 * c) > 1e-12 * std::max(1.0, std::abs(c)))
          throw deck.error(S, "operator", "\"" + operator_text_ + "\" is not linear in " + name,
                           "the bwler problem takes linear PDEs plus a polynomial reaction term in u itself");
      }
      if (c != 0.0) {
        coef.push_back({name, c});
        p_.terms.push_back({c, dt, dx});
      }
    }
  if (p_.terms.empty()) throw deck.error(S, "operator", "\"" + operator_text_ + "\" has no derivative of u", "a fit needs a differential equation");
  // Products of two symbols (u*u_x vanishes whenever one of them is zero): setting each pair to 1
  // must give the sum of their coefficients.
  std::vector<std::pair<std::string, double>> all;
  std::vector<int> dt_of, dx_of;
  for (int dt = 0; dt <= kMaxDt; ++dt)
    for (int dx = 0; dx <= kMaxDx; ++dx) {
      double c = 0;
      for (const auto& kv : coef)
        if (kv.first == symbol(dt, dx)) c = kv.second;
      all.push_back({symbol(dt, dx), c});
      dt_of.push_back(dt);
      dx_of.push_back(dx);
    }
  // (all[0] is u: a product of u with a derivative symbol is a term u * D u, its coefficient the
  // excess; two derivative symbols must not multiply).
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t b = a + 1; b < all.size(); ++b) {
      const double v = value(with({{all[a].first, 1.0}, {all[b].first, 1.0}}), 1), excess = v - all[a].second - all[b].second;
      if (std::abs(excess) <= 1e-12 * std::max(1.0, std::abs(all[a].second) + std::abs(all[b].second))) continue;
      if (a != 0)
        throw deck.error(S, "operator", "\"" + operator_text_ + "\" multiplies " + all[a].first + " and " + all[b].first,
                         "the bwler problem takes linear terms, a polynomial in u and products of u with one derivative");
      p_.products.push_back({excess, dt_of[b], dx_of[b]});
    }
  // The whole model (linear terms + polynomial in u + products u * D u) checked at two probes
  // with every symbol nonzero: anything else (u^2*u_x, u_x^2, sin(u_x), ...) is refused.
  for (int q = 1; q < 3; ++q) {
    std::map<std::string, double> set;
    double want = 0;
    const double uq = 0.3 + 0.4 * q;
    for (std::size_t a = 0; a < all.size(); ++a) {
      const double sv = a == 0 ? uq : 0.17 * double(a + q) - 1.1;
      set[all[a].first] = sv;
      if (a > 0) want += all[a].second * sv;
    }
    want += p_.reaction[1] * uq + p_.reaction[2] * uq * uq + p_.reaction[3] * uq * uq * uq;
    for (const auto& pr : p_.products) want += pr.coef * uq * set[symbol(pr.dt, pr.dx)];
    const double got = value(with(set), q);
    if (!(std::abs(got - want) <= 1e-10 * std::max(1.0, std::abs(want))))
      throw deck.error(S, "operator", "\"" + operator_text_ + "\" is not a sum of linear terms, a polynomial of degree <= 3 in u and products of u with one derivative, with constant coefficients",
                       "the bwler problem takes e.g. u_t + c*u_x, u_t + u^3 - u, u_t + u*u_x - nu*u_xx");
  }
  int order_t = 0;
  bool has_dx = false;
  for (const auto& t : p_.terms) {
    order_t = std::max(order_t, t.dt);
    has_dx = has_dx || t.dx > 0;
  }
  for (const auto& pr : p_.products) order_t = std::max(order_t, pr.dt);
  method_ = deck.string(S, "method");
  if (method_ == "hat") {
    hat_.hidden.clear();
    for (long w : deck.integers(S, "hat_widths")) hat_.hidden.push_back(w);
    hat_.structure = deck.string(S, "hat_structure");
    hat_.seed = static_cast<std::uint64_t>(deck.integer(S, "seed"));
    hat_.time_features = deck.integer(S, "hat_time_features");
    try {  // an MLP of that description: refused here, before any work, with the key named
      std::vector<long> widths{2};
      widths.insert(widths.end(), hat_.hidden.begin(), hat_.hidden.end());
      widths.push_back(1);
      nn::Rng rng(0);
      nn::mlp(widths, hat_.structure, rng);
    } catch (const Error& e) {
      throw deck.error(S, "hat_structure", e.what());
    }
  }
  if (method_ == "lbfgs") linops::petsc::initialize();  // TAO: options after -- must reach it
  const bool exact_method = method_ == "exact";
  const bool nonlinear_reaction = p_.reaction[2] != 0.0 || p_.reaction[3] != 0.0;
  // The time-slab Newton path: asked for, or needed (products u * D u; a nonlinear reaction with
  // x-derivatives or on a bounded x axis, whose linearisations couple the Fourier modes).
  slabs_ = exact_method && (p_.time_slabs > 1 || !p_.products.empty() || (nonlinear_reaction && (has_dx || bounded)));
  if (!exact_method && p_.time_slabs > 1) throw deck.error(S, "time_slabs", "is for method = \"exact\"");
  if (slabs_) {
    const std::string why = p_.time_slabs > 1 ? "time_slabs > 1" : !p_.products.empty() ? "a product u * D u" : "a nonlinear reaction with x-derivatives or a bounded x";
    if (order_t != 1)
      throw deck.error(S, "operator", "\"" + operator_text_ + "\" is of order " + std::to_string(order_t) + " in t; the time-slab Newton path, taken for " + why + ", takes first-order equations");
    if (deck.has(S, "collocation"))
      throw deck.error(S, "collocation", "the time-slab Newton path, taken for " + why + ", collocates at the nodes", "leave out bwler.collocation");
    const long unknowns = (nodes[0] - 1) * (bounded ? nodes[1] - 2 : nodes[1]);
    if (unknowns > 4096)
      throw deck.error(S, "nodes", std::to_string(unknowns) + " unknowns per time slab: each Newton step is solved densely, up to 4096",
                       "fewer t nodes per slab and more bwler.time_slabs");
  } else if (exact_method && bounded && nodes[0] * nodes[1] > 8192) {
    throw deck.error(S, "nodes", std::to_string(nodes[0] * nodes[1]) + " unknowns: a bounded x axis is solved densely, up to 8192");
  }

  // Source at the collocation points, initial data at the x ones, boundary data at the t ones.
  const std::vector<double>& tc = p_.t_collocation.empty() ? p_.t.coords() : p_.t_collocation;
  const std::vector<double>& xc = p_.x_collocation.empty() ? p_.x.coords() : p_.x_collocation;
  auto fsrc = std::make_shared<core::Expression>(expr("source", deck.string(S, "source"), params));
  const core::Expression& f = *fsrc;
  if (slabs_) p_.source_fn = [fsrc](double T, double X) { return (*fsrc)(X, 0, 0, T); };
  for (double T : tc)
    for (double X : xc) {
      const double v = f(X, 0, 0, T);
      if (!std::isfinite(v)) throw deck.error(S, "source", "is not finite at t = " + std::to_string(T) + ", x = " + std::to_string(X));
      p_.source.push_back(v);
    }
  if (bounded) {
    const auto bd = deck.strings(S, "boundary");
    for (int side = 0; side < 2; ++side) {
      auto gp = std::make_shared<core::Expression>(expr("boundary", bd[static_cast<std::size_t>(side)], params));
      const core::Expression& g = *gp;
      const double xside = side == 0 ? xl[0] : xl[1];
      if (slabs_) p_.boundary_fn[static_cast<std::size_t>(side)] = [gp, xside](double T) { return (*gp)(xside, 0, 0, T); };
      if (g.uses("x")) throw deck.error(S, "boundary", "\"" + bd[static_cast<std::size_t>(side)] + "\" uses x; boundary data are functions of t");
      spectral::SpaceTimeProblem::Boundary b;
      b.side = side;
      b.weight = deck.real(S, "initial_weight");
      for (double T : tc) b.values.push_back(g(side == 0 ? xl[0] : xl[1], 0, 0, T));
      p_.boundary.push_back(std::move(b));
    }
  }
  const auto init = deck.strings(S, "initial");
  if (static_cast<int>(init.size()) != std::max(order_t, 1))
    throw deck.error(S, "initial", "has " + std::to_string(init.size()) + " entries; the operator is of order " + std::to_string(order_t) +
                                       " in t and needs " + std::to_string(std::max(order_t, 1)),
                     "give u at t0, then u_t for a second-order equation");
  const double w = deck.real(S, "initial_weight");
  if (!(w > 0)) throw deck.error(S, "initial_weight", "must be positive");
  for (std::size_t d = 0; d < init.size(); ++d) {
    const core::Expression g = expr("initial", init[d], params);
    if (g.uses("t")) throw deck.error(S, "initial", "\"" + init[d] + "\" uses t; initial data are functions of x");
    spectral::SpaceTimeProblem::Initial in;
    in.dt = static_cast<int>(d);
    in.weight = w;
    for (double X : xc) {
      const double v = g(X, 0, 0, p_.t.lower());
      if (!std::isfinite(v)) throw deck.error(S, "initial", "\"" + init[d] + "\" is not finite at x = " + std::to_string(X));
      in.values.push_back(v);
    }
    p_.initial.push_back(std::move(in));
  }
  if (deck.has(S, "exact")) exact_.push_back(expr("exact", deck.string(S, "exact"), params));
  if (deck.has(S, "reference")) {
    if (deck.has(S, "exact")) throw deck.error(S, "reference", "and bwler.exact are both given", "keep one");
    // burgers_sine: the operator u_t + u*u_x - nu*u_xx, data -sin(pi x) on [-1, 1], zero at the ends.
    double ct = 0, cxx = 0, other = 0;
    for (const auto& t : p_.terms) (t.dt == 1 && t.dx == 0 ? ct : t.dt == 0 && t.dx == 2 ? cxx : other) += t.coef;
    const bool burgers = ct == 1.0 && cxx < 0 && other == 0.0 && p_.products.size() == 1 && p_.products[0].dt == 0 && p_.products[0].dx == 1 &&
                         p_.products[0].coef == 1.0 && p_.reaction[1] == 0.0 && p_.reaction[2] == 0.0 && p_.reaction[3] == 0.0;
    if (!burgers) throw deck.error(S, "reference", "burgers_sine is the solution of u_t + u*u_x - nu*u_xx = 0; the operator is \"" + operator_text_ + "\"");
    if (xl[0] != -1.0 || xl[1] != 1.0 || !bounded || p_.t.lower() != 0.0)
      throw deck.error(S, "reference", "burgers_sine is the solution on x in [-1, 1] with Chebyshev x nodes from t = 0");
    for (std::size_t j = 0; j < p_.initial[0].values.size(); ++j) {
      const double X = p_.x.coords()[j];
      if (std::abs(p_.initial[0].values[j] + std::sin(M_PI * X)) > 1e-13) throw deck.error(S, "reference", "burgers_sine needs initial = [\"-sin(pi*x)\"]");
    }
    for (const auto& b : deck.strings(S, "boundary"))
      if (core::Expression(b, params)(0, 0, 0, 0.5) != 0.0) throw deck.error(S, "reference", "burgers_sine needs boundary = [\"0\", \"0\"]");
    if (deck.has(S, "source") && deck.string(S, "source") != "0") throw deck.error(S, "reference", "burgers_sine needs source = \"0\"");
    nu_ = -cxx;
  }
}

double TestGridError::add(double fit, double ref) {
  const double e = fit - ref;
  e2 += e * e;
  s2 += ref * ref;
  max = std::max(max, std::abs(e));
  ++points;
  return e;
}

void TestGridError::combine(MPI_Comm comm) {
  e2 = core::mpi::sum(e2, comm);
  s2 = core::mpi::sum(s2, comm);
  max = core::mpi::max(max, comm);
  points = static_cast<long>(core::mpi::sum(double(points), comm));
}

double TestGridError::relative_l2() const { return std::sqrt(e2 / std::max(s2, 1e-300)); }

core::Json Bwler::run() {
  namespace log = core::log;
  const long nt = p_.t.size(), nx = p_.x.size();
  log::info("BWLer fit: ", operator_text_, " = ", deck_.string(S, "source"), " on ", nt, " Chebyshev (t) x ", nx,
            p_.x.periodic() ? " Fourier (x) nodes" : " Chebyshev (x) nodes");
  const double t0 = core::wall_time();
  const long steps = static_cast<long>(deck_.integer(S, "steps"));
  const double limit = deck_.real(S, "time_limit");
  if (method_ != "exact") log::info("method ", method_, ": at most ", steps, " steps or ", limit, " s, from u = 0");
  if (method_ == "hat") {
    hat_.steps = steps;
    hat_.seconds = limit;
    hat_.lr = deck_.real(S, "learning_rate");
    hat_.clip = deck_.real(S, "clip");
  }
  const spectral::FitResult r = method_ == "hat"     ? BwlerHat(p_, hat_).train()
                                : method_ == "adam"  ? spectral::fit_adam(p_, steps, limit, deck_.real(S, "learning_rate"), deck_.real(S, "clip"))
                                : method_ == "lbfgs" ? spectral::fit_lbfgs(p_, steps, limit)
                                : slabs_             ? spectral::fit_time_slabs(p_)
                                                     : spectral::fit_space_time(p_);
  const double fit_s = core::wall_time() - t0;
  log::info("solved: ", r.method, " in ", fit_s, " s");
  if (r.iterations > 1 && method_ == "exact") log::info(slabs_ ? "Newton steps (all slabs): " : "Gauss-Newton steps: ", r.iterations);
  if (method_ == "exact")
    log::info("loss ", r.loss, " (rms PDE residual ", r.residual_rms, ", rms initial/boundary misfit ", r.initial_rms, "); condition number ",
              r.condition);
  else
    log::info("loss ", r.loss, " (rms PDE residual ", r.residual_rms, ", rms initial/boundary misfit ", r.initial_rms, ")");

  // The fit and its error on the test grid: x along x, t along y, split over the ranks in y.
  const long ft = test_points_[0], fx = test_points_[1];
  layout::Domain d;
  d.dim = 2;
  d.axes = {p_.x.periodic() ? layout::AxisGrid::periodic(fx, p_.x.lower(), p_.x.upper()) : layout::AxisGrid::uniform(fx, p_.x.lower(), p_.x.upper()),
            layout::AxisGrid::uniform(ft, p_.t.lower(), p_.t.upper()),
            layout::AxisGrid()};
  const int np = core::mpi::size(comm_);
  auto grid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  const layout::Pencil px(d.shape(), grid, 0);
  const auto& b = px.box();
  std::vector<double> tp, xp;
  for (long i = 0; i < b.n[1]; ++i) tp.push_back(d.axes[1][b.lo[1] + i]);
  for (long j = 0; j < fx; ++j) xp.push_back(d.axes[0][j]);
  // The fit at the test points: each test time from the slab that holds it.
  std::vector<spectral::FitResult::Slab> slabs = r.slabs;
  if (slabs.empty()) slabs.push_back({p_.t, r.u});
  const Eigen::MatrixXd Ixp = spectral::interpolation_matrix(p_.x, xp);
  Eigen::MatrixXd fine(static_cast<long>(tp.size()), fx);
  for (std::size_t i = 0; i < tp.size(); ++i) {
    std::size_t k = 0;
    while (k + 1 < slabs.size() && tp[i] > slabs[k].t.upper()) ++k;
    fine.row(static_cast<long>(i)) = spectral::interpolation_matrix(slabs[k].t, {std::min(std::max(tp[i], slabs[k].t.lower()), slabs[k].t.upper())}) *
                                     slabs[k].u * Ixp.transpose();
  }
  const bool has_truth = !exact_.empty() || nu_ > 0;
  // The reference (burgers_sine) with n and 2n Gauss-Hermite nodes: the change bounds its error.
  const int nq = static_cast<int>(deck_.integer(S, "reference_quadrature"));
  const spectral::GaussHermite gh = nu_ > 0 ? spectral::gauss_hermite(nq) : spectral::GaussHermite{},
                               gh2 = nu_ > 0 ? spectral::gauss_hermite(2 * nq) : spectral::GaussHermite{};
  double ref_change = 0;
  auto truth = [&](double X, double T) {
    if (!exact_.empty()) return exact_[0](X, 0, 0, T);
    const double v = spectral::burgers_sine(nu_, T, X, gh);
    ref_change = std::max(ref_change, std::abs(v - spectral::burgers_sine(nu_, T, X, gh2)));
    return v;
  };
  layout::RealField u(px), err(px);
  TestGridError te;
  for (long i = 0; i < b.n[1]; ++i)
    for (long j = 0; j < fx; ++j) {
      u(j, i, 0) = fine(i, j);
      if (has_truth) err(j, i, 0) = te.add(fine(i, j), truth(xp[static_cast<std::size_t>(j)], tp[static_cast<std::size_t>(i)]));
    }
  ref_change = core::mpi::max(ref_change, comm_);
  te.combine(comm_);
  const double rel = te.relative_l2(), emax = te.max;
  if (nu_ > 0)
    log::info("reference: Hopf-Cole by ", nq, "-node Gauss-Hermite quadrature, largest change with ", 2 * nq, " nodes ", ref_change);
  if (has_truth) log::info("test grid ", ft, " x ", fx, ": relative L2 error ", rel, ", max error ", emax);

  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  layout::OutputWriter::FieldList fields{{"u", &u, 0}};
  if (has_truth) fields.push_back({"error", &err, 0});
  out.write_step(0, p_.t.upper(), fields, [&](layout::H5File& f) {
    // Every slab's t nodes one after the other, the values (slabs stacked along t) column-major.
    std::vector<double> tn;
    long rows = 0;
    for (const auto& sl : slabs) {
      tn.insert(tn.end(), sl.t.coords().begin(), sl.t.coords().end());
      rows += sl.u.rows();
    }
    Eigen::MatrixXd all(rows, r.u.cols());
    rows = 0;
    for (const auto& sl : slabs) {
      all.middleRows(rows, sl.u.rows()) = sl.u;
      rows += sl.u.rows();
    }
    std::vector<double> flat(all.data(), all.data() + all.size());
    f.write_vector("/fit/nodal_values_column_major", flat);
    f.write_vector("/fit/t_nodes", tn);
    f.write_vector("/fit/x_nodes", p_.x.coords());
  });
  log::info("wrote ", out.step_path(0), " and ", dir, "/", name, ".xdmf (x along x, t along y)");

  core::Json j;
  j["problem"] = "bwler";
  j["operator"] = operator_text_;
  j["nodes"] = core::Json(std::vector<double>{double(nt), double(nx)});
  j["method"] = r.method;
  j["loss"] = r.loss;
  j["residual_rms"] = r.residual_rms;
  j["initial_rms"] = r.initial_rms;
  if (method_ == "exact") j["condition_number"] = r.condition;
  j["fit_seconds"] = fit_s;
  j["iterations"] = r.iterations;
  if (slabs_) j["time_slabs"] = p_.time_slabs;
  if (nu_ > 0) j["reference_change"] = ref_change;
  if (has_truth) {
    j["error_relative_l2"] = rel;
    j["error_max"] = emax;
  }
  return j;
}

}  // namespace kron::problems
