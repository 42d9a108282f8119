#include "kron/core/stop.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace kron::core::stop {

namespace {
volatile std::sig_atomic_t g_signal = 0;
// The temporary file to remove on a signal: written before g_tmp_set is raised, so the handler
// never reads a half-copied name.
char g_tmp[4096];
volatile std::sig_atomic_t g_tmp_set = 0;
// Set once the run has stopped at a check point: a signal while it exits (mpirun terminating
// the other ranks) ends the process quietly.
volatile std::sig_atomic_t g_stopping = 0;

void write_err(const char* s) {
  const ssize_t n = ::write(2, s, std::strlen(s));
  (void)n;
}

extern "C" void on_signal(int sig) {
  if (g_tmp_set) ::unlink(g_tmp);  // async-signal-safe; a missing file is fine
  if (g_signal) {
    if (!g_stopping) write_err("kron: second interrupt: stopping at once\n");
    ::_exit(128 + sig);
  }
  g_signal = sig;
}
}  // namespace

void install() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int signal_received() { return g_signal; }

void reset() {
  g_signal = 0;
  g_stopping = 0;
}

int any(MPI_Comm comm) {
  int mine = g_signal, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, comm);
  return all;
}

std::string signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal);
}

void check(MPI_Comm comm, const std::string& during, const std::string& state) {
  const int sig = any(comm);
  if (sig == 0) return;
  g_stopping = 1;
  throw Interrupted(sig, "interrupted by " + signal_name(sig) + " " + during + (state.empty() ? "" : "; " + state));
}

TemporaryFile::TemporaryFile(const std::string& path) {
  g_tmp_set = 0;
  const std::size_t n = std::min(path.size(), sizeof g_tmp - 1);
  std::memcpy(g_tmp, path.data(), n);
  g_tmp[n] = '\0';
  g_tmp_set = 1;
}

TemporaryFile::~TemporaryFile() { g_tmp_set = 0; }

}  // namespace kron::core::stop
