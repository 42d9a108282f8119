#include "kron/layout/fft_wisdom.hpp"

#include <fftw3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "kron/core/json.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"

namespace kron::layout {

std::string default_wisdom_path() {
  if (const char* e = std::getenv("KRON_FFTW_WISDOM")) return std::string(e) == "none" ? "" : e;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::string dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/kron";
  else if (const char* h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/kron";
  else return "";
  return dir + "/fftw_wisdom_" + host + ".txt";
}

namespace {

void broadcast(std::string& s, MPI_Comm comm) {
  long len = static_cast<long>(s.size());
  MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
  s.resize(static_cast<std::size_t>(len));
  if (len > 0) MPI_Bcast(s.data(), static_cast<int>(len), MPI_CHAR, 0, comm);
}

std::string exported() {
  char* w = fftw_export_wisdom_to_string();
  std::string s = w ? w : "";
  std::free(w);
  return s;
}

}  // namespace

FftWisdom::FftWisdom(std::string path, MPI_Comm comm) : path_(path == "none" ? "" : std::move(path)), comm_(comm) {
  if (path_.empty()) return;
  std::string text;
  if (core::mpi::rank(comm_) == 0) {
    std::ifstream f(path_);
    if (f) {
      std::ostringstream os;
      os << f.rdbuf();
      text = os.str();
    }
  }
  broadcast(text, comm_);
  if (text.empty()) return;
  const bool ok = fftw_import_wisdom_from_string(text.c_str()) != 0;
  if (core::mpi::all(ok, comm_)) {
    loaded_ = true;
    text_ = text;
    core::log::debug("FFTW wisdom read from ", path_);
  } else {
    core::log::warn("FFTW wisdom file ", path_, " could not be read (corrupt, or written by another FFTW); ignored, "
                    "and rewritten after planning");
  }
}

void FftWisdom::save() {
  if (path_.empty()) return;
  // Gather every rank's wisdom on rank 0 (ranks with uneven blocks plan other sizes).
  const std::string mine = exported();
  const int P = core::mpi::size(comm_), me = core::mpi::rank(comm_);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<std::size_t>(P)), offs(static_cast<std::size_t>(P), 0);
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm_);
  std::vector<char> all;
  if (me == 0) {
    long total = 0;
    for (int r = 0; r < P; ++r) { offs[r] = static_cast<int>(total); total += lens[r]; }
    all.resize(static_cast<std::size_t>(total) + 1);
  }
  MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offs.data(), MPI_CHAR, 0, comm_);
  std::string err;
  if (me == 0) {
    for (int r = 1; r < P; ++r) {
      const std::string w(all.data() + offs[r], static_cast<std::size_t>(lens[r]));
      if (!w.empty()) fftw_import_wisdom_from_string(w.c_str());
    }
    const std::string merged = exported();
    if (merged != text_ && !merged.empty()) {
      try {
        const auto dir = std::filesystem::path(path_).parent_path();
        if (!dir.empty()) std::filesystem::create_directories(dir);
        core::write_file_atomic(path_, merged);
        text_ = merged;
      } catch (const std::exception& e) {
        err = e.what();
      }
    }
  }
  // A cache that cannot be written costs planning time next run, never results: warn only.
  if (!err.empty()) core::log::warn("FFTW wisdom not saved to ", path_, ": ", err);
}

}  // namespace kron::layout
