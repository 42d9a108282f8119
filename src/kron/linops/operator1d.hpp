#pragma once
#include "kron/core/eigen.hpp"
#include <string>
#include <vector>

#include "kron/layout/axis_grid.hpp"

namespace kron::linops {

/// Discretisation of derivatives along one axis.
///  fd2/fd4/fd6: explicit central differences; compact4/compact6: Padé (tridiagonal A, A u' = B u,
///  Lele's 6th-order scheme for compact6); chebyshev: collocation on the axis' own nodes through
///  barycentric weights (any node set); fourier: spectral differentiation on periodic axes.
enum class Scheme { FD2, FD4, FD6, Compact4, Compact6, Chebyshev, Fourier };
const char* to_string(Scheme s);
Scheme parse_scheme(const std::string& s);
/// Nominal order of accuracy (0 for the spectral schemes).
int scheme_order(Scheme s);
bool is_compact(Scheme s);

/// A banded matrix: row i holds columns i-kl .. i+ku; on a periodic axis columns wrap mod n.
/// Coefficients are stored per diagonal (diag[t][i] multiplies column i + t - kl) so that line
/// kernels stream them with unit stride.
struct Banded {
  long n = 0;
  int kl = 0, ku = 0;
  bool periodic = false;
  std::vector<std::vector<double>> diag;

  Banded() = default;
  Banded(long n, int kl, int ku, bool periodic);
  int width() const { return kl + ku + 1; }
  double& at(long i, long j);  ///< entry (i, j); j must lie in the band (mod n when periodic)
  double at(long i, long j) const;
  Eigen::MatrixXd dense() const;
};

/// A 1D linear operator along one axis: a sum of terms diag(scale) * base, where a base is a
/// banded matrix B, a compact pair A^{-1} B (A tridiagonal, possibly periodic), or a dense matrix.
/// Metric terms of stretched grids are the row scales: d/dx = diag(1/x') d/dxi.
struct Term {
  enum class Kind { Banded, Compact, Dense } kind = Kind::Banded;
  Banded b;           ///< Banded, Compact: right-hand side matrix
  Banded a;           ///< Compact: tridiagonal left-hand side
  Eigen::MatrixXd d;  ///< Dense
  std::vector<double> scale;  ///< row scale (empty: 1)
};

class Operator1D {
 public:
  Operator1D() = default;
  Operator1D(long n, std::string name) : n_(n), name_(std::move(name)) {}
  long size() const { return n_; }
  const std::string& name() const { return name_; }
  const std::vector<Term>& terms() const { return terms_; }
  void add(Term t) { terms_.push_back(std::move(t)); }
  /// True when every term is banded: the operator is applied by a stencil over halos.
  bool banded_only() const;
  /// Half-bandwidths over all banded terms.
  int lower_bandwidth() const;
  int upper_bandwidth() const;
  /// The full matrix (for eigendecompositions, references and tests; O(n^2) memory).
  Eigen::MatrixXd dense() const;
  /// Bytes of operator storage.
  std::size_t bytes() const;

 private:
  long n_ = 0;
  std::string name_;
  std::vector<Term> terms_;
};

/// The d-th derivative (d = 1 or 2) on `grid` with `scheme`. Non-periodic axes get one-sided
/// boundary closures: of the scheme's order for d = 1; of order min(p, 4) for d = 2, the highest
/// whose Dirichlet/Neumann operators keep a real spectrum (6th-order one-sided second-derivative
/// closures give complex eigenvalues, which fast diagonalization cannot use). Compact schemes
/// close with an explicit boundary row and, for compact6, a compact4 row next to it, so A stays
/// tridiagonal and diagonally dominant;
/// non-uniform axes (chebyshev or file kinds with an fd/compact scheme) use metric terms of the
/// same scheme in the uniform index coordinate. Throws kron::Error for a grid too small for the
/// stencil or a scheme that does not fit the axis (fourier on a non-periodic axis).
Operator1D derivative(const layout::AxisGrid& grid, Scheme scheme, int d);

/// A matrix as a 1D operator: `dense_operator` keeps it dense (applied as a GEMM over lines);
/// `banded_from_dense` stores the band |i - j| <= bw (mod n when periodic) and drops the rest;
/// `matrix_operator` picks banded storage when the matrix is banded, dense otherwise.
Operator1D dense_operator(const Eigen::MatrixXd& m, const char* name);
Banded banded_from_dense(const Eigen::MatrixXd& m, bool periodic, int bw);
Operator1D matrix_operator(const Eigen::MatrixXd& m, bool periodic, const char* name);
/// alpha I + beta op, term by term (op's terms scaled, a banded identity added): implicit
/// factors such as I - c D2 keep op's compact and banded structure.
Operator1D affine(double alpha, const Operator1D& op, double beta, const char* name);

/// Barycentric weights of distinct nodes, w_j ~ 1 / prod_{k != j} (x_j - x_k), all scaled by one
/// common factor (the barycentric formulas are invariant under it) so the products stay in range.
std::vector<double> barycentric_weights(const std::vector<double>& x);
/// Lagrange basis of nodes x at points y: L(q, j) = l_j(y_q) (second barycentric formula; exact
/// at points that coincide with a node).
Eigen::MatrixXd lagrange_matrix(const std::vector<double>& x, const std::vector<double>& y);
/// First-derivative collocation matrix on arbitrary distinct nodes (barycentric weights):
/// D(i, j) = l_j'(x_i) for the Lagrange basis l_j of the nodes.
Eigen::MatrixXd collocation_d1(const std::vector<double>& x);

/// Weights of a finite-difference relation on unit-spaced offsets:
///   sum_{j in lhs} alpha_j f^(d)(j) = sum_{j in rhs} beta_j f(j),  alpha_{lhs_fixed} = 1,
/// exact for polynomials of the highest degree the unknowns allow (Taylor matching). Explicit
/// stencils have lhs = {fixed}; compact ones add neighbours. Returns alpha (over lhs) and beta.
struct Relation {
  std::vector<double> alpha, beta;
};
Relation taylor_relation(const std::vector<int>& lhs, int lhs_fixed, const std::vector<int>& rhs, int d);

}  // namespace kron::linops
