#include "kron/problems/poisson.hpp"

#include "kron/layout/field_ops.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/layout/output.hpp"
#include "kron/linops/kronecker.hpp"
#include "kron/linops/pencil_workspace.hpp"
#include "kron/linops/tensor_op.hpp"
#include "kron/spectral/barycentric.hpp"
#include "kron/core/device.hpp"
#include "kron/problems/pde_setup.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {

core::SectionSpec pde_section(const std::string& name, bool helmholtz) {
  core::SectionSpec s{name,
                      helmholtz ? "Helmholtz problem  Laplace(u) - lambda u = f,  solved directly by fast diagonalization."
                                : "Poisson problem  Laplace(u) = f,  solved directly by fast diagonalization.",
                      pde_keys(true, false), false, name};
  s.keys.push_back({"compatibility_tol", ValueKind::Real, "1e-6",
                    "Singular problems (all axes periodic/Neumann): largest relative null-space component of the data that is "
                    "projected out as discretisation error; larger fails as incompatible data.", 0, 1});
  s.keys.push_back({"residual_check", ValueKind::Boolean, "true",
                    "After the solve, apply the operator to u and report the interior residual (summary.json residual_max, "
                    "residual_relative): an independent check that costs about as much as the solve; false skips it."});
  if (helmholtz) s.keys.push_back({"lambda", ValueKind::Real, "1.0", "The shift lambda in Laplace(u) - lambda u = f; expressions use it as lambda."});
  s.keys.push_back({"test_points", ValueKind::IntegerList, "",
                    "Spectral schemes (chebyshev, fourier on every axis): also evaluate the solution's interpolant (barycentric, "
                    "one TensorOp of interpolation LineOps) on a test grid of this many points per axis (uniform, ends included on "
                    "bounded axes), report its error against the exact solution there (summary.json error_test_relative_l2, "
                    "error_test_max) and write it as <name>_test (HDF5/XDMF, u and error).",
                    2, 100000, {}, 1, 3, true});
  return s;
}

}  // namespace

void Poisson::declare_poisson(core::Schema& schema) { schema.add(pde_section("poisson", false)); }
void Poisson::declare_helmholtz(core::Schema& schema) { schema.add(pde_section("helmholtz", true)); }

Poisson::Poisson(const core::Deck& deck, MPI_Comm comm, bool helmholtz)
    : deck_(deck), comm_(comm), section_(helmholtz ? "helmholtz" : "poisson"), setup_(deck, section_, comm, false, helmholtz ? std::vector<std::string>{"lambda"} : std::vector<std::string>{}) {
  if (helmholtz) shift_ = deck.real(section_, "lambda");
  {
    // Counted from the run (u, f, error, residual; the solver's transform scratch: 7 fields with
    // a dense axis, 3 with a real-FFT (periodic) one, else 1 (sine transforms in place);
    // transposes and output staging) and checked against its measured peak by tests/cli/memory.sh.
    const double fb = setup_.field_bytes();
    bool dense = false;
    core::MemoryEstimate est;
    add_axis_factors(est, setup_, true);
    for (const auto& i : est.items) dense = dense || i.what == "dense eigendecompositions";
    est.add("fields u, f, error, residual", 4 * fb);
    bool periodic = false;
    for (int a = 0; a < setup_.domain.dim; ++a) periodic = periodic || setup_.bc[a] == linops::BoundaryKind::Periodic;
    est.add("solver scratch", (dense ? 7 : periodic ? 3 : 1) * fb);
    est.add("transposes and output", transpose_fields(*setup_.grid, 3) * fb);
    reserve_memory(deck, setup_.domain, est, comm);
  }
  if (deck.has(section_, "test_points")) {
    const auto tp = deck.integers(section_, "test_points");
    if (static_cast<int>(tp.size()) != setup_.domain.dim)
      throw deck.error(section_, "test_points", std::to_string(tp.size()) + " entries for a " + std::to_string(setup_.domain.dim) + "D grid",
                       "give one count per axis");
    for (int a = 0; a < setup_.domain.dim; ++a) {
      if (setup_.schemes[a] != linops::Scheme::Chebyshev && setup_.schemes[a] != linops::Scheme::Fourier)
        throw deck.error(section_, "test_points", std::string("axis ") + "xyz"[a] + " has scheme " + linops::to_string(setup_.schemes[a]) +
                                                      ": the solution has an interpolant only with spectral schemes",
                         "use scheme = [\"chebyshev\"] or [\"fourier\"]");
      test_points_[a] = static_cast<long>(tp[static_cast<std::size_t>(a)]);
    }
    if (!setup_.exact) throw deck.error(section_, "test_points", "needs an exact solution to measure the error against", "add exact = \"...\"");
  }
  linops::FastPoissonOptions opt;
  opt.compatibility_tol = deck.real(section_, "compatibility_tol");
  opt.effort = layout::parse_fft_effort(deck.string("fft", "effort"));
  opt.space = layout::device_backend(deck, comm);
  try {
    solver_ = std::make_unique<linops::FastPoisson>(setup_.grid, setup_.domain.axes, setup_.schemes, setup_.bc, shift_, opt);
  } catch (const Error& e) {
    throw deck.error(section_, "scheme", e.message(), e.hint());
  }
}

