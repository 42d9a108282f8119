#pragma once
#include "kron/core/expression.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/field.hpp"

namespace kron::layout {

/// Sets component c of `f` to expr(x, y, z, t) at every local point of the domain.
/// Non-finite values are an error naming the expression and the first bad point.
void evaluate(const core::Expression& expr, const Domain& domain, double t, RealField& f, int c = 0);

}  // namespace kron::layout
