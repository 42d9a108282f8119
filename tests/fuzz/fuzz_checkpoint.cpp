// libFuzzer target: the heat checkpoint reader (heat.restart: Heat::check_restart, then the
// restarted run, which reads the state and checks it is finite). A real checkpoint is written once
// by a small heat run; each input mutates a copy of it (tests/fuzz/h5_mutate.hpp: attributes and
// datasets kept, deleted, poisoned, reshaped or retyped) and restarts the same deck from it. Every
// such file must be accepted (the restart then completes) or rejected with a kron::Error; a crash,
// another exception, a sanitizer report or a hang is a finding.
#include <mpi.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "h5_mutate.hpp"
#include "kron/core/deck.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/problems/registry.hpp"

namespace {
const std::string dir = "/tmp/kron_fuzz_checkpoint_" + std::to_string(getpid());

std::string deck_text(double t_end, const std::string& out, const std::string& restart) {
  std::string t = R"deck([problem]
type = "heat"
[grid]
n = [6, 6, 5]
lower = [0.0]
upper = [1.0]
[heat]
scheme = ["fd2"]
boundary = ["dirichlet"]
nu = 0.1
exact = "sin(t)*(x^2 + 2*y^2) + z"
source = "cos(t)*(x^2 + 2*y^2) - 0.6*sin(t)"
dt = 0.01
output_every = 0
progress_every = 0
checkpoint_every = 2
)deck";
  t += "t_end = " + std::to_string(t_end) + "\n";
  if (!restart.empty()) t += "restart = \"" + restart + "\"\n";
  t += "[output]\ndir = \"" + out + "\"\nname = \"heat\"\n[log]\ntimers = false\n";
  return t;
}

void run(const std::string& text) {
  static const kron::core::Schema schema = kron::problems::schema();
  const auto deck = kron::core::Deck::from_string(text, "fuzz.toml", schema, {});
  kron::problems::make(deck, MPI_COMM_WORLD)->run();
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // kron reports HDF5 failures itself
  kron::core::log::set_level(kron::core::log::Level::Error);
  std::filesystem::create_directories(dir);
  run(deck_text(0.04, dir + "/seed", ""));  // steps 0..4, the checkpoint holds step 4
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kron_fuzz::Bytes b{data, size};
  const std::string ck = dir + "/ck.h5";
  std::filesystem::copy_file(dir + "/seed/heat_checkpoint.h5", ck, std::filesystem::copy_options::overwrite_existing);
  kron_fuzz::mutate_h5(ck, b, {"heat ADI state", "", "heat", "FNO", "1e300"});
  try {
    run(deck_text(0.06, dir + "/run", ck));
  } catch (const kron::Error& e) {
    const std::string m = e.formatted();
    if (std::getenv("KRON_FUZZ_VERBOSE")) std::fprintf(stderr, "rejected: %s\n", m.c_str());  // triage: what each input met
    return 0;
  }
  if (std::getenv("KRON_FUZZ_VERBOSE")) std::fprintf(stderr, "accepted\n");
  return 0;
}
