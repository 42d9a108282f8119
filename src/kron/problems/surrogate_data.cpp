#include "kron/problems/surrogate_data.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/output.hpp"
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
      {"kind", ValueKind::String, "\"darcy\"", "Which data set.", -1e300, 1e300, {"darcy"}},
      {"samples", ValueKind::Integer, "", "Number of samples (training and test sets together; the training deck splits them).", 1, 1e9},
      {"resolution", ValueKind::Integer, "421", "Solver points per axis, boundary included (the reference: 421).", 5, 1e5},
      {"subsample", ValueKind::Integer, "5", "Keep every this many points per axis (the reference: 5, 421 -> 85); must divide resolution - 1.",
       1, 1e5},
      {"alpha", ValueKind::Real, "2.0", "Smoothness of the random field: covariance (-Laplace + tau^2)^-alpha.", 1e-3, 100},
      {"tau", ValueKind::Real, "3.0", "Inverse length scale of the random field.", 1e-6, 1e6},
      {"coefficient_high", ValueKind::Real, "12.0", "a where the random field is >= 0.", 1e-300, 1e300},
      {"coefficient_low", ValueKind::Real, "3.0", "a where it is negative.", 1e-300, 1e300},
      {"seed", ValueKind::Integer, "0", "Sample i uses seed + i (the same data on any number of ranks).", 0, 1e15},
      {"rtol", ValueKind::Real, "1e-10", "Relative residual tolerance of each solve (CG).", 1e-16, 1},
      {"max_it", ValueKind::Integer, "10000", "Iteration limit of each solve.", 1, 1e9},
      {"progress_every", ValueKind::Integer, "50", "A progress line every this many samples of rank 0 (0: none).", 0, 1e9},
  };
  schema.add(s);
}

SurrogateData::SurrogateData(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const long n = deck.integer(S, "resolution"), k = deck.integer(S, "subsample");
  if ((n - 1) % k != 0)
    throw deck.error(S, "subsample", std::to_string(k) + " does not divide resolution - 1 = " + std::to_string(n - 1),
                     "the kept points must include both boundaries, e.g. resolution 421 with subsample 5 keeps 85 points");
  if (!(deck.real(S, "coefficient_high") > 0 && deck.real(S, "coefficient_low") > 0))
    throw deck.error(S, "coefficient_low", "the coefficients must be positive");
  linops::petsc::initialize();
}

core::Json SurrogateData::run() {
  const int np = core::mpi::size(comm_), rank = core::mpi::rank(comm_);
  const long N = deck_.integer(S, "samples"), n = deck_.integer(S, "resolution"), k = deck_.integer(S, "subsample");
  const long s = (n - 1) / k + 1, seed = deck_.integer(S, "seed"), every = deck_.integer(S, "progress_every");
  DarcySampler::Options o;
  o.resolution = n;
  o.alpha = deck_.real(S, "alpha");
  o.tau = deck_.real(S, "tau");
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
  auto pgrid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  std::vector<double> first(static_cast<std::size_t>(2 * s * s));
  if (rank == 0 && mine > 0) {
    std::copy_n(A.begin(), s * s, first.begin());
    std::copy_n(U.begin(), s * s, first.begin() + s * s);
  }
  MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_DOUBLE, 0, comm_);
  const layout::Pencil px(d.shape(), pgrid, 0);
  layout::RealField af(px), uf(px);
  layout::ops::fill_global(af, [&](const std::array<long, 3>& g, int) { return first[static_cast<std::size_t>(g[1] * s + g[0])]; });
  layout::ops::fill_global(uf, [&](const std::array<long, 3>& g, int) { return first[static_cast<std::size_t>(s * s + g[1] * s + g[0])]; });
  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  out.write_step(0, 0.0, {{"a", &af, 0}, {"u", &uf, 0}}, [&](layout::H5File& f) {
    f.write_rows("/samples/a", {N, s, s}, r0, mine, A.data());
    f.write_rows("/samples/u", {N, s, s}, r0, mine, U.data());
    f.write_rows("/samples/seeds", {N}, r0, mine, seeds.data());
    f.write_rows("/samples/iterations", {N}, r0, mine, iterations.data());
    f.write_attribute("dataset_kind", std::string("darcy"));
    f.write_attribute("samples", static_cast<long long>(N));
    f.write_attribute("resolution", static_cast<long long>(n));
    f.write_attribute("subsample", static_cast<long long>(k));
    f.write_attribute("alpha", o.alpha);
    f.write_attribute("tau", o.tau);
    f.write_attribute("coefficient_high", o.high);
    f.write_attribute("coefficient_low", o.low);
    f.write_attribute("seed", static_cast<long long>(seed));
  });
  log::info(S, ": ", N, " samples in ", seconds, " s (", double(N) / seconds, " samples/s), CG iterations mean ", it_sum / double(N), ", max ",
            it_max, "; wrote ", out.step_path(0), " (/samples/a, /samples/u: ", N, " x ", s, " x ", s, "; sample 0 as the fields a, u)");
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
  j["file"] = out.step_path(0);
  return j;
}

}  // namespace kron::problems
