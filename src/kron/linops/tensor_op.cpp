#include "kron/linops/tensor_op.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <sstream>

#include "kron/core/error.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/layout/field_ops.hpp"

namespace kron::linops {

namespace {
// out = in (or out += in) on every line of two views of equal shape.
template <class T>
void pass_through(const LineView<T>& in, const LineView<T>& out, bool acc) {
  if (in.n <= 0) return;
  if (in.on_device()) {
    // The lines as a box: inner x n x outer.
    layout::copy_box_device<T>(in.p, {1, in.inner, in.ostride}, out.p, {1, out.inner, out.ostride}, {in.inner, in.n, in.outer}, acc);
    return;
  }
  for (long o = 0; o < in.outer; ++o)
    for (long i = 0; i < in.n; ++i) {
      const T* a = in.p + o * in.ostride + i * in.inner;
      T* b = out.p + o * out.ostride + i * out.inner;
      if (acc)
        for (long j = 0; j < in.inner; ++j) b[j] += a[j];
      else
        std::copy(a, a + in.inner, b);
    }
}
}  // namespace

template <class T>
TensorOp<T>::TensorOp(layout::ProcessGridPtr grid, std::array<long, 3> in_shape, int ncomp, std::vector<Stage> stages, Options opt)
    : TensorOp(std::move(grid), in_shape, std::vector<long>{ncomp < 1 ? 0L : long(ncomp)}, std::move(stages), opt) {}

template <class T>
TensorOp<T>::TensorOp(layout::ProcessGridPtr grid, std::array<long, 3> in_shape, std::vector<long> in_channels, std::vector<Stage> stages,
                      Options opt)
    : grid_(std::move(grid)), in_(in_shape), opt_(opt), stages_(std::move(stages)) {
  if (in_channels.empty() || std::any_of(in_channels.begin(), in_channels.end(), [](long c) { return c < 1; }))
    throw Error("TensorOp: at least one component (channel extents at least 1)");
  ncomp_ = layout::Field<T>::channel_count(in_channels);
  chan_in_ = in_channels;
  if (opt_.in_axis < 0 || opt_.in_axis > 2) throw Error("TensorOp: the input pencil must be 0, 1 or 2");
  if (opt_.out_axis < -1 || opt_.out_axis > 2) throw Error("TensorOp: the output pencil must be -1, 0, 1 or 2");
  out_ = in_;
  chan_out_ = chan_in_;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    const Stage& st = stages_[s];
    const std::string name = "TensorOp: stage " + std::to_string(s);
    const int nch = static_cast<int>(chan_out_.size());
    if (!st.op || st.axis < 0 || st.axis >= 3 + nch) throw Error(name + " has no operator or a bad axis");
    const bool channel = st.axis >= 3;
    long& extent = channel ? chan_out_[static_cast<std::size_t>(st.axis - 3)] : out_[st.axis];
    const std::string where = channel ? "along channel axis " + std::to_string(st.axis - 3) : std::string("along axis ") + "xyz"[st.axis];
    const long need = st.trans == Trans::N ? st.op->cols() : st.op->rows();
    if (st.lo >= 0) {
      if (st.op->rows() != st.op->cols()) throw Error(name + " (" + st.op->describe() + "): a ranged stage needs a square operator");
      if (st.lo + need > extent)
        throw Error(name + " (" + st.op->describe() + ") covers points " + std::to_string(st.lo) + " to " + std::to_string(st.lo + need - 1) +
                    " " + where + ", the data have " + std::to_string(extent));
      continue;
    }
    if (extent != need)
      throw Error(name + " (" + st.op->describe() + ") expects " + std::to_string(need) + " points " + where + ", the data have " +
                  std::to_string(extent));
    extent = st.trans == Trans::N ? st.op->rows() : st.op->cols();
  }
  layout::Field<T>::channel_count(chan_out_);  // range check of the output's component count
  fwd_ = plan(false, Trans::N);
  out_axis_ = fwd_.empty() ? opt_.in_axis : fwd_.back().axis;
  tr_ = plan(true, Trans::T);
  ad_ = plan(true, Trans::H);
}

