#pragma once
// Models shared by the unit and GPU tests of the neural-network family.
#include <string>

#include "kron/nn/fno.hpp"

namespace kron::testing {

/// A small 2D FNO (12 x 12 grid, 3 x 3 modes, width 8, 2 layers, padding 2, head 16); its
/// transforms map 14 padded points to 6 and back.
inline nn::FnoOptions small_fno(const std::string& spectral, const std::string& mixing, const std::string& transform = "fixed") {
  nn::FnoOptions o;
  o.nx = o.ny = 12;
  o.modes_x = o.modes_y = 3;
  o.width = 8;
  o.layers = 2;
  o.padding = transform == "monarch_dft" ? 4 : 2;  // 16 = 4^2 padded points for the Monarch DFT
  o.head = 16;
  o.spectral = spectral;
  o.mixing = mixing;
  o.transform = transform;
  return o;
}

}  // namespace kron::testing
