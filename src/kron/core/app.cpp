#include "kron/core/app.hpp"

#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/stop.hpp"

namespace kron::core {

int run_app(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    const auto* ke = dynamic_cast<const Error*>(&e);
    const std::string msg = ke ? ke->formatted() : std::string("internal error: ") + e.what();
    // A run stopped by a signal exits as the shell expects of one: 128 + the signal number.
    const auto* stopped = dynamic_cast<const stop::Interrupted*>(&e);
    const int status = stopped ? 128 + stopped->signal() : 1;
    if (mpi::all_ranks_failed(5.0)) {
      if (mpi::rank(MPI_COMM_WORLD) == 0) std::fprintf(stderr, "%s: error: %s\n", program, msg.c_str());
      return status;
    }
    std::fprintf(stderr, "%s: error: rank %d: %s\n", program, mpi::rank(MPI_COMM_WORLD), msg.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
    return status;
  }
}

}  // namespace kron::core
