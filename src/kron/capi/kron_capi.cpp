// The C API (kron.h) over kron's C++ layers: handles own the C++ objects, every entry point
// catches what the layers throw and turns it into a status code and kron_last_error().
#include "kron/capi/kron.h"

#include <cmath>
#include <complex>
#include <cstdio>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "kron/core/error.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/version.hpp"
#include "kron/gp/kernel.hpp"
#include "kron/gp/kronecker.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/field.hpp"
#include "kron/layout/field_ops.hpp"
#include "kron/layout/output.hpp"
#include "kron/layout/process_grid.hpp"
#include "kron/linops/fast_poisson.hpp"
#include "kron/linops/pencil_workspace.hpp"
#include "kron/nn/surrogate_model.hpp"

using namespace kron;

namespace {

thread_local std::string last_error;

// Runs `body`; exceptions become a status and the message of kron_last_error().
template <class F>
int guarded(const char* function, F&& body) {
  try {
    body();
    last_error.clear();
    return KRON_OK;
  } catch (const Error& e) {
    last_error = std::string(function) + ": " + e.formatted();
    return e.message().rfind("argument ", 0) == 0 ? KRON_ERROR_ARGUMENT : KRON_ERROR_RUNTIME;
  } catch (const std::bad_alloc&) {
    last_error = std::string(function) + ": out of memory";
    return KRON_ERROR_MEMORY;
  } catch (const std::exception& e) {
    last_error = std::string(function) + ": " + e.what();
    return KRON_ERROR_RUNTIME;
  }
}

// Argument errors: the message starts with "argument " (guarded() maps it to KRON_ERROR_ARGUMENT).
[[noreturn]] void bad_argument(const std::string& what, const std::string& hint = {}) { throw Error("argument " + what, {}, hint); }
template <class P>
void need(const P* p, const char* name) {
  if (!p) bad_argument(std::string(name) + " is NULL");
}

struct Decomposition {
  layout::ProcessGridPtr grid;
  layout::Domain domain;
  layout::Pencil px;
};
using DecompPtr = std::shared_ptr<const Decomposition>;

layout::RealField& field_of(kron_field f);

}  // namespace

struct kron_decomp_s {
  DecompPtr d;
};
struct kron_field_s {
  DecompPtr d;
  layout::RealField f;
};
struct kron_fft_s {
  DecompPtr d;
  std::unique_ptr<layout::DistributedTransform> t;
  int ncomp = 1;
};
struct kron_poisson_s {
  DecompPtr d;
  std::unique_ptr<linops::FastPoisson> solver;
  std::array<linops::BoundaryKind, 3> bc;
};
struct kron_surrogate_s {
  nn::SurrogateModel model;
};
struct kron_output_s {
  DecompPtr d;
  std::unique_ptr<layout::OutputWriter> writer;
};

