#include "kron/layout/hdf5_io.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdlib>

#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/box_copy_device.hpp"

namespace kron::layout {

namespace {
#ifdef OPEN_MPI
// OpenMPI 4.1's OMPIO (its default MPI-IO) loses data in collective writes whose ranks' regions
// interleave with small gaps (a 2D field split over 4 ranks, rows of a few hundred bytes): its
// POSIX backend's write "data sieving" (read, modify, write back a covering range) races between
// ranks, and part of a dataset reads back as zeros (open-mpi/ompi#12718; tests/capi/test_capi.c
// reads every field written back and caught it). Turning data sieving off avoids it; the
// variable is read in MPI_Init, so it is set when this library loads, before any MPI_Init of
// kron's programs or of a code linking kron, unless the user has set it.
[[maybe_unused]] const bool ompio_sieving_off = [] { return setenv("OMPI_MCA_fbtl_posix_write_datasieving", "0", 0) == 0; }();
#endif


// Owns one HDF5 identifier and closes it with the right function.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer c) : id_(id), close_(c) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
    return *this;
  }
  ~Id() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

template <class T>
struct H5Type;
template <>
struct H5Type<double> {
  static Id make() { return Id(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose); }
};
template <>
struct H5Type<float> {
  static Id make() { return Id(H5Tcopy(H5T_NATIVE_FLOAT), H5Tclose); }
};
template <>
struct H5Type<std::complex<double>> {
  static Id make() {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(std::complex<double>));
    H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "i", sizeof(double), H5T_NATIVE_DOUBLE);
    return Id(t, H5Tclose);
  }
};

}  // namespace

struct H5File::Impl {
  std::string path;
  MPI_Comm comm = MPI_COMM_NULL;
  Id file;
  Id xfer;  // collective transfer property list

