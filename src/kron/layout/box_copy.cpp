#include "kron/layout/box_copy.hpp"

#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX512F__)
#include "kron/core/simd.hpp"
#endif

namespace kron::layout {

namespace {
int fastest(const std::array<long, 3>& s, const std::array<long, 3>& n) {
  int best = -1;
  for (int a = 0; a < 3; ++a) {
    if (n[a] <= 1) continue;
    if (best < 0 || s[a] < s[best]) best = a;
  }
  return best < 0 ? 0 : best;
}
}  // namespace

void transpose_2d(const double* src, long lds, double* dst, long ldd, long rows, long cols, bool accumulate, bool stream) {
  (void)stream;  // streaming stores: the AVX-512 tiles only
  long r0 = 0;
#if defined(__AVX512F__)
  // 8x8 tiles transposed in registers: 8 row loads, 24 shuffles, 8 column stores.
  const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
  const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  for (; r0 + 8 <= rows; r0 += 8) {
    long c0 = 0;
    for (; c0 + 8 <= cols; c0 += 8) {
      const double* s = src + r0 * lds + c0;
      __m512d a[8], t[8], u[8];
      for (int k = 0; k < 8; ++k) a[k] = _mm512_loadu_pd(s + k * lds);
      for (int k = 0; k < 4; ++k) {
        t[2 * k] = _mm512_unpacklo_pd(a[2 * k], a[2 * k + 1]);      // r0c0 r1c0 r0c2 r1c2 ...
        t[2 * k + 1] = _mm512_unpackhi_pd(a[2 * k], a[2 * k + 1]);  // r0c1 r1c1 r0c3 r1c3 ...
      }
      // rows 0-3 / 4-7: columns {0,4}, {2,6}, {1,5}, {3,7}
      u[0] = _mm512_permutex2var_pd(t[0], lo, t[2]);
      u[1] = _mm512_permutex2var_pd(t[0], hi, t[2]);
      u[2] = _mm512_permutex2var_pd(t[1], lo, t[3]);
      u[3] = _mm512_permutex2var_pd(t[1], hi, t[3]);
      u[4] = _mm512_permutex2var_pd(t[4], lo, t[6]);
      u[5] = _mm512_permutex2var_pd(t[4], hi, t[6]);
      u[6] = _mm512_permutex2var_pd(t[5], lo, t[7]);
      u[7] = _mm512_permutex2var_pd(t[5], hi, t[7]);
      __m512d c[8];
      c[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x44);
      c[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xEE);
      c[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x44);
      c[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xEE);
      c[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x44);
      c[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xEE);
      c[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x44);
      c[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xEE);
      double* d = dst + c0 * ldd + r0;
      if (accumulate)
        for (int k = 0; k < 8; ++k) _mm512_storeu_pd(d + k * ldd, _mm512_add_pd(_mm512_loadu_pd(d + k * ldd), c[k]));
      else if (stream && (reinterpret_cast<std::uintptr_t>(d) & 63) == 0 && (ldd & 7) == 0)
        for (int k = 0; k < 8; ++k) _mm512_stream_pd(d + k * ldd, c[k]);
      else
        for (int k = 0; k < 8; ++k) _mm512_storeu_pd(d + k * ldd, c[k]);
    }
    for (; c0 < cols; ++c0)
      for (long r = r0; r < r0 + 8; ++r) {
        double& d = dst[c0 * ldd + r];
        d = accumulate ? d + src[r * lds + c0] : src[r * lds + c0];
      }
  }
#endif
  // Remaining rows (all rows without AVX-512): 8-column tiles keep the destination lines in L1.
  for (long c0 = 0; c0 < cols; c0 += 8) {
    const long c1 = std::min(cols, c0 + 8);
    for (long r = r0; r < rows; ++r) {
      const double* s = src + r * lds;
      for (long c = c0; c < c1; ++c) {
        double& d = dst[c * ldd + r];
        d = accumulate ? d + s[c] : s[c];
      }
    }
  }
}

void transpose_2d(const std::complex<double>* src, long lds, std::complex<double>* dst, long ldd, long rows, long cols) {
  long r0 = 0;
#if defined(__AVX512F__)
  // 4x4 tiles of complex values (128-bit lanes) transposed in registers: 4 loads, 8 lane
  // shuffles, 4 stores.
  const double* s = reinterpret_cast<const double*>(src);
  double* d = reinterpret_cast<double*>(dst);
  for (; r0 + 4 <= rows; r0 += 4) {
    long c0 = 0;
    for (; c0 + 4 <= cols; c0 += 4) {
      const double* sp = s + 2 * (r0 * lds + c0);
      const __m512d a0 = _mm512_loadu_pd(sp), a1 = _mm512_loadu_pd(sp + 2 * lds), a2 = _mm512_loadu_pd(sp + 4 * lds),
                    a3 = _mm512_loadu_pd(sp + 6 * lds);
      const __m512d t0 = _mm512_shuffle_f64x2(a0, a1, 0x44), t1 = _mm512_shuffle_f64x2(a0, a1, 0xEE);
      const __m512d t2 = _mm512_shuffle_f64x2(a2, a3, 0x44), t3 = _mm512_shuffle_f64x2(a2, a3, 0xEE);
      double* dp = d + 2 * (c0 * ldd + r0);
      _mm512_storeu_pd(dp, _mm512_shuffle_f64x2(t0, t2, 0x88));
      _mm512_storeu_pd(dp + 2 * ldd, _mm512_shuffle_f64x2(t0, t2, 0xDD));
      _mm512_storeu_pd(dp + 4 * ldd, _mm512_shuffle_f64x2(t1, t3, 0x88));
      _mm512_storeu_pd(dp + 6 * ldd, _mm512_shuffle_f64x2(t1, t3, 0xDD));
    }
    for (; c0 < cols; ++c0)
      for (long r = r0; r < r0 + 4; ++r) dst[c0 * ldd + r] = src[r * lds + c0];
  }
#endif
  for (long c0 = 0; c0 < cols; c0 += 4) {
    const long c1 = std::min(cols, c0 + 4);
    for (long r = r0; r < rows; ++r)
      for (long c = c0; c < c1; ++c) dst[c * ldd + r] = src[r * lds + c];
  }
}

namespace {

// The plane transpose of copy_box for types with a register-tiled kernel, when both fastest
// axes have unit stride; false otherwise (the generic tiles run).
template <class T>
bool transpose_planes(const T* src, const std::array<long, 3>& ss, T* dst, const std::array<long, 3>& ds,
                      const std::array<long, 3>& n, int di, int si) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::complex<double>>) {
    if (ss[si] != 1 || ds[di] != 1) return false;
    const int t = 3 - di - si;
    // Cache blocks of 64 rows x 64 columns keep both sides' lines resident while tiles run.
    constexpr long B = 64;
    for (long k = 0; k < n[t]; ++k)
      for (long r0 = 0; r0 < n[di]; r0 += B)
        for (long c0 = 0; c0 < n[si]; c0 += B) {
          const long r1 = std::min(n[di], r0 + B), c1 = std::min(n[si], c0 + B);
          // rows r along di (source stride ss[di]), columns c along si (destination stride ds[si]).
          transpose_2d(src + k * ss[t] + r0 * ss[di] + c0, ss[di], dst + k * ds[t] + c0 * ds[si] + r0, ds[si], r1 - r0, c1 - c0);
        }
    return true;
  }
  return false;
}

}  // namespace

