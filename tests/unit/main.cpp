#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "kron/core/mpi.hpp"

int main(int argc, char** argv) {
  kron::core::mpi::Environment env(&argc, &argv);
  return Catch::Session().run(argc, argv);
}
