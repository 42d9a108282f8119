#include "kron/linops/diffusion.hpp"

#include <cstring>

#include "kron/core/error.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/core/timer.hpp"
#include "kron/linops/boundary.hpp"

namespace kron::linops {

VariableDiffusion::VariableDiffusion(layout::ProcessGridPtr grid, const std::array<layout::AxisGrid, 3>& axes,
                                     std::array<Scheme, 3> schemes, const layout::RealField& coefficient)
    : grid_(std::move(grid)) {
  for (int a = 0; a < 3; ++a) {
    n_[a] = axes[a].size();
    active_[a] = n_[a] > 1;
    periodic_[a] = axes[a].periodic();
    if (active_[a] && schemes[a] != Scheme::FD2) flux_ = false;
  }
  const layout::Pencil px(n_, grid_, 0);
  if (coefficient.pencil() != px || coefficient.has_halo())
    throw Error("VariableDiffusion: the coefficient must be an x-pencil field of the operator's grid without halos");
  if (flux_) {
    std::array<int, 3> halo{};
    for (int a = 0; a < 3; ++a) {
      halo[a] = active_[a] ? 1 : 0;
      if (!active_[a]) continue;
      const auto& x = axes[a].coords();
      const long n = n_[a];
      cp_[a].assign(n, 0.0);
      cm_[a].assign(n, 0.0);
      const double hmin = [&] {
        double h = 1e300;
        for (long i = 0; i + 1 < n; ++i) h = std::min(h, x[i + 1] - x[i]);
        return h;
      }();
      for (long i = 0; i < n; ++i) {
        double hp, hm;
        if (periodic_[a]) {
          hp = i + 1 < n ? x[i + 1] - x[i] : x[0] + axes[a].length() - x[i];
          hm = i > 0 ? x[i] - x[i - 1] : x[0] + axes[a].length() - x[n - 1];
        } else {
          if (i == 0 || i == n - 1) continue;
          hp = x[i + 1] - x[i];
          hm = x[i] - x[i - 1];
        }
        const double V = 0.5 * (hp + hm);
        cp_[a][i] = 1.0 / (V * hp);
        cm_[a][i] = 1.0 / (V * hm);
        if (std::abs(hp - hm) > 1e-12 * hmin) symmetric_ = false;
      }
    }
    a_ = std::make_unique<layout::RealField>(px, 1, halo);
    u_ = std::make_unique<layout::RealField>(px, 1, halo);
    exchange_ = std::make_unique<layout::HaloExchange<double>>(px, halo, periodic_);
    layout::copy_box(&coefficient(0, 0, 0), coefficient.layout().stride, &(*a_)(0, 0, 0), a_->layout().stride,
                     coefficient.extent());
    exchange_->execute(*a_);
    return;
  }
  symmetric_ = false;
  a_ = std::make_unique<layout::RealField>(px);
  std::memcpy(a_->data(), coefficient.data(), sizeof(double) * coefficient.storage_size());
  work_ = std::make_unique<PencilSet>(grid_, n_);
  t1_ = std::make_unique<PencilSet>(grid_, n_);
  t2_ = std::make_unique<PencilSet>(grid_, n_);
  for (int a = 0; a < 3; ++a) {
    if (!active_[a]) continue;
    d1_[a] = std::make_unique<LineOperator>(derivative(axes[a], schemes[a], 1));
    d2_[a] = std::make_unique<LineOperator>(derivative(axes[a], schemes[a], 2));
    const int p = work_->home(a, 0);
    work_->move_in(*a_, p);
    d1_[a]->apply(lines_of(work_->field(p), a), lines_of(t1_->field(p), a));
    t1_->move(p, 0);
    grad_a_[a] = std::make_unique<layout::RealField>(px);
    std::memcpy(grad_a_[a]->data(), t1_->field(0).data(), sizeof(double) * a_->storage_size());
  }
}

VariableDiffusion::~VariableDiffusion() = default;

std::size_t VariableDiffusion::operator_bytes() const {
  std::size_t b = 0;
  for (int a = 0; a < 3; ++a) {
    b += sizeof(double) * (cp_[a].size() + cm_[a].size());
    if (d1_[a]) b += d1_[a]->op().bytes() + d2_[a]->op().bytes();
    if (grad_a_[a]) b += sizeof(double) * grad_a_[a]->storage_size();
  }
  // The coefficient field itself is problem data of the same size as a solution, counted too.
  if (a_) b += sizeof(double) * a_->storage_size();
  return b;
}

void VariableDiffusion::apply(const layout::RealField& in, layout::RealField& out) {
  const layout::Pencil px(n_, grid_, 0);
  if (in.pencil() != px || out.pencil() != px || in.has_halo() || out.has_halo())
    throw Error("VariableDiffusion::apply: fields must be x-pencils of the operator's grid without halos");
  core::ScopedTimer timer("linops.diffusion");
  if (flux_) {
    layout::copy_box(&in(0, 0, 0), in.layout().stride, &(*u_)(0, 0, 0), u_->layout().stride, in.extent());
    exchange_->execute(*u_);
    flux_sweep(*u_, out);
    return;
  }
  const long N = static_cast<long>(out.storage_size());
  std::fill(out.data(), out.data() + N, 0.0);
  for (int a = 0; a < 3; ++a) {
    if (!active_[a]) continue;
    const int p = work_->home(a, 0);
    work_->move_in(in, p);
    d1_[a]->apply(lines_of(work_->field(p), a), lines_of(t1_->field(p), a));
    d2_[a]->apply(lines_of(work_->field(p), a), lines_of(t2_->field(p), a));
    t1_->move(p, 0);
    t2_->move(p, 0);
    const double* g1 = t1_->field(0).data();
    const double* g2 = t2_->field(0).data();
    const double* av = a_->data();
    const double* ga = grad_a_[a]->data();
    double* o = out.data();
#pragma omp simd
    for (long q = 0; q < N; ++q) o[q] += av[q] * g2[q] + ga[q] * g1[q];
  }
  // Boundary rows belong to the boundary conditions.
  std::array<bool, 3> bounded;
  for (int a = 0; a < 3; ++a) bounded[a] = active_[a] && !periodic_[a];
  layout::ops::for_each_face_point(px.box(), n_, bounded, [&](long i, long j, long k, int, int) { out(i, j, k) = 0; });
}

void VariableDiffusion::flux_sweep(const layout::RealField& u, layout::RealField& out) const {
  const auto& box = u.pencil().box();
  const auto& e = box.n;
  const auto& s = u.layout().stride;
  const layout::RealField& A = *a_;
  for (long k = 0; k < e[2]; ++k)
    for (long j = 0; j < e[1]; ++j) {
      const double* uc = &u(0, j, k);
      const double* ac = &A(0, j, k);
      double* o = &out(0, j, k);
      const double* cpx = active_[0] ? cp_[0].data() + box.lo[0] : nullptr;
      const double* cmx = active_[0] ? cm_[0].data() + box.lo[0] : nullptr;
      double cpy = 0, cmy = 0, cpz = 0, cmz = 0;
      if (active_[1]) { cpy = cp_[1][box.lo[1] + j]; cmy = cm_[1][box.lo[1] + j]; }
      if (active_[2]) { cpz = cp_[2][box.lo[2] + k]; cmz = cm_[2][box.lo[2] + k]; }
      const long sy = s[1], sz = s[2];
      // Rows on a non-periodic boundary of y or z have zero coefficients and stay zero.
      const bool row_y = !active_[1] || cpy != 0.0, row_z = !active_[2] || cpz != 0.0;
      if (cpx) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] = cpx[i] * 0.5 * (ac[i] + ac[i + 1]) * (uc[i + 1] - uc[i]) -
                 cmx[i] * 0.5 * (ac[i] + ac[i - 1]) * (uc[i] - uc[i - 1]);
      } else {
        std::fill(o, o + e[0], 0.0);
      }
      if (active_[1]) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] += cpy * 0.5 * (ac[i] + ac[i + sy]) * (uc[i + sy] - uc[i]) -
                  cmy * 0.5 * (ac[i] + ac[i - sy]) * (uc[i] - uc[i - sy]);
      }
      if (active_[2]) {
#pragma omp simd
        for (long i = 0; i < e[0]; ++i)
          o[i] += cpz * 0.5 * (ac[i] + ac[i + sz]) * (uc[i + sz] - uc[i]) -
                  cmz * 0.5 * (ac[i] + ac[i - sz]) * (uc[i] - uc[i - sz]);
      }
      if (!(row_y && row_z)) std::fill(o, o + e[0], 0.0);
      if (active_[0] && !periodic_[0]) {
        if (box.lo[0] == 0) o[0] = 0;
        if (box.lo[0] + e[0] == n_[0]) o[e[0] - 1] = 0;
      }
    }
}

}  // namespace kron::linops
