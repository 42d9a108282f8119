#pragma once
// The fused Monarch multiply on tensor cores (sm_80 and later; built for sm_90): y = P L P^T R x
// for square blocks of bs x bs (bs = 16, 32, 64 or 128; nb blocks, n = nb bs), one kernel a batch.
// CUDA only, no kron dependencies (fused_monarch_cuda.cu launches it; the weights come re-laid by
// fused_monarch_tc_layout.hpp).
//
// A thread block takes TB samples and W warps:
//   1. warp-level MMAs h_k = R_k x_k for the blocks k it owns: B (x) straight from global memory,
//      8 bytes a lane, every 32-byte sector used; A (the weights) one 16-byte load a lane, from L2;
//      h stored in shared memory where the second factor reads it: block l's inputs
//      h[r nb + l] (r < bs) of sample b at H[l LS + b BS + r];
//   2. y_l = L_l h_l for the blocks l it owns, written back in place (block l reads and writes only
//      its own region: no barrier between the reads and the writes but the warp's own);
//   3. the tile's y copied out, consecutive threads on consecutive words of y.
// Two element types: bf16 (x, y, weights and h in bfloat16; m16n8k16 MMAs accumulating in fp32)
// and fp32 as three tf32 MMAs (m16n8k8) a product, each operand split into a tf32 head and a tf32
// tail (a b ~ a_h b_h + a_h b_t + a_t b_h): about fp32's accuracy (~2^-21 a product), h in fp32.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

namespace kron::nn::fused::tc {

struct Bf16 {
  using S = __nv_bfloat16;  // storage of x, y, weights
  using H = __nv_bfloat16;  // storage of h in shared memory
  static constexpr int KS = 16;
};
struct Tf32x3 {
  using S = float;
  using H = float;
  static constexpr int KS = 8;
};

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint4& a, const uint2& b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a.x), "r"(a.y), "r"(a.z), "r"(a.w), "r"(b.x), "r"(b.y));
}
__device__ __forceinline__ void mma_tf32(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
__device__ __forceinline__ uint32_t to_tf32(float v) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(v));
  return r;
}
// v = head + tail, both tf32.
__device__ __forceinline__ void split_tf32(uint32_t bits, uint32_t& head, uint32_t& tail) {
  const float v = __uint_as_float(bits);
  head = to_tf32(v);
  tail = to_tf32(v - __uint_as_float(head));
}

template <class E>
struct Mma;
template <>
struct Mma<Bf16> {
  using A = uint4;
  using B = uint2;
  __device__ __forceinline__ static A prep_a(const uint4& a) { return a; }
  __device__ __forceinline__ static B prep_b(const uint2& b) { return b; }
  __device__ __forceinline__ static void run(float (&c)[4], const A& a, const B& b) { mma_bf16(c, a, b); }
};
template <>
struct Mma<Tf32x3> {
  struct A {
    uint32_t h[4], t[4];
  };
  struct B {
    uint32_t h[2], t[2];
  };
  __device__ __forceinline__ static A prep_a(const uint4& a) {
    A r;
    split_tf32(a.x, r.h[0], r.t[0]);
    split_tf32(a.y, r.h[1], r.t[1]);
    split_tf32(a.z, r.h[2], r.t[2]);
    split_tf32(a.w, r.h[3], r.t[3]);
    return r;
  }
  __device__ __forceinline__ static B prep_b(const uint2& b) {
    B r;
    split_tf32(b.x, r.h[0], r.t[0]);
    split_tf32(b.y, r.h[1], r.t[1]);
    return r;
  }
  // The small terms first.
  __device__ __forceinline__ static void run(float (&c)[4], const A& a, const B& b) {
    mma_tf32(c, a.t[0], a.t[1], a.t[2], a.t[3], b.h[0], b.h[1]);
    mma_tf32(c, a.h[0], a.h[1], a.h[2], a.h[3], b.t[0], b.t[1]);
    mma_tf32(c, a.h[0], a.h[1], a.h[2], a.h[3], b.h[0], b.h[1]);
  }
};

template <class T>
__device__ __forceinline__ T from_float(float v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) return __float2bfloat16_rn(v);
  else return v;
}

/// Shared-memory strides (elements of E::H): BS between samples within a block's region, LS
/// between regions. BS makes a half-warp's 8-byte B loads hit distinct banks (its 4 samples 32
/// bytes apart mod 128); LS makes the copy-out's neighbouring regions 2-way at most.
template <class E>
__host__ __device__ constexpr int tc_bs_stride(int bs) {
  constexpr int eb = sizeof(typename E::H);
  const int unit = 32 / eb, period = 64 / eb;  // stride = unit (mod period)
  int v = bs;
  while (v % period != unit) ++v;
  return v;
}
template <class E>
__host__ __device__ constexpr long tc_ls_stride(int bs, int tb) {
  constexpr int eb = sizeof(typename E::H);
  long v = static_cast<long>(tb) * tc_bs_stride<E>(bs);
  // 8-byte aligned, and LS eb / 4 words = 2 (mod 4).
  while ((v * eb) % 8 != 0 || ((v * eb / 4) % 4) != 2) ++v;
  return v;
}
template <class E>
constexpr std::size_t tc_smem_bytes(long nb, int bs, int tb) {
  return sizeof(typename E::H) * static_cast<std::size_t>(nb) * static_cast<std::size_t>(tc_ls_stride<E>(bs, tb));
}