  [[noreturn]] void fail(const std::string& what, const std::string& hint = {}) const {
    throw Error("HDF5: " + what, {path, 0, {}}, hint);
  }
  void check(herr_t rc, const std::string& what) const {
    if (rc < 0) fail(what);
  }
  Id checked(hid_t id, Id::Closer c, const std::string& what) const {
    if (id < 0) fail(what);
    return Id(id, c);
  }
  // Selects the local box `b` of a `rank`-dimensional dataset in `fspace` (file order: z, y, x
  // with absent axes dropped) and returns the matching contiguous memory space. Empty boxes
  // select nothing, so every rank still joins the collective transfer.
  Id select_box(hid_t fspace, const Box& b, int rank) const {
    std::vector<hsize_t> start, count;
    for (int a = rank - 1; a >= 0; --a) {
      start.push_back(static_cast<hsize_t>(b.lo[a]));
      count.push_back(static_cast<hsize_t>(b.n[a]));
    }
    const hsize_t nloc = static_cast<hsize_t>(b.volume());
    Id mspace = checked(H5Screate_simple(1, &nloc, nullptr), H5Sclose, "H5Screate_simple");
    if (b.empty()) {
      H5Sselect_none(fspace);
      H5Sselect_none(mspace);
    } else {
      check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "H5Sselect_hyperslab");
    }
    return mspace;
  }
  // Creates the groups on the way to `dataset` ("/a/b/name").
  Id create_dataset(const std::string& dataset, hid_t type, hid_t space, hid_t dcpl) const {
    Id lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "H5Pcreate");
    H5Pset_create_intermediate_group(lcpl, 1);
    if (H5Lexists(file, dataset.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, dataset.c_str(), H5P_DEFAULT);
    return checked(H5Dcreate2(file, dataset.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT), H5Dclose,
                   "cannot create dataset " + dataset);
  }
  bool exists(const std::string& dataset) const {
    // Walk the path: H5Lexists fails on a missing intermediate group.
    std::string part;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dataset.find('/', pos + 1);
      part = dataset.substr(0, pos);
      if (part.empty() || part == "/") continue;
      if (H5Lexists(file, part.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    return true;
  }
  void write_attr(const std::string& name, hid_t type, const void* data) const {
    if (H5Aexists(file, name.c_str()) > 0) H5Adelete(file, name.c_str());
    Id space(H5Screate(H5S_SCALAR), H5Sclose);
    Id attr = checked(H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                      "cannot create attribute " + name);
    check(H5Awrite(attr, type, data), "writing attribute " + name);
  }
  Id open_dataset(const std::string& dataset) const {
    if (!exists(dataset)) fail("no dataset '" + dataset + "'", "list the file's contents with h5ls -r");
    return checked(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose, "cannot open dataset " + dataset);
  }
};

H5File::H5File(const std::string& path, Mode mode, MPI_Comm comm) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.comm = comm;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // kron reports HDF5 failures itself
  Id fapl = m.checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate");
  m.check(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "H5Pset_fapl_mpio");
  // 1.8+ format: dense attribute storage, so the deck text fits whatever its length.
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  hid_t f;
  if (mode == Mode::Create) {
    f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) m.fail("cannot create file", "check that the directory exists and is writable");
  } else {
    f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    if (f < 0) m.fail("cannot open file for reading", "check the path; is it an HDF5 file?");
  }
  m.file = Id(f, H5Fclose);
  m.xfer = m.checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "H5Pcreate");
  m.check(H5Pset_dxpl_mpio(m.xfer, H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
}

H5File::~H5File() = default;
void H5File::close() {
  impl_->xfer.reset();
  impl_->file.reset();
}
const std::string& H5File::path() const { return impl_->path; }

namespace {
// File-order (slowest first) dims of a field's dataset, from its global x, y, z extents.
std::vector<hsize_t> file_dims(const std::array<long, 3>& g, int dim) {
  std::vector<hsize_t> d;
  for (int a = dim - 1; a >= 0; --a) d.push_back(static_cast<hsize_t>(g[a]));
  return d;
}
}  // namespace

template <class T>
void H5File::write_field(const std::string& dataset, const Field<T>& f, int dim, int component, const H5WriteOptions& opt) {
  const Impl& m = *impl_;
  core::ScopedTimer timer("hdf5.write");
  const Pencil& p = f.pencil();
  const auto& g = p.global();
  if (dim < 1 || dim > 3) throw Error("write_field: dim must be 1, 2 or 3");
  for (int a = dim; a < 3; ++a)
    if (g[a] != 1) throw Error("write_field: a " + std::to_string(dim) + "D dataset needs unit extents beyond axis " + std::to_string(dim - 1));
  const auto dims = file_dims(g, dim);
  Id type = H5Type<T>::make();
  Id fspace = m.checked(H5Screate_simple(dim, dims.data(), nullptr), H5Sclose, "H5Screate_simple");
  Id dcpl = m.checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate");
  const bool chunked = opt.compression > 0 || opt.chunk[0] > 0 || opt.chunk[1] > 0 || opt.chunk[2] > 0;
  if (chunked) {
    std::vector<hsize_t> chunk;
    for (int a = dim - 1; a >= 0; --a) {
      long c = opt.chunk[a] > 0 ? opt.chunk[a] : std::min<long>(g[a], 64);
      chunk.push_back(static_cast<hsize_t>(std::max(1L, std::min(c, g[a]))));
    }
    m.check(H5Pset_chunk(dcpl, dim, chunk.data()), "H5Pset_chunk");
    if (opt.compression > 0) {
      m.check(H5Pset_shuffle(dcpl), "H5Pset_shuffle");
      m.check(H5Pset_deflate(dcpl, static_cast<unsigned>(opt.compression)), "H5Pset_deflate");
    }
  }
  Id dset = m.create_dataset(dataset, type, fspace, dcpl);

  // Local box, reordered to file order (x fastest) when the pencil stores another axis first.
  const Box& b = p.box();
  // A device field is staged through the host: packed on the device, then copied over.
  std::vector<T> buf(static_cast<std::size_t>(b.volume()));
  if (f.on_device()) {
    core::DeviceBuffer<T> packed(buf.size());
    copy_box_device(f.origin(component), f.layout().stride, packed.data(), dense_strides(b.n), b.n);
    core::copy_to_host(buf.data(), packed.data(), buf.size() * sizeof(T));
  } else {
    copy_box(f.origin(component), f.layout().stride, buf.data(), dense_strides(b.n), b.n);
  }
  Id mspace = m.select_box(fspace, b, dim);
  m.check(H5Dwrite(dset, type, mspace, fspace, m.xfer, buf.data()), "writing dataset " + dataset);
}

template <class T>
void H5File::read_field(const std::string& dataset, Field<T>& f, int component) {
  const Impl& m = *impl_;
  core::ScopedTimer timer("hdf5.read");
  const Pencil& p = f.pencil();
  const auto& g = p.global();
  Id dset = m.open_dataset(dataset);
  Id fspace = m.checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  const int rank = H5Sget_simple_extent_ndims(fspace);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(fspace, dims.data(), nullptr);
  // Accept the stored rank with unit axes beyond it (a 2D dataset for an nz = 1 field).
  std::array<long, 3> stored{1, 1, 1};
  for (int i = 0; i < rank && i < 3; ++i) stored[rank - 1 - i] = static_cast<long>(dims[i]);
  if (rank < 1 || rank > 3 || stored != g) {
    std::string s;
    for (int i = 0; i < rank; ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
    throw Error("HDF5: dataset '" + dataset + "' has shape [" + s + "] but the grid is " + std::to_string(g[2]) + " x " +
                    std::to_string(g[1]) + " x " + std::to_string(g[0]) + " (nz x ny x nx)",
                {m.path, 0, {}}, "set grid.n to the dataset's shape (reversed: [nx, ny, nz])");
  }
  Id type = H5Type<T>::make();
  const Box& b = p.box();
  std::vector<T> buf(static_cast<std::size_t>(b.volume()));
  Id mspace = m.select_box(fspace, b, rank);
  m.check(H5Dread(dset, type, mspace, fspace, m.xfer, buf.data()), "reading dataset " + dataset + " (is its type right?)");
  if (f.on_device()) {  // staged through the host
    core::DeviceBuffer<T> packed(buf.size());
    core::copy_to_device(packed.data(), buf.data(), buf.size() * sizeof(T));
    copy_box_device(static_cast<const T*>(packed.data()), dense_strides(b.n), f.origin(component), f.layout().stride, b.n);
    core::stream_synchronize();  // before `packed` goes
  } else {
    copy_box(static_cast<const T*>(buf.data()), dense_strides(b.n), f.origin(component), f.layout().stride, b.n);
  }
}

void H5File::write_vector(const std::string& dataset, const std::vector<double>& v) {
  const Impl& m = *impl_;
  const hsize_t n = v.size();
  Id space = m.checked(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  Id dset = m.create_dataset(dataset, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT);
  // Every rank holds the same values; rank 0 writes them, the others select nothing.
  Id fspace = m.checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  Id mspace = m.checked(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  if (core::mpi::rank(m.comm) != 0) {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  m.check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, m.xfer, v.data()), "writing dataset " + dataset);
}

std::vector<double> H5File::read_vector(const std::string& dataset) {
  const Impl& m = *impl_;
  Id dset = m.open_dataset(dataset);
  Id space = m.checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<double> v(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  m.check(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, m.xfer, v.data()), "reading dataset " + dataset);
  return v;
}

void H5File::write_rows(const std::string& dataset, const std::vector<long>& shape, long row0, long rows, const double* data) {
  const Impl& m = *impl_;
  if (shape.empty() || row0 < 0 || rows < 0 || row0 + rows > shape[0])
    m.fail("rows " + std::to_string(row0) + " .. " + std::to_string(row0 + rows) + " do not fit dataset " + dataset);
  const int rank = static_cast<int>(shape.size());
  std::vector<hsize_t> dims(shape.begin(), shape.end()), start(dims.size(), 0), count = dims;
  start[0] = static_cast<hsize_t>(row0);
  count[0] = static_cast<hsize_t>(rows);
  Id space = m.checked(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose, "H5Screate_simple");
  Id dset = m.create_dataset(dataset, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT);
  Id fspace = m.checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  Id mspace = m.checked(H5Screate_simple(rank, count.data(), nullptr), H5Sclose, "H5Screate_simple");
  if (rows > 0) m.check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "H5Sselect_hyperslab");
  else {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  m.check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, m.xfer, data), "writing dataset " + dataset);
}

std::vector<double> H5File::read_rows(const std::string& dataset, long row0, long rows) {
  const Impl& m = *impl_;
  const std::vector<long> sh = shape(dataset);
  if (sh.empty() || row0 < 0 || rows < 0 || row0 + rows > sh[0])
    m.fail("dataset " + dataset + " has " + std::to_string(sh.empty() ? 0 : sh[0]) + " rows; rows " + std::to_string(row0) + " .. " +
           std::to_string(row0 + rows) + " were asked for");
  Id dset = m.open_dataset(dataset);
  Id fspace = m.checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  std::vector<hsize_t> start(sh.size(), 0), count(sh.begin(), sh.end());
  start[0] = static_cast<hsize_t>(row0);
  count[0] = static_cast<hsize_t>(rows);
  long per = 1;
  for (std::size_t i = 1; i < sh.size(); ++i) per *= sh[i];
  std::vector<double> v(static_cast<std::size_t>(rows * per));
  Id mspace = m.checked(H5Screate_simple(static_cast<int>(sh.size()), count.data(), nullptr), H5Sclose, "H5Screate_simple");
  if (rows > 0) m.check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "H5Sselect_hyperslab");
  else {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  m.check(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, m.xfer, v.data()), "reading dataset " + dataset);
  return v;
}

