#pragma once
#include <map>
#include <vector>

#include "kron/layout/fft_lines.hpp"
#include "kron/linops/line_kernels.hpp"

namespace kron::linops {

/// The DST-I executor of LineOp's transform kind: equal to FFTW's RODFT00
/// (Y_k = 2 sum_j X_j sin(pi (j+1)(k+1)/(m+1)); applied twice it multiplies by 2(m+1)), computed
/// through a real FFT of length m+1 instead of RODFT00's padded transforms (1.8-2.2x faster,
/// kron-bench --suite linops --cases dst1). The sine-weighted symmetric/antisymmetric split before
/// and the running sums after (Numerical Recipes' sinft) are O(m) per line and run on panels of
/// 32 lines that stay in cache; contiguous lines use line-major panels, interleaved lines
/// interleaved ones.
class Dst1Executor {
 public:
  /// Panel plans with FFTW's effort (estimate: measured ones from the wisdom file when it has them).
  Dst1Executor(long m, layout::FftEffort effort);
  ~Dst1Executor();
  Dst1Executor(const Dst1Executor&) = delete;
  Dst1Executor& operator=(const Dst1Executor&) = delete;
  long size() const { return m_; }
  /// out = DST-I(in) on every line (n = size(); same outer and inner; out may be in).
  void execute(const Lines& in, const Lines& out);
  void execute(const Lines& x) { execute(x, x); }

 private:
  static constexpr long kLines = 32;
  void panel(const double* x, long ls, long js, double* y, long ys, long yj, long P, bool line_major, fftw_plan_s* p);
  fftw_plan_s* plan(long P, bool line_major);
  long m_, N_;
  unsigned flags_;
  std::vector<double> w_;
  double* rbuf_ = nullptr;
  double* cbuf_ = nullptr;  // fftw_complex, as pairs of doubles
  std::map<long, fftw_plan_s*> plans_;
};

}  // namespace kron::linops
