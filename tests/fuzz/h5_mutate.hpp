// Shared by the libFuzzer targets that read kron's own HDF5 files back (checkpoints, data sets):
// a file kron wrote, mutated in place by the fuzzer's bytes. Every dataset and attribute of the
// file, in a fixed order, is kept, deleted, poisoned (a NaN, an infinity, a huge, negative or
// off-by-one value), reshaped (another rank and extents) or retyped (integers, strings, arrays),
// so the inputs stay well-formed HDF5 whose contents are hostile: what a reader must reject with
// a kron::Error. Empty input leaves the file as written (the seed must then be accepted).
#pragma once
#include <hdf5.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kron_fuzz {

struct Bytes {
  const std::uint8_t* p;
  std::size_t n, i = 0;
  std::uint8_t byte() { return i < n ? p[i++] : 0; }
  bool done() const { return i >= n; }
};

inline double hostile(Bytes& b, double was) {
  switch (b.byte() % 14) {
    case 0: return std::numeric_limits<double>::quiet_NaN();
    case 1: return std::numeric_limits<double>::infinity();
    case 2: return -std::numeric_limits<double>::infinity();
    case 3: return -1;
    case 4: return 0;
    case 5: return 1e300;
    case 6: return 2147483648.0;
    case 7: return 9.3e18;
    case 8: return was + 1;
    case 9: return was * (1 + 1e-15);
    case 10: return was / 2;
    case 11: return -was;
    case 12: return was + 0.5;
    default: return static_cast<double>(b.byte());
  }
}

namespace detail {
struct Found {
  std::vector<std::string> datasets;                                 // full paths
  std::vector<std::pair<std::string, std::string>> attributes;       // object path, attribute name
};
inline herr_t on_attr(hid_t, const char* name, const H5A_info_t*, void* op) {
  auto* f = static_cast<std::pair<Found*, std::string>*>(op);
  f->first->attributes.emplace_back(f->second, name);
  return 0;
}
inline void attributes_of(hid_t file, const std::string& path, Found& found) {
  const hid_t o = H5Oopen(file, path.c_str(), H5P_DEFAULT);
  if (o < 0) return;
  std::pair<Found*, std::string> op{&found, path};
  H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, nullptr, on_attr, &op);
  H5Oclose(o);
}
inline herr_t on_link(hid_t g, const char* name, const H5L_info_t*, void* op) {
  auto* found = static_cast<Found*>(op);
  const hid_t o = H5Oopen(g, name, H5P_DEFAULT);
  if (o < 0) return 0;
  if (H5Iget_type(o) == H5I_DATASET) found->datasets.push_back(std::string("/") + name);
  H5Oclose(o);
  return 0;
}
inline void write_attr_double(hid_t o, const std::string& name, const std::vector<double>& v, hid_t type) {
  const hsize_t n = v.size();
  const hid_t s = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(o, name.c_str(), type, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, v.data());
  H5Aclose(a);
  H5Sclose(s);
}
inline void write_attr_string(hid_t o, const std::string& name, const std::string& v) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, v.size() + 1);
  const hid_t s = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(o, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, v.c_str());
  H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
}
}  // namespace detail

/// Mutates the HDF5 file at `path` (written by kron) as the bytes say; `words` are strings an
/// attribute may be replaced by (names of kinds, structures...).
inline void mutate_h5(const std::string& path, Bytes& b, const std::vector<std::string>& words) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return;
  detail::Found found;
  H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, detail::on_link, &found);
  detail::attributes_of(f, "/", found);
  for (const auto& d : found.datasets) detail::attributes_of(f, d, found);

  for (const auto& name : found.datasets) {
    const std::uint8_t action = b.byte() % 8;
    if (action < 4) continue;
    const hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
    if (d < 0) continue;
    const hid_t sp = H5Dget_space(d);
    const int rank = H5Sget_simple_extent_ndims(sp);
    std::vector<hsize_t> dims(rank > 0 ? rank : 0);
    if (rank > 0) H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
    H5Sclose(sp);
    hsize_t count = 1;
    for (hsize_t x : dims) count *= x;
    std::vector<double> v(count > 0 ? count : 1, 0.0);
    if (count > 0 && count < (1u << 24)) H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    if (action == 5 && count > 0) {  // poison values in place
      const int hits = 1 + b.byte() % 3;
      for (int h = 0; h < hits; ++h) {
        const std::size_t k = (static_cast<std::size_t>(b.byte()) << 8 | b.byte()) % count;
        v[k] = hostile(b, v[k]);
      }
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      H5Dclose(d);
      continue;
    }
    H5Dclose(d);
    H5Ldelete(f, name.c_str(), H5P_DEFAULT);
    if (action == 4) continue;  // deleted
    std::vector<hsize_t> shape = dims;
    hid_t type = H5T_NATIVE_DOUBLE;
    if (action == 6) {  // another shape: some extents kept, some changed
      shape.assign(1 + b.byte() % 3, 0);
      for (std::size_t k = 0; k < shape.size(); ++k) {
        const std::uint8_t c = b.byte();
        shape[k] = c % 3 == 0 && !dims.empty() ? dims[k % dims.size()] + (c % 2 ? 1 : 0) : c % 12;
      }
    } else {  // integers of the same shape
      type = H5T_NATIVE_INT;
    }
    hsize_t m = 1;
    for (hsize_t x : shape) m *= x;
    std::vector<double> w(m > 0 ? m : 1);
    for (hsize_t k = 0; k < m; ++k) w[k] = v[k % v.size()];
    const hid_t s = H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t nd = H5Dcreate2(f, name.c_str(), type, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (nd >= 0) {
      if (m > 0) H5Dwrite(nd, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.data());
      H5Dclose(nd);
    }
    H5Pclose(lcpl);
    H5Sclose(s);
  }

  for (const auto& [object, name] : found.attributes) {
    const std::uint8_t action = b.byte() % 8;
    if (action < 5) continue;
    const hid_t o = H5Oopen(f, object.c_str(), H5P_DEFAULT);
    if (o < 0) continue;  // its dataset was deleted
    double was = 0;
    const hid_t a = H5Aopen(o, name.c_str(), H5P_DEFAULT);
    if (a >= 0) {
      const hid_t t = H5Aget_type(a);
      const hid_t s = H5Aget_space(a);
      if (H5Tget_class(t) != H5T_STRING && H5Sget_simple_extent_npoints(s) == 1) H5Aread(a, H5T_NATIVE_DOUBLE, &was);
      H5Sclose(s);
      H5Tclose(t);
      H5Aclose(a);
    }
    H5Adelete(o, name.c_str());
    if (action == 6) {
      detail::write_attr_double(o, name, {hostile(b, was)}, b.byte() % 4 == 0 ? H5T_NATIVE_INT : H5T_NATIVE_DOUBLE);
    } else if (action == 7) {
      const std::uint8_t c = b.byte();
      if (c % 3 == 0) detail::write_attr_double(o, name, {was, hostile(b, was)}, H5T_NATIVE_DOUBLE);
      else detail::write_attr_string(o, name, words.empty() ? std::string() : words[c % words.size()]);
    }
    H5Oclose(o);
  }
  H5Fclose(f);
}

}  // namespace kron_fuzz
