#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kron/layout/field.hpp"
#include "kron/linops/line_op.hpp"
#include "kron/linops/pencil_workspace.hpp"

namespace kron::linops {

/// The one axis driver: a chain of stages, each a LineOp applied along one axis (op(A) with its
/// Trans), planned once (heFFTe's plan/execute split): the order in which the stages run (stages
/// along different axes commute, so those along axes local to the current pencil go first; stages
/// along one axis keep their order), the pencil and global shape of every step (a rectangular
/// stage changes its axis' length), and the transposes between them. Kronecker products,
/// sum-factorization, fast-diagonalization transforms, interpolation to other grids and
/// covariance products are TensorOps; Kronecker sums are sums of one-stage TensorOps.
///
/// Input and output are x-pencil fields without halos of in_shape() and out_shape(), with the
/// plan's component count (every component goes through every stage); scratch comes from a
/// caller-owned PencilWorkspace.
template <class T>
class TensorOp {
 public:
  struct Stage {
    /// 0, 1, 2: a spatial axis; channel_axis(k) = 3 + k: axis k of the channel shape (no
    /// transposes: every pencil holds whole channel lines; a rectangular stage changes s_k and
    /// so the component count).
    int axis = 0;
    std::shared_ptr<const LineOp<T>> op;
    Trans trans = Trans::N;
    /// A square operator applied to points lo .. lo+n-1 of each line only, the identity on the
    /// others (interior solves and transforms between boundary points); -1: the whole line.
    long lo = -1;
  };
  /// Where the data are: the pencil of the input, and whether the output goes back to the
  /// x-pencil or stays in the pencil of the last stage (saving a transpose when the caller works
  /// there next, as a fast-diagonalization solve does between its sweeps).
  struct Options {
    int in_axis = 0;
    bool return_to_x = true;
    /// The pencil the output must end in (overrides return_to_x; -1: as return_to_x says), e.g.
    /// a lift accumulated into a field the caller holds in a given pencil.
    int out_axis = -1;
  };
  static constexpr int channel_axis(int k) { return 3 + k; }
  TensorOp() = default;
  TensorOp(layout::ProcessGridPtr grid, std::array<long, 3> in_shape, int ncomp, std::vector<Stage> stages, Options opt = {});
  /// Input components with a channel shape (fastest first), for stages along channel axes.
  TensorOp(layout::ProcessGridPtr grid, std::array<long, 3> in_shape, std::vector<long> in_channels, std::vector<Stage> stages,
           Options opt = {});

  const std::array<long, 3>& in_shape() const { return in_; }
  const std::array<long, 3>& out_shape() const { return out_; }
  /// The pencils input and output live in (apply_transpose maps output's pencil to input's).
  int in_axis() const { return opt_.in_axis; }
  int out_axis() const { return out_axis_; }
  /// Components (and channel shapes) of input and output.
  int components() const { return ncomp_; }
  int out_components() const { return layout::Field<T>::channel_count(chan_out_); }
  const std::vector<long>& in_channels() const { return chan_in_; }
  const std::vector<long>& out_channels() const { return chan_out_; }
  const std::vector<Stage>& stages() const { return stages_; }

  /// out = A in, or out += A in (accumulate), A the product of the stages; in on in_axis(),
  /// out on out_axis() pencils, without halos.
  void apply(const layout::Field<T>& in, layout::Field<T>& out, PencilWorkspace& ws, bool accumulate = false) const;
  /// The result left in the workspace (a field on out_axis(); valid until the workspace's next
  /// use): no copy into a caller's field. destroy_input: stages that work in place may overwrite
  /// `in` (scratch the caller no longer needs), so no second field streams through the caches.
  layout::Field<T>& apply(layout::Field<T>& in, PencilWorkspace& ws, bool destroy_input) const;
  /// Allocates (first-touches) the workspace fields that apply(in, ws, destroy_input) will use,
  /// without computing: a solver's setup takes the page faults, not its first solve. Returns the
  /// field apply(in, ws, destroy_input) will return.
  layout::Field<T>& reserve(layout::Field<T>& in, PencilWorkspace& ws, bool destroy_input) const;
  /// out = A^T in or A^H in (t = T or H): the stages in reverse order, each transposed; maps
  /// out_shape() to in_shape().
  void apply_transpose(const layout::Field<T>& in, layout::Field<T>& out, PencilWorkspace& ws, Trans t = Trans::T,
                       bool accumulate = false) const;
  std::string describe() const;
  /// Scratch bytes the workspace will hold for one apply (two fields of the largest step, the
  /// line kernels' scratch).
  std::size_t workspace_bytes() const;

 private:
  struct Step {
    int stage = -1;                // stage index, or -1: a transpose to `axis`
    int axis = 0;                  // the pencil the step runs in (stage) or moves to (transpose)
    std::array<long, 3> shape{};   // global shape after the step
    std::vector<long> chan;        // channel shape after the step
    Trans trans = Trans::N;
    bool conj = false;             // apply conj(A) = conj(A conj(x)) (transposes of T/H stages)
  };
  std::vector<Step> plan(bool transposed, Trans t) const;
  layout::Field<T>& run(const std::vector<Step>& steps, const layout::Field<T>& in, layout::Field<T>* out, PencilWorkspace& ws,
                        bool accumulate, bool destroy_input, bool dry) const;
  void check(const layout::Field<T>& f, const std::array<long, 3>& shape, const std::vector<long>& chan, int axis, const char* what) const;

  layout::ProcessGridPtr grid_;
  std::array<long, 3> in_{1, 1, 1}, out_{1, 1, 1};
  int ncomp_ = 1;
  std::vector<long> chan_in_{1}, chan_out_{1};
  Options opt_;
  int out_axis_ = 0;
  std::vector<Stage> stages_;
  std::vector<Step> fwd_, tr_, ad_;
};

extern template class TensorOp<double>;
extern template class TensorOp<std::complex<double>>;

}  // namespace kron::linops
