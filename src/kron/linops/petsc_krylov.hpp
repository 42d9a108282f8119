#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kron/layout/field.hpp"

namespace kron::linops {

/// The PETSc bridge: PETSc is initialised once per process, after MPI, with options from the
/// deck's [petsc] table and from the kron command line (everything after `--`), and finalised
/// before MPI_Finalize. PETSc types stay out of this header, so only kron_petsc links PETSc.
namespace petsc {
/// Arguments for PETSc's own command line (kron passes what follows `--`).
void set_command_line(std::vector<std::string> args);
/// The option names (without '-') given through set_command_line.
std::vector<std::string> command_line_options();
/// Initialises PETSc (once; later calls only add options). `options` map names without the
/// leading '-' to values ("true" for a bare flag); command-line options win over them.
void initialize(const std::map<std::string, std::string>& options = {});
bool initialized();
/// Throws kron::Error with PETSc's own message when `ierr` is non-zero.
void check(int ierr, const char* what);
/// Option names (without '-') among `names` that no PETSc object queried: misspelt or
/// meaningless options, reported like unknown deck keys.
std::vector<std::string> unused(const std::vector<std::string>& names);
}  // namespace petsc

/// A linear map on x-pencil fields without halos (out = A in).
using FieldMap = std::function<void(const layout::RealField& in, layout::RealField& out)>;

struct KrylovOptions {
  std::string ksp_type = "cg";    ///< default; -ksp_type overrides
  double rtol = 1e-10;            ///< default relative tolerance; -ksp_rtol overrides
  long max_it = 10000;            ///< default; -ksp_max_it overrides
  bool constant_null_space = false;  ///< singular operator (periodic/Neumann): constants are its null space
  long progress_every = 10;       ///< progress line every this many iterations (0: none)
  std::string label = "ksp";      ///< prefix of progress lines
  std::string options_prefix;     ///< PETSc options prefix (e.g. "gp_": -gp_ksp_rtol reaches this solve)
};

struct KrylovResult {
  long iterations = 0;
  double residual_norm = 0;   ///< final (preconditioned or not, as the KSP measures it)
  double initial_norm = 0;
  std::string reason;         ///< PETSc's converged reason, e.g. CONVERGED_RTOL
  std::string ksp_type, pc_type;
};

/// A Krylov solve of A x = b with A a MATSHELL over kron's matrix-free operator and, when
/// given, a PCSHELL preconditioner (e.g. fast diagonalization of a constant-coefficient
/// operator). Every KSP/PC option of PETSc's options database applies (KSPSetFromOptions).
/// A diverged solve throws kron::Error naming PETSc's converged reason.
class Krylov {
 public:
  Krylov(const layout::Pencil& px, FieldMap op, FieldMap preconditioner, KrylovOptions opt);
  ~Krylov();
  /// x holds the initial guess on entry (use -ksp_initial_guess_nonzero to use it) and the
  /// solution on exit.
  KrylovResult solve(const layout::RealField& b, layout::RealField& x);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::linops