template <class T>
void copy_box(const T* src, const std::array<long, 3>& ss, T* dst, const std::array<long, 3>& ds,
              const std::array<long, 3>& n) {
  if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0) return;
  const int di = fastest(ds, n), si = fastest(ss, n);
  if (di == si || n[si] == 1) {
    // Same fastest axis: contiguous runs along di.
    const int o1 = di == 0 ? 1 : 0, o2 = 3 - di - o1;
    const long len = n[di];
    const bool unit = ds[di] == 1 && ss[di] == 1;
    for (long k = 0; k < n[o2]; ++k)
      for (long j = 0; j < n[o1]; ++j) {
        const T* s = src + j * ss[o1] + k * ss[o2];
        T* d = dst + j * ds[o1] + k * ds[o2];
        if (unit) {
          std::memcpy(static_cast<void*>(d), static_cast<const void*>(s), sizeof(T) * static_cast<std::size_t>(len));
        } else {
          for (long i = 0; i < len; ++i) d[i * ds[di]] = s[i * ss[di]];
        }
      }
    return;
  }
  // Different fastest axes: tiled 2D transpose in the (di, si) plane for each index of the third.
  if (transpose_planes(src, ss, dst, ds, n, di, si)) return;
  const int t = 3 - di - si;
  constexpr long B = sizeof(T) >= 16 ? 16 : 32;
  const long sdi = ss[di], ssi = ss[si], ddi = ds[di], dsi = ds[si];
  for (long k = 0; k < n[t]; ++k) {
    const T* s0 = src + k * ss[t];
    T* d0 = dst + k * ds[t];
    for (long jb = 0; jb < n[si]; jb += B) {
      const long je = std::min(n[si], jb + B);
      for (long ib = 0; ib < n[di]; ib += B) {
        const long ie = std::min(n[di], ib + B);
        for (long j = jb; j < je; ++j) {
          const T* s = s0 + j * ssi;
          T* d = d0 + j * dsi;
          for (long i = ib; i < ie; ++i) d[i * ddi] = s[i * sdi];
        }
      }
    }
  }
}

template void copy_box<float>(const float*, const std::array<long, 3>&, float*, const std::array<long, 3>&, const std::array<long, 3>&);
template void copy_box<double>(const double*, const std::array<long, 3>&, double*, const std::array<long, 3>&, const std::array<long, 3>&);
template void copy_box<std::complex<float>>(const std::complex<float>*, const std::array<long, 3>&, std::complex<float>*, const std::array<long, 3>&, const std::array<long, 3>&);
template void copy_box<std::complex<double>>(const std::complex<double>*, const std::array<long, 3>&, std::complex<double>*, const std::array<long, 3>&, const std::array<long, 3>&);

}  // namespace kron::layout
