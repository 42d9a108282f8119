#include "kron/problems/surrogate_train.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "kron/core/log.hpp"
#include "kron/core/memory_budget.hpp"
#include "kron/core/text.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/core/version.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/nn/fno.hpp"
#include "kron/nn/normalizer.hpp"
#include "kron/nn/ops.hpp"
#include "kron/nn/surrogate_model.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

namespace {
constexpr const char* S = "surrogate_train";
// A data set of N x s samples is 1D, of N x s x s 2D.
nn::FnoOptions fno_options(const core::Deck& deck, long s, int dim) {
  nn::FnoOptions o;
  o.dim = dim;
  o.nx = s;
  o.ny = dim == 2 ? s : 1;
  o.in_channels = o.out_channels = 1;
  o.modes_x = o.modes_y = deck.integer(S, "modes");
  o.width = deck.integer(S, "width");
  o.layers = deck.integer(S, "layers");
  o.padding = deck.integer(S, "padding");
  o.head = deck.integer(S, "head");
  o.spectral = deck.string(S, "spectral");
  o.mixing = deck.string(S, "mixing");
  o.init = deck.string(S, "init");
  o.transform = deck.string(S, "transform");
  return o;
}

// What a rank holds in host memory, known before anything large is read or built: the training
// set and the test set (every rank reads both), the batch staging, and the model (parameters,
// gradients, Adam's moments, activations of its share of a batch; with device.backend = cuda the
// model lives on the GPU and the host keeps the parameters' and gradients' copies). An error
// naming the key that dominates when the neediest node lacks the memory.
core::MemoryEstimate check_memory(const core::Deck& deck, MPI_Comm comm, long s, int dim) {
  const long np = core::mpi::size(comm), B = deck.integer(S, "batch");
  const bool fp32 = deck.string(S, "precision") == "fp32";
  const double P = dim == 2 ? double(s) * double(s) : double(s), bytes = fp32 ? 4.0 : 8.0;
  const double samples = double(deck.integer(S, "train") + deck.integer(S, "test"));
  // The host reads the sets in double (and keeps fp32 copies to train from in fp32).
  const double data = 8.0 * P * 2.0 * samples + (fp32 ? 4.0 * P * 2.0 * samples : 0.0) + bytes * P * 2.0 * double(B);
  nn::Fno::Memory model;
  try {
    model = fp32 ? nn::FnoT<float>::memory(fno_options(deck, s, dim), (B + np - 1) / np) : nn::Fno::memory(fno_options(deck, s, dim), (B + np - 1) / np);
  } catch (const Error& e) {
    throw deck.error(S, "spectral", e.message(), e.hint());
  }
  core::MemoryEstimate est;
  est.add("data sets", data);
  const bool gpu = deck.string("device", "backend") == "cuda";
  if (gpu) {
    est.add("parameter and gradient copies", model.parameters / 2);
  } else {
    est.add("parameters, gradients and Adam's moments", model.parameters);
    est.add("activations", model.activations);
  }
  const core::MemoryCheck c = core::check_memory(est, comm);
  namespace text = core::text;
  log::info(S, ": memory estimate ", text::bytes(c.rank_max), " on the largest rank (", est.describe(), ")",
            gpu ? "; on the GPU about " + text::bytes(model.parameters + model.activations) : std::string());
  core::MemoryEstimate dev;
  dev.add("data sets", bytes * P * 2.0 * samples);
  dev.add("parameters, gradients and Adam's moments", model.parameters);
  dev.add("activations", model.activations);
  if (c.fits()) return dev;
  const bool model_dominates = est.total() - data > data;
  throw deck.error(S, model_dominates ? "width" : "train",
                   "training needs about " + text::bytes(c.node_need) + " on one node (" + std::to_string(c.node_ranks) + " ranks there, each up to " +
                       text::bytes(c.rank_max) + ": " + est.describe() + "), but that node has " + text::bytes(c.node_available) + " available",
                   model_dominates ? "lower surrogate_train.width, modes or batch" : "train on fewer samples, or on a machine with more memory");
}

std::string model_path(const core::Deck& deck) {
  return deck.string("output", "dir") + "/" + deck.string("output", "name") + "_model.h5";
}

template <class R>
core::Json train_fno(const core::Deck& deck, MPI_Comm comm, core::MemorySpace space);
}  // namespace

