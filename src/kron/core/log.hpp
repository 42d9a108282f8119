#pragma once
#include <sstream>
#include <string>

namespace kron::core::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

/// Sets the level (messages above it are dropped). Only rank 0 of MPI_COMM_WORLD prints.
void set_level(Level level);
Level level();
/// Parses "error|warn|info|debug"; throws kron::Error otherwise.
Level parse_level(const std::string& s);
/// Seconds since the logger started (the run's clock used for progress lines).
double elapsed();

void write(Level level, const std::string& message);

template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
template <class... Args>
void error(const Args&... a) { write(Level::Error, concat(a...)); }
template <class... Args>
void warn(const Args&... a) { write(Level::Warn, concat(a...)); }
template <class... Args>
void info(const Args&... a) { if (level() >= Level::Info) write(Level::Info, concat(a...)); }
template <class... Args>
void debug(const Args&... a) { if (level() >= Level::Debug) write(Level::Debug, concat(a...)); }

}  // namespace kron::core::log
