#pragma once
// Evaluation of a spectral field at scattered points (issue 13): the field is its values at the
// tensor grid of nodes, distributed as an x-pencil; a point's value is the contraction of every
// node's value with the point's barycentric weights along each axis.
#include <array>
#include <vector>

#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"

namespace kron::spectral {

/// Values of component c of u at this rank's `points` (collective; any rank may pass none):
///   v(p) = sum_ijk Lx_i(p) Ly_j(p) Lz_k(p) u_ijk,
/// the L the barycentric interpolation weights of `axes` (polynomial on bounded axes,
/// trigonometric on periodic ones; an axis of one point contributes 1, its coordinate ignored).
/// u: an x-pencil field without halos of the grid `axes` (any process grid; a device field is
/// read through a host copy). Every rank's points are shared with all (MPI_Allgatherv), each rank
/// contracts them with the lines it owns (one GEMM along x, in batches, then the weights along y
/// and z), and the partial sums go back to the points' owners (MPI_Reduce_scatter). Points outside
/// a bounded axis, or non-finite, are an error naming the point, on every rank.
std::vector<double> evaluate_at(const layout::RealField& u, const std::array<layout::AxisGrid, 3>& axes,
                                const std::vector<std::array<double, 3>>& points, int c = 0);

}  // namespace kron::spectral