core::Json Poisson::run() {
  const std::string& S = section_;
  const layout::Domain& domain = setup_.domain;
  const layout::Pencil px = setup_.x_pencil();
  layout::RealField f(px), u(px);
  {
    core::ScopedTimer t("field.setup");
    layout::evaluate(*setup_.source, domain, 0.0, f);
  }
  // Non-finite data stop here, naming the key, not after the solve.
  setup_.check_data(f, 0.0, "source", &u);
  layout::ops::scale(0.0, u);  // the check left the exact solution in u: the solve starts from nothing
  if (setup_.any_dirichlet) linops::fill_dirichlet(domain.axes, setup_.bc, setup_.boundary_data(0.0), u);
  log::info(S, ": ", setup_.describe(), "; transforms ", solver_->describe());
  const double t0 = core::wall_time();
  solver_->solve(f, setup_.boundary_data(0.0), u);
  const double solve_s = core::mpi::max(core::wall_time() - t0, comm_);
  const double rate = double(domain.points()) / std::max(solve_s, 1e-12);
  log::info(S, ": solved in ", solve_s, " s (", core::text::rate(rate), " points/s)");
  log::debug(S, ": operator storage ", double(solver_->operator_bytes()) / 1048576.0, " MiB, solver scratch ",
             double(solver_->workspace_bytes()) / 1048576.0, " MiB (this rank), compatibility defect ",
             solver_->singular() ? solver_->compatibility_defect() : 0.0);

  // Residual of the interior equations through the independent operator apply.
  const bool check = deck_.boolean(S, "residual_check");
  double res_max = 0, f_max = 0, u_max = 0;
  if (check) {
    core::ScopedTimer t("residual");
    std::array<linops::Operator1D, 3> ops;
    std::array<bool, 3> per{};
    for (int a = 0; a < 3; ++a) {
      if (domain.axes[a].size() > 1) ops[a] = solver_->operators()[a];
      per[a] = domain.axes[a].periodic();
    }
    linops::KroneckerSum L(setup_.grid, ops, shift_, per);
    layout::RealField Lu(px);
    L.apply(u, Lu);
    // Interior equations only: boundary rows hold the boundary conditions.
    namespace fo = layout::ops;
    const std::array<bool, 3> faces = setup_.boundaries().faces();
    u_max = fo::max_abs(u);
    fo::axpy(-1.0, f, Lu);
    fo::fill_faces(Lu, faces, 0.0);
    // Singular problems: the gauge removed the null component; checked below.
    res_max = solver_->singular() ? 0.0 : fo::max_abs(Lu);
    fo::copy(f, Lu);
    fo::fill_faces(Lu, faces, 0.0);
    f_max = fo::max_abs(Lu);
  }
  core::Json j = summary_header(setup_);
  j["transforms"] = solver_->describe();
  j["backend"] = deck_.string("device", "backend");
  j["solve_seconds"] = solve_s;
  j["points_per_second"] = rate;
  j["operator_bytes"] = static_cast<double>(solver_->operator_bytes());
  if (!check) {
    log::info(S, ": residual check skipped (", S, ".residual_check = false)");
  } else if (!solver_->singular()) {
    // Relative residual in the backward-error sense: |L u - f| / (|L| |u| + |f|), infinity norms.
    double lnorm = std::abs(shift_);
    for (int a = 0; a < 3; ++a)
      if (domain.axes[a].size() > 1) lnorm += solver_->operators()[a].dense().rowwise().lpNorm<1>().maxCoeff();
    const double rel = res_max / std::max(lnorm * u_max + f_max, 1e-300);
    j["residual_max"] = res_max;
    j["residual_relative"] = rel;
    log::info(S, ": max interior residual ", res_max, " (relative ", rel, ")");
  }
  if (solver_->singular()) j["compatibility_defect"] = solver_->compatibility_defect();
  if (test_points_[0] > 0) evaluate_on_test_grid(u, j);
  finish_steady(setup_, u, f, solver_->singular(), {}, j);
  return j;
}

