#pragma once
#include <mpi.h>

#include <cstddef>
#include <string>
#include <utility>

namespace kron::core {

/// True when this build has CUDA kernels (KRON_ENABLE_CUDA found nvcc).
bool cuda_enabled();
/// Number of visible CUDA devices (0 in a CPU build or on a machine without a GPU).
int cuda_device_count();
/// One line describing the device side of this build, for --version and run headers.
std::string device_summary();

/// Collective over `comm`: makes this rank use GPU (node-local rank) mod (visible GPUs), so
/// ranks of one node spread over its GPUs; returns that device's index. Throws kron::Error when
/// the build has no CUDA or no GPU is visible.
int select_device(MPI_Comm comm);

/// The current GPU's index (cudaGetDevice), and its free and total memory in bytes
/// (cudaMemGetInfo); -1 and zeros in a CPU build or where no GPU is visible.
int current_device();
struct DeviceMemory {
  double free = 0, total = 0;
};
DeviceMemory device_memory();

/// Bytes in the memory of the current GPU (plain cudaMalloc, never managed memory); movable
/// only. In a CPU build constructing one with n > 0 throws kron::Error.
class DeviceBytes {
 public:
  DeviceBytes() = default;
  explicit DeviceBytes(std::size_t bytes);
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  DeviceBytes(DeviceBytes&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBytes& operator=(DeviceBytes&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~DeviceBytes() { release(); }
  void* data() { return p_; }
  const void* data() const { return p_; }
  std::size_t bytes() const { return n_; }

 private:
  void release() noexcept;
  void* p_ = nullptr;
  std::size_t n_ = 0;
};

/// n elements of T in device memory (uninitialised).
template <class T>
class DeviceBuffer {
 public:
  using value_type = T;
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) : bytes_(n * sizeof(T)), n_(n) {}
  T* data() { return static_cast<T*>(bytes_.data()); }
  const T* data() const { return static_cast<const T*>(bytes_.data()); }
  std::size_t size() const { return n_; }

 private:
  DeviceBytes bytes_;
  std::size_t n_ = 0;
};

/// Page-locked host memory (cudaMallocHost) for staging MPI messages of device data; movable only.
class PinnedBytes {
 public:
  PinnedBytes() = default;
  explicit PinnedBytes(std::size_t bytes);
  PinnedBytes(const PinnedBytes&) = delete;
  PinnedBytes& operator=(const PinnedBytes&) = delete;
  PinnedBytes(PinnedBytes&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBytes& operator=(PinnedBytes&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~PinnedBytes() { release(); }
  void* data() { return p_; }
  std::size_t bytes() const { return n_; }
  /// Grows (never shrinks) to at least `bytes`; contents are not kept.
  void reserve(std::size_t bytes) {
    if (bytes > n_) *this = PinnedBytes(bytes);
  }

 private:
  void release() noexcept;
  void* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Whether the MPI library takes device pointers (OpenMPI's MPIX_Query_cuda_support at run time;
/// KRON_MPI_CUDA_AWARE=0 forces staging through pinned host memory). False in a CPU build.
bool mpi_cuda_aware();
/// How device data travel through MPI in this run, for run headers.
std::string mpi_device_path();

/// Explicit, synchronous copies between host and device memory; errors throw kron::Error.
void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes);
void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes);
/// Device-to-device copy of `bytes` (timed by kron-bench as the bandwidth floor).
void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes);
/// Every byte of device memory set to `value` (tests poison outputs with it).
void fill_device_bytes(void* device_dst, int value, std::size_t bytes);
/// Waits for the device's work to finish.
void device_synchronize();
/// Copies between host and device memory ordered on the rank's stream (asynchronous for pinned
/// host memory; call stream_synchronize before the host reads or rewrites it).
void copy_to_device_async(void* device_dst, const void* host_src, std::size_t bytes);
void copy_to_host_async(void* host_dst, const void* device_src, std::size_t bytes);
/// Waits for the work queued on the rank's stream.
void stream_synchronize();

/// MPI_Alltoallv of device buffers (counts and displacements in elements of `elem`, `sbytes` and
/// `rbytes` the extents of the two buffers): waits for the stream (the packing kernels), then
/// hands the device buffers to MPI where it is CUDA-aware, or stages them through the pinned
/// buffers `hsend`/`hrecv` (grown as needed) otherwise. On return the received data are in
/// `rbuf` or queued to it on the rank's stream. `what` names the exchange in errors.
void alltoallv_device(const void* sbuf, const int* scount, const int* sdispl, void* rbuf, const int* rcount, const int* rdispl,
                      MPI_Datatype elem, std::size_t sbytes, std::size_t rbytes, MPI_Comm comm, PinnedBytes& hsend, PinnedBytes& hrecv,
                      const char* what);

}  // namespace kron::core
