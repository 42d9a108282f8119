#pragma once
#include <Eigen/Dense>
#include <vector>

#include "kron/core/memory.hpp"
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
/// Lines of `f` (no halos) along `axis`; throws when the axis is split over ranks in its pencil.
Lines lines_of(layout::RealField& f, int axis);

/// Precomputed Thomas factorization of a tridiagonal (optionally periodic, by Sherman-Morrison)
/// matrix, solving many lines at once with the line index innermost so that the sweeps vectorise.
class Tridiagonal {
 public:
  Tridiagonal() = default;
  explicit Tridiagonal(const Banded& a);  ///< a: kl = ku = 1
  long size() const { return n_; }
  /// In place on a panel of L lines: x[i*ld + l], i < n, l < L.
  void solve(double* x, long ld, long L) const;

 private:
  long n_ = 0;
  bool periodic_ = false;
  std::vector<double> sub_, inv_, cp_;  // sub-diagonal, 1/pivot, modified super-diagonal
  std::vector<double> z_;                // periodic: T^{-1} u
  double v0_ = 1, vn_ = 0, denom_ = 1;  // periodic: v = (1, 0.., vn), 1 + v.z
};

/// A 1D operator prepared for batched application along lines (factorizations done once).
class LineOperator {
 public:
  LineOperator() = default;
  explicit LineOperator(const Operator1D& op);
  LineOperator(const LineOperator&) = delete;  // holds pointers into its own copy of the operator
  LineOperator& operator=(const LineOperator&) = delete;
  LineOperator(LineOperator&&) = default;
  LineOperator& operator=(LineOperator&&) = default;
  long size() const { return n_; }
  const Operator1D& op() const { return op_; }
  /// out = Op in (or out += Op in), line by line over every line of the views (same shape;
  /// `in` and `out` must not overlap).
  void apply(const Lines& in, const Lines& out, bool accumulate = false) const;

 private:
  struct Prepared {
    Term::Kind kind;
    const Banded* b = nullptr;
    Tridiagonal a;
    Eigen::MatrixXd d;
    const std::vector<double>* scale = nullptr;
  };
  void apply_panel(const double* in, long ldi, double* out, long ldo, long L, bool accumulate, double* tmp) const;
  long n_ = 0;
  Operator1D op_;
  std::vector<Prepared> terms_;
};

/// y (+)= B x on a panel of L lines (x[i*ldx + l]); non-periodic rows skip columns outside 0..n-1.
void banded_panel(const Banded& b, const double* x, long ldx, double* y, long ldy, long L, bool accumulate);
/// y (+)= D x on a panel (GEMM).
void dense_panel(const Eigen::MatrixXd& d, const double* x, long ldx, double* y, long ldy, long L, bool accumulate);

}  // namespace kron::linops
