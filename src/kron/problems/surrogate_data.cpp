#include "kron/problems/surrogate_data.hpp"

#include <cmath>
#include <functional>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/output.hpp"
#include "kron/linops/burgers.hpp"
#include "kron/linops/diffusion_solver.hpp"
#include "kron/linops/line_op.hpp"
#include "kron/nn/parameter.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {
constexpr const char* S = "surrogate_data";
constexpr double kPi = 3.14159265358979323846;
}  // namespace

// ---- the Darcy sampler ------------------------------------------------------------------------

struct DarcySampler::Impl {
  long n = 0;
  layout::ProcessGridPtr grid;
  std::array<layout::AxisGrid, 3> axes;
  linops::LineOp<double> idct;
  std::vector<double> coef;  // per cosine mode (k2, k1), k1 fastest: its standard deviation and the orthonormal inverse DCT's weights
};

DarcySampler::DarcySampler(Options o) : o_(o), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const long n = m.n = o.resolution;
  m.grid = std::make_shared<const layout::ProcessGrid>(MPI_COMM_SELF, 1, 1);
  m.axes = {layout::AxisGrid::uniform(n, 0, 1), layout::AxisGrid::uniform(n, 0, 1), layout::AxisGrid()};
  m.idct = linops::LineOp<double>::transform(linops::LineOp<double>::Transform::DCT3, n);
  // GRF.m: L = n tau^(alpha-1) (pi^2 (k1^2 + k2^2) + tau^2)^(-alpha/2) xi, L(0, 0) = 0, U =
  // idct2(L) (orthonormal). FFTW's DCT-III is x_j = X_0 + 2 sum_k X_k cos(pi k (2j+1) / 2n): the
  // orthonormal weights sqrt(1/n) and sqrt(2/n) become 1/sqrt(n) and 1/sqrt(2n) per axis.
  auto w = [&](long k) { return k == 0 ? 1.0 / std::sqrt(double(n)) : 1.0 / std::sqrt(2.0 * double(n)); };
  m.coef.resize(static_cast<std::size_t>(n * n));
  for (long k2 = 0; k2 < n; ++k2)
    for (long k1 = 0; k1 < n; ++k1) {
      const double sd = double(n) * std::pow(o.tau, o.alpha - 1) *
                        std::pow(kPi * kPi * double(k1 * k1 + k2 * k2) + o.tau * o.tau, -o.alpha / 2);
      m.coef[static_cast<std::size_t>(k2 * n + k1)] = (k1 == 0 && k2 == 0) ? 0.0 : sd * w(k1) * w(k2);
    }
}

DarcySampler::~DarcySampler() = default;

std::vector<double> DarcySampler::random_field(std::uint64_t seed) const {
  const Impl& m = *impl_;
  const long n = m.n;
  nn::Rng rng(seed);
  std::vector<double> psi(static_cast<std::size_t>(n * n));
  for (std::size_t i = 0; i < psi.size(); ++i) psi[i] = m.coef[i] * rng.normal();
  // The inverse DCT along x (contiguous lines), then along y (lines n apart).
  const linops::LineView<double> xl{psi.data(), n, n, 1, n}, yl{psi.data(), 1, n, n, n * n};
  m.idct.apply(xl, xl);
  m.idct.apply(yl, yl);
  return psi;
}

linops::KrylovResult DarcySampler::sample(std::uint64_t seed, std::vector<double>& a, std::vector<double>& u) const {
  const Impl& m = *impl_;
  const long n = m.n;
  const std::vector<double> psi = random_field(seed);
  a.resize(psi.size());
  for (std::size_t i = 0; i < psi.size(); ++i) a[i] = psi[i] >= 0 ? o_.high : o_.low;
  const layout::Pencil px({n, n, 1}, m.grid, 0);
  layout::RealField af(px), f(px), uf(px);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i) af(i, j, 0) = a[static_cast<std::size_t>(j * n + i)];
  layout::ops::fill_global(f, [](const std::array<long, 3>&, int) { return -1.0; });  // div(a grad u) = -1
  using BK = linops::BoundaryKind;
  using SC = linops::Scheme;
  linops::DiffusionSolver solver(m.grid, m.axes, {SC::FD2, SC::FD2, SC::FD2}, {BK::Dirichlet, BK::Dirichlet, BK::Dirichlet}, af, true);
  linops::KrylovOptions ko;
  ko.ksp_type = "cg";
  ko.rtol = o_.rtol;
  ko.max_it = o_.max_it;
  ko.progress_every = 0;
  ko.label = "darcy";
  const auto kr = solver.solve(f, [](int, int, const std::array<double, 3>&) { return 0.0; }, uf, ko);
  u.resize(psi.size());
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i) u[static_cast<std::size_t>(j * n + i)] = uf(i, j, 0);
  for (double v : u)
    if (!std::isfinite(v)) throw Error("Darcy sample of seed " + std::to_string(seed) + ": the solution is not finite");
  return kr;
}