void SurrogateTrain::declare(core::Schema& schema) {
  core::SectionSpec s{S,
                      "Trains a Fourier neural operator on a surrogate_data set (the FNO reference script's protocol: point-wise "
                      "Gaussian normalisers, relative L2 loss summed over each batch, Adam with L2 weight decay, step schedule, "
                      "shuffled data), data-parallel over the ranks, with checkpoints that resume.",
                      {}, false, "surrogate_train"};
  s.keys = {
      {"data", ValueKind::String, "", "The HDF5 file surrogate_data wrote (/samples/a, /samples/u)."},
      {"train", ValueKind::Integer, "1000", "Training samples: the file's first ones.", 1, 1e9},
      {"test", ValueKind::Integer, "200", "Test samples: the ones after the training samples.", 1, 1e9},
      {"modes", ValueKind::Integer, "12", "Fourier modes kept per axis (the reference: 12).", 1, 1e5},
      {"width", ValueKind::Integer, "32", "Channels of the Fourier layers.", 1, 1e5},
      {"layers", ValueKind::Integer, "4", "Fourier layers.", 1, 1000},
      {"padding", ValueKind::Integer, "9", "Zero padding at the high end of each axis.", 0, 1e5},
      {"head", ValueKind::Integer, "128", "Width of the projection's hidden layer.", 1, 1e5},
      {"spectral", ValueKind::String, "\"dense\"",
       "Structure of the per-mode spectral mixing: dense, low_rank:R, block_diag:NB, monarch:NB, butterfly, flat_butterfly:NB (flat "
       "block butterfly), or a sum joined by '+', e.g. butterfly+low_rank:R or flat_butterfly:NB+low_rank:R (Pixelfly)."},
      {"mixing", ValueKind::String, "\"dense\"", "Structure of the point-wise (1x1) channel mixing, the same choices."},
      {"init", ValueKind::String, "\"scaled\"",
       "How a structured spectral mixing starts: scaled (the structure's own initialisation rescaled to the dense one's norm per "
       "mode) or projected (per mode, the structure's nearest matrix to a draw of the dense initialisation; not for butterfly or "
       "sums).",
       -1e300, 1e300, {"scaled", "projected"}},
      {"transform", ValueKind::String, "\"fixed\"",
       "The truncated Fourier transforms: fixed (the DFT, shared by every layer: the FNO); monarch_dft (the Monarch neural operator: "
       "each layer learns Monarch factors that start as the exact DFT; the padded grid must have m^2 points); or a structure each "
       "layer learns, starting from its nearest matrix to the DFT: dense (exact), low_rank:R, block_diag:NB, monarch:NB."},
      {"epochs", ValueKind::Integer, "500", "Training epochs.", 1, 1e9},
      {"batch", ValueKind::Integer, "20", "Samples per optimiser step (split over the ranks).", 1, 1e9},
      {"lr", ValueKind::Real, "1e-3", "Adam's initial learning rate.", 1e-300, 1e300},
      {"weight_decay", ValueKind::Real, "1e-4", "L2 weight decay added to the gradient (PyTorch's Adam).", 0, 1e300},
      {"step_size", ValueKind::Integer, "100", "The learning rate is multiplied by gamma every this many epochs.", 1, 1e9},
      {"gamma", ValueKind::Real, "0.5", "Learning-rate decay factor.", 1e-300, 1},
      {"seed", ValueKind::Integer, "0", "Seeds the weights and the epochs' shuffles.", 0, 1e15},
      {"progress_every", ValueKind::Integer, "1", "A progress line with the test error every this many epochs.", 1, 1e9},
      {"checkpoint_every", ValueKind::Integer, "50", "A checkpoint every this many epochs (and always at the end).", 1, 1e9},
      {"resume", ValueKind::Boolean, "false", "Continue from the checkpoint in output.dir (same model; bitwise on the same rank count and precision)."},
      {"precision", ValueKind::String, "\"fp64\"",
       "The arithmetic of the model, its gradients and Adam's state: fp64, or fp32 (single precision, as PyTorch's default; sums "
       "such as losses and the gradient all-reduce are still formed in double, checkpoints hold doubles either way, and the "
       "monarch_dft transform runs in fp64 only).",
       -1e300, 1e300, {"fp64", "fp32"}},
  };
  schema.add(s);
}

