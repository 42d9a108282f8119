/* test_capi.c: kron's C API (kron.h) against independent references, under mpirun on 1-4 ranks.
 *
 *   test_capi                          the checks below (exit 0 when all pass)
 *   test_capi predict MODEL IN OUT N   surrogate predictions of N samples: raw doubles IN -> OUT
 *
 * References: transforms against the DFT/DCT/DST sums written out here; Poisson/Helmholtz
 * against exact solutions the schemes reproduce to rounding; GP regression against a dense
 * Cholesky solve of the full covariance built here; bad arguments against their codes and
 * messages. */
#include <hdf5.h>
#include <kron.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank_ = 0, failures = 0;
static const double PI = 3.14159265358979323846;

#define CHECK(call)                                                                     \
  do {                                                                                  \
    if ((call) != KRON_OK) {                                                            \
      fprintf(stderr, "test_capi:%d: %s failed: %s\n", __LINE__, #call, kron_last_error()); \
      MPI_Abort(MPI_COMM_WORLD, 2);                                                     \
    }                                                                                   \
  } while (0)

static void expect(int ok, const char* what, double value) {
  int all = ok;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!all) ++failures;
  if (rank_ == 0) printf("%s %s (%.3g)\n", all ? "ok:  " : "FAIL:", what, value);
}
static double max_all(double v) {
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return v;
}
/* A call that must fail with `code` and a message containing `text`. */
static void expect_error(int status, int code, const char* text, const char* what) {
  const char* msg = kron_last_error();
  const int ok = status == code && strstr(msg, text) != NULL;
  if (!ok && rank_ == 0) fprintf(stderr, "  got status %d, message '%s'\n", status, msg);
  expect(ok, what, status);
}

static double input_value(long i, long j, long k, int c) { return sin(1.3 * i + 0.7 * j * j + 0.3 * k + c) + 0.1 * c; }

/* The 1D transform matrix entry of `kind` (output index o, input index j, n points): re, im. */
static void kernel1d(int kind, long o, long j, long n, double* re, double* im) {
  *im = 0;
  switch (kind) {
    case KRON_TRANSFORM_NONE: *re = o == j; break;
    case KRON_TRANSFORM_FOURIER: *re = cos(2 * PI * j * o / n); *im = -sin(2 * PI * j * o / n); break;
    case KRON_TRANSFORM_DCT2: *re = 2 * cos(PI * (2 * j + 1) * o / (2.0 * n)); break;
    case KRON_TRANSFORM_DST1: *re = 2 * sin(PI * (j + 1) * (o + 1) / (n + 1.0)); break;
    default: *re = NAN;
  }
}