std::vector<long> H5File::shape(const std::string& dataset) {
  Id dset = impl_->open_dataset(dataset);
  Id space = impl_->checked(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<long>(dims.begin(), dims.end());
}

bool H5File::exists(const std::string& dataset) { return impl_->exists(dataset); }

void H5File::write_attribute(const std::string& name, double v) { impl_->write_attr(name, H5T_NATIVE_DOUBLE, &v); }
void H5File::write_attribute(const std::string& name, long long v) { impl_->write_attr(name, H5T_NATIVE_LLONG, &v); }
void H5File::write_attribute(const std::string& name, const std::string& v) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, std::max<std::size_t>(1, v.size()));
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  std::string padded = v.empty() ? std::string(1, '\0') : v;
  impl_->write_attr(name, type, padded.data());
}

double H5File::read_attribute_double(const std::string& name) {
  const Impl& m = *impl_;
  if (H5Aexists(m.file, name.c_str()) <= 0) m.fail("no attribute '" + name + "'");
  Id attr = m.checked(H5Aopen(m.file, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
  // Files are untrusted: one value of a numeric type, or an error (an array would be read past v).
  Id space = m.checked(H5Aget_space(attr), H5Sclose, "H5Aget_space");
  Id type = m.checked(H5Aget_type(attr), H5Tclose, "H5Aget_type");
  const H5T_class_t cls = H5Tget_class(type);
  if (H5Sget_simple_extent_npoints(space) != 1 || (cls != H5T_INTEGER && cls != H5T_FLOAT))
    m.fail("attribute '" + name + "' is not a single number");
  double v = 0;
  m.check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), "reading attribute " + name);
  return v;
}

