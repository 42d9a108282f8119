// Shared by the libFuzzer targets that run problem kinds on files kron wrote (fuzz_checkpoint,
// fuzz_dataset): MPI and HDF5 set up once with quiet logs, a deck given as text run to its end,
// and the one rule of every target: an input is accepted or ends as a kron::Error; anything else
// that escapes is a finding. KRON_FUZZ_VERBOSE=1 prints what each input met.
#pragma once
#include <hdf5.h>
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "kron/core/deck.hpp"
#include "kron/core/error.hpp"
#include "kron/core/log.hpp"
#include "kron/problems/registry.hpp"

namespace kron_fuzz {

inline void init_problem_fuzzer(int* argc, char*** argv, const std::string& dir) {
  MPI_Init(argc, argv);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // kron reports HDF5 failures itself
  kron::core::log::set_level(kron::core::log::Level::Error);
  std::filesystem::create_directories(dir);
}

inline void run_deck(const std::string& text) {
  static const kron::core::Schema schema = kron::problems::schema();
  const auto deck = kron::core::Deck::from_string(text, "fuzz.toml", schema, {});
  kron::problems::make(deck, MPI_COMM_WORLD)->run();
}

template <class F>
int accepted_or_rejected(F&& body) {
  try {
    body();
  } catch (const kron::Error& e) {
    const std::string m = e.formatted();
    if (std::getenv("KRON_FUZZ_VERBOSE")) std::fprintf(stderr, "rejected: %s\n", m.c_str());
    return 0;
  }
  if (std::getenv("KRON_FUZZ_VERBOSE")) std::fprintf(stderr, "accepted\n");
  return 0;
}

}  // namespace kron_fuzz
