// kron-bench: measures kron against a named baseline in the same run and prints ratios.
//   mpirun -n 2 kron-bench --suite layout [--json FILE] [--sizes 128,256] [--repeat N]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench.hpp"
#include "kron/core/app.hpp"
#include "kron/core/error.hpp"
#include "kron/core/json.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/timer.hpp"
#include "kron/core/version.hpp"
#include "kron/layout/fft_wisdom.hpp"
#include "kron/linops/petsc_krylov.hpp"

namespace {

const char* usage =
    "usage: mpirun -n P kron-bench --suite NAME [options] [-- PETSc options]\n"
    "\n"
    "Times kron against a named baseline in the same run, on the same data and ranks, and prints\n"
    "a table of medians with their spread, bandwidths and speedups (per-round baseline/kron time\n"
    "ratios). kron and its baselines run interleaved, round by round, in alternating order; every\n"
    "case checks kron's result against the baseline's before it reports a time. Issue figures are\n"
    "quoted on 2 ranks. docs/benchmarking.md explains the method.\n"
    "\n"
    "suites:\n"
    "  layout    copy reference (STREAM-style, fixed size); transposes x->y, y->z, y->x with\n"
    "            MPI_Alltoallv and MPI_Alltoallw against a pre-packed MPI_Alltoall of the same bytes;\n"
    "            3D r2c/c2r FFT vs FFTW-MPI (FFTW_DESTROY_INPUT, in-place and out-of-place, the\n"
    "            faster reported; transposed output; same planner effort), checked mode by mode.\n"
    "            Cases: copy, transpose, fft. Default sizes 128,256.\n"
    "  linops    copy reference; fd2 Laplacian apply vs PETSc MatMult of the assembled 7-point AIJ\n"
    "            (time and memory); compact-6 d/dx, d/dy, d/dz (bandwidth against the copy reference);\n"
    "            DST-I of all lines vs FFTW's RODFT00 on the same lines; Dirichlet Poisson (fd2):\n"
    "            fast diagonalization vs a 3D RODFT00 solve through FFTW-MPI, and time to solution\n"
    "            (setup included, relative residual 1e-10) vs PETSc CG + GAMG and CG + hypre\n"
    "            BoomerAMG with tuned options. Cases: copy, laplacian, compact, dst1, poisson_fftw,\n"
    "            poisson_amg. Default size 256 (the first of --sizes); the AMG baselines take\n"
    "            minutes there and run 3 rounds.\n"
    "  gp        copy reference; a Gaussian-process solve (K + 1e-6 I) x = y with a Kronecker\n"
    "            covariance on an n x n grid (Matern-5/2 spectral mixture per axis): kron's\n"
    "            per-axis eigendecompositions and fast diagonalization vs a dense Cholesky (Eigen LLT\n"
    "            of the formed N x N matrix), time to solution, checked to agree; one GP-HM\n"
    "            optimiser step (objective + gradient, 2D grid model) vs the paper's per-axis LU\n"
    "            forward pass. Cases: copy, kronecker_solve, hm_step. Default sizes 64 (N = 4096)\n"
    "            and 200 (the hm_step grid, the second of --sizes).\n"
    "  nn        copy reference; a batch of vectors times a Monarch matrix (sqrt(n) blocks and 4\n"
    "            blocks) and a butterfly matrix against Eigen's dense GEMM with the same matrix\n"
    "            formed densely, checked to agree; FNO training steps (the paper's Darcy model,\n"
    "            fp64 and fp32) in samples/s. Cases: copy, monarch, butterfly, fno. Default sizes\n"
    "            1024,4096 (vector length n), batch 1024 (--quick: 256, batch 64).\n"
    "  gpu       one GPU, one rank (the CUDA build): the device copy as the floor; cuFFT 3D\n"
    "            r2c + c2r, and kron's distributed r2c + c2r against it; fd2 d2 and compact-6\n"
    "            d/dx, d/dy, d/dz line operators and the fd2 Laplacian as three sweeps and as one\n"
    "            stencil kernel (bandwidth against the device copy); a dense n x n operator along\n"
    "            x (cuBLAS); periodic fd2 Poisson vs cuFFT r2c + c2r; Dirichlet fd2 and compact-6\n"
    "            Poisson and an fd2 ADI heat step on the GPU vs the same on this machine's CPU (3\n"
    "            rounds); a batch of 65536 vectors times a Monarch matrix (n = 1024 and 4096,\n"
    "            sqrt(n) blocks): MonarchMap's LineOps vs cuBLAS DGEMM, and the fused kernel in\n"
    "            fp64, fp32 and bf16 vs cuBLAS DGEMM, SGEMM and bf16 GEMM; FNO training steps in\n"
    "            fp64 and fp32 against the PyTorch reference's recorded samples/s. Each result\n"
    "            checked against an exact solution or the fp64 product. Cases: copy, cufft, fft,\n"
    "            lineop, laplacian, dense_x, poisson_periodic, poisson_dirichlet, adi, monarch,\n"
    "            fno. Default size 512.\n"
    "\n"
    "options:\n"
    "  --suite NAME     suite to run (required)\n"
    "  --json FILE      also write the results as JSON to FILE (written atomically)\n"
    "  --sizes N[,N..]  grid sizes n (n^3 points) instead of the suite's defaults\n"
    "  --cases C[,C..]  run only these cases of the suite (the copy reference always runs)\n"
    "  --repeat N       timed rounds per case (default 20; 3 for the AMG baselines; --quick: 3)\n"
    "  --effort E       FFTW planner effort for kron and baseline: estimate|measure|patient|\n"
    "                   exhaustive (default measure)\n"
    "  --wisdom FILE    FFTW wisdom file read at start and written at the end (default: kron's,\n"
    "                   $KRON_FFTW_WISDOM or ~/.cache/kron/; 'none': no wisdom)\n"
    "  --timers         print kron's internal timer table (transposes, line transforms, ...)\n"
    "  --quick          small sizes, few rounds (a smoke run, as the tests do)\n"
    "  --inject-error C perturb kron's result in case C: the run must fail its cross-check (a\n"
    "                   test of the bench itself)\n"
    "  -h, --help       this help\n"
    "  -- OPTIONS       PETSc options for the linops baselines, over the tuned defaults: the GAMG\n"
    "                   solve reads prefix gamg_ (-gamg_pc_gamg_threshold 0.05), hypre prefix hypre_\n"
    "                   (-hypre_pc_hypre_boomeramg_strong_threshold 0.7); the options used are logged\n";

long parse_long(const std::string& opt, const std::string& v, long lo) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < lo)
    throw kron::Error("option " + opt + " expects an integer >= " + std::to_string(lo) + ", got '" + v + "'",
                      {"command line", 0, {}}, "kron-bench --help lists the options");
  return x;
}

