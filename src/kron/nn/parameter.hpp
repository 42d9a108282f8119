#pragma once
// Trainable parameters and the seeded random numbers that initialise them (issue 15).
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kron/core/device.hpp"

namespace kron::nn {

/// A named array of trainable values with its gradient (same length). `version` changes whenever
/// the values do (optimiser steps, loads), so operators that keep a prepared copy know when to
/// refresh it. On the device (to_device) values and gradient live in device memory (dvalue,
/// dgrad) and the host arrays are stale until to_host or a ParamRef's download.
template <class T>
struct Parameter {
  std::string name;
  std::vector<T> value, grad;
  std::uint64_t version = 0;
  core::DeviceBuffer<T> dvalue, dgrad;

  Parameter() = default;
  Parameter(std::string n, long size) : name(std::move(n)), value(static_cast<std::size_t>(size)), grad(static_cast<std::size_t>(size)) {}
  long size() const { return static_cast<long>(value.size()); }
  bool on_device() const { return on_device_; }
  /// The values and gradient where they live.
  T* values() { return on_device_ ? dvalue.data() : value.data(); }
  T* grads() { return on_device_ ? dgrad.data() : grad.data(); }
  void zero_grad() {
    if (on_device_) {
      if (size()) core::fill_device_bytes(dgrad.data(), 0, dgrad.size() * sizeof(T));
    } else {
      std::fill(grad.begin(), grad.end(), T(0));
    }
  }
  void changed() { ++version; }
  /// Moves values (and gradient) to device memory / back to the host.
  void to_device() {
    if (on_device_) return;
    dvalue = core::DeviceBuffer<T>(value.size());
    dgrad = core::DeviceBuffer<T>(value.size());
    if (size()) core::copy_to_device(dvalue.data(), value.data(), value.size() * sizeof(T));
    on_device_ = true;
    zero_grad();
    changed();
  }
  void to_host() {
    if (!on_device_) return;
    if (size()) {
      core::copy_to_host(value.data(), dvalue.data(), value.size() * sizeof(T));
      core::copy_to_host(grad.data(), dgrad.data(), grad.size() * sizeof(T));
    }
    dvalue = {};
    dgrad = {};
    on_device_ = false;
    changed();
  }

 private:
  bool on_device_ = false;
};

/// A parameter seen as real numbers R (a complex one as its real and imaginary parts, interleaved;
/// its gradient dL/dRe + i dL/dIm then reads as the real gradient): what optimisers, gradient
/// all-reduces and checkpoints work on, whatever the layer's scalar type. R is the parameter's own
/// precision (double, or float for single-precision training), so a view can never misread its
/// values. `value`/`grad` are the host arrays; for a parameter on the device `dvalue`/`dgrad` are
/// the live ones (download and upload move the values between them).
template <class R>
struct ParamRefT {
  using real_type = R;
  std::string name;
  R* value = nullptr;
  R* grad = nullptr;
  long size = 0;
  std::uint64_t* version = nullptr;
  R* dvalue = nullptr;
  R* dgrad = nullptr;
  bool on_device() const { return dvalue != nullptr; }
  R* live_value() const { return on_device() ? dvalue : value; }
  R* live_grad() const { return on_device() ? dgrad : grad; }
  void changed() const { ++*version; }
  void zero_grad() const {
    if (on_device()) {
      if (size) core::fill_device_bytes(dgrad, 0, static_cast<std::size_t>(size) * sizeof(R));
    } else {
      std::fill(grad, grad + size, R(0));
    }
  }
  /// Device values to the host arrays (for checkpoints); nothing on the host.
  void download() const {
    if (on_device() && size) core::copy_to_host(value, dvalue, static_cast<std::size_t>(size) * sizeof(R));
  }
  /// Host values (loaded ones) to the device; marks the parameter changed.
  void upload() const {
    if (on_device() && size) core::copy_to_device(dvalue, value, static_cast<std::size_t>(size) * sizeof(R));
    changed();
  }
  /// The host values as doubles (checkpoints and model files hold doubles whatever the training
  /// precision), and their assignment from doubles (rounded to R); download/upload move them.
  std::vector<double> values_as_double() const { return std::vector<double>(value, value + size); }
  void assign(const std::vector<double>& v) const {
    for (long i = 0; i < size; ++i) value[i] = static_cast<R>(v[static_cast<std::size_t>(i)]);
  }
};
using ParamRef = ParamRefT<double>;

/// The real type of a scalar (double for complex<double>, ...).
template <class T>
struct real_of {
  using type = T;
};
template <class R>
struct real_of<std::complex<R>> {
  using type = R;
};
template <class T>
using real_of_t = typename real_of<T>::type;

template <class T>
ParamRefT<real_of_t<T>> real_view(Parameter<T>& p) {
  using R = real_of_t<T>;
  constexpr long k = std::is_same_v<T, R> ? 1 : 2;
  ParamRefT<R> r{p.name, reinterpret_cast<R*>(p.value.data()), reinterpret_cast<R*>(p.grad.data()), k * p.size(), &p.version};
  if (p.on_device()) {
    r.dvalue = reinterpret_cast<R*>(p.dvalue.data());
    r.dgrad = reinterpret_cast<R*>(p.dgrad.data());
  }
  return r;
}

/// Reproducible random numbers: a 64-bit Mersenne twister with its own uniform and normal
/// transforms (the standard library's distributions differ between implementations, so a seed
/// would not give the same weights everywhere).
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : g_(seed) {}
  /// Uniform on [0, 1) from 53 random bits.
  double uniform() { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal by Box-Muller (both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u;
    do u = uniform();
    while (u <= 0.0);
    const double r = std::sqrt(-2.0 * std::log(u)), a = 2.0 * 3.14159265358979323846 * uniform();
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }
  /// The engine, for shuffles.
  std::mt19937_64& engine() { return g_; }

 private:
  std::mt19937_64 g_;
  double spare_ = 0;
  bool has_spare_ = false;
};

/// Uniform(-bound, bound) values (complex: both parts).
template <class T>
void fill_uniform(std::vector<T>& v, double bound, Rng& rng) {
  for (auto& x : v) {
    if constexpr (!std::is_floating_point_v<T>) {
      using R = typename T::value_type;
      const double re = rng.uniform(-bound, bound), im = rng.uniform(-bound, bound);
      x = T(static_cast<R>(re), static_cast<R>(im));
    } else {
      x = static_cast<T>(rng.uniform(-bound, bound));
    }
  }
}

}  // namespace kron::nn