// ---- the Burgers sampler ----------------------------------------------------------------------

struct BurgersSampler::Impl {
  long n = 0, steps = 0;
  linops::LineOp<double> hc2r;
  std::vector<double> sd;  // per mode k (1 .. n/2 - 1): the standard deviation of its cos and sin parts
  std::unique_ptr<linops::PeriodicBurgers> solver;
};

BurgersSampler::BurgersSampler(Options o) : o_(o), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const long n = m.n = o.resolution;
  if (n < 8 || n % 2 != 0) throw Error("Burgers set: " + std::to_string(n) + " points (an even number, at least 8)");
  m.steps = std::max(1L, static_cast<long>(std::ceil(o.time / o.dt - 1e-9)));
  m.hc2r = linops::LineOp<double>::transform(linops::LineOp<double>::Transform::HC2R, n);
  m.sd.assign(static_cast<std::size_t>(n / 2), 0.0);
  for (long k = 1; k < n / 2; ++k)
    m.sd[static_cast<std::size_t>(k)] = std::sqrt(2.0) * o.sigma * std::pow(4 * kPi * kPi * double(k * k) + o.tau * o.tau, -o.gamma / 2);
  m.solver = std::make_unique<linops::PeriodicBurgers>(n, 1.0, o.nu, o.time / double(m.steps));
}

BurgersSampler::~BurgersSampler() = default;
long BurgersSampler::steps() const { return impl_->steps; }

std::vector<double> BurgersSampler::initial(std::uint64_t seed) const {
  const Impl& m = *impl_;
  const long n = m.n;
  nn::Rng rng(seed);
  // Halfcomplex coefficients for FFTW's unnormalised HC2R, x_j = r_0 + 2 sum_k (r_k cos - i_k sin)
  // (2 pi k j / n) + ...: r_k = sd_k xi_k / 2 and i_k = -sd_k eta_k / 2 give sd_k (xi_k cos + eta_k sin).
  std::vector<double> c(static_cast<std::size_t>(n), 0.0), u(c.size());
  for (long k = 1; k < n / 2; ++k) {
    const double sd = m.sd[static_cast<std::size_t>(k)], xi = rng.normal(), eta = rng.normal();
    c[static_cast<std::size_t>(k)] = sd * xi / 2;
    c[static_cast<std::size_t>(n - k)] = -sd * eta / 2;
  }
  m.hc2r.apply(linops::LineView<const double>{c.data(), 1, n, 1, n}, linops::LineView<double>{u.data(), 1, n, 1, n});
  return u;
}

void BurgersSampler::sample(const std::vector<std::uint64_t>& seeds, std::vector<double>& a, std::vector<double>& u) const {
  const Impl& m = *impl_;
  const long n = m.n, L = static_cast<long>(seeds.size());
  a.resize(static_cast<std::size_t>(L * n));
  for (long l = 0; l < L; ++l) {
    const auto u0 = initial(seeds[static_cast<std::size_t>(l)]);
    std::copy(u0.begin(), u0.end(), a.begin() + l * n);
  }
  u = a;
  m.solver->advance(u.data(), L, m.steps);
}

// ---- the problem ------------------------------------------------------------------------------

