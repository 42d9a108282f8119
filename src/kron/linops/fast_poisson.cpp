#include "kron/linops/fast_poisson.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/linops/fast_diag.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {

namespace {

// y = x between fields of one layout in either memory space.
void copy_any(const layout::RealField& x, layout::RealField& y) {
  if (x.space() == y.space()) return layout::ops::copy(x, y);
  const std::size_t bytes = x.storage_size() * sizeof(double);
  if (y.on_device()) core::copy_to_device(y.data(), x.data(), bytes);
  else core::copy_to_host(y.data(), x.data(), bytes);
}

enum class Transform { Dst1, Rfft, Dense };


struct Axis {
  bool active = false;
  long n = 1, lo = 0, m = 1;
  BoundaryKind bc = BoundaryKind::Periodic;
  Transform kind = Transform::Dense;
  std::vector<double> lambda;
  Eigen::MatrixXd V, Vi;  // dense: eigenvectors and their inverse on the m unknowns
  AxisSplit split;        // bounded axes: interior operator, lift, boundary recovery
  FaceLift lift;          // -B g into the interior rows of the x-pencil's local lines
  // Neumann recovery: Q (2 x n) takes a line to (boundary values from its interior) - (its
  // boundary values), S (2 x 2) adds those from the data, P (n x 2) adds the result back on the
  // two boundary points.
  std::shared_ptr<const LineOp<double>> Q, S, P;
  double norm = 1.0;  // fast transforms: backward(forward) = norm * identity
};

}  // namespace

struct FastPoisson::Impl {
  layout::ProcessGridPtr grid;
  std::array<layout::AxisGrid, 3> grids;
  std::array<long, 3> n{};
  std::array<Axis, 3> ax;
  std::array<Operator1D, 3> d2;
  double shift = 0;
  FastPoissonOptions opt;
  std::unique_ptr<PencilWorkspace> ws;  // in opt.space
  std::unique_ptr<FastDiagonalization> fd;
  Boundaries bounds;
  FaceValues faces;
  bool singular = false;
  double defect = 0;
  // Neumann recovery per component count and axis: Q along the axis (into the axis' pencil),
  // P back onto the field (x-pencil), planned on first use.
  struct Recovery {
    TensorOp<double> Q, P;
  };
  std::map<int, std::array<Recovery, 3>> recovery;

  const std::array<Recovery, 3>& recovery_plans(int nc) {
    auto it = recovery.find(nc);
    if (it != recovery.end()) return it->second;
    std::array<Recovery, 3>& R = recovery[nc];
    for (int a = 0; a < 3; ++a) {
      if (!ax[a].Q) continue;
      TensorOp<double>::Options o;
      o.return_to_x = false;
      R[a].Q = TensorOp<double>(grid, n, nc, {{a, ax[a].Q, Trans::N}}, o);
      TensorOp<double>::Options p;
      p.in_axis = R[a].Q.out_axis();
      R[a].P = TensorOp<double>(grid, R[a].Q.out_shape(), nc, {{a, ax[a].P, Trans::N}}, p);
    }
    return R;
  }