// The order of the stages (local axes first; same-axis stages in order) and the transposes.
template <class T>
std::vector<typename TensorOp<T>::Step> TensorOp<T>::plan(bool transposed, Trans t) const {
  struct Pending {
    int stage;
    Trans trans;
    bool conj;
  };
  std::vector<Pending> pending;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    const std::size_t i = transposed ? stages_.size() - 1 - s : s;
    // (op(A))^T and (op(A))^H: N -> t, t -> N; the remaining pairs, (A^H)^T and (A^T)^H, are
    // conj(A) (for real data T and H are the same).
    Trans tt = stages_[i].trans;
    bool cj = false;
    if (transposed) {
      if (tt == Trans::N) tt = t;
      else if (tt == t || std::is_same_v<T, double>) tt = Trans::N;
      else {
        tt = Trans::N;
        cj = true;
      }
    }
    pending.push_back({static_cast<int>(i), tt, cj});
  }
  // Stages along different axes commute; those along one axis keep their order. Among the
  // orders this allows, take the one that moves the fewest values: a stage reads and writes its
  // data, a transpose costs about three times its data (pack, exchange, unpack), so shrinking
  // stages (restrictions) run before expanding ones (lifts, interpolation to finer grids) when
  // that saves more than the transposes it adds. Ties keep the greedy order (local axes first,
  // then the stages in the order given). Chains are short (a few stages), so the search is
  // exhaustive.
  const int start = transposed ? out_axis_ : opt_.in_axis;
  const std::array<long, 3> shape0 = transposed ? out_ : in_;
  const std::vector<long> chan0 = transposed ? chan_out_ : chan_in_;
  // Values moved: points times components.
  auto volume = [](const std::array<long, 3>& s, const std::vector<long>& ch) {
    double v = double(s[0]) * double(s[1]) * double(s[2]);
    for (long c : ch) v *= double(c);
    return v;
  };
  // Channel axes are whole in every pencil.
  auto whole = [&](const std::array<long, 3>& s, int cur, int a) { return a >= 3 || layout::Pencil(s, grid_, cur).splits(a) == 1; };
  // The extents after stage q: its axis' length changes (not for ranged stages).
  auto after = [&](const Pending& p, std::array<long, 3>& s, std::vector<long>& ch) {
    const Stage& st = stages_[p.stage];
    if (st.lo >= 0) return;
    const long len = p.trans == Trans::N ? st.op->rows() : st.op->cols();
    if (st.axis >= 3) ch[static_cast<std::size_t>(st.axis - 3)] = len;
    else s[st.axis] = len;
  };
  std::vector<int> order, best;
  std::vector<char> used(pending.size(), 0);
  double best_cost = INFINITY;
  auto end_of = [&](int cur) { return transposed ? opt_.in_axis : opt_.out_axis >= 0 ? opt_.out_axis : opt_.return_to_x ? 0 : cur; };
  std::function<void(int, std::array<long, 3>, std::vector<long>, double)> search = [&](int cur, std::array<long, 3> shape,
                                                                                         std::vector<long> chan, double cost) {
    if (cost >= best_cost) return;
    if (order.size() == pending.size()) {
      const int end = end_of(cur);
      if (cur != end) cost += 3 * volume(shape, chan);
      if (cost < best_cost) {
        best_cost = cost;
        best = order;
      }
      return;
    }
    // Candidates: the first unused stage of each axis, those whole in the current pencil first.
    std::vector<std::size_t> cand;
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t q = 0; q < pending.size(); ++q) {
        if (used[q]) continue;
        const int a = stages_[pending[q].stage].axis;
        bool first = true;
        for (std::size_t r = 0; r < q; ++r) first = first && (used[r] || stages_[pending[r].stage].axis != a);
        if (first && whole(shape, cur, a) == (pass == 0)) cand.push_back(q);
      }
    for (std::size_t q : cand) {
      const Stage& st = stages_[pending[q].stage];
      double c = cost;
      int at = cur;
      if (!whole(shape, cur, st.axis)) {
        c += 3 * volume(shape, chan);
        at = st.axis;
      }
      std::array<long, 3> next = shape;
      std::vector<long> nch = chan;
      after(pending[q], next, nch);
      c += volume(shape, chan) + volume(next, nch);
      used[q] = 1;
      order.push_back(static_cast<int>(q));
      search(at, next, nch, c);
      order.pop_back();
      used[q] = 0;
    }
  };
  search(start, shape0, chan0, 0.0);
  std::vector<Step> steps;
  std::array<long, 3> shape = shape0;
  std::vector<long> chan = chan0;
  int cur = start;
  for (int q : best) {
    const Pending& p = pending[static_cast<std::size_t>(q)];
    const Stage& st = stages_[p.stage];
    if (!whole(shape, cur, st.axis)) {
      cur = st.axis;
      steps.push_back({-1, cur, shape, chan, Trans::N, false});
    }
    after(p, shape, chan);
    steps.push_back({p.stage, cur, shape, chan, p.trans, p.conj});
  }
  // Back to where the data are expected: x (or the input's pencil, transposed plans of a plan
  // that ends elsewhere).
  const int end = end_of(cur);
  if (cur != end) steps.push_back({-1, end, shape, chan, Trans::N, false});
  return steps;
}

