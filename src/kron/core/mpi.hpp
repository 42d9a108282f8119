#pragma once
#include <mpi.h>

#include <complex>
#include <functional>
#include <string>
#include <vector>

namespace kron::core::mpi {

/// Throws kron::Error naming `what` and MPI's own message when `rc` is not MPI_SUCCESS.
void check(int rc, const char* what);

/// MPI_Init/MPI_Finalize owner for apps and tests. Creates a private duplicate of
/// MPI_COMM_WORLD used only to agree on failures, so that agreement never collides with a
/// collective the library may be inside.
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

/// Registers a function to run before MPI_Finalize (in reverse order of registration), for
/// libraries initialised after MPI that must shut down while it is still up (PETSc).
void before_finalize(std::function<void()> f);

int rank(MPI_Comm comm = MPI_COMM_WORLD);
int size(MPI_Comm comm = MPI_COMM_WORLD);

/// After a rank caught an error: true if every rank reports failure within `timeout_s`
/// (a replicated failure such as a bad deck; rank 0 alone should report it and all exit
/// cleanly). False when some rank did not fail in time: the caller should print its message
/// and MPI_Abort, since waiting would hang.
bool all_ranks_failed(double timeout_s);

template <class T>
MPI_Datatype datatype();
template <>
inline MPI_Datatype datatype<double>() { return MPI_DOUBLE; }
template <>
inline MPI_Datatype datatype<float>() { return MPI_FLOAT; }
template <>
inline MPI_Datatype datatype<std::complex<double>>() { return MPI_C_DOUBLE_COMPLEX; }
template <>
inline MPI_Datatype datatype<std::complex<float>>() { return MPI_C_FLOAT_COMPLEX; }
template <>
inline MPI_Datatype datatype<int>() { return MPI_INT; }
template <>
inline MPI_Datatype datatype<long long>() { return MPI_LONG_LONG; }

/// Logical AND over ranks: lets a check made on some ranks become a collective decision.
bool all(bool ok, MPI_Comm comm);
/// Rank 0's `s` on every rank.
std::string broadcast(const std::string& s, MPI_Comm comm);
double max(double v, MPI_Comm comm);
double min(double v, MPI_Comm comm);
double sum(double v, MPI_Comm comm);
long long sum(long long v, MPI_Comm comm);

/// Owning wrapper for a communicator we created (freed on destruction; world/self are not).
class Comm {
 public:
  Comm() = default;
  explicit Comm(MPI_Comm c) : c_(c) {}
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  Comm(Comm&& o) noexcept : c_(o.c_) { o.c_ = MPI_COMM_NULL; }
  Comm& operator=(Comm&& o) noexcept;
  ~Comm();
  MPI_Comm get() const { return c_; }
  operator MPI_Comm() const { return c_; }

 private:
  MPI_Comm c_ = MPI_COMM_NULL;
};

/// Owning wrapper for a committed derived datatype.
class Type {
 public:
  Type() = default;
  explicit Type(MPI_Datatype t) : t_(t) {}
  Type(const Type&) = delete;
  Type& operator=(const Type&) = delete;
  Type(Type&& o) noexcept : t_(o.t_) { o.t_ = MPI_DATATYPE_NULL; }
  Type& operator=(Type&& o) noexcept;
  ~Type();
  MPI_Datatype get() const { return t_; }

 private:
  MPI_Datatype t_ = MPI_DATATYPE_NULL;
};

}  // namespace kron::core::mpi
