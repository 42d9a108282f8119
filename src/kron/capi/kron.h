/* kron.h: the C API of kron (also the base of the Fortran module `kron`).
 *
 * A simulation code keeps its own MPI communicator and its own arrays; kron decomposes a
 * tensor-product grid over the communicator into x-pencils, wraps the code's arrays of its local
 * box as fields (no copy: a C array [nz][ny][nx] or a Fortran array (nx, ny, nz) of the local box
 * is already kron's x-pencil layout), and runs distributed transforms, fast Poisson/Helmholtz
 * solves, Kronecker Gaussian-process regression, trained surrogates and HDF5/XDMF output on them.
 *
 * Conventions
 *  - Every function returns KRON_OK (0) or an error code; kron_last_error() then gives one line
 *    saying what was wrong (and how to fix it, where known). No function prints or exits.
 *  - Functions taking a kron_decomp (or an object made from one) are collective over its
 *    communicator and need the same arguments on every rank, as MPI's own collectives do; kron
 *    checks the arguments before any communication, so a bad argument fails on every rank alike.
 *  - Handles are opaque pointers; kron_*_destroy takes the handle's address and sets it to NULL
 *    (NULL handles are ignored), so a handle is destroyed once.
 *  - Sizes are `long`, values `double`, complex values interleaved (re, im) pairs of doubles.
 *  - Axis arrays are ordered x, y, z; a 2D grid has n[2] = 1, a 1D grid n[1] = n[2] = 1.
 */
#ifndef KRON_H
#define KRON_H

#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors and version ---------------------------------------------------------------- */
enum kron_status {
  KRON_OK = 0,
  KRON_ERROR_ARGUMENT = 1, /* a null handle or pointer, a value out of range */
  KRON_ERROR_RUNTIME = 2,  /* the operation failed (bad data, I/O, a failed solve) */
  KRON_ERROR_MEMORY = 3    /* out of memory */
};
/* The message of this thread's last failed call ("" if none). Valid until the next kron call. */
const char* kron_last_error(void);
/* kron's version (e.g. 0, 1, 0) and the git hash it was built from. */
int kron_version(int* major, int* minor, int* patch);
const char* kron_git_hash(void);

/* ---- decompositions -------------------------------------------------------------------- */
typedef struct kron_decomp_s* kron_decomp;
/* The points of an axis: n points on [lower, upper] with both ends (uniform), n points
 * lower + i h, h = (upper - lower) / n (periodic), or the n Chebyshev-Lobatto points. */
enum kron_axis_kind { KRON_AXIS_UNIFORM = 0, KRON_AXIS_PERIODIC = 1, KRON_AXIS_CHEBYSHEV = 2 };
/* A grid of n[0] x n[1] x n[2] points over the ranks of `comm` (duplicated; the caller's is left
 * alone) as a p1 x p2 process grid: y split over p1 and z over p2 in the x-pencil. p1 = p2 = 0
 * chooses the shape that moves the fewest bytes per transpose. */
int kron_decomp_create(MPI_Comm comm, const long n[3], const double lower[3], const double upper[3], const int kind[3], int p1,
                       int p2, kron_decomp* decomp);
/* The same over a Fortran communicator handle (MPI_Fint; mpi_f08: comm%MPI_VAL). */
int kron_decomp_create_f(MPI_Fint comm, const long n[3], const double lower[3], const double upper[3], const int kind[3], int p1,
                         int p2, kron_decomp* decomp);
int kron_decomp_destroy(kron_decomp* decomp);
/* This rank's box of the x-pencil: global offsets and extents along x, y, z. A user array for a
 * field of ncomp components holds extent[0] * extent[1] * extent[2] * ncomp doubles, x fastest,
 * the component slowest. Extents may be 0 on some ranks (more ranks than points). */
int kron_decomp_local_box(kron_decomp decomp, long offset[3], long extent[3]);
/* The process grid shape chosen. */
int kron_decomp_process_grid(kron_decomp decomp, int* p1, int* p2);
/* The n[axis] global coordinates of an axis. */
int kron_decomp_coordinates(kron_decomp decomp, int axis, double* x);

/* ---- fields: user arrays as kron fields ------------------------------------------------- */
typedef struct kron_field_s* kron_field;
/* Wraps `data` (the local box of kron_decomp_local_box, ncomp components): no copy; the array
 * must stay alive (and in place) while the field is used. */
int kron_field_wrap(kron_decomp decomp, double* data, int ncomp, kron_field* field);
/* A field owning zero-initialised storage of the same layout. */
int kron_field_create(kron_decomp decomp, int ncomp, kron_field* field);
/* Its values (the wrapped array, or the storage it owns) and component count. */
int kron_field_data(kron_field field, double** data, int* ncomp);
int kron_field_destroy(kron_field* field);