  void setup_axis(int a, Scheme scheme, BoundaryKind bc) {
    Axis& A = ax[a];
    A.n = n[a];
    A.bc = bc;
    A.active = n[a] > 1;
    if (!A.active) return;
    const char* axn = a == 0 ? "x" : a == 1 ? "y" : "z";
    if ((bc == BoundaryKind::Periodic) != grids[a].periodic())
      throw Error(std::string("axis ") + axn + ": boundary kind '" + to_string(bc) + "' does not fit a grid of kind '" +
                  layout::to_string(grids[a].kind()) + "'",
                  {}, "periodic boundaries go with periodic grid axes, dirichlet/neumann with the others");
    d2[a] = derivative(grids[a], scheme, 2);
    const Eigen::MatrixXd D2 = d2[a].dense();
    const long N = n[a];
    Eigen::MatrixXd M;
    if (bc == BoundaryKind::Periodic) {
      A.lo = 0;
      A.m = N;
      M = D2;
    } else {
      if (N < 3) throw Error(std::string("axis ") + axn + ": a boundary-value problem needs at least 3 points");
      Eigen::MatrixXd D1;
      if (bc == BoundaryKind::Neumann) D1 = derivative(grids[a], scheme, 1).dense();
      A.split = split_axis(D2, bc, bc == BoundaryKind::Neumann ? &D1 : nullptr);
      A.lo = A.split.lo;
      A.m = A.split.m;
      M = A.split.M;
      Eigen::MatrixXd P = Eigen::MatrixXd::Zero(N, 2);
      P.block(A.lo, 0, A.m, 2) = -A.split.B;
      A.lift = FaceLift(P, a, layout::Pencil(n, grid, 0).box());
      if (bc == BoundaryKind::Neumann) {
        Eigen::MatrixXd Q = Eigen::MatrixXd::Zero(2, N);
        Q.block(0, A.lo, 2, A.m) = A.split.R;
        Q(0, 0) = -1;
        Q(1, N - 1) = -1;
        Eigen::MatrixXd Pb = Eigen::MatrixXd::Zero(N, 2);
        Pb(0, 0) = Pb(N - 1, 1) = 1;
        A.Q = dense_op(Q);
        A.S = dense_op(A.split.S);
        A.P = dense_op(Pb);
      }
    }
    const long m = A.m;
    const double scale = M.cwiseAbs().maxCoeff();
    const double tol = 1e-12 * scale;
    bool circulant = bc == BoundaryKind::Periodic, toeplitz3 = bc != BoundaryKind::Periodic && m >= 2;
    for (long i = 0; i < m && (circulant || toeplitz3); ++i)
      for (long j = 0; j < m; ++j) {
        if (circulant) {
          const long d = ((j - i) % m + m) % m;
          if (std::abs(M(i, j) - M(0, d)) > tol || std::abs(M(0, d) - M(0, (m - d) % m)) > tol) circulant = false;
        }
        if (toeplitz3) {
          const long d = std::abs(j - i);
          const double ref = d == 0 ? M(0, 0) : d == 1 ? M(0, 1) : 0.0;
          if (std::abs(M(i, j) - ref) > tol) toeplitz3 = false;
        }
      }
    A.lambda.resize(m);
    if (circulant) {
      A.kind = Transform::Rfft;
      A.norm = double(m);
      for (long p = 0; p < m; ++p) {
        const long k = p <= m / 2 ? p : m - p;  // FFTW's halfcomplex order
        double s = 0;
        for (long d = 0; d < m; ++d) s += M(0, d) * std::cos(2 * M_PI * double(k) * double(d) / double(m));
        A.lambda[p] = s;
      }
    } else if (toeplitz3) {
      A.kind = Transform::Dst1;
      A.norm = 2.0 * double(m + 1);
      for (long p = 0; p < m; ++p) A.lambda[p] = M(0, 0) + 2 * M(0, 1) * std::cos(M_PI * double(p + 1) / double(m + 1));
    } else {
      A.kind = Transform::Dense;
      Eigen::EigenSolver<Eigen::MatrixXd> es(M);
      if (es.info() != Eigen::Success) throw Error(std::string("axis ") + axn + ": eigendecomposition of the 1D operator failed");
      const Eigen::VectorXcd ev = es.eigenvalues();
      const double lmax = ev.cwiseAbs().maxCoeff();
      if (ev.imag().cwiseAbs().maxCoeff() > 1e-8 * lmax)
      {
        // Collocation on nodes that are not Chebyshev's is the usual cause: say which key to change.
        const bool cheb_off_nodes = scheme == Scheme::Chebyshev && grids[a].kind() != layout::AxisKind::Chebyshev;
        throw Error(std::string("axis ") + axn + ": the " + to_string(scheme) + " operator with " + to_string(bc) +
                        " boundaries has complex eigenvalues; fast diagonalization needs a real spectrum" +
                        (cheb_off_nodes ? " (chebyshev collocation on " + std::string(layout::to_string(grids[a].kind())) + " nodes)" : ""),
                    {},
                    cheb_off_nodes ? "set grid.kind = \"chebyshev\" for this axis, which gives Gauss-Lobatto nodes, or choose an fd/compact scheme"
                                   : "choose another scheme for this axis");
      }
      const Eigen::MatrixXd V = es.eigenvectors().real();
      Eigen::PartialPivLU<Eigen::MatrixXd> lu(V);
      const Eigen::MatrixXd Vi = lu.inverse();
      for (long p = 0; p < m; ++p) A.lambda[p] = ev(p).real();
      const Eigen::MatrixXd R = V * Eigen::VectorXd::Map(A.lambda.data(), m).asDiagonal() * Vi - M;
      if (!(R.cwiseAbs().maxCoeff() <= 1e-8 * scale))
        throw Error(std::string("axis ") + axn + ": the " + to_string(scheme) + " operator is not diagonalizable to working accuracy");
      A.V = V;
      A.Vi = Vi;
    }
  }

};

