// The fused Monarch multiply's kernel (fused_monarch_device.hpp): one kernel a batch, templated on the storage
// type S and the tile shape (BR samples a thread block, IT outputs of a block a thread).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/device_context.cuh"
#include "kron/core/error.hpp"
#include "kron/nn/fused_monarch_device.hpp"
#include "kron/nn/fused_monarch_tc.cuh"

namespace kron::nn::fused {
namespace {

using bf16 = __nv_bfloat16;

template <class S>
struct Compute {
  using type = S;
};
template <>
struct Compute<bf16> {
  using type = float;
};

__device__ __forceinline__ double widen_to(double v) { return v; }
__device__ __forceinline__ float widen_to(float v) { return v; }
__device__ __forceinline__ float widen_to(bf16 v) { return __bfloat162float(v); }
template <class S>
__device__ __forceinline__ S narrow_to(typename Compute<S>::type v) {
  if constexpr (std::is_same_v<S, bf16>) return __float2bfloat16_rn(v);
  else return v;
}

constexpr int kThreads = 256;  // threads a block
constexpr int kJC = 16;        // input columns of x staged at a time in the first factor

struct Shape {
  int nb, p, q, s;
  long in, out, hn;  // hn: one sample's h in shared memory, q rows of nb + 1 (padding: no bank conflicts)
};

// One thread block: samples b0 .. b0 + BR - 1.
//   h[k q + i] = sum_j R_k[i, j] x[k p + j]   (Rp[(i p + j) nb + k] = R_k[i, j])
//   y[t nb + l] = sum_r L_l[t, r] h[r nb + l] (Lp[(t q + r) nb + l] = L_l[t, r])
// h[r nb + l] is kept at H[r (nb + 1) + l]: the first factor writes it there, the second reads
// it with neighbouring threads on neighbouring l. A thread owns IT outputs of one block for all
// BR samples (BR x IT accumulators in registers); each weight it loads (neighbouring threads:
// neighbouring words, from L2) serves BR samples.
template <class S, int BR, int IT>
__global__ void __launch_bounds__(kThreads) k_monarch(const S* __restrict__ x, S* __restrict__ y, const S* __restrict__ Rp, const S* __restrict__ Lp,
                                                      long batch, Shape sh) {
  using C = typename Compute<S>::type;
  extern __shared__ __align__(16) unsigned char smem[];
  C* H = reinterpret_cast<C*>(smem);
  C* Xs = H + BR * sh.hn;  // BR x kJC x (nb + 1): x[b0 + row, k p + j0 + jj] at (row kJC + jj)(nb + 1) + k
  const long b0 = static_cast<long>(blockIdx.x) * BR;
  const int nb = sh.nb, nb1 = sh.nb + 1;

  // First factor. Every thread runs the same rounds (the staging needs all of them).
  const int units1 = nb * ((sh.q + IT - 1) / IT);
  for (int u0 = 0; u0 < units1; u0 += kThreads) {
    const int u = u0 + static_cast<int>(threadIdx.x);
    const bool active = u < units1;
    const int k = active ? u % nb : 0, i0 = active ? (u / nb) * IT : 0;
    C acc[BR][IT];
#pragma unroll
    for (int r = 0; r < BR; ++r)
#pragma unroll
      for (int ii = 0; ii < IT; ++ii) acc[r][ii] = C(0);
    for (int j0 = 0; j0 < sh.p; j0 += kJC) {
      const int jc = min(kJC, sh.p - j0);
      __syncthreads();
      for (int e = threadIdx.x; e < BR * nb * kJC; e += kThreads) {
        const int jj = e % kJC, kk = (e / kJC) % nb, row = e / (kJC * nb);
        C v = C(0);
        if (jj < jc && b0 + row < batch) v = widen_to(x[(b0 + row) * sh.in + static_cast<long>(kk) * sh.p + j0 + jj]);
        Xs[(row * kJC + jj) * nb1 + kk] = v;
      }
      __syncthreads();
      if (active) {
        const S* w0 = Rp + (static_cast<long>(i0) * sh.p + j0) * nb + k;  // R_k[i0, j0]; i + 1: + p nb, j + 1: + nb
#pragma unroll 2
        for (int jj = 0; jj < jc; ++jj) {
          C xv[BR];
#pragma unroll
          for (int r = 0; r < BR; ++r) xv[r] = Xs[(r * kJC + jj) * nb1 + k];
#pragma unroll
          for (int ii = 0; ii < IT; ++ii) {
            const C w = i0 + ii < sh.q ? widen_to(w0[(static_cast<long>(ii) * sh.p + jj) * nb]) : C(0);
#pragma unroll
            for (int r = 0; r < BR; ++r) acc[r][ii] += w * xv[r];
          }
        }
      }
    }
    if (active) {
#pragma unroll
      for (int ii = 0; ii < IT; ++ii) {
        const int i = i0 + ii;
        if (i < sh.q) {
          const int idx = k * sh.q + i, hr = idx / nb, l = idx % nb;
#pragma unroll
          for (int r = 0; r < BR; ++r) H[r * sh.hn + hr * nb1 + l] = acc[r][ii];
        }
      }
    }
  }
  __syncthreads();

  // Second factor: no staging, so each thread runs its own units.
  const int units2 = nb * ((sh.s + IT - 1) / IT);
  for (int u = threadIdx.x; u < units2; u += kThreads) {
    const int l = u % nb, t0 = (u / nb) * IT;
    const S* w0 = Lp + static_cast<long>(t0) * sh.q * nb + l;  // L_l[t0, 0]; t + 1: + q nb, r + 1: + nb
    C acc[BR][IT];
#pragma unroll
    for (int r = 0; r < BR; ++r)
#pragma unroll
      for (int tt = 0; tt < IT; ++tt) acc[r][tt] = C(0);
#pragma unroll 2
    for (int hr = 0; hr < sh.q; ++hr) {
      C hv[BR];
#pragma unroll
      for (int r = 0; r < BR; ++r) hv[r] = H[r * sh.hn + hr * nb1 + l];
#pragma unroll
      for (int tt = 0; tt < IT; ++tt) {
        const C w = t0 + tt < sh.s ? widen_to(w0[(static_cast<long>(tt) * sh.q + hr) * nb]) : C(0);
#pragma unroll
        for (int r = 0; r < BR; ++r) acc[r][tt] += w * hv[r];
      }
    }
#pragma unroll
    for (int tt = 0; tt < IT; ++tt) {
      const int t = t0 + tt;
      if (t < sh.s)
#pragma unroll
        for (int r = 0; r < BR; ++r)
          if (b0 + r < batch) y[(b0 + r) * sh.out + static_cast<long>(t) * nb + l] = narrow_to<S>(acc[r][tt]);
    }
  }
}

template <class S>
std::size_t smem_bytes(const Shape& sh, int br) {
  using C = typename Compute<S>::type;
  return sizeof(C) * static_cast<std::size_t>(br) * static_cast<std::size_t>(sh.hn + static_cast<long>(kJC) * (sh.nb + 1));
}

// The tile (samples a block): the largest power of two up to 16 whose shared memory fits; 0 if
// none. Larger tiles read each weight for more samples: on the H200 (2026-12-03, batch 65536)
// n = 4096 fp32 ran 23.0 / 13.1 / 9.9 ms with 2 / 4 / 8 samples, n = 1024 fp64 17.0 / 6.1 / 1.9 /
// 1.3 ms with 2 / 4 / 8 / 16; 32 samples spill registers.
template <class S>
int choose_tile(const Shape& sh) {
  for (int br = 16; br >= 1; br /= 2)
    if (smem_bytes<S>(sh, br) <= kSmemLimit) return br;
  return 0;
}

template <class S, int BR, int IT>
void launch_tile(const S* x, S* y, const S* Rp, const S* Lp, long batch, const Shape& sh) {
  const std::size_t bytes = smem_bytes<S>(sh, BR);
  core::cuda_check(cudaFuncSetAttribute(k_monarch<S, BR, IT>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
                   "cudaFuncSetAttribute (fused Monarch)");
  const long blocks = (batch + BR - 1) / BR;
  k_monarch<S, BR, IT><<<static_cast<unsigned>(blocks), kThreads, bytes, core::device_context().stream>>>(x, y, Rp, Lp, batch, sh);
  core::cuda_check(cudaGetLastError(), "fused Monarch kernel");
}

// BR x IT accumulators: up to 128 in fp32 (and bf16's fp32), 64 in fp64; IT at most 16.
template <class S>
void launch(const S* x, S* y, const S* Rp, const S* Lp, long batch, const Shape& sh, int br) {
  constexpr bool d = std::is_same_v<S, double>;
  switch (br) {
    case 16: return launch_tile<S, 16, d ? 4 : 8>(x, y, Rp, Lp, batch, sh);
    case 8: return launch_tile<S, 8, d ? 8 : 16>(x, y, Rp, Lp, batch, sh);
    case 4: return launch_tile<S, 4, 16>(x, y, Rp, Lp, batch, sh);
    case 2: return launch_tile<S, 2, 16>(x, y, Rp, Lp, batch, sh);
    default: return launch_tile<S, 1, 16>(x, y, Rp, Lp, batch, sh);
  }
}

// The tensor-core kernel's configurations (samples, warps a thread block) for each element type
// and block size, fastest first where shared memory allows (H200, 2026-12-04, batch 65536:
// n = 4096 bf16 0.96 / 1.02 ms with 16 / 8 samples and 16 warps, fp32 2.61 ms with 8 samples and
// 16 warps against 4.74 with 8 warps; n = 1024 bf16 0.128 ms with 32 samples, fp32 0.292 /
// 0.328 / 0.361 ms with 32 / 16 / 8 samples).
struct TcCandidate {
  int tile, warps;
};
template <class E>
std::vector<TcCandidate> tc_candidates(int bs) {
  constexpr bool b = std::is_same_v<E, tc::Bf16>;
  switch (bs) {
    case 16: return {{32, 8}, {16, 8}, {8, 8}};
    case 32: return b ? std::vector<TcCandidate>{{32, 8}, {16, 16}, {8, 8}} : std::vector<TcCandidate>{{32, 16}, {16, 8}, {8, 8}};
    case 64: return b ? std::vector<TcCandidate>{{16, 16}, {8, 16}} : std::vector<TcCandidate>{{8, 16}};
    case 128: return {{8, 8}};
    default: return {};
  }
}

template <class E>
TcConfig tc_config(int nb, int bs) {
  for (const auto& c : tc_candidates<E>(bs))
    if (tc::tc_smem_bytes<E>(nb, bs, c.tile) <= kSmemLimit) return {c.tile, c.warps};
  return {};
}

template <class E, int BSZ, int TB, int W>
void tc_launch(const void* x, void* y, const void* Rf, const void* Lf, long batch, int nb) {
  using S = typename E::S;
  auto kern = tc::k_monarch_tc<E, BSZ, TB, W>;
  const std::size_t bytes = tc::tc_smem_bytes<E>(nb, BSZ, TB);
  core::cuda_check(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
                   "cudaFuncSetAttribute (fused Monarch, tensor cores)");
  const int shift = (nb & (nb - 1)) == 0 ? __builtin_ctz(static_cast<unsigned>(nb)) : -1;
  kern<<<static_cast<unsigned>((batch + TB - 1) / TB), W * 32, bytes, core::device_context().stream>>>(
      static_cast<const S*>(x), static_cast<S*>(y), static_cast<const uint4*>(Rf), static_cast<const uint4*>(Lf), batch, nb, shift);
  core::cuda_check(cudaGetLastError(), "fused Monarch kernel (tensor cores)");
}

// Instantiates only the (block size, samples, warps) combinations tc_candidates names.
template <class E>
void tc_dispatch(const void* x, void* y, const void* Rf, const void* Lf, long batch, int nb, int bs, TcConfig c) {
  constexpr bool b = std::is_same_v<E, tc::Bf16>;
  switch (bs) {
    case 16:
      if (c.tile == 32) return tc_launch<E, 16, 32, 8>(x, y, Rf, Lf, batch, nb);
      if (c.tile == 16) return tc_launch<E, 16, 16, 8>(x, y, Rf, Lf, batch, nb);
      return tc_launch<E, 16, 8, 8>(x, y, Rf, Lf, batch, nb);
    case 32:
      if (c.tile == 32) return tc_launch<E, 32, 32, b ? 8 : 16>(x, y, Rf, Lf, batch, nb);
      if (c.tile == 16) return tc_launch<E, 32, 16, b ? 16 : 8>(x, y, Rf, Lf, batch, nb);
      return tc_launch<E, 32, 8, 8>(x, y, Rf, Lf, batch, nb);
    case 64:
      if (b && c.tile == 16) return tc_launch<E, 64, 16, 16>(x, y, Rf, Lf, batch, nb);
      return tc_launch<E, 64, 8, 16>(x, y, Rf, Lf, batch, nb);
    case 128: return tc_launch<E, 128, 8, 8>(x, y, Rf, Lf, batch, nb);
    default: throw Error("internal: fused Monarch tensor cores with blocks of " + std::to_string(bs));
  }
}

template <class S>
__global__ void k_narrow(const double* in, S* out, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    if constexpr (std::is_same_v<S, bf16>) out[i] = __double2bfloat16(in[i]);
    else out[i] = static_cast<S>(in[i]);
  }
}
template <class S>
__global__ void k_widen(const S* in, double* out, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    if constexpr (std::is_same_v<S, bf16>) out[i] = static_cast<double>(__bfloat162float(in[i]));
    else out[i] = static_cast<double>(in[i]);
  }
}

}  // namespace

