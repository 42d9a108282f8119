// GPU tests (ctest label gpu): run where a GPU is visible (scripts/device-run.sh on the GPU
// machine); elsewhere they say so and exit 77, which ctest reports as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"

int main(int argc, char** argv) {
  kron::core::mpi::Environment env(&argc, &argv);
  if (kron::core::cuda_device_count() == 0) {
    if (kron::core::mpi::rank() == 0)
      std::printf("SKIPPED: %s; the GPU tests run on a GPU machine (scripts/device-run.sh)\n", kron::core::device_summary().c_str());
    return 77;
  }
  kron::core::select_device(MPI_COMM_WORLD);
  return Catch::Session().run(argc, argv);
}
