#pragma once
#include <algorithm>
#include <array>
#include <complex>
#include <string>
#include <utility>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/error.hpp"
#include "kron/core/memory.hpp"
#include "kron/layout/field_ops_device.hpp"
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
  /// Zero-initialised, in host memory or (`space` = Device) in the memory of this rank's GPU.
  explicit Field(Pencil pencil, int ncomp = 1, std::array<int, 3> halo = {0, 0, 0},
                 core::MemorySpace space = core::MemorySpace::Host)
      : pencil_(std::move(pencil)), ncomp_(ncomp), halo_(halo), channels_{ncomp}, space_(space) {
    long storage = 0;
    layout_ = local_layout(pencil_, ncomp, halo, &storage);
    if (space_ == core::MemorySpace::Device) {
      device_ = core::DeviceBuffer<T>(static_cast<std::size_t>(storage));
      core::fill_device_bytes(device_.data(), 0, device_.size() * sizeof(T));  // all-zero bits: 0.0
      ptr_ = device_.data();
      size_ = device_.size();
      return;
    }
    data_.resize(static_cast<std::size_t>(storage));
    std::fill(data_.data(), data_.data() + data_.size(), T(0));
    ptr_ = data_.data();
    size_ = data_.size();
  }
  /// A field whose components have the channel shape `channels` (ncomp = their product).
  Field(Pencil pencil, const std::vector<long>& channels, std::array<int, 3> halo = {0, 0, 0})
      : Field(std::move(pencil), channel_count(channels), halo) {
    channels_ = channels;
  }
  /// A field over memory it does not own: `data` (host, or device when `space` is Device) holds
  /// the local box in this field's layout (local_layout(pencil, ncomp, halo)): on an x-pencil
  /// without halos that is a C array [nz][ny][nx] or a Fortran array (nx, ny, nz) of the local
  /// box, per component. No copy is made; the caller keeps the memory alive while the field (or
  /// anything it was moved into) is used.
  static Field wrap(Pencil pencil, T* data, int ncomp = 1, std::array<int, 3> halo = {0, 0, 0},
                    core::MemorySpace space = core::MemorySpace::Host) {
    Field f;
    long storage = 0;
    f.layout_ = local_layout(pencil, ncomp, halo, &storage);
    if (!data && storage > 0) throw Error("a field wrapped over a null pointer (" + std::to_string(storage) + " values expected)");
    f.pencil_ = std::move(pencil);
    f.ncomp_ = ncomp;
    f.halo_ = halo;
    f.channels_ = {ncomp};
    f.space_ = space;
    f.ptr_ = data;
    f.size_ = static_cast<std::size_t>(storage);
    return f;
  }

  // The buffers own heap (or device) memory, so the cached pointer stays valid when they move.
  Field(Field&& o) noexcept
      : pencil_(std::move(o.pencil_)), ncomp_(o.ncomp_), halo_(o.halo_), layout_(o.layout_), channels_(std::move(o.channels_)),
        space_(o.space_), data_(std::move(o.data_)), device_(std::move(o.device_)), ptr_(std::exchange(o.ptr_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  Field& operator=(Field&& o) noexcept {
    if (this != &o) {
      pencil_ = std::move(o.pencil_);
      ncomp_ = o.ncomp_;
      halo_ = o.halo_;
      layout_ = o.layout_;
      channels_ = std::move(o.channels_);
      space_ = o.space_;
      data_ = std::move(o.data_);
      device_ = std::move(o.device_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  const Pencil& pencil() const { return pencil_; }
  /// Host or device memory. data() and origin() point into that space; the element accessors
  /// are for host fields only (copy a device field with to_host first).
  core::MemorySpace space() const { return space_; }
  bool on_device() const { return space_ == core::MemorySpace::Device; }
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

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t storage_size() const { return size_; }
  /// Pointer to interior point (0,0,0) of component c.
  T* origin(int c = 0) { return data() + layout_.offset + c * layout_.cstride; }
  const T* origin(int c = 0) const { return data() + layout_.offset + c * layout_.cstride; }

  /// Local indices along x, y, z (negative or past the end reach into halos).
  T& operator()(long i, long j, long k, int c = 0) {
    return origin(c)[i * layout_.stride[0] + j * layout_.stride[1] + k * layout_.stride[2]];
  }
  const T& operator()(long i, long j, long k, int c = 0) const {
    return origin(c)[i * layout_.stride[0] + j * layout_.stride[1] + k * layout_.stride[2]];
  }

  /// Every stored value (halos included) set to v, in either memory space.
  void fill(T v) {
    if (on_device()) return device_ops::fill(v, ptr_, size_);
    std::fill(ptr_, ptr_ + size_, v);
  }

 private:
  Pencil pencil_;
  int ncomp_ = 1;
  std::array<int, 3> halo_{0, 0, 0};
  LocalLayout layout_;
  std::vector<long> channels_{1};
  core::MemorySpace space_ = core::MemorySpace::Host;
  core::HostBuffer<T> data_;
  core::DeviceBuffer<T> device_;
  T* ptr_ = nullptr;  // data_ or device_, whichever holds the values
  std::size_t size_ = 0;
};

/// Host code that walks a field's storage calls this first: a device field there is a clear
/// error (the CUDA executors of that operation are not built yet), never a host loop over
/// device pointers.
template <class T>
void require_host(const Field<T>& f, const char* what) {
  if (f.on_device())
    throw Error(std::string(what) + ": a device field where this build runs the operation on host fields only", {},
                "copy the field with to_host first");
}

/// A copy of `f` (pencil, components, channel shape, halos and every stored value) in `space`;
/// host <-> device through explicit copies.
template <class T>
Field<T> copy_to_space(const Field<T>& f, core::MemorySpace space) {
  Field<T> g(f.pencil(), f.components(), f.halo(), space);
  g.set_channels(f.channels());
  const std::size_t bytes = f.storage_size() * sizeof(T);
  if (bytes == 0) return g;
  if (!f.on_device() && !g.on_device()) std::copy(f.data(), f.data() + f.storage_size(), g.data());
  else if (!f.on_device()) core::copy_to_device(g.data(), f.data(), bytes);
  else if (!g.on_device()) core::copy_to_host(g.data(), f.data(), bytes);
  else core::copy_on_device(g.data(), f.data(), bytes);
  return g;
}
template <class T>
Field<T> to_device(const Field<T>& f) { return copy_to_space(f, core::MemorySpace::Device); }
template <class T>
Field<T> to_host(const Field<T>& f) { return copy_to_space(f, core::MemorySpace::Host); }

using RealField = Field<double>;
using ComplexField = Field<std::complex<double>>;

}  // namespace kron::layout