template <class T>
void TensorOp<T>::check(const layout::Field<T>& f, const std::array<long, 3>& shape, const std::vector<long>& chan, int axis,
                        const char* what) const {
  const int nc = layout::Field<T>::channel_count(chan);
  // A declared channel shape must be the plan's; where either has none ({components}), only the
  // count matters.
  const bool channels_ok = f.channels() == chan || f.channels().size() == 1 || chan.size() == 1;
  if (f.pencil().axis() != axis || f.pencil().global() != shape || f.pencil().grid_ptr() != grid_ || f.components() != nc ||
      !channels_ok || f.has_halo()) {
    auto shape_of = [](const std::vector<long>& c) {
      std::string t;
      for (long x : c) t += (t.empty() ? "" : " x ") + std::to_string(x);
      return t;
    };
    std::ostringstream os;
    os << "TensorOp: the " << what << " field (" << f.pencil().describe() << ", " << f.components() << " components as "
       << shape_of(f.channels()) << ") does not fit the plan: " << "xyz"[axis] << "-pencil of " << shape[0] << " x " << shape[1]
       << " x " << shape[2] << ", " << nc << " component(s) as " << shape_of(chan) << ", no halos";
    throw Error(os.str(), {}, "vector fields need a plan with as many components; the plan's grid must be the field's");
  }
}

