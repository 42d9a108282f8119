#pragma once
#include <array>
#include <string>
#include <vector>

#include "kron/core/error.hpp"

namespace kron::layout {

/// How the points of one axis are placed.
///  - uniform:   vertex-centred, both end points included, x_i = a + i (b-a)/(n-1)
///  - cell:      cell-centred,   x_i = a + (i+1/2) (b-a)/n
///  - periodic:  x_i = a + i (b-a)/n, the point b (= a) is not repeated
///  - chebyshev: Chebyshev–Gauss–Lobatto, ascending, x_i = (a+b)/2 - (b-a)/2 cos(pi i/(n-1))
///  - file:      strictly increasing coordinates read from a text file (stretched grids)
///  - mapped:    Chebyshev-Lobatto nodes through the tan map x = c + w tan(theta(xi)), theta
///               linear in xi with x(-1) = a, x(1) = b: nodes clustered around c at a spacing
///               of about w; barycentric interpolation with the Chebyshev weights on these nodes
///               is a rational interpolant converging geometrically (Baltensperger, Berrut and
///               Noel 1999). Not a grid kind of [grid] decks.
enum class AxisKind { Uniform, Cell, Periodic, Chebyshev, File, Mapped };
const char* to_string(AxisKind k);
AxisKind parse_axis_kind(const std::string& s);  ///< throws on an unknown name

class AxisGrid {
 public:
  AxisGrid() = default;  ///< a single point at 0 (an absent axis of a lower-dimensional domain)
  static AxisGrid uniform(long n, double a, double b);
  static AxisGrid cell(long n, double a, double b);
  static AxisGrid periodic(long n, double a, double b);
  static AxisGrid chebyshev(long n, double a, double b);
  /// Chebyshev-Lobatto nodes on [a, b] clustered around `center` (inside (a, b)) by the tan map of
  /// width `width` > 0 (smaller: stronger clustering; see AxisKind::Mapped).
  static AxisGrid mapped_chebyshev(long n, double a, double b, double center, double width);
  /// One coordinate per line ('#' starts a comment). Errors name the file and line.
  static AxisGrid from_file(const std::string& path);

  long size() const { return static_cast<long>(x_.size()); }
  const std::vector<double>& coords() const { return x_; }
  double operator[](long i) const { return x_[static_cast<std::size_t>(i)]; }
  AxisKind kind() const { return kind_; }
  bool periodic() const { return kind_ == AxisKind::Periodic; }
  double lower() const { return a_; }
  double upper() const { return b_; }
  double length() const { return b_ - a_; }

 private:
  AxisKind kind_ = AxisKind::Uniform;
  double a_ = 0, b_ = 0;
  std::vector<double> x_{0.0};
};

/// A 1D, 2D or 3D tensor-product domain. Absent axes are single points, so every layout
/// object works in three dimensions; `dim` says how many axes are real (for output shapes).
struct Domain {
  std::array<AxisGrid, 3> axes;
  int dim = 3;

  std::array<long, 3> shape() const { return {axes[0].size(), axes[1].size(), axes[2].size()}; }
  long points() const { return axes[0].size() * axes[1].size() * axes[2].size(); }
};

}  // namespace kron::layout