void SurrogateData::declare(core::Schema& schema) {
  core::SectionSpec s{S,
                      "A data set for the surrogate family, from kron's own solvers: darcy (Li et al. 2021's Darcy flow: "
                      "-div(a grad u) = 1 on (0, 1)^2, u = 0 on the boundary, a two-valued coefficient thresholded from a "
                      "Gaussian random field, solved by second-order finite differences and subsampled). Samples are split "
                      "over the ranks; the file holds the inputs a, the solutions u, every sample's seed and the generating "
                      "parameters.",
                      {}, false, "surrogate_data"};
  s.keys = {
      {"kind", ValueKind::String, "\"darcy\"", "Which data set: darcy (2D) or burgers (1D viscous Burgers, the map u0 -> u(T)).", -1e300, 1e300,
       {"darcy", "burgers"}},
      {"samples", ValueKind::Integer, "", "Number of samples (training and test sets together; the training deck splits them).", 1, 1e9},
      {"resolution", ValueKind::Integer, "",
       "Solver points per axis; when not given darcy 421 (boundary included) and burgers 8192 (periodic), the references'.", 5, 1e7, {}, 0, 0,
       true},
      {"subsample", ValueKind::Integer, "",
       "Keep every this many points per axis; when not given darcy 5 (must divide resolution - 1: 421 -> 85) and burgers 8 (must divide "
       "resolution: 8192 -> 1024).",
       1, 1e5, {}, 0, 0, true},
      {"alpha", ValueKind::Real, "2.0", "Smoothness of the random field: covariance (-Laplace + tau^2)^-alpha (Burgers' gamma).", 1e-3, 100},
      {"tau", ValueKind::Real, "", "Inverse length scale of the random field; when not given darcy 3 and burgers 5.", 1e-6, 1e6, {}, 0, 0, true},
      {"sigma", ValueKind::Real, "25", "burgers: the random field's amplitude, covariance sigma^2 (-Laplace + tau^2)^-alpha (625 = 25^2).",
       1e-300, 1e300},
      {"viscosity", ValueKind::Real, "0.1", "burgers: nu in u_t + (u^2/2)_x = nu u_xx.", 1e-12, 1e12},
      {"time", ValueKind::Real, "1.0", "burgers: the final time T of the map u0 -> u(T).", 1e-12, 1e12},
      {"dt", ValueKind::Real, "1e-4", "burgers: the largest time step (ETDRK4; T / dt rounded up steps of T / steps).", 1e-12, 1e12},
      {"coefficient_high", ValueKind::Real, "12.0", "darcy: a where the random field is >= 0.", 1e-300, 1e300},
      {"coefficient_low", ValueKind::Real, "3.0", "darcy: a where it is negative.", 1e-300, 1e300},
      {"seed", ValueKind::Integer, "0", "Sample i uses seed + i (the same data on any number of ranks).", 0, 1e15},
      {"rtol", ValueKind::Real, "1e-10", "darcy: relative residual tolerance of each solve (CG).", 1e-16, 1},
      {"max_it", ValueKind::Integer, "10000", "darcy: iteration limit of each solve.", 1, 1e9},
      {"progress_every", ValueKind::Integer, "50", "A progress line every this many samples of rank 0 (0: none).", 0, 1e9},
  };
  schema.add(s);
}

namespace {
bool burgers(const core::Deck& deck) { return deck.string(S, "kind") == "burgers"; }
long resolution(const core::Deck& deck) { return deck.has(S, "resolution") ? deck.integer(S, "resolution") : burgers(deck) ? 8192 : 421; }
long subsample(const core::Deck& deck) { return deck.has(S, "subsample") ? deck.integer(S, "subsample") : burgers(deck) ? 8 : 5; }
double tau(const core::Deck& deck) { return deck.has(S, "tau") ? deck.real(S, "tau") : burgers(deck) ? 5.0 : 3.0; }
}  // namespace

