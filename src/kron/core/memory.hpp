#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace kron::core {

/// Where a buffer lives. Kernels dispatch on it; host is the only space with CPU kernels, the
/// CUDA build adds device kernels for the same operations.
enum class MemorySpace { Host, Device };

inline const char* to_string(MemorySpace s) { return s == MemorySpace::Host ? "host" : "device"; }

/// Owning, 64-byte aligned, uninitialised host array (SIMD- and FFTW-friendly). Movable only.
template <class T>
class HostBuffer {
 public:
  HostBuffer() = default;
  explicit HostBuffer(std::size_t n) { resize(n); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  HostBuffer(HostBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), n_used_(std::exchange(o.n_used_, 0)) {}
  HostBuffer& operator=(HostBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
      n_used_ = std::exchange(o.n_used_, 0);
    }
    return *this;
  }
  ~HostBuffer() { release(); }

  /// Grows (never shrinks) the allocation; contents are not preserved.
  void resize(std::size_t n) {
    if (n <= n_) { n_used_ = n; return; }
    release();
    const std::size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    p_ = static_cast<T*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (!p_) throw std::bad_alloc();
    n_ = n;
    n_used_ = n;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_used_; }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }

 private:
  void release() {
    std::free(p_);
    p_ = nullptr;
    n_ = 0;
    n_used_ = 0;
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
  std::size_t n_used_ = 0;
};

/// Caller-owned scratch for operators (cuDecomp's model): numbered slots that grow on demand and
/// are reused from call to call, so a hot loop allocates nothing after its first iteration.
/// One workspace may serve several operators used one after the other (not concurrently).
class Workspace {
 public:
  /// At least `count` elements of T in slot `slot` (64-byte aligned; contents unspecified).
  template <class T>
  T* get(std::size_t count, std::size_t slot = 0) {
    if (slots_.size() <= slot) slots_.resize(slot + 1);
    slots_[slot].resize(count * sizeof(T));
    return reinterpret_cast<T*>(slots_[slot].data());
  }
  /// Bytes held over all slots.
  std::size_t bytes() const {
    std::size_t b = 0;
    for (const auto& s : slots_) b += s.size();
    return b;
  }

 private:
  std::vector<HostBuffer<unsigned char>> slots_;
};

}  // namespace kron::core
