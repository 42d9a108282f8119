#include "kron/problems/heat.hpp"

#include <functional>

#include "kron/layout/field_ops.hpp"

#include <cmath>
#include <sstream>

#include "kron/core/device.hpp"
#include "kron/core/log.hpp"
#include "kron/core/mpi.hpp"
#include "kron/core/stop.hpp"
#include "kron/core/timer.hpp"
#include "kron/layout/deck_sections.hpp"
#include "kron/layout/evaluate.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/output.hpp"

namespace kron::problems {

using core::ValueKind;
namespace log = core::log;

void Heat::declare(core::Schema& schema) {
  core::SectionSpec s{"heat",
                      "Heat equation  u_t = nu Laplace(u) + f,  Douglas ADI (Crank-Nicolson factors, second order in time, "
                      "unconditionally stable): one batched line solve per axis and step.",
                      pde_keys(false, true), false, "heat"};
  s.keys.push_back({"nu", ValueKind::Real, "1.0", "Diffusivity nu > 0; expressions use it as nu.", 1e-300, 1e300});
  s.keys.push_back({"initial", ValueKind::String, "", "Initial condition u(x, y, z, t_start); absent: the exact solution at t_start.",
                    -1e300, 1e300, {}, 0, 0, true});
  s.keys.push_back({"t_start", ValueKind::Real, "0.0", "Start time."});
  s.keys.push_back({"t_end", ValueKind::Real, "", "End time (> t_start)."});
  s.keys.push_back({"dt", ValueKind::Real, "", "Time step; shortened so that a whole number of steps reaches t_end.", 1e-300, 1e300});
  s.keys.push_back({"output_every", ValueKind::Integer, "0", "Write fields every this many steps (0: initial and final state only).", 0, 1e12});
  s.keys.push_back({"progress_every", ValueKind::Integer, "10", "A progress line every this many steps (0: none).", 0, 1e12});
  s.keys.push_back({"checkpoint_every", ValueKind::Integer, "0",
                    "Write <output.dir>/<output.name>_checkpoint.h5 every this many steps and at the end (0: none); written "
                    "atomically (a .tmp file renamed when complete).",
                    0, 1e12});
  s.keys.push_back({"restart", ValueKind::String, "",
                    "Continue from this checkpoint (a heat run's _checkpoint.h5): the same grid, nu, t_start and dt; any "
                    "t_end it reaches, any rank count (bitwise the uninterrupted run on the same rank count).",
                    -1e300, 1e300, {}, 0, 0, true});
  schema.add(s);
}

Heat::Heat(const core::Deck& deck, MPI_Comm comm) : deck_(deck), comm_(comm), setup_(deck, "heat", comm, true, {"nu"}) {
  const std::string S = "heat";
  nu_ = deck.real(S, "nu");
  t0_ = deck.real(S, "t_start");
  t1_ = deck.real(S, "t_end");
  if (!(t1_ > t0_)) throw deck.error(S, "t_end", "must be larger than t_start (" + std::to_string(t0_) + ")");
  const double dt = deck.real(S, "dt");
  steps_ = static_cast<long>(std::ceil((t1_ - t0_) / dt - 1e-9));
  if (steps_ > 100000000) throw deck.error(S, "dt", "gives more than 1e8 steps", "raise dt");
  dt_ = (t1_ - t0_) / double(steps_);
  if (deck.has(S, "initial"))
    initial_ = std::make_unique<core::Expression>(setup_.expression("initial"));
  else if (!setup_.exact)
    throw deck.error(S, "initial", "is missing and there is no exact solution to start from", "add initial = \"...\"");
  if (deck.has(S, "restart")) check_restart(deck.string(S, "restart"));
  {
    // Counted from the run and checked against its measured peak by tests/cli/memory.sh.
    const double fb = setup_.field_bytes();
    core::MemoryEstimate est;
    add_axis_factors(est, setup_, false);
    est.add("fields u, source, boundary values, error", 4 * fb);
    est.add("ADI stage scratch", 8 * fb);
    est.add("transposes and output", transpose_fields(*setup_.grid, 3) * fb);
    reserve_memory(deck, setup_.domain, est, comm);
  }
  try {
    adi_space_ = layout::device_backend(deck, comm);
  adi_ = std::make_unique<linops::Adi>(setup_.grid, setup_.domain.axes, setup_.schemes, setup_.bc, nu_, dt_, adi_space_);
  } catch (const Error& e) {
    throw deck.error(S, "scheme", e.message(), e.hint());
  }
}

Heat::~Heat() = default;

namespace {
const char* kCheckpointKind = "heat ADI state";
}

// A checkpoint is untrusted input: everything it must agree with is checked here, before any work,
// and each disagreement names heat.restart, the file and both values.
void Heat::check_restart(const std::string& path) {
  const std::string S = "heat";
  auto bad = [&](const std::string& what, const std::string& hint = "restart from a checkpoint of this deck's run") {
    return deck_.error(S, "restart", path + ": " + what, hint);
  };
  try {
    layout::H5File f(path, layout::H5File::Mode::Read, comm_);
    if (!f.has_attribute("checkpoint") || f.read_attribute_string("checkpoint") != kCheckpointKind)
      throw bad("not a heat checkpoint (no attribute checkpoint = \"" + std::string(kCheckpointKind) + "\")");
    auto same = [&](const char* name, double want) {
      const double got = f.read_attribute_double(name);
      if (got != want) {
        std::ostringstream o;
        o.precision(17);
        o << "written with " << name << " = " << got << ", the deck has " << want;
        throw bad(o.str(), "a restart continues the same run: same grid, nu, t_start and dt");
      }
    };
    same("nu", nu_);
    same("t_start", t0_);
    same("dt", dt_);
    const auto n = setup_.domain.shape();
    std::vector<long> want;  // the global array's dataset shape: [nz][ny][nx], absent axes dropped
    for (int a = setup_.domain.dim - 1; a >= 0; --a) want.push_back(n[a]);
    const auto got = f.shape("/fields/u");
    if (got != want) {
      auto str = [](const std::vector<long>& v) {
        std::string r;
        for (long x : v) r += (r.empty() ? "" : " x ") + std::to_string(x);
        return r;
      };
      throw bad("holds u on " + str(got) + " points, the deck's grid has " + str(want));
    }
    const double step = f.read_attribute_double("step"), time = f.read_attribute_double("time");
    if (!(step >= 0 && step <= 1e15) || step != std::floor(step)) throw bad("its step attribute is not a step count");
    if (step > double(steps_))
      throw bad("its step " + std::to_string(static_cast<long long>(step)) + " is not within this run's " + std::to_string(steps_) + " steps", "raise heat.t_end");
    if (!std::isfinite(time)) throw bad("its time is not finite");
    restart_step_ = static_cast<long>(step);
    restart_time_ = time;
  } catch (const Error& e) {
    if (!e.where().key.empty()) throw;
    throw bad(e.message(), "give a _checkpoint.h5 file a heat run wrote");
  }
  restart_ = path;
}

core::Json Heat::run() {
  const std::string S = "heat";
  const layout::Domain& domain = setup_.domain;
  const layout::Pencil px = setup_.x_pencil();
  layout::RealField u(px), err(px);
  layout::evaluate(initial_ ? *initial_ : *setup_.exact, domain, t0_, u);
  // A source that does not depend on t is evaluated once (expression evaluation is the
  // dearest part of a step) and copied afterwards.
  layout::RealField steady_f;
  if (!setup_.source->uses("t")) {
    steady_f = layout::RealField(px);
    layout::evaluate(*setup_.source, domain, t0_, steady_f);
  }
  // On the GPU the state stays in device memory between steps (copied back only for progress
  // lines' host needs, output and the end), the fills receive device fields, and a steady source
  // is kept there too; expressions are evaluated on the host and sent.
  const bool on_device = adi_space_ == core::MemorySpace::Device;
  layout::RealField steady_dev, host_scratch;
  if (on_device && steady_f.storage_size() > 0) steady_dev = layout::to_device(steady_f);
  auto send = [&](layout::RealField& f, const std::function<void(layout::RealField&)>& eval) {
    if (host_scratch.pencil() != f.pencil()) host_scratch = layout::RealField(f.pencil(), f.components());
    eval(host_scratch);
    core::copy_to_device(f.data(), host_scratch.data(), host_scratch.storage_size() * sizeof(double));
  };
  linops::Adi::Fill source = [&](double t, layout::RealField& f) {
    if (f.on_device()) {
      if (steady_dev.storage_size() > 0) layout::ops::copy(steady_dev, f);
      else send(f, [&](layout::RealField& h) { layout::evaluate(*setup_.source, domain, t, h); });
    } else if (steady_f.storage_size() > 0) {
      std::copy(steady_f.data(), steady_f.data() + steady_f.storage_size(), f.data());
    } else {
      layout::evaluate(*setup_.source, domain, t, f);
    }
  };
  // Dirichlet values on the boundary faces only (the interior of the field is not read).
  linops::Adi::Fill boundary = [&](double t, layout::RealField& g) {
    if (g.on_device()) send(g, [&](layout::RealField& h) { linops::fill_dirichlet(domain.axes, setup_.bc, setup_.boundary_data(t), h); });
    else linops::fill_dirichlet(domain.axes, setup_.bc, setup_.boundary_data(t), g);
  };
  if (on_device) adi_->set_device_fills(true);
  // Non-finite data stop here, before the first step, naming the key: the source and the
  // boundary data at t_start, and the initial state.
  {
    layout::RealField f0(px);
    source(t0_, f0);
    setup_.check_data(f0, t0_);
    setup_.check_data(u, t0_, initial_ ? "initial" : "exact");
  }
  // The initial state takes the boundary values at t_start.
  if (setup_.any_dirichlet) boundary(t0_, u);
  log::info(S, ": ", setup_.describe(), "; ", steps_, " Douglas ADI steps of dt = ", dt_, " from t = ", t0_, " to ", t1_,
            "; line solves ", adi_->describe());
  log::debug(S, ": operator storage ", double(adi_->operator_bytes()) / 1048576.0, " MiB, step scratch ",
             double(adi_->workspace_bytes()) / 1048576.0, " MiB (this rank, after setup)");
  layout::OutputWriter out = make_output(deck_, domain, comm_);
  const bool write = deck_.boolean("output", "write_fields");
  const long every = deck_.integer(S, "output_every"), progress = deck_.integer(S, "progress_every");
  auto write_step = [&](long step, double t) {
    core::ScopedTimer tm("output");
    layout::OutputWriter::FieldList fields;
    if (write) {
      fields.push_back({"u", &u, 0});
      if (setup_.exact) {
        error_against_exact(setup_, u, t, false, err);
        fields.push_back({"error", &err, 0});
      }
    }
    out.write_step(static_cast<int>(step), t, fields, {});
  };
  // Douglas ADI is unconditionally stable for the heat equation, so a step that produces
  // non-finite values (the ADI checks) took non-finite data: name the key and the time.
  auto diagnose = [&](double t) {
    source(t, err);             // a non-finite source: an error naming heat.source
    setup_.check_data(err, t);  // non-finite boundary data: an error naming value/gradient/exact
  };
  const long ck_every = deck_.integer(S, "checkpoint_every");
  const std::string ck_path = deck_.string("output", "dir") + "/" + deck_.string("output", "name") + "_checkpoint.h5";
  auto checkpoint = [&](long step, double t) {
    core::ScopedTimer tm("checkpoint");
    layout::write_h5_atomic(ck_path, comm_, [&](layout::H5File& f) {
      layout::write_provenance(f, {deck_.provenance_text(), core::mpi::size(comm_)}, static_cast<int>(step), t);
      layout::write_grid(f, domain);
      f.write_field("/fields/u", u, domain.dim);
      f.write_attribute("checkpoint", std::string(kCheckpointKind));
      f.write_attribute("nu", nu_);
      f.write_attribute("t_start", t0_);
      f.write_attribute("dt", dt_);
      f.write_attribute("t_end", t1_);
    });
  };
  long s0 = 0;
  double t = t0_;
  if (!restart_.empty()) {
    // The state, step and time of the checkpoint (its grid and parameters were checked in the
    // constructor); the boundary values in it are the ones the run had.
    layout::read_checkpoint(restart_, {{"u", &u}}, comm_);
    s0 = restart_step_;
    t = restart_time_;
    log::info(S, ": restarting from ", restart_, " at step ", s0, ", t = ", t);
    if (!layout::ops::all_finite(u)) throw deck_.error(S, "restart", restart_ + ": the state u holds values that are not finite");
  } else {
    write_step(0, t0_);
  }
  layout::RealField ud = on_device ? layout::to_device(u) : layout::RealField();
  layout::RealField& state = on_device ? ud : u;
  auto to_host_u = [&] {
    if (on_device) core::copy_to_host(u.data(), ud.data(), u.storage_size() * sizeof(double));
  };
  const double w0 = core::wall_time();
  for (long s = s0 + 1; s <= steps_; ++s) {
    try {
      adi_->step(state, t, source, boundary);
    } catch (const Error&) {
      diagnose(s == steps_ ? t1_ : t0_ + double(s) * dt_);
      diagnose(t);
      throw;
    }
    t = s == steps_ ? t1_ : t0_ + double(s) * dt_;
    const bool report = progress > 0 && (s % progress == 0 || s == steps_), save = (every > 0 && s % every == 0) || s == steps_;
    if (report) {
      const double umax = layout::ops::max_abs(state);
      const double el = core::wall_time() - w0;
      log::info(S, ": step ", s, "/", steps_, ", t = ", t, ", max |u| = ", umax, ", ", el / double(s - s0), " s/step, ~",
                el / double(s - s0) * double(steps_ - s), " s left");
    }
    const bool ck = ck_every > 0 && (s % ck_every == 0 || s == steps_);
    if (save || ck) to_host_u();
    if (save) write_step(s, t);
    if (ck) checkpoint(s, t);
    if (!save) core::stop::check(comm_, "after step " + std::to_string(s) + " of " + std::to_string(steps_),
                           "the step files written so far are complete; there is no summary.json");
  }
  to_host_u();
  const double run_s = core::mpi::max(core::wall_time() - w0, comm_);
  core::Json j = summary_header(setup_);
  j["steps"] = static_cast<double>(steps_);
  j["dt"] = dt_;
  j["t_end"] = t1_;
  j["line_solves"] = adi_->describe();
  j["backend"] = deck_.string("device", "backend");
  j["step_seconds"] = run_s / double(std::max(steps_ - s0, 1L));
  j["points_per_second"] = double(domain.points()) * double(steps_ - s0) / std::max(run_s, 1e-12);  // point updates
  if (!restart_.empty()) j["restart_step"] = static_cast<double>(s0);
  j["operator_bytes"] = static_cast<double>(adi_->operator_bytes());
  if (setup_.exact) {
    const ErrorNorms e = error_against_exact(setup_, u, t1_, false, err);
    j["error_max"] = e.max;
    j["error_l2"] = e.l2;
    log::info(S, ": error against the exact solution at t = ", t1_, ": max ", e.max, ", L2 (rms) ", e.l2);
  }
  log::info("wrote ", steps_ / std::max(every, 1L) + 1, " step file(s) to ", out.dir(), "; open ", out.dir(), "/",
            deck_.string("output", "name"), ".xdmf");
  return j;
}

}  // namespace kron::problems
