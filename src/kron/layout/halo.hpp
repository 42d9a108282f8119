#pragma once
#include <array>
#include <memory>

#include "kron/layout/field.hpp"

namespace kron::layout {

/// A planned halo exchange for fields on one pencil: width[a] ghost layers on both sides of
/// axis a, periodic or not per axis. Works in every pencil orientation, for uneven and empty
/// blocks and for widths larger than a neighbour's block (values then come from several
/// ranks). Axes are exchanged in order x, y, z, each including the halos already filled, so
/// edge and corner ghosts are filled too. Non-periodic outer ghosts are left untouched (they
/// belong to boundary conditions). Device fields are packed and unpacked by device box copies,
/// their messages sent as device buffers where MPI is CUDA-aware and staged through pinned host
/// memory otherwise.
template <class T>
class HaloExchange {
 public:
  HaloExchange(const Pencil& pencil, std::array<int, 3> width, std::array<bool, 3> periodic, int ncomp = 1);
  ~HaloExchange();
  HaloExchange(HaloExchange&&) noexcept;
  HaloExchange& operator=(HaloExchange&&) noexcept;

  /// `f` must live on the plan's pencil with halo widths >= the plan's widths.
  void execute(Field<T>& f) const;
  /// Bytes of the message buffers it keeps between calls (they grow on first use).
  std::size_t buffer_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::layout
