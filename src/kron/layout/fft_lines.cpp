#include "kron/layout/fft_lines.hpp"

#include <fftw3.h>

#include <algorithm>
#include <complex>
#include <cstring>

#include "kron/core/error.hpp"
#include "kron/layout/box_copy.hpp"

namespace kron::layout {

FftEffort parse_fft_effort(const std::string& s) {
  if (s == "estimate") return FftEffort::Estimate;
  if (s == "measure") return FftEffort::Measure;
  if (s == "patient") return FftEffort::Patient;
  if (s == "exhaustive") return FftEffort::Exhaustive;
  throw Error("unknown FFT planner effort '" + s + "'", {}, "use estimate, measure, patient or exhaustive");
}

LineSet lines_along(void* base, const Pencil& pencil, int ncomp, int axis) {
  if (pencil.splits(axis) != 1) throw Error("internal: lines along an axis that is split over ranks");
  const LocalLayout L = local_layout(pencil, ncomp, {0, 0, 0});
  const long n = pencil.box().n[axis];
  LineSet s;
  s.p = base;
  s.n = n;
  s.inner = L.stride[axis];
  s.ostride = L.stride[axis] * n;
  s.outer = s.ostride > 0 ? (L.cstride * ncomp) / s.ostride : 0;
  return s;
}

namespace {

fftw_r2r_kind fftw_kind(LineFft::R2R k) {
  switch (k) {
    case LineFft::R2R::R2HC: return FFTW_R2HC;
    case LineFft::R2R::HC2R: return FFTW_HC2R;
    case LineFft::R2R::REDFT00: return FFTW_REDFT00;
    case LineFft::R2R::REDFT01: return FFTW_REDFT01;
    case LineFft::R2R::REDFT10: return FFTW_REDFT10;
    case LineFft::R2R::REDFT11: return FFTW_REDFT11;
    case LineFft::R2R::RODFT00: return FFTW_RODFT00;
    case LineFft::R2R::RODFT01: return FFTW_RODFT01;
    case LineFft::R2R::RODFT10: return FFTW_RODFT10;
    case LineFft::R2R::RODFT11: return FFTW_RODFT11;
  }
  return FFTW_R2HC;
}

unsigned effort_flag(FftEffort e) {
  switch (e) {
    case FftEffort::Estimate: return FFTW_ESTIMATE;
    case FftEffort::Measure: return FFTW_MEASURE;
    case FftEffort::Patient: return FFTW_PATIENT;
    case FftEffort::Exhaustive: return FFTW_EXHAUSTIVE;
  }
  return FFTW_MEASURE;
}

// Line-major panel copies: element i of line l of the panel at buf[l*n + i]; in the array, at
// src[i*inner + l] (P consecutive lines of a strided LineSet): 2D transposes, register-tiled.
template <class T>
void gather(const T* src, long inner, long n, long P, T* buf) {
  transpose_2d(src, inner, buf, n, n, P);
}
template <class T>
void scatter(const T* buf, long n, long P, T* dst, long inner) {
  transpose_2d(buf, n, dst, inner, P, n);
}

}  // namespace

LineFft::LineFft(Kind kind, long n, FftEffort effort, R2R r2r, bool complex_data)
    : kind_(kind), n_(n), effort_(effort), r2r_(r2r), cplx_(complex_data) {
  if (n < 1) throw Error("internal: a line transform needs at least one point");
  // P lines of the larger side in about 12 KiB, 2 to 16 lines: measured at 128^3 and 256^3 on 2
  // ranks (EPYC, 32 KiB L1), 8-16 KiB panels ran 10-25% faster than 32-64 KiB ones.
  const std::size_t line = std::max(in_bytes() * static_cast<std::size_t>(in_length()), out_bytes() * static_cast<std::size_t>(out_length()));
  panel_ = std::clamp<long>(static_cast<long>((12u << 10) / line), 2, 16);
  if (panel_ > 4) panel_ -= panel_ % 4;  // whole 4x4 register tiles in the panel transposes
  bin_.resize(static_cast<std::size_t>(panel_ * in_length()) * in_bytes() / 8 + 8);
  bout_.resize(static_cast<std::size_t>(panel_ * out_length()) * out_bytes() / 8 + 8);
}

LineFft::~LineFft() {
  for (auto& [k, p] : plans_) fftw_destroy_plan(p);
}

long LineFft::in_length() const { return kind_ == Kind::C2R ? n_ / 2 + 1 : n_; }
long LineFft::out_length() const { return kind_ == Kind::R2C ? n_ / 2 + 1 : n_; }
std::size_t LineFft::in_bytes() const {
  return (kind_ == Kind::R2C || (kind_ == Kind::R2R && !cplx_)) ? sizeof(double) : sizeof(std::complex<double>);
}
std::size_t LineFft::out_bytes() const {
  return (kind_ == Kind::C2R || (kind_ == Kind::R2R && !cplx_)) ? sizeof(double) : sizeof(std::complex<double>);
}

// A plan for `lines` lines at distance idist/odist (in elements), stride 1, whose arrays have
// FFTW alignment align_in/align_out. Planned on scratch arrays of that alignment, never on data.
fftw_plan_s* LineFft::plan(long lines, long idist, long odist, int align_in, int align_out, bool in_place, bool preserve) const {
  // c2r and hc2r are the kinds FFTW lets destroy their input out of place.
  const bool to_real = kind_ == Kind::C2R || (kind_ == Kind::R2R && r2r_ == R2R::HC2R);
  preserve = preserve && to_real && !in_place;
  const auto key = std::make_tuple(lines, idist, odist, align_in, align_out, in_place, preserve);
  if (auto it = plans_.find(key); it != plans_.end()) return it->second;
  const std::size_t in_doubles = static_cast<std::size_t>((lines - 1) * idist + in_length()) * in_bytes() / 8 + 8;
  const std::size_t out_doubles = static_cast<std::size_t>((lines - 1) * odist + out_length()) * out_bytes() / 8 + 8;
  scratch_in_.resize(std::max(in_doubles, out_doubles));
  scratch_out_.resize(out_doubles);
  double* pin = scratch_in_.data() + align_in / 8;
  double* pout = in_place ? pin : scratch_out_.data() + align_out / 8;
  const int ni = static_cast<int>(n_);
  const int hl = static_cast<int>(lines);
  unsigned flags = effort_flag(effort_);
  // A c2r/hc2r reading the caller's data must leave it alone (FFTW can, in one dimension, at
  // some cost); reading kron's own buffers it may overwrite them.
  if (to_real && !in_place) flags |= preserve ? FFTW_PRESERVE_INPUT : FFTW_DESTROY_INPUT;
  auto make = [&](unsigned f) -> fftw_plan {
    switch (kind_) {
      case Kind::R2C:
        return fftw_plan_many_dft_r2c(1, &ni, hl, pin, nullptr, 1, int(idist), reinterpret_cast<fftw_complex*>(pout), nullptr, 1,
                                      int(odist), f);
      case Kind::C2R:
        return fftw_plan_many_dft_c2r(1, &ni, hl, reinterpret_cast<fftw_complex*>(pin), nullptr, 1, int(idist), pout, nullptr, 1,
                                      int(odist), f);
      case Kind::Forward:
      case Kind::Backward:
        return fftw_plan_many_dft(1, &ni, hl, reinterpret_cast<fftw_complex*>(pin), nullptr, 1, int(idist),
                                  reinterpret_cast<fftw_complex*>(pout), nullptr, 1, int(odist),
                                  kind_ == Kind::Forward ? FFTW_FORWARD : FFTW_BACKWARD, f);
      case Kind::R2R: {
        const fftw_r2r_kind k = fftw_kind(r2r_);
        if (!cplx_) return fftw_plan_many_r2r(1, &ni, hl, pin, nullptr, 1, int(idist), pout, nullptr, 1, int(odist), &k, f);
        // Complex data: real and imaginary parts as two interleaved real lines.
        fftw_iodim64 dim{n_, 2, 2};
        fftw_iodim64 how[2] = {{2, 1, 1}, {lines, 2 * idist, 2 * odist}};
        return fftw_plan_guru64_r2r(1, &dim, 2, how, pin, pout, &k, f);
      }
    }
    return nullptr;
  };
  fftw_plan p = nullptr;
  if (effort_ == FftEffort::Estimate) p = make((flags & ~FFTW_ESTIMATE) | FFTW_MEASURE | FFTW_WISDOM_ONLY);
  if (!p) p = make(flags);
  if (!p) throw Error("FFTW could not plan a line transform of length " + std::to_string(n_));
  plans_[key] = p;
  return p;
}

void LineFft::run(fftw_plan_s* p, void* in, void* out) const {
  switch (kind_) {
    case Kind::R2C: fftw_execute_dft_r2c(p, static_cast<double*>(in), static_cast<fftw_complex*>(out)); break;
    case Kind::C2R: fftw_execute_dft_c2r(p, static_cast<fftw_complex*>(in), static_cast<double*>(out)); break;
    case Kind::Forward:
    case Kind::Backward: fftw_execute_dft(p, static_cast<fftw_complex*>(in), static_cast<fftw_complex*>(out)); break;
    case Kind::R2R: fftw_execute_r2r(p, static_cast<double*>(in), static_cast<double*>(out)); break;
  }
}

void LineFft::prepare(const LineSet& in, const LineSet& out, bool destroy_input) const {
  if (in.outer == 0 || in.inner == 0) return;
  if (in.inner == 1) {
    // Panels start at different alignments when a panel's bytes are not a multiple of FFTW's
    // SIMD alignment: one plan per alignment met.
    auto* pi = static_cast<char*>(in.p);
    auto* po = static_cast<char*>(out.p);
    for (long o0 = 0; o0 < in.outer; o0 += panel_) {
      const long P = std::min(panel_, in.outer - o0);
      char* a = pi + static_cast<std::size_t>(o0 * in.ostride) * in_bytes();
      char* b = po + static_cast<std::size_t>(o0 * out.ostride) * out_bytes();
      plan(P, in.ostride, out.ostride, fftw_alignment_of(reinterpret_cast<double*>(a)), fftw_alignment_of(reinterpret_cast<double*>(b)),
           in.p == out.p, !destroy_input);
    }
    return;
  }
  const bool in_place = kind_ != Kind::R2C && kind_ != Kind::C2R;
  plan(std::min(in.inner, panel_), in_length(), out_length(), 0, 0, in_place);
  if (in.inner % panel_ && in.inner > panel_) plan(in.inner % panel_, in_length(), out_length(), 0, 0, in_place);
}

void LineFft::execute(const LineSet& in, const LineSet& out, bool destroy_input) const {
  if (in.n != in_length() || out.n != out_length() || in.outer != out.outer || in.inner != out.inner)
    throw Error("internal: line transform and lines do not fit (lengths " + std::to_string(in.n) + " -> " + std::to_string(out.n) +
                ", transform " + std::to_string(in_length()) + " -> " + std::to_string(out_length()) + ")");
  if (in.outer == 0 || in.inner == 0) return;
  const std::size_t bi = in_bytes(), bo = out_bytes();
  auto* pi = static_cast<char*>(in.p);
  auto* po = static_cast<char*>(out.p);
  const bool same = in.p == out.p;
  if (same && (kind_ == Kind::R2C || kind_ == Kind::C2R)) throw Error("internal: r2c/c2r line transforms run out of place");
  if (in.inner == 1) {
    // Contiguous lines: panels of P lines executed where they are.
    for (long o0 = 0; o0 < in.outer; o0 += panel_) {
      const long P = std::min(panel_, in.outer - o0);
      char* a = pi + static_cast<std::size_t>(o0 * in.ostride) * bi;
      char* b = po + static_cast<std::size_t>(o0 * out.ostride) * bo;
      fftw_plan_s* p = plan(P, in.ostride, out.ostride, fftw_alignment_of(reinterpret_cast<double*>(a)),
                            fftw_alignment_of(reinterpret_cast<double*>(b)), same, !destroy_input);
      run(p, a, b);
    }
    return;
  }
  // Strided lines: P consecutive lines (the inner index) per panel, through the buffers.
  const bool in_place = kind_ != Kind::R2C && kind_ != Kind::C2R;
  void* buf_in = bin_.data();
  void* buf_out = in_place ? buf_in : bout_.data();
  const long ni = in_length(), no = out_length();
  for (long o = 0; o < in.outer; ++o)
    for (long j0 = 0; j0 < in.inner; j0 += panel_) {
      const long P = std::min(panel_, in.inner - j0);
      fftw_plan_s* p = plan(P, ni, no, 0, 0, in_place);
      const std::size_t src = static_cast<std::size_t>(o * in.ostride + j0);
      const std::size_t dst = static_cast<std::size_t>(o * out.ostride + j0);
      if (bi == 8) gather(reinterpret_cast<const double*>(pi) + src, in.inner, ni, P, static_cast<double*>(buf_in));
      else gather(reinterpret_cast<const std::complex<double>*>(pi) + src, in.inner, ni, P, static_cast<std::complex<double>*>(buf_in));
      run(p, buf_in, buf_out);
      if (bo == 8) scatter(static_cast<const double*>(buf_out), no, P, reinterpret_cast<double*>(po) + dst, out.inner);
      else scatter(static_cast<const std::complex<double>*>(buf_out), no, P, reinterpret_cast<std::complex<double>*>(po) + dst, out.inner);
    }
}

}  // namespace kron::layout

