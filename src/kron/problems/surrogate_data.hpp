#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kron/linops/petsc_krylov.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// The Darcy flow set of Li et al. (2021): -div(a grad u) = 1 on (0, 1)^2, u = 0 on the boundary;
/// a = high where a Gaussian random field with covariance tau^(2 alpha - 2) (-Laplace + tau^2)^-alpha
/// (zero-Neumann Laplacian; the reference's GRF.m: coefficients tau^(alpha-1) (pi^2 |k|^2 +
/// tau^2)^(-alpha/2) on the cosine modes, an orthonormal inverse DCT, the mean mode dropped) is
/// >= 0, low elsewhere; solved by second-order finite differences (the conservative flux form) on
/// n x n points through PETSc CG preconditioned by fast diagonalization of mean(a) Laplace, and
/// kept every `subsample`-th point. One sample on one rank (MPI_COMM_SELF): the set's samples
/// run in parallel.
class DarcySampler {
 public:
  struct Options {
    long resolution = 421;
    double alpha = 2, tau = 3, high = 12, low = 3;
    double rtol = 1e-10;
    long max_it = 10000;
  };
  explicit DarcySampler(Options o);
  ~DarcySampler();
  /// The field psi (n x n, x fastest) from the sample's seed: the same for a seed on any rank.
  std::vector<double> random_field(std::uint64_t seed) const;
  /// a and u (n x n, x fastest) for a seed; the Krylov result of the solve.
  linops::KrylovResult sample(std::uint64_t seed, std::vector<double>& a, std::vector<double>& u) const;

 private:
  struct Impl;
  Options o_;
  std::unique_ptr<Impl> impl_;
};

/// The 1D Burgers set of Li et al. (2021): u_t + (u^2 / 2)_x = nu u_xx on [0, 1) with periodic
/// ends, the map u0 -> u(T); u0 from N(0, sigma^2 (-Laplace + tau^2)^-gamma) (the reference's
/// GRF1: coefficients sqrt(2) sigma ((2 pi k)^2 + tau^2)^(-gamma/2) on cos(2 pi k x) and
/// sin(2 pi k x), k = 1 .. n/2 - 1, standard normal draws, no mean), sampled on n points;
/// u(T) by linops::PeriodicBurgers (pseudo-spectral, ETDRK4), many samples at once as its lines.
class BurgersSampler {
 public:
  struct Options {
    long resolution = 8192;
    double sigma = 25, tau = 5, gamma = 2, nu = 0.1, time = 1, dt = 1e-4;
  };
  explicit BurgersSampler(Options o);
  ~BurgersSampler();
  /// u0 on the n points x_j = j / n from a seed: the same for a seed on any rank.
  std::vector<double> initial(std::uint64_t seed) const;
  /// u0 and u(T) (one line of n values per seed, in order) of the given seeds.
  void sample(const std::vector<std::uint64_t>& seeds, std::vector<double>& a, std::vector<double>& u) const;
  /// Time steps to T (the step is T / steps, at most dt).
  long steps() const;

 private:
  struct Impl;
  Options o_;
  std::unique_ptr<Impl> impl_;
};

/// `[problem] type = "surrogate_data"`: a data set for the surrogate family, samples split over
/// the ranks, written to one HDF5 file with its generating parameters and every sample's seed.
class SurrogateData : public Problem {
 public:
  static void declare(core::Schema& schema);
  SurrogateData(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  core::Json run_burgers();
  const core::Deck& deck_;
  MPI_Comm comm_;
};

}  // namespace kron::problems
