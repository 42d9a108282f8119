#include "kron/linops/line_transforms.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>

#include "kron/core/error.hpp"

namespace kron::linops {

Dst1Executor::Dst1Executor(long m, layout::FftEffort effort) : m_(m), N_(m + 1), w_(N_) {
  flags_ = effort == layout::FftEffort::Estimate ? FFTW_ESTIMATE
           : effort == layout::FftEffort::Measure ? FFTW_MEASURE
           : effort == layout::FftEffort::Patient ? FFTW_PATIENT : FFTW_EXHAUSTIVE;
  for (long j = 0; j < N_; ++j) w_[j] = std::sin(M_PI * double(j) / double(N_));
  rbuf_ = fftw_alloc_real(static_cast<std::size_t>(N_ * kLines));
  cbuf_ = reinterpret_cast<double*>(fftw_alloc_complex(static_cast<std::size_t>((N_ / 2 + 1) * kLines)));
  if (!rbuf_ || !cbuf_) throw Error("out of memory for the sine-transform buffers");
}

Dst1Executor::~Dst1Executor() {
  for (auto& [k, p] : plans_) fftw_destroy_plan(p);
  fftw_free(rbuf_);
  fftw_free(reinterpret_cast<fftw_complex*>(cbuf_));
}

// Contiguous lines (inner == 1) go through line-major panels, interleaved lines through
// interleaved panels (element (j, l) at j*kLines + l).
void Dst1Executor::execute(const Lines& in, const Lines& out) {
  if (in.n != m_ || out.n != m_ || in.outer != out.outer || in.inner != out.inner)
    throw Error("internal: sine transform and lines differ in shape");
  const bool contiguous = in.inner == 1;
  // Panels of kLines lines and one narrower remainder: two plans, looked up once per call.
  const long lines = contiguous ? in.outer : in.inner;
  if (lines == 0 || in.outer == 0) return;
  fftw_plan full = lines >= kLines ? plan(kLines, contiguous) : nullptr;
  fftw_plan rest = lines % kLines ? plan(lines % kLines, contiguous) : nullptr;
  if (contiguous) {
    for (long o0 = 0; o0 < in.outer; o0 += kLines) {
      const long P = std::min(kLines, in.outer - o0);
      panel(in.p + o0 * in.ostride, in.ostride, 1, out.p + o0 * out.ostride, out.ostride, 1, P, true, P == kLines ? full : rest);
    }
  } else {
    for (long o = 0; o < in.outer; ++o)
      for (long j0 = 0; j0 < in.inner; j0 += kLines) {
        const long P = std::min(kLines, in.inner - j0);
        panel(in.p + o * in.ostride + j0, 1, in.inner, out.p + o * out.ostride + j0, 1, out.inner, P, false,
              P == kLines ? full : rest);
      }
  }
}

// Lines l < P of a panel: element j of line l at x[l*ls + j*js] in, out[l*os + j*oj] out (out may be x).
void Dst1Executor::panel(const double* x, long ls, long js, double* out, long os, long oj, long P, bool line_major, fftw_plan p) {
  const long N = N_;
  // Line-major: line l at rbuf[l*N], spectrum at cbuf[l*(N/2+1)]; interleaved: stride kLines.
  const long rs = line_major ? N : 1, rj = line_major ? 1 : kLines;
  const long cs = line_major ? N / 2 + 1 : 1, cj = line_major ? 1 : kLines;
  // y_0 = 0, y_j = w_j (x_j + x_{N-j}) + (x_j - x_{N-j}) / 2 with x_j = X_{j-1}, x_0 = x_N = 0.
  if (line_major) {
    for (long l = 0; l < P; ++l) {
      const double* X = x + l * ls;
      double* y = rbuf_ + l * rs;
      y[0] = 0;
      for (long j = 1; j < N; ++j) {
        const double a = X[j - 1], b = X[N - j - 1];
        y[j] = w_[j] * (a + b) + 0.5 * (a - b);
      }
    }
  } else {
    for (long l = 0; l < P; ++l) rbuf_[l] = 0;
    for (long j = 1; j < N; ++j) {
      const double* A = x + (j - 1) * js;
      const double* B = x + (N - j - 1) * js;
      double* y = rbuf_ + j * rj;
      const double wj = w_[j];
#pragma omp simd
      for (long l = 0; l < P; ++l) y[l] = wj * (A[l] + B[l]) + 0.5 * (A[l] - B[l]);
    }
  }
  fftw_execute_dft_r2c(p, rbuf_, reinterpret_cast<fftw_complex*>(cbuf_));
  // Y_{2k-1} = -2 Im c_k (k >= 1), Y_{2k} = 2 (Re c_0 / 2 + Re c_1 + .. + Re c_k).
  const double* c = reinterpret_cast<const double*>(cbuf_);
  if (line_major) {
    for (long l = 0; l < P; ++l) {
      double* X = out + l * os;
      const double* cl = c + 2 * l * cs;
      double sum = cl[0];  // 2 * (Re c_0 / 2)
      X[0] = sum;
      for (long k = 1; 2 * k - 1 < m_; ++k) {
        X[2 * k - 1] = -2.0 * cl[2 * k + 1];
        if (2 * k < m_) {
          sum += 2.0 * cl[2 * k];
          X[2 * k] = sum;
        }
      }
    }
  } else {
    double sum[kLines];
    for (long l = 0; l < P; ++l) {
      sum[l] = c[2 * l];
      out[l] = sum[l];
    }
    for (long k = 1; 2 * k - 1 < m_; ++k) {
      const double* ck = c + 2 * k * cj;
      double* odd = out + (2 * k - 1) * oj;
#pragma omp simd
      for (long l = 0; l < P; ++l) odd[l] = -2.0 * ck[2 * l + 1];
      if (2 * k < m_) {
        double* even = out + 2 * k * oj;
#pragma omp simd
        for (long l = 0; l < P; ++l) {
          sum[l] += 2.0 * ck[2 * l];
          even[l] = sum[l];
        }
      }
    }
  }
}

fftw_plan Dst1Executor::plan(long P, bool line_major) {
  const long key = line_major ? P : -P;
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  int nn = static_cast<int>(N_);
  auto make = [&](unsigned f) {
    fftw_complex* cb = reinterpret_cast<fftw_complex*>(cbuf_);
    return line_major ? fftw_plan_many_dft_r2c(1, &nn, int(P), rbuf_, nullptr, 1, int(N_), cb, nullptr, 1, int(N_ / 2 + 1), f)
                      : fftw_plan_many_dft_r2c(1, &nn, int(P), rbuf_, nullptr, int(kLines), 1, cb, nullptr, int(kLines), 1, f);
  };
  // Estimated plans: a measured one from the wisdom file when it has one (free), as LineFft does.
  fftw_plan p = (flags_ & FFTW_ESTIMATE) ? make((flags_ & ~FFTW_ESTIMATE) | FFTW_MEASURE | FFTW_WISDOM_ONLY) : nullptr;
  if (!p) p = make(flags_);
  if (!p) throw Error("FFTW could not plan the sine transforms");
  plans_[key] = p;
  return p;
}

}  // namespace kron::linops
