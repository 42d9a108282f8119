#include "kron/layout/transpose.hpp"

#include <climits>

#include "kron/core/timer.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"

namespace kron::layout {

const char* to_string(TransposeMethod m) { return m == TransposeMethod::Alltoallv ? "alltoallv" : "alltoallw"; }

TransposeMethod parse_transpose_method(const std::string& s) {
  if (s == "alltoallv") return TransposeMethod::Alltoallv;
  if (s == "alltoallw") return TransposeMethod::Alltoallw;
  throw Error("unknown transpose method '" + s + "'", {}, "use alltoallv or alltoallw");
}

namespace {

// Derived datatype visiting box `b` of a field laid out as L in message order (x fastest,
// then y, z, component), so sender and receiver agree element by element whatever their
// own storage order is.
MPI_Datatype box_type(const Box& b, const Box& local, const LocalLayout& L, MPI_Datatype elem, std::size_t esize) {
  MPI_Datatype t = elem, next;
  bool owned = false;
  for (int a = 0; a < 3; ++a) {
    core::mpi::check(MPI_Type_create_hvector(static_cast<int>(b.n[a]), 1, static_cast<MPI_Aint>(L.stride[a] * esize), t, &next), "MPI_Type_create_hvector");
    if (owned) MPI_Type_free(&t);
    t = next;
    owned = true;
  }
  core::mpi::check(MPI_Type_create_hvector(L.ncomp, 1, static_cast<MPI_Aint>(L.cstride * esize), t, &next), "MPI_Type_create_hvector");
  MPI_Type_free(&t);
  t = next;
  long off = L.offset;
  for (int a = 0; a < 3; ++a) off += (b.lo[a] - local.lo[a]) * L.stride[a];
  int one = 1;
  MPI_Aint disp = static_cast<MPI_Aint>(off * esize);
  core::mpi::check(MPI_Type_create_hindexed(1, &one, &disp, t, &next), "MPI_Type_create_hindexed");
  MPI_Type_free(&t);
  core::mpi::check(MPI_Type_commit(&next), "MPI_Type_commit");
  return next;
}

int checked_int(long v, const char* what) {
  if (v > INT_MAX) throw Error(std::string("transpose message too large for MPI int counts (") + what + ")", {}, "use more ranks");
  return static_cast<int>(v);
}

}  // namespace

template <class T>
struct Transpose<T>::Impl {
  Pencil from, to;
  TransposeMethod method;
  LocalLayout lin, lout;
  int ncomp;
  MPI_Comm comm = MPI_COMM_NULL;
  int me = 0, np = 1;
  std::vector<Box> sbox, rbox;  // per peer
  std::vector<int> scount, sdispl, rcount, rdispl;  // elements (alltoallv)
  std::vector<core::mpi::Type> stype, rtype;        // alltoallw
  std::vector<int> wcount_s, wcount_r, wzero;
  std::vector<MPI_Datatype> wst, wrt;
  long send_total = 0, recv_total = 0;
  mutable TransposeWork own_work;

  // Offset of box b's element (lo, component c) in a local array of layout L holding `local`.
  static long offset(const LocalLayout& L, const Box& local, const Box& b, int c = 0) {
    long off = L.offset + c * L.cstride;
    for (int a = 0; a < 3; ++a) off += (b.lo[a] - local.lo[a]) * L.stride[a];
    return off;
  }
  // Packs the parts for other ranks into w.send (message order: x fastest, then components) and
  // starts their exchange into w.recv; returns the receive buffer.
  T* pack_and_start(const T* in, TransposeWork& w, MPI_Request* req) const {
    w.send.resize(static_cast<std::size_t>(send_total) * sizeof(T));
    w.recv.resize(static_cast<std::size_t>(recv_total) * sizeof(T));
    T* sbuf = reinterpret_cast<T*>(w.send.data());
    T* rbuf = reinterpret_cast<T*>(w.recv.data());
    for (int j = 0; j < np; ++j) {
      if (j == me || scount[j] == 0) continue;
      const Box& b = sbox[j];
      for (int c = 0; c < ncomp; ++c)
        copy_box(in + offset(lin, from.box(), b, c), lin.stride, sbuf + sdispl[j] + c * b.volume(), dense_strides(b.n), b.n);
    }
    const MPI_Datatype elem = core::mpi::datatype<T>();
    core::mpi::check(MPI_Ialltoallv(sbuf, scount.data(), sdispl.data(), elem, rbuf, rcount.data(), rdispl.data(), elem, comm, req),
                     "MPI_Ialltoallv");
    return rbuf;
  }

