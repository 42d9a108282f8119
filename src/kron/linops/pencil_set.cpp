#include "kron/linops/pencil_set.hpp"

#include <algorithm>

namespace kron::linops {

PencilSet::PencilSet(layout::ProcessGridPtr grid, std::array<long, 3> n, layout::TransposeMethod method)
    : grid_(std::move(grid)), n_(n), method_(method) {
  for (int p = 0; p < 3; ++p) pencils_[p] = layout::Pencil(n, grid_, p);
}

layout::RealField& PencilSet::field(int p) {
  if (!fields_[p]) fields_[p] = std::make_unique<layout::RealField>(pencils_[p]);
  return *fields_[p];
}

int PencilSet::home(int axis, int current) const {
  return pencils_[current].splits(axis) == 1 ? current : axis;
}

const layout::Transpose<double>& PencilSet::plan(int from, int to) {
  auto& t = plans_[{from, to}];
  if (!t) t = std::make_unique<layout::Transpose<double>>(pencils_[from], pencils_[to], 1, method_);
  return *t;
}

void PencilSet::move(int from, int to) {
  if (from == to) return;
  plan(from, to).execute(field(from), field(to), &work_);
}

std::size_t PencilSet::bytes() const {
  std::size_t b = work_.send.size() + work_.recv.size();
  for (const auto& f : fields_) if (f) b += sizeof(double) * f->storage_size();
  return b;
}

void PencilSet::move_in(const layout::RealField& src, int to) {
  const int from = src.pencil().axis();
  if (from == to) {
    std::copy(src.data(), src.data() + src.storage_size(), field(to).data());
    return;
  }
  plan(from, to).execute(src, field(to), &work_);
}

}  // namespace kron::linops