namespace {

layout::RealField& field_of(kron_field f) {
  need(f, "field");
  return f->f;
}

const Decomposition& decomp_of(kron_decomp d) {
  need(d, "decomp");
  return *d->d;
}

// The field's decomposition must be the one the operation was made for (same grid and ranks).
void same_decomp(const DecompPtr& want, kron_field f, const char* name) {
  need(f, name);
  if (f->d != want && (f->d->px != want->px || f->d->grid->comm() != want->grid->comm()))
    bad_argument(std::string(name) + " lives on another decomposition than the operation's");
}

template <class Handle>
int destroy(const char* function, Handle** h) {
  return guarded(function, [&] {
    need(h, "handle address");
    delete *h;
    *h = nullptr;
  });
}

int create_decomp(MPI_Comm comm, const long n[3], const double lower[3], const double upper[3], const int kind[3], int p1, int p2,
                  kron_decomp* out) {
  return guarded("kron_decomp_create", [&] {
    need(n, "n");
    need(lower, "lower");
    need(upper, "upper");
    need(kind, "kind");
    need(out, "decomp");
    *out = nullptr;
    if (comm == MPI_COMM_NULL) bad_argument("comm is MPI_COMM_NULL");
    auto d = std::make_shared<Decomposition>();
    for (int a = 0; a < 3; ++a) {
      const std::string ax(1, "xyz"[a]);
      if (n[a] < 1 || n[a] > (1L << 40)) bad_argument("n[" + std::to_string(a) + "] = " + std::to_string(n[a]) + " is not a point count");
      if (n[a] == 1) continue;  // an absent axis: one point at 0
      if (!(upper[a] > lower[a]) || !std::isfinite(lower[a]) || !std::isfinite(upper[a]))
        bad_argument("axis " + ax + ": lower " + std::to_string(lower[a]) + " and upper " + std::to_string(upper[a]) + " are no interval");
      switch (kind[a]) {
        case KRON_AXIS_UNIFORM: d->domain.axes[a] = layout::AxisGrid::uniform(n[a], lower[a], upper[a]); break;
        case KRON_AXIS_PERIODIC: d->domain.axes[a] = layout::AxisGrid::periodic(n[a], lower[a], upper[a]); break;
        case KRON_AXIS_CHEBYSHEV: d->domain.axes[a] = layout::AxisGrid::chebyshev(n[a], lower[a], upper[a]); break;
        default: bad_argument("kind[" + std::to_string(a) + "] = " + std::to_string(kind[a]) + " is not a kron_axis_kind");
      }
    }
    d->domain.dim = n[2] > 1 ? 3 : n[1] > 1 ? 2 : 1;
    const int np = core::mpi::size(comm);
    std::array<int, 2> shape{p1, p2};
    if (p1 == 0 && p2 == 0) shape = layout::ProcessGrid::choose(d->domain.shape(), np);
    else if (p1 < 1 || p2 < 1 || static_cast<long>(p1) * p2 != np)
      bad_argument("process grid " + std::to_string(p1) + " x " + std::to_string(p2) + " for " + std::to_string(np) + " ranks",
                   "give p1 * p2 = the rank count, or p1 = p2 = 0 to let kron choose");
    d->grid = std::make_shared<const layout::ProcessGrid>(comm, shape[0], shape[1]);
    d->px = layout::Pencil(d->domain.shape(), d->grid, 0);
    *out = new kron_decomp_s{std::move(d)};
  });
}

}  // namespace