template <class T>
layout::Field<T>& TensorOp<T>::run(const std::vector<Step>& steps, const layout::Field<T>& in, layout::Field<T>* out_ptr,
                                   PencilWorkspace& ws, bool accumulate, bool destroy_input, bool dry) const {
  if (in.space() != ws.space() || (out_ptr && out_ptr->space() != ws.space()))
    throw Error(std::string("TensorOp: the input is in ") + core::to_string(in.space()) + " memory" +
                    (out_ptr ? std::string(", the output in ") + core::to_string(out_ptr->space()) + " memory" : std::string()) +
                    ", the workspace in " + core::to_string(ws.space()) + " memory",
                {}, "give the operator a PencilWorkspace of the fields' memory space");
  if (steps.empty()) {
    if (!out_ptr) return const_cast<layout::Field<T>&>(in);
    if (accumulate) layout::ops::axpy(1.0, in, *out_ptr);
    else layout::ops::copy(in, *out_ptr);
    return *out_ptr;
  }
  const layout::Field<T>* src = &in;
  int slot = 0;
  const int end = out_ptr ? out_ptr->pencil().axis() : -1;
  // The channel shape of the data before each step (the plan's input, or output for transposed plans).
  std::vector<long> chan = &steps == &fwd_ ? chan_in_ : chan_out_;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const Step& st = steps[s];
    const bool last = s + 1 == steps.size();
    const int nc = layout::Field<T>::channel_count(st.chan);
    // The last step writes `out` itself when it ends in out's pencil (no accumulation through a
    // transpose); a stage whose operator works in place overwrites the workspace field it reads
    // (no second field streams through the caches); otherwise the next free workspace field.
    const bool direct = out_ptr && last && st.axis == end && (st.stage >= 0 || !accumulate);
    const bool in_place = !direct && st.stage >= 0 && (src != &in || destroy_input) && !st.conj && stages_[st.stage].op->in_place() &&
                          src->pencil().global() == st.shape && src->components() == nc;
    // A workspace field that is neither the step's input nor the plan's input or output (which
    // may themselves live in the workspace).
    auto scratch = [&]() -> layout::Field<T>& {
      for (int s2 : {slot, slot ^ 1, 5}) {
        layout::Field<T>& f = ws.field<T>(st.axis, st.shape, nc, s2);
        if (&f != src && &f != &in && &f != out_ptr) {
          slot = s2 == 5 ? slot : s2;
          return f;
        }
      }
      throw Error("internal: TensorOp found no free workspace field");
    };
    layout::Field<T>& dst = direct ? *out_ptr : in_place ? const_cast<layout::Field<T>&>(*src) : scratch();
    if (dry) {  // reserve(): the fields only
      if (&dst != src) slot ^= 1;
      src = &dst;
      chan = st.chan;
      continue;
    }
    if (st.stage < 0) {
      ws.transpose(*src, dst);
    } else {
      const Stage& g = stages_[st.stage];
      auto* s_in = const_cast<layout::Field<T>*>(src);
      // Lines along a spatial axis, or along a channel axis of the shape before/after the stage.
      auto lines_in = [&](layout::Field<T>& f) { return g.axis >= 3 ? lines_along_channel(f, chan, g.axis - 3) : lines_along(f, g.axis); };
      auto lines_out = [&](layout::Field<T>& f) {
        return g.axis >= 3 ? lines_along_channel(f, st.chan, g.axis - 3) : lines_along(f, g.axis);
      };
      if (st.conj) {
        // conj(A) x = conj(A conj(x)): through a conjugated copy, then conjugate the result.
        layout::Field<T>& c = ws.field<T>(src->pencil().axis(), src->pencil().global(), src->components(), 2);
        layout::ops::copy(*src, c);
        layout::ops::conj(c);
        s_in = &c;
      }
      const bool acc = direct && accumulate && !st.conj;
      if (st.conj && direct && accumulate) {
        layout::Field<T>& r = ws.field<T>(st.axis, st.shape, nc, 3);
        g.op->apply(lines_in(*s_in), lines_out(r), st.trans, false, &ws.lines());
        layout::ops::conj(r);
        layout::ops::axpy(1.0, r, dst);
      } else if (g.lo >= 0) {
        // Ranged: the operator on points lo .. lo+n-1, the identity on the others.
        const LineView<T> li = lines_in(*s_in), lo = lines_out(dst);
        const long m = g.op->cols();
        g.op->apply(li.range(g.lo, m), lo.range(g.lo, m), st.trans, acc, &ws.lines());
        if (li.p != lo.p) {  // in place, the identity part is already where it belongs
          pass_through(li.range(0, g.lo), lo.range(0, g.lo), acc);
          pass_through(li.range(g.lo + m, li.n - g.lo - m), lo.range(g.lo + m, li.n - g.lo - m), acc);
        }
        if (st.conj) layout::ops::conj(dst);
      } else {
        g.op->apply(lines_in(*s_in), lines_out(dst), st.trans, acc, &ws.lines());
        if (st.conj) layout::ops::conj(dst);
      }
    }
    chan = st.chan;
    if (last && !direct && out_ptr) {
      if (accumulate) layout::ops::axpy(1.0, dst, *out_ptr);
      else layout::ops::copy(dst, *out_ptr);
    }
    if (&dst != src) slot ^= 1;
    src = &dst;
  }
  if (out_ptr) return *out_ptr;
  // A workspace field carries the channel shape of the result.
  auto& res = const_cast<layout::Field<T>&>(*src);
  if (&res != &in) res.set_channels(chan);
  return res;
}