/// acc = W (MT 16-row tiles of one block's weights, fragment order from wa) times B (NT tiles of 8
/// samples, KSTEPS k-steps): load_b(kk, nt) gives a lane's 8 bytes of B.
template <class E, int MT, int NT, int KSTEPS, class LoadB>
__device__ __forceinline__ void warp_product(float (&acc)[MT][NT][4], const uint4* __restrict__ wa, LoadB&& load_b) {
  using M = Mma<E>;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0.f;
#pragma unroll
  for (int kk = 0; kk < KSTEPS; ++kk) {
    typename M::B bf[NT];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) bf[nt] = M::prep_b(load_b(kk, nt));
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      const typename M::A af = M::prep_a(__ldg(wa + (mt * KSTEPS + kk) * 32));
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) M::run(acc[mt][nt], af, bf[nt]);
    }
  }
}

/// One thread block: samples b0 .. b0 + TB - 1. Rf, Lf: fragment order (tc_fragment_layout).
/// nb_shift: log2 nb where nb is a power of two, else -1.
template <class E, int BSZ, int TB, int W>
__global__ void __launch_bounds__(W * 32) k_monarch_tc(const typename E::S* __restrict__ x, typename E::S* __restrict__ y, const uint4* __restrict__ Rf,
                                                       const uint4* __restrict__ Lf, long batch, int nb, int nb_shift) {
  using S = typename E::S;
  using HT = typename E::H;
  constexpr int MT = BSZ / 16, NT = TB / 8, KSTEPS = BSZ / E::KS, XPER = 8 / sizeof(S);
  constexpr int BS = tc_bs_stride<E>(BSZ);
  constexpr long LS = tc_ls_stride<E>(BSZ, TB);
  extern __shared__ __align__(16) unsigned char smem[];
  HT* Hs = reinterpret_cast<HT*>(smem);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const long b0 = static_cast<long>(blockIdx.x) * TB;
  const long n = static_cast<long>(nb) * BSZ;

  // 1. h = R x.
  for (int k = warp; k < nb; k += W) {
    float acc[MT][NT][4];
    const S* xk = x + static_cast<long>(k) * BSZ + t * XPER;
    warp_product<E, MT, NT, KSTEPS>(acc, Rf + static_cast<long>(k) * MT * KSTEPS * 32 + lane, [&](int kk, int nt) {
      const long b = b0 + nt * 8 + g;
      return b < batch ? __ldg(reinterpret_cast<const uint2*>(xk + b * n + kk * E::KS)) : make_uint2(0u, 0u);
    });
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = mt * 16 + g + (e >> 1) * 8, b = nt * 8 + 2 * t + (e & 1);
          const int idx = k * BSZ + i, r = nb_shift >= 0 ? idx >> nb_shift : idx / nb, l = idx - r * nb;
          Hs[l * LS + b * BS + r] = from_float<HT>(acc[mt][nt][e]);
        }
  }
  __syncthreads();

  // 2. y_l = L_l h_l, in place.
  for (int l = warp; l < nb; l += W) {
    float acc[MT][NT][4];
    HT* hl = Hs + l * LS;
    warp_product<E, MT, NT, KSTEPS>(acc, Lf + static_cast<long>(l) * MT * KSTEPS * 32 + lane, [&](int kk, int nt) {
      return *reinterpret_cast<const uint2*>(hl + (nt * 8 + g) * BS + kk * E::KS + t * XPER);
    });
    __syncwarp();
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) hl[(nt * 8 + 2 * t + (e & 1)) * BS + mt * 16 + g + (e >> 1) * 8] = from_float<HT>(acc[mt][nt][e]);
  }
  __syncthreads();

  // 3. y[b0 n + e] = y of sample e / n, output (e mod n) = t nb + l; V neighbouring l a thread
  // (one 8-byte store) where nb allows.
  const int rows = batch - b0 < TB ? static_cast<int>(batch - b0) : TB, count = rows * nb * BSZ;
  S* yb = y + b0 * n;
  constexpr int V = 8 / sizeof(S);
  if (nb % V == 0) {
    for (int e = threadIdx.x * V; e < count; e += W * 32 * V) {
      const int rest = nb_shift >= 0 ? e >> nb_shift : e / nb, l = e - rest * nb, b = rest / BSZ, to = rest - b * BSZ;
      const HT* src = Hs + l * LS + b * BS + to;
      alignas(8) S v[V];
#pragma unroll
      for (int u = 0; u < V; ++u) v[u] = from_float<S>(static_cast<float>(src[u * LS]));
      *reinterpret_cast<uint2*>(yb + e) = *reinterpret_cast<const uint2*>(v);
    }
  } else {
    for (int e = threadIdx.x; e < count; e += W * 32) {
      const int rest = e / nb, l = e - rest * nb, b = rest / BSZ, to = rest - b * BSZ;
      yb[e] = from_float<S>(static_cast<float>(Hs[l * LS + b * BS + to]));
    }
  }
}

}  // namespace kron::nn::fused::tc
