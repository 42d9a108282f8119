// cuFFT line transforms (the host ones are fft_lines.cpp, on FFTW): complex DFTs directly on the
// lines' strides where one batch describes them, real-to-real kinds as real FFTs of extended
// lines with packing kernels. Everything runs on the rank's stream (core::device_context).
#include <cuda/std/complex>
#include <cuda_runtime.h>
#include <cufft.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/core/error.hpp"
#include "kron/layout/box_copy_device.hpp"
#include "kron/layout/fft_lines_device.hpp"

namespace kron::layout {
namespace {

using core::kBlock;
using Z = cuda::std::complex<double>;
using Kind = LineFft::Kind;
using R2R = LineFft::R2R;

// Device scratch slots of the line transforms (core::DeviceContext::scratch): packed FFT inputs
// and outputs, contiguous copies of strided lines, and the cuFFT work area shared by all plans.
constexpr std::size_t kSlotReal = 0, kSlotComplex = 1, kSlotIn = 2, kSlotOut = 3, kSlotWork = 5;

void fft_check(cufftResult rc, const char* what) {
  if (rc == CUFFT_SUCCESS) return;
  throw Error(std::string(what) + " failed: cuFFT error " + std::to_string(static_cast<int>(rc)), {},
              rc == CUFFT_ALLOC_FAILED ? "the GPU's memory is full: use more GPUs or a smaller grid" : "");
}
void launched(const char* what) { core::cuda_check(cudaGetLastError(), what); }

// Element (o, i, j) of a line set at o*ostride + i*inner + j: line l = o*inner + j, point i.
struct Shape {
  long outer, n, inner, ostride;
  __host__ __device__ long at(long l, long i) const { return (l / inner) * ostride + i * inner + l % inner; }
};

// Point q < len of line l < lines on a 2D grid (x: points, y: lines).
#define KRON_LINE_LOOP(l, q, lines, len)                                \
  for (long l = blockIdx.y; l < (lines); l += gridDim.y)                 \
    for (long q = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; q < (len); q += static_cast<long>(gridDim.x) * blockDim.x)
dim3 grid2(long len, long lines) {
  return dim3(static_cast<unsigned>(std::min((len + kBlock - 1) / kBlock, 1024L)), static_cast<unsigned>(std::max(1L, std::min(lines, 65535L))));
}

// The real FFT a real-to-real kind runs on, and the index/sign changes around it.
enum Mode { R2HC_ = 0, HC2R_, DCT1_, DCT2_, DCT3_, DST1_ };
struct R2RForm {
  Mode mode;
  bool alt_in = false, rev_in = false, alt_out = false, rev_out = false;
};
R2RForm r2r_form(R2R k) {
  switch (k) {
    case R2R::R2HC: return {R2HC_};
    case R2R::HC2R: return {HC2R_};
    case R2R::REDFT00: return {DCT1_};
    case R2R::REDFT10: return {DCT2_};
    case R2R::REDFT01: return {DCT3_};
    case R2R::RODFT00: return {DST1_};
    // DST-II: y_k = DCT-II((-1)^j x_j)_{n-1-k}; DST-III: y_k = (-1)^k DCT-III(x reversed)_k.
    case R2R::RODFT10: return {DCT2_, true, false, false, true};
    case R2R::RODFT01: return {DCT3_, false, true, true, false};
    default: throw Error("the device line transforms have no REDFT11/RODFT11", {}, "use the CPU backend for this transform");
  }
}
bool forward_fft(Mode m) { return m != HC2R_ && m != DCT3_; }
// Length of the real FFT line.
long fft_length(Mode m, long n) {
  switch (m) {
    case DCT1_: return 2 * (n - 1);
    case DCT2_:
    case DCT3_: return 2 * n;
    case DST1_: return 2 * (n + 1);
    default: return n;
  }
}

// Input value j of a line after the form's reversal, sign alternation and `pre` scaling.
struct InputRead {
  const double* x;
  long n, inner;
  const double* pre;
  bool alt, rev;
  __device__ double operator()(long j) const {
    const long jj = rev ? n - 1 - j : j;
    const double v = (pre ? pre[jj] : 1.0) * x[jj * inner];
    return (alt && (j & 1)) ? -v : v;
  }
};

// Real FFT inputs: DST-I odd extension of length 2(n+1), DCT-I even extension of length 2(n-1),
// DCT-II even extension of length 2n, R2HC the line itself.
__global__ void k_pack_real(const double* in, Shape vi, double* buf, long L, int mode, const double* pre, bool alt, bool rev) {
  const long n = vi.n, lines = vi.outer * vi.inner;
  KRON_LINE_LOOP(l, q, lines, L) {
    const InputRead x{in + vi.at(l, 0), n, vi.inner, pre, alt, rev};
    long src = q;
    double sign = 1;
    if (mode == DST1_) {
      if (q >= 1 && q <= n) src = q - 1;
      else if (q >= n + 2) src = 2 * n + 1 - q, sign = -1;
      else src = -1;
    } else if (mode == DCT1_) {
      src = q < n ? q : L - q;
    } else if (mode == DCT2_) {
      src = q < n ? q : 2 * n - 1 - q;
    }
    buf[l * L + q] = src < 0 ? 0.0 : sign * x(src);
  }
}

// Complex (Hermitian half) inputs of inverse real FFTs: DCT-III (length 2n: V_k = x_k e^{i pi k/2n},
// V_n = 0) and HC2R (halfcomplex unpacked).
__global__ void k_pack_complex(const double* in, Shape vi, Z* buf, long Lc, int mode, const double* pre, bool alt, bool rev) {
  const long n = vi.n, lines = vi.outer * vi.inner;
  KRON_LINE_LOOP(l, k, lines, Lc) {
    const InputRead x{in + vi.at(l, 0), n, vi.inner, pre, alt, rev};
    Z v(0, 0);
    if (mode == DCT3_) {
      if (k < n) {
        double s, c;
        sincospi(static_cast<double>(k) / (2.0 * n), &s, &c);
        v = x(k) * Z(c, s);
      }
    } else {
      v = Z(x(k), (k == 0 || 2 * k == n) ? 0.0 : x(n - k));
    }
    buf[l * Lc + k] = v;
  }
}

// Output k of a line: the value at index m (k, or n-1-k reversed), sign-alternated in k, scaled
// by post, stored or added.
__device__ void store(double* out, const Shape& vo, long l, long k, double y, const double* post, bool alt, bool acc) {
  if (alt && (k & 1)) y = -y;
  if (post) y *= post[k];
  double& r = out[vo.at(l, k)];
  r = acc ? r + y : y;
}

// Results from forward real FFTs (half spectra of length Lc): DST-I -Im Z_{m+1}; DCT-I Re Z_m;
// DCT-II Re(e^{-i pi m/2n} Z_m); R2HC halfcomplex order.
__global__ void k_unpack_complex(const Z* buf, long Lc, double* out, Shape vo, int mode, const double* post, bool alt, bool rev, bool acc) {
  const long n = vo.n, lines = vo.outer * vo.inner;
  KRON_LINE_LOOP(l, k, lines, n) {
    const Z* zl = buf + l * Lc;
    const long m = rev ? n - 1 - k : k;
    double y;
    if (mode == DST1_) {
      y = -zl[m + 1].imag();
    } else if (mode == DCT1_) {
      y = zl[m].real();
    } else if (mode == DCT2_) {
      double s, c;
      sincospi(static_cast<double>(m) / (2.0 * n), &s, &c);
      y = zl[m].real() * c + zl[m].imag() * s;
    } else {
      y = 2 * m <= n ? zl[m].real() : zl[n - m].imag();
    }
    store(out, vo, l, k, y, post, alt, acc);
  }
}

// Results from inverse real FFTs of length L: the first n values of each line.
__global__ void k_unpack_real(const double* buf, long L, double* out, Shape vo, const double* post, bool alt, bool rev, bool acc) {
  const long n = vo.n, lines = vo.outer * vo.inner;
  KRON_LINE_LOOP(l, k, lines, n) store(out, vo, l, k, buf[l * L + (rev ? n - 1 - k : k)], post, alt, acc);
}

Shape shape_of(const LineSet& v) { return {v.outer, v.n, v.inner, v.ostride}; }
// Complex lines as real lines (real and imaginary parts interleaved: twice the inner count).
LineSet as_real(const LineSet& v) { return {v.p, v.outer, v.n, 2 * v.inner, 2 * v.ostride}; }

// Strided lines <-> contiguous ones (line l = o*inner + j stored at l*n), by tiled transposes.
template <class T>
void to_contiguous(const LineSet& v, T* dst) {
  copy_box_device<T>(static_cast<const T*>(v.p), {v.inner, 1, v.ostride}, dst, {1, v.n, v.inner * v.n}, {v.n, v.inner, v.outer});
}
template <class T>
void from_contiguous(const T* src, const LineSet& v, bool acc = false) {
  copy_box_device<T>(src, {1, v.n, v.inner * v.n}, static_cast<T*>(v.p), {v.inner, 1, v.ostride}, {v.n, v.inner, v.outer}, acc);
}
LineSet contiguous(void* p, const LineSet& v) { return {p, v.outer * v.inner, v.n, 1, v.n}; }

// One cuFFT batch describing every line: contiguous lines (stride 1, distance ostride) or a
// single slab of interleaved ones (stride inner, distance 1).
struct Batch {
  long stride, dist, count;
};
bool one_batch(const LineSet& v, Batch& b) {
  if (v.inner == 1) b = {1, v.ostride, v.outer};
  else if (v.outer == 1) b = {v.inner, 1, v.inner};
  else return false;
  return true;
}

// Enough interleaved lines that making them contiguous first pays for itself (the packing
// kernels read lines point by point).
constexpr long kRelayoutLines = 64;

}  // namespace

struct DeviceLineFft::Impl {
  Kind kind;
  long n;
  R2R r2r;
  bool cplx;
  using Key = std::tuple<int, long, long, long, long, long, long>;
  struct Plan {
    cufftHandle h;
    std::size_t work;
  };
  mutable std::map<Key, Plan> plans;

