#include "kron/linops/petsc_krylov.hpp"

#include <petscksp.h>

#include <cctype>
#include <cstring>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"

namespace kron::linops {

namespace petsc {
namespace {

bool g_initialized = false;
std::vector<std::string> g_args;
std::vector<char*> g_argv;
int g_argc = 0;
char** g_argv_ptr = nullptr;
std::string g_last_message;  // the first message of the current PETSc error traceback

// Keeps PETSc from printing tracebacks from every rank: the message is kept and becomes one
// kron::Error where the failing call returns.
PetscErrorCode capture_error(MPI_Comm, int, const char* fun, const char*, PetscErrorCode n, PetscErrorType p,
                             const char* mess, void*) {
  if (p == PETSC_ERROR_INITIAL) {
    g_last_message = mess ? mess : "";
    if (fun && *fun) g_last_message += std::string(" (in ") + fun + ")";
  }
  return n;
}

void set_option(const std::string& name, const std::string& value) {
  const std::string opt = "-" + name;
  PetscBool has = PETSC_FALSE;
  // The command line wins over the deck.
  if (g_initialized) check(PetscOptionsHasName(nullptr, nullptr, opt.c_str(), &has), "PetscOptionsHasName");
  if (has) return;
  check(PetscOptionsSetValue(nullptr, opt.c_str(), value == "true" ? nullptr : value.c_str()), "PetscOptionsSetValue");
}

}  // namespace

void set_command_line(std::vector<std::string> args) { g_args = std::move(args); }

std::vector<std::string> command_line_options() {
  std::vector<std::string> names;
  for (const auto& a : g_args) {
    // An option is a dash followed by a letter (a negative number is a value).
    if (a.size() > 1 && a[0] == '-' && std::isalpha(static_cast<unsigned char>(a[1]))) names.push_back(a.substr(1));
  }
  return names;
}

bool initialized() { return g_initialized; }

void check(int ierr, const char* what) {
  if (ierr == 0) return;
  std::string msg = g_last_message;
  g_last_message.clear();
  if (msg.empty()) {
    const char* text = nullptr;
    PetscErrorMessage(static_cast<PetscErrorCode>(ierr), &text, nullptr);
    msg = text ? text : "unknown error";
  }
  throw Error(std::string("PETSc: ") + what + " failed: " + msg + " (error code " + std::to_string(ierr) + ")");
}

void initialize(const std::map<std::string, std::string>& options) {
  if (!g_initialized) {
    g_argv.clear();
    static std::string prog = "kron";
    g_argv.push_back(prog.data());
    for (auto& a : g_args) g_argv.push_back(a.data());
    g_argv.push_back(nullptr);
    g_argc = static_cast<int>(g_argv.size()) - 1;
    g_argv_ptr = g_argv.data();
    // kron reports crashes itself; PETSc's signal handler would turn them into its own message.
    PetscOptionsSetValue(nullptr, "-no_signal_handler", nullptr);
    // Deck options before PetscInitialize, so that initialisation-time options (-log_view,
    // -malloc_debug, ...) take effect; PetscInitialize then adds the command line over them.
    for (const auto& [k, v] : options) set_option(k, v);
    PetscErrorCode ierr = PetscInitialize(&g_argc, &g_argv_ptr, nullptr, nullptr);
    if (ierr) throw Error("PETSc could not be initialised (error code " + std::to_string(ierr) + ")");
    g_initialized = true;
    PetscPushErrorHandler(capture_error, nullptr);
    core::mpi::before_finalize([] {
      if (g_initialized) PetscFinalize();
      g_initialized = false;
    });
    return;
  }
  for (const auto& [k, v] : options) set_option(k, v);
}

std::vector<std::string> unused(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  if (!g_initialized) return out;
  for (const auto& n : names) {
    PetscBool used = PETSC_FALSE;
    check(PetscOptionsUsed(nullptr, n.c_str(), &used), "PetscOptionsUsed");  // names are stored without the dash
    if (!used) out.push_back(n);
  }
  return out;
}

}  // namespace petsc

namespace {

// One exception thrown inside a PETSc callback, carried over PETSc's C frames.
struct Pending {
  std::exception_ptr error;
};

}  // namespace

struct Krylov::Impl {
  layout::Pencil px;
  FieldMap op, pre;
  KrylovOptions opt;
  Mat A = nullptr;
  KSP ksp = nullptr;
  Vec vb = nullptr, vx = nullptr;
  MatNullSpace ns = nullptr;
  layout::RealField in, out;
  Pending pending;
  PetscReal r0 = 0;

