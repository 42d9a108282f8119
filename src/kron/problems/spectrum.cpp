#include "kron/problems/spectrum.hpp"

#include "kron/layout/field_ops.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "kron/core/device.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/problems/pde_setup.hpp"
#include "kron/layout/output.hpp"

namespace kron::problems {

using core::ValueKind;

void Spectrum::declare(core::Schema& schema) {
  core::SectionSpec s{"spectrum", "Energy spectrum of a periodic field (turbulence post-processing).", {}, false, "spectrum"};
  s.keys = {
      {"source", ValueKind::String, "\"expression\"", "Where the field comes from: expression (spectrum.field) or file (spectrum.file).",
       -1e300, 1e300, {"expression", "file"}},
      {"field", ValueKind::StringList, "[\"sin(2*pi*x)*cos(2*pi*y)*cos(2*pi*z)\"]",
       "Expressions of x, y, z, t, one per component (e.g. the three velocity components).", -1e300, 1e300, {}, 1, 3},
      {"file", ValueKind::String, "", "HDF5 file to read the components from (source = file).", -1e300, 1e300, {}, 0, 0, true},
      {"datasets", ValueKind::StringList, "[\"/fields/u\"]", "Dataset per component in spectrum.file.", -1e300, 1e300, {}, 1, 3},
      {"names", ValueKind::StringList, "", "Output names of the components; absent: u (one component) or u, v, w.",
       -1e300, 1e300, {}, 1, 3, true},
      {"time", ValueKind::Real, "0.0", "Value of t in the expressions (and the time stamp of the output)."},
  };
  schema.add(s);
}

namespace {
// A missing input named like a kron output step (<dir>/<name>_<digits>.h5) is most likely the
// output of a run not made yet: name the decks beside this one that write it.
std::string missing_input_hint(const core::Deck& deck, const std::string& file) {
  const std::filesystem::path p(file);
  const std::string stem = p.stem().string();
  const auto us = stem.rfind('_');
  const bool step_like = p.extension() == ".h5" && us != std::string::npos && us + 1 < stem.size() &&
                         stem.find_first_not_of("0123456789", us + 1) == std::string::npos;
  const std::string cwd = "relative paths are relative to the folder kron runs in, " + std::filesystem::current_path().string();
  if (!step_like) return cwd;
  const std::string dir = p.parent_path().string(), name = stem.substr(0, us);
  const auto makers = core::Deck::decks_with(std::filesystem::path(deck.path()).parent_path().string(),
                                             {{"output.dir", dir}, {"output.name", name}});
  std::string hint = "it is named like the output of a kron run with [output] dir = \"" + dir + "\", name = \"" + name + "\"";
  if (!makers.empty()) hint += ", which " + core::text::join(makers, " or ") + " writes: run that deck first, from this folder";
  return hint + "; " + cwd;
}
}  // namespace

Spectrum::Spectrum(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  domain_ = layout::make_domain(deck);
  const auto kinds = deck.strings("grid", "kind");
  for (int a = 0; a < domain_.dim; ++a)
    if (!domain_.axes[a].periodic())
      throw deck.error("grid", "kind", std::string("axis ") + "xyz"[a] + " is '" + layout::to_string(domain_.axes[a].kind()) +
                                           "' but a spectrum needs periodic axes", "set grid.kind = [\"periodic\"]");
  grid_ = layout::make_process_grid(deck, domain_, comm);
  space_ = layout::device_backend(deck, comm);
  time_ = deck.real("spectrum", "time");
  const bool from_file = deck.string("spectrum", "source") == "file";
  std::size_t ncomp = 0;
  if (from_file) {
    if (!deck.has("spectrum", "file"))
      throw deck.error("spectrum", "source", "is 'file' but spectrum.file is not given", "add file = \"path.h5\" under [spectrum]");
    file_ = deck.string("spectrum", "file");
    datasets_ = deck.strings("spectrum", "datasets");
    ncomp = datasets_.size();
    // Open now so that a missing file or dataset fails validation, before any output.
    if (!std::filesystem::exists(file_)) throw deck.error("spectrum", "file", "'" + file_ + "' does not exist", missing_input_hint(deck, file_));
    try {
      layout::H5File f(file_, layout::H5File::Mode::Read, comm);
      const auto n = domain_.shape();
      for (const auto& ds : datasets_) {
        const auto shape = f.shape(ds);
        std::vector<long> want;
        for (int a = domain_.dim - 1; a >= 0; --a) want.push_back(n[a]);
        if (shape != want) {
          std::string s;
          for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
          throw Error("dataset '" + ds + "' in '" + file_ + "' has shape [" + s + "], which does not match grid.n", {},
                      "grid.n lists [nx, ny, nz]; the dataset shape is [nz, ny, nx]");
        }
      }
    } catch (const Error& e) {
      const std::string at = e.where().str();
      throw deck.error("spectrum", "file", (at.empty() ? "" : at + ": ") + e.message(), e.hint());
    }
  } else {
    const auto params = deck.table("parameters");
    for (const auto& text : deck.strings("spectrum", "field"))
      exprs_.push_back(layout::deck_expression(deck, "spectrum", "field", params, domain_, true, &text));
    ncomp = exprs_.size();
  }
  {
    // Per component: the field, its transform (complex, half an axis), transposes and output.
    // Counted from the run and checked against its measured peak by tests/cli/memory.sh.
    const double fb = 8.0 * double(layout::max_local_points(domain_.shape(), grid_)) * double(ncomp);
    core::MemoryEstimate est;
    est.add("field", fb);
    est.add("spectral field", 2 * fb);
    est.add("output staging", fb);
    est.add("transposes", transpose_fields(*grid_, 1.5) * fb);
    reserve_memory(deck, domain_, est, comm);
  }
  if (deck.has("spectrum", "names")) {
    names_ = deck.strings("spectrum", "names");
    if (names_.size() != ncomp)
      throw deck.error("spectrum", "names", "has " + std::to_string(names_.size()) + " entries for " + std::to_string(ncomp) + " components");
  } else {
    names_ = ncomp == 1 ? std::vector<std::string>{"u"} : std::vector<std::string>{"u", "v", "w"};
    names_.resize(ncomp);
  }
}

EnergySpectrum energy_spectrum(const layout::DistributedTransform& plan, const layout::ComplexField& uhat,
                               const layout::Domain& d) {
  const auto n = d.shape();
  const layout::Box& b = uhat.pencil().box();
  const int r2c = plan.r2c_axis();
  double N = 1, dk = INFINITY, kmax2 = 0;
  std::array<double, 3> scale{};
  for (int a = 0; a < 3; ++a) {
    N *= double(n[a]);
    if (a < d.dim) {
      scale[a] = 2 * M_PI / d.axes[a].length();
      dk = std::min(dk, scale[a]);
      const double km = scale[a] * double(n[a] / 2);
      kmax2 += km * km;
    }
  }
  EnergySpectrum s;
  s.dk = dk;
  const std::size_t nshell = static_cast<std::size_t>(std::sqrt(kmax2) / dk) + 2;
  std::vector<double> E(nshell, 0.0), modes(nshell, 0.0);
  auto signed_mode = [&](int a, long i) { return (a == r2c || 2 * i <= n[a]) ? double(i) : double(i - n[a]); };
  const double inv_n2 = 1.0 / (N * N);
  for (long k = 0; k < b.n[2]; ++k)
    for (long j = 0; j < b.n[1]; ++j)
      for (long i = 0; i < b.n[0]; ++i) {
        const std::array<long, 3> g{b.lo[0] + i, b.lo[1] + j, b.lo[2] + k};
        double k2 = 0;
        for (int a = 0; a < d.dim; ++a) {
          const double ka = scale[a] * signed_mode(a, g[a]);
          k2 += ka * ka;
        }
        // Modes of the r2c half axis stand for themselves and their conjugates.
        double w = 1;
        if (r2c >= 0) {
          const long gi = g[r2c];
          w = (gi == 0 || 2 * gi == n[r2c]) ? 1.0 : 2.0;
        }
        double e = 0;
        for (int c = 0; c < uhat.components(); ++c) e += std::norm(uhat(i, j, k, c));
        e *= 0.5 * w * inv_n2;
        const std::size_t shell = static_cast<std::size_t>(std::lround(std::sqrt(k2) / dk));
        E[shell] += e;
        modes[shell] += w;
      }
  MPI_Comm comm = uhat.pencil().grid().comm();
  core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, E.data(), static_cast<int>(nshell), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
  core::mpi::check(MPI_Allreduce(MPI_IN_PLACE, modes.data(), static_cast<int>(nshell), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
  while (E.size() > 1 && modes.back() == 0) {  // drop empty shells past the corner of the box
    E.pop_back();
    modes.pop_back();
  }
  for (std::size_t sh = 0; sh < E.size(); ++sh) {
    s.energy += E[sh];
    s.k.push_back(double(sh) * dk);
    s.E.push_back(E[sh] / dk);
    s.modes.push_back(modes[sh]);
  }
  return s;
}

core::Json Spectrum::run() {
  namespace log = core::log;
  const int ncomp = static_cast<int>(names_.size());
  layout::FftOptions opt = layout::fft_options(deck_);
  opt.ncomp = ncomp;
  opt.space = space_;
  std::array<layout::TransformKind, 3> kinds{};
  for (int a = 0; a < 3; ++a) kinds[a] = a < domain_.dim ? layout::TransformKind::Fourier : layout::TransformKind::None;
  const auto shape = domain_.shape();
  log::info("grid ", shape[0], " x ", shape[1], " x ", shape[2], ", process grid ", grid_->p1(), " x ", grid_->p2(), ", ",
            ncomp, " component(s)");

  layout::DistributedTransform plan = [&] {
    core::ScopedTimer t("fft.plan");
    return layout::DistributedTransform(grid_, shape, kinds, opt);
  }();
  log::info("FFT plan: ", plan.describe(), "; output in the ", "xyz"[plan.output_pencil().axis()], "-pencil");

  layout::RealField u(plan.input_pencil(), ncomp);
  {
    core::ScopedTimer t("field.setup");
    if (!file_.empty()) {
      layout::H5File f(file_, layout::H5File::Mode::Read, comm_);
      for (int c = 0; c < ncomp; ++c) f.read_field(datasets_[static_cast<std::size_t>(c)], u, c);
      log::info("read ", ncomp, " component(s) from ", file_);
    } else {
      // A non-finite value is an error naming spectrum.field and its line.
      for (int c = 0; c < ncomp; ++c) layout::evaluate(exprs_[static_cast<std::size_t>(c)], domain_, time_, u, c);
    }
  }
  // Physical-space energy, the reference for Parseval's identity.
  if (!layout::ops::all_finite(u))
    throw deck_.error("spectrum", "file", "the field read from '" + file_ + "' holds NaN or Inf values");
  const double norm = layout::ops::norm2(u);
  const double energy_phys = 0.5 * norm * norm / double(domain_.points());

  // With backend = cuda the transform runs on the GPU (the field is sent there first, outside the
  // timed transform) and the spectrum comes back for the shell sums.
  layout::ComplexField uhat(plan.output_pencil(), ncomp, {0, 0, 0}, space_);
  double fft_s = 0;
  {
    const layout::RealField ud = space_ == core::MemorySpace::Device ? layout::to_device(u) : layout::RealField();
    const layout::RealField& uin = space_ == core::MemorySpace::Device ? ud : u;
    core::mpi::check(MPI_Barrier(comm_), "MPI_Barrier");
    const double t_fft = core::wall_time();
    plan.forward(uin, uhat);
    if (space_ == core::MemorySpace::Device) core::stream_synchronize();
    fft_s = core::mpi::max(core::wall_time() - t_fft, comm_);
  }
  if (space_ == core::MemorySpace::Device) uhat = layout::to_host(uhat);
  EnergySpectrum spec = [&] {
    core::ScopedTimer t("spectrum.shells");
    return energy_spectrum(plan, uhat, domain_);
  }();
  const double parseval = std::abs(spec.energy - energy_phys) / std::max(energy_phys, 1e-300);
  log::info("energy: physical ", energy_phys, ", spectral ", spec.energy, " (Parseval relative difference ", parseval, ")");

  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::Provenance prov{deck_.provenance_text(), core::mpi::size(comm_)};
  layout::OutputWriter out(dir, name, domain_, prov, layout::output_options(deck_), comm_);
  {
    core::ScopedTimer t("output");
    layout::OutputWriter::FieldList fields;
    if (deck_.boolean("output", "write_fields"))
      for (int c = 0; c < ncomp; ++c) fields.push_back({names_[static_cast<std::size_t>(c)], &u, c});
    out.write_step(0, time_, fields, [&](layout::H5File& f) {
      f.write_vector("/spectrum/k", spec.k);
      f.write_vector("/spectrum/E", spec.E);
      f.write_vector("/spectrum/modes", spec.modes);
    });
    if (core::mpi::rank(comm_) == 0) {
      std::ostringstream csv;
      csv << "# energy spectrum of " << deck_.path() << "; sum(E)*dk = " << spec.energy << "\nk,E,modes\n";
      char line[96];
      for (std::size_t i = 0; i < spec.k.size(); ++i) {
        std::snprintf(line, sizeof line, "%.10g,%.17g,%.0f\n", spec.k[i], spec.E[i], spec.modes[i]);
        csv << line;
      }
      core::write_file_atomic(dir + "/" + name + "_spectrum.csv", csv.str());
    }
  }
  log::info("wrote ", out.step_path(0), ", ", dir, "/", name, ".xdmf and ", dir, "/", name, "_spectrum.csv");

  core::Json j;
  j["problem"] = "spectrum";
  j["grid"] = core::Json(std::vector<double>{double(shape[0]), double(shape[1]), double(shape[2])});
  j["process_grid"] = core::Json(std::vector<double>{double(grid_->p1()), double(grid_->p2())});
  j["components"] = ncomp;
  j["fft_plan"] = plan.describe();
  j["backend"] = deck_.string("device", "backend");
  j["energy_physical"] = energy_phys;
  j["energy_spectral"] = spec.energy;
  j["parseval_relative_difference"] = parseval;
  j["fft_seconds"] = fft_s;
  j["points_per_second"] = double(domain_.points()) * double(u.components()) / std::max(fft_s, 1e-12);
  j["dk"] = spec.dk;
  j["k"] = core::Json(spec.k);
  j["E"] = core::Json(spec.E);
  j["modes"] = core::Json(spec.modes);
  return j;
}

}  // namespace kron::problems
