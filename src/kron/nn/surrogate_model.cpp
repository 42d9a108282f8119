#include "kron/nn/surrogate_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kron/core/error.hpp"
#include "kron/layout/hdf5_io.hpp"

namespace kron::nn {

SurrogateModel SurrogateModel::load(const std::string& path, MPI_Comm comm, core::MemorySpace space) {
  SurrogateModel m;
  std::vector<std::vector<double>> values;
  std::vector<double> x_mean, x_sd, y_mean, y_sd;
  try {
    layout::H5File f(path, layout::H5File::Mode::Read, comm);
    FnoOptions& o = m.options_;
    // Sizes are untrusted numbers: checked as doubles (range, integral) before any cast or
    // allocation, so a corrupted file is an error, never a huge model.
    auto size_attr = [&](const char* name, double lo, double hi) {
      const double v = f.read_attribute_double(name);
      if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<long>(v)))
        throw Error("the attribute " + std::string(name) + " is " + std::to_string(v) + ", not an integer in [" + std::to_string(long(lo)) + ", " +
                    std::to_string(long(hi)) + "]");
      return static_cast<long>(v);
    };
    o.dim = f.has_attribute("dim") ? static_cast<int>(size_attr("dim", 1, 2)) : 2;  // older model files: 2D
    o.nx = size_attr("grid_points", 1, 1 << 16);
    o.ny = o.dim == 2 ? o.nx : 1;
    o.modes_x = o.modes_y = size_attr("modes", 1, 1 << 16);
    o.width = size_attr("width", 1, 1 << 12);
    o.layers = size_attr("layers", 1, 1 << 10);
    o.padding = size_attr("padding", 0, 1 << 16);
    o.head = size_attr("head", 1, 1 << 16);
    // The dense spectral weights bound every structure's: a file cannot describe more than 2^31.
    const double dense = 2.0 * double(o.layers) * double(o.width) * double(o.width) * std::pow(double(o.modes_x), o.dim);
    if (dense > double(1L << 31)) throw Error("the model's sizes describe " + std::to_string(dense) + " spectral weights, beyond any model kron writes");
    o.spectral = f.read_attribute_string("spectral");
    o.mixing = f.read_attribute_string("mixing");
    o.transform = f.has_attribute("transform") ? f.read_attribute_string("transform") : "fixed";  // older model files: fixed
    m.described_ = f.read_attribute_string("model");
    for (long k = 0; f.exists("/parameters/" + std::to_string(k)); ++k) values.push_back(f.read_vector("/parameters/" + std::to_string(k)));
    x_mean = f.read_vector("/normalizer/x_mean");
    x_sd = f.read_vector("/normalizer/x_sd");
    y_mean = f.read_vector("/normalizer/y_mean");
    y_sd = f.read_vector("/normalizer/y_sd");
  } catch (const Error& e) {
    throw Error(path + ": " + e.message(), {}, "give the _model.h5 file a surrogate_train run wrote");
  }
  const long P = m.points();
  for (const auto* v : {&x_mean, &x_sd, &y_mean, &y_sd}) {
    if (static_cast<long>(v->size()) != P)
      throw Error(path + ": a normaliser of " + std::to_string(v->size()) + " points for a model of " + std::to_string(P));
    for (double x : *v)
      if (!std::isfinite(x)) throw Error(path + ": a normaliser holds a value that is not finite");
  }
  for (const auto* v : {&x_sd, &y_sd})
    for (double x : *v)
      if (x < 0) throw Error(path + ": a normaliser's standard deviation is negative");
  Rng rng(0);
  m.model_ = std::make_unique<Fno>(m.options_, rng);
  if (m.model_->describe() != m.described_)
    throw Error(path + ": the file describes " + m.described_ + ", which kron builds as " + m.model_->describe());
  m.space_ = space;
  m.model_->to(space);
  auto params = m.model_->parameters();
  if (params.size() != values.size())
    throw Error(path + ": " + std::to_string(values.size()) + " parameter arrays, the model has " + std::to_string(params.size()));
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (static_cast<long>(values[k].size()) != params[k].size)
      throw Error(path + ": parameter array " + std::to_string(k) + " has " + std::to_string(values[k].size()) + " values, the model needs " +
                  std::to_string(params[k].size));
    for (double v : values[k])
      if (!std::isfinite(v)) throw Error(path + ": parameter array " + std::to_string(k) + " holds a value that is not finite");
    std::copy(values[k].begin(), values[k].end(), params[k].value);
    params[k].upload();
  }
  m.xn_ = std::make_unique<Normalizer>(std::move(x_mean), std::move(x_sd));
  m.yn_ = std::make_unique<Normalizer>(std::move(y_mean), std::move(y_sd));
  return m;
}

void SurrogateModel::predict(const double* a, double* u, long samples, long chunk) {
  if (samples < 0 || chunk < 1) throw Error("SurrogateModel::predict: a negative sample count or a chunk below 1");
  const long P = points();
  Array<double> xd(space_), yd(space_);
  std::vector<double> x;  // one host buffer for every chunk's encoded inputs
  for (long b0 = 0; b0 < samples; b0 += chunk) {
    const long bs = std::min(chunk, samples - b0);
    x.assign(a + b0 * P, a + (b0 + bs) * P);
    xn_->encode(x);
    xd.assign(x.data(), x.size());
    yd.resize(x.size());
    model_->forward(xd.data(), yd.data(), bs);
    yn_->decode(space_, yd.data(), bs);
    yd.copy_to(u + b0 * P);
  }
}

double first_bad_sample(const double* a, const double* u, long rows, long points, long row0) {
  for (long r = 0; r < rows; ++r) {
    const double* ar = a + r * points;
    const double* ur = u + r * points;
    const double code = 3.0 * static_cast<double>(row0 + r);
    if (!std::all_of(ar, ar + points, [](double x) { return std::isfinite(x); })) return code;
    if (!std::all_of(ur, ur + points, [](double x) { return std::isfinite(x); })) return code + 1;
    if (std::all_of(ur, ur + points, [](double x) { return x == 0; })) return code + 2;
  }
  return std::numeric_limits<double>::infinity();
}

std::string bad_sample_message(double code) {
  const long sample = static_cast<long>(code / 3), reason = static_cast<long>(code) % 3;
  const std::string k = "sample " + std::to_string(sample);
  if (reason == 0) return k + " of /samples/a holds a value that is not finite";
  if (reason == 1) return k + " of /samples/u holds a value that is not finite";
  return k + " of /samples/u is zero everywhere, and the relative L2 error divides by its norm";
}

}  // namespace kron::nn
