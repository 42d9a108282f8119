#pragma once
#include <array>
#include <complex>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kron/core/mpi.hpp"
#include "kron/layout/process_grid.hpp"

namespace kron::test {

/// Every process grid shape p1 x p2 for the ranks of MPI_COMM_WORLD.
inline std::vector<std::array<int, 2>> all_grid_shapes() {
  const int n = core::mpi::size(MPI_COMM_WORLD);
  std::vector<std::array<int, 2>> s;
  for (int p1 = 1; p1 <= n; ++p1) if (n % p1 == 0) s.push_back({p1, n / p1});
  return s;
}

inline layout::ProcessGridPtr make_grid(std::array<int, 2> s) {
  return std::make_shared<layout::ProcessGrid>(MPI_COMM_WORLD, s[0], s[1]);
}

/// A value decided on rank 0 (e.g. a comparison with a serial reference computed there), made
/// known to every rank, so that an assertion on it runs on all ranks: a REQUIRE that failed on
/// rank 0 only would leave the others waiting in the next collective.
inline bool from_root(bool v) {
  int x = v ? 1 : 0;
  MPI_Bcast(&x, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return x != 0;
}
inline double from_root(double v) {
  MPI_Bcast(&v, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return v;
}

/// A scratch folder of this run's own (tests run concurrently under ctest -j, on several rank
/// counts at once, so fixed names would race): rank 0 creates it, every rank gets its name, and
/// it is removed when the object goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::string name;
    if (core::mpi::rank() == 0) {
      std::string tmpl = (std::filesystem::temp_directory_path() / ("kron_" + tag + "_XXXXXX")).string();
      if (mkdtemp(tmpl.data())) name = tmpl;
    }
    long len = static_cast<long>(name.size());
    MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    name.resize(static_cast<std::size_t>(len));
    MPI_Bcast(name.data(), static_cast<int>(len), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (name.empty()) throw std::runtime_error("cannot create a scratch folder for test " + tag);
    path_ = name;
  }
  ~ScratchDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (core::mpi::rank() == 0) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& file) const { return path_ + "/" + file; }

 private:
  std::string path_;
};

/// A value that identifies global point (i, j, k) of component c exactly.
inline double tag(long i, long j, long k, int c = 0) { return double(i) + 1e3 * double(j) + 1e6 * double(k) + 1e9 * c; }

}  // namespace kron::test
