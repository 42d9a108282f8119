#include "kron/linops/adi.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/linops/line_kernels.hpp"
#include "kron/linops/pencil_set.hpp"

namespace kron::linops {

namespace {

enum class Factor { Thomas, ThomasCompact, Dense };

bool is_tridiagonal(const Eigen::MatrixXd& M, bool periodic, double tol) {
  const long m = M.rows();
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < m; ++j) {
      long d = std::abs(i - j);
      if (periodic) d = std::min(d, m - d);
      if (d > 1 && std::abs(M(i, j)) > tol) return false;
    }
  return true;
}

struct Axis {
  bool active = false, dirichlet = false;
  long n = 1, lo = 0, m = 1;
  Factor kind = Factor::Dense;
  std::unique_ptr<LineOperator> solve;  // D = M^{-1} r on the m unknowns of a line
  Eigen::VectorXd w_lo, w_hi;           // r_I += w * (boundary value of the stage)
  Operator1D d2;                        // full-line second derivative (for stage boundary data)
};

}  // namespace

struct Adi::Impl {
  layout::ProcessGridPtr grid;
  std::array<layout::AxisGrid, 3> axes;
  std::array<long, 3> n{};
  std::array<Axis, 3> ax;
  double nu = 1, dt = 1, c = 0.5;
  bool any_dirichlet = false;
  std::unique_ptr<KroneckerSum> lap;
  std::unique_ptr<PencilSet> ps, tmp, hx, hy;  // hx, hy: stage boundary data
  layout::RealField lu, f, g0, g1, dg;
  std::array<std::unique_ptr<LineOperator>, 3> d2_full;  // for the stage boundary data
  bool have_g0 = false;
  double g0_time = 0;

  void setup_axis(int a, Scheme scheme, BoundaryKind bc) {
    Axis& A = ax[a];
    A.n = n[a];
    A.active = n[a] > 1;
    if (!A.active) return;
    if (bc == BoundaryKind::Neumann)
      throw Error("ADI time stepping takes dirichlet or periodic boundaries, not neumann");
    const bool periodic = bc == BoundaryKind::Periodic;
    A.dirichlet = !periodic;
    A.d2 = derivative(axes[a], scheme, 2);
    const Eigen::MatrixXd D2 = A.d2.dense();
    const long N = n[a];
    A.lo = periodic ? 0 : 1;
    A.m = periodic ? N : N - 2;
    const long m = A.m;
    const Eigen::MatrixXd M = Eigen::MatrixXd::Identity(m, m) - c * D2.block(A.lo, A.lo, m, m);
    if (!periodic) {
      A.w_lo = c * D2.block(1, 0, m, 1);
      A.w_hi = c * D2.block(1, N - 1, m, 1);
    }
    const double tol = 1e-14 * M.cwiseAbs().maxCoeff();
    Operator1D op(m, "adi factor");
    const auto& terms = A.d2.terms();
    if (is_tridiagonal(M, periodic, tol) && m >= 3) {
      // M^{-1} r as a compact term with A = M, B = I: the engine's Thomas over interleaved lines.
      A.kind = Factor::Thomas;
      Term t;
      t.kind = Term::Kind::Compact;
      t.b = banded_from_dense(Eigen::MatrixXd::Identity(m, m), periodic, 0);
      t.a = banded_from_dense(M, periodic, 1);
      op.add(std::move(t));
    } else if (periodic && terms.size() == 1 && terms[0].kind == Term::Kind::Compact && terms[0].scale.empty() &&
               terms[0].b.kl <= 1 && terms[0].b.ku <= 1 && m >= 3) {
      // Periodic compact scheme with tridiagonal A and B: (A - c B) D = A r.
      A.kind = Factor::ThomasCompact;
      const Eigen::MatrixXd Am = terms[0].a.dense(), Bm = terms[0].b.dense();
      Term t;
      t.kind = Term::Kind::Compact;
      t.b = banded_from_dense(Am, true, 1);
      t.a = banded_from_dense(Am - c * Bm, true, 1);
      op.add(std::move(t));
    } else {
      A.kind = Factor::Dense;
      op = dense_operator(Eigen::PartialPivLU<Eigen::MatrixXd>(M).inverse(), "adi factor inverse");
    }
    A.solve = std::make_unique<LineOperator>(op);
  }