static void test_fft(const int kinds[3], int ncomp, const char* name) {
  const long n[3] = {6, 5, 4};
  const double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
  const int kind[3] = {KRON_AXIS_PERIODIC, KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM};
  kron_decomp d;
  CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, 0, 0, &d));
  long off[3], ext[3];
  CHECK(kron_decomp_local_box(d, off, ext));
  const long local = ext[0] * ext[1] * ext[2];
  double* u = malloc(sizeof(double) * (local * ncomp + 1));
  double* back = malloc(sizeof(double) * (local * ncomp + 1));
  for (int c = 0; c < ncomp; ++c)
    for (long k = 0; k < ext[2]; ++k)
      for (long j = 0; j < ext[1]; ++j)
        for (long i = 0; i < ext[0]; ++i) u[c * local + (k * ext[1] + j) * ext[0] + i] = input_value(off[0] + i, off[1] + j, off[2] + k, c);
  kron_field fu, fb;
  CHECK(kron_field_wrap(d, u, ncomp, &fu));
  CHECK(kron_field_wrap(d, back, ncomp, &fb));
  kron_fft p;
  CHECK(kron_fft_create(d, kinds, ncomp, &p));
  long ooff[3], oext[3], str[4], size;
  int cplx;
  CHECK(kron_fft_output_box(p, ooff, oext, str, &size, &cplx));
  const int w = cplx ? 2 : 1;
  double* out = malloc(sizeof(double) * (w * size + 1));
  CHECK(kron_fft_forward(p, fu, out));
  double err = 0, scale = 0;
  for (int c = 0; c < ncomp; ++c)
    for (long k = 0; k < oext[2]; ++k)
      for (long j = 0; j < oext[1]; ++j)
        for (long i = 0; i < oext[0]; ++i) {
          const long o[3] = {ooff[0] + i, ooff[1] + j, ooff[2] + k};
          double sr = 0, si = 0;
          for (long z = 0; z < n[2]; ++z)
            for (long y = 0; y < n[1]; ++y)
              for (long x = 0; x < n[0]; ++x) {
                double ar, ai, br, bi, cr, ci;
                kernel1d(kinds[0], o[0], x, n[0], &ar, &ai);
                kernel1d(kinds[1], o[1], y, n[1], &br, &bi);
                kernel1d(kinds[2], o[2], z, n[2], &cr, &ci);
                const double pr = ar * br - ai * bi, pi = ar * bi + ai * br;
                const double qr = pr * cr - pi * ci, qi = pr * ci + pi * cr;
                const double v = input_value(x, y, z, c);
                sr += qr * v;
                si += qi * v;
              }
          const long e = c * str[3] + i * str[0] + j * str[1] + k * str[2];
          const double gr = out[w * e], gi = cplx ? out[w * e + 1] : 0;
          err = fmax(err, hypot(gr - sr, gi - si));
          scale = fmax(scale, hypot(sr, si));
        }
  err = max_all(err);
  scale = max_all(scale);
  char what[160];
  snprintf(what, sizeof what, "%s: forward against the direct sums, relative", name);
  expect(err <= 1e-12 * scale, what, err / scale);
  CHECK(kron_fft_backward(p, out, fb));
  double norm, rt = 0;
  CHECK(kron_fft_normalization(p, &norm));
  for (long q = 0; q < local * ncomp; ++q) rt = fmax(rt, fabs(back[q] * norm - u[q]));
  rt = max_all(rt);
  snprintf(what, sizeof what, "%s: backward(forward(u)) * normalization = u", name);
  expect(rt < 1e-13, what, rt);
  CHECK(kron_fft_destroy(&p));
  CHECK(kron_field_destroy(&fu));
  CHECK(kron_field_destroy(&fb));
  CHECK(kron_decomp_destroy(&d));
  free(u); free(back); free(out);
}

static double boundary_quadratic(int axis, int side, const double x[3], void* ctx) {
  (void)axis; (void)side;
  const double* c = ctx;
  return c[0] * x[0] * x[0] + c[1] * x[1] * x[1] + c[2] * x[0] * x[1];
}

