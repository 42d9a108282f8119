#include "kron/layout/fft.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/core/device.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/fft_lines_device.hpp"

namespace kron::layout {

const char* to_string(TransformKind k) {
  switch (k) {
    case TransformKind::None: return "none";
    case TransformKind::Fourier: return "fourier";
    case TransformKind::DCT1: return "dct1";
    case TransformKind::DCT2: return "dct2";
    case TransformKind::DCT3: return "dct3";
    case TransformKind::DST1: return "dst1";
    case TransformKind::DST2: return "dst2";
    case TransformKind::DST3: return "dst3";
  }
  return "?";
}

TransformKind parse_transform_kind(const std::string& s) {
  for (auto k : {TransformKind::None, TransformKind::Fourier, TransformKind::DCT1, TransformKind::DCT2, TransformKind::DCT3,
                 TransformKind::DST1, TransformKind::DST2, TransformKind::DST3})
    if (s == to_string(k)) return k;
  throw Error("unknown transform kind '" + s + "'", {}, "use none, fourier, dct1, dct2, dct3, dst1, dst2 or dst3");
}

namespace {

LineFft::R2R r2r_kind(TransformKind k, bool forward) {
  using R = LineFft::R2R;
  switch (k) {
    case TransformKind::DCT1: return R::REDFT00;
    case TransformKind::DCT2: return forward ? R::REDFT10 : R::REDFT01;
    case TransformKind::DCT3: return forward ? R::REDFT01 : R::REDFT10;
    case TransformKind::DST1: return R::RODFT00;
    case TransformKind::DST2: return forward ? R::RODFT10 : R::RODFT01;
    case TransformKind::DST3: return forward ? R::RODFT01 : R::RODFT10;
    default: throw Error("internal: not an r2r kind");
  }
}

double logical_size(TransformKind k, long n) {
  switch (k) {
    case TransformKind::Fourier: return double(n);
    case TransformKind::DCT1: return 2.0 * double(n - 1);
    case TransformKind::DST1: return 2.0 * double(n + 1);
    case TransformKind::None: return 1.0;
    default: return 2.0 * double(n);
  }
}

// A data state between steps: which pencil, and whether values are complex.
struct State {
  Pencil pencil;
  bool cplx = false;
};

enum Slot { IN = 0, OUT = 1, BUF_A = 2, BUF_B = 3 };

// One step: a transpose, or the 1D transform of one axis that is whole in the current pencil.
struct Step {
  bool is_transpose = false;
  State from, to;
  int axis = -1;
  TransformKind kind = TransformKind::None;
  bool r2c = false;  // forward r2c (backward: c2r)
  // A transpose that only exchanges (feeds) and the line step after it that gathers its panels
  // from the transpose's pieces (fed): the data skip the transpose's reordering copy.
  bool feeds = false, fed = false;
  Slot in = IN, out = OUT;
  std::unique_ptr<LineFft> fft;
  std::unique_ptr<DeviceLineFft> dfft;  // device plans
  std::unique_ptr<Transpose<double>> tr_real;
  std::unique_ptr<Transpose<std::complex<double>>> tr_cplx;
};

}  // namespace

struct DistributedTransform::Impl {
  ProcessGridPtr grid;
  std::array<long, 3> n{};
  std::array<TransformKind, 3> kinds{};
  FftOptions opt;
  State input, output;
  int r2c_axis = -1;
  double norm = 1.0;
  std::vector<Step> fwd, bwd;
  // Device plans with every axis whole in the one pencil and only Fourier axes: one
  // multi-dimensional cuFFT plan each way instead of the line steps.
  bool one_box = false;
  std::unique_ptr<DeviceBoxFft> box_fwd, box_bwd;
  core::HostBuffer<std::complex<double>> a, b;
  core::DeviceBuffer<std::complex<double>> da, db;  // device plans' work buffers
  mutable TransposeWork work;
  std::string description;

  std::size_t bytes(const State& s) const {
    return static_cast<std::size_t>(s.pencil.local_size()) * opt.ncomp * (s.cplx ? 16 : 8);
  }

