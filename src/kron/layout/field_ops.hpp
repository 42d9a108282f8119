#pragma once
// Point-wise work on fields: the small set every solver's loops over field storage go through,
// so that each has one host executor here and one device executor in the GPU build. Fields must
// have the same pencil, components and halos (the whole storage is visited, halos included
// where a field has them; reductions visit interiors only).
#include <cmath>
#include <complex>
#include <functional>
#include <type_traits>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/field_ops_device.hpp"

namespace kron::layout::ops {

namespace detail {
template <class T>
void host_only(const Field<T>& x, const char* what) {
  require_host(x, (std::string("field_ops::") + what).c_str());
}
template <class T>
void same_shape(const Field<T>& a, const Field<T>& b, const char* what) {
  if (a.space() != b.space())
    throw Error(std::string("field_ops::") + what + ": one field in host memory, the other in device memory", {},
                "copy one of them with to_device or to_host first");
  if (a.pencil() != b.pencil() || a.components() != b.components() || a.halo() != b.halo())
    throw Error(std::string("field_ops::") + what + ": the fields differ in pencil, components or halos (" + a.pencil().describe() +
                " vs " + b.pencil().describe() + ")");
}
template <class T>
double magnitude(const T& v) {
  return std::abs(v);
}
// The interior of a field in storage order (the device reductions' view of it).
template <class T>
device_ops::Interior interior(const Field<T>& x) {
  device_ops::Interior b;
  const auto& ord = x.pencil().order();
  for (int d = 0; d < 3; ++d) {
    b.n[d] = x.extent()[ord[d]];
    b.stride[d] = x.layout().stride[ord[d]];
  }
  b.cstride = x.layout().cstride;
  b.offset = x.layout().offset;
  b.ncomp = x.components();
  return b;
}
// Calls f(ptr, count) or f(ptr, count, component) for each interior row (runs along the pencil's
// fastest axis).
template <class FieldT, class F>
void for_each_row(FieldT& x, F&& f) {
  host_only(x, "reduction");
  const auto& n = x.extent();
  const auto& ord = x.pencil().order();
  for (int c = 0; c < x.components(); ++c)
    for (long k = 0; k < n[ord[2]]; ++k)
      for (long j = 0; j < n[ord[1]]; ++j) {
        std::array<long, 3> idx{0, 0, 0};
        idx[ord[1]] = j;
        idx[ord[2]] = k;
        auto* p = &x(idx[0], idx[1], idx[2], c);
        if constexpr (std::is_invocable_v<F&, decltype(p), long, int>) f(p, n[ord[0]], c);
        else f(p, n[ord[0]]);
      }
}
}  // namespace detail

/// y = x.
template <class T>
void copy(const Field<T>& x, Field<T>& y) {
  detail::same_shape(x, y, "copy");
  if (x.on_device()) return device_ops::copy(x.data(), y.data(), x.storage_size());
  std::copy(x.data(), x.data() + x.storage_size(), y.data());
}

/// y = a x + b y.
template <class T, class S>
void axpby(S a, const Field<T>& x, S b, Field<T>& y) {
  detail::same_shape(x, y, "axpby");
  if (x.on_device()) return device_ops::axpby(T(a), x.data(), T(b), y.data(), y.storage_size());
  const T* xp = x.data();
  T* yp = y.data();
  const std::size_t N = y.storage_size();
  if (b == S(0)) {
    for (std::size_t q = 0; q < N; ++q) yp[q] = a * xp[q];
  } else if (b == S(1)) {
    for (std::size_t q = 0; q < N; ++q) yp[q] += a * xp[q];
  } else {
    for (std::size_t q = 0; q < N; ++q) yp[q] = a * xp[q] + b * yp[q];
  }
}

/// y += a x.
template <class T, class S>
void axpy(S a, const Field<T>& x, Field<T>& y) {
  axpby(a, x, S(1), y);
}

/// x *= a.
template <class T, class S>
void scale(S a, Field<T>& x) {
  if (x.on_device()) return device_ops::scale(T(a), x.data(), x.storage_size());
  T* p = x.data();
  for (std::size_t q = 0; q < x.storage_size(); ++q) p[q] *= a;
}

/// x = conj(x) (nothing for real fields).
template <class T>
void conj(Field<T>& x) {
  if constexpr (!std::is_same_v<T, double>) {
    if (x.on_device()) return device_ops::conj(x.data(), x.storage_size());
    T* p = x.data();
    for (std::size_t q = 0; q < x.storage_size(); ++q) p[q] = std::conj(p[q]);
  }
}

namespace detail {
// acc = f(acc, value) over this rank's interior (the reductions below add the MPI step); a
// device field runs the device reduction `what` instead.
template <class T, class F>
double local_reduce(const Field<T>& x, double init, F&& f, device_ops::Reduce what) {
  if (x.on_device()) return device_ops::reduce(x.data(), interior(x), what);
  double acc = init;
  for_each_row(x, [&](const T* p, long len) {
    for (long i = 0; i < len; ++i) acc = f(acc, p[i]);
  });
  return acc;
}
}  // namespace detail

/// Largest |x| over every rank's interior (collective over the pencil's grid).
template <class T>
double max_abs(const Field<T>& x) {
  return core::mpi::max(detail::local_reduce(x, 0.0, [](double a, const T& v) { return std::max(a, detail::magnitude(v)); }, device_ops::Reduce::MaxAbs),
                        x.pencil().grid().comm());
}

/// Whether every interior value on every rank is finite (collective).
template <class T>
bool all_finite(const Field<T>& x) {
  const double bad = detail::local_reduce(x, 0.0, [](double a, const T& v) { return std::isfinite(std::abs(v)) ? a : 1.0; },
                                          device_ops::Reduce::NonFinite);
  return core::mpi::all(bad == 0.0, x.pencil().grid().comm());
}

/// Smallest value over every rank's interior (real fields; collective).
inline double min_value(const Field<double>& x) {
  return core::mpi::min(detail::local_reduce(x, INFINITY, [](double a, double v) { return std::min(a, v); }, device_ops::Reduce::Min), x.pencil().grid().comm());
}

/// Sum of |x| over every rank's interior (collective).
template <class T>
double norm1(const Field<T>& x) {
  return core::mpi::sum(detail::local_reduce(x, 0.0, [](double a, const T& v) { return a + std::abs(v); }, device_ops::Reduce::Sum1), x.pencil().grid().comm());
}

/// sqrt(sum |x|^2) over every rank's interior (collective).
template <class T>
double norm2(const Field<T>& x) {
  return std::sqrt(
      core::mpi::sum(detail::local_reduce(x, 0.0, [](double a, const T& v) { return a + std::norm(v); }, device_ops::Reduce::Sum2), x.pencil().grid().comm()));
}

/// Sum over every rank's interior of conj(x) y (collective; real fields: x . y).
template <class T>
T dot(const Field<T>& x, const Field<T>& y) {
  detail::same_shape(x, y, "dot");
  T s = T(0);
  const auto& n = x.extent();
  if (x.on_device()) s = device_ops::dot(x.data(), y.data(), detail::interior(x));
  else for (int c = 0; c < x.components(); ++c)
    for (long k = 0; k < n[2]; ++k)
      for (long j = 0; j < n[1]; ++j)
        for (long i = 0; i < n[0]; ++i) {
          if constexpr (std::is_same_v<T, double>) s += x(i, j, k, c) * y(i, j, k, c);
          else s += std::conj(x(i, j, k, c)) * y(i, j, k, c);
        }
  T all = s;
  core::mpi::check(MPI_Allreduce(&s, &all, 1, core::mpi::datatype<T>(), MPI_SUM, x.pencil().grid().comm()), "MPI_Allreduce");
  return all;
}

/// y_q = f(y_q, x1_q, x2_q, ...) over the whole storage of fields of one shape: the element-wise
/// map behind combinations no named op covers (a u + b v w, masks, clipping).
template <class T, class F, class... X>
void map(Field<T>& y, F&& f, const X&... x) {
  detail::host_only(y, "map");  // an arbitrary host function: host fields only
  (detail::same_shape(x, y, "map"), ...);
  T* yp = y.data();
  const std::size_t N = y.storage_size();
  for (std::size_t q = 0; q < N; ++q) yp[q] = f(yp[q], x.data()[q]...);
}

/// x += a on every element of component c (c < 0: every component): a constant shift, a gauge.
template <class T, class S>
void add(S a, Field<T>& x, int c = -1) {
  T* p = c < 0 ? x.data() : x.data() + static_cast<std::size_t>(c) * static_cast<std::size_t>(x.layout().cstride);
  const std::size_t N = c < 0 ? x.storage_size() : static_cast<std::size_t>(x.layout().cstride);
  if (x.on_device()) return device_ops::add(T(a), p, N);
  for (std::size_t q = 0; q < N; ++q) p[q] += a;
}

/// Per component, the sum over every rank's interior (collective).
template <class T>
std::vector<T> sums(const Field<T>& x) {
  std::vector<T> s(static_cast<std::size_t>(x.components()), T(0));
  if (x.on_device()) s = device_ops::sums(x.data(), detail::interior(x));
  else
    detail::for_each_row(x, [&](const T* p, long len, int c) {
      for (long i = 0; i < len; ++i) s[static_cast<std::size_t>(c)] += p[i];
    });
  std::vector<T> all = s;
  core::mpi::check(MPI_Allreduce(s.data(), all.data(), x.components(), core::mpi::datatype<T>(), MPI_SUM, x.pencil().grid().comm()),
                   "MPI_Allreduce");
  return all;
}

/// Calls f(axis, side, layer, ext) for every face plane of `box` on an axis with on_face[axis]
/// and global size n[axis] > 1 that the box holds: the plane is local layer `layer` along the
/// axis, ext the box's extents with ext[axis] = 1 (axes in order, low side first).
template <class F>
void for_each_face_plane(const Box& box, const std::array<long, 3>& n, const std::array<bool, 3>& on_face, F&& f) {
  for (int a = 0; a < 3; ++a) {
    if (n[a] <= 1 || !on_face[a]) continue;
    for (int side = 0; side < 2; ++side) {
      const long gb = side ? n[a] - 1 : 0;
      if (gb < box.lo[a] || gb >= box.lo[a] + box.n[a]) continue;
      std::array<long, 3> ext = box.n;
      ext[a] = 1;
      f(a, side, gb - box.lo[a], ext);
    }
  }
}

/// Calls f(i, j, k, axis, side) for every point of `box` (local indices) on a face of an axis
/// with on_face[axis] and global size n[axis] > 1: the faces only (edge and corner points once
/// per face they lie on).
template <class F>
void for_each_face_point(const Box& box, const std::array<long, 3>& n, const std::array<bool, 3>& on_face, F&& f) {
  for_each_face_plane(box, n, on_face, [&](int a, int side, long layer, const std::array<long, 3>& ext) {
    std::array<long, 3> lo{0, 0, 0};
    lo[a] = layer;
    for (long k = 0; k < ext[2]; ++k)
      for (long j = 0; j < ext[1]; ++j)
        for (long i = 0; i < ext[0]; ++i) f(lo[0] + i, lo[1] + j, lo[2] + k, a, side);
  });
}

/// Masked boundary fill: x = v on the faces of the axes with faces[a] (every component).
template <class T>
void fill_faces(Field<T>& x, const std::array<bool, 3>& faces, T v) {
  if (x.on_device()) {
    // Each face plane of the local box as one device box fill.
    const auto& st = x.layout().stride;
    for (int c = 0; c < x.components(); ++c)
      for_each_face_plane(x.pencil().box(), x.pencil().global(), faces, [&](int a, int, long layer, const std::array<long, 3>& ext) {
        device_ops::fill_box(v, x.origin(c) + layer * st[a], st.data(), ext.data());
      });
    return;
  }
  for (int c = 0; c < x.components(); ++c)
    for_each_face_point(x.pencil().box(), x.pencil().global(), faces, [&](long i, long j, long k, int, int) { x(i, j, k, c) = v; });
}

/// y = x on the faces of the axes with faces[a] (every component), the rest of y untouched.
template <class T>
void copy_faces(const Field<T>& x, Field<T>& y, const std::array<bool, 3>& faces) {
  detail::same_shape(x, y, "copy_faces");
  if (x.on_device()) {
    // Each face plane of the local box as one device box copy.
    for (int c = 0; c < x.components(); ++c)
      for_each_face_plane(x.pencil().box(), x.pencil().global(), faces, [&](int a, int, long layer, const std::array<long, 3>& ext) {
        const long off = layer * x.layout().stride[a];
        copy_box_device(x.origin(c) + off, x.layout().stride, y.origin(c) + off, y.layout().stride, ext);
      });
    return;
  }
  for (int c = 0; c < x.components(); ++c)
    for_each_face_point(x.pencil().box(), x.pencil().global(), faces,
                        [&](long i, long j, long k, int, int) { y(i, j, k, c) = x(i, j, k, c); });
}

/// x(i, j, k, c) = f(global index, c) on the interior: fills from a formula of the global grid
/// index (tests, initial data).
template <class T, class F>
void fill_global(Field<T>& x, F&& f) {
  detail::host_only(x, "fill_global");
  const Box& b = x.pencil().box();
  for (int c = 0; c < x.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) x(i, j, k, c) = f(std::array<long, 3>{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k}, c);
}

}  // namespace kron::layout::ops