SurrogateData::SurrogateData(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const long n = resolution(deck), k = subsample(deck);
  if (burgers(deck)) {
    if (n % 2 != 0 || n < 8) throw deck.error(S, "resolution", std::to_string(n) + " points: the Burgers solver takes an even number, at least 8");
    if (n % k != 0 || n / k < 4)
      throw deck.error(S, "subsample", std::to_string(k) + " does not divide resolution = " + std::to_string(n) + " into at least 4 points",
                       "e.g. resolution 8192 with subsample 8 keeps 1024 points");
    const double steps = std::ceil(deck.real(S, "time") / deck.real(S, "dt"));
    if (steps > 1e8) throw deck.error(S, "dt", "gives " + std::to_string(steps) + " steps to time " + std::to_string(deck.real(S, "time")));
    return;
  }
  if ((n - 1) % k != 0)
    throw deck.error(S, "subsample", std::to_string(k) + " does not divide resolution - 1 = " + std::to_string(n - 1),
                     "the kept points must include both boundaries, e.g. resolution 421 with subsample 5 keeps 85 points");
  if (!(deck.real(S, "coefficient_high") > 0 && deck.real(S, "coefficient_low") > 0))
    throw deck.error(S, "coefficient_low", "the coefficients must be positive");
  linops::petsc::initialize();
}

namespace {
// Writes a set: every rank its rows of /samples/a, /samples/u and /samples/seeds (shape N x the
// kept grid), `extra` adds the generating parameters, and sample 0 becomes the fields a and u of
// step 0 (ParaView). Returns the file's path.
std::string write_set(const core::Deck& deck, MPI_Comm comm, const layout::Domain& d, long N, long r0, long mine, const std::vector<double>& A,
                      const std::vector<double>& U, const std::vector<double>& seeds, const std::function<void(layout::H5File&)>& extra) {
  const int np = core::mpi::size(comm), rank = core::mpi::rank(comm);
  const long P = d.points(), nx = d.axes[0].size();
  std::vector<long> shape{N};
  for (int a = 0; a < d.dim; ++a) shape.push_back(d.axes[static_cast<std::size_t>(d.dim - 1 - a)].size());  // slowest first
  auto pgrid = std::make_shared<const layout::ProcessGrid>(comm, np, 1);
  std::vector<double> first(static_cast<std::size_t>(2 * P));
  if (rank == 0 && mine > 0) {
    std::copy_n(A.begin(), P, first.begin());
    std::copy_n(U.begin(), P, first.begin() + P);
  }
  MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_DOUBLE, 0, comm);
  const layout::Pencil px(d.shape(), pgrid, 0);
  layout::RealField af(px), uf(px);
  layout::ops::fill_global(af, [&](const std::array<long, 3>& g, int) { return first[static_cast<std::size_t>(g[1] * nx + g[0])]; });
  layout::ops::fill_global(uf, [&](const std::array<long, 3>& g, int) { return first[static_cast<std::size_t>(P + g[1] * nx + g[0])]; });
  layout::OutputWriter out(deck.string("output", "dir"), deck.string("output", "name"), d, {deck.provenance_text(), np}, layout::output_options(deck), comm);
  out.write_step(0, 0.0, {{"a", &af, 0}, {"u", &uf, 0}}, [&](layout::H5File& f) {
    f.write_rows("/samples/a", shape, r0, mine, A.data());
    f.write_rows("/samples/u", shape, r0, mine, U.data());
    f.write_rows("/samples/seeds", {N}, r0, mine, seeds.data());
    f.write_attribute("samples", static_cast<long long>(N));
    f.write_attribute("seed", static_cast<long long>(deck.integer(S, "seed")));
    f.write_attribute("resolution", static_cast<long long>(resolution(deck)));
    f.write_attribute("subsample", static_cast<long long>(subsample(deck)));
    extra(f);
  });
  return out.step_path(0);
}
}  // namespace