  // Out of place when the step changes layout (transposes, r2c/c2r) or reads the caller's input
  // (never written); in place in a work buffer otherwise.
  void assign_slots(std::vector<Step>& steps) {
    Slot cur = IN;
    auto other = [](Slot s) { return s == BUF_A ? BUF_B : BUF_A; };
    for (std::size_t i = 0; i < steps.size(); ++i) {
      Step& s = steps[i];
      const bool last = i + 1 == steps.size();
      s.in = cur;
      // A fed step reads the pieces of the transpose before it (that transpose's input and its
      // receive buffer), not slot `cur`, which the transpose left untouched: writing there is
      // safe for every kind, r2c/c2r included.
      const bool out_of_place = !s.fed && (s.is_transpose || s.r2c || cur == IN);
      if (last) s.out = OUT;
      else s.out = out_of_place ? other(cur) : cur;
      cur = s.out;
    }
  }

  bool on_device() const { return opt.space == core::MemorySpace::Device; }
  void* buffer_a() const { return on_device() ? const_cast<std::complex<double>*>(da.data()) : const_cast<std::complex<double>*>(a.data()); }
  void* buffer_b() const { return on_device() ? const_cast<std::complex<double>*>(db.data()) : const_cast<std::complex<double>*>(b.data()); }

  static std::string step_name(const Step& s) {
    static const char* axis_name = "xyz";
    const std::string k = s.r2c ? "r2c" : s.kind == TransformKind::Fourier ? "c2c" : to_string(s.kind);
    return k + "(" + axis_name[s.axis] + ")";
  }

  void build(bool forward, std::vector<Step>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      Step& s = steps[i];
      if (s.is_transpose) {
        if (s.from.cplx)
          s.tr_cplx = std::make_unique<Transpose<std::complex<double>>>(s.from.pencil, s.to.pencil, opt.ncomp, opt.transpose);
        else
          s.tr_real = std::make_unique<Transpose<double>>(s.from.pencil, s.to.pencil, opt.ncomp, opt.transpose);
        // A transpose is always followed by a transform in its target pencil (it is made for
        // one). When that transform runs along the pencil's own axis (contiguous output lines),
        // it reads the exchanged pieces directly and writes its lines once; along another axis
        // its lines would be gathered from the pieces' foreign strides element by element, slower
        // than the transpose's tiled reorder, so the transpose stays whole.
        // (Device plans keep every transpose whole: their line transforms read device lines.)
        const bool exchange = !on_device() && (s.tr_cplx ? s.tr_cplx->supports_exchange() : s.tr_real->supports_exchange());
        if (exchange && i + 1 < steps.size() && !steps[i + 1].is_transpose && steps[i + 1].axis == s.to.pencil.axis()) {
          s.feeds = true;
          steps[i + 1].fed = true;
        }
      }
    }
    assign_slots(steps);
    for (Step& s : steps) {
      if (s.is_transpose) continue;
      // The real side has the full length: `from` going forward, `to` going back.
      const long len = (s.r2c && !forward) ? s.to.pencil.box().n[s.axis] : s.from.pencil.box().n[s.axis];
      LineFft::Kind k = LineFft::Kind::R2R;
      if (s.kind == TransformKind::Fourier)
        k = s.r2c ? (forward ? LineFft::Kind::R2C : LineFft::Kind::C2R) : (forward ? LineFft::Kind::Forward : LineFft::Kind::Backward);
      const LineFft::R2R r2r = k == LineFft::Kind::R2R ? r2r_kind(s.kind, forward) : LineFft::R2R::R2HC;
      if (on_device()) {
        // cuFFT plans depend on the lines' layout only, not on the arrays' addresses.
        s.dfft = std::make_unique<DeviceLineFft>(k, len, r2r, s.from.cplx);
        if (s.from.pencil.local_size() > 0)
          s.dfft->prepare(lines_along(buffer_a(), s.from.pencil, opt.ncomp, s.axis), lines_along(buffer_b(), s.to.pencil, opt.ncomp, s.axis),
                          s.in != IN);
        continue;
      }
      s.fft = std::make_unique<LineFft>(k, len, opt.effort, r2r, s.from.cplx);
      // Plan every panel now, on the work buffers' layout (the caller's arrays may differ in
      // alignment; their plans are made on first use).
      if (s.from.pencil.local_size() > 0) {
        void* pa = a.data();
        void* pb = b.data();
        void* pin = s.in == BUF_B ? pb : pa;
        void* pout = s.out == s.in ? pin : (pin == pa ? pb : pa);
        if (s.fed) s.fft->prepare_from(s.to.pencil, opt.ncomp, s.axis, pout);
        else
          s.fft->prepare(lines_along(pin, s.from.pencil, opt.ncomp, s.axis), lines_along(pout, s.to.pencil, opt.ncomp, s.axis), s.in != IN);
      }
    }
  }
};

