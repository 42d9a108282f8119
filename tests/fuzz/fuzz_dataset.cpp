// libFuzzer target: the readers of surrogate data sets and training checkpoints. Once, a small 1D
// data set is written and a tiny FNO trained on it (its checkpoint is the seed model). Each input's
// first byte picks what it attacks, and the rest mutates a copy of that file
// (tests/fuzz/h5_mutate.hpp: datasets and attributes kept, deleted, poisoned, reshaped or retyped):
//   0: the data set surrogate_train reads (construction checks its shapes, training reads rows),
//   1: the checkpoint surrogate_train resumes from (model description, parameters, Adam moments,
//      counters, history),
//   2: the data set surrogate_predict reads with the seed model.
// Every such file must be accepted or rejected with a kron::Error; a crash, another exception, a
// sanitizer report or a hang is a finding.
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "h5_mutate.hpp"
#include "run_deck.hpp"

namespace {
const std::string dir = "/tmp/kron_fuzz_dataset_" + std::to_string(getpid());

std::string train_deck(const std::string& data, const std::string& out, int epochs, bool resume) {
  return "[problem]\ntype = \"surrogate_train\"\n[surrogate_train]\ndata = \"" + data +
         "\"\ntrain = 4\ntest = 2\nmodes = 2\nwidth = 2\nlayers = 1\npadding = 0\nhead = 2\nbatch = 2\n"
         "progress_every = 1\ncheckpoint_every = 1\nepochs = " +
         std::to_string(epochs) + "\nresume = " + (resume ? "true" : "false") + "\n[output]\ndir = \"" + out +
         "\"\nname = \"m\"\n[log]\ntimers = false\n";
}
std::string predict_deck(const std::string& data, const std::string& out) {
  return "[problem]\ntype = \"surrogate_predict\"\n[surrogate_predict]\nmodel = \"" + dir + "/seed/m_model.h5\"\ndata = \"" + data +
         "\"\nfirst = 4\nsamples = 2\nfields = 2\n[output]\ndir = \"" + out + "\"\nname = \"p\"\n[log]\ntimers = false\n";
}

void write_seed_data(const std::string& path) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g = H5Gcreate2(f, "samples", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {6, 8};
  std::vector<double> a(48), u(48);
  for (int k = 0; k < 48; ++k) {
    a[k] = std::sin(0.7 * k) + 0.1 * (k / 8);
    u[k] = 0.5 * a[k] + 0.25 * std::cos(0.3 * k);
  }
  for (const auto& [name, v] : {std::pair<const char*, std::vector<double>*>{"a", &a}, {"u", &u}}) {
    const hid_t s = H5Screate_simple(2, dims, nullptr);
    const hid_t d = H5Dcreate2(g, name, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->data());
    H5Dclose(d);
    H5Sclose(s);
  }
  H5Gclose(g);
  H5Fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  kron_fuzz::init_problem_fuzzer(argc, argv, dir);
  write_seed_data(dir + "/data.h5");
  kron_fuzz::run_deck(train_deck(dir + "/data.h5", dir + "/seed", 2, false));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kron_fuzz::Bytes b{data, size};
  const int mode = b.byte() % 3;
  using std::filesystem::copy_file;
  const auto over = std::filesystem::copy_options::overwrite_existing;
  const std::vector<std::string> words = {"FNO", "", "dense", "monarch:2", "1e300"};
  return kron_fuzz::accepted_or_rejected([&] {
    if (mode == 1) {
      std::filesystem::create_directories(dir + "/resume");
      const std::string ck = dir + "/resume/m_model.h5";
      copy_file(dir + "/seed/m_model.h5", ck, over);
      kron_fuzz::mutate_h5(ck, b, words);
      kron_fuzz::run_deck(train_deck(dir + "/data.h5", dir + "/resume", 3, true));
    } else {
      const std::string d = dir + "/mutated.h5";
      copy_file(dir + "/data.h5", d, over);
      kron_fuzz::mutate_h5(d, b, words);
      kron_fuzz::run_deck(mode == 0 ? train_deck(d, dir + "/train", 1, false) : predict_deck(d, dir + "/predict"));
    }
  });
}
