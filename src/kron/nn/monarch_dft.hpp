#pragma once
// The Monarch neural operator's transforms (Dao et al. 2022, issue 15): learnable Monarch matrices
// that start as the exact truncated DFT and its inverse, in place of an FNO's Fourier transforms.
//
// n = m^2 points. Cooley-Tukey with n = m x m: X[k1 + m k2] = sum_n2 w_m^(n2 k2) w^(n2 k1)
// sum_n1 x[m n1 + n2] w_m^(n1 k1) (w = e^(-2 pi i / n), w_m = e^(-2 pi i / m)) is kron's Monarch
// product (MonarchMap, m blocks) applied to the m x m transposed input x'[k m + j] = x[j m + k]:
// R_k[l, j] = w^(k l) w_m^(j l), L_l[s, k] = w_m^(k s), and its output comes in natural order.
// Around the Monarch product sit two fixed index maps (ops::gather): in front, the transposition
// (with the real-to-complex embedding, or the zero-filled spectrum of the kept modes for the
// inverses); behind, the kept modes (forward) or the real part (the real inverse). Only the
// Monarch factors learn; the gathers are exact and cost a copy each.
//
// The four kinds, as an FNO uses them (the dense equivalents are fno.hpp's rdft_rows & co):
//   RealForward  real lines of n points -> modes 0 .. k-1, complex (rdft_rows)
//   RealInverse  those k modes -> n real points (torch's irfft: the other modes zero, mode 0 and
//                the Nyquist mode once, the others twice; irdft_cols)
//   Forward      complex lines of n points -> modes 0 .. k-1 and n-k .. n-1 (dft_rows)
//   Inverse      those 2k modes -> n complex points (idft_cols)
// Lines hold `points` interleaved values per row (row r's point p at r points + p; complex
// values as re, im pairs of doubles), so the same transform runs along an FNO's x lines
// (points = 1) and along its y axis (points = the x modes).
#include <complex>
#include <vector>

#include "kron/nn/array.hpp"
#include "kron/nn/structured.hpp"

namespace kron::nn {

class MonarchDft {
 public:
  enum class Kind { RealForward, RealInverse, Forward, Inverse };
  /// n a square number (an error naming n otherwise), modes k within the transform's limit
  /// (k <= n / 2 for the real kinds, 2 k <= n for the complex ones). The factors start at the DFT.
  MonarchDft(Kind kind, long n, long modes, Rng& rng);
  Kind kind() const { return kind_; }
  long n() const { return n_; }
  long modes() const { return k_; }
  /// Doubles per row on each side (1 real, 2 complex) and rows per line.
  long in_rows() const;
  long out_rows() const;
  bool real_in() const { return kind_ == Kind::RealForward; }
  bool real_out() const { return kind_ == Kind::RealInverse; }
  /// y = T x for `lines` lines of in_rows() x points values (doubles as above).
  void forward(const double* x, double* y, long lines, long points);
  /// dx = T^T dy (skipped when null) and the factors' gradients, x the last forward's input.
  void backward(const double* x, const double* dy, double* dx, long lines, long points);
  MonarchMap<std::complex<double>>& monarch() { return monarch_; }
  void to(core::MemorySpace s);
  /// Real floating-point operations per line and point (the Monarch product's; the gathers copy).
  double flops() const { return monarch_.flops(); }

 private:
  struct Gather {
    std::vector<long> idx, inv;  // host copies; inv: the adjoint's index (injective maps)
    Array<long> d_idx, d_inv;    // in the transform's space
    long nin = 0, nout = 0;
  };
  void build(long points);
  Gather& in_gather() { return g_[0]; }
  Gather& out_gather() { return g_[1]; }
  Kind kind_;
  long n_, m_, k_;
  MonarchMap<std::complex<double>> monarch_;
  core::MemorySpace space_ = core::MemorySpace::Host;
  long points_ = -1;
  Gather g_[2];
  Array<double> u_, v_, du_, dv_;
};

}  // namespace kron::nn
