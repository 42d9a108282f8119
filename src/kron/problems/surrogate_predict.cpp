#include "kron/problems/surrogate_predict.hpp"

#include <cmath>

#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/output.hpp"
#include "kron/nn/surrogate_model.hpp"
#include "kron/nn/ops.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {
constexpr const char* S = "surrogate_predict";

// The checkpoint's model; errors name the deck key `model`.
nn::SurrogateModel load(const core::Deck& deck, MPI_Comm comm, core::MemorySpace space = core::MemorySpace::Host) {
  try {
    return nn::SurrogateModel::load(deck.string(S, "model"), comm, space);
  } catch (const Error& e) {
    throw deck.error(S, "model", e.message(), e.hint());
  }
}
}  // namespace

void SurrogatePredict::declare(core::Schema& schema) {
  core::SectionSpec s{S,
                      "Applies a trained surrogate (surrogate_train's checkpoint) to samples of a data set: predictions and "
                      "their relative L2 errors in HDF5, the first samples as fields over XDMF steps.",
                      {}, false, "surrogate_predict"};
  s.keys = {
      {"model", ValueKind::String, "", "The checkpoint surrogate_train wrote (<dir>/<name>_model.h5)."},
      {"data", ValueKind::String, "", "The data set (surrogate_data's file) with samples of the model's grid."},
      {"first", ValueKind::Integer, "0", "First sample to predict (e.g. the training count: the test samples).", 0, 1e9},
      {"samples", ValueKind::Integer, "", "Number of samples to predict.", 1, 1e9},
      {"fields", ValueKind::Integer, "4", "How many of them to write as fields (a, u, prediction, error), one XDMF step each.", 1, 1000},
  };
  schema.add(s);
}

SurrogatePredict::SurrogatePredict(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  const nn::SurrogateModel M = load(deck, comm);
  const nn::FnoOptions& o = M.options();
  const std::string data = deck.string(S, "data");
  std::vector<long> sa;
  try {
    layout::H5File f(data, layout::H5File::Mode::Read, comm);
    sa = f.shape("/samples/a");
    if (f.shape("/samples/u") != sa) throw Error(data + ": /samples/a and /samples/u differ in shape");
  } catch (const Error& e) {
    throw deck.error(S, "data", data + ": " + e.message(), "run the surrogate_data deck first");
  }
  if (static_cast<int>(sa.size()) != 1 + o.dim || sa[1] != o.nx || (o.dim == 2 && sa[2] != o.ny))
    throw deck.error(S, "data", data + " holds samples of another grid than the model's " + std::to_string(o.nx) +
                                    (o.dim == 2 ? " x " + std::to_string(o.ny) : std::string(" (1D)")));
  const long first = deck.integer(S, "first"), n = deck.integer(S, "samples");
  if (first + n > sa[0])
    throw deck.error(S, "samples", "samples " + std::to_string(first) + " .. " + std::to_string(first + n - 1) + " asked for, but " + data +
                                       " holds " + std::to_string(sa[0]));
  if (deck.integer(S, "fields") > n) throw deck.error(S, "fields", "more fields than samples to predict");
  space_ = layout::device_backend(deck, comm);
}