core::Json SurrogateData::run() {
  if (burgers(deck_)) return run_burgers();
  const int np = core::mpi::size(comm_), rank = core::mpi::rank(comm_);
  const long N = deck_.integer(S, "samples"), n = resolution(deck_), k = subsample(deck_);
  const long s = (n - 1) / k + 1, seed = deck_.integer(S, "seed"), every = deck_.integer(S, "progress_every");
  DarcySampler::Options o;
  o.resolution = n;
  o.alpha = deck_.real(S, "alpha");
  o.tau = tau(deck_);
  o.high = deck_.real(S, "coefficient_high");
  o.low = deck_.real(S, "coefficient_low");
  o.rtol = deck_.real(S, "rtol");
  o.max_it = deck_.integer(S, "max_it");
  const DarcySampler sampler(o);
  // Contiguous blocks of samples per rank.
  const long r0 = N * rank / np, r1 = N * (rank + 1) / np, mine = r1 - r0;
  log::info(S, ": ", N, " Darcy samples on ", n, "^2 points, kept every ", k, " -> ", s, "^2; ", np, " rank", np == 1 ? "" : "s",
            " (", N / np, "-", (N + np - 1) / np, " samples each), fd2 flux form, CG + fast diagonalization of mean(a) Laplace, rtol ", o.rtol);
  std::vector<double> A(static_cast<std::size_t>(mine * s * s)), U(A.size()), seeds, iterations;
  std::vector<double> a, u;
  const double t0 = core::wall_time();
  {
    core::ScopedTimer timer("samples");
    for (long i = r0; i < r1; ++i) {
      const auto kr = sampler.sample(static_cast<std::uint64_t>(seed + i), a, u);
      for (long j = 0; j < s; ++j)
        for (long q = 0; q < s; ++q) {
          const std::size_t dst = static_cast<std::size_t>(((i - r0) * s + j) * s + q), src = static_cast<std::size_t>(j * k * n + q * k);
          A[dst] = a[src];
          U[dst] = u[src];
        }
      seeds.push_back(double(seed + i));
      iterations.push_back(double(kr.iterations));
      const long done = i - r0 + 1;
      if (every > 0 && (done % every == 0 || done == mine))
        log::info(S, ": rank 0 ", done, " of its ", mine, " samples, CG ", kr.iterations, " iterations (", kr.reason, "), ",
                  (core::wall_time() - t0) / double(done), " s a sample");
    }
  }
  const double seconds = core::mpi::max(core::wall_time() - t0, comm_);
  double it_sum = 0, it_max = 0;
  for (double v : iterations) {
    it_sum += v;
    it_max = std::max(it_max, v);
  }
  it_sum = core::mpi::sum(it_sum, comm_);
  it_max = core::mpi::max(it_max, comm_);

  // Sample 0 as fields (ParaView), the whole set under /samples.
  layout::Domain d;
  d.dim = 2;
  d.axes = {layout::AxisGrid::uniform(s, 0, 1), layout::AxisGrid::uniform(s, 0, 1), layout::AxisGrid()};
  const std::string path = write_set(deck_, comm_, d, N, r0, mine, A, U, seeds, [&](layout::H5File& f) {
    f.write_rows("/samples/iterations", {N}, r0, mine, iterations.data());
    f.write_attribute("dataset_kind", std::string("darcy"));
    f.write_attribute("alpha", o.alpha);
    f.write_attribute("tau", o.tau);
    f.write_attribute("coefficient_high", o.high);
    f.write_attribute("coefficient_low", o.low);
  });
  log::info(S, ": ", N, " samples in ", seconds, " s (", double(N) / seconds, " samples/s), CG iterations mean ", it_sum / double(N), ", max ",
            it_max, "; wrote ", path, " (/samples/a, /samples/u: ", N, " x ", s, " x ", s, "; sample 0 as the fields a, u)");
  core::Json j;
  j["problem"] = "surrogate_data";
  j["kind"] = "darcy";
  j["samples"] = double(N);
  j["resolution"] = double(n);
  j["kept_points_per_axis"] = double(s);
  j["seconds"] = seconds;
  j["samples_per_second"] = double(N) / seconds;
  j["cg_iterations_mean"] = it_sum / double(N);
  j["cg_iterations_max"] = it_max;
  j["file"] = path;
  return j;
}