FastPoisson::FastPoisson(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                         std::array<Scheme, 3> schemes, std::array<BoundaryKind, 3> bc, double shift, FastPoissonOptions opt)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  core::ScopedTimer timer("fastpoisson.setup");
  m.grid = grid;
  m.grids = axes;
  m.shift = shift;
  m.opt = opt;
  for (int a = 0; a < 3; ++a) m.n[a] = axes[a].size();
  for (int a = 0; a < 3; ++a) m.setup_axis(a, schemes[a], bc[a]);
  m.bounds = Boundaries(m.n, bc);
  // Per axis the transform pair on the m unknowns (interior of bounded axes: points 1..n-2),
  // DST-I and the halfcomplex real FFT by FFTW panels, dense eigenvectors otherwise; one fast
  // diagonalization over them, eigenvalues combined by sum with -shift.
  std::array<FastDiagonalization::Axis, 3> fa;
  for (int a = 0; a < 3; ++a) {
    const Axis& A = m.ax[a];
    if (!A.active) continue;
    FastDiagonalization::Axis& F = fa[a];
    F.lo = A.lo;
    F.lambda = A.lambda;
    F.norm = A.kind == Transform::Dense ? 1.0 : A.norm;
    using TK = LineOp<double>::Transform;
    switch (A.kind) {
      case Transform::Dst1:
        F.fwd = F.bwd = std::make_shared<LineOp<double>>(LineOp<double>::transform(TK::DST1, A.m, opt.effort));
        break;
      case Transform::Rfft:
        F.fwd = std::make_shared<LineOp<double>>(LineOp<double>::transform(TK::R2HC, A.m, opt.effort));
        F.bwd = std::make_shared<LineOp<double>>(LineOp<double>::transform(TK::HC2R, A.m, opt.effort));
        break;
      case Transform::Dense:
        F.fwd = dense_op(A.Vi);
        F.bwd = dense_op(A.V);
        break;
    }
  }
  // Singular: a zero eigenvalue on every active axis and no shift (periodic/Neumann Poisson).
  m.singular = shift == 0.0;
  for (const Axis& A : m.ax) {
    if (!A.active) continue;
    double lmax = 0, lmin = 1e300;
    for (double l : A.lambda) { lmax = std::max(lmax, std::abs(l)); lmin = std::min(lmin, std::abs(l)); }
    if (!(lmin <= 1e-9 * lmax)) m.singular = false;
  }
  m.ws = std::make_unique<PencilWorkspace>(grid, layout::TransposeMethod::Alltoallv, opt.space);
  m.fd = std::make_unique<FastDiagonalization>(grid, m.n, std::move(fa), FastDiagonalization::Combine::Sum, -shift, m.singular,
                                               "Helmholtz operator for this shift");
  m.fd->use_spectral_on_host(opt.spectral_on_host);
  m.fd->reserve(m.ws->field<double>(0, m.n, 1, 0), *m.ws);
}

FastPoisson::~FastPoisson() = default;

bool FastPoisson::singular() const { return impl_->singular; }
double FastPoisson::compatibility_defect() const { return impl_->defect; }
const std::array<Operator1D, 3>& FastPoisson::operators() const { return impl_->d2; }

std::size_t FastPoisson::workspace_bytes() const { return impl_->ws->bytes(); }

std::size_t FastPoisson::operator_bytes() const {
  std::size_t b = 0;
  for (const Axis& A : impl_->ax) {
    b += A.lift.bytes();
    for (const auto* op : {A.Q.get(), A.S.get(), A.P.get()})
      if (op) b += op->bytes();
  }
  return b + impl_->fd->bytes();
}

std::string FastPoisson::describe() const {
  std::ostringstream os;
  const char* names[] = {"dst1", "rfft", "dense"};
  for (int a = 0; a < 3; ++a) {
    const Axis& A = impl_->ax[a];
    if (!A.active) continue;
    os << (os.tellp() > 0 ? ", " : "") << "xyz"[a] << ": " << to_string(A.bc) << " " << names[int(A.kind)];
  }
  return os.str();
}

