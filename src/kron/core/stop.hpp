#pragma once
#include <mpi.h>

#include <string>

#include "kron/core/error.hpp"

/// Stopping cleanly on SIGINT and SIGTERM (Ctrl-C, a batch system's time limit, mpirun passing
/// either on as SIGTERM). The handler only records the signal and removes the temporary file of
/// a write in progress (so no partial file survives even if SIGKILL follows); the run notices the
/// request at its next check point (between time steps, before and after each output write),
/// stops there on every rank and exits with 128 + the signal number. A second signal ends the
/// process at once.
namespace kron::core::stop {

/// Installs the handlers (kron's executables call it once, after MPI is initialised).
void install();
/// The signal this rank received (0: none).
int signal_received();
/// Forgets a received signal (tests).
void reset();
/// Collective: the signal any rank received (0: none).
int any(MPI_Comm comm);

/// Thrown at a check point after a signal: the run is abandoned; exit status 128 + signal.
class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& what) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

/// Collective check point: throws Interrupted ("interrupted by SIGINT <during>; <state>") on
/// every rank when any rank received a signal.
void check(MPI_Comm comm, const std::string& during, const std::string& state = {});

/// While alive, the handler removes `path` if a signal arrives (one temporary at a time).
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& path);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
};

/// "SIGINT", "SIGTERM", or "signal N".
std::string signal_name(int signal);

}  // namespace kron::core::stop
