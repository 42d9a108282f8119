#include "kron/layout/evaluate.hpp"

#include <cmath>
#include <cstdio>

#include "kron/core/mpi.hpp"

namespace kron::layout {

void evaluate(const core::Expression& expr, const Domain& d, double t, RealField& f, int c) {
  require_host(f, "evaluate");
  const Box& b = f.pencil().box();
  for (int a = 0; a < 3; ++a)
    if (f.pencil().global()[a] != d.axes[a].size()) throw Error("evaluate: field and domain shapes differ");
  const auto& x = d.axes[0].coords();
  const auto& y = d.axes[1].coords();
  const auto& z = d.axes[2].coords();
  bool ok = true;
  std::array<double, 3> bad{};
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const double xv = x[b.lo[0] + i], yv = y[b.lo[1] + j], zv = z[b.lo[2] + k];
        const double v = expr(xv, yv, zv, t);
        if (!std::isfinite(v) && ok) {
          ok = false;
          bad = {xv, yv, zv};
        }
        f(i, j, k, c) = v;
      }
  if (!core::mpi::all(ok, f.pencil().grid().comm())) {
    char buf[160];
    if (!ok) std::snprintf(buf, sizeof buf, " (first at x=%g, y=%g, z=%g)", bad[0], bad[1], bad[2]);
    else buf[0] = '\0';
    const core::Where& w = expr.where();
    throw Error((w.key.empty() ? std::string() : w.key + ": ") + "expression \"" + expr.text() + "\" is not finite at some grid points" +
                    std::string(buf),
                w,
                "check for division by zero, log of non-positive values or overflow");
  }
}

}  // namespace kron::layout
