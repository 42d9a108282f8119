#include "kron/linops/boundary.hpp"

#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"

#include <cmath>

#include "kron/core/error.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {

const char* to_string(BoundaryKind b) {
  switch (b) {
    case BoundaryKind::Periodic: return "periodic";
    case BoundaryKind::Dirichlet: return "dirichlet";
    case BoundaryKind::Neumann: return "neumann";
  }
  return "?";
}

Boundaries::Boundaries(std::array<long, 3> n, std::array<BoundaryKind, 3> kind) : n_(n), kind_(kind) {}

std::array<bool, 3> Boundaries::faces(BoundaryKind k) const {
  std::array<bool, 3> f{};
  for (int a = 0; a < 3; ++a) f[a] = bounded(a) && kind_[a] == k;
  return f;
}

std::array<bool, 3> Boundaries::faces() const {
  std::array<bool, 3> f{};
  for (int a = 0; a < 3; ++a) f[a] = bounded(a);
  return f;
}

bool Boundaries::on_boundary(const std::array<long, 3>& g) const {
  for (int a = 0; a < 3; ++a)
    if (bounded(a) && (g[a] == 0 || g[a] == n_[a] - 1)) return true;
  return false;
}

void fill_dirichlet(const std::array<layout::AxisGrid, 3>& axes, const std::array<BoundaryKind, 3>& bc,
                    const std::vector<BoundaryData>& g, layout::RealField& u) {
  if (g.empty() || (g.size() != 1 && static_cast<int>(g.size()) != u.components()))
    throw Error("boundary data: " + std::to_string(g.size()) + " functions for a field of " + std::to_string(u.components()) +
                " components");
  const auto& b = u.pencil().box();
  std::array<bool, 3> dirichlet;
  for (int a = 0; a < 3; ++a) dirichlet[a] = bc[a] == BoundaryKind::Dirichlet;
  if (u.on_device()) {
    // Face by face: the values evaluated on the host, then written into the device field's
    // face plane (the same order as below, so shared edge points get the same value).
    const std::array<long, 3> n{axes[0].size(), axes[1].size(), axes[2].size()};
    std::vector<double> plane;
    core::DeviceBuffer<double> dplane;
    for (int c = 0; c < u.components(); ++c) {
      const BoundaryData& gc = g[g.size() == 1 ? 0 : static_cast<std::size_t>(c)];
      layout::ops::for_each_face_plane(b, n, dirichlet, [&](int a, int side, long layer, const std::array<long, 3>& ext) {
        plane.resize(static_cast<std::size_t>(ext[0] * ext[1] * ext[2]));
        for (long k = 0; k < ext[2]; ++k)
          for (long j = 0; j < ext[1]; ++j)
            for (long i = 0; i < ext[0]; ++i) {
              std::array<long, 3> q{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
              q[a] = b.lo[a] + layer;
              plane[static_cast<std::size_t>((k * ext[1] + j) * ext[0] + i)] = gc(a, side, {axes[0][q[0]], axes[1][q[1]], axes[2][q[2]]});
            }
        if (dplane.size() < plane.size()) dplane = core::DeviceBuffer<double>(plane.size());
        core::copy_to_device(dplane.data(), plane.data(), plane.size() * sizeof(double));
        layout::copy_box_device(dplane.data(), layout::dense_strides(ext), u.origin(c) + layer * u.layout().stride[a], u.layout().stride, ext);
      });
    }
    core::stream_synchronize();  // dplane is released here
    return;
  }
  for (int c = 0; c < u.components(); ++c) {
    const BoundaryData& gc = g[g.size() == 1 ? 0 : static_cast<std::size_t>(c)];
    layout::ops::for_each_face_point(b, {axes[0].size(), axes[1].size(), axes[2].size()}, dirichlet,
                                     [&](long i, long j, long k, int a, int side) {
                                       u(i, j, k, c) = gc(a, side, {axes[0][b.lo[0] + i], axes[1][b.lo[1] + j], axes[2][b.lo[2] + k]});
                                     });
  }
}

AxisSplit split_axis(const Eigen::MatrixXd& A, BoundaryKind kind, const Eigen::MatrixXd* D1) {
  const long N = A.rows();
  if (kind == BoundaryKind::Periodic) throw Error("internal: split_axis of a periodic axis");
  if (N < 3) throw Error("a boundary-value problem needs at least 3 points along each bounded axis");
  AxisSplit s;
  s.lo = 1;
  s.m = N - 2;
  const long m = s.m;
  Eigen::MatrixXd Aib(m, 2);
  Aib.col(0) = A.block(1, 0, m, 1);
  Aib.col(1) = A.block(1, N - 1, m, 1);
  s.M = A.block(1, 1, m, m);
  if (kind == BoundaryKind::Dirichlet) {
    s.S = Eigen::Matrix2d::Identity();
    s.R = Eigen::MatrixXd::Zero(2, m);
    s.B = Aib;
    return s;
  }
  if (!D1 || D1->rows() != N) throw Error("internal: a Neumann split needs the first-derivative matrix");
  // Boundary values from the boundary rows of D1:  D1_bb u_b + D1_bi u_I = g.
  Eigen::Matrix2d Dbb;
  Dbb << (*D1)(0, 0), (*D1)(0, N - 1), (*D1)(N - 1, 0), (*D1)(N - 1, N - 1);
  s.S = Dbb.inverse();
  Eigen::MatrixXd Dbi(2, m);
  Dbi.row(0) = D1->block(0, 1, 1, m);
  Dbi.row(1) = D1->block(N - 1, 1, 1, m);
  s.R = -s.S * Dbi;
  s.M += Aib * s.R;
  s.B = Aib * s.S;
  return s;
}

LineView<const double> FaceValues::view(const LineView<double>& lines) const {
  if (!lines.on_device()) return {values_.data(), lines.outer, 2, lines.inner, 2 * lines.inner};
  if (device_values_.size() < values_.size()) device_values_ = core::DeviceBuffer<double>(values_.size());
  if (!values_.empty()) core::copy_to_device(device_values_.data(), values_.data(), values_.size() * sizeof(double));
  return {device_values_.data(), lines.outer, 2, lines.inner, 2 * lines.inner, core::MemorySpace::Device};
}

bool FaceValues::all_finite() const {
  for (double v : values_)
    if (!std::isfinite(v)) return false;
  return true;
}

void FaceValues::evaluate(const std::vector<BoundaryData>& g, int axis, const std::array<layout::AxisGrid, 3>& grids,
                          const layout::RealField& f) {
  const int nc = f.components();
  if (g.empty() || (g.size() != 1 && static_cast<int>(g.size()) != nc))
    throw Error("boundary data: " + std::to_string(g.size()) + " functions for a field of " + std::to_string(nc) + " components");
  const auto& b = f.pencil().box();
  const auto& L = f.layout();
  const long inner = L.stride[axis], ostride = inner * b.n[axis];
  values_.assign(static_cast<std::size_t>(b.n[axis] > 0 ? 2 * (static_cast<long>(f.storage_size()) / b.n[axis]) : 0), 0.0);
  if (b.empty()) return;
  const long N = grids[axis].size();
  std::array<long, 3> hi = b.n;
  hi[axis] = 1;
  for (int c = 0; c < nc; ++c) {
    const BoundaryData& gc = g[g.size() == 1 ? 0 : static_cast<std::size_t>(c)];
    for (long k = 0; k < hi[2]; ++k)
      for (long j = 0; j < hi[1]; ++j)
        for (long i = 0; i < hi[0]; ++i) {
          const long off = c * L.cstride + i * L.stride[0] + j * L.stride[1] + k * L.stride[2];
          const long o = off / ostride, jn = off % inner;
          std::array<long, 3> gi{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
          for (int side = 0; side < 2; ++side) {
            gi[axis] = side ? N - 1 : 0;
            values_[static_cast<std::size_t>(o * 2 * inner + side * inner + jn)] =
                gc(axis, side, {grids[0][gi[0]], grids[1][gi[1]], grids[2][gi[2]]});
          }
        }
  }
}

FaceLift::FaceLift(const Eigen::MatrixXd& P, int axis, const layout::Box& box) {
  if (P.cols() != 2) throw Error("internal: a face lift has two columns");
  const long lo = box.lo[axis], hi = box.lo[axis] + box.n[axis];
  long r = std::max(lo, 0L);
  const long end = std::min(hi, static_cast<long>(P.rows()));
  while (r < end) {
    if (P.row(r).cwiseAbs().maxCoeff() == 0.0) {
      ++r;
      continue;
    }
    long e = r;
    while (e < end && P.row(e).cwiseAbs().maxCoeff() != 0.0) ++e;
    std::vector<double> a(static_cast<std::size_t>(2 * (e - r)));
    for (long q = r; q < e; ++q) {
      a[static_cast<std::size_t>(2 * (q - r))] = P(q, 0);
      a[static_cast<std::size_t>(2 * (q - r) + 1)] = P(q, 1);
    }
    runs_.push_back({r - lo, std::make_shared<LineOp<double>>(LineOp<double>::dense(e - r, 2, std::move(a)))});
    r = e;
  }
}

void FaceLift::apply(const LineView<const double>& faces, const LineView<double>& out, bool accumulate) const {
  for (const Run& run : runs_) run.op->apply(faces, out.range(run.lo, run.op->rows()), Trans::N, accumulate);
}

std::size_t FaceLift::bytes() const {
  std::size_t b = 0;
  for (const Run& r : runs_) b += r.op->bytes();
  return b;
}

}  // namespace kron::linops
