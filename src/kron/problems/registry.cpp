#include "kron/problems/registry.hpp"

#include "kron/layout/deck_sections.hpp"
#include "kron/problems/bwler.hpp"
#include "kron/problems/bwler_plane.hpp"
#include "kron/problems/gp_pde.hpp"
#include "kron/problems/diffusion.hpp"
#include "kron/problems/heat.hpp"
#include "kron/problems/poisson.hpp"
#include "kron/problems/spectrum.hpp"
#include "kron/problems/surrogate_data.hpp"
#include "kron/problems/surrogate_predict.hpp"
#include "kron/problems/surrogate_train.hpp"

namespace kron::problems {

const std::vector<ProblemKind>& kinds() {
  static const std::vector<ProblemKind> k = {
      {"poisson", "Laplace(u) = f with Dirichlet, Neumann or periodic boundaries, direct fast-diagonalization solve",
       &Poisson::declare_poisson, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Poisson>(d, c, false); }, true},
      {"helmholtz", "Laplace(u) - lambda u = f, direct fast-diagonalization solve",
       &Poisson::declare_helmholtz, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Poisson>(d, c, true); }, true},
      {"diffusion", "div(a grad u) = f with a variable coefficient: PETSc Krylov over the matrix-free operator, fast-diagonalization preconditioner",
       &Diffusion::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Diffusion>(d, c); }},
      {"heat", "u_t = nu Laplace(u) + f, Douglas ADI time stepping (second order) with batched line solves",
       &Heat::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Heat>(d, c); }, true},
      {"spectrum", "FFT of a field (expression or HDF5 dataset) and its shell-averaged energy spectrum E(k)",
       &Spectrum::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Spectrum>(d, c); }, true},
      {"bwler", "a linear space-time PDE fitted by values at Chebyshev (t) x Fourier (x) nodes (BWLer), least squares solved exactly",
       &Bwler::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<Bwler>(d, c); }},
      {"bwler_plane", "a linear PDE on a rectangle with circular holes fitted by values at tensor Chebyshev nodes (BWLer), least squares solved exactly",
       &BwlerPlane::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<BwlerPlane>(d, c); }},
      {"gp_pde", "a PDE solved by GP-HM's Gaussian-process model (spectral-mixture prior, learned hyperparameters), U solved exactly",
       &GpPde::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<GpPde>(d, c); }},
      {"surrogate_data", "a data set for the surrogate family from kron's solvers (Darcy flow of Li et al. 2021), samples split over the ranks",
       &SurrogateData::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<SurrogateData>(d, c); }},
      {"surrogate_train", "trains a Fourier neural operator (any structure in its mixing) on a surrogate_data set, data-parallel, with resumable checkpoints",
       &SurrogateTrain::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<SurrogateTrain>(d, c); }, true},
      {"surrogate_predict", "applies a trained surrogate to samples of a data set: predictions and errors in HDF5, fields for ParaView",
       &SurrogatePredict::declare, [](const core::Deck& d, MPI_Comm c) -> std::unique_ptr<Problem> { return std::make_unique<SurrogatePredict>(d, c); }, true},
  };
  return k;
}

core::Schema schema() {
  using core::ValueKind;
  core::Schema s;
  std::vector<std::string> names;
  std::string list;
  for (const auto& k : kinds()) {
    names.push_back(k.name);
    list += "\n        " + k.name + ": " + k.description;
  }
  core::SectionSpec problem{"problem", "Which problem kron runs.", {}};
  problem.keys = {{"type", ValueKind::String, "", "Problem kind; one of:" + list, -1e300, 1e300, names}};
  s.add(problem);
  core::SectionSpec params{"parameters", "Named constants for expressions, e.g. nu = 0.01 (then \"exp(-nu*t)\").", {}};
  params.open_real_table = true;
  s.add(params);
  core::SectionSpec log{"log", "Console output.", {}};
  log.keys = {
      {"level", ValueKind::String, "\"info\"", "Verbosity.", -1e300, 1e300, {"error", "warn", "info", "debug"}},
      {"timers", ValueKind::Boolean, "true", "Print the timer summary (max/min over ranks) at the end of the run."},
  };
  s.add(log);
  layout::declare_sections(s);
  for (const auto& k : kinds()) k.declare(s);
  return s;
}

std::unique_ptr<Problem> make(const core::Deck& deck, MPI_Comm comm) {
  const std::string type = deck.string("problem", "type");
  for (const auto& k : kinds())
    if (k.name == type) {
      if (deck.string("device", "backend") == "cuda" && !k.cuda) {
        std::string with;
        for (const auto& c : kinds())
          if (c.cuda) with += (with.empty() ? "" : ", ") + c.name;
        throw deck.error("device", "backend", "is cuda, but problem '" + type + "' runs on the CPU only so far (cuda runs " + with + ")",
                         "set backend = \"cpu\"");
      }
      return k.make(deck, comm);
    }
  throw deck.error("problem", "type", "unknown problem type '" + type + "'");
}

}  // namespace kron::problems
