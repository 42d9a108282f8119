// libFuzzer target: the reader of trained-model files (nn::SurrogateModel::load, what
// surrogate_predict, kron_surrogate_load and training's resume trust), on well-formed HDF5 files
// with hostile contents: the input bytes choose the attributes (sizes, dimension, structures,
// the model description), the parameter arrays (count and sizes) and the normalisers. Every such
// file must be read or rejected with a kron::Error; a crash, another exception, a sanitizer
// report or an allocation beyond the fuzzer's memory limit is a finding. (Byte-level corruption
// is libhdf5's to parse; kron's handling of its errors is covered by tests/cli.)
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/nn/surrogate_model.hpp"

namespace {
struct Bytes {
  const std::uint8_t* p;
  std::size_t n, i = 0;
  std::uint8_t byte() { return i < n ? p[i++] : 0; }
  double number() {  // small integers mostly, sometimes extreme values
    const std::uint8_t k = byte();
    switch (k % 8) {
      case 0: return -static_cast<double>(byte());
      case 1: return 1e30;
      case 2: return static_cast<double>(byte()) + 0.5;
      default: return static_cast<double>(byte() % 40);
    }
  }
  std::string text() {
    static const char* words[] = {"dense", "low_rank:2", "block_diag:2", "monarch:2", "butterfly", "flat_butterfly:2",
                                  "fixed", "monarch_dft", "dense+low_rank:1", "", "monarch:0", "low_rank:-1"};
    return words[byte() % 12];
  }
};

void attr(hid_t f, const char* name, double v) {
  const hid_t s = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, name, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(a);
  H5Sclose(s);
}
void attr(hid_t f, const char* name, const std::string& v) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, v.size() + 1);
  const hid_t s = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, v.c_str());
  H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
}
void vec(hid_t g, const std::string& name, hsize_t n, double v) {
  std::vector<double> x(n, v);
  const hid_t s = H5Screate_simple(1, &n, nullptr);
  const hid_t d = H5Dcreate2(g, name.c_str(), H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data());
  H5Dclose(d);
  H5Sclose(s);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // kron reports HDF5 failures itself
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes b{data, size};
  static const std::string path = "/tmp/kron_fuzz_model_" + std::to_string(getpid()) + ".h5";
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const std::uint8_t present = b.byte();  // which attributes exist
  const char* names[] = {"dim", "grid_points", "modes", "width", "layers", "padding", "head"};
  for (int k = 0; k < 7; ++k)
    if (!(present >> k & 1) || k == 0) attr(f, names[k], b.number());
  attr(f, "spectral", b.text());
  attr(f, "mixing", b.text());
  if (b.byte() & 1) attr(f, "transform", b.text());
  attr(f, "model", b.byte() & 1 ? std::string("FNO") : b.text());
  const hid_t params = H5Gcreate2(f, "parameters", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const int np = b.byte() % 24;
  for (int k = 0; k < np; ++k) vec(params, std::to_string(k), b.byte() * (1u + b.byte() % 4), 0.01);
  H5Gclose(params);
  const hid_t norm = H5Gcreate2(f, "normalizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (const char* n : {"x_mean", "x_sd", "y_mean", "y_sd"})
    if (b.byte() % 8) vec(norm, n, b.byte() % 2 ? 1u + b.byte() : 441u, b.byte() % 2 ? 1.0 : -1.0);
  H5Gclose(norm);
  H5Fclose(f);
  try {
    auto m = kron::nn::SurrogateModel::load(path, MPI_COMM_SELF);
    std::vector<double> a(static_cast<std::size_t>(m.points()), 0.5), u(a.size());
    m.predict(a.data(), u.data(), 1);
  } catch (const kron::Error& e) {
    (void)e.formatted();
  }
  return 0;
}