  ~Impl() {
    for (auto& kv : plans) cufftDestroy(kv.second.h);
  }

  // A plan for `count` lines of real length L, input/output at the given stride and distance
  // (counted in the elements of each side's type); its work area is set at execution.
  cufftHandle plan(cufftType type, long L, const Batch& in, const Batch& out) const {
    const Key key{static_cast<int>(type), L, in.count, in.stride, in.dist, out.stride, out.dist};
    auto it = plans.find(key);
    if (it == plans.end()) {
      cufftHandle h;
      fft_check(cufftCreate(&h), "cufftCreate");
      fft_check(cufftSetAutoAllocation(h, 0), "cufftSetAutoAllocation");
      long long len = L;
      const long long lc = L / 2 + 1;
      long long inembed = type == CUFFT_Z2D ? lc : L, onembed = type == CUFFT_D2Z ? lc : L;
      std::size_t work = 0;
      const cufftResult rc = cufftMakePlanMany64(h, 1, &len, &inembed, in.stride, in.dist, &onembed, out.stride, out.dist, type, in.count, &work);
      if (rc != CUFFT_SUCCESS) cufftDestroy(h);
      fft_check(rc, "cufftMakePlanMany64");
      fft_check(cufftSetStream(h, core::device_context().stream), "cufftSetStream");
      it = plans.emplace(key, Plan{h, work}).first;
    }
    fft_check(cufftSetWorkArea(it->second.h, core::device_context().scratch(kSlotWork, std::max<std::size_t>(it->second.work, 1))),
              "cufftSetWorkArea");
    return it->second.h;
  }