extern "C" {

const char* kron_last_error(void) { return last_error.c_str(); }

int kron_version(int* major, int* minor, int* patch) {
  return guarded("kron_version", [&] {
    int v[3] = {0, 0, 0};
    if (std::sscanf(core::version_string, "%d.%d.%d", &v[0], &v[1], &v[2]) < 1) throw Error("unreadable version string");
    if (major) *major = v[0];
    if (minor) *minor = v[1];
    if (patch) *patch = v[2];
  });
}

const char* kron_git_hash(void) { return core::git_hash; }

// ---- decompositions ----
int kron_decomp_create(MPI_Comm comm, const long n[3], const double lower[3], const double upper[3], const int kind[3], int p1, int p2,
                       kron_decomp* decomp) {
  return create_decomp(comm, n, lower, upper, kind, p1, p2, decomp);
}

int kron_decomp_create_f(MPI_Fint comm, const long n[3], const double lower[3], const double upper[3], const int kind[3], int p1,
                         int p2, kron_decomp* decomp) {
  return create_decomp(MPI_Comm_f2c(comm), n, lower, upper, kind, p1, p2, decomp);
}

int kron_decomp_destroy(kron_decomp* decomp) { return destroy("kron_decomp_destroy", decomp); }

int kron_decomp_local_box(kron_decomp decomp, long offset[3], long extent[3]) {
  return guarded("kron_decomp_local_box", [&] {
    const auto& box = decomp_of(decomp).px.box();
    for (int a = 0; a < 3; ++a) {
      if (offset) offset[a] = box.lo[a];
      if (extent) extent[a] = box.n[a];
    }
  });
}

int kron_decomp_process_grid(kron_decomp decomp, int* p1, int* p2) {
  return guarded("kron_decomp_process_grid", [&] {
    const auto& g = *decomp_of(decomp).grid;
    if (p1) *p1 = g.p1();
    if (p2) *p2 = g.p2();
  });
}

int kron_decomp_coordinates(kron_decomp decomp, int axis, double* x) {
  return guarded("kron_decomp_coordinates", [&] {
    const auto& d = decomp_of(decomp);
    need(x, "x");
    if (axis < 0 || axis > 2) bad_argument("axis " + std::to_string(axis) + " is not 0, 1 or 2");
    const auto& c = d.domain.axes[axis].coords();
    std::copy(c.begin(), c.end(), x);
  });
}

// ---- fields ----
int kron_field_wrap(kron_decomp decomp, double* data, int ncomp, kron_field* field) {
  return guarded("kron_field_wrap", [&] {
    const auto& d = decomp_of(decomp);
    need(field, "field");
    *field = nullptr;
    if (ncomp < 1) bad_argument("ncomp " + std::to_string(ncomp) + " is below 1");
    if (!data && d.px.local_size() > 0) bad_argument("data is NULL for a local box of " + std::to_string(d.px.local_size()) + " points");
    *field = new kron_field_s{decomp->d, layout::RealField::wrap(d.px, data, ncomp)};
  });
}

int kron_field_create(kron_decomp decomp, int ncomp, kron_field* field) {
  return guarded("kron_field_create", [&] {
    const auto& d = decomp_of(decomp);
    need(field, "field");
    *field = nullptr;
    if (ncomp < 1) bad_argument("ncomp " + std::to_string(ncomp) + " is below 1");
    *field = new kron_field_s{decomp->d, layout::RealField(d.px, ncomp)};
  });
}

int kron_field_data(kron_field field, double** data, int* ncomp) {
  return guarded("kron_field_data", [&] {
    auto& f = field_of(field);
    if (data) *data = f.data();
    if (ncomp) *ncomp = f.components();
  });
}

int kron_field_destroy(kron_field* field) { return destroy("kron_field_destroy", field); }

// ---- transforms ----
int kron_fft_create(kron_decomp decomp, const int kinds[3], int ncomp, kron_fft* plan) {
  return guarded("kron_fft_create", [&] {
    const auto& d = decomp_of(decomp);
    need(kinds, "kinds");
    need(plan, "plan");
    *plan = nullptr;
    if (ncomp < 1) bad_argument("ncomp " + std::to_string(ncomp) + " is below 1");
    static const layout::TransformKind map[] = {layout::TransformKind::None, layout::TransformKind::Fourier, layout::TransformKind::DCT1,
                                                layout::TransformKind::DCT2, layout::TransformKind::DCT3,    layout::TransformKind::DST1,
                                                layout::TransformKind::DST2, layout::TransformKind::DST3};
    std::array<layout::TransformKind, 3> k;
    for (int a = 0; a < 3; ++a) {
      if (kinds[a] < 0 || kinds[a] > 7) bad_argument("kinds[" + std::to_string(a) + "] = " + std::to_string(kinds[a]) + " is not a kron_transform");
      k[a] = map[kinds[a]];
    }
    layout::FftOptions o;
    o.ncomp = ncomp;
    o.effort = layout::FftEffort::Estimate;
    auto p = std::make_unique<kron_fft_s>();
    p->d = decomp->d;
    p->ncomp = ncomp;
    p->t = std::make_unique<layout::DistributedTransform>(d.grid, d.domain.shape(), k, o);
    *plan = p.release();
  });
}

int kron_fft_output_box(kron_fft plan, long offset[3], long extent[3], long stride[4], long* size, int* complex_output) {
  return guarded("kron_fft_output_box", [&] {
    need(plan, "plan");
    const auto& pen = plan->t->output_pencil();
    long storage = 0;
    const auto L = layout::local_layout(pen, plan->ncomp, {0, 0, 0}, &storage);
    for (int a = 0; a < 3; ++a) {
      if (offset) offset[a] = pen.box().lo[a];
      if (extent) extent[a] = pen.box().n[a];
      if (stride) stride[a] = L.stride[a];
    }
    if (stride) stride[3] = L.cstride;
    if (size) *size = storage;
    if (complex_output) *complex_output = plan->t->output_complex() ? 1 : 0;
  });
}

int kron_fft_forward(kron_fft plan, kron_field in, double* out) {
  return guarded("kron_fft_forward", [&] {
    need(plan, "plan");
    same_decomp(plan->d, in, "in");
    const auto& pen = plan->t->output_pencil();
    if (!out && pen.local_size() > 0) bad_argument("out is NULL");
    if (in->f.components() != plan->ncomp)
      bad_argument("in has " + std::to_string(in->f.components()) + " components, the plan " + std::to_string(plan->ncomp));
    if (plan->t->output_complex()) {
      auto o = layout::ComplexField::wrap(pen, reinterpret_cast<std::complex<double>*>(out), plan->ncomp);
      plan->t->forward(in->f, o);
    } else {
      auto o = layout::RealField::wrap(pen, out, plan->ncomp);
      plan->t->forward(in->f, o);
    }
  });
}

int kron_fft_backward(kron_fft plan, const double* in, kron_field out) {
  return guarded("kron_fft_backward", [&] {
    need(plan, "plan");
    same_decomp(plan->d, out, "out");
    const auto& pen = plan->t->output_pencil();
    if (!in && pen.local_size() > 0) bad_argument("in is NULL");
    if (out->f.components() != plan->ncomp)
      bad_argument("out has " + std::to_string(out->f.components()) + " components, the plan " + std::to_string(plan->ncomp));
    // backward() does not modify its input: the const_cast only lets the input be wrapped.
    if (plan->t->output_complex()) {
      const auto i = layout::ComplexField::wrap(pen, reinterpret_cast<std::complex<double>*>(const_cast<double*>(in)), plan->ncomp);
      plan->t->backward(i, out->f);
    } else {
      const auto i = layout::RealField::wrap(pen, const_cast<double*>(in), plan->ncomp);
      plan->t->backward(i, out->f);
    }
  });
}

int kron_fft_normalization(kron_fft plan, double* scale) {
  return guarded("kron_fft_normalization", [&] {
    need(plan, "plan");
    need(scale, "scale");
    *scale = plan->t->normalization();
  });
}

int kron_fft_destroy(kron_fft* plan) { return destroy("kron_fft_destroy", plan); }

// ---- Poisson / Helmholtz ----
int kron_poisson_create(kron_decomp decomp, int scheme, const int bc[3], double shift, kron_poisson* solver) {
  return guarded("kron_poisson_create", [&] {
    const auto& d = decomp_of(decomp);
    need(bc, "bc");
    need(solver, "solver");
    *solver = nullptr;
    if (scheme < KRON_SCHEME_FD2 || scheme > KRON_SCHEME_FOURIER) bad_argument("scheme " + std::to_string(scheme) + " is not a kron_scheme");
    if (!std::isfinite(shift) || shift < 0) bad_argument("shift " + std::to_string(shift) + " is not >= 0");
    static const linops::Scheme schemes[] = {linops::Scheme::FD2,      linops::Scheme::FD4,       linops::Scheme::FD6,    linops::Scheme::Compact4,
                                             linops::Scheme::Compact6, linops::Scheme::Chebyshev, linops::Scheme::Fourier};
    auto s = std::make_unique<kron_poisson_s>();
    s->d = decomp->d;
    for (int a = 0; a < 3; ++a) {
      switch (bc[a]) {
        case KRON_BC_PERIODIC: s->bc[a] = linops::BoundaryKind::Periodic; break;
        case KRON_BC_DIRICHLET: s->bc[a] = linops::BoundaryKind::Dirichlet; break;
        case KRON_BC_NEUMANN: s->bc[a] = linops::BoundaryKind::Neumann; break;
        default: bad_argument("bc[" + std::to_string(a) + "] = " + std::to_string(bc[a]) + " is not a kron_boundary");
      }
    }
    const auto sc = schemes[scheme];
    s->solver = std::make_unique<linops::FastPoisson>(d.grid, d.domain.axes, std::array<linops::Scheme, 3>{sc, sc, sc}, s->bc, shift);
    *solver = s.release();
  });
}

int kron_poisson_solve(kron_poisson solver, kron_field f, kron_boundary_fn g, void* context, kron_field u) {
  return guarded("kron_poisson_solve", [&] {
    need(solver, "solver");
    same_decomp(solver->d, f, "f");
    same_decomp(solver->d, u, "u");
    if (f->f.components() != u->f.components()) bad_argument("f and u differ in their component counts");
    linops::BoundaryData data = [g, context](int axis, int side, const std::array<double, 3>& X) {
      return g ? g(axis, side, X.data(), context) : 0.0;
    };
    solver->solver->solve(f->f, data, u->f);
  });
}

int kron_poisson_destroy(kron_poisson* solver) { return destroy("kron_poisson_destroy", solver); }

// ---- GP regression ----
int kron_gp_regress(kron_decomp decomp, int kernel, const double lengthscale[3], double variance, double noise, kron_field y,
                    kron_field mean, double* log_likelihood) {
  return guarded("kron_gp_regress", [&] {
    const auto& d = decomp_of(decomp);
    need(lengthscale, "lengthscale");
    same_decomp(decomp->d, y, "y");
    same_decomp(decomp->d, mean, "mean");
    if (y->f.components() != 1 || mean->f.components() != 1) bad_argument("y and mean need one component each");
    if (kernel != KRON_KERNEL_SQUARED_EXPONENTIAL && kernel != KRON_KERNEL_MATERN52) bad_argument("kernel " + std::to_string(kernel) + " is not a kron_kernel");
    if (!(variance > 0) || !std::isfinite(variance)) bad_argument("variance " + std::to_string(variance) + " is not > 0");
    if (!(noise > 0) || !std::isfinite(noise)) bad_argument("noise " + std::to_string(noise) + " is not > 0", "a noise-free GP is singular on a grid");
    std::array<std::vector<double>, 3> points;
    std::array<std::shared_ptr<const gp::Kernel1D>, 3> k;
    for (int a = 0; a < 3; ++a) {
      points[a] = d.domain.axes[a].coords();
      if (d.domain.axes[a].size() == 1) continue;
      const double l = lengthscale[a];
      if (!(l > 0) || !std::isfinite(l)) bad_argument("lengthscale[" + std::to_string(a) + "] = " + std::to_string(l) + " is not > 0");
      if (kernel == KRON_KERNEL_SQUARED_EXPONENTIAL) k[a] = std::make_shared<gp::SquaredExponential>(1.0 / (2 * l * l));
      else k[a] = std::make_shared<gp::Matern52>(1.0 / l);
    }
    gp::KroneckerCovariance K(d.grid, points, k);
    linops::PencilWorkspace ws(d.grid);
    // (variance K + noise I)^-1 y = (K + r I)^-1 y / variance, r = noise / variance.
    const double r = noise / variance;
    layout::RealField v(d.px);
    layout::ops::copy(y->f, v);
    layout::RealField alpha(d.px);
    layout::ops::copy(K.solve(v, ws, r), alpha);  // the solve's result is workspace memory: keep a copy
    K.multiply(alpha, mean->f, ws);                // mean = variance K (variance K + noise I)^-1 y
    if (log_likelihood) {
      const double N = static_cast<double>(d.px.global()[0] * d.px.global()[1] * d.px.global()[2]);
      const double fit = layout::ops::dot(y->f, alpha) / variance;
      *log_likelihood = -0.5 * fit - 0.5 * (N * std::log(variance) + K.log_determinant(r)) - 0.5 * N * std::log(2 * M_PI);
    }
  });
}

// ---- surrogates ----
static int load_surrogate(MPI_Comm comm, const char* path, kron_surrogate* model) {
  return guarded("kron_surrogate_load", [&] {
    need(path, "path");
    need(model, "model");
    *model = nullptr;
    if (comm == MPI_COMM_NULL) bad_argument("comm is MPI_COMM_NULL");
    *model = new kron_surrogate_s{nn::SurrogateModel::load(path, comm)};
  });
}

int kron_surrogate_load(MPI_Comm comm, const char* path, kron_surrogate* model) { return load_surrogate(comm, path, model); }
int kron_surrogate_load_f(MPI_Fint comm, const char* path, kron_surrogate* model) { return load_surrogate(MPI_Comm_f2c(comm), path, model); }

int kron_surrogate_shape(kron_surrogate model, int* dim, long* grid_points) {
  return guarded("kron_surrogate_shape", [&] {
    need(model, "model");
    if (dim) *dim = model->model.dim();
    if (grid_points) *grid_points = model->model.grid_points();
  });
}

int kron_surrogate_predict(kron_surrogate model, const double* a, double* u, long samples) {
  return guarded("kron_surrogate_predict", [&] {
    need(model, "model");
    if (samples < 0) bad_argument("samples " + std::to_string(samples) + " is negative");
    if (samples == 0) return;
    need(a, "a");
    need(u, "u");
    model->model.predict(a, u, samples);
  });
}

int kron_surrogate_destroy(kron_surrogate* model) { return destroy("kron_surrogate_destroy", model); }

// ---- output ----
int kron_output_create(kron_decomp decomp, const char* dir, const char* name, kron_output* output) {
  return guarded("kron_output_create", [&] {
    const auto& d = decomp_of(decomp);
    need(dir, "dir");
    need(name, "name");
    need(output, "output");
    *output = nullptr;
    if (!*name) bad_argument("name is empty");
    const MPI_Comm comm = d.grid->comm();
    layout::make_directory(dir, comm);
    layout::Provenance prov{"# written through kron's C API (kron.h)\n", d.grid->size()};
    auto o = std::make_unique<kron_output_s>();
    o->d = decomp->d;
    o->writer = std::make_unique<layout::OutputWriter>(dir, name, d.domain, prov, layout::H5WriteOptions{}, comm);
    *output = o.release();
  });
}

int kron_output_write(kron_output output, int step, double time, const char* names, int nfields, const kron_field* fields) {
  return guarded("kron_output_write", [&] {
    need(output, "output");
    need(names, "names");
    if (step < 0) bad_argument("step " + std::to_string(step) + " is negative");
    if (nfields < 1) bad_argument("nfields " + std::to_string(nfields) + " is below 1");
    need(fields, "fields");
    std::vector<std::string> list;
    std::stringstream ss(names);
    for (std::string item; std::getline(ss, item, ',');) list.push_back(item);
    if (static_cast<int>(list.size()) != nfields)
      bad_argument("names '" + std::string(names) + "' name " + std::to_string(list.size()) + " fields, nfields is " + std::to_string(nfields));
    layout::OutputWriter::FieldList entries;
    for (int i = 0; i < nfields; ++i) {
      if (list[i].empty() || list[i].find_first_of("/ \t") != std::string::npos)
        bad_argument("field name '" + list[i] + "' is empty or holds a slash or blank");
      same_decomp(output->d, fields[i], "fields[i]");
      entries.push_back({list[i], &fields[i]->f, 0});
    }
    output->writer->write_step(step, time, entries);
  });
}

int kron_output_destroy(kron_output* output) { return destroy("kron_output_destroy", output); }

}  // extern "C"
