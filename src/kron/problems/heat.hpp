#pragma once
#include <memory>

#include "kron/linops/adi.hpp"
#include "kron/problems/pde_setup.hpp"
#include "kron/problems/registry.hpp"

namespace kron::problems {

/// `[problem] type = "heat"`: u_t = nu Laplace(u) + f(x, y, z, t) with Dirichlet (possibly
/// time-dependent) or periodic boundaries, advanced by Douglas ADI (second order in time) with
/// batched line solves; progress lines, output every `output_every` steps, errors against an
/// exact solution at the final time.
class Heat : public Problem {
 public:
  static void declare(core::Schema& schema);
  Heat(const core::Deck& deck, MPI_Comm comm);
  ~Heat() override;
  core::Json run() override;

 private:
  void check_restart(const std::string& path);
  const core::Deck& deck_;
  MPI_Comm comm_;
  PdeSetup setup_;
  double nu_ = 1, t0_ = 0, t1_ = 0, dt_ = 0;
  long steps_ = 0;
  std::unique_ptr<core::Expression> initial_;
  std::unique_ptr<linops::Adi> adi_;
  std::string restart_;         // heat.restart: the checkpoint to continue from (empty: none)
  long restart_step_ = 0;       // its step and time (checked against the deck before any work)
  double restart_time_ = 0;
  core::MemorySpace adi_space_ = core::MemorySpace::Host;
};

}  // namespace kron::problems
