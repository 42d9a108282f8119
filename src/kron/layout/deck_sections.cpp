#include "kron/layout/deck_sections.hpp"

#include "kron/core/device.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"

namespace kron::layout {

using core::KeySpec;
using core::SectionSpec;
using core::ValueKind;

void declare_sections(core::Schema& schema) {
  SectionSpec grid{"grid",
                   "The tensor-product grid: one entry per axis (x, y, z). The dimension is grid.dim, else the length of "
                   "grid.n; for the other keys a list of one entry applies to every axis.",
                   {}};
  grid.keys = {
      {"n", ValueKind::IntegerList, "[64, 64, 64]",
       "Points per axis, one entry per axis: [64, 64, 64] is 3D, [128, 64] is 2D. One entry needs grid.dim (dim = 1: a "
       "1D grid; dim = 3: the entry applies to every axis).",
       1, 1e9, {}, 1, 3},
      {"dim", ValueKind::Integer, "", "Dimension (1, 2 or 3); absent: the length of grid.n, which must then have 2 or 3 entries.",
       1, 3, {}, 0, 0, true},
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

  SectionSpec dev{"device", "Where the solver's kernels run.", {}};
  dev.keys = {
      {"backend", ValueKind::String, "\"cpu\"",
       "cpu, or cuda: the solver's transforms and line kernels on the GPU, one GPU per rank chosen from the node-local rank "
       "(needs the CUDA build; poisson, helmholtz, heat, spectrum, surrogate_train and surrogate_predict so far, other problems refuse "
       "it). Results match the CPU within rounding.",
       -1e300, 1e300, {"cpu", "cuda"}},
  };
  schema.add(dev);

  SectionSpec out{"output", "Where and how results are written (HDF5 + XDMF + summary.json).", {}};
  out.keys = {
      {"dir", ValueKind::String, "\"out\"", "Output folder (created if missing)."},
      {"name", ValueKind::String, "\"kron\"", "Base name of output files: <name>_<step>.h5 and <name>.xdmf."},
      {"compression", ValueKind::Integer, "0", "Deflate level for field datasets (0: none; needs chunking, set automatically).", 0, 9},
      {"chunk", ValueKind::IntegerList, "", "HDF5 chunk extents [cx, cy, cz]; absent: 64 per axis when compressing.", 1, 1e9, {}, 1, 3, true},
      {"write_fields", ValueKind::Boolean, "true", "Write the field datasets (false: only summary.json and small datasets)."},
      {"existing", ValueKind::String, "\"replace\"",
       "The files an earlier run of the same output.name left in output.dir (summary.json, <name>.xdmf, <name>_<step>.h5, "
       "<name>_spectrum.csv): replace (removed once the deck has been checked, before the run writes anything) or refuse "
       "(stop before any work). Other files in the folder are never touched.",
       -1e300, 1e300, {"replace", "refuse"}},
  };
  schema.add(out);
}

core::MemorySpace device_backend(const core::Deck& deck, MPI_Comm comm) {
  if (deck.string("device", "backend") != "cuda") return core::MemorySpace::Host;
  if (!core::cuda_enabled())
    throw deck.error("device", "backend", "is cuda, but this kron was built without CUDA",
                     "rebuild where the CUDA Toolkit is installed, with cmake -DKRON_ENABLE_CUDA=ON, or set backend = \"cpu\"");
  const int n = core::cuda_device_count();
  if (!core::mpi::all(n > 0, comm))
    throw deck.error("device", "backend", "is cuda, but " + std::string(n > 0 ? "another rank" : "this rank") + " sees no GPU",
                     "run where the GPUs are and CUDA_VISIBLE_DEVICES shows them, or set backend = \"cpu\"");
  const int dev = core::select_device(comm);
  core::log::info("device: ", core::device_summary(), "; rank 0 on GPU ", dev, "; MPI for device data: ", core::mpi_device_path());
  return core::MemorySpace::Device;
}

Domain make_domain(const core::Deck& deck) {
  auto n = deck.integers("grid", "n");
  int dim = static_cast<int>(n.size());
  // The length of grid.n is the dimension, but a list of one entry reads like "every axis", as
  // it does for the other grid keys: one entry needs grid.dim to say which is meant.
  if (deck.has("grid", "dim")) {
    dim = static_cast<int>(deck.integer("grid", "dim"));
    if (n.size() == 1) n.assign(static_cast<std::size_t>(dim), n[0]);
    if (static_cast<int>(n.size()) != dim)
      throw deck.error("grid", "n", std::to_string(n.size()) + " entries, but grid.dim is " + std::to_string(dim),
                       "give one entry per axis, or one entry for all axes");
  } else if (dim == 1) {
    const std::string v = std::to_string(n[0]);
    throw deck.error("grid", "n", "has one entry, which could mean a 1D grid or " + v + " points on every axis",
                     "write n = [" + v + ", " + v + ", " + v + "] for a 3D grid, or add dim = 1 under [grid] for a 1D one");
  }
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
        case AxisKind::Mapped: throw deck.error("grid", "kind", axis + ": mapped axes are made by the problems that use them");
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

core::Expression deck_expression(const core::Deck& deck, const std::string& section, const std::string& key,
                                 const std::map<std::string, double>& params, const Domain& domain, bool time_dependent,
                                 const std::string* text) {
  core::Expression e(text ? *text : deck.string(section, key), params, deck.where(section, key));
  for (int a = domain.dim; a < 3; ++a) {
    const std::string v(1, "xyz"[a]);
    if (!e.uses(v)) continue;
    const core::Where gw = deck.where("grid", "n");
    std::string shape;
    for (int b = 0; b < domain.dim; ++b) shape += (b ? ", " : "") + std::to_string(domain.axes[b].size());
    throw deck.error(section, key,
                     "uses " + v + ", but the grid is " + std::to_string(domain.dim) + "D (grid.n = [" + shape + "]" +
                         (gw.line > 0 ? " at " + gw.str() : gw.file == "command line" ? std::string(" on the command line") : std::string()) + ")",
                     "give grid.n one entry per axis, e.g. n = [64, 64, 64] for a 3D grid, or drop " + v + " from the expression");
  }
  if (!time_dependent && e.uses("t"))
    throw deck.error(section, key, "uses t, but problem '" + deck.string("problem", "type") + "' is steady", "remove t from the expression");
  return e;
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
