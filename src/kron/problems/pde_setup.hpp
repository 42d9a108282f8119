#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/deck.hpp"
#include "kron/core/expression.hpp"
#include "kron/core/json.hpp"
#include "kron/core/memory_budget.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/process_grid.hpp"
#include "kron/linops/boundary.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::problems {

/// Deck keys every grid PDE section shares: scheme, source, boundary, value, gradient, exact.
/// `time_dependent` adds t to the wording; `neumann` says whether neumann is a valid kind.
std::vector<core::KeySpec> pde_keys(bool neumann, bool time_dependent);

/// What the shared keys describe, read and cross-checked once: domain, process grid, scheme
/// and boundary kind per axis, and the source/exact/boundary expressions.
struct PdeSetup {
  /// `time_dependent`: expressions may use t. `named`: real keys of the section that
  /// expressions may use by name (heat.nu, helmholtz.lambda): one value in one place, so
  /// [parameters] may not define them again.
  PdeSetup(const core::Deck& deck, const std::string& section, MPI_Comm comm, bool time_dependent,
           const std::vector<std::string>& named = {});

  const core::Deck& deck;
  std::string section;
  MPI_Comm comm;
  layout::Domain domain;
  layout::ProcessGridPtr grid;
  bool time_dependent = false;
  /// [parameters] plus the `named` keys: the constants expressions may use.
  std::map<std::string, double> params;
  std::array<linops::Scheme, 3> schemes{};
  std::array<linops::BoundaryKind, 3> bc{};
  bool any_dirichlet = false, any_neumann = false, all_periodic = true;
  std::unique_ptr<core::Expression> source, exact, value;
  std::array<std::unique_ptr<core::Expression>, 3> gradient;

  /// The expression at section.key (or `text`, an entry of that list key), refusing variables
  /// of axes the grid does not have and t in a steady problem.
  core::Expression expression(const std::string& key, const std::string* text = nullptr) const;
  /// Collective; stops before any solve or step when the data at time t are not finite, naming
  /// the key and its line: the source (`f`, evaluated from it), the Dirichlet values and the
  /// Neumann derivatives on the faces (value/gradient, or the exact solution they come from).
  /// `what`: "source" or the key `f` came from (heat checks its initial state as "initial").
  /// With `scratch`, the exact solution is evaluated into it too (its errors would otherwise
  /// show only after the solve); the scratch values are left undefined.
  void check_data(const layout::RealField& f, double t, const std::string& what = "source",
                  layout::RealField* scratch = nullptr) const;
  /// Bytes of one real field on the rank that holds the most points (any pencil).
  double field_bytes() const;
  layout::Pencil x_pencil() const { return layout::Pencil(domain.shape(), grid, 0); }
  /// Dirichlet values and Neumann derivatives at time t (from value/gradient or the exact solution).
  linops::BoundaryData boundary_data(double t) const;
  /// The boundary conditions on the grid (faces, the boundary predicate).
  linops::Boundaries boundaries() const { return linops::Boundaries(domain.shape(), bc); }
  /// "N x N x N points on P x Q ranks".
  std::string describe() const;
};

struct ErrorNorms {
  double max = 0, l2 = 0;
};
/// err = u - exact(t) (minus the mean difference when `gauge`: singular problems fix the
/// mean); returns the max and root-mean-square errors over all points.
ErrorNorms error_against_exact(const PdeSetup& s, const layout::RealField& u, double t, bool gauge, layout::RealField& err);

/// Collective; every problem calls it before it allocates anything large: logs the estimate
/// (the run header's memory line) and refuses, at grid.n, a run that does not fit in the memory
/// its neediest node has available (the error names the grid, the estimate and what to change).
void reserve_memory(const core::Deck& deck, const layout::Domain& domain, const core::MemoryEstimate& estimate, MPI_Comm comm);
/// Field-sized arrays the transposes of a run hold, in units of one field: none on one rank,
/// `one_split` when one process-grid dimension is split, and about twice that plus one when both
/// are (measured: send/receive buffers, the intermediate pencils, the MPI library's own).
double transpose_fields(const layout::ProcessGrid& grid, double one_split);
/// The estimate items of the per-axis 1D operators of a fast-diagonalization solver: every axis
/// builds its dense n x n operator once; axes without a fast transform (`dense`) keep dense
/// eigenvectors and their inverse, and their eigendecomposition peaks at about 8 n x n arrays.
void add_axis_factors(core::MemoryEstimate& e, const PdeSetup& s, bool with_dense_eigenvectors);

/// The summary entries every PDE problem starts with: problem, grid, process_grid.
core::Json summary_header(const PdeSetup& s);
/// The end of a steady problem: errors against the exact solution (if any; `gauge` for
/// singular problems) into `summary`, then one output step with u, f, `extra` and 'error'.
void finish_steady(const PdeSetup& s, const layout::RealField& u, const layout::RealField& f, bool gauge,
                   const layout::OutputWriter::FieldList& extra, core::Json& summary);

/// The run's output writer ([output] dir and name, provenance of the deck).
layout::OutputWriter make_output(const core::Deck& deck, const layout::Domain& domain, MPI_Comm comm);

}  // namespace kron::problems