static void test_poisson(void) {
  /* Helmholtz, periodic, Fourier: u = sin x cos 2y + 0.5 sin 3z, lap u - 2u = f exactly. */
  {
    const long n[3] = {8, 10, 12};
    const double lo[3] = {0, 0, 0}, hi[3] = {2 * PI, 2 * PI, 2 * PI};
    const int kind[3] = {KRON_AXIS_PERIODIC, KRON_AXIS_PERIODIC, KRON_AXIS_PERIODIC};
    const int bc[3] = {KRON_BC_PERIODIC, KRON_BC_PERIODIC, KRON_BC_PERIODIC};
    kron_decomp d;
    CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, 0, 0, &d));
    long off[3], ext[3];
    CHECK(kron_decomp_local_box(d, off, ext));
    double* X[3];
    for (int a = 0; a < 3; ++a) {
      X[a] = malloc(sizeof(double) * n[a]);
      CHECK(kron_decomp_coordinates(d, a, X[a]));
    }
    kron_field ff, fu;
    CHECK(kron_field_create(d, 1, &ff));
    CHECK(kron_field_create(d, 1, &fu));
    double *f, *u;
    int nc;
    CHECK(kron_field_data(ff, &f, &nc));
    CHECK(kron_field_data(fu, &u, &nc));
    for (long k = 0; k < ext[2]; ++k)
      for (long j = 0; j < ext[1]; ++j)
        for (long i = 0; i < ext[0]; ++i) {
          const double x = X[0][off[0] + i], y = X[1][off[1] + j], z = X[2][off[2] + k];
          f[(k * ext[1] + j) * ext[0] + i] = -7 * sin(x) * cos(2 * y) - 5.5 * sin(3 * z);
        }
    kron_poisson s;
    CHECK(kron_poisson_create(d, KRON_SCHEME_FOURIER, bc, 2.0, &s));
    CHECK(kron_poisson_solve(s, ff, NULL, NULL, fu));
    double err = 0;
    for (long k = 0; k < ext[2]; ++k)
      for (long j = 0; j < ext[1]; ++j)
        for (long i = 0; i < ext[0]; ++i) {
          const double x = X[0][off[0] + i], y = X[1][off[1] + j], z = X[2][off[2] + k];
          err = fmax(err, fabs(u[(k * ext[1] + j) * ext[0] + i] - (sin(x) * cos(2 * y) + 0.5 * sin(3 * z))));
        }
    expect(max_all(err) < 1e-12, "helmholtz: periodic Fourier solve exact to rounding", max_all(err));
    CHECK(kron_poisson_destroy(&s));
    CHECK(kron_field_destroy(&ff));
    CHECK(kron_field_destroy(&fu));
    CHECK(kron_decomp_destroy(&d));
    for (int a = 0; a < 3; ++a) free(X[a]);
  }
  /* Poisson, Dirichlet data from a callback, FD2 (exact for quadratics): u = x^2 + 2y^2 + 3xy. */
  {
    const long n[3] = {9, 7, 1};
    const double lo[3] = {0, -1, 0}, hi[3] = {1, 1, 0};
    const int kind[3] = {KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM};
    const int bc[3] = {KRON_BC_DIRICHLET, KRON_BC_DIRICHLET, KRON_BC_PERIODIC};
    double coef[3] = {1, 2, 3};
    kron_decomp d;
    CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, 0, 0, &d));
    long off[3], ext[3];
    CHECK(kron_decomp_local_box(d, off, ext));
    double x[9], y[7];
    CHECK(kron_decomp_coordinates(d, 0, x));
    CHECK(kron_decomp_coordinates(d, 1, y));
    const long local = ext[0] * ext[1];
    double* f = malloc(sizeof(double) * (local + 1));
    double* u = malloc(sizeof(double) * (local + 1));
    for (long q = 0; q < local; ++q) f[q] = 6, u[q] = NAN; /* the solve writes every point of u */
    kron_field ff, fu;
    CHECK(kron_field_wrap(d, f, 1, &ff));
    CHECK(kron_field_wrap(d, u, 1, &fu));
    kron_poisson s;
    CHECK(kron_poisson_create(d, KRON_SCHEME_FD2, bc, 0.0, &s));
    CHECK(kron_poisson_solve(s, ff, boundary_quadratic, coef, fu));
    double err = 0;
    for (long j = 0; j < ext[1]; ++j)
      for (long i = 0; i < ext[0]; ++i) {
        const double X3[3] = {x[off[0] + i], y[off[1] + j], 0};
        const double e = fabs(u[j * ext[0] + i] - boundary_quadratic(0, 0, X3, coef));
        err = isnan(e) ? INFINITY : fmax(err, e);
      }
    expect(max_all(err) < 1e-12, "poisson: Dirichlet data from a C callback, FD2 exact for a quadratic", max_all(err));
    CHECK(kron_poisson_destroy(&s));
    CHECK(kron_field_destroy(&ff));
    CHECK(kron_field_destroy(&fu));
    CHECK(kron_decomp_destroy(&d));
    free(f); free(u);
  }
}

