#include "kron/core/log.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>

#include "kron/core/error.hpp"

namespace kron::core::log {

namespace {
Level g_level = Level::Info;
const auto g_start = std::chrono::steady_clock::now();
bool is_root() {
  int inited = 0, r = 0;
  MPI_Initialized(&inited);
  if (inited) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r == 0;
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

Level parse_level(const std::string& s) {
  if (s == "error") return Level::Error;
  if (s == "warn") return Level::Warn;
  if (s == "info") return Level::Info;
  if (s == "debug") return Level::Debug;
  throw Error("unknown log level '" + s + "'", {}, "use error, warn, info or debug");
}

double elapsed() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
}

void write(Level lvl, const std::string& message) {
  if (lvl > g_level || !is_root()) return;
  static const char* tags[] = {"error", "warn", "info", "debug"};
  std::FILE* out = lvl <= Level::Warn ? stderr : stdout;
  std::fprintf(out, "[%8.2fs] %s%s%s\n", elapsed(), lvl == Level::Info ? "" : tags[int(lvl)],
               lvl == Level::Info ? "" : ": ", message.c_str());
  std::fflush(out);
}

}  // namespace kron::core::log
