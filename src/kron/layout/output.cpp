#include "kron/layout/output.hpp"

#include <cmath>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "kron/core/mpi.hpp"
#include "kron/core/stop.hpp"
#include "kron/core/version.hpp"

namespace kron::layout {

void make_directory(const std::string& dir, MPI_Comm comm) {
  std::string err;
  if (core::mpi::rank(comm) == 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) err = ec.message();
    else if (!std::filesystem::is_directory(dir)) err = "exists and is not a directory";
  }
  err = core::mpi::broadcast(err, comm);
  if (!err.empty()) throw Error("cannot create output directory '" + dir + "': " + err, {}, "check output.dir");
}

std::vector<std::string> earlier_output(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  auto step_like = [&](const std::string& f, const std::string& suffix) {
    // <name>_<digits><suffix>
    if (f.size() <= name.size() + 1 + suffix.size() || f.compare(0, name.size() + 1, name + "_") != 0) return false;
    if (f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    const std::string mid = f.substr(name.size() + 1, f.size() - name.size() - 1 - suffix.size());
    return !mid.empty() && mid.find_first_not_of("0123456789") == std::string::npos;
  };
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f == "summary.json" || f == name + ".xdmf" || f == name + "_spectrum.csv" || step_like(f, ".h5") || step_like(f, ".h5.tmp"))
      found.push_back(e.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

long remove_earlier_output(const std::string& dir, const std::string& name, MPI_Comm comm) {
  std::vector<std::string> files;
  std::string err;
  if (core::mpi::rank(comm) == 0) {
    files = earlier_output(dir, name);
    for (const auto& f : files) {
      std::error_code ec;
      std::filesystem::remove(f, ec);
      if (ec && err.empty()) err = "cannot remove '" + f + "' of an earlier run: " + ec.message();
    }
  }
  err = core::mpi::broadcast(err, comm);
  if (!err.empty()) throw Error(err, {}, "remove it yourself, or choose another output.dir");
  return static_cast<long>(core::mpi::sum(static_cast<long long>(files.size()), comm));
}

void write_h5_atomic(const std::string& path, MPI_Comm comm, const std::function<void(H5File&)>& body) {
  const std::string tmp = path + ".tmp";
  bool ok = true;
  std::string what;
  {
    const core::stop::TemporaryFile guard(tmp);  // a signal now removes the partial file
    H5File f(tmp, H5File::Mode::Create, comm);
    try {
      body(f);
    } catch (const Error& e) {
      ok = false;
      what = e.what();
    }
    f.close();
  }
  if (!core::mpi::all(ok, comm)) {
    if (core::mpi::rank(comm) == 0) std::remove(tmp.c_str());
    throw Error(what.empty() ? "writing " + path + " failed on another rank" : what);
  }
  if (core::stop::any(comm) != 0) {
    if (core::mpi::rank(comm) == 0) std::remove(tmp.c_str());
    core::stop::check(comm, "while writing " + path, "the partial file was removed");
  }
  int rc = 0;
  if (core::mpi::rank(comm) == 0) rc = std::rename(tmp.c_str(), path.c_str());
  MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
  if (rc != 0) throw Error("cannot rename '" + tmp + "' to '" + path + "'");
}

void write_provenance(H5File& f, const Provenance& prov, int step, double time) {
  f.write_attribute("time", time);
  f.write_attribute("step", static_cast<long long>(step));
  f.write_attribute("kron_version", std::string(core::version_string));
  f.write_attribute("git_hash", std::string(core::git_hash));
  f.write_attribute("deck", prov.deck_text);
  f.write_attribute("nranks", static_cast<long long>(prov.nranks));
}

void write_grid(H5File& f, const Domain& d) {
  static const char* names[] = {"/grid/x", "/grid/y", "/grid/z"};
  for (int a = 0; a < d.dim; ++a) f.write_vector(names[a], d.axes[a].coords());
}

OutputWriter::OutputWriter(std::string dir, std::string name, Domain domain, Provenance prov, H5WriteOptions opt, MPI_Comm comm)
    : dir_(std::move(dir)), name_(std::move(name)), domain_(std::move(domain)), prov_(std::move(prov)), opt_(opt), comm_(comm) {
  make_directory(dir_, comm_);
}

std::string OutputWriter::step_path(int step) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06d.h5", step);
  return dir_ + "/" + name_ + buf;
}

void OutputWriter::write_step(int step, double time, const FieldList& fields, const std::function<void(H5File&)>& extra) {
  const std::string path = step_path(step);
  core::stop::check(comm_, "before " + path + " was written",
                    std::to_string(steps_.size()) + " complete step file(s) of this run are in " + dir_ + ", and no summary.json");
  write_h5_atomic(path, comm_, [&](H5File& f) {
    write_provenance(f, prov_, step, time);
    write_grid(f, domain_);
    for (const auto& e : fields) f.write_field("/fields/" + e.name, *e.field, domain_.dim, e.component, opt_);
    if (extra) extra(f);
  });
  field_names_.clear();
  for (const auto& e : fields) field_names_.push_back(e.name);
  steps_.push_back({std::filesystem::path(path).filename().string(), step, time});
  if (core::mpi::rank(comm_) == 0) core::write_file_atomic(dir_ + "/" + name_ + ".xdmf", xdmf_text(domain_, field_names_, steps_));
  MPI_Barrier(comm_);
}

void write_summary(const std::string& dir, const core::Json& summary, MPI_Comm comm) {
  std::string err;
  if (core::mpi::rank(comm) == 0) {
    try {
      core::write_file_atomic(dir + "/summary.json", summary.dump());
    } catch (const Error& e) {
      err = e.what();
    }
  }
  if (!core::mpi::all(err.empty(), comm)) throw Error(err.empty() ? "writing summary.json failed" : err);
}

void write_checkpoint(const std::string& path, const Domain& d, const OutputWriter::FieldList& fields, int step, double time,
                      const Provenance& prov, MPI_Comm comm) {
  write_h5_atomic(path, comm, [&](H5File& f) {
    write_provenance(f, prov, step, time);
    write_grid(f, d);
    for (const auto& e : fields) f.write_field("/fields/" + e.name, *e.field, d.dim, e.component);
  });
}

CheckpointInfo read_checkpoint(const std::string& path, const std::vector<std::pair<std::string, RealField*>>& fields, MPI_Comm comm) {
  H5File f(path, H5File::Mode::Read, comm);
  CheckpointInfo info;
  info.time = f.read_attribute_double("time");
  const double step = f.read_attribute_double("step");
  if (!(step >= 0 && step <= 2147483647.0) || step != std::floor(step) || !std::isfinite(info.time))
    throw Error(path + ": its step or time attribute is not a step count and a time");
  info.step = static_cast<int>(step);
  for (const auto& [name, field] : fields) f.read_field("/fields/" + name, *field);
  return info;
}

}  // namespace kron::layout
