#include "kron/linops/burgers.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/linops/line_op.hpp"

namespace kron::linops {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

struct PeriodicBurgers::Impl {
  long n = 0;
  double dt = 0;
  LineOp<double> r2hc, hc2r;
  // Per halfcomplex entry: -1/2 i kappa_k as a real factor on the partner entry (the other half
  // of the same mode: i kappa (a + i b) = -kappa b + i kappa a), zero where the 2/3 rule drops
  // the mode; the partner's index.
  std::vector<double> half_ik;
  std::vector<long> partner;
  // The 2/3 rule's mask and ETDRK4's multipliers as diagonal line operators (the same on every
  // line): E = e^(hL), E2 = e^(hL/2), Q, 2Q, -Q, f1, 2 f2, f3.
  LineOp<double> mask, E, E2, Q, Q2, Qm, f1, f2x2, f3;

  static LineView<const double> in(const std::vector<double>& v, long L, long n) { return {v.data(), L, n, 1, n}; }
  static LineView<double> out(std::vector<double>& v, long L, long n) { return {v.data(), L, n, 1, n}; }

  // N(v) = -1/2 i kappa FFT((IFFT v)^2), v and the result in unnormalised halfcomplex order; u is
  // scratch of the same size.
  void nonlinear(const std::vector<double>& v, std::vector<double>& res, std::vector<double>& u, long L) const {
    mask.apply(in(v, L, n), out(u, L, n));
    hc2r.apply(in(u, L, n), out(u, L, n));
    const double s = 1.0 / (double(n) * double(n));  // IFFT's 1/n, squared
    for (auto& x : u) x = x * x * s;
    r2hc.apply(in(u, L, n), out(u, L, n));
    for (long l = 0; l < L; ++l) {
      const double* w = u.data() + l * n;
      double* o = res.data() + l * n;
      for (long i = 0; i < n; ++i) o[i] = half_ik[static_cast<std::size_t>(i)] * w[partner[static_cast<std::size_t>(i)]];
    }
  }
};

PeriodicBurgers::PeriodicBurgers(long n, double length, double nu, double dt) : impl_(std::make_unique<Impl>()) {
  if (n < 4 || n % 2 != 0) throw Error("periodic Burgers: " + std::to_string(n) + " points (an even number, at least 4)");
  if (!(length > 0) || !(nu > 0) || !(dt > 0)) throw Error("periodic Burgers: length, viscosity and time step must be positive");
  Impl& m = *impl_;
  m.n = n;
  m.dt = dt;
  m.r2hc = LineOp<double>::transform(LineOp<double>::Transform::R2HC, n);
  m.hc2r = LineOp<double>::transform(LineOp<double>::Transform::HC2R, n);
  const std::size_t N = static_cast<std::size_t>(n);
  m.half_ik.assign(N, 0.0);
  m.partner.assign(N, 0);
  std::vector<double> mask(N), E(N), E2(N), Q(N), f1(N), f2(N), f3(N);
  const int M = 32;
  for (long i = 0; i < n; ++i) {
    // Halfcomplex order: r_0, r_1, ..., r_{n/2}, i_{n/2-1}, ..., i_1.
    const std::size_t I = static_cast<std::size_t>(i);
    const long k = i <= n / 2 ? i : n - i;
    const bool imag = i > n / 2;
    const double kap = 2 * kPi * double(k) / length;
    mask[I] = 3 * k < n ? 1.0 : 0.0;  // the 2/3 rule (Nyquist dropped too)
    m.partner[I] = (k == 0 || 2 * k == n) ? i : n - i;
    // The real part takes -kappa times the imaginary one, the imaginary part +kappa times the real.
    m.half_ik[I] = (k == 0 || 2 * k == n) ? 0.0 : -0.5 * (imag ? kap : -kap) * mask[I];
    const double hL = -dt * nu * kap * kap;
    E[I] = std::exp(hL);
    E2[I] = std::exp(hL / 2);
    std::complex<double> q = 0, a = 0, b = 0, c = 0;
    for (int j = 1; j <= M; ++j) {
      const std::complex<double> r = std::polar(1.0, kPi * (double(j) - 0.5) / M), z = hL + r, ez = std::exp(z), z3 = z * z * z;
      q += (std::exp(z / 2.0) - 1.0) / z;
      a += (-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3;
      b += (2.0 + z + ez * (-2.0 + z)) / z3;
      c += (-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3;
    }
    Q[I] = dt * (q / double(M)).real();
    f1[I] = dt * (a / double(M)).real();
    f2[I] = dt * (b / double(M)).real();
    f3[I] = dt * (c / double(M)).real();
  }
  auto scaled = [](std::vector<double> d, double f) {
    for (auto& x : d) x *= f;
    return d;
  };
  using Op = LineOp<double>;
  m.mask = Op::diagonal(n, mask);
  m.E = Op::diagonal(n, E);
  m.E2 = Op::diagonal(n, E2);
  m.Q = Op::diagonal(n, Q);
  m.Q2 = Op::diagonal(n, scaled(Q, 2.0));
  m.Qm = Op::diagonal(n, scaled(Q, -1.0));
  m.f1 = Op::diagonal(n, f1);
  m.f2x2 = Op::diagonal(n, scaled(f2, 2.0));
  m.f3 = Op::diagonal(n, f3);
}

PeriodicBurgers::~PeriodicBurgers() = default;
long PeriodicBurgers::points() const { return impl_->n; }
double PeriodicBurgers::dt() const { return impl_->dt; }

void PeriodicBurgers::advance(double* u, long lines, long steps) const {
  const Impl& m = *impl_;
  const long n = m.n, L = lines;
  const std::size_t T = static_cast<std::size_t>(n * L);
  std::vector<double> v(T), w(T), a(T), b(T), c(T), Nv(T), Na(T), Nb(T), Nc(T), work(T);
  auto in = [&](const std::vector<double>& x) { return Impl::in(x, L, n); };
  auto out = [&](std::vector<double>& x) { return Impl::out(x, L, n); };
  m.r2hc.apply(LineView<const double>{u, L, n, 1, n}, out(v));
  for (long s = 0; s < steps; ++s) {
    // Cox-Matthews ETDRK4, every product a diagonal line operator over all lines.
    m.nonlinear(v, Nv, work, L);
    m.E2.apply(in(v), out(a));
    m.Q.apply(in(Nv), out(a), Trans::N, true);  // a = E2 v + Q N(v)
    m.nonlinear(a, Na, work, L);
    m.E2.apply(in(v), out(b));
    m.Q.apply(in(Na), out(b), Trans::N, true);  // b = E2 v + Q N(a)
    m.nonlinear(b, Nb, work, L);
    m.E2.apply(in(a), out(c));
    m.Q2.apply(in(Nb), out(c), Trans::N, true);
    m.Qm.apply(in(Nv), out(c), Trans::N, true);  // c = E2 a + Q (2 N(b) - N(v))
    m.nonlinear(c, Nc, work, L);
    m.E.apply(in(v), out(w));
    m.f1.apply(in(Nv), out(w), Trans::N, true);
    m.f2x2.apply(in(Na), out(w), Trans::N, true);
    m.f2x2.apply(in(Nb), out(w), Trans::N, true);
    m.f3.apply(in(Nc), out(w), Trans::N, true);  // v' = E v + f1 N(v) + 2 f2 (N(a) + N(b)) + f3 N(c)
    std::swap(v, w);
    double total = 0;  // a sum: NaN and Inf survive it (a max would drop NaN)
    for (double x : v) total += std::abs(x);
    if (!std::isfinite(total))
      throw Error("periodic Burgers: the solution stopped being finite at step " + std::to_string(s + 1) + " of " + std::to_string(steps), {},
                  "lower the time step: dt max|u| / dx must stay of order 1");
  }
  m.hc2r.apply(in(v), LineView<double>{u, L, n, 1, n});
  const double inv = 1.0 / double(n);
  for (std::size_t i = 0; i < T; ++i) u[i] *= inv;
}

}  // namespace kron::linops
