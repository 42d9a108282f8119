#pragma once
#include <mpi.h>

#include <string>

namespace kron::layout {

/// The wisdom file used when none is named: $KRON_FFTW_WISDOM if set ("none" disables it), else
/// $XDG_CACHE_HOME/kron/fftw_wisdom_<host>.txt, else ~/.cache/kron/fftw_wisdom_<host>.txt.
std::string default_wisdom_path();

/// FFTW wisdom kept in a file, so that planning with effort measure or above costs once per
/// machine instead of once per run. Construction (collective): rank 0 reads the file and every
/// rank imports it; a missing file is an empty cache, an unreadable or foreign one is ignored
/// with a warning (wisdom only ever makes planning faster; it never changes results).
/// save() (collective): every rank's wisdom is merged on rank 0 and written atomically when it
/// holds plans the file did not. A path of "" or "none" disables both.
class FftWisdom {
 public:
  FftWisdom(std::string path, MPI_Comm comm);
  void save();
  const std::string& path() const { return path_; }
  bool enabled() const { return !path_.empty(); }
  /// Whether wisdom was read from the file at construction.
  bool loaded() const { return loaded_; }

 private:
  std::string path_;
  MPI_Comm comm_;
  std::string text_;  ///< what the file held (rank 0)
  bool loaded_ = false;
};

}  // namespace kron::layout
