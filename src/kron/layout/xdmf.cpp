#include "kron/layout/xdmf.hpp"

#include <cstdio>
#include <sstream>

namespace kron::layout {

std::string xdmf_text(const Domain& d, const std::vector<std::string>& fields, const std::vector<XdmfStep>& steps) {
  const auto n = d.shape();
  std::string dims, topo, geo;
  if (d.dim == 3) {
    dims = std::to_string(n[2]) + " " + std::to_string(n[1]) + " " + std::to_string(n[0]);
    topo = "3DRectMesh";
    geo = "VXVYVZ";
  } else if (d.dim == 2) {
    dims = std::to_string(n[1]) + " " + std::to_string(n[0]);
    topo = "2DRectMesh";
    geo = "VXVY";
  } else {
    dims = "1 " + std::to_string(n[0]);
    topo = "2DRectMesh";
    geo = "VXVY";
  }
  std::ostringstream os;
  os << "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
     << "<Xdmf Version=\"3.0\">\n  <Domain>\n"
     << "    <Grid Name=\"TimeSeries\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (const auto& s : steps) {
    char tbuf[40];
    std::snprintf(tbuf, sizeof tbuf, "%.17g", s.time);
    os << "      <Grid Name=\"step " << s.step << "\" GridType=\"Uniform\">\n"
       << "        <Time Value=\"" << tbuf << "\"/>\n"
       << "        <Topology TopologyType=\"" << topo << "\" Dimensions=\"" << dims << "\"/>\n"
       << "        <Geometry GeometryType=\"" << geo << "\">\n";
    const int ncoord = d.dim == 1 ? 2 : d.dim;
    for (int a = 0; a < ncoord; ++a) {
      if (d.dim == 1 && a == 1) {
        os << "          <DataItem Dimensions=\"1\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">0</DataItem>\n";
        continue;
      }
      os << "          <DataItem Dimensions=\"" << n[a] << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
         << s.file << ":/grid/" << "xyz"[a] << "</DataItem>\n";
    }
    os << "        </Geometry>\n";
    for (const auto& f : fields) {
      os << "        <Attribute Name=\"" << f << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
         << "          <DataItem Dimensions=\"" << dims << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
         << s.file << ":/fields/" << f << "</DataItem>\n"
         << "        </Attribute>\n";
    }
    os << "      </Grid>\n";
  }
  os << "    </Grid>\n  </Domain>\n</Xdmf>\n";
  return os.str();
}

}  // namespace kron::layout