DistributedTransform::DistributedTransform(ProcessGridPtr grid, std::array<long, 3> n, std::array<TransformKind, 3> kinds,
                                           FftOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.grid = grid;
  m.n = n;
  m.kinds = kinds;
  m.opt = options;
  m.input = {Pencil(n, grid, 0), options.complex_input};
  State cur = m.input;
  std::vector<Step> plan;
  std::string desc;
  static const char* axis_name = "xyz";
  std::vector<int> pending;
  for (int a = 0; a < 3; ++a) {
    const TransformKind k = kinds[a];
    if (k == TransformKind::DCT1 && n[a] < 2) throw Error("a DCT-I needs at least 2 points along its axis");
    if (k == TransformKind::None || (k == TransformKind::Fourier && n[a] == 1)) continue;
    pending.push_back(a);
    m.norm /= logical_size(k, n[a]);
  }
  auto add = [&](Step s) {
    desc += std::string(desc.empty() ? "" : ", ") + Impl::step_name(s);
    plan.push_back(std::move(s));
  };
  while (!pending.empty()) {
    // Ready: whole in this pencil. On real data the first Fourier axis is the r2c axis; other
    // Fourier axes follow it in the same pencil when it is ready, and otherwise wait for it.
    int r2c_axis = -1;
    if (!cur.cplx)
      for (int a : pending)
        if (kinds[a] == TransformKind::Fourier) { r2c_axis = a; break; }
    const bool r2c_ready = r2c_axis >= 0 && cur.pencil.splits(r2c_axis) == 1;
    std::vector<int> r2r, dft;
    for (int a : pending) {
      if (cur.pencil.splits(a) > 1) continue;
      if (kinds[a] != TransformKind::Fourier) r2r.push_back(a);
      else if (cur.cplx || r2c_ready) dft.push_back(a);
    }
    if (r2r.empty() && dft.empty()) {
      Step t;
      t.is_transpose = true;
      t.from = cur;
      cur.pencil = cur.pencil.with_axis(pending.front());
      t.to = cur;
      desc += std::string(desc.empty() ? "" : ", ") + "transpose to " + axis_name[pending.front()] + "-pencil";
      plan.push_back(std::move(t));
      continue;
    }
    // Real-to-real axes first: on real data they then cost half what they would on complex.
    for (int a : r2r) {
      Step s;
      s.from = s.to = cur;
      s.axis = a;
      s.kind = kinds[a];
      add(std::move(s));
    }
    if (!dft.empty() && !cur.cplx) {
      // The r2c axis first; the data are complex after it (n/2+1 points along it).
      dft.erase(std::find(dft.begin(), dft.end(), r2c_axis));
      dft.insert(dft.begin(), r2c_axis);
    }
    for (int a : dft) {
      Step s;
      s.from = cur;
      s.axis = a;
      s.kind = TransformKind::Fourier;
      if (!cur.cplx) {
        s.r2c = true;
        m.r2c_axis = a;
        auto g = cur.pencil.global();
        g[a] = g[a] / 2 + 1;
        cur.pencil = cur.pencil.with_global(g);
        cur.cplx = true;
      }
      s.to = cur;
      add(std::move(s));
    }
    for (int a : r2r) pending.erase(std::find(pending.begin(), pending.end(), a));
    for (int a : dft) pending.erase(std::find(pending.begin(), pending.end(), a));
  }
  m.output = cur;
  m.description = desc.empty() ? "identity" : desc;

  // (Without transposes every transformed axis is whole here; an axis of one point may be split,
  // leaving some ranks an empty box and the others the whole one.)
  bool whole = m.on_device() && !plan.empty();
  for (const Step& s : plan) whole = whole && !s.is_transpose && s.kind == TransformKind::Fourier;
  for (int a = 0; a < 3; ++a) whole = whole && (kinds[a] == TransformKind::Fourier || n[a] == 1);

  // Work buffers: the largest state any step reads or writes (none for one box plan).
  std::size_t maxb = std::max(m.bytes(m.input), m.bytes(m.output));
  for (const auto& s : plan) maxb = std::max({maxb, m.bytes(s.from), m.bytes(s.to)});
  const std::size_t nc = (maxb + 15) / 16 + 1;
  if (m.on_device()) {
    if (!whole) {
      m.da = core::DeviceBuffer<std::complex<double>>(nc);
      m.db = core::DeviceBuffer<std::complex<double>>(nc);
    }
  } else {
    m.a.resize(nc);
    m.b.resize(nc);
  }

  // Backward: the same steps reversed, each inverted.
  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    Step s;
    s.is_transpose = it->is_transpose;
    s.from = it->to;
    s.to = it->from;
    s.axis = it->axis;
    s.kind = it->kind;
    s.r2c = it->r2c;
    m.bwd.push_back(std::move(s));
  }
  m.fwd = std::move(plan);
  if (whole) {
    m.one_box = true;
    if (m.input.pencil.local_size() == 0) return;  // nothing here: run() returns at once
    using K = LineFft::Kind;
    m.box_fwd = std::make_unique<DeviceBoxFft>(options.complex_input ? K::Forward : K::R2C, n, options.ncomp);
    m.box_bwd = std::make_unique<DeviceBoxFft>(options.complex_input ? K::Backward : K::C2R, n, options.ncomp);
    return;
  }
  m.build(true, m.fwd);
  m.build(false, m.bwd);
}