  ~Impl() {
    if (!petsc::initialized()) return;
    if (ns) MatNullSpaceDestroy(&ns);
    if (ksp) KSPDestroy(&ksp);
    if (A) MatDestroy(&A);
    if (vb) VecDestroy(&vb);
    if (vx) VecDestroy(&vx);
  }

  void to_field(Vec v, layout::RealField& f) {
    const PetscScalar* p = nullptr;
    petsc::check(VecGetArrayRead(v, &p), "VecGetArrayRead");
    std::memcpy(f.data(), p, sizeof(double) * f.storage_size());
    petsc::check(VecRestoreArrayRead(v, &p), "VecRestoreArrayRead");
  }
  void from_field(const layout::RealField& f, Vec v) {
    PetscScalar* p = nullptr;
    petsc::check(VecGetArray(v, &p), "VecGetArray");
    std::memcpy(p, f.data(), sizeof(double) * f.storage_size());
    petsc::check(VecRestoreArray(v, &p), "VecRestoreArray");
  }
  PetscErrorCode run(const FieldMap& f, Vec x, Vec y) {
    try {
      to_field(x, in);
      f(in, out);
      from_field(out, y);
      return 0;
    } catch (...) {
      if (!pending.error) pending.error = std::current_exception();
      return PETSC_ERR_LIB;
    }
  }
  static PetscErrorCode mult(Mat M, Vec x, Vec y) {
    void* ctx = nullptr;
    MatShellGetContext(M, &ctx);
    auto* self = static_cast<Impl*>(ctx);
    return self->run(self->op, x, y);
  }
  static PetscErrorCode precondition(PC pc, Vec x, Vec y) {
    void* ctx = nullptr;
    PCShellGetContext(pc, &ctx);
    auto* self = static_cast<Impl*>(ctx);
    return self->run(self->pre, x, y);
  }
  static PetscErrorCode monitor(KSP, PetscInt it, PetscReal rnorm, void* ctx) {
    auto* self = static_cast<Impl*>(ctx);
    if (it == 0) self->r0 = rnorm;
    const long every = self->opt.progress_every;
    if (every > 0 && it > 0 && it % every == 0)
      core::log::info(self->opt.label, ": iteration ", it, ", residual ", rnorm, " (relative ",
                      self->r0 > 0 ? rnorm / self->r0 : 0.0, ")");
    return 0;
  }
};

Krylov::Krylov(const layout::Pencil& px, FieldMap op, FieldMap preconditioner, KrylovOptions opt)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!petsc::initialized()) petsc::initialize();
  m.px = px;
  m.op = std::move(op);
  m.pre = std::move(preconditioner);
  m.opt = opt;
  m.in = layout::RealField(px);
  m.out = layout::RealField(px);
  MPI_Comm comm = px.grid().comm();
  const PetscInt nloc = static_cast<PetscInt>(px.box().volume());
  PetscInt N = 1;
  for (long n : px.global()) N *= static_cast<PetscInt>(n);
  using petsc::check;
  check(MatCreateShell(comm, nloc, nloc, N, N, &m, &m.A), "MatCreateShell");
  check(MatShellSetOperation(m.A, MATOP_MULT, reinterpret_cast<void (*)(void)>(&Impl::mult)), "MatShellSetOperation");
  if (opt.constant_null_space) {
    check(MatNullSpaceCreate(comm, PETSC_TRUE, 0, nullptr, &m.ns), "MatNullSpaceCreate");
    check(MatSetNullSpace(m.A, m.ns), "MatSetNullSpace");
  }
  check(MatCreateVecs(m.A, &m.vx, &m.vb), "MatCreateVecs");
  check(KSPCreate(comm, &m.ksp), "KSPCreate");
  check(KSPSetOperators(m.ksp, m.A, m.A), "KSPSetOperators");
  check(KSPSetType(m.ksp, opt.ksp_type.c_str()), "KSPSetType");
  check(KSPSetTolerances(m.ksp, opt.rtol, PETSC_DEFAULT, PETSC_DEFAULT, static_cast<PetscInt>(opt.max_it)), "KSPSetTolerances");
  PC pc = nullptr;
  check(KSPGetPC(m.ksp, &pc), "KSPGetPC");
  if (m.pre) {
    check(PCSetType(pc, PCSHELL), "PCSetType");
    check(PCShellSetContext(pc, &m), "PCShellSetContext");
    check(PCShellSetApply(pc, &Impl::precondition), "PCShellSetApply");
    check(PCShellSetName(pc, "kron fast diagonalization"), "PCShellSetName");
  } else {
    check(PCSetType(pc, PCNONE), "PCSetType");
  }
  check(KSPMonitorSet(m.ksp, &Impl::monitor, &m, nullptr), "KSPMonitorSet");
  if (!opt.options_prefix.empty()) check(KSPSetOptionsPrefix(m.ksp, opt.options_prefix.c_str()), "KSPSetOptionsPrefix");
  check(KSPSetFromOptions(m.ksp), "KSPSetFromOptions");
  check(KSPSetUp(m.ksp), "KSPSetUp");
}