/* Dense Cholesky of the n x n SPD matrix A (lower, in place); returns 0 if not SPD. */
static int cholesky(double* A, int n) {
  for (int j = 0; j < n; ++j) {
    double s = A[j * n + j];
    for (int k = 0; k < j; ++k) s -= A[j * n + k] * A[j * n + k];
    if (s <= 0) return 0;
    A[j * n + j] = sqrt(s);
    for (int i = j + 1; i < n; ++i) {
      double t = A[i * n + j];
      for (int k = 0; k < j; ++k) t -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = t / A[j * n + j];
    }
  }
  return 1;
}

static double kernel_value(int kernel, double d, double l) {
  if (kernel == KRON_KERNEL_SQUARED_EXPONENTIAL) return exp(-d * d / (2 * l * l));
  const double s = sqrt(5.0) * fabs(d) / l;
  return (1 + s + s * s / 3) * exp(-s);
}

static void test_gp(int kernel, const char* name) {
  const long n[3] = {5, 4, 3};
  const double lo[3] = {0, 0, -1}, hi[3] = {1, 2, 1}, ell[3] = {0.4, 0.7, 0.5};
  const int kind[3] = {KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM, KRON_AXIS_CHEBYSHEV};
  const double variance = 1.3, noise = 0.01;
  kron_decomp d;
  CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, 0, 0, &d));
  long off[3], ext[3];
  CHECK(kron_decomp_local_box(d, off, ext));
  double* X[3];
  for (int a = 0; a < 3; ++a) {
    X[a] = malloc(sizeof(double) * n[a]);
    CHECK(kron_decomp_coordinates(d, a, X[a]));
  }
  const int N = (int)(n[0] * n[1] * n[2]);
  double* yall = malloc(sizeof(double) * N);
  double* A = malloc(sizeof(double) * N * N);
  double* alpha = malloc(sizeof(double) * N);
  for (int p = 0; p < N; ++p) yall[p] = cos(0.9 * p) + 0.3 * sin(2.1 * p * p);
  for (int p = 0; p < N; ++p)
    for (int q = 0; q < N; ++q) {
      const long pi[3] = {p % n[0], (p / n[0]) % n[1], p / (n[0] * n[1])}, qi[3] = {q % n[0], (q / n[0]) % n[1], q / (n[0] * n[1])};
      double k = variance;
      for (int a = 0; a < 3; ++a) k *= kernel_value(kernel, X[a][pi[a]] - X[a][qi[a]], ell[a]);
      A[p * N + q] = k + (p == q ? noise : 0);
    }
  double* K = malloc(sizeof(double) * N * N);
  memcpy(K, A, sizeof(double) * N * N);
  for (int p = 0; p < N; ++p) K[p * N + p] -= noise;
  if (!cholesky(A, N)) expect(0, "dense reference covariance is SPD", 0);
  for (int i = 0; i < N; ++i) { /* L z = y, then L^T alpha = z */
    double t = yall[i];
    for (int k = 0; k < i; ++k) t -= A[i * N + k] * alpha[k];
    alpha[i] = t / A[i * N + i];
  }
  for (int i = N - 1; i >= 0; --i) {
    double t = alpha[i];
    for (int k = i + 1; k < N; ++k) t -= A[k * N + i] * alpha[k];
    alpha[i] = t / A[i * N + i];
  }
  double fit = 0, logdet = 0;
  for (int i = 0; i < N; ++i) fit += yall[i] * alpha[i], logdet += 2 * log(A[i * N + i]);
  const double want_ll = -0.5 * fit - 0.5 * logdet - 0.5 * N * log(2 * PI);
  const long local = ext[0] * ext[1] * ext[2];
  double* y = malloc(sizeof(double) * (local + 1));
  double* mean = malloc(sizeof(double) * (local + 1));
  for (long k = 0; k < ext[2]; ++k)
    for (long j = 0; j < ext[1]; ++j)
      for (long i = 0; i < ext[0]; ++i) y[(k * ext[1] + j) * ext[0] + i] = yall[((off[2] + k) * n[1] + off[1] + j) * n[0] + off[0] + i];
  kron_field fy, fm;
  CHECK(kron_field_wrap(d, y, 1, &fy));
  CHECK(kron_field_wrap(d, mean, 1, &fm));
  double ll;
  CHECK(kron_gp_regress(d, kernel, ell, variance, noise, fy, fm, &ll));
  double err = 0, scale = 0;
  for (long k = 0; k < ext[2]; ++k)
    for (long j = 0; j < ext[1]; ++j)
      for (long i = 0; i < ext[0]; ++i) {
        const long p = ((off[2] + k) * n[1] + off[1] + j) * n[0] + off[0] + i;
        double m = 0;
        for (int q = 0; q < N; ++q) m += K[p * N + q] * alpha[q];
        err = fmax(err, fabs(mean[(k * ext[1] + j) * ext[0] + i] - m));
        scale = fmax(scale, fabs(m));
      }
  char what[160];
  snprintf(what, sizeof what, "gp %s: posterior mean against a dense Cholesky solve, relative", name);
  expect(max_all(err) <= 1e-9 * max_all(scale), what, max_all(err) / max_all(scale));
  snprintf(what, sizeof what, "gp %s: log marginal likelihood against the dense one, relative", name);
  expect(fabs(ll - want_ll) <= 1e-9 * fabs(want_ll), what, fabs(ll - want_ll) / fabs(want_ll));
  CHECK(kron_field_destroy(&fy));
  CHECK(kron_field_destroy(&fm));
  CHECK(kron_decomp_destroy(&d));
  for (int a = 0; a < 3; ++a) free(X[a]);
  free(yall); free(A); free(K); free(alpha); free(y); free(mean);
}