  // Complex DFTs: R2C, C2R, Forward, Backward.
  void dft(const LineSet& in, const LineSet& out, bool destroy_input, bool plan_only) const {
    auto& ctx = core::device_context();
    const bool real_in = kind == Kind::R2C, real_out = kind == Kind::C2R;
    const std::size_t isz = real_in ? sizeof(double) : sizeof(Z), osz = real_out ? sizeof(double) : sizeof(Z);
    Batch bi{}, bo{};
    LineSet src = in, dst = out;
    // cuFFT's C2R overwrites its input: a copy keeps the caller's.
    if (!one_batch(in, bi) || (kind == Kind::C2R && !destroy_input)) {
      src = contiguous(ctx.scratch(kSlotIn, static_cast<std::size_t>(in.outer * in.inner * in.n) * isz), in);
      one_batch(src, bi);
      if (!plan_only) {
        if (real_in) to_contiguous<double>(in, static_cast<double*>(src.p));
        else to_contiguous<std::complex<double>>(in, static_cast<std::complex<double>*>(src.p));
      }
    }
    const bool copy_out = !one_batch(out, bo);
    if (copy_out) {
      dst = contiguous(ctx.scratch(kSlotOut, static_cast<std::size_t>(out.outer * out.inner * out.n) * osz), out);
      one_batch(dst, bo);
    }
    const cufftType type = kind == Kind::R2C ? CUFFT_D2Z : kind == Kind::C2R ? CUFFT_Z2D : CUFFT_Z2Z;
    const cufftHandle h = plan(type, n, bi, bo);
    if (plan_only) return;
    if (kind == Kind::R2C) fft_check(cufftExecD2Z(h, static_cast<double*>(src.p), static_cast<cufftDoubleComplex*>(dst.p)), "cufftExecD2Z");
    else if (kind == Kind::C2R) fft_check(cufftExecZ2D(h, static_cast<cufftDoubleComplex*>(src.p), static_cast<double*>(dst.p)), "cufftExecZ2D");
    else
      fft_check(cufftExecZ2Z(h, static_cast<cufftDoubleComplex*>(src.p), static_cast<cufftDoubleComplex*>(dst.p),
                             kind == Kind::Forward ? CUFFT_FORWARD : CUFFT_INVERSE),
                "cufftExecZ2Z");
    if (copy_out) {
      if (real_out) from_contiguous<double>(static_cast<const double*>(dst.p), out);
      else from_contiguous<std::complex<double>>(static_cast<const std::complex<double>*>(dst.p), out);
    }
    launched("a line transform's relayout");
  }