  // The device path: pack on the device, exchange (device buffers or pinned staging), unpack.
  void execute_device(const T* in, T* out, TransposeWork& w) const {
    const Box& fb = from.box();
    const Box& tb = to.box();
    const Box& self = sbox[me];
    for (int c = 0; c < ncomp; ++c)
      copy_box_device(in + offset(lin, fb, self, c), lin.stride, out + offset(lout, tb, self, c), lout.stride, self.n);
    if (np == 1) return;
    const std::size_t sbytes = static_cast<std::size_t>(send_total) * sizeof(T), rbytes = static_cast<std::size_t>(recv_total) * sizeof(T);
    if (w.dsend.bytes() < sbytes) w.dsend = core::DeviceBytes(sbytes);
    if (w.drecv.bytes() < rbytes) w.drecv = core::DeviceBytes(rbytes);
    T* sbuf = static_cast<T*>(w.dsend.data());
    T* rbuf = static_cast<T*>(w.drecv.data());
    for (int j = 0; j < np; ++j) {
      if (j == me || scount[j] == 0) continue;
      const Box& b = sbox[j];
      for (int c = 0; c < ncomp; ++c)
        copy_box_device(in + offset(lin, fb, b, c), lin.stride, sbuf + sdispl[j] + c * b.volume(), dense_strides(b.n), b.n);
    }
    core::alltoallv_device(sbuf, scount.data(), sdispl.data(), rbuf, rcount.data(), rdispl.data(), core::mpi::datatype<T>(), sbytes, rbytes,
                           comm, w.hsend, w.hrecv, "MPI_Alltoallv (transpose of device data)");
    for (int j = 0; j < np; ++j) {
      if (j == me || rcount[j] == 0) continue;
      const Box& b = rbox[j];
      for (int c = 0; c < ncomp; ++c)
        copy_box_device(rbuf + rdispl[j] + c * b.volume(), dense_strides(b.n), out + offset(lout, tb, b, c), lout.stride, b.n);
    }
  }
};

template <class T>
Transpose<T>::Transpose(const Pencil& from, const Pencil& to, int ncomp, TransposeMethod method,
                        std::array<int, 3> halo_from, std::array<int, 3> halo_to)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (from.global() != to.global() || from.grid_ptr() != to.grid_ptr())
    throw Error("transpose between pencils of different arrays or process grids");
  m.from = from;
  m.to = to;
  m.method = method;
  m.ncomp = ncomp;
  m.lin = local_layout(from, ncomp, halo_from);
  m.lout = local_layout(to, ncomp, halo_to);
  const ProcessGrid& g = from.grid();
  const int a = from.axis(), b = to.axis();
  if ((a == 0 && b == 1) || (a == 1 && b == 0)) m.comm = g.comm1();
  else if ((a == 1 && b == 2) || (a == 2 && b == 1)) m.comm = g.comm2();
  else m.comm = g.comm();
  m.me = core::mpi::rank(m.comm);
  m.np = core::mpi::size(m.comm);
  auto peer_coords = [&](int j) -> std::array<int, 2> {
    if (m.comm == g.comm1()) return {j, g.c2()};
    if (m.comm == g.comm2()) return {g.c1(), j};
    return g.coords_of(j);
  };
  m.sbox.resize(m.np);
  m.rbox.resize(m.np);
  m.scount.assign(m.np, 0);
  m.sdispl.assign(m.np, 0);
  m.rcount.assign(m.np, 0);
  m.rdispl.assign(m.np, 0);
  long soff = 0, roff = 0;
  for (int j = 0; j < m.np; ++j) {
    const auto pc = peer_coords(j);
    m.sbox[j] = intersect(from.box(), to.box_of(pc[0], pc[1]));
    m.rbox[j] = intersect(from.box_of(pc[0], pc[1]), to.box());
    if (j == m.me) continue;  // the local part is copied directly, never sent
    m.scount[j] = checked_int(m.sbox[j].volume() * ncomp, "send count");
    m.rcount[j] = checked_int(m.rbox[j].volume() * ncomp, "receive count");
    m.sdispl[j] = checked_int(soff, "send offset");
    m.rdispl[j] = checked_int(roff, "receive offset");
    soff += m.scount[j];
    roff += m.rcount[j];
  }
  m.send_total = soff;
  m.recv_total = roff;
  if (method == TransposeMethod::Alltoallw && m.np > 1) {
    const MPI_Datatype elem = core::mpi::datatype<T>();
    m.wcount_s.assign(m.np, 0);
    m.wcount_r.assign(m.np, 0);
    m.wzero.assign(m.np, 0);
    m.wst.assign(m.np, MPI_BYTE);
    m.wrt.assign(m.np, MPI_BYTE);
    for (int j = 0; j < m.np; ++j) {
      if (j == m.me) continue;
      if (!m.sbox[j].empty()) {
        m.stype.emplace_back(box_type(m.sbox[j], from.box(), m.lin, elem, sizeof(T)));
        m.wst[j] = m.stype.back().get();
        m.wcount_s[j] = 1;
      }
      if (!m.rbox[j].empty()) {
        m.rtype.emplace_back(box_type(m.rbox[j], to.box(), m.lout, elem, sizeof(T)));
        m.wrt[j] = m.rtype.back().get();
        m.wcount_r[j] = 1;
      }
    }
  }
}

