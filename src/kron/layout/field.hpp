#pragma once
#include <algorithm>
#include <array>
#include <complex>
#include <string>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/core/memory.hpp"
#include "kron/layout/pencil.hpp"

namespace kron::layout {

/// Where a field's values sit in memory: strides of x, y, z and of the component index, and
/// the offset of local interior point (0,0,0) of component 0. Every kernel that walks a field
/// (transposes, halos, I/O, FFT plans) reads this, so halos and components cost no new code.
struct LocalLayout {
  std::array<long, 3> stride{1, 1, 1};
  long cstride = 0;
  long offset = 0;
  int ncomp = 1;
};

/// The layout of a field on `pencil` with `ncomp` components and halo widths `halo`;
/// `storage` (when given) receives the number of elements to allocate.
inline LocalLayout local_layout(const Pencil& pencil, int ncomp, const std::array<int, 3>& halo, long* storage = nullptr) {
  if (ncomp < 1) throw Error("a field needs at least one component");
  for (int h : halo) if (h < 0) throw Error("halo widths must be >= 0");
  LocalLayout L;
  const auto& n = pencil.box().n;
  long s = 1;
  for (int a : pencil.order()) {
    L.stride[a] = s;
    s *= n[a] + 2L * halo[a];
  }
  L.cstride = s;
  L.ncomp = ncomp;
  L.offset = halo[0] * L.stride[0] + halo[1] * L.stride[1] + halo[2] * L.stride[2];
  if (storage) *storage = s * ncomp;
  return L;
}

/// A distributed array on a pencil: `ncomp` components (vector fields, channels, samples;
/// the slowest index), each a local box stored with the pencil's axis fastest. Optional halos
/// of width halo[a] on both sides of axis a are part of the allocation.
///
/// The component extent has a declared channel shape, a factorisation s_0 x s_1 x .. of ncomp,
/// fastest first: component c = c_0 + s_0 (c_1 + s_1 (c_2 + ..)), e.g. channels x samples. Lines
/// along channel axis k (lines_along_channel) then have s_k points a stride of
/// cstride * s_0 .. s_{k-1} apart: dense layers, Monarch factors and FNO channel mixing run
/// along them without moving data. Undeclared, the shape is {ncomp}.
template <class T>
class Field {
 public:
  using value_type = T;
  Field() = default;
  explicit Field(Pencil pencil, int ncomp = 1, std::array<int, 3> halo = {0, 0, 0})
      : pencil_(std::move(pencil)), ncomp_(ncomp), halo_(halo), channels_{ncomp} {
    long storage = 0;
    layout_ = local_layout(pencil_, ncomp, halo, &storage);
    data_.resize(static_cast<std::size_t>(storage));
    std::fill(data_.data(), data_.data() + data_.size(), T(0));
  }
  /// A field whose components have the channel shape `channels` (ncomp = their product).
  Field(Pencil pencil, const std::vector<long>& channels, std::array<int, 3> halo = {0, 0, 0})
      : Field(std::move(pencil), channel_count(channels), halo) {
    channels_ = channels;
  }
  Field(Field&&) noexcept = default;
  Field& operator=(Field&&) noexcept = default;

  const Pencil& pencil() const { return pencil_; }
  core::MemorySpace space() const { return core::MemorySpace::Host; }
  int components() const { return ncomp_; }
  /// The declared channel shape (fastest first); {components()} unless declared.
  const std::vector<long>& channels() const { return channels_; }
  /// Declares the channel shape (a factorisation of components(); the data stay where they are).
  void set_channels(const std::vector<long>& channels) {
    if (channel_count(channels) != ncomp_)
      throw Error("a channel shape of " + std::to_string(channel_count(channels)) + " components for a field of " +
                  std::to_string(ncomp_));
    channels_ = channels;
  }
  /// The product of a channel shape (every extent at least 1).
  static int channel_count(const std::vector<long>& channels) {
    long p = 1;
    for (long s : channels) {
      if (s < 1) throw Error("channel extents must be at least 1");
      p *= s;
    }
    if (channels.empty() || p > (1L << 30)) throw Error("a channel shape needs 1 to 2^30 components in all");
    return static_cast<int>(p);
  }
  const std::array<int, 3>& halo() const { return halo_; }
  bool has_halo() const { return halo_[0] || halo_[1] || halo_[2]; }
  const LocalLayout& layout() const { return layout_; }
  /// Interior extents of the local box along x, y, z.
  const std::array<long, 3>& extent() const { return pencil_.box().n; }
  long local_points() const { return pencil_.box().volume(); }

  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::size_t storage_size() const { return data_.size(); }
  /// Pointer to interior point (0,0,0) of component c.
  T* origin(int c = 0) { return data_.data() + layout_.offset + c * layout_.cstride; }
  const T* origin(int c = 0) const { return data_.data() + layout_.offset + c * layout_.cstride; }

  /// Local indices along x, y, z (negative or past the end reach into halos).
  T& operator()(long i, long j, long k, int c = 0) {
    return origin(c)[i * layout_.stride[0] + j * layout_.stride[1] + k * layout_.stride[2]];
  }
  const T& operator()(long i, long j, long k, int c = 0) const {
    return origin(c)[i * layout_.stride[0] + j * layout_.stride[1] + k * layout_.stride[2]];
  }

  void fill(T v) { std::fill(data_.data(), data_.data() + data_.size(), v); }

 private:
  Pencil pencil_;
  int ncomp_ = 1;
  std::array<int, 3> halo_{0, 0, 0};
  LocalLayout layout_;
  std::vector<long> channels_{1};
  core::HostBuffer<T> data_;
};

using RealField = Field<double>;
using ComplexField = Field<std::complex<double>>;

}  // namespace kron::layout