bool H5File::has_attribute(const std::string& name) {
  const Impl& m = *impl_;
  const htri_t e = H5Aexists(m.file, name.c_str());
  if (e < 0) m.fail("checking attribute '" + name + "'");
  return e > 0;
}

std::string H5File::read_attribute_string(const std::string& name) {
  const Impl& m = *impl_;
  if (H5Aexists(m.file, name.c_str()) <= 0) m.fail("no attribute '" + name + "'");
  Id attr = m.checked(H5Aopen(m.file, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
  Id type = m.checked(H5Aget_type(attr), H5Tclose, "H5Aget_type");
  // One string, or an error: an array would be read past the buffer.
  Id space = m.checked(H5Aget_space(attr), H5Sclose, "H5Aget_space");
  if (H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1) m.fail("attribute '" + name + "' is not a single string");
  if (H5Tis_variable_str(type) > 0) {  // h5py's default: read as a pointer HDF5 allocates
    Id mem = m.checked(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));  // h5py writes UTF-8; HDF5 converts no character sets
    char* p = nullptr;
    m.check(H5Aread(attr, mem, &p), "reading attribute " + name);
    std::string v = p ? std::string(p) : std::string();
    H5free_memory(p);
    return v;
  }
  const std::size_t n = H5Tget_size(type);
  if (n > (std::size_t{1} << 26)) m.fail("attribute '" + name + "' is a string of " + std::to_string(n) + " bytes");
  std::string s(n, '\0');
  m.check(H5Aread(attr, type, s.data()), "reading attribute " + name);
  const auto end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

template void H5File::write_field(const std::string&, const Field<double>&, int, int, const H5WriteOptions&);
template void H5File::write_field(const std::string&, const Field<float>&, int, int, const H5WriteOptions&);
template void H5File::write_field(const std::string&, const Field<std::complex<double>>&, int, int, const H5WriteOptions&);
template void H5File::read_field(const std::string&, Field<double>&, int);
template void H5File::read_field(const std::string&, Field<float>&, int);
template void H5File::read_field(const std::string&, Field<std::complex<double>>&, int);

}  // namespace kron::layout
