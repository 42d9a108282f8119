// kron: runs the problem an input deck describes.  mpirun -n P kron DECK [section.key=value ...]
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kron/core/app.hpp"
#include "kron/core/deck.hpp"
#include "kron/core/device.hpp"
#include "kron/core/error.hpp"
#include "kron/core/json.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/stop.hpp"
#include "kron/core/text.hpp"
#include "kron/core/timer.hpp"
#include "kron/core/version.hpp"
#include "kron/layout/fft_wisdom.hpp"
#include "kron/layout/output.hpp"
#include "kron/linops/petsc_krylov.hpp"
#include "kron/problems/registry.hpp"

namespace {

const char* usage =
    "usage: mpirun -n P kron DECK [section.key=value ...] [options]\n"
    "\n"
    "Runs the problem described by the TOML input deck DECK. Any deck key can be overridden on\n"
    "the command line as section.key=value (the value is read as TOML; a bare word is a string).\n"
    "\n"
    "options:\n"
    "  -h, --help      print this help: options, then every deck section and key\n"
    "  --validate      parse and check the deck (grid, expressions, files, ranks), then exit\n"
    "  --print-deck    print the effective deck (defaults filled in), then exit\n"
    "  --version       print version and build information, then exit\n"
    "  --deck-reference  print every deck section and key as Markdown (docs/deck-reference.md), then exit\n"
    "  -- ARGS         hand ARGS to PETSc's options database (problems that use PETSc, e.g.\n"
    "                  kron deck.toml -- -ksp_type gmres -ksp_monitor); they win over [petsc]\n"
    "\n"
    "Output goes to [output] dir: <name>_<step>.h5 (open <name>.xdmf in ParaView) and\n"
    "summary.json. Errors are reported as 'kron: error: FILE:LINE: what (hint)'.\n";

bool is_root() { return kron::core::mpi::rank(MPI_COMM_WORLD) == 0; }

// Before any work (and without creating anything, so --validate stays read-only): the output
// folder must exist as a writable directory, or be creatable under the nearest existing one.
void check_output_dir(const kron::core::Deck& deck) {
  namespace fs = std::filesystem;
  const std::string dir = deck.string("output", "dir");
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(dir), ec);
  std::string what;
  for (fs::path q = p;; q = q.parent_path()) {
    if (fs::exists(q, ec)) {
      if (!fs::is_directory(q, ec)) what = "'" + q.string() + "' is not a directory";
      else if (::access(q.c_str(), W_OK) != 0) what = "'" + q.string() + "' is not writable (" + std::strerror(errno) + ")";
      break;
    }
    if (q == q.parent_path()) break;
  }
  if (!what.empty())
    throw deck.error("output", "dir", "cannot write the output folder '" + dir + "': " + what, "choose a folder you can write to");
  // A run owns its output: files of an earlier run are replaced, or (existing = "refuse") the run
  // does not start. Listed on rank 0, the one that writes the small files.
  if (deck.string("output", "existing") == "refuse") {
    std::string found;
    if (is_root()) {
      const auto files = kron::layout::earlier_output(dir, deck.string("output", "name"));
      if (!files.empty()) found = std::to_string(files.size()) + " file(s) of an earlier run, e.g. '" + files.front() + "'";
    }
    found = kron::core::mpi::broadcast(found, MPI_COMM_WORLD);
    if (!found.empty())
      throw deck.error("output", "existing", "is 'refuse' and '" + dir + "' holds " + found,
                       "choose another output.dir or output.name, or set output.existing = \"replace\"");
  }
}

