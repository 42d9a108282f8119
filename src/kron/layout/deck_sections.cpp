#include "kron/layout/deck_sections.hpp"

#include "kron/core/mpi.hpp"

namespace kron::layout {

using core::KeySpec;
using core::SectionSpec;
using core::ValueKind;

void declare_sections(core::Schema& schema) {
  SectionSpec grid{"grid", "The tensor-product grid: one entry per axis (x, y, z); a list of one entry applies to every axis.", {}};
  grid.keys = {
      {"n", ValueKind::IntegerList, "[64, 64, 64]", "Points per axis; the list length (1, 2 or 3) is the dimension.", 1, 1e9, {}, 1, 3},
      {"lower", ValueKind::RealList, "[0.0]", "Lower end of each axis.", -1e300, 1e300, {}, 1, 3},
      {"upper", ValueKind::RealList, "[1.0]", "Upper end of each axis.", -1e300, 1e300, {}, 1, 3},
      {"kind", ValueKind::StringList, "[\"uniform\"]",
       "Point placement per axis: uniform (vertex-centred, ends included), cell (cell-centred), periodic (upper end "
       "excluded), chebyshev (Gauss-Lobatto) or file (coordinates read from grid.files).",
       -1e300, 1e300, {"uniform", "cell", "periodic", "chebyshev", "file"}, 1, 3},
      {"files", ValueKind::StringList, "[\"\"]", "Coordinate file per axis of kind 'file' (one coordinate per line; see meshes/).",
       -1e300, 1e300, {}, 1, 3},
  };
  schema.add(grid);

  SectionSpec par{"parallel", "How the grid is distributed over MPI ranks.", {}};
  par.keys = {
      {"process_grid", ValueKind::IntegerList, "",
       "Process grid [p1, p2] with p1*p2 = ranks ([P, 1] is a slab split); absent: chosen automatically to move the fewest bytes.",
       1, 1e6, {}, 2, 2, true},
      {"transpose", ValueKind::String, "\"alltoallv\"", "Transpose method: alltoallv (pack + MPI_Alltoallv) or alltoallw (derived datatypes).",
       -1e300, 1e300, {"alltoallv", "alltoallw"}},
  };
  schema.add(par);

  SectionSpec fft{"fft", "Planning of FFTW transforms.", {}};
  fft.keys = {
      {"effort", ValueKind::String, "\"measure\"", "FFTW planner effort (more effort: slower planning, faster transforms).",
       -1e300, 1e300, {"estimate", "measure", "patient", "exhaustive"}},
      {"wisdom", ValueKind::String, "\"auto\"",
       "FFTW wisdom file, read at start and written when new plans were measured, so that measuring costs once per "
       "machine: auto ($KRON_FFTW_WISDOM, else ~/.cache/kron/fftw_wisdom_<host>.txt), none, or a path."},
  };
  schema.add(fft);

  SectionSpec out{"output", "Where and how results are written (HDF5 + XDMF + summary.json).", {}};
  out.keys = {
      {"dir", ValueKind::String, "\"out\"", "Output folder (created if missing)."},
      {"name", ValueKind::String, "\"kron\"", "Base name of output files: <name>_<step>.h5 and <name>.xdmf."},
      {"compression", ValueKind::Integer, "0", "Deflate level for field datasets (0: none; needs chunking, set automatically).", 0, 9},
      {"chunk", ValueKind::IntegerList, "", "HDF5 chunk extents [cx, cy, cz]; absent: 64 per axis when compressing.", 1, 1e9, {}, 1, 3, true},
      {"write_fields", ValueKind::Boolean, "true", "Write the field datasets (false: only summary.json and small datasets)."},
  };
  schema.add(out);
}

Domain make_domain(const core::Deck& deck) {
  const auto n = deck.integers("grid", "n");
  const int dim = static_cast<int>(n.size());
  const auto lower = deck.reals("grid", "lower");
  const auto upper = deck.reals("grid", "upper");
  const auto kind = deck.strings("grid", "kind");
  const auto files = deck.strings("grid", "files");
  auto check_len = [&](const char* key, std::size_t len) {
    if (len != 1 && static_cast<int>(len) != dim)
      throw deck.error("grid", key, std::to_string(len) + " entries, but grid.n has " + std::to_string(dim),
                       "give one entry per axis, or one for all axes");
  };
  check_len("lower", lower.size());
  check_len("upper", upper.size());
  check_len("kind", kind.size());
  check_len("files", files.size());
  auto pick = [](const auto& v, int a) { return v.size() == 1 ? v[0] : v[static_cast<std::size_t>(a)]; };
  Domain d;
  d.dim = dim;
  for (int a = 0; a < dim; ++a) {
    const double lo = pick(lower, a), hi = pick(upper, a);
    const AxisKind k = parse_axis_kind(pick(kind, a));
    const std::string axis = std::string("axis ") + "xyz"[a];
    if (k != AxisKind::File && !(hi > lo))
      throw deck.error("grid", "upper", axis + ": upper end " + std::to_string(hi) + " is not above lower end " + std::to_string(lo));
    const long na = n[static_cast<std::size_t>(a)];
    try {
      switch (k) {
        case AxisKind::Uniform: d.axes[a] = AxisGrid::uniform(na, lo, hi); break;
        case AxisKind::Cell: d.axes[a] = AxisGrid::cell(na, lo, hi); break;
        case AxisKind::Periodic: d.axes[a] = AxisGrid::periodic(na, lo, hi); break;
        case AxisKind::Chebyshev: d.axes[a] = AxisGrid::chebyshev(na, lo, hi); break;
        case AxisKind::File: {
          const std::string path = pick(files, a);
          if (path.empty()) throw deck.error("grid", "files", axis + " has kind 'file' but no file is given");
          d.axes[a] = AxisGrid::from_file(path);
          if (d.axes[a].size() != na)
            throw deck.error("grid", "n", axis + ": grid.n says " + std::to_string(na) + " points but '" + path + "' holds " +
                                              std::to_string(d.axes[a].size()));
          break;
        }
      }
    } catch (const Error& e) {
      if (!e.where().file.empty()) throw;
      throw deck.error("grid", "n", axis + ": " + e.message(), e.hint());
    }
  }
  return d;
}

ProcessGridPtr make_process_grid(const core::Deck& deck, const Domain& domain, MPI_Comm comm) {
  const int nranks = core::mpi::size(comm);
  std::array<int, 2> dims{};
  if (deck.has("parallel", "process_grid")) {
    const auto pg = deck.integers("parallel", "process_grid");
    dims = {static_cast<int>(pg[0]), static_cast<int>(pg[1])};
    if (static_cast<long long>(dims[0]) * dims[1] != nranks)
      throw deck.error("parallel", "process_grid",
                       "[" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + "] needs " + std::to_string(dims[0] * dims[1]) +
                           " MPI ranks but the run has " + std::to_string(nranks),
                       "make p1*p2 equal the rank count, or remove the key for an automatic choice");
  } else {
    dims = ProcessGrid::choose(domain.shape(), nranks);
  }
  return std::make_shared<ProcessGrid>(comm, dims[0], dims[1]);
}

FftOptions fft_options(const core::Deck& deck) {
  FftOptions o;
  o.effort = parse_fft_effort(deck.string("fft", "effort"));
  o.transpose = parse_transpose_method(deck.string("parallel", "transpose"));
  return o;
}

H5WriteOptions output_options(const core::Deck& deck) {
  H5WriteOptions o;
  o.compression = static_cast<int>(deck.integer("output", "compression"));
  if (deck.has("output", "chunk")) {
    const auto c = deck.integers("output", "chunk");
    for (std::size_t a = 0; a < 3; ++a) o.chunk[a] = c.size() == 1 ? c[0] : (a < c.size() ? c[a] : 1);
  }
  return o;
}

}  // namespace kron::layout