namespace kron::layout {

namespace {

// Copies rows (along the line axis, source stride sa) x cols (along the panel's line index,
// source stride sf) into a line-major panel (dst[col*ld + row]).
template <class T>
void gather_block(const T* src, long sa, long sf, T* dst, long ld, long rows, long cols) {
  if (sf == 1) {
    transpose_2d(src, sa, dst, ld, rows, cols);
  } else if (sa == 1) {
    for (long c = 0; c < cols; ++c) std::memcpy(static_cast<void*>(dst + c * ld), static_cast<const void*>(src + c * sf), sizeof(T) * rows);
  } else {
    for (long c = 0; c < cols; ++c)
      for (long r = 0; r < rows; ++r) dst[c * ld + r] = src[r * sa + c * sf];
  }
}

struct PanelGeometry {
  LocalLayout L;
  int f = -1, s = -1;  // the fastest and the slowest axis other than the line axis, in out's order
};

PanelGeometry geometry(const Pencil& out_pencil, int ncomp, int axis) {
  PanelGeometry g;
  g.L = local_layout(out_pencil, ncomp, {0, 0, 0});
  for (int q : out_pencil.order())
    if (q != axis) (g.f < 0 ? g.f : g.s) = q;
  return g;
}

}  // namespace

void LineFft::prepare_from(const Pencil& out_pencil, int ncomp, int axis, void* out) const {
  const Box& ob = out_pencil.box();
  if (ob.volume() == 0) return;
  const PanelGeometry g = geometry(out_pencil, ncomp, axis);
  const bool contiguous_out = g.L.stride[axis] == 1;
  const bool in_place_buf = !contiguous_out && kind_ != Kind::R2C && kind_ != Kind::C2R;
  for (int c = 0; c < ncomp; ++c)
    for (long sidx = 0; sidx < ob.n[g.s]; ++sidx)
      for (long f0 = 0; f0 < ob.n[g.f]; f0 += panel_) {
        const long P = std::min(panel_, ob.n[g.f] - f0);
        if (!contiguous_out) {
          plan(P, in_length(), out_length(), 0, 0, in_place_buf);
          continue;
        }
        char* d = static_cast<char*>(out) + static_cast<std::size_t>(c * g.L.cstride + sidx * g.L.stride[g.s] + f0 * g.L.stride[g.f]) * out_bytes();
        plan(P, in_length(), g.L.stride[g.f], 0, fftw_alignment_of(reinterpret_cast<double*>(d)), false);
      }
}

void LineFft::execute_from(const std::vector<Piece>& pieces, const Pencil& out_pencil, int ncomp, int axis, void* out) const {
  const Box& ob = out_pencil.box();
  if (ob.volume() == 0) return;
  if (ob.n[axis] != out_length()) throw Error("internal: line transform and output pencil differ in length");
  const PanelGeometry g = geometry(out_pencil, ncomp, axis);
  const long ni = in_length(), no = out_length();
  const bool contiguous_out = g.L.stride[axis] == 1;
  const bool in_place_buf = !contiguous_out && kind_ != Kind::R2C && kind_ != Kind::C2R;
  void* buf_in = bin_.data();
  void* buf_out = in_place_buf ? buf_in : bout_.data();
  const std::size_t bi = in_bytes(), bo = out_bytes();
  const int f = g.f, s = g.s;
  for (int c = 0; c < ncomp; ++c)
    for (long sidx = 0; sidx < ob.n[s]; ++sidx) {
      const long sg = ob.lo[s] + sidx;
      for (long f0 = 0; f0 < ob.n[f]; f0 += panel_) {
        const long P = std::min(panel_, ob.n[f] - f0);
        const long fg0 = ob.lo[f] + f0, fg1 = fg0 + P;
        // Gather: every piece's share of these P lines, in line-major order.
        for (const Piece& pc : pieces) {
          const Box& pb = pc.box;
          if (sg < pb.lo[s] || sg >= pb.lo[s] + pb.n[s]) continue;
          const long fa = std::max(fg0, pb.lo[f]), fb = std::min(fg1, pb.lo[f] + pb.n[f]);
          if (fa >= fb || pb.n[axis] == 0) continue;
          const long off = (sg - pb.lo[s]) * pc.stride[s] + (fa - pb.lo[f]) * pc.stride[f] + c * pc.cstride;
          const long at = (fa - fg0) * ni + pb.lo[axis];
          if (bi == 8)
            gather_block(static_cast<const double*>(pc.p) + off, pc.stride[axis], pc.stride[f], static_cast<double*>(buf_in) + at, ni,
                         pb.n[axis], fb - fa);
          else
            gather_block(static_cast<const std::complex<double>*>(pc.p) + off, pc.stride[axis], pc.stride[f],
                         static_cast<std::complex<double>*>(buf_in) + at, ni, pb.n[axis], fb - fa);
        }
        char* d = static_cast<char*>(out) + static_cast<std::size_t>(c * g.L.cstride + sidx * g.L.stride[s] + f0 * g.L.stride[f]) * bo;
        if (contiguous_out) {
          // The panel's output lines are contiguous in `out`: transform straight into them.
          run(plan(P, ni, g.L.stride[f], 0, fftw_alignment_of(reinterpret_cast<double*>(d)), false), buf_in, d);
          continue;
        }
        run(plan(P, ni, no, 0, 0, in_place_buf), buf_in, buf_out);
        // Strided output lines (the line axis is not the fastest, so f is: unit stride).
        if (bo == 8) transpose_2d(static_cast<const double*>(buf_out), no, reinterpret_cast<double*>(d), g.L.stride[axis], P, no);
        else
          transpose_2d(static_cast<const std::complex<double>*>(buf_out), no, reinterpret_cast<std::complex<double>*>(d), g.L.stride[axis], P, no);
      }
    }
}

}  // namespace kron::layout
