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
#include <filesystem>
#include <string>

#include "h5_mutate.hpp"
#include "run_deck.hpp"

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

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  kron_fuzz::init_problem_fuzzer(argc, argv, dir);
  kron_fuzz::run_deck(deck_text(0.04, dir + "/seed", ""));  // steps 0..4, the checkpoint holds step 4
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kron_fuzz::Bytes b{data, size};
  const std::string ck = dir + "/ck.h5";
  std::filesystem::copy_file(dir + "/seed/heat_checkpoint.h5", ck, std::filesystem::copy_options::overwrite_existing);
  kron_fuzz::mutate_h5(ck, b, {"heat ADI state", "", "heat", "FNO", "1e300"});
  return kron_fuzz::accepted_or_rejected([&] { kron_fuzz::run_deck(deck_text(0.06, dir + "/run", ck)); });
}
