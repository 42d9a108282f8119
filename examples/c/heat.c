/* heat.c: a small simulation code in C on kron's C API.
 *
 * The code owns its arrays and its communicator. It advances the heat equation u_t = lap u on the
 * periodic box [0, 2 pi)^2 by backward Euler, (I - dt lap) u_new = u, each step one kron fast
 * Helmholtz solve on the code's own array (wrapped, not copied); it checks the decay against the
 * exact discrete one, measures the final state's Fourier amplitude with a distributed r2c
 * transform, smooths a noisy copy by Kronecker GP regression, and writes every few steps to HDF5
 * that ParaView opens through out/heat.xdmf.
 *
 *   mpirun -n 3 ./heat_c [OUTPUT_DIR]
 */
#include <kron.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != KRON_OK) {                                                          \
      fprintf(stderr, "heat_c: %s failed: %s\n", #call, kron_last_error());           \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                   \
    }                                                                                 \
  } while (0)

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char* dir = argc > 1 ? argv[1] : "out_c";
  const double pi = acos(-1.0);

  /* The grid: 64 x 48 periodic points, a 2D problem (one point along z). */
  const long n[3] = {64, 48, 1};
  const double lower[3] = {0, 0, 0}, upper[3] = {2 * pi, 2 * pi, 0};
  const int kind[3] = {KRON_AXIS_PERIODIC, KRON_AXIS_PERIODIC, KRON_AXIS_PERIODIC};
  kron_decomp d;
  CHECK(kron_decomp_create(MPI_COMM_WORLD, n, lower, upper, kind, 0, 0, &d));
  long off[3], ext[3];
  CHECK(kron_decomp_local_box(d, off, ext));
  double* x = malloc(sizeof(double) * n[0]);
  double* y = malloc(sizeof(double) * n[1]);
  CHECK(kron_decomp_coordinates(d, 0, x));
  CHECK(kron_decomp_coordinates(d, 1, y));

  /* The code's own arrays of its local box, u[j][i] with x fastest. */
  const long local = ext[0] * ext[1] * ext[2];
  double* u = malloc(sizeof(double) * (local ? local : 1));
  double* rhs = malloc(sizeof(double) * (local ? local : 1));
  for (long j = 0; j < ext[1]; ++j)
    for (long i = 0; i < ext[0]; ++i) u[j * ext[0] + i] = sin(x[off[0] + i]) * sin(y[off[1] + j]);
  kron_field fu, frhs;
  CHECK(kron_field_wrap(d, u, 1, &fu));
  CHECK(kron_field_wrap(d, rhs, 1, &frhs));

  /* Backward Euler: lap u_new - (1/dt) u_new = -(1/dt) u. Fourier differentiation makes the
   * discrete decay exact: the mode sin x sin y has eigenvalue -2, so u_n = u_0 / (1 + 2 dt)^n. */
  const double dt = 0.05;
  const int steps = 40;
  const int bc[3] = {KRON_BC_PERIODIC, KRON_BC_PERIODIC, KRON_BC_PERIODIC};
  kron_poisson solver;
  CHECK(kron_poisson_create(d, KRON_SCHEME_FOURIER, bc, 1.0 / dt, &solver));
  kron_output out;
  CHECK(kron_output_create(d, dir, "heat", &out));
  CHECK(kron_output_write(out, 0, 0.0, "u", 1, &fu));
  for (int s = 1; s <= steps; ++s) {
    for (long p = 0; p < local; ++p) rhs[p] = -u[p] / dt;
    CHECK(kron_poisson_solve(solver, frhs, NULL, NULL, fu));
    if (s % 10 == 0) CHECK(kron_output_write(out, s, s * dt, "u", 1, &fu));
  }
  double err = 0;
  const double amp = pow(1 + 2 * dt, -steps);
  for (long j = 0; j < ext[1]; ++j)
    for (long i = 0; i < ext[0]; ++i) err = fmax(err, fabs(u[j * ext[0] + i] - amp * sin(x[off[0] + i]) * sin(y[off[1] + j])));
  MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);

  /* The final state's spectrum: sin x sin y = -(e^{i(x+y)} - e^{i(x-y)} - ...)/4, so the r2c
   * coefficient of mode (1, 1) is -amp N / 4 (FFTW's unnormalised convention). */
  const int kinds[3] = {KRON_TRANSFORM_FOURIER, KRON_TRANSFORM_FOURIER, KRON_TRANSFORM_NONE};
  kron_fft fft;
  CHECK(kron_fft_create(d, kinds, 1, &fft));
  long ooff[3], oext[3], ostr[4], osize;
  int cplx;
  CHECK(kron_fft_output_box(fft, ooff, oext, ostr, &osize, &cplx));
  double* spec = malloc(sizeof(double) * 2 * (osize ? osize : 1));
  CHECK(kron_fft_forward(fft, fu, spec));
  double c11 = 0, peak_else = 0;
  for (long j = 0; j < oext[1]; ++j)
    for (long i = 0; i < oext[0]; ++i) {
      const long e = i * ostr[0] + j * ostr[1];
      const double mag = hypot(spec[2 * e], spec[2 * e + 1]);
      const long gi = ooff[0] + i, gj = ooff[1] + j;
      if (gi == 1 && gj == 1) c11 = spec[2 * e];
      else if (!(gi == 1 && gj == n[1] - 1)) peak_else = fmax(peak_else, mag);
    }
  MPI_Allreduce(MPI_IN_PLACE, &c11, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &peak_else, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  const double want = -amp * (double)(n[0] * n[1]) / 4;

  /* A noisy copy smoothed by GP regression (squared-exponential, lengthscale 1): closer to u. */
  double* noisy = malloc(sizeof(double) * (local ? local : 1));
  double* mean = malloc(sizeof(double) * (local ? local : 1));
  srand(17 + rank);
  for (long p = 0; p < local; ++p) noisy[p] = u[p] + 0.02 * ((double)rand() / RAND_MAX - 0.5) * 2;
  kron_field fnoisy, fmean;
  CHECK(kron_field_wrap(d, noisy, 1, &fnoisy));
  CHECK(kron_field_wrap(d, mean, 1, &fmean));
  const double ell[3] = {1.0, 1.0, 1.0};
  double loglik;
  CHECK(kron_gp_regress(d, KRON_KERNEL_SQUARED_EXPONENTIAL, ell, amp * amp, 0.02 * 0.02 / 3, fnoisy, fmean, &loglik));
  double e_noisy = 0, e_mean = 0;
  for (long p = 0; p < local; ++p) {
    e_noisy += (noisy[p] - u[p]) * (noisy[p] - u[p]);
    e_mean += (mean[p] - u[p]) * (mean[p] - u[p]);
  }
  MPI_Allreduce(MPI_IN_PLACE, &e_noisy, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &e_mean, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  kron_field fields[2] = {fnoisy, fmean};
  CHECK(kron_output_write(out, steps + 1, steps * dt, "noisy,smoothed", 2, fields));

  int p1, p2;
  CHECK(kron_decomp_process_grid(d, &p1, &p2));
  const int ok = err < 1e-12 && fabs(c11 - want) < 1e-9 * fabs(want) && peak_else < 1e-9 * fabs(want) && e_mean < 0.25 * e_noisy;
  if (rank == 0) {
    printf("heat_c: %d steps on %ld x %ld points, process grid %d x %d\n", steps, n[0], n[1], p1, p2);
    printf("  max |u - exact discrete decay| = %.2e\n", err);
    printf("  Fourier coefficient (1,1) = %.12g (exact %.12g), largest other %.1e\n", c11, want, peak_else);
    printf("  GP smoothing: rms error %.2e -> %.2e, log likelihood %.6g\n", sqrt(e_noisy / (n[0] * n[1])), sqrt(e_mean / (n[0] * n[1])), loglik);
    printf("  output: %s/heat.xdmf\n%s\n", dir, ok ? "heat_c: ok" : "heat_c: FAILED");
  }
  CHECK(kron_output_destroy(&out));
  CHECK(kron_fft_destroy(&fft));
  CHECK(kron_poisson_destroy(&solver));
  kron_field all[] = {fu, frhs, fnoisy, fmean};
  for (int i = 0; i < 4; ++i) CHECK(kron_field_destroy(&all[i]));
  CHECK(kron_decomp_destroy(&d));
  free(x); free(y); free(u); free(rhs); free(spec); free(noisy); free(mean);
  MPI_Finalize();
  return ok ? 0 : 1;
}