int run(int argc, char** argv) {
  using namespace kron;
  const double t_start = core::wall_time();
  bench::Options opt;
  std::string suite, json_path;
  bool timers = false;
  std::string wisdom = layout::default_wisdom_path();
  std::vector<std::string> petsc_args;
  auto value = [&](int& i, const std::string& a) -> std::string {
    if (i + 1 >= argc) throw Error("option " + a + " needs a value", {"command line", 0, {}}, "kron-bench --help lists the options");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      if (core::mpi::rank(MPI_COMM_WORLD) == 0) std::printf("%s", usage);
      return 0;
    } else if (a == "--suite") {
      suite = value(i, a);
    } else if (a == "--json") {
      json_path = value(i, a);
    } else if (a == "--repeat") {
      opt.repeat = static_cast<int>(parse_long(a, value(i, a), 1));
    } else if (a == "--effort") {
      opt.effort = value(i, a);
      if (opt.effort != "estimate" && opt.effort != "measure" && opt.effort != "patient" && opt.effort != "exhaustive")
        throw Error("option --effort expects estimate|measure|patient|exhaustive, got '" + opt.effort + "'",
                    {"command line", 0, {}});
    } else if (a == "--sizes") {
      const std::string v = value(i, a);
      std::size_t p = 0;
      while (p <= v.size()) {
        const std::size_t q = std::min(v.find(',', p), v.size());
        opt.sizes.push_back(parse_long(a, v.substr(p, q - p), 2));
        p = q + 1;
      }
    } else if (a == "--cases") {
      const std::string v = value(i, a);
      std::size_t p = 0;
      while (p <= v.size()) {
        const std::size_t q = std::min(v.find(',', p), v.size());
        opt.cases.push_back(v.substr(p, q - p));
        p = q + 1;
      }
    } else if (a == "--timers") {
      timers = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--inject-error") {
      opt.inject = value(i, a);
    } else if (a == "--wisdom") {
      wisdom = value(i, a);
    } else if (a == "--") {
      petsc_args.assign(argv + i + 1, argv + argc);
      break;
    } else {
      throw Error("unknown option '" + a + "'", {"command line", 0, {}}, "kron-bench --help lists the options");
    }
  }
  if (suite.empty()) throw Error("no suite given", {"command line", 0, {}}, "use --suite layout; kron-bench --help lists the suites");

  linops::petsc::set_command_line(petsc_args);
  if (!petsc_args.empty() && suite != "linops")
    throw Error("PETSc options after '--' apply to the linops suite only", {"command line", 0, {}});
  layout::FftWisdom fftw_wisdom(wisdom, MPI_COMM_WORLD);
  bench::Report report(suite, MPI_COMM_WORLD);
  if (suite == "layout")
    bench::run_layout_suite(opt, report, MPI_COMM_WORLD);
  else if (suite == "linops")
    bench::run_linops_suite(opt, report, MPI_COMM_WORLD);
  else if (suite == "gp")
    bench::run_gp_suite(opt, report, MPI_COMM_WORLD);
  else if (suite == "nn")
    bench::run_nn_suite(opt, report, MPI_COMM_WORLD);
  else if (suite == "gpu") {
#ifdef KRON_HAVE_CUDA
    bench::run_gpu_suite(opt, report, MPI_COMM_WORLD);
#else
    throw Error("the gpu suite needs the CUDA build of kron", {"command line", 0, {}},
                "rebuild where the CUDA Toolkit is installed (cmake -DKRON_ENABLE_CUDA=ON)");
#endif
  } else
    throw Error("unknown suite '" + suite + "'", {"command line", 0, {}}, "available: layout, linops, gp, nn, gpu");
  report.print();
  fftw_wisdom.save();
  if (timers) {
    const std::string table = core::Timers::global().summary(MPI_COMM_WORLD, core::wall_time() - t_start);
    if (core::mpi::rank(MPI_COMM_WORLD) == 0) std::printf("\nkron timers over the whole run (max/min over ranks)\n%s", table.c_str());
  }
  if (!json_path.empty()) {
    core::Json j = report.json();
    j["kron_version"] = core::version_string;
    j["git_hash"] = core::git_hash;
    std::string err;
    if (core::mpi::rank(MPI_COMM_WORLD) == 0) {
      try {
        core::write_file_atomic(json_path, j.dump());
      } catch (const Error& e) {
        err = e.what();
      }
    }
    if (!core::mpi::all(err.empty(), MPI_COMM_WORLD)) throw Error(err.empty() ? "writing " + json_path + " failed" : err);
    core::log::info("results written to ", json_path);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kron::core::mpi::Environment env(&argc, &argv);
  return kron::core::run_app("kron-bench", [&] { return run(argc, argv); });
}