  // Sets the boundary points of X (pencil p) to those of H (same pencil).
  void copy_boundary(layout::RealField& X, const layout::RealField& H) const {
    std::array<bool, 3> dirichlet;
    for (int a = 0; a < 3; ++a) dirichlet[a] = ax[a].dirichlet;
    layout::ops::for_each_face_point(X.pencil().box(), n, dirichlet, [&](long i, long j, long k, int, int) { X(i, j, k) = H(i, j, k); });
  }

  // One factor solve along axis a on pencil p of ps (in place), with the stage's boundary
  // values already on the boundary points.
  void stage(int a, int p) {
    Axis& A = ax[a];
    layout::RealField& X = ps->field(p);
    const Lines L = lines_of(X, a);
    if (A.dirichlet)
      for (long o = 0; o < L.outer; ++o)
        for (long i = 0; i < A.m; ++i) {
          double* row = L.p + o * L.ostride + (i + 1) * L.inner;
          const double* b0 = L.p + o * L.ostride;
          const double* b1 = L.p + o * L.ostride + (A.n - 1) * L.inner;
          const double wl = A.w_lo[i], wh = A.w_hi[i];
#pragma omp simd
          for (long j = 0; j < L.inner; ++j) row[j] += wl * b0[j] + wh * b1[j];
        }
    A.solve->apply_in_place(L.range(A.lo, A.m), lines_of(tmp->field(p), a).range(A.lo, A.m));
  }
};

Adi::Adi(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes, std::array<Scheme, 3> schemes,
         std::array<BoundaryKind, 3> bc, double nu, double dt)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!(nu > 0) || !(dt > 0)) throw Error("ADI needs nu > 0 and dt > 0");
  m.grid = grid;
  m.axes = axes;
  m.nu = nu;
  m.dt = dt;
  m.c = 0.5 * dt * nu;
  for (int a = 0; a < 3; ++a) m.n[a] = axes[a].size();
  std::array<Operator1D, 3> ops;
  std::array<bool, 3> per{};
  for (int a = 0; a < 3; ++a) {
    m.setup_axis(a, schemes[a], bc[a]);
    per[a] = axes[a].periodic();
    if (m.ax[a].active) ops[a] = m.ax[a].d2;
    m.any_dirichlet |= m.ax[a].dirichlet;
  }
  m.lap = std::make_unique<KroneckerSum>(grid, ops, 0.0, per);
  m.ps = std::make_unique<PencilSet>(grid, m.n);
  m.tmp = std::make_unique<PencilSet>(grid, m.n);
  if (m.any_dirichlet) {
    m.hx = std::make_unique<PencilSet>(grid, m.n);
    m.hy = std::make_unique<PencilSet>(grid, m.n);
  }
  const layout::Pencil px(m.n, grid, 0);
  m.lu = layout::RealField(px);
  m.f = layout::RealField(px);
  if (m.any_dirichlet) {
    m.g0 = layout::RealField(px);
    m.g1 = layout::RealField(px);
    m.dg = layout::RealField(px);
    for (int a = 0; a < 3; ++a)
      if (m.ax[a].active) m.d2_full[a] = std::make_unique<LineOperator>(m.ax[a].d2);
  }
}

Adi::~Adi() = default;

std::string Adi::describe() const {
  std::ostringstream os;
  const char* names[] = {"thomas", "thomas-compact", "dense"};
  for (int a = 0; a < 3; ++a) {
    const Axis& A = impl_->ax[a];
    if (!A.active) continue;
    os << (os.tellp() > 0 ? ", " : "") << "xyz"[a] << ": " << names[int(A.kind)];
  }
  return os.str();
}