static void test_errors(void) {
  int np;
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  const long n[3] = {8, 6, 1};
  const double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 0};
  const int kind[3] = {KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM};
  kron_decomp d = NULL, other = NULL;
  expect_error(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, np + 1, 1, &d), KRON_ERROR_ARGUMENT, "process grid",
               "errors: a process grid that is not the rank count");
  expect(d == NULL, "errors: a failed create leaves the handle NULL", 0);
  const double bad_hi[3] = {-1, 1, 0};
  expect_error(kron_decomp_create(MPI_COMM_WORLD, n, lo, bad_hi, kind, 0, 0, &d), KRON_ERROR_ARGUMENT, "axis x",
               "errors: an empty interval names its axis");
  const int bad_kind[3] = {7, 0, 0};
  expect_error(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, bad_kind, 0, 0, &d), KRON_ERROR_ARGUMENT, "kind[0] = 7",
               "errors: an unknown axis kind");
  CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lo, hi, kind, 0, 0, &d));
  expect(strcmp(kron_last_error(), "") == 0, "errors: a successful call clears the message", 0);
  const long n2[3] = {9, 6, 1};
  CHECK(kron_decomp_create(MPI_COMM_WORLD, n2, lo, hi, kind, 0, 0, &other));
  long ext[3];
  CHECK(kron_decomp_local_box(d, NULL, ext));
  kron_field f = NULL, g = NULL;
  expect_error(kron_field_wrap(d, NULL, 1, &f), ext[0] * ext[1] > 0 ? KRON_ERROR_ARGUMENT : KRON_OK, ext[0] * ext[1] > 0 ? "data is NULL" : "",
               "errors: wrapping a NULL array");
  CHECK(kron_field_destroy(&f));
  expect_error(kron_field_create(d, 0, &f), KRON_ERROR_ARGUMENT, "ncomp 0", "errors: a field of no components");
  CHECK(kron_field_create(d, 1, &f));
  CHECK(kron_field_create(other, 1, &g));
  const int kinds[3] = {KRON_TRANSFORM_DCT1, KRON_TRANSFORM_DCT1, KRON_TRANSFORM_NONE};
  kron_fft p;
  CHECK(kron_fft_create(d, kinds, 1, &p));
  double* buf = malloc(sizeof(double) * 256);
  expect_error(kron_fft_forward(p, g, buf), KRON_ERROR_ARGUMENT, "another decomposition", "errors: a field of another grid");
  const int bad_kinds[3] = {1, 9, 0};
  kron_fft q = NULL;
  expect_error(kron_fft_create(d, bad_kinds, 1, &q), KRON_ERROR_ARGUMENT, "kinds[1] = 9", "errors: an unknown transform");
  const int periodic_bc[3] = {KRON_BC_PERIODIC, KRON_BC_DIRICHLET, KRON_BC_PERIODIC};
  kron_poisson s = NULL;
  expect_error(kron_poisson_create(d, KRON_SCHEME_FD2, periodic_bc, 0, &s), KRON_ERROR_RUNTIME, "does not fit",
               "errors: periodic boundaries on a non-periodic axis");
  const int dbc[3] = {KRON_BC_DIRICHLET, KRON_BC_DIRICHLET, KRON_BC_PERIODIC};
  expect_error(kron_poisson_create(d, 17, dbc, 0, &s), KRON_ERROR_ARGUMENT, "scheme 17", "errors: an unknown scheme");
  expect_error(kron_poisson_create(d, KRON_SCHEME_FD2, dbc, -1, &s), KRON_ERROR_ARGUMENT, "shift", "errors: a negative shift");
  const double ell[3] = {1, 1, 1};
  expect_error(kron_gp_regress(d, KRON_KERNEL_MATERN52, ell, 1, 0, f, f, NULL), KRON_ERROR_ARGUMENT, "noise",
               "errors: a noise-free GP");
  kron_surrogate m = NULL;
  expect_error(kron_surrogate_load(MPI_COMM_WORLD, "no/such/model.h5", &m), KRON_ERROR_RUNTIME, "no/such/model.h5",
               "errors: a missing model file named");
  kron_output o;
  /* One directory per rank count: ctest runs capi_np1..4 side by side in one folder. */
  char dir[64], h5name[96], xdmfname[96];
  snprintf(dir, sizeof dir, "capi_out_np%d", np);
  snprintf(h5name, sizeof h5name, "%s/t_000003.h5", dir);
  snprintf(xdmfname, sizeof xdmfname, "%s/t.xdmf", dir);
  CHECK(kron_output_create(d, dir, "t", &o));
  kron_field two[2] = {f, f};
  expect_error(kron_output_write(o, 0, 0, "a", 2, two), KRON_ERROR_ARGUMENT, "name 1 fields", "errors: names and fields disagree");
  expect_error(kron_output_write(o, 0, 0, "a,b/c", 2, two), KRON_ERROR_ARGUMENT, "slash", "errors: a field name with a slash");
  { /* values that say where they are: 10 x + y in global indices */
    long off[3], e[3];
    double* v;
    int nc;
    CHECK(kron_decomp_local_box(d, off, e));
    CHECK(kron_field_data(f, &v, &nc));
    for (long j = 0; j < e[1]; ++j)
      for (long i = 0; i < e[0]; ++i) v[i + e[0] * j] = 10.0 * (double)(off[0] + i) + (double)(off[1] + j);
  }
  CHECK(kron_output_write(o, 3, 0.5, "a,b", 2, two));
  FILE* xdmf = fopen(xdmfname, "rb");
  expect(xdmf != NULL, "output: t.xdmf written", 0);
  if (xdmf) fclose(xdmf);
  { /* read back by plain serial HDF5 on every rank: the global [ny][nx] arrays hold each rank's box */
    double worst = -1;
    const hid_t file = H5Fopen(h5name, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
      worst = 0;
      for (int k = 0; k < 2; ++k) {
        double all[6][8];
        const hid_t ds = H5Dopen2(file, k == 0 ? "/fields/a" : "/fields/b", H5P_DEFAULT);
        if (ds < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0) worst = 1e300;
        if (ds >= 0) H5Dclose(ds);
        for (int j = 0; j < 6 && worst < 1e300; ++j)
          for (int i = 0; i < 8; ++i) worst = fmax(worst, fabs(all[j][i] - (10.0 * i + j)));
      }
      double t = -1;
      const hid_t a = H5Aopen(file, "time", H5P_DEFAULT);
      if (a >= 0) {
        H5Aread(a, H5T_NATIVE_DOUBLE, &t);
        H5Aclose(a);
      }
      if (t != 0.5) worst = 1e300;
      H5Fclose(file);
    }
    expect(worst == 0, "output: t_000003.h5 holds fields a and b exactly and time 0.5", worst);
  }
  expect_error(kron_decomp_local_box(NULL, NULL, ext), KRON_ERROR_ARGUMENT, "decomp is NULL", "errors: a NULL handle");
  CHECK(kron_output_destroy(&o));
  CHECK(kron_output_destroy(&o)); /* NULL now: no-op */
  expect(o == NULL, "errors: destroy sets the handle to NULL", 0);
  /* Destroying the decomposition first leaves its fields and plans usable (they share it). */
  CHECK(kron_decomp_destroy(&d));
  CHECK(kron_fft_forward(p, f, buf));
  CHECK(kron_fft_destroy(&p));
  CHECK(kron_field_destroy(&f));
  CHECK(kron_field_destroy(&g));
  CHECK(kron_decomp_destroy(&other));
  free(buf);
}