  // Real-to-real kinds on real lines.
  void real_to_real(const LineSet& in, const LineSet& out, const double* pre, const double* post, bool acc, bool plan_only) const {
    auto& ctx = core::device_context();
    if (in.inner > 1 && in.outer * in.inner >= kRelayoutLines) {
      // The packing kernels read the lines point by point: interleaved lines would not coalesce.
      // Make them contiguous (a tiled transpose), transform, and transpose back.
      const std::size_t count = static_cast<std::size_t>(in.outer * in.inner * in.n);
      const LineSet xc = contiguous(ctx.scratch(kSlotIn, count * sizeof(double)), in);
      const LineSet yc = contiguous(ctx.scratch(kSlotOut, count * sizeof(double)), out);
      if (!plan_only) to_contiguous<double>(in, static_cast<double*>(xc.p));
      real_to_real(xc, yc, pre, post, false, plan_only);
      if (!plan_only) from_contiguous<double>(static_cast<const double*>(yc.p), out, acc);
      launched("a line transform's relayout");
      return;
    }
    const R2RForm f = r2r_form(r2r);
    const long lines = in.outer * in.inner, L = fft_length(f.mode, n), Lc = L / 2 + 1;
    const Batch real{1, L, lines}, half{1, Lc, lines};
    const bool fwd = forward_fft(f.mode);
    const cufftHandle h = fwd ? plan(CUFFT_D2Z, L, real, half) : plan(CUFFT_Z2D, L, half, real);
    if (plan_only) return;
    double* rbuf = ctx.scratch<double>(kSlotReal, static_cast<std::size_t>(lines * L));
    Z* cbuf = ctx.scratch<Z>(kSlotComplex, static_cast<std::size_t>(lines * Lc));
    const Shape vi = shape_of(in), vo = shape_of(out);
    const double* x = static_cast<const double*>(in.p);
    double* y = static_cast<double*>(out.p);
    if (fwd) {
      k_pack_real<<<grid2(L, lines), kBlock, 0, ctx.stream>>>(x, vi, rbuf, L, f.mode, pre, f.alt_in, f.rev_in);
      launched("a line transform's packing kernel");
      fft_check(cufftExecD2Z(h, rbuf, reinterpret_cast<cufftDoubleComplex*>(cbuf)), "cufftExecD2Z");
      k_unpack_complex<<<grid2(n, lines), kBlock, 0, ctx.stream>>>(cbuf, Lc, y, vo, f.mode, post, f.alt_out, f.rev_out, acc);
    } else {
      k_pack_complex<<<grid2(Lc, lines), kBlock, 0, ctx.stream>>>(x, vi, cbuf, Lc, f.mode, pre, f.alt_in, f.rev_in);
      launched("a line transform's packing kernel");
      fft_check(cufftExecZ2D(h, reinterpret_cast<cufftDoubleComplex*>(cbuf), rbuf), "cufftExecZ2D");
      k_unpack_real<<<grid2(n, lines), kBlock, 0, ctx.stream>>>(rbuf, L, y, vo, post, f.alt_out, f.rev_out, acc);
    }
    launched("a line transform's unpacking kernel");
  }

