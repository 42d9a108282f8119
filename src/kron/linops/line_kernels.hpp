#pragma once
#include "kron/core/eigen.hpp"
#include <vector>

#include "kron/core/memory.hpp"
#include "kron/layout/box_copy.hpp"
#include "kron/layout/field.hpp"
#include "kron/linops/operator1d.hpp"

namespace kron::linops {

/// The lines of a field along one axis: element (o, i, j) at p[o*ostride + i*inner + j], where
/// i runs along the axis (n points), j over the `inner` lines stored faster than the axis and o
/// over the `outer` groups (slower axes and components). The axis must be local to the pencil.
struct Lines {
  double* p = nullptr;
  long outer = 0, n = 0, inner = 0, ostride = 0;
  /// Points lo .. lo+m-1 of every line (the same memory).
  Lines range(long lo, long m) const { return {p + lo * inner, outer, m, inner, ostride}; }
};

/// One banded or compact term prepared for batched application to a panel of L lines stored
/// interleaved (x[i*ld + l], i < n, l < L, so every sweep vectorises across lines):
///   banded:  x = B in;   compact: x = A^{-1} B in (A tridiagonal; periodic by Sherman-Morrison).
/// The compact solve is fused: B's rows are pre-divided by the Thomas pivots and consumed by the
/// forward sweep as they are formed, so an input panel is read once and the result swept twice
/// while it is in cache. Rows are stored as lists of their non-zero taps (closure rows of wide
/// one-sided stencils cost only their own taps).
class LineSolve {
 public:
  LineSolve() = default;
  explicit LineSolve(const Term& t);  ///< Banded or Compact term (its scale is not applied)
  /// x = Op in (or x += Op in, banded terms only) on a panel of L lines; in and x must not overlap.
  void run(const double* in, long ldi, double* x, long ldx, long L, bool accumulate = false) const;
  /// dst (+)= diag(scale) Op src on `lines` contiguous lines (line l at src + l*lds, dst + l*ldd;
  /// scale may be null), streamed through a ring of max(ring_rows() x 32, n x 8) doubles and a work
  /// panel of n x 32 doubles (n: the line length). `stream`: aligned results may bypass the caches (the caller fences).
  void run_contiguous(const double* src, long lds, double* dst, long ldd, long lines, const double* scale,
                      bool accumulate, bool stream, double* ring, double* x) const;
  long ring_rows() const;

 private:
  typedef double V __attribute__((vector_size(64), aligned(8)));  // 8 lines; needs only double alignment
  static constexpr long kV = 8;
  template <int NV>
  void forward(const double* in, long ldi, const long* cols, double* x, long ldx, long i0, long i1, bool accumulate,
               V* carry) const;
  template <int NV>
  void backward(double* x, long ldx, long i0, long i1, V* carry) const;
  template <int NV>
  void periodic_factor(const double* x, long ldx, V* f) const;
  template <int NV>
  void periodic_fix(double* x, long ldx, long i0, long i1, const V* f) const;
  template <int NV>
  void run_vectors(const double* in, long ldi, double* x, long ldx, bool accumulate) const;
  void run_lanes(const double* in, long ldi, double* x, long ldx, long L, bool accumulate) const;
  template <int NV>
  void run_streamed(const double* src, long lds, double* dst, long ldd, const double* scale, bool accumulate,
                    bool stream, double* ring, double* x, bool prefetch_next) const;
  long n_ = 0;
  bool compact_ = false, periodic_ = false;
  std::vector<long> ptr_, col_;    // taps of row i: ptr_[i] .. ptr_[i+1]-1 (absolute columns)
  std::vector<double> coef_;       // B entries (divided by the pivot of the row when compact)
  std::vector<double> fwd_, bwd_;  // x_i -= fwd_i x_{i-1} (forward), x_i -= bwd_i x_{i+1} (backward)
  std::vector<double> z_;          // periodic: T^{-1} u
  double v0_ = 1, vn_ = 0, denom_ = 1;
  std::vector<long> need_;      // furthest column used by rows 0..i
  std::vector<long> ring_col_;  // column -> ring slot (col & ring_mask_), or the column (whole line)
  long ring_mask_ = -1;         // ring rows - 1; -1: the ring is the whole line
};

/// A 1D operator prepared for batched application along lines (factorizations done once): the
/// real kind of LineOp. Its plan is flat owned arrays (tap lists, pivots, dense coefficients,
/// row scales; no pointers into itself), so it copies as a value.
class LineOperator {
 public:
  LineOperator() = default;
  explicit LineOperator(const Operator1D& op);
  long size() const { return n_; }
  /// out = Op in (or out += Op in), line by line over every line of the views (same shape;
  /// `in` and `out` must not overlap). Panel and ring scratch from `work`, slots kWorkSlot..+2
  /// (the caller's own scratch keeps to lower slots).
  void apply(const Lines& in, const Lines& out, bool accumulate, core::Workspace& work) const;
  static constexpr std::size_t kWorkSlot = 4;
  /// Bytes of that scratch (independent of the number of lines).
  std::size_t workspace_bytes() const;

 private:
  struct Prepared {
    Term::Kind kind;
    LineSolve s;                // Banded, Compact
    std::vector<double> d;      // Dense: n x n, column-major
    std::vector<double> scale;  // row scale (empty: 1)
  };
  void apply_panel(const double* in, long ldi, double* out, long ldo, long L, bool accumulate, double* tmp) const;
  long n_ = 0;
  std::vector<Prepared> terms_;
};

/// y (+)= D x on a panel (GEMM); d: rows x cols, column-major.
void dense_panel(const double* d, long rows, long cols, const double* x, long ldx, double* y, long ldy, long L, bool accumulate);

}  // namespace kron::linops