std::size_t Adi::operator_bytes() const {
  std::size_t b = impl_->lap->operator_bytes();
  for (const Axis& A : impl_->ax)
    if (A.solve) b += A.solve->op().bytes() + sizeof(double) * (A.w_lo.size() + A.w_hi.size());
  return b;
}

void Adi::step(layout::RealField& u, double t, const Fill& source, const Fill& boundary) {
  Impl& m = *impl_;
  core::ScopedTimer timer("adi.step");
  const layout::Pencil px(m.n, m.grid, 0);
  if (u.pencil() != px || u.has_halo()) throw Error("Adi::step: u must be an x-pencil field of the solver's grid without halos");
  const long N = static_cast<long>(u.storage_size());
  // D0 = dt (nu L u + f(t + dt/2)) in the x-pencil.
  m.lap->apply(u, m.lu);
  source(t + 0.5 * m.dt, m.f);
  layout::RealField& D = m.ps->field(0);
  for (long q = 0; q < N; ++q) D.data()[q] = m.dt * (m.nu * m.lu.data()[q] + m.f.data()[q]);
  // Stage boundary data from dg = g(t + dt) - g(t): z stage dg, y stage (I - c D2_z) dg,
  // x stage (I - c D2_y)(I - c D2_z) dg. Tangential operators stay on the boundary faces.
  if (m.any_dirichlet) {
    if (!m.have_g0 || m.g0_time != t) boundary(t, m.g0);
    boundary(t + m.dt, m.g1);
    for (long q = 0; q < N; ++q) m.dg.data()[q] = m.g1.data()[q] - m.g0.data()[q];
    std::swap(m.g0, m.g1);
    m.have_g0 = true;
    m.g0_time = t + m.dt;
  }
  // The stage data, once per step: hy = (I - c D2_z) dg, hx = (I - c D2_y) hy (each a line
  // sweep in place, in the factor's own pencil); the z stage takes dg itself.
  auto factor = [&](PencilSet& set, int& at, int a) {
    if (!m.ax[a].active) return;
    const int p = set.home(a, at);
    set.move(at, p);
    at = p;
    const Lines L = lines_of(set.field(p), a), T = lines_of(m.tmp->field(p), a);
    m.d2_full[a]->apply(L, T);
    for (long o = 0; o < L.outer; ++o)
      for (long i = 0; i < L.n * L.inner; ++i) L.p[o * L.ostride + i] -= m.c * T.p[o * T.ostride + i];
  };
  int hy_at = 0, hx_at = 0;
  if (m.any_dirichlet) {
    m.hy->move_in(m.dg, 0);
    factor(*m.hy, hy_at, 2);
    hx_at = hy_at;
    std::memcpy(m.hx->field(hx_at).data(), m.hy->field(hy_at).data(), sizeof(double) * m.hy->field(hy_at).storage_size());
    factor(*m.hx, hx_at, 1);
  }
  int cur = 0;
  for (int a : {0, 1, 2}) {
    if (!m.ax[a].active) continue;
    const int p = m.ps->home(a, cur);
    m.ps->move(cur, p);
    cur = p;
    if (m.any_dirichlet) {
      PencilSet& H = a == 1 ? *m.hy : *m.hx;
      if (a == 0) H.move(hx_at, p);
      else if (a == 1) H.move(hy_at, p);
      else H.move_in(m.dg, p);  // hx is free once the x stage is done
      m.copy_boundary(m.ps->field(p), H.field(p));
    }
    m.stage(a, p);
  }
  m.ps->move(cur, 0);
  layout::RealField& D3 = m.ps->field(0);
  if (m.any_dirichlet) m.copy_boundary(D3, m.dg);
  bool finite = true;
  for (long q = 0; q < N; ++q) {
    u.data()[q] += D3.data()[q];
    finite = finite && std::isfinite(u.data()[q]);
  }
  if (!core::mpi::all(finite, m.grid->comm()))
    throw Error("the ADI step from t = " + std::to_string(t) + " produced non-finite values", {},
                "check the source, boundary and initial expressions and the time step");
}

}  // namespace kron::linops