Krylov::~Krylov() = default;

KrylovResult Krylov::solve(const layout::RealField& b, layout::RealField& x) {
  Impl& m = *impl_;
  if (b.pencil() != m.px || x.pencil() != m.px || b.has_halo() || x.has_halo())
    throw Error("Krylov::solve: b and x must be x-pencils of the solver's grid without halos");
  core::ScopedTimer timer("krylov.solve");
  using petsc::check;
  m.from_field(b, m.vb);
  m.from_field(x, m.vx);
  if (m.ns) check(MatNullSpaceRemove(m.ns, m.vb), "MatNullSpaceRemove");
  m.pending.error = nullptr;
  const PetscErrorCode ierr = KSPSolve(m.ksp, m.vb, m.vx);
  if (m.pending.error) std::rethrow_exception(m.pending.error);
  check(ierr, "KSPSolve");
  KSPConvergedReason reason;
  check(KSPGetConvergedReason(m.ksp, &reason), "KSPGetConvergedReason");
  PetscInt its = 0;
  PetscReal rnorm = 0;
  check(KSPGetIterationNumber(m.ksp, &its), "KSPGetIterationNumber");
  check(KSPGetResidualNorm(m.ksp, &rnorm), "KSPGetResidualNorm");
  KSPType kt;
  PCType pt;
  PC pc;
  check(KSPGetType(m.ksp, &kt), "KSPGetType");
  check(KSPGetPC(m.ksp, &pc), "KSPGetPC");
  check(PCGetType(pc, &pt), "PCGetType");
  KrylovResult r;
  r.iterations = its;
  r.residual_norm = rnorm;
  r.initial_norm = m.r0;
  r.reason = KSPConvergedReasons[reason];
  r.ksp_type = kt ? kt : "";
  r.pc_type = pt ? pt : "";
  if (reason < 0) {
    std::ostringstream os;
    os << "the Krylov solve (" << r.ksp_type << " + " << r.pc_type << ") failed: " << r.reason << " after " << its
       << " iterations, residual norm " << rnorm << " (initial " << m.r0 << ")";
    throw Error(os.str(), {},
                reason == KSP_DIVERGED_ITS ? "raise petsc." + m.opt.options_prefix + "ksp_max_it, or try another " + m.opt.options_prefix + "ksp_type/" + m.opt.options_prefix + "pc_type"
                : reason == KSP_DIVERGED_INDEFINITE_PC || reason == KSP_DIVERGED_INDEFINITE_MAT
                    ? "the operator or preconditioner is not definite: use ksp_type = \"gmres\""
                    : "check the coefficient (positive, finite), the source and the boundary data");
  }
  m.to_field(m.vx, x);
  return r;
}

}  // namespace kron::linops
