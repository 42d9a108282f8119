#include "kron/layout/fft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/core/timer.hpp"

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

FftEffort parse_fft_effort(const std::string& s) {
  if (s == "estimate") return FftEffort::Estimate;
  if (s == "measure") return FftEffort::Measure;
  if (s == "patient") return FftEffort::Patient;
  if (s == "exhaustive") return FftEffort::Exhaustive;
  throw Error("unknown FFT planner effort '" + s + "'", {}, "use estimate, measure, patient or exhaustive");
}

namespace {

unsigned effort_flag(FftEffort e) {
  switch (e) {
    case FftEffort::Estimate: return FFTW_ESTIMATE;
    case FftEffort::Measure: return FFTW_MEASURE;
    case FftEffort::Patient: return FFTW_PATIENT;
    case FftEffort::Exhaustive: return FFTW_EXHAUSTIVE;
  }
  return FFTW_MEASURE;
}

fftw_r2r_kind r2r_kind(TransformKind k, bool forward) {
  switch (k) {
    case TransformKind::DCT1: return FFTW_REDFT00;
    case TransformKind::DCT2: return forward ? FFTW_REDFT10 : FFTW_REDFT01;
    case TransformKind::DCT3: return forward ? FFTW_REDFT01 : FFTW_REDFT10;
    case TransformKind::DST1: return FFTW_RODFT00;
    case TransformKind::DST2: return forward ? FFTW_RODFT10 : FFTW_RODFT01;
    case TransformKind::DST3: return forward ? FFTW_RODFT01 : FFTW_RODFT10;
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

// One step: a transpose, or one FFTW plan over one or more axes that are whole in the current
// pencil. Fusing the local axes into one multi-dimensional plan lets FFTW block for cache (as
// FFTW-MPI does with its local 2D transforms) instead of sweeping large strides per axis.
struct Step {
  bool is_transpose = false;
  State from, to;
  std::vector<int> axes;              // transformed axes; for r2c the halved axis is last
  std::vector<TransformKind> kinds;   // all Fourier, or all r2r
  bool r2c = false;  // forward r2c (backward: c2r)
  bool stage_input = false;  // multi-dimensional c2r reading the caller's input: copy it first
  Slot in = IN, out = OUT;
  fftw_plan plan = nullptr;
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
  core::HostBuffer<std::complex<double>> a, b;
  std::string description;

  ~Impl() {
    for (auto* list : {&fwd, &bwd})
      for (auto& s : *list) if (s.plan) fftw_destroy_plan(s.plan);
  }

  std::size_t bytes(const State& s) const {
    return static_cast<std::size_t>(s.pencil.local_size()) * opt.ncomp * (s.cplx ? 16 : 8);
  }

  void assign_slots(std::vector<Step>& steps) {
    Slot cur = IN;
    auto other = [](Slot s) { return s == BUF_A ? BUF_B : BUF_A; };
    for (std::size_t i = 0; i < steps.size(); ++i) {
      Step& s = steps[i];
      const bool last = i + 1 == steps.size();
      s.in = cur;
      const bool out_of_place = s.is_transpose || s.r2c || cur == IN;
      if (last) s.out = OUT;
      else s.out = out_of_place ? other(cur) : cur;
      cur = s.out;
    }
  }

  // FFTW guru plan for one transform step. Planning runs on the internal buffers (same
  // alignment, same in-place-ness as every execution), never on user data.
  fftw_plan make_plan(const Step& s, bool forward, double* pin, double* pout) {
    const LocalLayout li = local_layout(s.from.pencil, opt.ncomp, {0, 0, 0});
    const LocalLayout lo = local_layout(s.to.pencil, opt.ncomp, {0, 0, 0});
    const auto& ext_in = s.from.pencil.box().n;
    const auto& ext_out = s.to.pencil.box().n;
    if (s.from.pencil.local_size() == 0 || s.to.pencil.local_size() == 0) return nullptr;
    unsigned flags = effort_flag(opt.effort);
    const bool c2r = s.r2c && !forward;
    // FFTW has input-preserving c2r algorithms only in 1D; multi-dimensional ones stage.
    if (c2r && s.in == IN && s.axes.size() == 1) flags |= FFTW_PRESERVE_INPUT;
    const bool fourier = s.kinds.front() == TransformKind::Fourier;
    // On complex data an r2r transform sees doubles: strides x2 and one more batch of 2.
    const long mul = (!fourier && s.from.cplx) ? 2 : 1;
    std::vector<fftw_iodim64> how, dims;
    for (int b = 0; b < 3; ++b) {
      if (std::find(s.axes.begin(), s.axes.end(), b) != s.axes.end()) continue;
      how.push_back({ext_in[b], li.stride[b] * mul, lo.stride[b] * mul});
    }
    how.push_back({opt.ncomp, li.cstride * mul, lo.cstride * mul});
    if (mul == 2) how.push_back({2, 1, 1});
    for (int a : s.axes) {
      // The real side has the full length: `from` going forward, `to` going back.
      const long len = (s.r2c && !forward) ? ext_out[a] : ext_in[a];
      dims.push_back({len, li.stride[a] * mul, lo.stride[a] * mul});
    }
    const int rank = static_cast<int>(dims.size()), hr = static_cast<int>(how.size());
    fftw_plan p = nullptr;
    if (fourier) {
      if (s.r2c && forward)
        p = fftw_plan_guru64_dft_r2c(rank, dims.data(), hr, how.data(), pin, reinterpret_cast<fftw_complex*>(pout), flags);
      else if (s.r2c)
        p = fftw_plan_guru64_dft_c2r(rank, dims.data(), hr, how.data(), reinterpret_cast<fftw_complex*>(pin), pout, flags);
      else
        p = fftw_plan_guru64_dft(rank, dims.data(), hr, how.data(), reinterpret_cast<fftw_complex*>(pin),
                                 reinterpret_cast<fftw_complex*>(pout), forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
    } else {
      std::vector<fftw_r2r_kind> k;
      for (auto kind : s.kinds) k.push_back(r2r_kind(kind, forward));
      p = fftw_plan_guru64_r2r(rank, dims.data(), hr, how.data(), pin, pout, k.data(), flags);
    }
    if (!p) throw Error("FFTW could not plan the " + step_name(s) + " step");
    return p;
  }

  static std::string step_name(const Step& s) {
    static const char* axis_name = "xyz";
    std::string axes;
    for (int a : s.axes) axes += axis_name[a];
    const TransformKind k = s.kinds.front();
    const std::string name = s.r2c ? "r2c" : (k == TransformKind::Fourier ? "c2c" : "");
    if (!name.empty()) return name + "(" + axes + ")";
    std::string out;
    for (std::size_t i = 0; i < s.axes.size(); ++i)
      out += std::string(i ? ", " : "") + to_string(s.kinds[i]) + "(" + axis_name[s.axes[i]] + ")";
    return out;
  }

  void build(bool forward, std::vector<Step>& steps) {
    assign_slots(steps);
    for (Step& s : steps) {
      if (s.is_transpose) {
        if (s.from.cplx)
          s.tr_cplx = std::make_unique<Transpose<std::complex<double>>>(s.from.pencil, s.to.pencil, opt.ncomp, opt.transpose);
        else
          s.tr_real = std::make_unique<Transpose<double>>(s.from.pencil, s.to.pencil, opt.ncomp, opt.transpose);
        continue;
      }
      double* pa = reinterpret_cast<double*>(a.data());
      double* pb = reinterpret_cast<double*>(b.data());
      s.stage_input = s.r2c && !forward && s.in == IN && s.axes.size() > 1;
      if (s.stage_input) {
        // The caller's input is copied to buffer B and transformed from there (B is never this
        // step's output: out-of-place steps reading IN write to A or OUT).
        s.plan = make_plan(s, forward, pb, pa);
      } else {
        const bool in_place = s.in == s.out;
        s.plan = make_plan(s, forward, pa, in_place ? pa : pb);
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
    // Fourier axes join its (multi-dimensional) r2c when it is ready, and otherwise wait for it.
    int r2c_axis = -1;
    if (!cur.cplx)
      for (int a : pending)
        if (kinds[a] == TransformKind::Fourier) { r2c_axis = a; break; }
    const bool r2c_ready = r2c_axis >= 0 && cur.pencil.splits(r2c_axis) == 1;
    std::vector<int> r2r, dft;
    for (int a : pending) {
      if (cur.pencil.splits(a) > 1) continue;
      if (kinds[a] != TransformKind::Fourier) r2r.push_back(a);
      else if (cur.cplx || r2c_ready) dft.push_back(a);  // with real data: fused into the r2c
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
    if (!r2r.empty()) {
      Step s;
      s.from = s.to = cur;
      s.axes = r2r;
      for (int a : r2r) s.kinds.push_back(kinds[a]);
      add(std::move(s));
    }
    if (!dft.empty()) {
      Step s;
      s.from = cur;
      if (!cur.cplx) {
        // FFTW halves the last dimension of a multi-dimensional r2c.
        dft.erase(std::find(dft.begin(), dft.end(), r2c_axis));
        dft.push_back(r2c_axis);
        s.r2c = true;
        m.r2c_axis = r2c_axis;
        auto g = cur.pencil.global();
        g[r2c_axis] = g[r2c_axis] / 2 + 1;
        cur.pencil = cur.pencil.with_global(g);
        cur.cplx = true;
      }
      s.to = cur;
      s.axes = dft;
      s.kinds.assign(dft.size(), TransformKind::Fourier);
      add(std::move(s));
    }
    for (int a : r2r) pending.erase(std::find(pending.begin(), pending.end(), a));
    for (int a : dft) pending.erase(std::find(pending.begin(), pending.end(), a));
  }
  m.output = cur;
  m.description = desc.empty() ? "identity" : desc;

  // Work buffers: the largest state any step reads or writes.
  std::size_t maxb = std::max(m.bytes(m.input), m.bytes(m.output));
  for (const auto& s : plan) maxb = std::max({maxb, m.bytes(s.from), m.bytes(s.to)});
  const std::size_t nc = (maxb + 15) / 16 + 1;
  m.a.resize(nc);
  m.b.resize(nc);

  // Backward: the same steps reversed, each inverted.
  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    Step s;
    s.is_transpose = it->is_transpose;
    s.from = it->to;
    s.to = it->from;
    s.axes = it->axes;
    s.kinds = it->kinds;
    s.r2c = it->r2c;
    m.bwd.push_back(std::move(s));
  }
  m.fwd = std::move(plan);
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

namespace {
template <class F>
void check_field(const F& f, const Pencil& p, int ncomp, const char* what) {
  if (f.pencil() != p || f.components() != ncomp || f.has_halo())
    throw Error(std::string("transform ") + what + " field does not match the plan: expected " + p.describe() + " with " +
                    std::to_string(ncomp) + " component(s) and no halo, got " + f.pencil().describe(),
                {}, "make fields on plan.input_pencil() / plan.output_pencil()");
}
}  // namespace

void DistributedTransform::run(bool fwd, const void* in, void* out) const {
  const Impl& m = *impl_;
  core::ScopedTimer timer(fwd ? "fft.forward" : "fft.backward");
  const std::vector<Step>& steps = fwd ? m.fwd : m.bwd;
  if (steps.empty()) {
    const State& s = m.input;
    std::memcpy(out, in, m.bytes(s));
    return;
  }
  void* slots[4] = {const_cast<void*>(in), out, const_cast<std::complex<double>*>(m.a.data()),
                    const_cast<std::complex<double>*>(m.b.data())};
  for (const Step& s : steps) {
    void* pin = slots[s.in];
    void* pout = slots[s.out];
    if (s.is_transpose) {
      core::ScopedTimer t1("fft.transposes");
      if (s.tr_cplx) s.tr_cplx->execute(static_cast<const std::complex<double>*>(pin), static_cast<std::complex<double>*>(pout));
      else s.tr_real->execute(static_cast<const double*>(pin), static_cast<double*>(pout));
      continue;
    }
    if (!s.plan) continue;  // empty local block
    core::ScopedTimer t2("fft.lines");
    if (s.stage_input) {
      std::memcpy(slots[BUF_B], pin, m.bytes(s.from));
      pin = slots[BUF_B];
    }
    if (s.kinds.front() == TransformKind::Fourier) {
      if (s.r2c && fwd) fftw_execute_dft_r2c(s.plan, static_cast<double*>(pin), static_cast<fftw_complex*>(pout));
      else if (s.r2c) fftw_execute_dft_c2r(s.plan, static_cast<fftw_complex*>(pin), static_cast<double*>(pout));
      else fftw_execute_dft(s.plan, static_cast<fftw_complex*>(pin), static_cast<fftw_complex*>(pout));
    } else {
      fftw_execute_r2r(s.plan, static_cast<double*>(pin), static_cast<double*>(pout));
    }
  }
}

void DistributedTransform::forward(const RealField& in, ComplexField& out) const {
  if (impl_->input.cplx || !impl_->output.cplx) throw Error("forward(real -> complex) does not fit this plan (" + describe() + ")");
  check_field(in, input_pencil(), impl_->opt.ncomp, "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::forward(const RealField& in, RealField& out) const {
  if (impl_->input.cplx || impl_->output.cplx) throw Error("forward(real -> real) needs a plan without Fourier axes");
  check_field(in, input_pencil(), impl_->opt.ncomp, "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::forward(const ComplexField& in, ComplexField& out) const {
  if (!impl_->input.cplx) throw Error("forward(complex -> complex) needs a plan made with complex_input");
  check_field(in, input_pencil(), impl_->opt.ncomp, "input");
  check_field(out, output_pencil(), impl_->opt.ncomp, "output");
  run(true, in.data(), out.data());
}
void DistributedTransform::backward(const ComplexField& in, RealField& out) const {
  if (impl_->input.cplx || !impl_->output.cplx) throw Error("backward(complex -> real) does not fit this plan (" + describe() + ")");
  check_field(in, output_pencil(), impl_->opt.ncomp, "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, "output");
  run(false, in.data(), out.data());
}
void DistributedTransform::backward(const RealField& in, RealField& out) const {
  if (impl_->input.cplx || impl_->output.cplx) throw Error("backward(real -> real) needs a plan without Fourier axes");
  check_field(in, output_pencil(), impl_->opt.ncomp, "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, "output");
  run(false, in.data(), out.data());
}
void DistributedTransform::backward(const ComplexField& in, ComplexField& out) const {
  if (!impl_->input.cplx) throw Error("backward(complex -> complex) needs a plan made with complex_input");
  check_field(in, output_pencil(), impl_->opt.ncomp, "input");
  check_field(out, input_pencil(), impl_->opt.ncomp, "output");
  run(false, in.data(), out.data());
}

}  // namespace kron::layout