DistributedTransform::~DistributedTransform() = default;
DistributedTransform::DistributedTransform(DistributedTransform&&) noexcept = default;
DistributedTransform& DistributedTransform::operator=(DistributedTransform&&) noexcept = default;

const Pencil& DistributedTransform::input_pencil() const { return impl_->input.pencil; }
const Pencil& DistributedTransform::output_pencil() const { return impl_->output.pencil; }
bool DistributedTransform::input_complex() const { return impl_->input.cplx; }
bool DistributedTransform::output_complex() const { return impl_->output.cplx; }
int DistributedTransform::r2c_axis() const { return impl_->r2c_axis; }
double DistributedTransform::normalization() const { return impl_->norm; }
std::string DistributedTransform::describe() const { return impl_->description; }
core::MemorySpace DistributedTransform::space() const { return impl_->opt.space; }

namespace {
template <class F>
void check_field(const F& f, const Pencil& p, int ncomp, core::MemorySpace space, const char* what) {
  if (f.space() != space)
    throw Error(std::string("transform ") + what + " field is in " + core::to_string(f.space()) + " memory, the plan's in " +
                    core::to_string(space) + " memory",
                {}, "make the plan with FftOptions::space of the fields, or copy them with to_device / to_host");
  if (f.pencil() != p || f.components() != ncomp || f.has_halo())
    throw Error(std::string("transform ") + what + " field does not match the plan: expected " + p.describe() + " with " +
                    std::to_string(ncomp) + " component(s) and no halo, got " + f.pencil().describe(),
                {}, "make fields on plan.input_pencil() / plan.output_pencil()");
}
}  // namespace

