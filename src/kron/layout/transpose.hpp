#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/memory.hpp"
#include "kron/core/mpi.hpp"
#include "kron/layout/field.hpp"

namespace kron::layout {

/// How a transpose moves data: pack into contiguous messages + MPI_Alltoallv + unpack, or
/// MPI_Alltoallw with derived datatypes that describe the strided boxes directly.
enum class TransposeMethod { Alltoallv, Alltoallw };
const char* to_string(TransposeMethod m);
TransposeMethod parse_transpose_method(const std::string& s);

/// Caller-owned scratch for transposes; reuse one across many calls (and plans) to avoid
/// allocation on the hot path. Grows on demand.
struct TransposeWork {
  core::HostBuffer<unsigned char> send, recv;
  // Device transposes: messages packed in device memory, and pinned host copies of them where
  // MPI is not CUDA-aware.
  core::DeviceBytes dsend, drecv;
  core::PinnedBytes hsend, hrecv;
};

/// A planned global transpose between two pencils of the same global array and process grid
/// (x<->y within comm1, y<->z within comm2, x<->z over the whole grid). Plan once, execute
/// many times. Fields may carry components and halos (only interiors move).
template <class T>
class Transpose {
 public:
  Transpose(const Pencil& from, const Pencil& to, int ncomp = 1, TransposeMethod method = TransposeMethod::Alltoallv,
            std::array<int, 3> halo_from = {0, 0, 0}, std::array<int, 3> halo_to = {0, 0, 0});
  ~Transpose();
  Transpose(Transpose&&) noexcept;
  Transpose& operator=(Transpose&&) noexcept;

  /// `in` and `out` must have the pencils, components and halos of the plan, and be in one
  /// memory space: device fields are packed and unpacked by device kernels, and their messages
  /// go to MPI as device buffers where MPI is CUDA-aware, through pinned host memory otherwise
  /// (core::mpi_device_path); both methods pack on the device.
  void execute(const Field<T>& in, Field<T>& out, TransposeWork* work = nullptr) const;
  /// Raw form: storage pointers (Field::data()) laid out as the plan's fields.
  void execute(const T* in, T* out, TransposeWork* work = nullptr) const;
  /// Raw form on device storage (pointers into this rank's GPU memory).
  void execute_device(const T* in, T* out, TransposeWork* work = nullptr) const;

  /// A part of the destination's local box and where it is stored: global box, pointer to its
  /// element (lo, component 0), strides along x, y, z and between components.
  struct Piece {
    Box box;
    const T* p = nullptr;
    std::array<long, 3> stride{};
    long cstride = 0;
  };
  /// The exchange alone, for a consumer that reads the destination's data where they are (a
  /// line transform gathering its panels) instead of a reordered copy: the parts for other
  /// ranks are packed and exchanged into work.recv; the local part stays in `in`. Returns the
  /// pieces covering the destination's local box (valid until `work` or `in` change).
  /// Alltoallv plans only (supports_exchange()).
  std::vector<Piece> exchange(const T* in, TransposeWork& work) const;
  bool supports_exchange() const;

  const Pencil& from() const;
  const Pencil& to() const;
  TransposeMethod method() const;
  /// Bytes this rank sends to other ranks per execution (for bandwidth figures).
  std::size_t bytes_moved() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::layout
