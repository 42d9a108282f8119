// The Darcy data generator (issue 15): its random field against a direct orthonormal inverse
// cosine sum of the same normal draws, its statistics against the covariance, and its solution
// against an independent evaluation of the five-point flux-form equations (Li et al.'s scheme:
// arithmetic face averages of a). Every rank runs its own samples (MPI_COMM_SELF), as the
// surrogate_data problem does.
#include <catch2/catch.hpp>

#include <cmath>

#include "kron/linops/petsc_krylov.hpp"
#include "kron/nn/parameter.hpp"
#include "kron/problems/surrogate_data.hpp"

using namespace kron;

TEST_CASE("Darcy random field: the orthonormal inverse DCT of GRF.m's modes", "[surrogate][mpi]") {
  problems::DarcySampler::Options o;
  o.resolution = 9;
  const problems::DarcySampler s(o);
  const long n = o.resolution;
  for (std::uint64_t seed : {3ULL, 17ULL}) {
    const auto psi = s.random_field(seed);
    nn::Rng rng(seed);
    std::vector<double> L(static_cast<std::size_t>(n * n));
    for (long k2 = 0; k2 < n; ++k2)
      for (long k1 = 0; k1 < n; ++k1) {
        const double xi = rng.normal();
        L[static_cast<std::size_t>(k2 * n + k1)] =
            (k1 || k2) ? double(n) * std::pow(o.tau, o.alpha - 1) * std::pow(M_PI * M_PI * double(k1 * k1 + k2 * k2) + o.tau * o.tau, -o.alpha / 2) * xi
                       : 0.0;
      }
    auto w = [&](long k) { return k == 0 ? std::sqrt(1.0 / double(n)) : std::sqrt(2.0 / double(n)); };
    double err = 0, scale = 0;
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < n; ++i) {
        double v = 0;
        for (long k2 = 0; k2 < n; ++k2)
          for (long k1 = 0; k1 < n; ++k1)
            v += w(k1) * w(k2) * L[static_cast<std::size_t>(k2 * n + k1)] * std::cos(M_PI * double(k1 * (2 * i + 1)) / double(2 * n)) *
                 std::cos(M_PI * double(k2 * (2 * j + 1)) / double(2 * n));
        err = std::max(err, std::abs(v - psi[static_cast<std::size_t>(j * n + i)]));
        scale = std::max(scale, std::abs(v));
      }
    INFO("seed " << seed << ": error " << err << " of " << scale);
    CHECK(err <= 1e-13 * scale);
  }
  // Parseval (the inverse DCT is orthonormal): the mean of sum psi^2 over seeds is the sum of the
  // modes' variances; 4000 samples give it to a few percent.
  double want = 0;
  for (long k2 = 0; k2 < n; ++k2)
    for (long k1 = 0; k1 < n; ++k1)
      if (k1 || k2) want += std::pow(double(n) * std::pow(o.tau, o.alpha - 1) * std::pow(M_PI * M_PI * double(k1 * k1 + k2 * k2) + o.tau * o.tau, -o.alpha / 2), 2);
  double got = 0;
  for (int seed = 0; seed < 4000; ++seed)
    for (double v : s.random_field(static_cast<std::uint64_t>(1000 + seed))) got += v * v / 4000.0;
  INFO("mean energy " << got << ", expected " << want);
  CHECK(std::abs(got - want) <= 0.05 * want);
}

TEST_CASE("Darcy sample: two-valued coefficient and the flux-form equations solved", "[surrogate][mpi]") {
  linops::petsc::initialize();
  problems::DarcySampler::Options o;
  o.resolution = 41;
  o.rtol = 1e-12;
  const problems::DarcySampler s(o);
  const long n = o.resolution;
  const double h = 1.0 / double(n - 1);
  std::vector<double> a, u;
  const auto kr = s.sample(7, a, u);
  CHECK(kr.reason.find("CONVERGED") == 0);
  long high = 0;
  for (double v : a) {
    CHECK((v == 12.0 || v == 3.0));
    high += v == 12.0;
  }
  CHECK(high > 0);
  CHECK(high < n * n);
  // Five-point flux form with arithmetic face averages, evaluated here: -div(a grad u) = 1.
  auto A = [&](long i, long j) { return a[static_cast<std::size_t>(j * n + i)]; };
  auto U = [&](long i, long j) { return u[static_cast<std::size_t>(j * n + i)]; };
  double res = 0, umin = 1e300;
  for (long j = 1; j < n - 1; ++j)
    for (long i = 1; i < n - 1; ++i) {
      const double flux = (0.5 * (A(i, j) + A(i + 1, j)) * (U(i + 1, j) - U(i, j)) - 0.5 * (A(i, j) + A(i - 1, j)) * (U(i, j) - U(i - 1, j)) +
                           0.5 * (A(i, j) + A(i, j + 1)) * (U(i, j + 1) - U(i, j)) - 0.5 * (A(i, j) + A(i, j - 1)) * (U(i, j) - U(i, j - 1))) /
                          (h * h);
      res = std::max(res, std::abs(flux + 1.0));
      umin = std::min(umin, U(i, j));
    }
  double bmax = 0;
  for (long i = 0; i < n; ++i) bmax = std::max({bmax, std::abs(U(i, 0)), std::abs(U(i, n - 1)), std::abs(U(0, i)), std::abs(U(n - 1, i))});
  INFO("max residual of -div(a grad u) = 1: " << res << ", CG " << kr.iterations << " iterations");
  CHECK(res <= 1e-8);
  CHECK(bmax == 0.0);
  CHECK(umin > 0);  // the maximum principle: a positive source, zero boundary
}
