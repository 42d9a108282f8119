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
#include "kron/linops/line_kernels.hpp"

namespace kron::linops {

const char* to_string(BoundaryKind b) {
  switch (b) {
    case BoundaryKind::Periodic: return "periodic";
    case BoundaryKind::Dirichlet: return "dirichlet";
    case BoundaryKind::Neumann: return "neumann";
  }
  return "?";
}

namespace {

enum class Transform { Dst1, Rfft, Dense };


struct Axis {
  bool active = false;
  long n = 1, lo = 0, m = 1;
  BoundaryKind bc = BoundaryKind::Periodic;
  Transform kind = Transform::Dense;
  std::vector<double> lambda;
  Eigen::MatrixXd V, Vi;                   // dense: eigenvectors and their inverse on the m unknowns
  Eigen::VectorXd w_lo, w_hi;              // interior right-hand side per unit boundary datum
  Eigen::Matrix2d S;                       // Neumann: boundary values from boundary derivatives
  Eigen::MatrixXd d1_bi;                   // Neumann: first-derivative rows 0, n-1 on the unknowns
  double norm = 1.0;                       // fast transforms: backward(forward) = norm * identity
};

std::shared_ptr<const LineOp<double>> dense_op(const Eigen::MatrixXd& M) {
  std::vector<double> a(static_cast<std::size_t>(M.size()));
  for (long i = 0; i < M.rows(); ++i)
    for (long j = 0; j < M.cols(); ++j) a[static_cast<std::size_t>(i * M.cols() + j)] = M(i, j);
  return std::make_shared<LineOp<double>>(LineOp<double>::dense(M.rows(), M.cols(), std::move(a)));
}

}  // namespace

struct FastPoisson::Impl {
  layout::ProcessGridPtr grid;
  std::array<layout::AxisGrid, 3> grids;
  std::array<long, 3> n{};
  std::array<Axis, 3> ax;
  std::array<Operator1D, 3> d2;
  double shift = 0;
  FastPoissonOptions opt;
  std::unique_ptr<PencilWorkspace> ws;
  std::unique_ptr<FastDiagonalization> fd;
  bool singular = false;
  double defect = 0;

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
      A.lo = 1;
      A.m = N - 2;
      const long m = A.m;
      const Eigen::MatrixXd D2ii = D2.block(1, 1, m, m);
      Eigen::MatrixXd D2ib(m, 2);
      D2ib.col(0) = D2.block(1, 0, m, 1);
      D2ib.col(1) = D2.block(1, N - 1, m, 1);
      if (bc == BoundaryKind::Dirichlet) {
        M = D2ii;
        A.w_lo = D2ib.col(0);
        A.w_hi = D2ib.col(1);
      } else {
        const Eigen::MatrixXd D1 = derivative(grids[a], scheme, 1).dense();
        Eigen::Matrix2d Bm;
        Bm << D1(0, 0), D1(0, N - 1), D1(N - 1, 0), D1(N - 1, N - 1);
        A.S = Bm.inverse();
        A.d1_bi.resize(2, m);
        A.d1_bi.row(0) = D1.block(0, 1, 1, m);
        A.d1_bi.row(1) = D1.block(N - 1, 1, 1, m);
        const Eigen::MatrixXd W = D2ib * A.S;
        M = D2ii - W * A.d1_bi;
        A.w_lo = W.col(0);
        A.w_hi = W.col(1);
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
        throw Error(std::string("axis ") + axn + ": the " + to_string(scheme) + " operator with " + to_string(bc) +
                        " boundaries has complex eigenvalues; fast diagonalization needs a real spectrum",
                    {}, "choose another scheme for this axis");
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

  // Boundary data over the face `side` of axis `a` for the local box of field `f`, listed in the
  // field's storage order with axis a left out (so line q of lines_of(f, a) reads value q).
  std::vector<double> face(const BoundaryData& g, int a, int side, const layout::RealField& f) const {
    const auto& b = f.pencil().box();
    int others[2], c = 0;
    for (int ax2 : f.pencil().order()) if (ax2 != a) others[c++] = ax2;
    const long n0 = b.n[others[0]], n1 = b.n[others[1]];
    std::vector<double> v(static_cast<std::size_t>(n0 * n1));
    for (long q1 = 0; q1 < n1; ++q1)
      for (long q0 = 0; q0 < n0; ++q0) {
        std::array<long, 3> gi{};
        gi[a] = side ? n[a] - 1 : 0;
        gi[others[0]] = b.lo[others[0]] + q0;
        gi[others[1]] = b.lo[others[1]] + q1;
        v[q1 * n0 + q0] = g(a, side, {grids[0][gi[0]], grids[1][gi[1]], grids[2][gi[2]]});
      }
    return v;
  }
};

void fill_dirichlet(const std::array<layout::AxisGrid, 3>& axes, const std::array<BoundaryKind, 3>& bc, const BoundaryData& g,
                    layout::RealField& u) {
  const auto& b = u.pencil().box();
  std::array<bool, 3> dirichlet;
  for (int a = 0; a < 3; ++a) dirichlet[a] = bc[a] == BoundaryKind::Dirichlet;
  for_each_face_point(b, {axes[0].size(), axes[1].size(), axes[2].size()}, dirichlet, [&](long i, long j, long k, int a, int side) {
    u(i, j, k) = g(a, side, {axes[0][b.lo[0] + i], axes[1][b.lo[1] + j], axes[2][b.lo[2] + k]});
  });
}

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
  m.ws = std::make_unique<PencilWorkspace>(grid);
  m.fd = std::make_unique<FastDiagonalization>(grid, m.n, std::move(fa), FastDiagonalization::Combine::Sum, -shift, m.singular,
                                               "Helmholtz operator for this shift");
  m.fd->reserve(m.ws->field<double>(0, m.n, 1, 0), *m.ws);
}

FastPoisson::~FastPoisson() = default;

bool FastPoisson::singular() const { return impl_->singular; }
double FastPoisson::compatibility_defect() const { return impl_->defect; }
const std::array<Operator1D, 3>& FastPoisson::operators() const { return impl_->d2; }

std::size_t FastPoisson::operator_bytes() const {
  std::size_t b = 0;
  for (const Axis& A : impl_->ax) b += sizeof(double) * (A.w_lo.size() + A.w_hi.size() + A.d1_bi.size());
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

void FastPoisson::solve(const layout::RealField& f, const BoundaryData& g, layout::RealField& u) {
  Impl& m = *impl_;
  core::ScopedTimer timer("fastpoisson.solve");
  const layout::Pencil px(m.n, m.grid, 0);
  if (f.pencil() != px || u.pencil() != px || f.has_halo() || u.has_halo())
    throw Error("FastPoisson::solve: f and u must be x-pencils of the solver's grid without halos");
  MPI_Comm comm = m.grid->comm();

  // 1. Interior right-hand side with the boundary data moved over.
  std::optional<core::ScopedTimer> phase(std::in_place, "fastpoisson.rhs");
  // Slot 0: the field the backward sweep ends in, so a solve touches two pencil fields, not three.
  layout::RealField& r = m.ws->field<double>(0, m.n, 1, 0);
  const auto& b = px.box();
  const auto& e = b.n;
  auto interior = [&](int a, long gidx) { return !m.ax[a].active || (gidx >= m.ax[a].lo && gidx < m.ax[a].lo + m.ax[a].m); };
  std::array<std::array<std::vector<double>, 2>, 3> faces;
  for (int a = 0; a < 3; ++a)
    if (m.ax[a].active && m.ax[a].bc != BoundaryKind::Periodic)
      for (int s = 0; s < 2; ++s) faces[a][s] = m.face(g, a, s, r);
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j)
      for (long i = 0; i < e[0]; ++i) {
        const std::array<long, 3> gi{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k}, li{i, j, k};
        if (!(interior(0, gi[0]) && interior(1, gi[1]) && interior(2, gi[2]))) {
          r(i, j, k) = 0;
          continue;
        }
        double v = f(i, j, k);
        for (int a = 0; a < 3; ++a) {
          const Axis& A = m.ax[a];
          if (!A.active || A.bc == BoundaryKind::Periodic) continue;
          std::array<long, 3> fe = e, fl = li;
          fe[a] = 1;
          fl[a] = 0;
          const long fi = (fl[2] * fe[1] + fl[1]) * fe[0] + fl[0];
          v -= A.w_lo[gi[a] - 1] * faces[a][0][fi] + A.w_hi[gi[a] - 1] * faces[a][1][fi];
        }
        r(i, j, k) = v;
      }

  // 2-4. Forward transforms, division by the eigenvalue sums, backward transforms.
  phase.emplace("fastpoisson.transforms");
  double defect = 0;
  layout::RealField& U = m.fd->solve(r, *m.ws, &defect);
  if (m.singular) {
    m.defect = defect;
    if (m.defect > m.opt.compatibility_tol) {
      std::ostringstream os;
      os << "the data are incompatible with the singular (periodic/Neumann) problem: the source and boundary "
            "fluxes do not balance (null-space component "
         << m.defect << " of the right-hand side, tolerance " << m.opt.compatibility_tol << ")";
      throw Error(os.str(), {}, "the integral of the source must equal the net boundary flux; check source and gradient");
    }
  }

  phase.emplace("fastpoisson.boundary");
  // 5. Boundary values: Neumann rows from the eliminated relations (axis by axis, so edges and
  //    corners use values recovered before them), then Dirichlet values, which win at shared points.
  for (int a = 0; a < 3; ++a) {
    const Axis& A = m.ax[a];
    if (!A.active || A.bc != BoundaryKind::Neumann) continue;
    const int p = px.splits(a) == 1 ? 0 : a;
    layout::RealField& F = p == 0 ? U : m.ws->field<double>(p, m.n, 1, 11);
    if (p != 0) m.ws->transpose(U, F);
    const auto g0 = m.face(g, a, 0, F), g1 = m.face(g, a, 1, F);
    const Lines L = lines_of(F, a);
    for (long o = 0; o < L.outer; ++o)
      for (long jn = 0; jn < L.inner; ++jn) {
        double* line = L.p + o * L.ostride + jn;
        double r0 = 0, r1 = 0;
        for (long q = 0; q < A.m; ++q) {
          r0 += A.d1_bi(0, q) * line[(q + 1) * L.inner];
          r1 += A.d1_bi(1, q) * line[(q + 1) * L.inner];
        }
        const long fi = o * L.inner + jn;
        const double d0 = g0[fi] - r0, d1 = g1[fi] - r1;
        line[0] = A.S(0, 0) * d0 + A.S(0, 1) * d1;
        line[(A.n - 1) * L.inner] = A.S(1, 0) * d0 + A.S(1, 1) * d1;
      }
    if (p != 0) m.ws->transpose(F, U);
  }
  std::array<BoundaryKind, 3> bc;
  for (int a = 0; a < 3; ++a) bc[a] = m.ax[a].active ? m.ax[a].bc : BoundaryKind::Periodic;
  fill_dirichlet(m.grids, bc, g, U);
  // 6. Gauge and finiteness.
  double sum = 0;
  bool finite = true;
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j)
      for (long i = 0; i < e[0]; ++i) {
        sum += U(i, j, k);
        finite = finite && std::isfinite(U(i, j, k));
      }
  if (!core::mpi::all(finite, comm)) throw Error("the fast Poisson solve produced non-finite values", {}, "check source and boundary expressions");
  const double mean = m.singular ? core::mpi::sum(sum, comm) / double(m.n[0] * m.n[1] * m.n[2]) : 0.0;
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j)
      for (long i = 0; i < e[0]; ++i) u(i, j, k) = U(i, j, k) - mean;
}

}  // namespace kron::linops