  void run(const LineSet& in, const LineSet& out, const double* pre, const double* post, bool acc, bool destroy, bool plan_only) const {
    if (in.outer * in.inner == 0) return;
    if (kind != Kind::R2R) {
      dft(in, out, destroy, plan_only);
      return;
    }
    if (cplx) real_to_real(as_real(in), as_real(out), pre, post, acc, plan_only);
    else real_to_real(in, out, pre, post, acc, plan_only);
  }
};

DeviceLineFft::DeviceLineFft(Kind kind, long n, R2R r2r, bool complex_data) : impl_(std::make_unique<Impl>()) {
  if (n < 1) throw Error("a line transform needs at least one point");
  if (kind == Kind::R2R) {
    r2r_form(r2r);  // rejects the kinds without a device form
    if (r2r == R2R::REDFT00 && n < 2) throw Error("a DCT-I needs at least 2 points along its axis");
  }
  impl_->kind = kind;
  impl_->n = n;
  impl_->r2r = r2r;
  impl_->cplx = complex_data;
}
DeviceLineFft::~DeviceLineFft() = default;


void DeviceLineFft::execute(const LineSet& in, const LineSet& out, bool destroy_input) const {
  impl_->run(in, out, nullptr, nullptr, false, destroy_input, false);
}
void DeviceLineFft::execute_scaled(const LineSet& in, const LineSet& out, const double* pre, const double* post, bool accumulate) const {
  if (impl_->kind != Kind::R2R) throw Error("internal: scaled line transforms are real-to-real only");
  impl_->run(in, out, pre, post, accumulate, false, false);
}
void DeviceLineFft::prepare(const LineSet& in, const LineSet& out, bool destroy_input) const {
  impl_->run(in, out, nullptr, nullptr, false, destroy_input, true);
}

struct DeviceBoxFft::Impl {
  Kind kind;
  cufftHandle h = 0;
  std::size_t work = 0, in_bytes = 0;
  ~Impl() {
    if (h) cufftDestroy(h);
  }
};

DeviceBoxFft::DeviceBoxFft(Kind kind, std::array<long, 3> n, int ncomp) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.kind = kind;
  if (kind == Kind::R2R) throw Error("internal: a box transform is a DFT");
  // cuFFT's dimensions run slowest first: z, y, x, axes of one point left out.
  long long dims[3];
  int rank = 0;
  long long real = 1, half = 1;
  for (int a = 2; a >= 0; --a)
    if (n[a] > 1) dims[rank++] = n[a];
  if (rank == 0) throw Error("internal: a box transform needs an axis of more than one point");
  for (int d = 0; d < rank; ++d) {
    real *= dims[d];
    half *= d + 1 == rank ? dims[d] / 2 + 1 : dims[d];
  }
  const cufftType type = kind == Kind::R2C ? CUFFT_D2Z : kind == Kind::C2R ? CUFFT_Z2D : CUFFT_Z2Z;
  const long long per_in = kind == Kind::R2C ? real : kind == Kind::C2R ? half : real;
  const std::size_t elem_in = kind == Kind::R2C ? sizeof(double) : sizeof(Z);
  m.in_bytes = static_cast<std::size_t>(per_in * ncomp) * elem_in;
  fft_check(cufftCreate(&m.h), "cufftCreate");
  fft_check(cufftSetAutoAllocation(m.h, 0), "cufftSetAutoAllocation");
  fft_check(cufftMakePlanMany64(m.h, rank, dims, nullptr, 1, 0, nullptr, 1, 0, type, ncomp, &m.work), "cufftMakePlanMany64");
  fft_check(cufftSetStream(m.h, core::device_context().stream), "cufftSetStream");
}
DeviceBoxFft::~DeviceBoxFft() = default;

void DeviceBoxFft::execute(const void* in, void* out, bool destroy_input) const {
  const Impl& m = *impl_;
  auto& ctx = core::device_context();
  fft_check(cufftSetWorkArea(m.h, ctx.scratch(kSlotWork, std::max<std::size_t>(m.work, 1))), "cufftSetWorkArea");
  void* src = const_cast<void*>(in);
  if (m.kind == Kind::C2R && !destroy_input) {
    // cuFFT's C2R overwrites its input: transform a copy.
    src = ctx.scratch(kSlotIn, m.in_bytes);
    core::cuda_check(cudaMemcpyAsync(src, in, m.in_bytes, cudaMemcpyDeviceToDevice, ctx.stream), "a box transform's input copy");
  }
  switch (m.kind) {
    case Kind::R2C: fft_check(cufftExecD2Z(m.h, static_cast<double*>(src), static_cast<cufftDoubleComplex*>(out)), "cufftExecD2Z"); break;
    case Kind::C2R: fft_check(cufftExecZ2D(m.h, static_cast<cufftDoubleComplex*>(src), static_cast<double*>(out)), "cufftExecZ2D"); break;
    default:
      fft_check(cufftExecZ2Z(m.h, static_cast<cufftDoubleComplex*>(src), static_cast<cufftDoubleComplex*>(out),
                             m.kind == Kind::Forward ? CUFFT_FORWARD : CUFFT_INVERSE),
                "cufftExecZ2Z");
  }
}

}  // namespace kron::layout
