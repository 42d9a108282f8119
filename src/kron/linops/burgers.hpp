#pragma once
// Viscous Burgers on a periodic interval, batched over lines (the 1D Burgers set of issue 15).
#include <memory>

namespace kron::linops {

/// u_t + (u^2 / 2)_x = nu u_xx on [0, length) with periodic ends, `lines` independent lines of n
/// points each (contiguous, one sample a line) advanced together: pseudo-spectral in space (the
/// engine's real FFT LineOps, R2HC and HC2R, over all lines at once; the square dealiased by the
/// 2/3 rule) and ETDRK4 in time (Cox and Matthews 2002; its coefficients by Kassam and
/// Trefethen's contour integrals, 32 points, so no cancellation for small h L). Fourth order in
/// dt; the linear part is exact, so dt is limited by the nonlinear term alone (dt max|u| / dx
/// of order 1).
class PeriodicBurgers {
 public:
  /// n >= 4 and even.
  PeriodicBurgers(long n, double length, double nu, double dt);
  ~PeriodicBurgers();
  long points() const;
  double dt() const;
  /// `steps` steps of every line of u (lines x n values), in place. Throws kron::Error naming the
  /// step when a value stops being finite.
  void advance(double* u, long lines, long steps) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::linops
