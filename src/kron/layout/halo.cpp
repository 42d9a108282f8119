#include "kron/layout/halo.hpp"

#include <vector>

#include "kron/core/device.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"

namespace kron::layout {

namespace {
// A run of consecutive ghost layers of one rank filled from one owner: global layers
// g0 .. g0+len-1 (in the owner's interior) go to local layer positions p0 .. p0+len-1.
struct Run {
  int owner;   // rank in the axis communicator
  int target;  // rank in the axis communicator
  long g0, len, p0;
};
}  // namespace

template <class T>
struct HaloExchange<T>::Impl {
  Pencil pencil;
  std::array<int, 3> width{};
  std::array<bool, 3> periodic{};
  int ncomp = 1;
  struct AxisPlan {
    MPI_Comm comm = MPI_COMM_SELF;
    int me = 0, np = 1;
    std::vector<Run> sends, recvs;  // runs where I am owner / target, in a canonical order
    std::vector<int> scount, sdispl, rcount, rdispl;
    long lo_me = 0;                   // my global offset along the axis
    std::vector<long> offsets;        // global offset of every rank along the axis
  };
  std::array<AxisPlan, 3> axes;
  // Message buffers kept between calls: megabyte-sized vectors allocated per call come from
  // fresh mmap'd pages, and their page faults cost more than the exchange itself.
  mutable std::vector<T> sbuf, rbuf;
  // Device fields: messages packed in device memory, pinned host copies where MPI is not
  // CUDA-aware.
  mutable core::DeviceBytes dsend, drecv;
  mutable core::PinnedBytes hsend, hrecv;
};

template <class T>
HaloExchange<T>::HaloExchange(const Pencil& pencil, std::array<int, 3> width, std::array<bool, 3> periodic, int ncomp)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.pencil = pencil;
  m.width = width;
  m.periodic = periodic;
  m.ncomp = ncomp;
  const ProcessGrid& g = pencil.grid();
  for (int a = 0; a < 3; ++a) {
    auto& ap = m.axes[a];
    const long N = pencil.global()[a];
    const int w = width[a];
    if (w < 0) throw Error("halo width must be >= 0");
    if (periodic[a] && w > N)
      throw Error("periodic halo of width " + std::to_string(w) + " exceeds the " + std::to_string(N) + " points of axis " + std::to_string(a));
    const int parts = pencil.splits(a);
    int mycoord = 0;
    if (parts > 1) {
      const bool first = a == pencil.order()[1];
      ap.comm = first ? g.comm1() : g.comm2();
      mycoord = first ? g.c1() : g.c2();
    }
    ap.me = mycoord;
    ap.np = parts;
    for (int r = 0; r < parts; ++r) ap.offsets.push_back(block_offset(N, parts, r));
    ap.lo_me = ap.offsets[mycoord];
    if (w == 0) continue;
    // Every rank derives all ranks' runs in the same order, so sends and receives match.
    std::vector<Run> all;
    for (int q = 0; q < parts; ++q) {
      const long nq = block_size(N, parts, q), lq = ap.offsets[q];
      if (nq == 0) continue;
      auto add_side = [&](long p_begin, long p_end) {
        Run cur{-1, q, 0, 0, 0};
        for (long p = p_begin; p < p_end; ++p) {
          long gi = lq + p;
          if (gi < 0 || gi >= N) {
            if (!periodic[a]) { if (cur.len) { all.push_back(cur); cur.len = 0; } continue; }
            gi = ((gi % N) + N) % N;
          }
          const int owner = block_owner(N, parts, gi);
          if (cur.len > 0 && owner == cur.owner && gi == cur.g0 + cur.len) {
            ++cur.len;
          } else {
            if (cur.len) all.push_back(cur);
            cur = Run{owner, q, gi, 1, p};
          }
        }
        if (cur.len) all.push_back(cur);
      };
      add_side(-w, 0);
      add_side(nq, nq + w);
    }
    ap.scount.assign(parts, 0);
    ap.rcount.assign(parts, 0);
    ap.sdispl.assign(parts, 0);
    ap.rdispl.assign(parts, 0);
    for (const Run& r : all) {
      if (r.owner == mycoord) ap.sends.push_back(r);
      if (r.target == mycoord) ap.recvs.push_back(r);
    }
  }
}

template <class T>
HaloExchange<T>::~HaloExchange() = default;
template <class T>
HaloExchange<T>::HaloExchange(HaloExchange&&) noexcept = default;
template <class T>
HaloExchange<T>& HaloExchange<T>::operator=(HaloExchange&&) noexcept = default;