int run(int argc, char** argv) {
  using namespace kron;
  std::string deck_path;
  std::vector<std::string> overrides;
  bool validate = false, print_deck = false;
  std::vector<std::string> petsc_args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      if (is_root()) std::printf("%s\ndeck sections and keys:\n%s", usage, problems::schema().help().c_str());
      return 0;
    }
    if (a == "--deck-reference") {
      if (is_root()) std::printf("%s", problems::schema().markdown().c_str());
      return 0;
    }
    if (a == "--version") {
      if (is_root())
        std::printf("kron %s (git %s), %s, MPI ranks: %d\n", core::version_string, core::git_hash,
                    core::device_summary().c_str(), core::mpi::size(MPI_COMM_WORLD));
      return 0;
    }
    if (a == "--") {  // the rest is PETSc's command line
      petsc_args.assign(argv + i + 1, argv + argc);
      break;
    }
    if (a == "--validate") { validate = true; continue; }
    if (a == "--print-deck") { print_deck = true; continue; }
    if (a.rfind("-", 0) == 0) throw Error("unknown option '" + a + "'", {"command line", 0, {}}, "kron --help lists the options");
    if (a.find('=') != std::string::npos) { overrides.push_back(a); continue; }
    if (!deck_path.empty()) throw Error("more than one deck given ('" + deck_path + "' and '" + a + "')", {"command line", 0, {}}, "overrides take the form section.key=value");
    deck_path = a;
  }
  if (deck_path.empty()) throw Error("no input deck given", {"command line", 0, {}}, "usage: kron DECK [section.key=value ...]; see kron --help");

  linops::petsc::set_command_line(petsc_args);
  const double t0 = core::wall_time();
  const core::Schema schema = problems::schema();
  const core::Deck deck = core::Deck::from_file(deck_path, schema, overrides);
  check_output_dir(deck);
  // --print-deck prints a deck and nothing else; --validate keeps what a check says (the memory estimate).
  core::log::set_level(print_deck ? core::log::Level::Warn : core::log::parse_level(deck.string("log", "level")));
  if (!validate && !print_deck)
    core::log::info("kron ", core::version_string, " (git ", core::git_hash, "), ", core::mpi::size(MPI_COMM_WORLD),
                    " MPI rank(s), problem '", deck.string("problem", "type"), "', deck ", deck_path);
  // Wisdom before any planning (problems plan their transforms while they are made).
  const std::string wisdom = deck.string("fft", "wisdom");
  layout::FftWisdom fftw_wisdom(validate || print_deck || wisdom == "none" ? ""
                                : wisdom == "auto" ? layout::default_wisdom_path() : wisdom,
                                MPI_COMM_WORLD);
  std::unique_ptr<problems::Problem> problem;
  {
    core::ScopedTimer t("setup");
    problem = problems::make(deck, MPI_COMM_WORLD);
  }
  // Options after '--' are PETSc's: a problem that never starts PETSc would ignore them.
  if (!petsc_args.empty() && !linops::petsc::initialized())
    throw Error("the options after -- (" + petsc_args.front() + (petsc_args.size() > 1 ? " ..." : "") + ") are PETSc's, but problem '" +
                    deck.string("problem", "type") + "' uses no PETSc",
                {"command line", 0, {}}, "PETSc runs in diffusion, gp_pde with method exact, and bwler or bwler_plane with method lbfgs; remove the options after --");
  if (print_deck) {
    if (is_root()) std::printf("%s", deck.effective_text().c_str());
    return 0;
  }
  if (validate) {
    if (is_root()) std::printf("kron: %s is valid (problem '%s')\n", deck_path.c_str(), deck.string("problem", "type").c_str());
    return 0;
  }
  // From here on the run writes: first the earlier run's files go, summary.json included, so
  // that the folder never shows an old summary beside new step files.
  const long removed = layout::remove_earlier_output(deck.string("output", "dir"), deck.string("output", "name"), MPI_COMM_WORLD);
  if (removed > 0) core::log::info("removed ", removed, " file(s) of an earlier run from ", deck.string("output", "dir"), " (output.existing = \"replace\")");
  core::Json summary = problem->run();
  fftw_wisdom.save();
  const double seconds = core::wall_time() - t0;
  summary["nranks"] = core::mpi::size(MPI_COMM_WORLD);
  summary["wall_seconds"] = seconds;
  summary["kron_version"] = core::version_string;
  summary["git_hash"] = core::git_hash;
  // Peak resident memory of the run: the largest rank's and the sum over ranks (MiB).
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double rss = double(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
  const double rss_max = core::mpi::max(rss, MPI_COMM_WORLD), rss_sum = core::mpi::sum(rss, MPI_COMM_WORLD);
  summary["peak_rss_mib_max_rank"] = rss_max;
  summary["peak_rss_mib_all_ranks"] = rss_sum;
  core::Json timers = core::Json::object();
  for (const auto& r : core::Timers::global().reduce(MPI_COMM_WORLD)) {
    core::Json row;
    row["calls"] = r.calls;
    row["max_seconds"] = r.total_max;
    row["min_seconds"] = r.total_min;
    timers[r.name] = row;
  }
  summary["timers"] = timers;
  core::stop::check(MPI_COMM_WORLD, "before summary.json was written", "the run's output is incomplete");
  layout::write_summary(deck.string("output", "dir"), summary, MPI_COMM_WORLD);
  if (deck.boolean("log", "timers")) {
    const std::string table = core::Timers::global().summary(MPI_COMM_WORLD, seconds);
    if (is_root()) std::printf("\ntimers (max/min over %d ranks)\n%s", core::mpi::size(MPI_COMM_WORLD), table.c_str());
  }
  char mem[96];
  std::snprintf(mem, sizeof mem, "peak memory %.0f MiB on the largest rank, %.0f MiB in all", rss_max, rss_sum);
  // Throughput of the run's main work (the solve, the time steps, the transform), when it has one.
  const core::Json* pps = summary.find("points_per_second");
  const std::string rate = pps ? ", " + core::text::rate(pps->number()) + " points/s" : std::string();
  core::log::info("done in ", seconds, " s", rate, ", ", mem, "; summary in ", deck.string("output", "dir"), "/summary.json");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kron::core::mpi::Environment env(&argc, &argv);
  kron::core::stop::install();
  return kron::core::run_app("kron", [&] { return run(argc, argv); });
}