core::Json SurrogatePredict::run() {
  const int np = core::mpi::size(comm_), rank = core::mpi::rank(comm_);
  nn::SurrogateModel M = load(deck_, comm_, space_);
  const nn::FnoOptions& o = M.options();
  const long s = o.nx, P = M.points(), first = deck_.integer(S, "first"), n = deck_.integer(S, "samples"), nf = deck_.integer(S, "fields");
  const std::string data = deck_.string(S, "data");
  // Each rank its block of the samples.
  const long r0 = n * rank / np, r1 = n * (rank + 1) / np, mine = r1 - r0;
  std::vector<double> a, u;
  {
    layout::H5File f(data, layout::H5File::Mode::Read, comm_);
    a = f.read_rows("/samples/a", first + r0, mine);
    u = f.read_rows("/samples/u", first + r0, mine);
  }
  const double bad = core::mpi::min(nn::first_bad_sample(a.data(), u.data(), mine, P, first + r0), comm_);
  if (std::isfinite(bad)) throw deck_.error(S, "data", data + ": " + nn::bad_sample_message(bad), "regenerate the data set, or predict other samples");
  std::vector<double> pred(a.size()), err;
  const double t0 = core::wall_time();
  {
    core::ScopedTimer t("predict");
    M.predict(a.data(), pred.data(), mine);
    nn::ops::relative_l2(core::MemorySpace::Host, pred.data(), u.data(), P, mine, nullptr, &err);
  }
  const double seconds = core::mpi::max(core::wall_time() - t0, comm_);
  double sum = 0, worst = 0;
  for (double e : err) {
    sum += e;
    worst = std::max(worst, e);
  }
  const double mean = core::mpi::sum(sum, comm_) / double(n);
  worst = core::mpi::max(worst, comm_);

  // Output: the first nf samples as fields, one XDMF step each; every prediction under /predictions.
  layout::Domain d;
  d.dim = o.dim;
  // 2D: the Darcy grid (boundaries included); 1D: the Burgers set's periodic points j / s.
  d.axes = o.dim == 2 ? std::array<layout::AxisGrid, 3>{layout::AxisGrid::uniform(s, 0, 1), layout::AxisGrid::uniform(s, 0, 1), layout::AxisGrid()}
                        : std::array<layout::AxisGrid, 3>{layout::AxisGrid::periodic(s, 0, 1), layout::AxisGrid(), layout::AxisGrid()};
  auto pgrid = std::make_shared<const layout::ProcessGrid>(comm_, np, 1);
  const layout::Pencil px(d.shape(), pgrid, 0);
  const std::string dir = deck_.string("output", "dir"), name = deck_.string("output", "name");
  layout::OutputWriter out(dir, name, d, {deck_.provenance_text(), np}, layout::output_options(deck_), comm_);
  layout::RealField fa(px), fu(px), fp(px), fe(px);
  for (long i = 0; i < nf; ++i) {
    // Sample i lives on the rank whose block holds it: broadcast its a, u and prediction.
    std::vector<double> buf(static_cast<std::size_t>(3 * P));
    int owner = 0;
    for (int r = 0; r < np; ++r)
      if (i >= n * r / np && i < n * (r + 1) / np) owner = r;
    if (rank == owner) {
      const long li = i - r0;
      std::copy_n(a.begin() + li * P, P, buf.begin());
      std::copy_n(u.begin() + li * P, P, buf.begin() + P);
      std::copy_n(pred.begin() + li * P, P, buf.begin() + 2 * P);
    }
    MPI_Bcast(buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, owner, comm_);
    auto at = [&](int part) { return [&, part](const std::array<long, 3>& g, int) { return buf[static_cast<std::size_t>(part * P + g[1] * s + g[0])]; }; };
    layout::ops::fill_global(fa, at(0));
    layout::ops::fill_global(fu, at(1));
    layout::ops::fill_global(fp, at(2));
    layout::ops::fill_global(fe, [&](const std::array<long, 3>& g, int) {
      return buf[static_cast<std::size_t>(2 * P + g[1] * s + g[0])] - buf[static_cast<std::size_t>(P + g[1] * s + g[0])];
    });
    out.write_step(static_cast<int>(i), double(first + i), {{"a", &fa, 0}, {"u", &fu, 0}, {"prediction", &fp, 0}, {"error", &fe, 0}},
                   [&](layout::H5File& f) {
                     if (i != 0) return;
                     f.write_rows("/predictions/u", o.dim == 2 ? std::vector<long>{n, s, s} : std::vector<long>{n, s}, r0, mine, pred.data());
                     f.write_rows("/predictions/relative_l2", {n}, r0, mine, err.data());
                     f.write_attribute("first_sample", static_cast<long long>(first));
                     f.write_attribute("model", M.describe());
                     f.write_attribute("data", data);
                   });
  }
  log::info(S, ": ", n, " samples from ", first, " (", M.describe(), "): relative L2 error ", mean, " (mean; max ", worst, "), ",
            double(n) / seconds, " samples/s; wrote ", nf, " of them as fields and all predictions to ", out.step_path(0));
  core::Json j;
  j["problem"] = "surrogate_predict";
  j["samples"] = double(n);
  j["error_test_relative_l2"] = mean;
  j["error_test_relative_l2_max"] = worst;
  j["predict_seconds"] = seconds;
  j["samples_per_second"] = double(n) / seconds;
  return j;
}

}  // namespace kron::problems