template <class T>
void TensorOp<T>::apply(const layout::Field<T>& in, layout::Field<T>& out, PencilWorkspace& ws, bool accumulate) const {
  core::ScopedTimer timer("linops.tensor_op");
  check(in, in_, chan_in_, opt_.in_axis, "input");
  check(out, out_, chan_out_, out_axis_, "output");
  if (&in == &out) throw Error("TensorOp::apply: input and output must be different fields");
  run(fwd_, in, &out, ws, accumulate, false, false);
}

template <class T>
layout::Field<T>& TensorOp<T>::reserve(layout::Field<T>& in, PencilWorkspace& ws, bool destroy_input) const {
  check(in, in_, chan_in_, opt_.in_axis, "input");
  return run(fwd_, in, nullptr, ws, false, destroy_input, true);
}

template <class T>
layout::Field<T>& TensorOp<T>::apply(layout::Field<T>& in, PencilWorkspace& ws, bool destroy_input) const {
  core::ScopedTimer timer("linops.tensor_op");
  check(in, in_, chan_in_, opt_.in_axis, "input");
  return run(fwd_, in, nullptr, ws, false, destroy_input, false);
}

template <class T>
void TensorOp<T>::apply_transpose(const layout::Field<T>& in, layout::Field<T>& out, PencilWorkspace& ws, Trans t,
                                  bool accumulate) const {
  core::ScopedTimer timer("linops.tensor_op");
  if (t == Trans::N) throw Error("TensorOp::apply_transpose: use Trans::T or Trans::H");
  check(in, out_, chan_out_, out_axis_, "input");
  check(out, in_, chan_in_, opt_.in_axis, "output");
  if (&in == &out) throw Error("TensorOp::apply_transpose: input and output must be different fields");
  run(t == Trans::T ? tr_ : ad_, in, &out, ws, accumulate, false, false);
}

template <class T>
std::string TensorOp<T>::describe() const {
  std::ostringstream os;
  for (const Step& s : fwd_) {
    if (os.tellp() > 0) os << ", ";
    if (s.stage < 0) os << "transpose to " << "xyz"[s.axis] << "-pencil";
    else os << stages_[s.stage].op->describe() << (s.trans == Trans::N ? "" : s.trans == Trans::T ? "^T" : "^H") << " along "
            << (stages_[s.stage].axis >= 3 ? "channel " + std::to_string(stages_[s.stage].axis - 3) : std::string(1, "xyz"[stages_[s.stage].axis]));
  }
  return os.str().empty() ? "identity" : os.str();
}

template <class T>
std::size_t TensorOp<T>::workspace_bytes() const {
  std::size_t field = 0, lines = 0;
  for (const Step& s : fwd_) {
    const layout::Pencil p(s.shape, grid_, s.axis);
    const long nc = layout::Field<T>::channel_count(s.chan);
    field = std::max(field, sizeof(T) * static_cast<std::size_t>(p.local_size() * nc));
    if (s.stage >= 0) {
      const int a = stages_[s.stage].axis;
      const long len = a >= 3 ? s.chan[static_cast<std::size_t>(a - 3)] : p.box().n[a];
      lines = std::max(lines, stages_[s.stage].op->workspace_bytes(p.local_size() * nc / std::max<long>(len, 1)));
    }
  }
  return 2 * field + lines;
}

template class TensorOp<double>;
template class TensorOp<std::complex<double>>;

}  // namespace kron::linops
