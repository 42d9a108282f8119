#pragma once
// Point-wise work on fields: the small set every solver's loops over field storage go through,
// so that each has one host executor here and one device executor in the GPU build. Fields must
// have the same pencil, components and halos (the whole storage is visited, halos included
// where a field has them; reductions visit interiors only).
#include <cmath>
#include <complex>
#include <functional>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/field.hpp"

namespace kron::layout::ops {

namespace detail {
template <class T>
void same_shape(const Field<T>& a, const Field<T>& b, const char* what) {
  if (a.pencil() != b.pencil() || a.components() != b.components() || a.halo() != b.halo())
    throw Error(std::string("field_ops::") + what + ": the fields differ in pencil, components or halos (" + a.pencil().describe() +
                " vs " + b.pencil().describe() + ")");
}
template <class T>
double magnitude(const T& v) {
  return std::abs(v);
}
// Calls f(ptr, count) for each interior row (runs along the pencil's fastest axis).
template <class FieldT, class F>
void for_each_row(FieldT& x, F&& f) {
  const auto& n = x.extent();
  const auto& ord = x.pencil().order();
  for (int c = 0; c < x.components(); ++c)
    for (long k = 0; k < n[ord[2]]; ++k)
      for (long j = 0; j < n[ord[1]]; ++j) {
        std::array<long, 3> idx{0, 0, 0};
        idx[ord[1]] = j;
        idx[ord[2]] = k;
        f(&x(idx[0], idx[1], idx[2], c), n[ord[0]]);
      }
}
}  // namespace detail

/// y = x.
template <class T>
void copy(const Field<T>& x, Field<T>& y) {
  detail::same_shape(x, y, "copy");
  std::copy(x.data(), x.data() + x.storage_size(), y.data());
}

/// y = a x + b y.
template <class T, class S>
void axpby(S a, const Field<T>& x, S b, Field<T>& y) {
  detail::same_shape(x, y, "axpby");
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
  T* p = x.data();
  for (std::size_t q = 0; q < x.storage_size(); ++q) p[q] *= a;
}

/// x = conj(x) (nothing for real fields).
template <class T>
void conj(Field<T>& x) {
  if constexpr (!std::is_same_v<T, double>) {
    T* p = x.data();
    for (std::size_t q = 0; q < x.storage_size(); ++q) p[q] = std::conj(p[q]);
  }
}

/// Largest |x| over every rank's interior (collective over the pencil's grid).
template <class T>
double max_abs(const Field<T>& x) {
  double m = 0;
  detail::for_each_row(x, [&](const T* p, long len) {
    for (long i = 0; i < len; ++i) m = std::max(m, detail::magnitude(p[i]));
  });
  return core::mpi::max(m, x.pencil().grid().comm());
}

/// Whether every interior value on every rank is finite (collective).
template <class T>
bool all_finite(const Field<T>& x) {
  bool ok = true;
  detail::for_each_row(x, [&](const T* p, long len) {
    for (long i = 0; i < len; ++i) ok = ok && std::isfinite(std::abs(p[i]));
  });
  return core::mpi::all(ok, x.pencil().grid().comm());
}

/// Sum over every rank's interior of conj(x) y (collective; real fields: x . y).
template <class T>
T dot(const Field<T>& x, const Field<T>& y) {
  detail::same_shape(x, y, "dot");
  T s = T(0);
  const auto& n = x.extent();
  for (int c = 0; c < x.components(); ++c)
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

/// x(i, j, k, c) = f(global index, c) on the interior: fills from a formula of the global grid
/// index (tests, initial data).
template <class T, class F>
void fill_global(Field<T>& x, F&& f) {
  const Box& b = x.pencil().box();
  for (int c = 0; c < x.components(); ++c)
    for (long k = 0; k < b.n[2]; ++k)
      for (long j = 0; j < b.n[1]; ++j)
        for (long i = 0; i < b.n[0]; ++i) x(i, j, k, c) = f(std::array<long, 3>{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k}, c);
}

}  // namespace kron::layout::ops