int monarch_tile(Precision prec, const MonarchShape& sh) {
  const Shape k{sh.nb, sh.p, sh.q, sh.s, static_cast<long>(sh.nb) * sh.p, static_cast<long>(sh.nb) * sh.s, static_cast<long>(sh.q) * (sh.nb + 1)};
  return prec == Precision::FP64 ? choose_tile<double>(k) : prec == Precision::FP32 ? choose_tile<float>(k) : choose_tile<bf16>(k);
}

void monarch_forward(Precision prec, const void* x, void* y, const void* Rp, const void* Lp, long batch, const MonarchShape& sh, int tile) {
  const Shape k{sh.nb, sh.p, sh.q, sh.s, static_cast<long>(sh.nb) * sh.p, static_cast<long>(sh.nb) * sh.s, static_cast<long>(sh.q) * (sh.nb + 1)};
  if (prec == Precision::FP64)
    launch<double>(static_cast<const double*>(x), static_cast<double*>(y), static_cast<const double*>(Rp), static_cast<const double*>(Lp), batch, k, tile);
  else if (prec == Precision::FP32)
    launch<float>(static_cast<const float*>(x), static_cast<float*>(y), static_cast<const float*>(Rp), static_cast<const float*>(Lp), batch, k, tile);
  else
    launch<bf16>(static_cast<const bf16*>(x), static_cast<bf16*>(y), static_cast<const bf16*>(Rp), static_cast<const bf16*>(Lp), batch, k, tile);
}

