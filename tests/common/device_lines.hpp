#pragma once
// Test data for the device executors: lines in host and device memory with one layout, and the
// comparison of device results with host ones.
#include <cmath>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/fft_lines.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/line_view.hpp"

namespace kron::testing {

/// `outer` x `inner` lines of n points (element (o, i, j) at o*ostride + i*inner + j), slabs
/// padded by `pad` elements, one spare element at the end; a host copy and a device copy.
template <class T>
struct DeviceLines {
  long outer, n, inner, ostride;
  std::vector<T> host;
  core::DeviceBuffer<T> dev;
  DeviceLines(long outer_, long n_, long inner_, long pad)
      : outer(outer_), n(n_), inner(inner_), ostride(n_ * inner_ + pad), host(static_cast<std::size_t>(outer_ * (n_ * inner_ + pad) + 1)),
        dev(host.size()) {}
  linops::LineView<T> host_view() { return {host.data(), outer, n, inner, ostride}; }
  linops::LineView<T> device_view() { return {dev.data(), outer, n, inner, ostride, core::MemorySpace::Device}; }
  layout::LineSet host_set() { return {host.data(), outer, n, inner, ostride}; }
  layout::LineSet device_set() { return {dev.data(), outer, n, inner, ostride}; }
  void upload() { core::copy_to_device(dev.data(), host.data(), host.size() * sizeof(T)); }
  void poison() { core::fill_device_bytes(dev.data(), 0xff, host.size() * sizeof(T)); }
  std::vector<T> download() const {
    std::vector<T> r(host.size());
    core::copy_to_host(r.data(), dev.data(), r.size() * sizeof(T));
    return r;
  }
  T& at(std::vector<T>& d, long o, long i, long j) const { return d[static_cast<std::size_t>(o * ostride + i * inner + j)]; }
  /// The values at line points of a copy of the storage (padding left out).
  std::vector<T> points(const std::vector<T>& v) const {
    std::vector<T> r;
    for (long o = 0; o < outer; ++o)
      for (long i = 0; i < n; ++i)
        for (long j = 0; j < inner; ++j) r.push_back(v[static_cast<std::size_t>(o * ostride + i * inner + j)]);
    return r;
  }
};

/// Adds |got - ref| (NaN counting as infinite) and |ref| of one value to running maxima.
template <class T>
void track(const T& ref, const T& got, double& err, double& scale) {
  const double v = std::abs(got - ref);
  err = std::max(err, std::isfinite(v) ? v : INFINITY);
  scale = std::max(scale, double(std::abs(ref)));
}

/// Largest difference relative to the largest reference value.
template <class T>
double rel_diff(const std::vector<T>& ref, const std::vector<T>& got) {
  double e = 0, s = 0;
  for (std::size_t q = 0; q < ref.size(); ++q) track(ref[q], got[q], e, s);
  return e / std::max(s, 1e-300);
}

/// Largest difference over the interiors of every rank (components included) between a host
/// field and a field in either memory space, relative to the host field's largest value.
template <class T>
double rel_diff(const layout::Field<T>& host, const layout::Field<T>& other) {
  const layout::Field<T> d = layout::to_host(other);
  double e = 0, s = 0;
  const auto& n = host.extent();
  for (int c = 0; c < host.components(); ++c)
    for (long k = 0; k < n[2]; ++k)
      for (long j = 0; j < n[1]; ++j)
        for (long i = 0; i < n[0]; ++i) track(host(i, j, k, c), d(i, j, k, c), e, s);
  return core::mpi::max(e, MPI_COMM_WORLD) / std::max(1e-300, core::mpi::max(s, MPI_COMM_WORLD));
}

}  // namespace kron::testing
