#include "kron/core/mpi.hpp"

#include <chrono>
#include <vector>
#include <thread>

#include "kron/core/device.hpp"
#include "kron/core/error.hpp"

namespace kron::core::mpi {

namespace {
MPI_Comm g_error_comm = MPI_COMM_NULL;
bool g_we_initialized = false;
}  // namespace

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI call failed in ") + what + ": " + std::string(msg, len));
}

Environment::Environment(int* argc, char*** argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    MPI_Init(argc, argv);
    g_we_initialized = true;
  }
  // Library calls report errors as return codes that kron turns into exceptions.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_error_comm);
}

namespace {
std::vector<std::function<void()>>& finalize_hooks() {
  static std::vector<std::function<void()>> h;
  return h;
}
}  // namespace

void before_finalize(std::function<void()> f) { finalize_hooks().push_back(std::move(f)); }

Environment::~Environment() {
  auto& hooks = finalize_hooks();
  while (!hooks.empty()) {
    auto f = std::move(hooks.back());
    hooks.pop_back();
    f();
  }
  if (g_error_comm != MPI_COMM_NULL) MPI_Comm_free(&g_error_comm);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_we_initialized && !finalized) MPI_Finalize();
}

int rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}
int size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

bool all_ranks_failed(double timeout_s) {
  if (g_error_comm == MPI_COMM_NULL || size(g_error_comm) == 1) return true;
  int one = 1, count = 0;
  MPI_Request req;
  MPI_Iallreduce(&one, &count, 1, MPI_INT, MPI_SUM, g_error_comm, &req);
  const auto t0 = std::chrono::steady_clock::now();
  int done = 0;
  while (!done) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return count == size(g_error_comm);
}

bool all(bool ok, MPI_Comm comm) {
  int v = ok ? 1 : 0, r = 0;
  check(MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  return r == 1;
}
std::string broadcast(const std::string& s, MPI_Comm comm) {
  std::string r = s;
  int len = static_cast<int>(r.size());
  check(MPI_Bcast(&len, 1, MPI_INT, 0, comm), "MPI_Bcast");
  r.resize(static_cast<std::size_t>(len));
  check(MPI_Bcast(r.data(), len, MPI_CHAR, 0, comm), "MPI_Bcast");
  return r;
}
double max(double v, MPI_Comm comm) {
  double r = 0;
  check(MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
  return r;
}
double min(double v, MPI_Comm comm) {
  double r = 0;
  check(MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MIN, comm), "MPI_Allreduce");
  return r;
}
double sum(double v, MPI_Comm comm) {
  double r = 0;
  check(MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
  return r;
}
long long sum(long long v, MPI_Comm comm) {
  long long r = 0;
  check(MPI_Allreduce(&v, &r, 1, MPI_LONG_LONG, MPI_SUM, comm), "MPI_Allreduce");
  return r;
}

Comm& Comm::operator=(Comm&& o) noexcept {
  if (this != &o) {
    this->~Comm();
    c_ = o.c_;
    o.c_ = MPI_COMM_NULL;
  }
  return *this;
}
Comm::~Comm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && c_ != MPI_COMM_NULL && c_ != MPI_COMM_WORLD && c_ != MPI_COMM_SELF)
    MPI_Comm_free(&c_);
  c_ = MPI_COMM_NULL;
}

Type& Type::operator=(Type&& o) noexcept {
  if (this != &o) {
    this->~Type();
    t_ = o.t_;
    o.t_ = MPI_DATATYPE_NULL;
  }
  return *this;
}
Type::~Type() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && t_ != MPI_DATATYPE_NULL) MPI_Type_free(&t_);
  t_ = MPI_DATATYPE_NULL;
}

}  // namespace kron::core::mpi

namespace kron::core {

void alltoallv_device(const void* sbuf, const int* scount, const int* sdispl, void* rbuf, const int* rcount, const int* rdispl,
                      MPI_Datatype elem, std::size_t sbytes, std::size_t rbytes, MPI_Comm comm, PinnedBytes& hsend, PinnedBytes& hrecv,
                      const char* what) {
  stream_synchronize();
  if (mpi_cuda_aware()) {
    mpi::check(MPI_Alltoallv(sbuf, scount, sdispl, elem, rbuf, rcount, rdispl, elem, comm), what);
    return;
  }
  hsend.reserve(sbytes);
  hrecv.reserve(rbytes);
  if (sbytes) copy_to_host_async(hsend.data(), sbuf, sbytes);
  stream_synchronize();
  mpi::check(MPI_Alltoallv(hsend.data(), scount, sdispl, elem, hrecv.data(), rcount, rdispl, elem, comm), what);
  if (rbytes) copy_to_device_async(rbuf, hrecv.data(), rbytes);
  // The pinned buffer is read by that copy: finish it before the buffer can be reused or freed.
  stream_synchronize();
}

}  // namespace kron::core
