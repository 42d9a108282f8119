#include "kron/linops/pencil_workspace.hpp"

#include "kron/layout/field_ops.hpp"

namespace kron::linops {

PencilWorkspace::PencilWorkspace(layout::ProcessGridPtr grid, layout::TransposeMethod method, core::MemorySpace space)
    : grid_(std::move(grid)), method_(method), space_(space) {}

PencilWorkspace::~PencilWorkspace() = default;

template <>
PencilWorkspace::Store<double>& PencilWorkspace::store<double>() { return real_; }
template <>
PencilWorkspace::Store<std::complex<double>>& PencilWorkspace::store<std::complex<double>>() { return cplx_; }

template <class T>
layout::Field<T>& PencilWorkspace::field(int axis, const std::array<long, 3>& global, int ncomp, int slot) {
  auto& f = store<T>().fields[Key{axis, global, ncomp, slot}];
  if (!f) f = std::make_unique<layout::Field<T>>(layout::Pencil(global, grid_, axis), ncomp, std::array<int, 3>{0, 0, 0}, space_);
  return *f;
}

template <class T>
void PencilWorkspace::transpose(const layout::Field<T>& from, layout::Field<T>& to) {
  const int a = from.pencil().axis(), b = to.pencil().axis();
  if (a == b) {
    layout::ops::copy(from, to);
    return;
  }
  auto& plan = store<T>().plans[TKey{a, b, from.pencil().global(), from.components()}];
  if (!plan) plan = std::make_unique<layout::Transpose<T>>(from.pencil(), to.pencil(), from.components(), method_);
  plan->execute(from, to, &twork_);
}

std::size_t PencilWorkspace::bytes() const {
  std::size_t b = twork_.send.size() + twork_.recv.size() + lines_.bytes();
  for (const auto& [k, f] : real_.fields) b += sizeof(double) * f->storage_size();
  for (const auto& [k, f] : cplx_.fields) b += sizeof(std::complex<double>) * f->storage_size();
  return b;
}

template layout::Field<double>& PencilWorkspace::field<double>(int, const std::array<long, 3>&, int, int);
template layout::Field<std::complex<double>>& PencilWorkspace::field<std::complex<double>>(int, const std::array<long, 3>&, int, int);
template void PencilWorkspace::transpose<double>(const layout::Field<double>&, layout::Field<double>&);
template void PencilWorkspace::transpose<std::complex<double>>(const layout::Field<std::complex<double>>&,
                                                               layout::Field<std::complex<double>>&);

}  // namespace kron::linops
