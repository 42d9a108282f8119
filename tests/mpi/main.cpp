#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "kron/core/mpi.hpp"

// Every rank runs every test case; the job fails if any rank fails. Assertions compare values
// reduced over ranks, so no rank leaves a collective early.
int main(int argc, char** argv) {
  kron::core::mpi::Environment env(&argc, &argv);
  const int rank = kron::core::mpi::rank();
  Catch::Session session;
  const int rc = session.run(argc, argv);
  int any = rc != 0, worst = 0;
  MPI_Allreduce(&any, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && worst && rc == 0) std::printf("a test failed on another rank (see stderr)\n");
  return worst;
}