template <class T>
Transpose<T>::~Transpose() = default;
template <class T>
Transpose<T>::Transpose(Transpose&&) noexcept = default;
template <class T>
Transpose<T>& Transpose<T>::operator=(Transpose&&) noexcept = default;

template <class T>
const Pencil& Transpose<T>::from() const { return impl_->from; }
template <class T>
const Pencil& Transpose<T>::to() const { return impl_->to; }
template <class T>
TransposeMethod Transpose<T>::method() const { return impl_->method; }
template <class T>
std::size_t Transpose<T>::bytes_moved() const { return static_cast<std::size_t>(impl_->send_total) * sizeof(T); }

template <class T>
void Transpose<T>::execute(const Field<T>& in, Field<T>& out, TransposeWork* work) const {
  const Impl& m = *impl_;
  if (in.space() != out.space())
    throw Error("transpose: one field in host memory, the other in device memory", {}, "copy one of them with to_device or to_host");
  if (in.pencil() != m.from || out.pencil() != m.to || in.components() != m.ncomp || out.components() != m.ncomp ||
      in.layout().offset != m.lin.offset || out.layout().offset != m.lout.offset)
    throw Error("transpose: fields do not match the plan (" + in.pencil().describe() + " -> " + out.pencil().describe() + ")");
  if (in.on_device()) execute_device(in.data(), out.data(), work);
  else execute(in.data(), out.data(), work);
}

template <class T>
void Transpose<T>::execute_device(const T* in, T* out, TransposeWork* work) const {
  core::ScopedTimer timer("transpose");
  impl_->execute_device(in, out, work ? *work : impl_->own_work);
}

template <class T>
void Transpose<T>::execute(const T* in, T* out, TransposeWork* work) const {
  const Impl& m = *impl_;
  core::ScopedTimer timer("transpose");
  const Box& fb = m.from.box();
  const Box& tb = m.to.box();
  auto self_copy = [&] {
    const Box& b = m.sbox[m.me];
    if (b.empty()) return;  // nothing of its own (in/out may then be null: no pointer arithmetic on them)
    for (int c = 0; c < m.ncomp; ++c)
      copy_box(in + Impl::offset(m.lin, fb, b, c), m.lin.stride, out + Impl::offset(m.lout, tb, b, c), m.lout.stride, b.n);
  };
  if (m.np == 1) {
    self_copy();
    return;
  }
  if (m.method == TransposeMethod::Alltoallw) {
    // Blocking: OpenMPI 4.1's MPI_Ialltoallw crashes retaining derived datatypes.
    core::mpi::check(MPI_Alltoallw(in, m.wcount_s.data(), m.wzero.data(), m.wst.data(), out, m.wcount_r.data(),
                                   m.wzero.data(), m.wrt.data(), m.comm), "MPI_Alltoallw");
    self_copy();
    return;
  }
  MPI_Request req;
  const T* rbuf = m.pack_and_start(in, work ? *work : m.own_work, &req);
  self_copy();
  core::mpi::check(MPI_Wait(&req, MPI_STATUS_IGNORE), "MPI_Wait");
  for (int j = 0; j < m.np; ++j) {
    if (j == m.me || m.rcount[j] == 0) continue;
    const Box& b = m.rbox[j];
    for (int c = 0; c < m.ncomp; ++c)
      copy_box(rbuf + m.rdispl[j] + c * b.volume(), dense_strides(b.n), out + Impl::offset(m.lout, tb, b, c), m.lout.stride, b.n);
  }
}

template <class T>
bool Transpose<T>::supports_exchange() const {
  return impl_->method == TransposeMethod::Alltoallv || impl_->np == 1;
}

template <class T>
std::vector<typename Transpose<T>::Piece> Transpose<T>::exchange(const T* in, TransposeWork& w) const {
  const Impl& m = *impl_;
  if (!supports_exchange()) throw Error("internal: Transpose::exchange needs an alltoallv plan");
  core::ScopedTimer timer("transpose");
  std::vector<Piece> pieces;
  const Box& self = m.sbox[m.me];
  if (!self.empty()) pieces.push_back({self, in + Impl::offset(m.lin, m.from.box(), self), m.lin.stride, m.lin.cstride});
  if (m.np == 1) return pieces;
  MPI_Request req;
  const T* rbuf = m.pack_and_start(in, w, &req);
  core::mpi::check(MPI_Wait(&req, MPI_STATUS_IGNORE), "MPI_Wait");
  for (int j = 0; j < m.np; ++j) {
    if (j == m.me || m.rcount[j] == 0) continue;
    const Box& b = m.rbox[j];
    pieces.push_back({b, rbuf + m.rdispl[j], dense_strides(b.n), b.volume()});
  }
  return pieces;
}

template class Transpose<float>;
template class Transpose<double>;
template class Transpose<std::complex<double>>;

}  // namespace kron::layout
