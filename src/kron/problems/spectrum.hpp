#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kron/core/expression.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/fft.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// Shell-averaged energy spectrum of a (possibly multi-component) periodic field.
struct EnergySpectrum {
  std::vector<double> k;      ///< shell centres s*dk
  std::vector<double> E;      ///< energy density per unit wavenumber, sum(E)*dk = total energy
  std::vector<double> modes;  ///< number of Fourier modes counted in each shell
  double dk = 0;
  double energy = 0;          ///< sum over modes of 1/2 sum_c |u_hat_c|^2 (u_hat = FFT/N)
};

/// E(k) from the r2c output `uhat` of `plan` (all active axes Fourier, r2c along x).
/// Collective; identical on every rank. Shells are |k| rounded to multiples of
/// dk = min over axes of 2 pi / L; wavenumbers are 2 pi m / L with m the signed mode index.
EnergySpectrum energy_spectrum(const layout::DistributedTransform& plan, const layout::ComplexField& uhat,
                               const layout::Domain& domain);

/// `[problem] type = "spectrum"`: FFT of a field from expressions or from HDF5 datasets,
/// writes the field and E(k) (HDF5 /spectrum/*, <name>_spectrum.csv, summary.json) and
/// checks Parseval's identity between physical and spectral energy.
class Spectrum : public Problem {
 public:
  static void declare(core::Schema& schema);
  Spectrum(const core::Deck& deck, MPI_Comm comm);
  core::Json run() override;

 private:
  const core::Deck& deck_;
  MPI_Comm comm_;
  layout::Domain domain_;
  layout::ProcessGridPtr grid_;
  core::MemorySpace space_ = core::MemorySpace::Host;  ///< [device] backend
  std::vector<std::string> names_;
  std::vector<core::Expression> exprs_;
  std::string file_;
  std::vector<std::string> datasets_;
  double time_ = 0;
};

}  // namespace kron::problems