template <class T>
void HaloExchange<T>::execute(Field<T>& f) const {
  const Impl& m = *impl_;
  // Device fields: the same runs, packed and unpacked by device box copies.
  const bool dev = f.on_device();
  auto copy = [dev](const T* src, const std::array<long, 3>& ss, T* dst, const std::array<long, 3>& ds, const std::array<long, 3>& e) {
    if (dev) copy_box_device(src, ss, dst, ds, e);
    else copy_box(src, ss, dst, ds, e);
  };
  if (f.pencil() != m.pencil || f.components() != m.ncomp)
    throw Error("halo exchange: field does not match the plan");
  for (int a = 0; a < 3; ++a)
    if (f.halo()[a] < m.width[a])
      throw Error("halo exchange: field halo " + std::to_string(f.halo()[a]) + " along axis " + std::to_string(a) +
                  " is narrower than the plan's " + std::to_string(m.width[a]));
  core::ScopedTimer timer("halo");
  const LocalLayout& L = f.layout();
  const auto& n = f.extent();
  for (int a = 0; a < 3; ++a) {
    const auto& ap = m.axes[a];
    if (m.width[a] == 0) continue;
    // Transverse extent: axes already exchanged include their ghosts (fills edges/corners).
    std::array<long, 3> ext{}, start{};
    for (int b = 0; b < 3; ++b) {
      if (b == a) continue;
      const long h = b < a ? m.width[b] : 0;
      ext[b] = n[b] == 0 ? 0 : n[b] + 2 * h;
      start[b] = -h;
    }
    long slab = 1;
    for (int b = 0; b < 3; ++b) if (b != a) slab *= ext[b];
    auto ptr = [&](long local_layer, int c) {
      std::array<long, 3> idx = start;
      idx[a] = local_layer;
      return f.origin(c) + idx[0] * L.stride[0] + idx[1] * L.stride[1] + idx[2] * L.stride[2];
    };
    auto run_ext = [&](long len) { std::array<long, 3> e = ext; e[a] = len; return e; };

    std::vector<int> scount(ap.np, 0), rcount(ap.np, 0), sdispl(ap.np, 0), rdispl(ap.np, 0);
    for (const Run& r : ap.sends) if (r.target != ap.me) scount[r.target] += static_cast<int>(r.len * slab * m.ncomp);
    for (const Run& r : ap.recvs) if (r.owner != ap.me) rcount[r.owner] += static_cast<int>(r.len * slab * m.ncomp);
    int st = 0, rt = 0;
    for (int q = 0; q < ap.np; ++q) { sdispl[q] = st; st += scount[q]; rdispl[q] = rt; rt += rcount[q]; }
    T* sbuf = nullptr;
    T* rbuf = nullptr;
    if (dev) {
      if (m.dsend.bytes() < sizeof(T) * std::size_t(st)) m.dsend = core::DeviceBytes(sizeof(T) * std::size_t(st));
      if (m.drecv.bytes() < sizeof(T) * std::size_t(rt)) m.drecv = core::DeviceBytes(sizeof(T) * std::size_t(rt));
      sbuf = static_cast<T*>(m.dsend.data());
      rbuf = static_cast<T*>(m.drecv.data());
    } else {
      if (m.sbuf.size() < std::size_t(st)) m.sbuf.resize(std::size_t(st));
      if (m.rbuf.size() < std::size_t(rt)) m.rbuf.resize(std::size_t(rt));
      sbuf = m.sbuf.data();
      rbuf = m.rbuf.data();
    }
    std::vector<int> spos(sdispl), rpos(rdispl);

    for (const Run& r : ap.sends) {
      const long layer = r.g0 - ap.lo_me;
      const auto e = run_ext(r.len);
      if (r.target == ap.me) {
        // Periodic wrap onto myself: a local copy.
        for (int c = 0; c < m.ncomp; ++c) copy(static_cast<const T*>(ptr(layer, c)), L.stride, ptr(r.p0, c), L.stride, e);
        continue;
      }
      for (int c = 0; c < m.ncomp; ++c) {
        copy(static_cast<const T*>(ptr(layer, c)), L.stride, sbuf + spos[r.target], dense_strides(e), e);
        spos[r.target] += static_cast<int>(e[0] * e[1] * e[2]);
      }
    }
    if (ap.np > 1) {
      const MPI_Datatype elem = core::mpi::datatype<T>();
      if (dev)
        core::alltoallv_device(sbuf, scount.data(), sdispl.data(), rbuf, rcount.data(), rdispl.data(), elem, sizeof(T) * std::size_t(st),
                               sizeof(T) * std::size_t(rt), ap.comm, m.hsend, m.hrecv, "MPI_Alltoallv (halo of device data)");
      else
        core::mpi::check(MPI_Alltoallv(sbuf, scount.data(), sdispl.data(), elem, rbuf, rcount.data(), rdispl.data(), elem, ap.comm),
                         "MPI_Alltoallv (halo)");
    }
    for (const Run& r : ap.recvs) {
      if (r.owner == ap.me) continue;
      const auto e = run_ext(r.len);
      for (int c = 0; c < m.ncomp; ++c) {
        copy(static_cast<const T*>(rbuf + rpos[r.owner]), dense_strides(e), ptr(r.p0, c), L.stride, e);
        rpos[r.owner] += static_cast<int>(e[0] * e[1] * e[2]);
      }
    }
  }
}

template <class T>
std::size_t HaloExchange<T>::buffer_bytes() const {
  return sizeof(T) * (impl_->sbuf.capacity() + impl_->rbuf.capacity()) + impl_->dsend.bytes() + impl_->drecv.bytes();
}

template class HaloExchange<float>;
template class HaloExchange<double>;
template class HaloExchange<std::complex<double>>;

}  // namespace kron::layout
