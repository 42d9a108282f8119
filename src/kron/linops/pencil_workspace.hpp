#pragma once
#include <array>
#include <complex>
#include <map>
#include <memory>
#include <tuple>

#include "kron/core/memory.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/transpose.hpp"

namespace kron::linops {

/// Caller-owned scratch for operators on one process grid (cuDecomp's and heFFTe's model):
/// pencil fields keyed by (value type, pencil axis, global shape, components, slot), the
/// transposes between them planned once, and the line kernels' scratch. Operators used one
/// after the other share one workspace; nothing is allocated once every shape has been met.
/// A workspace lives in one memory space: its fields are host or device fields, and the
/// operators run on it run their host or device executors.
class PencilWorkspace {
 public:
  explicit PencilWorkspace(layout::ProcessGridPtr grid, layout::TransposeMethod method = layout::TransposeMethod::Alltoallv,
                           core::MemorySpace space = core::MemorySpace::Host);
  ~PencilWorkspace();
  PencilWorkspace(const PencilWorkspace&) = delete;
  PencilWorkspace& operator=(const PencilWorkspace&) = delete;

  const layout::ProcessGridPtr& grid() const { return grid_; }
  core::MemorySpace space() const { return space_; }
  /// The scratch field of the pencil of `axis` over `global`, `ncomp` components, slot `slot`.
  template <class T>
  layout::Field<T>& field(int axis, const std::array<long, 3>& global, int ncomp, int slot);
  /// to = from, between pencils of the same global array (planned on first use).
  template <class T>
  void transpose(const layout::Field<T>& from, layout::Field<T>& to);
  core::Workspace& lines() { return lines_; }
  /// Bytes held: fields, transpose buffers and line scratch.
  std::size_t bytes() const;

 private:
  using Key = std::tuple<int, std::array<long, 3>, int, int>;  // axis, global, ncomp, slot
  using TKey = std::tuple<int, int, std::array<long, 3>, int>;  // from, to, global, ncomp
  template <class T>
  struct Store {
    std::map<Key, std::unique_ptr<layout::Field<T>>> fields;
    std::map<TKey, std::unique_ptr<layout::Transpose<T>>> plans;
  };
  template <class T>
  Store<T>& store();
  layout::ProcessGridPtr grid_;
  layout::TransposeMethod method_;
  core::MemorySpace space_;
  Store<double> real_;
  Store<std::complex<double>> cplx_;
  layout::TransposeWork twork_;
  core::Workspace lines_;
};

}  // namespace kron::linops