SurrogateTrain::SurrogateTrain(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm) {
  // Everything that can be checked before training is: the file, its shape, the model.
  const std::string data = deck.string(S, "data");
  std::vector<long> sa, su;
  try {
    layout::H5File f(data, layout::H5File::Mode::Read, comm);
    sa = f.shape("/samples/a");
    su = f.shape("/samples/u");
  } catch (const Error& e) {
    throw deck.error(S, "data", data + ": " + e.message(), "run the surrogate_data deck first, e.g. inputs/surrogate/darcy_data.toml");
  }
  if (!(sa.size() == 2 || (sa.size() == 3 && sa[1] == sa[2])) || sa != su)
    throw deck.error(S, "data", data + ": /samples/a and /samples/u must both be N x s (a 1D data set) or N x s x s (2D), found other shapes");
  const int dim = static_cast<int>(sa.size()) - 1;
  const long have = sa[0], train = deck.integer(S, "train"), test = deck.integer(S, "test");
  if (train + test > have)
    throw deck.error(S, "test", "train + test = " + std::to_string(train + test) + " samples, but " + data + " holds " + std::to_string(have),
                     "lower surrogate_train.train or test, or generate more samples");
  if (deck.integer(S, "batch") > train)
    throw deck.error(S, "batch", std::to_string(deck.integer(S, "batch")) + " samples a step, but only " + std::to_string(train) + " to train on");
  // The structures' names first (cheap: nothing built), so that the memory estimate below, which
  // reads them all, fails under the right key.
  const std::string transform = deck.string(S, "transform");
  for (const char* key : {"spectral", "mixing", "transform"}) {
    const std::string spec = deck.string(S, key);
    if ((spec == "fixed" || spec == "monarch_dft") && std::string(key) == "transform") continue;
    try {
      nn::structure_parameters(spec, 2, 2);
    } catch (const Error& e) {
      throw deck.error(S, key, e.message(), e.hint());
    }
  }
  if (transform == "monarch_dft" && deck.string(S, "precision") == "fp32")
    throw deck.error(S, "precision", "is fp32, but transform monarch_dft (the Monarch neural operator) runs in fp64 only",
                     "set surrogate_train.precision = \"fp64\", or use a structured transform (dense, low_rank:R, block_diag:NB, monarch:NB)");
  if (transform.rfind("butterfly", 0) == 0)
    throw deck.error(S, "transform", "is " + transform + ", which has no closed-form projection of the DFT to start from",
                     "use fixed, monarch_dft, dense, low_rank:R, block_diag:NB or monarch:NB");
  if (transform == "monarch_dft") {
    // The exact Monarch factors of the DFT need n = m^2 padded points (both axes alike).
    const long n = sa[1] + deck.integer(S, "padding"), r = static_cast<long>(std::ceil(std::sqrt(static_cast<double>(n))));
    if (r * r != n)
      throw deck.error(S, "transform", "is monarch_dft, whose exact Monarch factors of the DFT need a square number of padded points, but " +
                                             std::to_string(sa[1]) + " points + padding " + std::to_string(deck.integer(S, "padding")) + " = " + std::to_string(n),
                       "set surrogate_train.padding = " + std::to_string(r * r - sa[1]) + " for " + std::to_string(r * r) + " padded points");
  }
  const core::MemoryEstimate on_gpu = check_memory(deck, comm, sa[1], dim);
  space_ = layout::device_backend(deck, comm);
  if (space_ == core::MemorySpace::Device) {
    // The GPU keeps the whole data set and the model: refuse before anything is uploaded.
    const core::MemoryCheck c = core::check_device_memory(on_gpu, comm);
    if (!c.fits()) {
      namespace text = core::text;
      const bool model_dominates = on_gpu.total() - on_gpu.items[0].bytes > on_gpu.items[0].bytes;
      throw deck.error(S, model_dominates ? "width" : "train",
                       "training on the GPU needs about " + text::bytes(c.node_need) + " of its memory (" + std::to_string(c.node_ranks) +
                           " rank(s) on it, each up to " + text::bytes(c.rank_max) + ": " + on_gpu.describe() + "), but it has " +
                           text::bytes(c.node_available) + " free",
                       model_dominates ? "lower surrogate_train.width, modes or batch, or use more GPUs" : "train on fewer samples, or on the CPU backend");
    }
  }
  nn::Rng rng(0);
  const long width = deck.integer(S, "width");
  try {
    nn::make_map<std::complex<double>>(deck.string(S, "spectral"), width, width, rng);
  } catch (const Error& e) {
    throw deck.error(S, "spectral", e.message(), e.hint());
  }
  try {
    nn::make_map<double>(deck.string(S, "mixing"), width, width, rng);
  } catch (const Error& e) {
    throw deck.error(S, "mixing", e.message(), e.hint());
  }
  if (deck.string(S, "init") == "projected" && deck.string(S, "spectral").rfind("butterfly", 0) == 0)
    throw deck.error(S, "init", "is projected, but spectral mixing " + deck.string(S, "spectral") + " has no closed-form projection",
                     "use init = \"scaled\" with butterfly layers");
  if (transform != "fixed" && transform != "monarch_dft") {
    // The transforms map the padded points to twice the modes and back (both axes alike).
    const long n = sa[1] + deck.integer(S, "padding"), m2 = 2 * deck.integer(S, "modes");
    try {
      nn::make_map<double>(transform, n, m2, rng);
      nn::make_map<double>(transform, m2, n, rng);
    } catch (const Error& e) {
      throw deck.error(S, "transform", e.message() + "; the transforms map " + std::to_string(n) + " padded points to " + std::to_string(m2) + " and back",
                       "pick a structure whose blocks divide both, e.g. monarch:2, or change padding or modes");
    }
  }
  try {
    if (deck.string(S, "precision") == "fp32") nn::FnoT<float> probe(fno_options(deck, sa[1], dim), rng);
    else nn::Fno probe(fno_options(deck, sa[1], dim), rng);
  } catch (const Error& e) {
    throw deck.error(S, "modes", e.message(), e.hint());
  }
  if (deck.boolean(S, "resume") && !std::filesystem::exists(model_path(deck)))
    throw deck.error(S, "resume", "is true, but there is no checkpoint " + model_path(deck), "train without resume first");
}