void DistributedTransform::run(bool fwd, const void* in, void* out, bool destroy_input) const {
  const Impl& m = *impl_;
  core::ScopedTimer timer(fwd ? "fft.forward" : "fft.backward");
  const std::vector<Step>& steps = fwd ? m.fwd : m.bwd;
  if (steps.empty()) {
    const State& s = m.input;
    if (m.on_device()) core::copy_on_device(out, in, m.bytes(s));
    else std::memcpy(out, in, m.bytes(s));
    return;
  }
  if (m.one_box) {
    if (!m.box_fwd) return;  // an empty local box
    core::ScopedTimer t2("fft.lines");
    (fwd ? m.box_fwd : m.box_bwd)->execute(in, out, destroy_input);
    return;
  }
  void* slots[4] = {const_cast<void*>(in), out, m.buffer_a(), m.buffer_b()};
  std::vector<LineFft::Piece> pieces;
  for (const Step& s : steps) {
    void* pin = slots[s.in];
    void* pout = slots[s.out];
    if (s.is_transpose) {
      core::ScopedTimer t1("fft.transposes");
      if (s.feeds) {
        pieces.clear();
        auto keep = [&](const auto& parts) {
          for (const auto& q : parts) pieces.push_back({q.box, q.p, q.stride, q.cstride});
        };
        if (s.tr_cplx) keep(s.tr_cplx->exchange(static_cast<const std::complex<double>*>(pin), m.work));
        else keep(s.tr_real->exchange(static_cast<const double*>(pin), m.work));
        continue;
      }
      auto* cin = static_cast<const std::complex<double>*>(pin);
      auto* cout = static_cast<std::complex<double>*>(pout);
      auto* rin = static_cast<const double*>(pin);
      auto* rout = static_cast<double*>(pout);
      if (m.on_device()) {
        if (s.tr_cplx) s.tr_cplx->execute_device(cin, cout, &m.work);
        else s.tr_real->execute_device(rin, rout, &m.work);
      } else {
        if (s.tr_cplx) s.tr_cplx->execute(cin, cout, &m.work);
        else s.tr_real->execute(rin, rout, &m.work);
      }
      continue;
    }
    if (s.fed) {
      core::ScopedTimer t2("fft.lines");
      s.fft->execute_from(pieces, s.to.pencil, m.opt.ncomp, s.axis, pout);
      continue;
    }
    if (s.from.pencil.local_size() == 0) continue;  // empty local block
    core::ScopedTimer t2("fft.lines");
    // The caller's input is never overwritten; kron's own buffers may be.
    if (s.dfft) {
      s.dfft->execute(lines_along(pin, s.from.pencil, m.opt.ncomp, s.axis), lines_along(pout, s.to.pencil, m.opt.ncomp, s.axis), s.in != IN);
      continue;
    }
    s.fft->execute(lines_along(pin, s.from.pencil, m.opt.ncomp, s.axis), lines_along(pout, s.to.pencil, m.opt.ncomp, s.axis), s.in != IN);
  }
}

void DistributedTransform::forward(const RealField& in, ComplexField& out) const {
  if (impl_->input.cplx || !impl_->output.cplx) throw Error("forward(real -> complex) does not fit this plan (" + describe() + ")");
  check_field(in, input_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, space(), "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::forward(const RealField& in, RealField& out) const {
  if (impl_->input.cplx || impl_->output.cplx) throw Error("forward(real -> real) needs a plan without Fourier axes");
  check_field(in, input_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, space(), "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::forward(const ComplexField& in, ComplexField& out) const {
  if (!impl_->input.cplx) throw Error("forward(complex -> complex) needs a plan made with complex_input");
  check_field(in, input_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, space(), "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::backward(const ComplexField& in, RealField& out) const {
  if (impl_->input.cplx || !impl_->output.cplx) throw Error("backward(complex -> real) does not fit this plan (" + describe() + ")");
  check_field(in, output_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, space(), "output");
  run(false, in.data(), out.data());
}
void DistributedTransform::backward_destroying(ComplexField& in, RealField& out) const {
  if (impl_->input.cplx || !impl_->output.cplx) throw Error("backward(complex -> real) does not fit this plan (" + describe() + ")");
  check_field(in, output_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, space(), "output");
  run(false, in.data(), out.data(), true);
}
void DistributedTransform::backward(const RealField& in, RealField& out) const {
  if (impl_->input.cplx || impl_->output.cplx) throw Error("backward(real -> real) needs a plan without Fourier axes");
  check_field(in, output_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, space(), "output");
  run(false, in.data(), out.data());
}
void DistributedTransform::backward(const ComplexField& in, ComplexField& out) const {
  if (!impl_->input.cplx) throw Error("backward(complex -> complex) needs a plan made with complex_input");
  check_field(in, output_pencil(), impl_->opt.ncomp, space(), "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, space(), "output");
  run(false, in.data(), out.data());
}

}  // namespace kron::layout
