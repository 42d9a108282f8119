#pragma once
#include <mpi.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kron/layout/field.hpp"

namespace kron::layout {

struct H5WriteOptions {
  int compression = 0;                 ///< deflate level 0..9 (0: none); needs chunks
  std::array<long, 3> chunk{0, 0, 0};  ///< chunk extents along x, y, z; 0: automatic
};

/// A parallel HDF5 file (MPI-IO driver, collective transfers). Every call is collective over
/// the communicator the file was opened with. Fields are stored as their global array in C
/// order with x fastest (dataset shape [nz][ny][nx], dimensions beyond `dim` dropped), written
/// and read from any pencil, onto any rank count. Complex fields use the compound {r, i} type
/// (the h5py convention). Errors name the file and the dataset.
class H5File {
 public:
  enum class Mode { Create, Read };
  H5File(const std::string& path, Mode mode, MPI_Comm comm);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  void close();
  const std::string& path() const;

  template <class T>
  void write_field(const std::string& dataset, const Field<T>& f, int dim, int component = 0, const H5WriteOptions& opt = {});
  template <class T>
  void read_field(const std::string& dataset, Field<T>& f, int component = 0);

  /// A small 1D array held identically on every rank (coordinates, spectra).
  void write_vector(const std::string& dataset, const std::vector<double>& v);
  std::vector<double> read_vector(const std::string& dataset);
  /// A dataset of `shape` (slowest first) written in slabs of its slowest dimension: this rank's
  /// rows [row0, row0 + rows) from `data` (rows x the other extents, C order; rows may be 0). The
  /// data sets of the surrogate family: samples along the first dimension, a rank's its own.
  void write_rows(const std::string& dataset, const std::vector<long>& shape, long row0, long rows, const double* data);
  /// Rows [row0, row0 + rows) of a dataset (every extent but the first, whole); an error naming
  /// the file and dataset when they are not there.
  std::vector<double> read_rows(const std::string& dataset, long row0, long rows);
  /// Dataset shape as stored (slowest first); throws when the dataset does not exist.
  std::vector<long> shape(const std::string& dataset);
  bool exists(const std::string& dataset);

  void write_attribute(const std::string& name, double v);
  void write_attribute(const std::string& name, long long v);
  void write_attribute(const std::string& name, const std::string& v);
  double read_attribute_double(const std::string& name);
  std::string read_attribute_string(const std::string& name);
  /// Whether the file's root holds attribute `name` (keys added in later versions read as optional).
  bool has_attribute(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kron::layout