core::Json SurrogateTrain::run() {
  return deck_.string(S, "precision") == "fp32" ? train_fno<float>(deck_, comm_, space_) : train_fno<double>(deck_, comm_, space_);
}

namespace {
// The training in precision R: the model, its gradients, Adam's state and the batches in R; the
// data read and the normalisers fitted in double, the sets rounded to R once.
template <class R>
core::Json train_fno(const core::Deck& deck, MPI_Comm comm, core::MemorySpace space) {
  const int np = core::mpi::size(comm), rank = core::mpi::rank(comm);
  const std::string data = deck.string(S, "data");
  const long train = deck.integer(S, "train"), test = deck.integer(S, "test"), B = deck.integer(S, "batch");
  const long epochs = deck.integer(S, "epochs"), every = deck.integer(S, "progress_every"), ck_every = deck.integer(S, "checkpoint_every");
  const long seed = deck.integer(S, "seed");
  std::vector<double> a_train, u_train, a_test, u_test;
  long s = 0;
  int dim = 2;
  {
    core::ScopedTimer t("read data");
    layout::H5File f(data, layout::H5File::Mode::Read, comm);
    const auto shape = f.shape("/samples/a");
    s = shape[1];
    dim = static_cast<int>(shape.size()) - 1;
    a_train = f.read_rows("/samples/a", 0, train);
    u_train = f.read_rows("/samples/u", 0, train);
    a_test = f.read_rows("/samples/a", train, test);
    u_test = f.read_rows("/samples/u", train, test);
  }
  {  // every rank holds every row: the same answer everywhere
    const long P1 = dim == 2 ? s * s : s;
    const double bad = std::min(nn::first_bad_sample(a_train.data(), u_train.data(), train, P1, 0),
                                nn::first_bad_sample(a_test.data(), u_test.data(), test, P1, train));
    if (std::isfinite(bad)) throw deck.error(S, "data", data + ": " + nn::bad_sample_message(bad), "regenerate the data set, or train on other samples");
  }
  const long P = dim == 2 ? s * s : s;
  const auto xn = nn::Normalizer::fit(a_train, train, P), yn = nn::Normalizer::fit(u_train, train, P);
  xn.encode(a_train);
  xn.encode(a_test);

  nn::Rng rng(static_cast<std::uint64_t>(seed));
  const std::string precision = deck.string(S, "precision");
  nn::FnoT<R> model(fno_options(deck, s, dim), rng);
  model.to(space);
  const auto params = model.parameters();
  nn::AdamT<R> opt(params, {deck.real(S, "lr"), 0.9, 0.999, 1e-8, deck.real(S, "weight_decay"), false});
  std::vector<double> train_hist, test_hist;
  long start = 0;
  const std::string ckpt = model_path(deck);
  layout::make_directory(deck.string("output", "dir"), comm);
  if (deck.boolean(S, "resume")) {
    // The checkpoint is untrusted input: everything is checked before the model or the optimiser
    // takes any of it, and every failure names surrogate_train.resume and the file.
    auto bad = [&](const std::string& what) { return deck.error(S, "resume", ckpt + ": " + what, "train it again without resume"); };
    int ranks_then = np;
    std::string precision_then = precision;
    try {
      layout::H5File f(ckpt, layout::H5File::Mode::Read, comm);
      const std::string described = f.read_attribute_string("model");
      if (described != model.describe()) throw bad("holds another model: " + described);
      auto count = [&](const char* name, double most) {
        const double v = f.read_attribute_double(name);
        if (!(v >= 0 && v <= most) || v != std::floor(v)) throw bad("its attribute " + std::string(name) + " is not a count");
        return static_cast<long>(v);
      };
      const long done = count("epochs_done", 1e12), steps = count("adam_steps", 1e15);
      ranks_then = static_cast<int>(count("nranks", 1e8));
      precision_then = f.has_attribute("precision") ? f.read_attribute_string("precision") : "fp64";  // older checkpoints: fp64
      std::vector<std::vector<double>> w, m, v;
      for (std::size_t k = 0; k < params.size(); ++k) {
        const std::string K = std::to_string(k);
        w.push_back(f.read_vector("/parameters/" + K));
        m.push_back(f.read_vector("/adam/m" + K));
        v.push_back(f.read_vector("/adam/v" + K));
        for (const auto* x : {&w.back(), &m.back(), &v.back()})
          if (static_cast<long>(x->size()) != params[k].size)
            throw bad("parameter " + K + " (" + params[k].name + ") or its optimiser state has " + std::to_string(x->size()) + " values, the model " +
                      std::to_string(params[k].size));
        const auto finite = [](const std::vector<double>& x) { return std::all_of(x.begin(), x.end(), [](double y) { return std::isfinite(y); }); };
        if (!finite(w.back()) || !finite(m.back()) || !finite(v.back()) || std::any_of(v.back().begin(), v.back().end(), [](double y) { return y < 0; }))
          throw bad("parameter " + K + " (" + params[k].name + ") or its optimiser state holds values that are not finite, or a negative second moment");
      }
      train_hist = f.read_vector("/history/train_loss");
      test_hist = f.read_vector("/history/test_error");
      if (static_cast<long>(train_hist.size()) != done || static_cast<long>(test_hist.size()) != done)
        throw bad("its history has " + std::to_string(train_hist.size()) + " and " + std::to_string(test_hist.size()) + " entries for " + std::to_string(done) + " epochs");
      for (std::size_t k = 0; k < params.size(); ++k) {
        params[k].assign(w[k]);
        params[k].upload();
      }
      opt.restore(steps, std::move(m), std::move(v));
      start = done;
    } catch (const Error& e) {
      if (!e.where().key.empty()) throw;
      throw bad(e.message());
    }
    std::string differs;
    if (ranks_then != np) differs = "written on " + std::to_string(ranks_then) + " ranks";
    if (precision_then != precision) differs += (differs.empty() ? "" : ", ") + std::string("trained in ") + precision_then + ", continued in " + precision;
    log::info(S, ": resuming from ", ckpt, " after epoch ", start, differs.empty() ? "" : " (" + differs + ": the continuation agrees within rounding, not bitwise)");
  }
  log::info(S, ": ", model.describe(), "; ", nn::parameter_count(params), " parameters (", model.mixing_parameters(), " in the mixing); ", train,
            " training and ", test, " test samples of ", s, dim == 2 ? "^2" : " points", " from ", data, "; batch ", B, " over ", np, " rank", np == 1 ? "" : "s", ", in ", precision);
  if (model.transform_parameters() > 0)
    log::info(S, ": learnable transforms: ", model.transform_parameters(), " parameters, starting ", model.transform_start_error(),
              " (relative, largest) from the DFT rows they replace");

  auto checkpoint = [&](long done) {
    core::ScopedTimer t("checkpoint");
    layout::write_h5_atomic(ckpt, comm, [&](layout::H5File& f) {
      for (std::size_t k = 0; k < params.size(); ++k) {
        params[k].download();
        f.write_vector("/parameters/" + std::to_string(k), params[k].values_as_double());
        f.write_vector("/adam/m" + std::to_string(k), opt.first_moment(k));
        f.write_vector("/adam/v" + std::to_string(k), opt.second_moment(k));
      }
      f.write_vector("/normalizer/x_mean", xn.mean());
      f.write_vector("/normalizer/x_sd", xn.sd());
      f.write_vector("/normalizer/y_mean", yn.mean());
      f.write_vector("/normalizer/y_sd", yn.sd());
      f.write_vector("/history/train_loss", train_hist);
      f.write_vector("/history/test_error", test_hist);
      f.write_attribute("model", model.describe());
      f.write_attribute("epochs_done", static_cast<long long>(done));
      f.write_attribute("adam_steps", static_cast<long long>(opt.steps()));
      f.write_attribute("grid_points", static_cast<long long>(s));
      f.write_attribute("dim", static_cast<long long>(dim));
      f.write_attribute("modes", static_cast<long long>(deck.integer(S, "modes")));
      f.write_attribute("width", static_cast<long long>(deck.integer(S, "width")));
      f.write_attribute("layers", static_cast<long long>(deck.integer(S, "layers")));
      f.write_attribute("padding", static_cast<long long>(deck.integer(S, "padding")));
      f.write_attribute("head", static_cast<long long>(deck.integer(S, "head")));
      f.write_attribute("spectral", deck.string(S, "spectral"));
      f.write_attribute("mixing", deck.string(S, "mixing"));
      f.write_attribute("init", deck.string(S, "init"));
      f.write_attribute("transform", deck.string(S, "transform"));
      f.write_attribute("data", data);
      f.write_attribute("kron_version", std::string(core::version_string));
      f.write_attribute("git_hash", std::string(core::git_hash));
      f.write_attribute("deck", deck.provenance_text());
      f.write_attribute("nranks", static_cast<long long>(np));
      f.write_attribute("precision", precision);
    });
  };

  // The data set resident in the model's memory space: on the GPU one upload, after which every
  // batch is gathered there and the losses are summed there, so a training step neither copies
  // from the host nor waits for the GPU (the sums are read once an epoch).
  const bool on_device = space == core::MemorySpace::Device;
  // In fp32 the sets are rounded once (host copies; the device holds only the rounded ones).
  nn::Array<R> resident_sets[4];
  std::vector<double>* host_sets[4] = {&a_train, &u_train, &a_test, &u_test};
  std::vector<R> rounded[4];
  const R* sets[4];
  for (int k = 0; k < 4; ++k) {
    if constexpr (std::is_same_v<R, double>) {
      sets[k] = host_sets[k]->data();
    } else {
      rounded[k].assign(host_sets[k]->begin(), host_sets[k]->end());
      sets[k] = rounded[k].data();
    }
    if (!on_device) continue;
    resident_sets[k].set_space(space);
    resident_sets[k].assign(sets[k], static_cast<std::size_t>(host_sets[k]->size()));
    sets[k] = resident_sets[k].data();
    rounded[k] = {};
  }
  nn::Array<R> xd(space), yd(space), out(space), g(space);
  nn::Array<double> sum(space);
  for (auto* a : {&xd, &yd, &out, &g}) a->resize(static_cast<std::size_t>(B * P));
  sum.resize(1);
  auto read_sum = [&]() {
    double v = 0;
    sum.copy_to(&v);
    return v;
  };

  // The test error: each rank its block of test samples, in batches.
  auto evaluate = [&]() {
    const long t0 = test * rank / np, t1 = test * (rank + 1) / np;
    nn::ops::fill(space, sum.data(), 1, 0.0);
    for (long b0 = t0; b0 < t1; b0 += B) {
      const long bs = std::min(B, t1 - b0);
      model.forward(sets[2] + b0 * P, out.data(), bs);
      yn.decode(space, out.data(), bs);
      nn::ops::relative_l2_accumulate(space, out.data(), sets[3] + b0 * P, P, bs, nullptr, sum.data());
    }
    return core::mpi::sum(read_sum(), comm) / double(test);
  };

  std::vector<long> order(static_cast<std::size_t>(train));
  nn::Array<long> order_d(space);
  double train_loss = train_hist.empty() ? 0.0 : train_hist.back(), test_err = test_hist.empty() ? 0.0 : test_hist.back();
  double train_seconds = 0;
  long trained_samples = 0;
  for (long e = start; e < epochs; ++e) {
    const double te0 = core::wall_time();
    opt.set_lr(nn::step_schedule(deck.real(S, "lr"), e, deck.integer(S, "step_size"), deck.real(S, "gamma")));
    // The epoch's shuffle, the same on every rank (Fisher-Yates from a per-epoch seed).
    std::iota(order.begin(), order.end(), 0L);
    nn::Rng shuffle(static_cast<std::uint64_t>(seed) * 1000003ULL + static_cast<std::uint64_t>(e) + 1);
    for (long i = train - 1; i > 0; --i)
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(std::min<long>(i, static_cast<long>(shuffle.uniform() * double(i + 1))))]);
    order_d.assign(order.data(), order.size());
    const long* rows = on_device ? order_d.data() : order.data();
    nn::ops::fill(space, sum.data(), 1, 0.0);
    double loss_sum = 0;
    {
      core::ScopedTimer t("train");
      for (long b0 = 0; b0 < train; b0 += B) {
        const long bs = std::min(B, train - b0), l0 = bs * rank / np, l1 = bs * (rank + 1) / np, nb = l1 - l0;
        opt.zero_grad();
        if (nb > 0) {
          nn::ops::gather_rows(space, sets[0], xd.data(), rows + b0 + l0, nb, P);
          nn::ops::gather_rows(space, sets[1], yd.data(), rows + b0 + l0, nb, P);
          model.forward(xd.data(), out.data(), nb);
          yn.decode(space, out.data(), nb);
          // The reference's LpLoss(size_average=False): relative L2 summed over the batch.
          nn::ops::relative_l2_accumulate(space, out.data(), yd.data(), P, nb, g.data(), sum.data());
          yn.backward(space, g.data(), double(nb), nb);
          model.backward(xd.data(), g.data(), nullptr, nb);
        }
        nn::allreduce_gradients(params, comm, false);
        opt.step();
      }
      loss_sum = read_sum();
    }
    train_loss = core::mpi::sum(loss_sum, comm) / double(train);
    if (!std::isfinite(train_loss))
      throw Error(std::string(S) + ": training diverged in epoch " + std::to_string(e + 1) + ": the training loss is not finite", {},
                  "lower surrogate_train.lr");
    const double dt = core::mpi::max(core::wall_time() - te0, comm);
    train_seconds += dt;
    trained_samples += train;
    train_hist.push_back(train_loss);
    const bool report = (e + 1) % every == 0 || e + 1 == epochs;
    if (report) {
      core::ScopedTimer t("test");
      test_err = evaluate();
    }
    test_hist.push_back(report ? test_err : std::nan(""));
    if (report)
      log::info(S, ": epoch ", e + 1, "/", epochs, ": train loss ", train_loss, ", test relative L2 ", test_err, ", ", dt, " s (",
                double(train) / dt, " samples/s), lr ", opt.lr());
    if ((e + 1) % ck_every == 0 || e + 1 == epochs) checkpoint(e + 1);
  }
  if (start >= epochs) test_err = evaluate();
  log::info(S, ": final test (", test, " samples): relative L2 error ", test_err, "; model and optimiser state in ", ckpt);
  core::Json j;
  j["problem"] = "surrogate_train";
  j["model"] = model.describe();
  j["parameters"] = double(nn::parameter_count(params));
  j["mixing_parameters"] = double(model.mixing_parameters());
  j["transform_parameters"] = double(model.transform_parameters());
  j["epochs"] = double(epochs);
  j["train_loss"] = train_loss;
  j["error_test_relative_l2"] = test_err;
  j["train_seconds"] = train_seconds;
  j["samples_per_second"] = train_seconds > 0 ? double(trained_samples) / train_seconds : 0.0;
  j["checkpoint"] = ckpt;
  j["precision"] = precision;
  return j;
}

}  // namespace

}  // namespace kron::problems
