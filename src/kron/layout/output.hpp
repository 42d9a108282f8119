#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kron/core/json.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/xdmf.hpp"

namespace kron::layout {

/// Provenance stored as attributes of every file kron writes.
struct Provenance {
  std::string deck_text;  ///< the deck as given, with its command-line overrides
  int nranks = 1;
};

/// Writes HDF5 `path` collectively through `<path>.tmp` and a rename once complete, so no
/// reader (and no crash) ever sees a half-written file. `body` writes the contents.
void write_h5_atomic(const std::string& path, MPI_Comm comm, const std::function<void(H5File&)>& body);

/// The files an earlier run named `name` left in `dir` (this rank's view; sorted):
/// summary.json, <name>.xdmf, <name>_<digits>.h5 (and .h5.tmp) and <name>_spectrum.csv.
std::vector<std::string> earlier_output(const std::string& dir, const std::string& name);
/// Collective: rank 0 removes earlier_output(dir, name); returns how many files it removed.
/// Throws on every rank when one cannot be removed.
long remove_earlier_output(const std::string& dir, const std::string& name, MPI_Comm comm);

/// Collective: rank 0 writes `dir`/summary.json atomically; an error throws on every rank.
void write_summary(const std::string& dir, const core::Json& summary, MPI_Comm comm);

/// Collective: creates `dir` (and parents) on rank 0; throws on every rank if that fails.
void make_directory(const std::string& dir, MPI_Comm comm);

/// The run's output folder: `<dir>/<name>_<step>.h5` per written step (step zero-padded to
/// six digits), `<dir>/<name>.xdmf` listing every step so far, `<dir>/summary.json`.
class OutputWriter {
 public:
  OutputWriter(std::string dir, std::string name, Domain domain, Provenance prov, H5WriteOptions opt, MPI_Comm comm);

  /// A dataset to write: its name under /fields, the field, and which component.
  struct Entry {
    std::string name;
    const RealField* field;
    int component = 0;
  };
  using FieldList = std::vector<Entry>;
  /// Collective. `extra` may add datasets (e.g. a spectrum) before the file is closed.
  void write_step(int step, double time, const FieldList& fields, const std::function<void(H5File&)>& extra = {});
  const std::string& dir() const { return dir_; }
  std::string step_path(int step) const;

 private:
  std::string dir_, name_;
  Domain domain_;
  Provenance prov_;
  H5WriteOptions opt_;
  MPI_Comm comm_;
  std::vector<XdmfStep> steps_;
  std::vector<std::string> field_names_;
};

/// Writes the common file attributes (time, step, kron_version, git_hash, deck, nranks)
/// and the grid coordinates.
void write_provenance(H5File& f, const Provenance& prov, int step, double time);
void write_grid(H5File& f, const Domain& d);

/// Checkpoints: fields by name plus time and step, written atomically; readable on any rank
/// count and pencil (the fields are global arrays).
void write_checkpoint(const std::string& path, const Domain& d, const OutputWriter::FieldList& fields, int step,
                      double time, const Provenance& prov, MPI_Comm comm);
struct CheckpointInfo {
  int step = 0;
  double time = 0;
};
CheckpointInfo read_checkpoint(const std::string& path, const std::vector<std::pair<std::string, RealField*>>& fields,
                               MPI_Comm comm);

}  // namespace kron::layout
