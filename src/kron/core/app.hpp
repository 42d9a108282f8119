#pragma once
#include <functional>

namespace kron::core {

/// The top of every kron executable: runs `body` and turns any exception into the one-line
/// report `<program>: error: FILE:LINE: what (hint)`. A failure every rank sees (a bad deck, a
/// bad option) is printed once by rank 0 and all ranks exit with status 1; a failure on some
/// ranks only cannot be waited for, so that rank prints it and aborts the job.
/// MPI must be initialised (core::mpi::Environment) before the call.
int run_app(const char* program, const std::function<int()>& body);

}  // namespace kron::core
