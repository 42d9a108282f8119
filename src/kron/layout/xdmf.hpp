#pragma once
#include <string>
#include <vector>

#include "kron/layout/axis_grid.hpp"

namespace kron::layout {

struct XdmfStep {
  std::string file;  ///< HDF5 file name, relative to the XDMF file's folder
  int step = 0;
  double time = 0;
};

/// The XDMF (v3) text of a temporal collection of rectilinear grids whose coordinates are
/// /grid/x, /grid/y, /grid/z and whose scalar fields are /fields/<name> in each step file.
/// ParaView opens it with its XDMF reader. A 1D domain is written as a 1 x nx 2D mesh.
std::string xdmf_text(const Domain& domain, const std::vector<std::string>& fields, const std::vector<XdmfStep>& steps);

}  // namespace kron::layout