TcConfig monarch_tc_config(Precision prec, int nb, int bs) {
  if (prec == Precision::BF16) return tc_config<tc::Bf16>(nb, bs);
  if (prec == Precision::FP32) return tc_config<tc::Tf32x3>(nb, bs);
  return {};
}

void monarch_tc_forward(Precision prec, const void* x, void* y, const void* Rf, const void* Lf, long batch, int nb, int bs, TcConfig cfg) {
  if (prec == Precision::BF16) tc_dispatch<tc::Bf16>(x, y, Rf, Lf, batch, nb, bs, cfg);
  else if (prec == Precision::FP32) tc_dispatch<tc::Tf32x3>(x, y, Rf, Lf, batch, nb, bs, cfg);
  else throw Error("internal: fused Monarch tensor cores in fp64");
}

void narrow(const double* in, void* out, long n, Precision prec) {
  auto st = core::device_context().stream;
  if (prec == Precision::FP64) core::copy_on_device(out, in, static_cast<std::size_t>(n) * sizeof(double));
  else if (prec == Precision::FP32) k_narrow<float><<<core::grid_for(n), core::kBlock, 0, st>>>(in, static_cast<float*>(out), n);
  else k_narrow<bf16><<<core::grid_for(n), core::kBlock, 0, st>>>(in, static_cast<bf16*>(out), n);
  core::cuda_check(cudaGetLastError(), "narrowing to the fused Monarch's precision");
}

void widen(const void* in, double* out, long n, Precision prec) {
  auto st = core::device_context().stream;
  if (prec == Precision::FP64) core::copy_on_device(out, in, static_cast<std::size_t>(n) * sizeof(double));
  else if (prec == Precision::FP32) k_widen<float><<<core::grid_for(n), core::kBlock, 0, st>>>(static_cast<const float*>(in), out, n);
  else k_widen<bf16><<<core::grid_for(n), core::kBlock, 0, st>>>(static_cast<const bf16*>(in), out, n);
  core::cuda_check(cudaGetLastError(), "widening from the fused Monarch's precision");
}

}  // namespace kron::nn::fused
