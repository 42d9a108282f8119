#pragma once
// The tensor-core fused Monarch kernel's weight layout (fused_monarch_tc.cuh), host side and
// CUDA-free: each square block's matrix re-laid in the order the warp-level MMA reads its A
// operand, so that every lane loads its whole fragment of one 16-row tile and one k-step with a
// single 16-byte load and a warp reads 512 contiguous bytes.
//
// The k order inside a step is permuted (a dot product does not care): lane (g, t) (g = lane / 4,
// t = lane % 4) feeds the MMA the columns its B operand holds as consecutive words of x or h,
// 4t..4t+3 for bf16's m16n8k16 (slots 2t, 2t+1, 2t+8, 2t+9) and 2t, 2t+1 for tf32's m16n8k8
// (slots t, t+4). So B is one 8-byte load per lane from x (global) or h (shared), with no
// shuffles and every 32-byte sector used.
#include <vector>

namespace kron::nn::fused {

/// MMA k-step of the tensor-core path: 16 columns for bf16, 8 for tf32.
inline int tc_kstep(bool bf16) { return bf16 ? 16 : 8; }

/// w(k, row, col): block k's entry, nb blocks of bs x bs (bs a multiple of 16). Returns the
/// values in fragment order: index ((k (bs/16) + mt) (bs/ks) + kk) 32 + lane holds that lane's 8
/// (bf16) or 4 (tf32) values of rows 16 mt.., columns ks kk.. of block k.
template <class Get>
std::vector<double> tc_fragment_layout(long nb, int bs, bool bf16, Get&& w) {
  const int ks = tc_kstep(bf16), mts = bs / 16, kss = bs / ks, per = bf16 ? 8 : 4;
  std::vector<double> out(static_cast<std::size_t>(nb) * bs * bs);
  std::size_t o = 0;
  for (long k = 0; k < nb; ++k)
    for (int mt = 0; mt < mts; ++mt)
      for (int kk = 0; kk < kss; ++kk)
        for (int lane = 0; lane < 32; ++lane) {
          const int g = lane / 4, t = lane % 4, r0 = 16 * mt + g, c0 = ks * kk;
          for (int e = 0; e < per; ++e) {
            int row, col;
            if (bf16) {  // a0 a1 (g, 4t + 0/1), a2 a3 (g + 8, 4t + 0/1), a4 a5 (g, 4t + 2/3), a6 a7 (g + 8, 4t + 2/3)
              row = r0 + ((e / 2) % 2) * 8;
              col = c0 + 4 * t + (e / 4) * 2 + e % 2;
            } else {  // a0 (g, 2t), a1 (g + 8, 2t), a2 (g, 2t + 1), a3 (g + 8, 2t + 1)
              row = r0 + (e % 2) * 8;
              col = c0 + 2 * t + e / 2;
            }
            out[o++] = w(k, row, col);
          }
        }
  return out;
}

}  // namespace kron::nn::fused
