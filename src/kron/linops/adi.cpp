#include "kron/linops/adi.hpp"

#include "kron/core/device.hpp"

#include <cmath>
#include <map>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/linops/pencil_workspace.hpp"
#include "kron/linops/tensor_op.hpp"

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

// Workspace slots of the step's own fields (TensorOps use the low slots).
constexpr int kRhs = 10, kDgY = 11, kDgZ = 12, kSource = 13, kOut = 14;

struct Axis {
  bool active = false, dirichlet = false;
  long n = 1;
  Factor kind = Factor::Dense;
  Operator1D d2;                                  // full-line second derivative
  std::shared_ptr<const LineOp<double>> solve;    // M^{-1} on the interior (all of a periodic line)
  std::shared_ptr<const LineOp<double>> factor;   // I - c D2 on full lines (stage data of earlier axes)
  std::shared_ptr<const LineOp<double>> ends;     // 2 x n: the two boundary values of a line
  std::shared_ptr<const LineOp<double>> lift;     // n x 2: M^{-1} c D2_ib on interior rows, 0 at the ends
};

}  // namespace

struct Adi::Impl {
  layout::ProcessGridPtr grid;
  std::array<layout::AxisGrid, 3> axes;
  std::array<long, 3> n{};
  std::array<Axis, 3> ax;
  Boundaries bounds;
  double nu = 1, dt = 1, c = 0.5;
  bool any_dirichlet = false;
  std::unique_ptr<KroneckerSum> lap;
  std::unique_ptr<PencilWorkspace> ws;
  core::MemorySpace space = core::MemorySpace::Host;
  // Device steps: host fields for the fills before they go over.
  layout::RealField host_fill, host_g0, host_g1, host_u;
  layout::RealField g0, g1;  // boundary data at the step's two times (persist between steps)
  bool have_g0 = false;
  double g0_time = 0;

  // Per component count: the factor solve of each axis (x in the x-pencil, y from x into the
  // y-pencil, z from y into the z-pencil) and its Dirichlet lift from dg in the axis' pencil:
  //   x: ends_x, (I - c D2_y), (I - c D2_z), lift_x;  y: ends_y, (I - c D2_z), lift_y;  z: ends_z, lift_z.
  struct Plans {
    std::array<TensorOp<double>, 3> solve, lift;
    std::array<int, 3> at{};  // the pencil axis each stage runs in
  };
  std::map<int, std::unique_ptr<Plans>> plans_;