/* ---- distributed transforms (FFTW's conventions, unnormalised) -------------------------- */
typedef struct kron_fft_s* kron_fft;
enum kron_transform {
  KRON_TRANSFORM_NONE = 0, KRON_TRANSFORM_FOURIER = 1, /* the first Fourier axis is real-to-complex (n/2+1 modes) */
  KRON_TRANSFORM_DCT1 = 2, KRON_TRANSFORM_DCT2 = 3, KRON_TRANSFORM_DCT3 = 4,
  KRON_TRANSFORM_DST1 = 5, KRON_TRANSFORM_DST2 = 6, KRON_TRANSFORM_DST3 = 7
};
/* A plan transforming fields of `ncomp` components along x, y, z by kinds[0..2]. */
int kron_fft_create(kron_decomp decomp, const int kinds[3], int ncomp, kron_fft* plan);
/* This rank's box of the output and its storage: global offsets and extents, the element strides
 * of x, y, z (one element: a complex value when *complex_output, else a double) and of the
 * component; an output array holds `size` elements. */
int kron_fft_output_box(kron_fft plan, long offset[3], long extent[3], long stride[4], long* size, int* complex_output);
/* Forward transform of an x-pencil field into `out` (output_box's layout). */
int kron_fft_forward(kron_fft plan, kron_field in, double* out);
/* Backward transform of `in` (output_box's layout; not modified) into an x-pencil field:
 * backward(forward(u)) = u / normalization. */
int kron_fft_backward(kron_fft plan, const double* in, kron_field out);
int kron_fft_normalization(kron_fft plan, double* scale);
int kron_fft_destroy(kron_fft* plan);

/* ---- fast Poisson / Helmholtz solves ------------------------------------------------------ */
typedef struct kron_poisson_s* kron_poisson;
enum kron_scheme {
  KRON_SCHEME_FD2 = 0, KRON_SCHEME_FD4 = 1, KRON_SCHEME_FD6 = 2, KRON_SCHEME_COMPACT4 = 3, KRON_SCHEME_COMPACT6 = 4,
  KRON_SCHEME_CHEBYSHEV = 5, KRON_SCHEME_FOURIER = 6
};
enum kron_boundary { KRON_BC_PERIODIC = 0, KRON_BC_DIRICHLET = 1, KRON_BC_NEUMANN = 2 };
/* Boundary data at the point x of side `side` (0 low, 1 high) of `axis`: the value u (Dirichlet)
 * or du/dx_axis (Neumann, along +x_axis). */
typedef double (*kron_boundary_fn)(int axis, int side, const double x[3], void* context);
/* A direct solver of  lap u - shift u = f  by fast diagonalisation (shift = 0: Poisson, shift > 0:
 * Helmholtz of the modified kind). bc[a] is periodic exactly on the periodic axes. */
int kron_poisson_create(kron_decomp decomp, int scheme, const int bc[3], double shift, kron_poisson* solver);
/* Solves for u (boundary points included) given f (interior equations used) and the boundary
 * data g (NULL: zero data). All-periodic/Neumann Poisson problems: u has zero mean and f's
 * incompatible part, if small, is projected out (larger: an error). */
int kron_poisson_solve(kron_poisson solver, kron_field f, kron_boundary_fn g, void* context, kron_field u);
int kron_poisson_destroy(kron_poisson* solver);

/* ---- Kronecker Gaussian-process regression on the grid ------------------------------------ */
enum kron_kernel { KRON_KERNEL_SQUARED_EXPONENTIAL = 0, KRON_KERNEL_MATERN52 = 1 };
/* Observations y at every grid point with noise variance `noise`, prior covariance
 * variance * k_x (x) k_y (x) k_z, each axis' kernel with its lengthscale: the posterior mean at the
 * grid points and (if log_likelihood is not NULL) the log marginal likelihood of y. O(N n) work
 * through the per-axis eigendecompositions; the covariance matrix is never formed. */
int kron_gp_regress(kron_decomp decomp, int kernel, const double lengthscale[3], double variance, double noise, kron_field y,
                    kron_field mean, double* log_likelihood);

/* ---- trained surrogates ------------------------------------------------------------------ */
typedef struct kron_surrogate_s* kron_surrogate;
/* Loads a model surrogate_train wrote (<dir>/<name>_model.h5); every rank of comm reads it. */
int kron_surrogate_load(MPI_Comm comm, const char* path, kron_surrogate* model);
int kron_surrogate_load_f(MPI_Fint comm, const char* path, kron_surrogate* model);
/* dim 2: samples of grid_points x grid_points values; dim 1: of grid_points values. */
int kron_surrogate_shape(kron_surrogate model, int* dim, long* grid_points);
/* Predictions u of `samples` inputs a, each points = grid_points^dim values, x fastest (this
 * rank's samples: no communication). */
int kron_surrogate_predict(kron_surrogate model, const double* a, double* u, long samples);
int kron_surrogate_destroy(kron_surrogate* model);

/* ---- HDF5/XDMF output (kron's layout: ParaView opens <dir>/<name>.xdmf) ---------------------- */
typedef struct kron_output_s* kron_output;
/* Output of fields on the decomposition's grid into `dir` (created): <name>_<step>.h5 per step,
 * written atomically, and <name>.xdmf listing the steps. */
int kron_output_create(kron_decomp decomp, const char* dir, const char* name, kron_output* output);
/* One step: `nfields` fields (component 0 of each) named by the comma-separated `names`
 * ("u,f,error"), as /fields/<name> datasets. */
int kron_output_write(kron_output output, int step, double time, const char* names, int nfields, const kron_field* fields);
int kron_output_destroy(kron_output* output);

#ifdef __cplusplus
}
#endif
#endif /* KRON_H */