// The spectral solution's interpolant on the test grid (one TensorOp of barycentric
// interpolation LineOps, in u's memory space), its error against the exact solution there, the
// eigenvalue ratio of the discrete operator (a lower bound on its 2-norm condition number), and
// the test grid's fields written as <name>_test.
void Poisson::evaluate_on_test_grid(const layout::RealField& u, core::Json& j) {
  core::ScopedTimer timer("test_grid");
  const layout::Domain& domain = setup_.domain;
  layout::Domain td = domain;
  std::vector<linops::TensorOp<double>::Stage> stages;
  for (int a = 0; a < domain.dim; ++a) {
    const layout::AxisGrid& g = domain.axes[a];
    td.axes[a] = g.periodic() ? layout::AxisGrid::periodic(test_points_[a], g.lower(), g.upper())
                              : layout::AxisGrid::uniform(test_points_[a], g.lower(), g.upper());
    stages.push_back({a, spectral::interpolation_op(g, td.axes[a].coords()), linops::Trans::N});
  }
  const double t0 = core::wall_time();
  const linops::TensorOp<double> T(setup_.grid, domain.shape(), 1, stages);
  linops::PencilWorkspace ws(setup_.grid, layout::TransposeMethod::Alltoallv, u.space());
  const layout::Pencil tx(td.shape(), setup_.grid, 0);
  layout::RealField v(tx, 1, {0, 0, 0}, u.space());
  T.apply(u, v, ws);
  if (v.on_device()) core::device_synchronize();
  const double eval_s = core::mpi::max(core::wall_time() - t0, comm_);
  layout::RealField vh = v.on_device() ? layout::to_host(v) : std::move(v);
  layout::RealField ex(tx), err(tx);
  layout::evaluate(*setup_.exact, td, 0.0, ex);
  namespace fo = layout::ops;
  fo::copy(vh, err);
  fo::axpy(-1.0, ex, err);
  const double e2 = fo::dot(err, err), x2 = fo::dot(ex, ex), emax = fo::max_abs(err);
  const double rel = std::sqrt(e2 / std::max(x2, 1e-300));
  // The combined eigenvalues sum_a lambda_a - shift of the interior operator, every combination.
  std::array<Eigen::VectorXcd, 3> lam;
  for (int a = 0; a < 3; ++a) {
    if (domain.axes[a].size() <= 1) {
      lam[a] = Eigen::VectorXcd::Zero(1);
      continue;
    }
    Eigen::MatrixXd D = solver_->operators()[a].dense();
    if (setup_.bc[a] == linops::BoundaryKind::Dirichlet) D = D.block(1, 1, D.rows() - 2, D.cols() - 2).eval();
    lam[a] = Eigen::EigenSolver<Eigen::MatrixXd>(D, false).eigenvalues();
  }
  double lmin = 1e300, lmax = 0;
  if (double(lam[0].size()) * lam[1].size() * lam[2].size() <= 2e8)
    for (Eigen::Index i = 0; i < lam[0].size(); ++i)
      for (Eigen::Index k = 0; k < lam[1].size(); ++k)
        for (Eigen::Index m = 0; m < lam[2].size(); ++m) {
          const double v2 = std::abs(lam[0][i] + lam[1][k] + lam[2][m] - shift_);
          lmin = std::min(lmin, v2);
          lmax = std::max(lmax, v2);
        }
  const double ratio = lmin > 0 && lmin < 1e300 ? lmax / lmin : 0.0;
  log::info(section_, ": test grid ", td.axes[0].size(), " x ", td.axes[1].size(), " x ", td.axes[2].size(), " (interpolated in ", eval_s,
            " s): relative L2 error ", rel, ", max error ", emax, "; eigenvalue ratio of the operator ", ratio);
  j["test_grid"] = core::Json(std::vector<double>{double(td.axes[0].size()), double(td.axes[1].size()), double(td.axes[2].size())});
  j["error_test_relative_l2"] = rel;
  j["error_test_max"] = emax;
  j["test_interpolation_seconds"] = eval_s;
  if (ratio > 0) j["eigenvalue_ratio"] = ratio;
  layout::OutputWriter out(deck_.string("output", "dir"), deck_.string("output", "name") + "_test", td,
                           {deck_.provenance_text(), core::mpi::size(comm_)}, layout::output_options(deck_), comm_);
  out.write_step(0, 0.0, {{"u", &vh, 0}, {"error", &err, 0}});
}

}  // namespace kron::problems
