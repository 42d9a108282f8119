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

namespace {

const char* usage =
    "usage: mpirun -n P kron-bench --suite NAME [options]\n"
    "\n"
    "Times kron against a named baseline in the same run, on the same data and ranks, and prints\n"
    "a table of times, bandwidths and speedups (baseline time / kron time). Issue figures are\n"
    "quoted on 2 ranks.\n"
    "\n"
    "suites:\n"
    "  layout    memcpy bandwidth (reference); transposes x->y, y->z, y->x with MPI_Alltoallv and\n"
    "            MPI_Alltoallw (GB/s, % of copy bandwidth); 3D r2c/c2r FFT vs FFTW-MPI\n"
    "            (fftw_mpi_plan_dft_r2c_3d, transposed output, same planner effort).\n"
    "            Default sizes 128,256.\n"
    "  linops    Laplacian apply (fd2) vs PETSc MatMult of the assembled 7-point AIJ (time and\n"
    "            operator memory); compact-6 d/dx, d/dy, d/dz (GB/s vs copy bandwidth); Dirichlet\n"
    "            Poisson (fd2) to relative residual 1e-10: fast diagonalization vs PETSc CG + GAMG\n"
    "            and CG + hypre BoomerAMG, assembly and setup counted. Default size 256 (the\n"
    "            first of --sizes); the PETSc AMG solves take minutes there.\n"
    "\n"
    "options:\n"
    "  --suite NAME     suite to run (required)\n"
    "  --json FILE      also write the results as JSON to FILE (written atomically)\n"
    "  --sizes N[,N..]  grid sizes n (n^3 points) instead of the suite's defaults\n"
    "  --cases C[,C..]  run only these cases of the suite (the copy bandwidth always runs)\n"
    "  --repeat N       timed repetitions per case (default 10; the minimum is reported)\n"
    "  --effort E       FFTW planner effort for kron and baseline: estimate|measure|patient|\n"
    "                   exhaustive (default measure)\n"
    "  --timers         print kron's internal timer table (transposes, line transforms, ...)\n"
    "  --quick          small sizes, few repetitions (a smoke run, as the tests do)\n"
    "  -h, --help       this help\n";

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
    } else {
      throw Error("unknown option '" + a + "'", {"command line", 0, {}}, "kron-bench --help lists the options");
    }
  }
  if (suite.empty()) throw Error("no suite given", {"command line", 0, {}}, "use --suite layout; kron-bench --help lists the suites");

  bench::Report report(suite, MPI_COMM_WORLD);
  if (suite == "layout")
    bench::run_layout_suite(opt, report, MPI_COMM_WORLD);
  else if (suite == "linops")
    bench::run_linops_suite(opt, report, MPI_COMM_WORLD);
  else
    throw Error("unknown suite '" + suite + "'", {"command line", 0, {}}, "available: layout, linops");
  report.print();
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
