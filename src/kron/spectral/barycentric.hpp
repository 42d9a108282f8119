#pragma once
// Barycentric spectral building blocks (issue 13, BWLer): fields are values at the nodes of an
// axis (Chebyshev-Lobatto, Fourier, or any distinct nodes); interpolation to other points and
// spectral differentiation are matrices applied along lines as LineOps, composed per axis by a
// TensorOp like every other 1D operator of kron.
#include "kron/core/eigen.hpp"

#include <memory>
#include <vector>

#include "kron/layout/axis_grid.hpp"
#include "kron/linops/line_op.hpp"

namespace kron::spectral {

/// Barycentric weights of an axis' nodes: closed forms for Chebyshev-Lobatto nodes
/// (w_j = (-1)^j, halved at both ends) and for Fourier nodes (w_j = (-1)^j, the trigonometric
/// form) and for mapped Chebyshev nodes (the Chebyshev weights: a rational interpolant, see
/// layout::AxisKind::Mapped), the product formula (linops::barycentric_weights) for any other
/// node set. Throws
/// kron::Error for fewer than two nodes.
std::vector<double> weights(const layout::AxisGrid& nodes);

/// Interpolation from the nodal values to `points`: row q holds the weights of the nodes at
/// point y_q, by the second (true) barycentric form (polynomial on bounded axes, trigonometric on
/// periodic ones: cot for an even node count, csc for an odd one). A point equal to a node takes
/// that node's value exactly; points near a node stay accurate (the form is stable there).
/// Points outside a bounded axis are refused; on a periodic axis any point is taken modulo
/// the period.
Eigen::MatrixXd interpolation_matrix(const layout::AxisGrid& nodes, const std::vector<double>& points);

/// The d-th derivative at the nodes (d >= 1): on bounded axes by the barycentric recursion
/// D(k)_ij = k / (x_i - x_j) (w_j / w_i D(k-1)_ii - D(k-1)_ij), rows summing to zero; on periodic
/// axes the circulant matrix of (i k)^d in the discrete Fourier basis (odd d: the Nyquist mode of
/// an even count dropped, as spectral differentiation does).
Eigen::MatrixXd differentiation_matrix(const layout::AxisGrid& nodes, int d);

/// The same as rectangular/square dense LineOps (nodal values -> values at points; -> d-th
/// derivative at the nodes), for TensorOp stages along an axis.
std::shared_ptr<const linops::LineOp<double>> interpolation_op(const layout::AxisGrid& nodes, const std::vector<double>& points);
std::shared_ptr<const linops::LineOp<double>> derivative_op(const layout::AxisGrid& nodes, int d);

}  // namespace kron::spectral
