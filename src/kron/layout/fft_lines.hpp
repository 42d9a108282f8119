#pragma once
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/layout/field.hpp"

struct fftw_plan_s;  // FFTW's plan type; <fftw3.h> stays out of kron's headers

namespace kron::layout {

enum class FftEffort { Estimate, Measure, Patient, Exhaustive };
FftEffort parse_fft_effort(const std::string& s);

/// The lines of a local array along one axis: element i of line (o, j) sits at
/// p + o*ostride + i*inner + j (o < outer, j < inner, i < n), counted in elements of the array's
/// type. Every local axis of a field without halos has this form, components included.
struct LineSet {
  void* p = nullptr;
  long outer = 0, n = 0, inner = 0, ostride = 0;
};

/// The lines along `axis` of the local array of `pencil` with `ncomp` components and no halos,
/// stored at `base` (the axis must be whole in the pencil).
LineSet lines_along(void* base, const Pencil& pencil, int ncomp, int axis);

/// A 1D FFTW transform applied to every line of a LineSet, a few lines at a time:
///  - contiguous lines (inner == 1) by a plan for a panel of P lines, executed in place on the
///    data panel after panel (FFTW's new-array execute);
///  - strided lines (inner > 1) gathered P at a time into a line-major buffer, transformed there
///    and scattered back (P lines of n elements stay in the first-level cache).
/// Why: FFTW's estimated plans for large strided batches (a z-axis stride of 32768 doubles)
/// ran 3-4x slower than measured ones, and measuring them costs seconds at 256^3; a panel plan is
/// the same small problem whatever the array's strides, it runs at measured speed, and
/// measuring it costs milliseconds. Effort estimate uses measured panel plans when the wisdom
/// already holds them (FFTW_WISDOM_ONLY) and FFTW_ESTIMATE otherwise.
///
/// Kinds: R2C (real n -> complex n/2+1), C2R (back), Forward/Backward complex DFTs of length n,
/// R2R (one of FFTW's real-to-real kinds of length n, on real data, or on real and imaginary
/// parts of complex data when `complex_data`). No transform is normalised (FFTW's conventions).
class LineFft {
 public:
  enum class Kind { R2C, C2R, Forward, Backward, R2R };
  /// FFTW's r2r kinds (FFTW_R2HC, ..., FFTW_RODFT11), by the same names.
  enum class R2R { R2HC, HC2R, REDFT00, REDFT01, REDFT10, REDFT11, RODFT00, RODFT01, RODFT10, RODFT11 };
  LineFft(Kind kind, long n, FftEffort effort, R2R r2r = R2R::R2HC, bool complex_data = false);
  ~LineFft();
  LineFft(const LineFft&) = delete;
  LineFft& operator=(const LineFft&) = delete;

  Kind kind() const { return kind_; }
  /// Length of the transform (the real side for R2C/C2R).
  long size() const { return n_; }
  /// Line lengths of input and output (n/2+1 on the complex side of R2C/C2R).
  long in_length() const;
  long out_length() const;
  /// Transforms every line of `in` into `out` (same outer and inner; lengths in_length() and
  /// out_length()). `out` may be `in` itself (same layout) except for R2C/C2R; otherwise `in`
  /// is left unchanged unless `destroy_input` (a C2R that may overwrite its input runs faster).
  void execute(const LineSet& in, const LineSet& out, bool destroy_input = false) const;
  /// Plans the panels execute() will need for lines laid out like `in`/`out`, without touching
  /// them (planning runs on internal buffers), so that no planning happens in a timed loop.
  void prepare(const LineSet& in, const LineSet& out, bool destroy_input = false) const;

  /// A part of the input and where it is stored: global box, pointer to its element (lo,
  /// component 0), strides along x, y, z and between components (in elements).
  struct Piece {
    Box box;
    const void* p = nullptr;
    std::array<long, 3> stride{};
    long cstride = 0;
  };
  /// Transforms the lines along `axis` of the local box of `out_pencil` (`ncomp` components) whose
  /// input values lie in `pieces` (together they cover the box, e.g. a transpose's local part
  /// and the parts received from other ranks), writing a field on `out_pencil` (no halos) at
  /// `out`. The reorder a transpose would do happens while panels are gathered, in cache, so the
  /// data make one trip through memory instead of two.
  void execute_from(const std::vector<Piece>& pieces, const Pencil& out_pencil, int ncomp, int axis, void* out) const;
  void prepare_from(const Pencil& out_pencil, int ncomp, int axis, void* out) const;

 private:
  fftw_plan_s* plan(long lines, long idist, long odist, int align_in, int align_out, bool in_place, bool preserve = false) const;
  void run(fftw_plan_s* p, void* in, void* out) const;
  std::size_t in_bytes() const;
  std::size_t out_bytes() const;
  Kind kind_;
  long n_;
  FftEffort effort_;
  R2R r2r_;
  bool cplx_;
  long panel_;  // lines per panel
  mutable core::HostBuffer<double> bin_, bout_, scratch_in_, scratch_out_;
  mutable std::map<std::tuple<long, long, long, int, int, bool, bool>, fftw_plan_s*> plans_;
};

}  // namespace kron::layout
