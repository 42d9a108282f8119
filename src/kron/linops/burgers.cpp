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
  // Per halfcomplex entry: the wavenumber kappa_k (signed: + on the real parts, - on the
  // imaginary ones, so that i kappa maps (re, im) -> (-kappa im, kappa re) by index), the 2/3
  // rule's mask, and the ETDRK4 multipliers of that mode.
  std::vector<double> kappa, mask, E, E2, Q, f1, f2, f3;
  // hc index of the partner (the other half of the same mode; itself for the mean and Nyquist).
  std::vector<long> partner;

  // N(v) = -1/2 i kappa FFT((IFFT v)^2), v and the result in unnormalised halfcomplex order.
  void nonlinear(const std::vector<double>& v, std::vector<double>& out, std::vector<double>& u, long lines) const {
    const long L = lines;
    for (std::size_t i = 0; i < v.size(); ++i) u[i] = v[i] * mask[i % static_cast<std::size_t>(n)];
    LineView<double> lu{u.data(), L, n, 1, n};
    hc2r.apply(LineView<const double>{u.data(), L, n, 1, n}, lu);
    const double s = 1.0 / (double(n) * double(n));  // IFFT's 1/n, squared
    for (auto& x : u) x = x * x * s;
    r2hc.apply(LineView<const double>{u.data(), L, n, 1, n}, LineView<double>{out.data(), L, n, 1, n});
    std::vector<double> tmp(static_cast<std::size_t>(n));
    for (long l = 0; l < L; ++l) {
      double* o = out.data() + l * n;
      std::copy(o, o + n, tmp.begin());
      for (long i = 0; i < n; ++i) {
        // i kappa (re + i im) = -kappa im + i kappa re; the partner holds the other part.
        const long p = partner[static_cast<std::size_t>(i)];
        o[i] = (p == i) ? 0.0 : -0.5 * kappa[static_cast<std::size_t>(i)] * tmp[static_cast<std::size_t>(p)] * mask[static_cast<std::size_t>(i)];
      }
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
  m.kappa.assign(N, 0.0);
  m.mask.assign(N, 0.0);
  m.partner.assign(N, 0);
  for (auto* v : {&m.E, &m.E2, &m.Q, &m.f1, &m.f2, &m.f3}) v->assign(N, 0.0);
  const int M = 32;
  for (long i = 0; i < n; ++i) {
    // Halfcomplex order: r_0, r_1, ..., r_{n/2}, i_{n/2-1}, ..., i_1.
    const long k = i <= n / 2 ? i : n - i;
    const bool imag = i > n / 2;
    const double kap = 2 * kPi * double(k) / length;
    m.partner[static_cast<std::size_t>(i)] = (k == 0 || 2 * k == n) ? i : n - i;
    // i kappa (a + i b) = -kappa b + i kappa a: the real part takes -kappa times the imaginary one.
    m.kappa[static_cast<std::size_t>(i)] = imag ? kap : -kap;
    m.mask[static_cast<std::size_t>(i)] = 3 * k < n ? 1.0 : 0.0;  // the 2/3 rule (Nyquist dropped too)
    const double Lk = -nu * kap * kap, hL = dt * Lk;
    m.E[static_cast<std::size_t>(i)] = std::exp(hL);
    m.E2[static_cast<std::size_t>(i)] = std::exp(hL / 2);
    std::complex<double> q = 0, a = 0, b = 0, c = 0;
    for (int j = 1; j <= M; ++j) {
      const std::complex<double> r = std::polar(1.0, kPi * (double(j) - 0.5) / M), z = hL + r, ez = std::exp(z), z3 = z * z * z;
      q += (std::exp(z / 2.0) - 1.0) / z;
      a += (-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3;
      b += (2.0 + z + ez * (-2.0 + z)) / z3;
      c += (-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3;
    }
    m.Q[static_cast<std::size_t>(i)] = dt * (q / double(M)).real();
    m.f1[static_cast<std::size_t>(i)] = dt * (a / double(M)).real();
    m.f2[static_cast<std::size_t>(i)] = dt * (b / double(M)).real();
    m.f3[static_cast<std::size_t>(i)] = dt * (c / double(M)).real();
  }
}

PeriodicBurgers::~PeriodicBurgers() = default;
long PeriodicBurgers::points() const { return impl_->n; }
double PeriodicBurgers::dt() const { return impl_->dt; }

void PeriodicBurgers::advance(double* u, long lines, long steps) const {
  const Impl& m = *impl_;
  const long n = m.n;
  const std::size_t T = static_cast<std::size_t>(n * lines);
  std::vector<double> v(T), a(T), b(T), c(T), Nv(T), Na(T), Nb(T), Nc(T), work(T);
  m.r2hc.apply(LineView<const double>{u, lines, n, 1, n}, LineView<double>{v.data(), lines, n, 1, n});
  auto at = [n](std::size_t i) { return i % static_cast<std::size_t>(n); };
  for (long s = 0; s < steps; ++s) {
    m.nonlinear(v, Nv, work, lines);
    for (std::size_t i = 0; i < T; ++i) a[i] = m.E2[at(i)] * v[i] + m.Q[at(i)] * Nv[i];
    m.nonlinear(a, Na, work, lines);
    for (std::size_t i = 0; i < T; ++i) b[i] = m.E2[at(i)] * v[i] + m.Q[at(i)] * Na[i];
    m.nonlinear(b, Nb, work, lines);
    for (std::size_t i = 0; i < T; ++i) c[i] = m.E2[at(i)] * a[i] + m.Q[at(i)] * (2 * Nb[i] - Nv[i]);
    m.nonlinear(c, Nc, work, lines);
    double total = 0;  // a sum: NaN and Inf survive it (a max would drop NaN)
    for (std::size_t i = 0; i < T; ++i) {
      const std::size_t k = at(i);
      v[i] = m.E[k] * v[i] + m.f1[k] * Nv[i] + 2 * m.f2[k] * (Na[i] + Nb[i]) + m.f3[k] * Nc[i];
      total += std::abs(v[i]);
    }
    if (!std::isfinite(total))
      throw Error("periodic Burgers: the solution stopped being finite at step " + std::to_string(s + 1) + " of " + std::to_string(steps), {},
                  "lower the time step: dt max|u| / dx must stay of order 1");
  }
  m.hc2r.apply(LineView<const double>{v.data(), lines, n, 1, n}, LineView<double>{u, lines, n, 1, n});
  const double inv = 1.0 / double(n);
  for (std::size_t i = 0; i < T; ++i) u[i] *= inv;
}

}  // namespace kron::linops