static int predict(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: test_capi predict MODEL IN OUT N\n");
    return 2;
  }
  kron_surrogate m;
  CHECK(kron_surrogate_load(MPI_COMM_WORLD, argv[2], &m));
  int dim;
  long s;
  CHECK(kron_surrogate_shape(m, &dim, &s));
  const long N = atol(argv[5]), P = dim == 2 ? s * s : s;
  double* a = malloc(sizeof(double) * N * P);
  double* u = malloc(sizeof(double) * N * P);
  FILE* in = fopen(argv[3], "rb");
  if (!in || fread(a, sizeof(double), (size_t)(N * P), in) != (size_t)(N * P)) {
    fprintf(stderr, "test_capi: cannot read %ld x %ld doubles from %s\n", N, P, argv[3]);
    return 2;
  }
  fclose(in);
  CHECK(kron_surrogate_predict(m, a, u, N));
  if (rank_ == 0) {
    FILE* out = fopen(argv[4], "wb");
    fwrite(u, sizeof(double), (size_t)(N * P), out);
    fclose(out);
    printf("predicted %ld samples of %ld points (dim %d)\n", N, P, dim);
  }
  CHECK(kron_surrogate_destroy(&m));
  free(a); free(u);
  return 0;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  int status;
  if (argc > 1 && strcmp(argv[1], "predict") == 0) {
    status = predict(argc, argv);
  } else {
    int v[3];
    CHECK(kron_version(&v[0], &v[1], &v[2]));
    if (rank_ == 0) printf("kron %d.%d.%d (%s)\n", v[0], v[1], v[2], kron_git_hash());
    const int k1[3] = {KRON_TRANSFORM_FOURIER, KRON_TRANSFORM_DCT2, KRON_TRANSFORM_DST1};
    const int k2[3] = {KRON_TRANSFORM_DST1, KRON_TRANSFORM_NONE, KRON_TRANSFORM_DCT2};
    const int k3[3] = {KRON_TRANSFORM_FOURIER, KRON_TRANSFORM_FOURIER, KRON_TRANSFORM_FOURIER};
    test_fft(k1, 1, "fft fourier x dct2 x dst1");
    test_fft(k2, 1, "fft dst1 x none x dct2 (real output)");
    test_fft(k3, 2, "fft fourier^3, two components");
    test_poisson();
    test_gp(KRON_KERNEL_SQUARED_EXPONENTIAL, "squared exponential");
    test_gp(KRON_KERNEL_MATERN52, "matern52");
    test_errors();
    if (rank_ == 0) printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    status = failures ? 1 : 0;
  }
  MPI_Finalize();
  return status;
}