core::Json SurrogateData::run_burgers() {
  const int np = core::mpi::size(comm_), rank = core::mpi::rank(comm_);
  const long N = deck_.integer(S, "samples"), n = resolution(deck_), k = subsample(deck_), s = n / k;
  const long seed = deck_.integer(S, "seed"), every = deck_.integer(S, "progress_every");
  BurgersSampler::Options o;
  o.resolution = n;
  o.sigma = deck_.real(S, "sigma");
  o.tau = tau(deck_);
  o.gamma = deck_.real(S, "alpha");
  o.nu = deck_.real(S, "viscosity");
  o.time = deck_.real(S, "time");
  o.dt = deck_.real(S, "dt");
  const BurgersSampler sampler(o);
  const long r0 = N * rank / np, r1 = N * (rank + 1) / np, mine = r1 - r0;
  log::info(S, ": ", N, " Burgers samples on ", n, " periodic points, kept every ", k, " -> ", s, "; nu ", o.nu, ", T ", o.time, " in ",
            sampler.steps(), " ETDRK4 steps of ", o.time / double(sampler.steps()), "; u0 ~ N(0, ", o.sigma * o.sigma, " (-Laplace + ", o.tau * o.tau,
            ")^-", o.gamma, "); ", np, " rank", np == 1 ? "" : "s", " (", N / np, "-", (N + np - 1) / np, " samples each)");
  std::vector<double> A(static_cast<std::size_t>(mine * s)), U(A.size()), seeds;
  std::vector<double> a, u;
  double drift = 0;  // the largest change of a sample's mean (Burgers conserves it with periodic ends)
  const double t0 = core::wall_time();
  {
    core::ScopedTimer timer("samples");
    // Batches of samples advanced together as the solver's lines.
    const long chunk = std::max(1L, std::min(every > 0 ? every : mine, 64L));
    for (long c0 = r0; c0 < r1; c0 += chunk) {
      std::vector<std::uint64_t> sd;
      for (long i = c0; i < std::min(r1, c0 + chunk); ++i) sd.push_back(static_cast<std::uint64_t>(seed + i));
      try {
        sampler.sample(sd, a, u);
      } catch (const Error& e) {
        throw deck_.error(S, "dt", "samples " + std::to_string(c0) + " to " + std::to_string(c0 + long(sd.size()) - 1) + ": " + e.message(), e.hint());
      }
      for (std::size_t l = 0; l < sd.size(); ++l) {
        double m0 = 0, m1 = 0;
        for (long q = 0; q < n; ++q) {
          m0 += a[l * static_cast<std::size_t>(n) + static_cast<std::size_t>(q)];
          m1 += u[l * static_cast<std::size_t>(n) + static_cast<std::size_t>(q)];
        }
        drift = std::max(drift, std::abs(m1 - m0) / double(n));
      }
      for (std::size_t l = 0; l < sd.size(); ++l)
        for (long q = 0; q < s; ++q) {
          const std::size_t dst = static_cast<std::size_t>((c0 - r0 + long(l)) * s + q), src = l * static_cast<std::size_t>(n) + static_cast<std::size_t>(q * k);
          A[dst] = a[src];
          U[dst] = u[src];
        }
      for (auto v : sd) seeds.push_back(double(v));
      const long done = c0 - r0 + long(sd.size());
      if (every > 0) log::info(S, ": rank 0 ", done, " of its ", mine, " samples, ", (core::wall_time() - t0) / double(done), " s a sample");
    }
  }
  const double seconds = core::mpi::max(core::wall_time() - t0, comm_);
  drift = core::mpi::max(drift, comm_);
  layout::Domain d;
  d.dim = 1;
  d.axes = {layout::AxisGrid::periodic(s, 0, 1), layout::AxisGrid(), layout::AxisGrid()};
  const std::string path = write_set(deck_, comm_, d, N, r0, mine, A, U, seeds, [&](layout::H5File& f) {
    f.write_attribute("dataset_kind", std::string("burgers"));
    f.write_attribute("sigma", o.sigma);
    f.write_attribute("tau", o.tau);
    f.write_attribute("alpha", o.gamma);
    f.write_attribute("viscosity", o.nu);
    f.write_attribute("time", o.time);
    f.write_attribute("steps", static_cast<long long>(sampler.steps()));
  });
  log::info(S, ": ", N, " samples in ", seconds, " s (", double(N) / seconds, " samples/s), the mean of u kept to ", drift,
            " (max over samples); wrote ", path, " (/samples/a = u0, /samples/u = u(T): ", N, " x ", s, "; sample 0 as the fields a, u)");
  core::Json j;
  j["problem"] = "surrogate_data";
  j["kind"] = "burgers";
  j["samples"] = double(N);
  j["resolution"] = double(n);
  j["kept_points_per_axis"] = double(s);
  j["steps"] = double(sampler.steps());
  j["mean_drift_max"] = drift;
  j["seconds"] = seconds;
  j["samples_per_second"] = double(N) / seconds;
  j["file"] = path;
  return j;
}

}  // namespace kron::problems