void FastPoisson::solve(const layout::RealField& f, const std::vector<BoundaryData>& g, layout::RealField& u) {
  Impl& m = *impl_;
  // A singular problem's data must not reach into its null space (beyond the tolerance).
  auto check_compatible = [&m](const std::vector<double>& dropped) {
    if (!m.singular) return;
    m.defect = *std::max_element(dropped.begin(), dropped.end());
    if (m.defect > m.opt.compatibility_tol) {
      std::ostringstream os;
      os << "the data are incompatible with the singular (periodic/Neumann) problem: the source and boundary "
            "fluxes do not balance (null-space component "
         << m.defect << " of the right-hand side, tolerance " << m.opt.compatibility_tol << ")";
      throw Error(os.str(), {}, "the integral of the source must equal the net boundary flux; check source and gradient");
    }
  };
  core::ScopedTimer timer("fastpoisson.solve");
  const layout::Pencil px(m.n, m.grid, 0);
  if (f.pencil() != px || u.pencil() != px || f.has_halo() || u.has_halo())
    throw Error("FastPoisson::solve: f and u must be x-pencils of the solver's grid without halos");
  const int nc = f.components();
  if (u.components() != nc)
    throw Error("FastPoisson::solve: f has " + std::to_string(nc) + " components, u " + std::to_string(u.components()));
  if (g.empty() || (g.size() != 1 && static_cast<int>(g.size()) != nc))
    throw Error("FastPoisson::solve: " + std::to_string(g.size()) + " boundary functions for " + std::to_string(nc) +
                " components (give one for all, or one per component)");

  // Every axis periodic on the spectral path: one real FFT of f, the division, one real FFT back
  // into u, and nothing else (the dropped zero mode leaves u at zero mean already).
  bool all_periodic = true;
  for (int a = 0; a < 3; ++a) all_periodic = all_periodic && !m.bounds.bounded(a) && !m.ax[a].Q;
  if (all_periodic && m.fd->spectral_for(f) && f.space() == u.space() && &f != &u) {
    std::vector<double> dropped;
    const bool finite = m.fd->solve_spectral(f, *m.ws, u, &dropped);
    check_compatible(dropped);
    if (!finite) throw Error("the fast Poisson solve produced non-finite values", {}, "check source and boundary expressions");
    return;
  }

  // 1. Interior right-hand side r = f - B g (the lifts of the boundary data, applied to the local
  //    segments of the lines), zero on the boundary points.
  std::optional<core::ScopedTimer> phase(std::in_place, "fastpoisson.rhs");
  // Slot 0: the field the backward sweep ends in, so a solve touches two pencil fields, not three.
  layout::RealField& r = m.ws->field<double>(0, m.n, nc, 0);
  copy_any(f, r);
  for (int a = 0; a < 3; ++a) {
    if (!m.bounds.bounded(a)) continue;
    const LineView<double> L = local_lines(r, a);
    m.faces.evaluate(g, a, m.grids, r);
    m.ax[a].lift.apply(m.faces.view(L), L, true);
  }
  layout::ops::fill_faces(r, m.bounds.faces(), 0.0);

  // 2-4. Forward transforms, division by the eigenvalue sums, backward transforms.
  phase.emplace("fastpoisson.transforms");
  std::vector<double> dropped;
  layout::RealField& U = m.fd->solve(r, *m.ws, &dropped);
  check_compatible(dropped);

  phase.emplace("fastpoisson.boundary");
  // 5. Boundary values: Neumann points from the eliminated relations, u_b = S g + R u_I (axis by
  //    axis, so edges and corners use values recovered before them), then Dirichlet values,
  //    which win at shared points.
  for (int a = 0; a < 3; ++a) {
    if (!m.ax[a].Q) continue;
    const Impl::Recovery& R = m.recovery_plans(nc)[a];
    layout::RealField& V = R.Q.apply(U, *m.ws, false);
    const LineView<double> L = local_lines(V, a);
    m.faces.evaluate(g, a, m.grids, V);
    m.ax[a].S->apply(m.faces.view(L), L, Trans::N, true);
    R.P.apply(V, U, *m.ws, true);
  }
  fill_dirichlet(m.grids, {m.bounds.kind(0), m.bounds.kind(1), m.bounds.kind(2)}, g, U);
  // 6. Finiteness and, for singular problems, the zero-mean gauge of every component.
  if (!layout::ops::all_finite(U)) throw Error("the fast Poisson solve produced non-finite values", {}, "check source and boundary expressions");
  if (m.singular) {
    const std::vector<double> sum = layout::ops::sums(U);
    for (int c = 0; c < nc; ++c) layout::ops::add(-sum[static_cast<std::size_t>(c)] / double(m.n[0] * m.n[1] * m.n[2]), U, c);
  }
  copy_any(U, u);
}

}  // namespace kron::linops
