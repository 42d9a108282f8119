#pragma once
// A growable array in host or device memory: the nn layers' activations and scratch, so that one
// model runs on either side (issue 15). Contents are not kept when it grows or changes space.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/memory.hpp"

namespace kron::nn {

/// T where template arguments are not deduced: optional pointers (a null grad or shift) take the
/// value type R from the other arguments.
template <class T>
struct NoDeduce {
  using type = T;
};
template <class T>
using nd = typename NoDeduce<T>::type;

template <class T>
class Array {
 public:
  Array() = default;
  explicit Array(core::MemorySpace s) : space_(s) {}
  core::MemorySpace space() const { return space_; }
  bool on_device() const { return space_ == core::MemorySpace::Device; }
  /// Moves to `s` (empty afterwards when the space changes).
  void set_space(core::MemorySpace s) {
    if (s == space_) return;
    space_ = s;
    host_ = {};
    device_ = {};
    n_ = 0;
  }
  /// n elements (device: reallocated only when growing).
  void resize(std::size_t n) {
    if (on_device()) {
      if (n > device_.size()) device_ = core::DeviceBuffer<T>(n);
    } else {
      host_.resize(n);
    }
    n_ = n;
  }
  T* data() { return on_device() ? device_.data() : host_.data(); }
  const T* data() const { return on_device() ? device_.data() : host_.data(); }
  std::size_t size() const { return n_; }
  /// The values as a host vector (a copy from the device when there).
  std::vector<T> to_host() const {
    if (!on_device()) return host_;
    std::vector<T> h(n_);
    if (n_) core::copy_to_host(h.data(), device_.data(), n_ * sizeof(T));
    return h;
  }
  /// Copies the values into host memory `h` (size() values), from the device when there.
  void copy_to(T* h) const {
    if (!n_) return;
    if (on_device()) core::copy_to_host(h, device_.data(), n_ * sizeof(T));
    else std::copy(host_.begin(), host_.begin() + static_cast<std::ptrdiff_t>(n_), h);
  }
  /// n values from host memory.
  void assign(const T* h, std::size_t n) {
    resize(n);
    if (on_device()) {
      if (n) core::copy_to_device(device_.data(), h, n * sizeof(T));
    } else {
      std::copy(h, h + n, host_.begin());
    }
  }

 private:
  core::MemorySpace space_ = core::MemorySpace::Host;
  std::vector<T> host_;
  core::DeviceBuffer<T> device_;
  std::size_t n_ = 0;
};

}  // namespace kron::nn
