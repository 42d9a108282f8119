#include "kron/layout/box_copy.hpp"

#include <algorithm>
#include <complex>
#include <cstring>

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