  void setup_axis(int a, Scheme scheme, BoundaryKind bc) {
    Axis& A = ax[a];
    A.n = n[a];
    A.active = n[a] > 1;
    if (!A.active) return;
    if (bc == BoundaryKind::Neumann) throw Error("ADI time stepping takes dirichlet or periodic boundaries, not neumann");
    const bool periodic = bc == BoundaryKind::Periodic;
    A.dirichlet = !periodic;
    A.d2 = derivative(axes[a], scheme, 2);
    const Eigen::MatrixXd D2 = A.d2.dense();
    const long N = n[a], lo = periodic ? 0 : 1, m = periodic ? N : N - 2;
    if (m < 1) throw Error("ADI needs at least 3 points along each bounded axis");
    const Eigen::MatrixXd M = Eigen::MatrixXd::Identity(m, m) - c * D2.block(lo, lo, m, m);
    const double tol = 1e-14 * M.cwiseAbs().maxCoeff();
    Operator1D op(m, "adi factor");
    const auto& terms = A.d2.terms();
    if (is_tridiagonal(M, periodic, tol) && m >= 3) {
      // M^{-1} r as a compact term with A = M, B = I: Thomas across interleaved lines.
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
    A.solve = std::make_shared<LineOp<double>>(LineOp<double>::real(op));
    A.factor = std::make_shared<LineOp<double>>(LineOp<double>::real(affine(1.0, A.d2, -c, "adi stage data")));
    if (periodic) return;
    // Lift: the interior equations M D_I = r_I + c D2_ib h_b, so D_I gains M^{-1} c D2_ib h_b.
    Eigen::MatrixXd W(m, 2);
    W.col(0) = c * D2.block(1, 0, m, 1);
    W.col(1) = c * D2.block(1, N - 1, m, 1);
    Eigen::MatrixXd L = Eigen::MatrixXd::Zero(N, 2);
    L.block(1, 0, m, 2) = Eigen::PartialPivLU<Eigen::MatrixXd>(M).solve(W);
    A.lift = dense_op(L);
    Eigen::MatrixXd E = Eigen::MatrixXd::Zero(2, N);
    E(0, 0) = 1;
    E(1, N - 1) = 1;
    A.ends = dense_op(E);
  }

  // D = L u on the device: one line sweep per active axis, accumulated in the x-pencil.
  // A fill evaluated on the host and sent to the device field f.
  bool device_fills = false;
  void fill_device(const Fill& fill, double t, layout::RealField& host, layout::RealField& f) {
    if (device_fills) return fill(t, f);
    if (host.components() != f.components() || host.pencil() != f.pencil()) host = layout::RealField(f.pencil(), f.components());
    fill(t, host);
    core::copy_to_device(f.data(), host.data(), host.storage_size() * sizeof(double));
  }

  Plans& plans(int nc) {
    auto it = plans_.find(nc);
    if (it != plans_.end()) return *it->second;
    auto p = std::make_unique<Plans>();
    int cur = 0;
    for (int a = 0; a < 3; ++a) {
      const Axis& A = ax[a];
      if (!A.active) continue;
      TensorOp<double>::Options o;
      o.in_axis = cur;
      o.return_to_x = false;
      p->solve[a] = TensorOp<double>(grid, n, nc, {{a, A.solve, Trans::N, A.dirichlet ? 1L : -1L}}, o);
      cur = p->at[a] = p->solve[a].out_axis();
      if (!A.dirichlet) continue;
      std::vector<TensorOp<double>::Stage> st{{a, A.ends, Trans::N}};
      for (int b = a + 1; b < 3; ++b)
        if (ax[b].active && ax[b].dirichlet) st.push_back({b, ax[b].factor, Trans::N});
      st.push_back({a, A.lift, Trans::N});
      TensorOp<double>::Options lo;
      lo.in_axis = lo.out_axis = cur;
      p->lift[a] = TensorOp<double>(grid, n, nc, std::move(st), lo);
    }
    return *plans_.emplace(nc, std::move(p)).first->second;
  }
};

Adi::Adi(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes, std::array<Scheme, 3> schemes,
         std::array<BoundaryKind, 3> bc, double nu, double dt, core::MemorySpace space)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.space = space;
  if (!(nu > 0) || !(dt > 0)) throw Error("ADI needs nu > 0 and dt > 0");
  m.grid = grid;
  m.axes = axes;
  m.nu = nu;
  m.dt = dt;
  m.c = 0.5 * dt * nu;
  for (int a = 0; a < 3; ++a) m.n[a] = axes[a].size();
  m.bounds = Boundaries(m.n, bc);
  std::array<Operator1D, 3> ops;
  std::array<bool, 3> per{};
  for (int a = 0; a < 3; ++a) {
    m.setup_axis(a, schemes[a], bc[a]);
    per[a] = axes[a].periodic();
    if (m.ax[a].active) ops[a] = m.ax[a].d2;
    m.any_dirichlet |= m.ax[a].dirichlet;
  }
  m.lap = std::make_unique<KroneckerSum>(grid, ops, 0.0, per, space);
  m.ws = std::make_unique<PencilWorkspace>(grid, layout::TransposeMethod::Alltoallv, space);
  // Setup takes the page faults of the scalar plans' fields and of the Laplacian's halo field
  // and messages (one apply on zeros), not the first step.
  Impl::Plans& p = m.plans(1);
  layout::RealField* cur = &m.ws->field<double>(0, m.n, 1, kRhs);
  m.lap->apply(m.ws->field<double>(0, m.n, 1, kSource), *cur);
  for (int a = 0; a < 3; ++a)
    if (m.ax[a].active) {
      cur = &p.solve[a].reserve(*cur, *m.ws, true);
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
    for (const auto* op : {&A.solve, &A.factor, &A.ends, &A.lift})
      if (*op) b += (*op)->bytes();
  return b;
}

std::size_t Adi::workspace_bytes() const { return impl_->ws->bytes(); }

void Adi::set_device_fills(bool on) { impl_->device_fills = on; }

void Adi::step(layout::RealField& u, double t, const Fill& source, const Fill& boundary) {
  Impl& m = *impl_;
  core::ScopedTimer timer("adi.step");
  const layout::Pencil px(m.n, m.grid, 0);
  if (u.pencil() != px || u.has_halo()) throw Error("Adi::step: u must be an x-pencil field of the solver's grid without halos");
  const int nc = u.components();
  const bool on_device = m.space == core::MemorySpace::Device;
  if (on_device && !u.on_device()) {
    // A host u: over to the device, one step there, and back.
    layout::RealField& ud = m.ws->field<double>(0, m.n, nc, kOut + 1);
    core::copy_to_device(ud.data(), u.data(), u.storage_size() * sizeof(double));
    step(ud, t, source, boundary);
    core::copy_to_host(u.data(), ud.data(), u.storage_size() * sizeof(double));
    return;
  }
  if (on_device != u.on_device())
    throw Error("Adi::step: u is in device memory but the solver runs on the host", {}, "construct the Adi with MemorySpace::Device");
  Impl::Plans& p = m.plans(nc);
  PencilWorkspace& ws = *m.ws;
  // D0 = dt (nu L u + f(t + dt/2)) in the x-pencil.
  layout::RealField& D = ws.field<double>(0, m.n, nc, kRhs);
  layout::RealField& f = ws.field<double>(0, m.n, nc, kSource);
  const double dt = m.dt, nu = m.nu;
  m.lap->apply(u, D);
  if (on_device) {
    m.fill_device(source, t + 0.5 * m.dt, m.host_fill, f);
    layout::ops::axpby(dt, f, dt * nu, D);
  } else {
    source(t + 0.5 * m.dt, f);
    layout::ops::map(D, [dt, nu](double lu, double fq) { return dt * (nu * lu + fq); }, f);
  }
  // dg = g(t + dt) - g(t) on the boundary faces; the stage lifts read it in their own pencils.
  const std::array<bool, 3> dirichlet = m.bounds.faces(BoundaryKind::Dirichlet);
  std::array<layout::RealField*, 3> dg{nullptr, nullptr, nullptr};
  if (m.any_dirichlet) {
    if (m.g0.components() != nc || m.g0.pencil() != px) {
      m.g0 = layout::RealField(px, nc, {0, 0, 0}, m.space);
      m.g1 = layout::RealField(px, nc, {0, 0, 0}, m.space);
      m.have_g0 = false;
    }
    if (on_device) {
      if (!m.have_g0 || m.g0_time != t) m.fill_device(boundary, t, m.host_g0, m.g0);
      m.fill_device(boundary, t + m.dt, m.host_g1, m.g1);
      layout::ops::axpby(1.0, m.g1, -1.0, m.g0);  // g0 holds dg now
    } else {
      if (!m.have_g0 || m.g0_time != t) boundary(t, m.g0);
      boundary(t + m.dt, m.g1);
      layout::ops::map(m.g0, [](double g0, double g1) { return g1 - g0; }, m.g1);  // g0 holds dg now
    }
    // In the pencil of each stage (x, then y and z for the usual pencils), each transposed from
    // the previous one.
    layout::RealField* prev = &m.g0;
    for (int a = 0; a < 3; ++a) {
      if (!(m.ax[a].active && m.ax[a].dirichlet)) continue;
      if (p.at[a] != prev->pencil().axis()) {
        layout::RealField& to = ws.field<double>(p.at[a], m.n, nc, a == 2 ? kDgZ : kDgY);
        ws.transpose(*prev, to);
        prev = &to;
      }
      dg[a] = prev;
    }
  }
  // The three factor solves, each followed by its boundary lift, moving x -> y -> z.
  layout::RealField* X = &D;
  for (int a = 0; a < 3; ++a) {
    if (!m.ax[a].active) continue;
    layout::RealField& Y = p.solve[a].apply(*X, ws, true);
    if (m.ax[a].dirichlet) p.lift[a].apply(*dg[a], Y, ws, true);
    X = &Y;
  }
  // u^{n+1} = u^n + D3, with D3 = dg on the Dirichlet faces (u^n holds g^n there).
  layout::RealField* D3 = X;
  if (X->pencil().axis() != 0) {
    D3 = &ws.field<double>(0, m.n, nc, kOut);
    ws.transpose(*X, *D3);
  }
  if (m.any_dirichlet) layout::ops::copy_faces(m.g0, *D3, dirichlet);
  layout::ops::axpy(1.0, *D3, u);
  if (m.any_dirichlet) {
    std::swap(m.g0, m.g1);  // g(t + dt) for the next step
    m.have_g0 = true;
    m.g0_time = t + m.dt;
  }
  if (!layout::ops::all_finite(u))
    throw Error("the ADI step from t = " + std::to_string(t) + " produced non-finite values", {},
                "check the source, boundary and initial expressions and the time step");
}

}  // namespace kron::linops
