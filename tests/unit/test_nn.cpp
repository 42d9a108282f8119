// Structured linear maps, models, losses and Adam (issue 15): every map against its matrix built
// independently from its blocks, backward against that matrix and parameter gradients against
// central differences, the Monarch and low-rank projections against Eckart-Young, exact DFTs as
// butterfly and Monarch products, an MLP that learns a small function, and the errors for shapes a
// structure does not allow.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <functional>
#include <vector>

#include "kron/linops/line_op.hpp"
#include "kron/nn/fno.hpp"
#include "kron/nn/model.hpp"
#include "kron/nn/fused_monarch_tc_layout.hpp"
#include "kron/nn/monarch_dft.hpp"
#include "kron/nn/ops.hpp"
#include "nn_cases.hpp"
#include "nn_ops_cases.hpp"
#include "random_values.hpp"

using namespace kron;
using namespace kron::nn;
using cplx = std::complex<double>;

namespace {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
T draw(Rng& r) {
  if constexpr (std::is_same_v<T, cplx>) return T(r.normal(), r.normal());
  else return r.normal();
}

template <class T>
std::vector<T> random_vector(long n, Rng& r) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = draw<T>(r);
  return v;
}

// Central differences of a scalar loss (loss(nullptr) re-evaluates it) against the analytic
// gradients: every `pstep(size)`-th entry of each parameter and every `xstep`-th input.
struct FdResult {
  double err = 0, scale = 0;
  long checked = 0;
};
template <class Loss, class Step>
FdResult fd_check(std::vector<ParamRef>& params, std::vector<double>& x, const std::vector<double>& dx, Loss loss, Step pstep, long xstep) {
  FdResult r;
  const double h = 1e-6;
  for (auto& p : params)
    for (long i = 0; i < p.size; i += pstep(p.size)) {
      const double keep = p.value[i];
      p.value[i] = keep + h;
      p.changed();
      const double lp = loss(nullptr);
      p.value[i] = keep - h;
      p.changed();
      const double lm = loss(nullptr);
      p.value[i] = keep;
      p.changed();
      const double fd = (lp - lm) / (2 * h);
      r.err = std::max(r.err, std::abs(fd - p.grad[i]));
      r.scale = std::max(r.scale, std::abs(fd));
      ++r.checked;
    }
  for (std::size_t i = 0; i < x.size(); i += static_cast<std::size_t>(xstep)) {
    const double keep = x[i];
    x[i] = keep + h;
    const double lp = loss(nullptr);
    x[i] = keep - h;
    const double lm = loss(nullptr);
    x[i] = keep;
    r.err = std::max(r.err, std::abs((lp - lm) / (2 * h) - dx[i]));
  }
  return r;
}

// The matrix of each structure, from its blocks and its definition (not from forward).
template <class T>
Mat<T> monarch_reference(MonarchMap<T>& M, long in, long out, long nb, long g = 0, long pg = 1) {
  const long p = in / nb, s = out / nb, q = std::min(p, s);
  Mat<T> R = Mat<T>::Zero(nb * q, in), L = Mat<T>::Zero(out, nb * q);
  for (long k = 0; k < nb; ++k) R.block(k * q, k * p, q, p) = M.right().block(k * pg + g);
  // L_l maps h[r nb + l] (r < q) to y[t nb + l] (t < s).
  for (long l = 0; l < nb; ++l) {
    const Mat<T> B = M.left().block(l * pg + g);
    for (long t = 0; t < s; ++t)
      for (long r = 0; r < q; ++r) L(t * nb + l, r * nb + l) = B(t, r);
  }
  return L * R;
}

// Block (I, J) is term 0's block I where J = I, term 1 + k's where J = I xor 2^k, zero elsewhere.
template <class T>
Mat<T> flat_butterfly_reference(FlatButterflyMap<T>& F, long in, long out, long g = 0, long pg = 1) {
  const long nb = F.blocks(), p = in / nb, s = out / nb;
  Mat<T> M = Mat<T>::Zero(out, in);
  for (long I = 0; I < nb; ++I)
    for (long J = 0; J < nb; ++J) {
      const long d = I ^ J;
      if (d != 0 && (d & (d - 1)) != 0) continue;
      long t = 0;
      while (d != 0 && (1L << t) != d) ++t;
      M.block(I * s, J * p, s, p) = F.term(d == 0 ? 0 : 1 + t).block(I * pg + g);
    }
  return M;
}

template <class T>
Mat<T> butterfly_reference(ButterflyMap<T>& B, long n, long pg_index = 0, long pg = 1) {
  Mat<T> M = Mat<T>::Identity(n, n);
  for (long k = 0; k < B.levels(); ++k) {
    const long h = 1L << k;
    Mat<T> F = Mat<T>::Zero(n, n);
    for (long g = 0; g < n / (2 * h); ++g)
      for (long j = 0; j < h; ++j) {
        const Mat<T> b = B.factor(k).block((g * h + j) * pg + pg_index);
        const long a = g * 2 * h + j, c = a + h;
        F(a, a) = b(0, 0);
        F(a, c) = b(0, 1);
        F(c, a) = b(1, 0);
        F(c, c) = b(1, 1);
      }
    M = F * M;
  }
  return M;
}

// forward and backward with `points` points against the reference matrices (one per point
// group: point p of P belongs to group p / (P / pg)); parameter gradients
// against central differences of L = Re sum conj(w) y (affine in each single parameter, so the
// differences are exact up to rounding).
template <class T>
void check_map(StructuredMap<T>& map, const std::vector<Mat<T>>& refs, Rng& rng) {
  const long in = map.in(), out = map.out(), pg = map.point_groups();
  REQUIRE(static_cast<long>(refs.size()) == pg);
  for (const auto& ref : refs) {
    REQUIRE(ref.rows() == out);
    REQUIRE(ref.cols() == in);
  }
  for (long points : {pg, 3 * pg}) {
    const long batch = 5;
    auto x = random_vector<T>(batch * in * points, rng), w = random_vector<T>(batch * out * points, rng);
    std::vector<T> y(static_cast<std::size_t>(batch * out * points)), dx(static_cast<std::size_t>(batch * in * points));
    map.forward(x.data(), y.data(), batch, points);
    map.backward(x.data(), w.data(), dx.data(), batch, points);  // (parameter gradients checked below)
    double err = 0, scale = 0, derr = 0, dscale = 0;
    for (long b = 0; b < batch; ++b)
      for (long pt = 0; pt < points; ++pt) {
        const Mat<T>& ref = refs[static_cast<std::size_t>(pt / (points / pg))];
        Eigen::Matrix<T, Eigen::Dynamic, 1> xv(in), wv(out);
        for (long i = 0; i < in; ++i) xv[i] = x[static_cast<std::size_t>((b * in + i) * points + pt)];
        for (long i = 0; i < out; ++i) wv[i] = w[static_cast<std::size_t>((b * out + i) * points + pt)];
        const Eigen::Matrix<T, Eigen::Dynamic, 1> yv = ref * xv, dv = ref.adjoint() * wv;
        for (long i = 0; i < out; ++i) err = std::max(err, std::abs(y[static_cast<std::size_t>((b * out + i) * points + pt)] - yv[i]));
        scale = std::max(scale, yv.cwiseAbs().maxCoeff());
        for (long i = 0; i < in; ++i) derr = std::max(derr, std::abs(dx[static_cast<std::size_t>((b * in + i) * points + pt)] - dv[i]));
        dscale = std::max(dscale, dv.cwiseAbs().maxCoeff());
      }
    INFO(map.describe() << ", " << points << " points: forward error " << err << " of " << scale << ", backward " << derr << " of " << dscale);
    CHECK(err <= 1e-13 * scale);
    CHECK(derr <= 1e-13 * dscale);

    auto loss = [&]() {
      map.forward(x.data(), y.data(), batch, points);
      double s = 0;
      for (std::size_t i = 0; i < y.size(); ++i) s += std::real(std::conj(w[i]) * y[i]);
      return s;
    };
    for (auto* p : map.parameters()) p->zero_grad();
    loss();
    map.backward(x.data(), w.data(), nullptr, batch, points);
    double gerr = 0, gscale = 0;
    for (auto* p : map.parameters()) {
      const long stride = std::max(1L, p->size() / 23);
      for (long i = 0; i < p->size(); i += stride) {
        const double h = 1e-3;
        T fd;
        auto at = [&](T d) {
          const T keep = p->value[static_cast<std::size_t>(i)];
          p->value[static_cast<std::size_t>(i)] = keep + d;
          p->changed();
          const double l = loss();
          p->value[static_cast<std::size_t>(i)] = keep;
          p->changed();
          return l;
        };
        if constexpr (std::is_same_v<T, cplx>) fd = T((at(T(h)) - at(T(-h))) / (2 * h), (at(T(0, h)) - at(T(0, -h))) / (2 * h));
        else fd = (at(h) - at(-h)) / (2 * h);
        gerr = std::max(gerr, std::abs(fd - p->grad[static_cast<std::size_t>(i)]));
        gscale = std::max(gscale, std::abs(fd));
      }
    }
    INFO(map.describe() << ": parameter gradient error " << gerr << " of " << gscale);
    CHECK(gerr <= 1e-8 * gscale);
  }
}

template <class T>
void all_maps() {
  Rng rng(3);
  {
    DenseMap<T> d(7, 5, rng);
    const Mat<T> A = d.matrix();  // (a dense map's matrix is its block; checked through the block)
    CHECK((A - DenseMap<T>(A).matrix()).norm() == 0);
    check_map(d, {Mat<T>(DenseMap<T>(A).matrix())}, rng);
  }
  {
    LowRankMap<T> m(9, 6, 2, rng);
    Mat<T> U(6, 2), V(2, 9);
    auto ps = m.parameters();
    for (long i = 0; i < 2; ++i)
      for (long j = 0; j < 9; ++j) V(i, j) = ps[0]->value[static_cast<std::size_t>(i * 9 + j)];
    for (long i = 0; i < 6; ++i)
      for (long j = 0; j < 2; ++j) U(i, j) = ps[1]->value[static_cast<std::size_t>(i * 2 + j)];
    check_map(m, {Mat<T>(U * V)}, rng);
    CHECK(m.parameter_count() == 2 * (9 + 6));
  }
  {
    BlockDiagonalMap<T> m(12, 8, 4, rng);
    Mat<T> B = Mat<T>::Zero(8, 12);
    auto* p = m.parameters()[0];
    for (long g = 0; g < 4; ++g)
      for (long i = 0; i < 2; ++i)
        for (long j = 0; j < 3; ++j) B(g * 2 + i, g * 3 + j) = p->value[static_cast<std::size_t>((g * 2 + i) * 3 + j)];
    check_map(m, {B}, rng);
    CHECK(m.parameter_count() == 24);
  }
  // Monarch: square with nb = sqrt(n) (the paper's), square nb != sqrt(n), wider, narrower.
  for (auto [in, out, nb] : std::vector<std::array<long, 3>>{{16, 16, 4}, {16, 16, 2}, {12, 18, 3}, {24, 8, 4}, {8, 8, 8}}) {
    MonarchMap<T> m(in, out, nb, rng);
    const Mat<T> ref = monarch_reference(m, in, out, nb);
    INFO("Monarch " << in << " -> " << out << ", " << nb << " blocks");
    check_map(m, {ref}, rng);
    const long q = std::min(in / nb, out / nb);
    CHECK(m.parameter_count() == nb * q * (in / nb + out / nb));
  }
  for (long n : {2L, 8L, 32L}) {
    ButterflyMap<T> b(n, rng);
    check_map(b, {butterfly_reference(b, n)}, rng);
    CHECK(b.parameter_count() == 2 * n * b.levels());
  }
  // Flat block butterfly: square, wider, narrower, one block (dense), and 8 blocks a side.
  for (auto [in, out, nb] : std::vector<std::array<long, 3>>{{8, 8, 4}, {8, 12, 2}, {24, 16, 8}, {6, 4, 1}, {16, 16, 8}}) {
    FlatButterflyMap<T> f(in, out, nb, rng);
    const Mat<T> ref = flat_butterfly_reference(f, in, out);
    INFO("flat block butterfly " << in << " -> " << out << ", " << nb << " blocks");
    check_map(f, {ref}, rng);
    long strides = 0;
    while ((1L << strides) < nb) ++strides;
    CHECK(f.parameter_count() == (1 + strides) * in * out / nb);
    // Zero exactly where I xor J has two or more bits (e.g. blocks (0, 3) of 4 or more a side).
    if (nb >= 4) CHECK(f.matrix().block(0, 3 * in / nb, out / nb, in / nb).norm() == 0.0);
  }
  // Per-point-group weights (an FNO's per-mode mixing): 3 groups, each its own matrix.
  {
    const long pg = 3;
    MonarchMap<T> m(16, 8, 2, rng, pg);
    std::vector<Mat<T>> refs;
    for (long g = 0; g < pg; ++g) refs.push_back(monarch_reference(m, 16, 8, 2, g, pg));
    CHECK((refs[0] - refs[1]).norm() > 0.1);
    check_map(m, refs, rng);
    FlatButterflyMap<T> fb(8, 8, 4, rng, pg);
    refs.clear();
    for (long g = 0; g < pg; ++g) refs.push_back(flat_butterfly_reference(fb, 8, 8, g, pg));
    check_map(fb, refs, rng);
    ButterflyMap<T> b(8, rng, pg);
    refs.clear();
    for (long g = 0; g < pg; ++g) refs.push_back(butterfly_reference(b, 8, g, pg));
    check_map(b, refs, rng);
    DenseMap<T> d(5, 4, rng, pg);
    refs.clear();
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    for (long g = 0; g < pg; ++g) refs.push_back(Mat<T>(Eigen::Map<const RowMajor>(d.parameters()[0]->value.data() + g * 20, 4, 5)));
    check_map(d, refs, rng);
    CHECK(d.parameter_count() == 3 * 20);
    CHECK_THROWS_WITH(d.forward(nullptr, nullptr, 1, 4), Catch::Contains("4 points do not split into the layer's 3 point groups"));
  }
  {
    auto s = make_map<T>("butterfly+low_rank:2", 16, 16, rng);
    auto* sum = dynamic_cast<SumMap<T>*>(s.get());
    REQUIRE(sum);
    // The parts' own matrices are checked above; the sum's is theirs added.
    auto ps = s->parameters();
    CHECK(static_cast<long>(ps.size()) == 4 + 2);
    // Pixelfly's layer: a flat block butterfly plus low rank, its matrix the parts' sum.
    auto px = make_map<T>("flat_butterfly:4+low_rank:2", 16, 16, rng);
    REQUIRE(dynamic_cast<SumMap<T>*>(px.get()));
    CHECK(static_cast<long>(px->parameters().size()) == 3 + 2);
    check_map(*px, {px->matrix()}, rng);
  }
}

// The DFT of n = 2^L points as a butterfly: factor k's block (g, j) is [[1, w], [1, -w]],
// w = e^(-2 pi i j / 2^(k+1)) (radix-2 decimation in time); the input goes in bit-reversed.
void set_dft_butterfly(ButterflyMap<cplx>& b, long n) {
  const double pi = 3.14159265358979323846;
  for (long k = 0; k < b.levels(); ++k) {
    const long h = 1L << k;
    for (long g = 0; g < n / (2 * h); ++g)
      for (long j = 0; j < h; ++j) {
        const cplx w = std::polar(1.0, -2 * pi * static_cast<double>(j) / static_cast<double>(2 * h));
        Mat<cplx> B(2, 2);
        B << 1.0, w, 1.0, -w;
        b.factor(k).set_block(g * h + j, B);
      }
  }
}
long bit_reversed(long j, long levels) {
  long r = 0;
  for (long bit = 0; bit < levels; ++bit)
    if (j & (1L << bit)) r |= 1L << (levels - 1 - bit);
  return r;
}
}  // namespace


TEST_CASE("Structured maps equal their matrices; backward and parameter gradients are exact", "[nn]") {
  all_maps<double>();
  all_maps<cplx>();
}

TEST_CASE("Butterfly plus low rank is the sum of its parts", "[nn]") {
  Rng rng(5);
  auto b = std::make_unique<ButterflyMap<double>>(16, rng);
  auto l = std::make_unique<LowRankMap<double>>(16, 16, 3, rng);
  const Mat<double> ref = butterfly_reference(*b, 16) + l->matrix();
  SumMap<double> s(std::move(b), std::move(l));
  check_map(s, {ref}, rng);
}

TEST_CASE("Monarch projection: exact on Monarch matrices, optimal on dense ones", "[nn]") {
  Rng rng(7);
  for (auto [in, out, nb] : std::vector<std::array<long, 3>>{{16, 16, 4}, {16, 16, 2}, {12, 18, 3}, {24, 8, 4}, {36, 36, 6}, {20, 30, 5}}) {
    INFO("Monarch " << in << " -> " << out << ", " << nb << " blocks");
    MonarchMap<double> m(in, out, nb, rng);
    const Mat<double> M = m.matrix();
    auto P = MonarchMap<double>::project(M, nb);
    CHECK((P->matrix() - M).norm() <= 1e-12 * M.norm());

    // A dense matrix: Eckart-Young per block gives |A - P|^2 = |A|^2 - |P|^2, and no small or
    // large perturbation of P's factors comes closer to A.
    Mat<double> A = Mat<double>::Random(out, in);
    auto Q = MonarchMap<double>::project(A, nb);
    const Mat<double> PA = Q->matrix();
    const double dist = (A - PA).norm();
    CHECK(std::abs(dist * dist - (A.squaredNorm() - PA.squaredNorm())) <= 1e-10 * A.squaredNorm());
    CHECK(dist < A.norm());
    int closer = 0;
    for (int trial = 0; trial < 40; ++trial) {
      const double eps = trial < 20 ? 1e-3 : 0.1;
      std::vector<std::vector<double>> keep;
      for (auto* p : Q->parameters()) {
        keep.push_back(p->value);
        for (auto& v : p->value) v += eps * rng.normal();
        p->changed();
      }
      if ((A - Q->matrix()).norm() < dist - 1e-12) ++closer;
      std::size_t k = 0;
      for (auto* p : Q->parameters()) {
        p->value = keep[k++];
        p->changed();
      }
    }
    CHECK(closer == 0);
  }
}

TEST_CASE("Low-rank projection meets Eckart-Young", "[nn]") {
  const Mat<double> A = Mat<double>::Random(14, 9);
  Eigen::JacobiSVD<Mat<double>> svd(A);
  for (long r : {1L, 4L, 9L}) {
    auto P = LowRankMap<double>::project(A, r);
    double tail = 0;
    for (long i = r; i < svd.singularValues().size(); ++i) tail += svd.singularValues()[i] * svd.singularValues()[i];
    CHECK(std::abs((A - P->matrix()).squaredNorm() - tail) <= 1e-12 * A.squaredNorm());
  }
}

TEST_CASE("Projections into one point group: structure matrices unchanged, block-diagonal keeps its blocks", "[nn]") {
  Rng rng(17);
  using C = std::complex<double>;
  const long pg = 3;
  const Mat<C> A = Mat<C>::Random(8, 8);
  for (const std::string spec : {"dense", "low_rank:3", "block_diag:2", "monarch:2", "monarch:4", "flat_butterfly:4"}) {
    auto src = make_map<C>(spec, 8, 8, rng);  // a matrix of the structure
    const Mat<C> S = src->matrix();
    auto m = make_map<C>(spec, 8, 8, rng, pg);
    const Mat<C> before0 = m->matrix(0), before2 = m->matrix(2);
    REQUIRE(m->project_group(1, S));
    INFO(spec);
    CHECK((m->matrix(1) - S).norm() <= 1e-12 * S.norm());
    CHECK((m->matrix(0) - before0).norm() == 0.0);
    CHECK((m->matrix(2) - before2).norm() == 0.0);
    // A dense matrix: its projection is no farther than the structure's own draw.
    REQUIRE(m->project_group(1, A));
    CHECK((A - m->matrix(1)).norm() <= (A - S).norm());
  }
  auto bd = make_map<C>("block_diag:2", 8, 8, rng, pg);
  bd->project_group(2, A);
  Mat<C> want = Mat<C>::Zero(8, 8);
  want.topLeftCorner(4, 4) = A.topLeftCorner(4, 4);
  want.bottomRightCorner(4, 4) = A.bottomRightCorner(4, 4);
  CHECK((bd->matrix(2) - want).norm() <= 1e-14 * A.norm());
  auto bf = make_map<C>("butterfly", 8, 8, rng, pg);
  const Mat<C> keep = bf->matrix(1);
  CHECK_FALSE(bf->project_group(1, A));
  CHECK((bf->matrix(1) - keep).norm() == 0.0);
  CHECK_THROWS_WITH(bd->project_group(3, A), Catch::Contains("point group 3 of 3"));
}

TEST_CASE("Parameter counts from descriptions equal the built maps'; the FNO's memory estimate counts its arrays", "[nn]") {
  Rng rng(2);
  for (const std::string spec : {"dense", "low_rank:3", "block_diag:4", "monarch:2", "monarch:4", "butterfly", "butterfly+low_rank:2", "flat_butterfly:4",
                                 "flat_butterfly:4+low_rank:2"}) {
    INFO(spec);
    CHECK(structure_parameters(spec, 16, 16) == double(make_map<double>(spec, 16, 16, rng)->parameter_count()));
    CHECK(structure_parameters(spec, 16, 16) == double(make_map<std::complex<double>>(spec, 16, 16, rng)->parameter_count()));
    if (spec.rfind("butterfly", 0) != 0) CHECK(structure_parameters(spec, 8, 12) == double(make_map<double>(spec, 8, 12, rng)->parameter_count()));
  }
  CHECK_THROWS_WITH(structure_parameters("sparse:2", 8, 8), Catch::Contains("unknown structure 'sparse'"));
  for (const auto& [spec, transform] : {std::pair<std::string, std::string>{"dense", "fixed"}, {"monarch:2", "fixed"}, {"dense", "monarch:2"}, {"block_diag:2", "dense"}}) {
    const FnoOptions o = kron::testing::small_fno(spec, spec, transform);
    Fno f(o, rng);
    const double NX = 14, NY = 14, frozen = transform == "fixed" ? 2 * (2 * 3 * NX) + 2 * 2 * (2 * 3 * NY) : 0.0;
    const auto m3 = Fno::memory(o, 3), m6 = Fno::memory(o, 6);
    INFO(spec << ", transform " << transform);
    // Values, gradients and Adam's two moments of every parameter, and the frozen transforms.
    CHECK(m3.parameters == 8.0 * (4.0 * double(parameter_count(f.parameters())) + frozen));
    // Activations: proportional to the batch, and at least the padded layer inputs and outputs.
    CHECK(std::abs(m6.activations - 2 * m3.activations) <= 1e-9 * m6.activations);
    CHECK(m3.activations >= 8.0 * 2 * 2 * 3 * 8 * NX * NY);
  }
}

TEST_CASE("The DFT is exactly a butterfly product (bit-reversed input) and a Monarch product (transposed input)", "[nn]") {
  const double pi = 3.14159265358979323846;
  auto dft = [&](const std::vector<cplx>& x) {
    const long n = static_cast<long>(x.size());
    std::vector<cplx> y(x.size());
    for (long k = 0; k < n; ++k) {
      std::complex<long double> s = 0;
      for (long j = 0; j < n; ++j) {
        const long double a = -2.0L * 3.141592653589793238462643383279502884L * static_cast<long double>((j * k) % n) / n;
        s += std::complex<long double>(x[static_cast<std::size_t>(j)]) * std::complex<long double>(std::cos(a), std::sin(a));
      }
      y[static_cast<std::size_t>(k)] = cplx(s);
    }
    return y;
  };
  Rng rng(9);
  for (long n : {16L, 64L, 256L}) {
    ButterflyMap<cplx> b(n, rng);
    set_dft_butterfly(b, n);
    const auto x = random_vector<cplx>(n, rng);
    std::vector<cplx> xr(x.size()), y(x.size());
    for (long j = 0; j < n; ++j) xr[static_cast<std::size_t>(bit_reversed(j, b.levels()))] = x[static_cast<std::size_t>(j)];
    b.forward(xr.data(), y.data(), 1, 1);
    const auto want = dft(x);
    double err = 0, scale = 0;
    for (long k = 0; k < n; ++k) {
      err = std::max(err, std::abs(y[static_cast<std::size_t>(k)] - want[static_cast<std::size_t>(k)]));
      scale = std::max(scale, std::abs(want[static_cast<std::size_t>(k)]));
    }
    INFO("butterfly DFT n = " << n << ": error " << err << " of " << scale);
    CHECK(err <= 1e-12 * scale);
  }
  for (long m : {4L, 8L, 16L}) {
    const long n = m * m;
    MonarchMap<cplx> M(n, n, m, rng);
    for (long k = 0; k < m; ++k) {
      Mat<cplx> R(m, m), L(m, m);
      for (long l = 0; l < m; ++l)
        for (long j = 0; j < m; ++j) {
          R(l, j) = std::polar(1.0, -2 * pi * static_cast<double>(k * l) / static_cast<double>(n)) *
                    std::polar(1.0, -2 * pi * static_cast<double>((j * l) % m) / static_cast<double>(m));
          L(l, j) = std::polar(1.0, -2 * pi * static_cast<double>((j * l) % m) / static_cast<double>(m));  // L_k[s, k'] = w_m^(k' s)
        }
      M.right().set_block(k, R);
      M.left().set_block(k, L);
    }
    const auto x = random_vector<cplx>(n, rng);
    std::vector<cplx> xt(x.size()), y(x.size());
    for (long k = 0; k < m; ++k)
      for (long j = 0; j < m; ++j) xt[static_cast<std::size_t>(k * m + j)] = x[static_cast<std::size_t>(j * m + k)];
    M.forward(xt.data(), y.data(), 1, 1);
    const auto want = dft(x);
    double err = 0, scale = 0;
    for (long k = 0; k < n; ++k) {
      err = std::max(err, std::abs(y[static_cast<std::size_t>(k)] - want[static_cast<std::size_t>(k)]));
      scale = std::max(scale, std::abs(want[static_cast<std::size_t>(k)]));
    }
    INFO("Monarch DFT n = " << n << ": error " << err << " of " << scale);
    CHECK(err <= 1e-12 * scale);
  }
}

TEST_CASE("The DCT-II is exactly a butterfly product: Makhoul's reordering, the DFT butterfly, twiddles", "[nn]") {
  // X_k = sum_j x_j cos(pi k (2 j + 1) / (2 n)) = Re(e^(-i pi k / (2 n)) V_k), V the DFT of
  // v = (x_0, x_2, ..., x_(n-2), x_(n-1), ..., x_3, x_1) (Makhoul 1980); against FFTW's REDFT10
  // (2 X_k) through the engine's DCT2 line operator and a long-double sum.
  const long double pil = 3.141592653589793238462643383279502884L;
  Rng rng(10);
  for (long n : {8L, 64L, 512L}) {
    ButterflyMap<cplx> b(n, rng);
    set_dft_butterfly(b, n);
    const auto x = random_vector<double>(n, rng);
    std::vector<cplx> vr(static_cast<std::size_t>(n)), V(vr.size());
    for (long j = 0; j < n / 2; ++j) {
      vr[static_cast<std::size_t>(bit_reversed(j, b.levels()))] = x[static_cast<std::size_t>(2 * j)];
      vr[static_cast<std::size_t>(bit_reversed(n - 1 - j, b.levels()))] = x[static_cast<std::size_t>(2 * j + 1)];
    }
    b.forward(vr.data(), V.data(), 1, 1);
    std::vector<double> fftw(static_cast<std::size_t>(n));
    const auto dct = kron::linops::LineOp<double>::transform(kron::linops::LineOp<double>::Transform::DCT2, n);
    dct.apply(kron::linops::LineView<const double>{x.data(), 1, n, 1, n}, kron::linops::LineView<double>{fftw.data(), 1, n, 1, n});
    double err = 0, err_fftw = 0, scale = 0;
    for (long k = 0; k < n; ++k) {
      long double want = 0;
      for (long j = 0; j < n; ++j) want += x[static_cast<std::size_t>(j)] * std::cos(pil * k * (2 * j + 1) / (2 * n));
      const double got = (std::polar(1.0, -static_cast<double>(pil * k / (2 * n))) * V[static_cast<std::size_t>(k)]).real();
      err = std::max(err, std::abs(got - static_cast<double>(want)));
      err_fftw = std::max(err_fftw, std::abs(got - 0.5 * fftw[static_cast<std::size_t>(k)]));
      scale = std::max(scale, std::abs(static_cast<double>(want)));
    }
    INFO("DCT-II by butterfly, n = " << n << ": error " << err << " (FFTW: " << err_fftw << ") of " << scale);
    CHECK(err <= 1e-12 * scale);
    CHECK(err_fftw <= 1e-12 * scale);
  }
}

TEST_CASE("MLP, GELU and the losses: gradients against central differences", "[nn]") {
  for (const std::string structure : {"dense", "monarch:2", "low_rank:3", "block_diag:4", "butterfly", "butterfly+low_rank:2", "flat_butterfly:4+low_rank:2"}) {
    INFO("hidden layers " << structure);
    Rng rng(11);
    auto net = mlp({3, 8, 8, 8, 2}, structure, rng);
    const long batch = 4;
    auto x = random_vector<double>(batch * 3, rng), t = random_vector<double>(batch * 2, rng);
    std::vector<double> y(static_cast<std::size_t>(batch * 2)), g(y.size()), dx(x.size());
    for (int which = 0; which < 2; ++which) {
      auto loss = [&](double* grad) {
        net->forward(x.data(), y.data(), batch);
        return which == 0 ? mse_loss(y.data(), t.data(), 2, batch, grad) : relative_l2_loss(y.data(), t.data(), 2, batch, grad);
      };
      auto params = net->parameters();
      for (auto& p : params) p.zero_grad();
      loss(g.data());
      net->backward(x.data(), g.data(), dx.data(), batch);
      const auto [err, scale, checked] = fd_check(params, x, dx, loss, [](long) { return 3L; }, 1);
      (void)checked;
      INFO((which == 0 ? "mse" : "relative L2") << ": gradient error " << err << " of " << scale);
      CHECK(err <= 1e-6 * scale);
      CHECK(scale > 0);
    }
  }
}

TEST_CASE("Batches gathered from a resident set, and the summed relative L2 error", "[nn]") {
  Rng rng(12);
  const long rows = 6, len = 5, B = 3;
  const auto set = random_vector<double>(rows * len, rng), target = random_vector<double>(B * len, rng);
  const std::vector<long> pick = {4, 0, 4};
  std::vector<double> x(static_cast<std::size_t>(B * len)), g1(x.size()), g2(x.size());
  ops::gather_rows(core::MemorySpace::Host, set.data(), x.data(), pick.data(), B, len);
  for (long b = 0; b < B; ++b)
    for (long p = 0; p < len; ++p) CHECK(x[static_cast<std::size_t>(b * len + p)] == set[static_cast<std::size_t>(pick[static_cast<std::size_t>(b)] * len + p)]);
  double sum = 1.0;
  ops::relative_l2_accumulate(core::MemorySpace::Host, x.data(), target.data(), len, B, g1.data(), &sum);
  const double mean = relative_l2_loss(x.data(), target.data(), len, B, g2.data());
  CHECK(sum == Approx(1.0 + B * mean).epsilon(1e-15));
  CHECK(g1 == g2);
  std::vector<double> zero(static_cast<std::size_t>(len), 0.0);
  CHECK_THROWS_WITH(ops::relative_l2_accumulate(core::MemorySpace::Host, x.data(), zero.data(), len, 1, nullptr, &sum), Catch::Contains("zero target"));
}

// A map in single precision (TS) against its double-precision twin (TD) holding the same values
// (float-representable parameters and inputs): forward, input gradient and parameter gradients
// agree to fp32's rounding.
template <class TS, class TD>
void compare_precisions(const std::string& spec, long in, long out, long pg) {
  Rng r1(4), r2(4);
  auto f = make_map<TS>(spec, in, out, r1, pg);
  auto d = make_map<TD>(spec, in, out, r2, pg);
  auto fp = f->parameters();
  auto dp = d->parameters();
  REQUIRE(fp.size() == dp.size());
  for (std::size_t k = 0; k < fp.size(); ++k) {
    for (long i = 0; i < fp[k]->size(); ++i) dp[k]->value[static_cast<std::size_t>(i)] = TD(fp[k]->value[static_cast<std::size_t>(i)]);
    dp[k]->changed();
  }
  const long points = 2 * pg, batch = 3;
  std::mt19937 g(6);
  std::vector<TS> xs(static_cast<std::size_t>(batch * in * points)), ws(static_cast<std::size_t>(batch * out * points));
  for (auto& v : xs) v = testing::rnd<TS>(g);
  for (auto& v : ws) v = testing::rnd<TS>(g);
  const std::vector<TD> xd(xs.begin(), xs.end()), wd(ws.begin(), ws.end());
  std::vector<TS> ys(ws.size()), dxs(xs.size());
  std::vector<TD> yd(ws.size()), dxd(xs.size());
  f->forward(xs.data(), ys.data(), batch, points);
  f->backward(xs.data(), ws.data(), dxs.data(), batch, points);
  d->forward(xd.data(), yd.data(), batch, points);
  d->backward(xd.data(), wd.data(), dxd.data(), batch, points);
  auto rel = [](const auto& a, const auto& b) {
    double e = 0, sc = 0;
    for (std::size_t q = 0; q < b.size(); ++q) {
      e = std::max(e, std::abs(TD(a[q]) - b[q]));
      sc = std::max(sc, double(std::abs(b[q])));
    }
    return e / std::max(sc, 1e-300);
  };
  INFO(d->describe() << ", " << pg << " point groups");
  CHECK(rel(ys, yd) <= 1e-5);
  CHECK(rel(dxs, dxd) <= 1e-5);
  for (std::size_t k = 0; k < fp.size(); ++k) {
    INFO("parameter " << dp[k]->name);
    CHECK(rel(fp[k]->grad, dp[k]->grad) <= 1e-5);
  }
  CHECK(f->flops() == d->flops());
}

TEST_CASE("Structured maps in single precision agree with their double-precision twins", "[nn]") {
  using cf = std::complex<float>;
  for (const std::string spec : {"dense", "low_rank:3", "block_diag:2", "monarch:2", "butterfly", "flat_butterfly:2", "butterfly+low_rank:2"}) {
    compare_precisions<float, double>(spec, 8, 8, 1);
    compare_precisions<cf, cplx>(spec, 8, 8, 3);
  }
  compare_precisions<float, double>("monarch:2", 6, 10, 2);
  // The closed-form projections in float: a low-rank matrix and a Monarch matrix come back.
  Rng rng(9);
  auto m = make_map<float>("monarch:2", 8, 8, rng);
  const Eigen::MatrixXf M = m->matrix(0);
  auto p = MonarchMap<float>::project(M, 2);
  CHECK((p->matrix(0) - M).norm() <= 1e-5f * M.norm());
}

TEST_CASE("Point-wise ops in single precision agree with double precision", "[nn]") {
  // The same inputs (float values) through every op in fp32 and fp64: agreement to fp32's
  // rounding (sums are formed in double in both).
  const auto f = testing::run_nn_ops<float>(core::MemorySpace::Host), d = testing::run_nn_ops<double>(core::MemorySpace::Host);
  REQUIRE(f.size() == d.size());
  for (std::size_t k = 0; k < f.size(); ++k) {
    double err = 0, scale = 0;
    for (std::size_t q = 0; q < d[k].second.size(); ++q) {
      err = std::max(err, std::abs(f[k].second[q] - d[k].second[q]));
      scale = std::max(scale, std::abs(d[k].second[q]));
    }
    INFO(d[k].first << ": " << err << " of " << scale);
    CHECK(f[k].second.size() == d[k].second.size());
    CHECK(err <= 2e-6 * std::max(scale, 1e-30));
    CHECK(scale > 0);
  }
}

TEST_CASE("Models in single precision agree with their double-precision twins: FNO, MLP, Adam", "[nn][fno]") {
  // The same fp32 weights and inputs through an fp32 model and an fp64 one: agreement to fp32's
  // rounding, every structure and learnable transform that runs in fp32.
  for (const auto& [spectral, mixing, transform] : {std::tuple<std::string, std::string, std::string>{"dense", "dense", "fixed"},
                                                      {"monarch:2", "block_diag:2", "fixed"},
                                                      {"low_rank:2", "monarch:2", "fixed"},
                                                      {"butterfly", "dense", "fixed"},
                                                      {"dense", "block_diag:2", "monarch:2"},
                                                      {"dense", "dense", "dense"}}) {
    const auto gap = testing::fp32_fno_gap(testing::small_fno(spectral, mixing, transform), core::MemorySpace::Host);
    INFO(spectral << " / " << mixing << " / " << transform << ": outputs " << gap.y << ", input gradients " << gap.dx << ", parameter gradients " << gap.grad);
    CHECK(gap.y <= 1e-5);
    CHECK(gap.dx <= 1e-5);
    CHECK(gap.grad <= 1e-5);
  }
  // The Monarch neural operator's transforms run in double only: refused by name in fp32.
  Rng rng(1);
  CHECK_THROWS_WITH(FnoT<float>(testing::small_fno("dense", "dense", "monarch_dft"), rng), Catch::Contains("runs in double precision only"));
  // An MLP of any structure, and Adam's steps on it, in both precisions from the same weights.
  Rng r1(3), r2(3);
  auto mf = mlp<float>({5, 16, 16, 2}, "monarch:4", r1);
  auto md = mlp<double>({5, 16, 16, 2}, "monarch:4", r2);
  const auto pf = mf->parameters();
  const auto pd = md->parameters();
  REQUIRE(pf.size() == pd.size());
  for (std::size_t k = 0; k < pf.size(); ++k) pd[k].assign(pf[k].values_as_double());
  AdamT<float> af(pf, {1e-2, 0.9, 0.999, 1e-8, 1e-4, false});
  AdamT<double> ad(pd, {1e-2, 0.9, 0.999, 1e-8, 1e-4, false});
  std::mt19937 g(2);
  std::vector<float> x(4 * 5), t(4 * 2), y(t.size()), gy(t.size());
  for (auto& v : x) v = testing::rnd<float>(g);
  for (auto& v : t) v = 1.0f + testing::rnd<float>(g);
  const std::vector<double> xd(x.begin(), x.end()), td(t.begin(), t.end());
  std::vector<double> yd(t.size()), gyd(t.size());
  for (int step = 0; step < 5; ++step) {
    af.zero_grad();
    ad.zero_grad();
    mf->forward(x.data(), y.data(), 4);
    md->forward(xd.data(), yd.data(), 4);
    const double lf = relative_l2_loss(y.data(), t.data(), 2, 4, gy.data()), ld = relative_l2_loss(yd.data(), td.data(), 2, 4, gyd.data());
    CHECK(std::abs(lf - ld) <= 1e-5 * ld);
    mf->backward(x.data(), gy.data(), nullptr, 4);
    md->backward(xd.data(), gyd.data(), nullptr, 4);
    af.step();
    ad.step();
  }
  double e = 0;
  for (std::size_t k = 0; k < pf.size(); ++k) e = std::max(e, testing::max_rel_diff(pf[k].values_as_double(), pd[k].values_as_double()));
  INFO("weights after 5 steps differ by " << e);
  CHECK(e <= 1e-4);
  CHECK(af.first_moment(0).size() == static_cast<std::size_t>(pf[0].size));
}

TEST_CASE("Adam: the first step and a convex problem", "[nn]") {
  Parameter<double> p("w", 3);
  p.value = {1.0, -2.0, 0.5};
  p.grad = {4.0, -0.01, 0.0};
  Adam a({real_view(p)}, {0.1, 0.9, 0.999, 1e-8, 0.0, false});
  a.step();
  // Bias-corrected, the first step is lr g / (|g| + eps).
  CHECK(p.value[0] == Approx(1.0 - 0.1 * 4.0 / (4.0 + 1e-8)).epsilon(1e-14));
  CHECK(p.value[1] == Approx(-2.0 + 0.1 * 0.01 / (0.01 + 1e-8)).epsilon(1e-14));
  CHECK(p.value[2] == 0.5);
  // Decoupled weight decay shrinks by lr wd before the update.
  Parameter<double> q("w", 1);
  q.value = {2.0};
  q.grad = {0.0};
  Adam b({real_view(q)}, {0.1, 0.9, 0.999, 1e-8, 0.5, true});
  b.step();
  CHECK(q.value[0] == Approx(2.0 * (1 - 0.05)).epsilon(1e-14));
  CHECK(step_schedule(1e-3, 250, 100, 0.5) == Approx(2.5e-4));
  // Least squares |A w - b|^2 by Adam reaches the solution of the normal equations.
  Rng rng(2);
  Mat<double> A = Mat<double>::Random(20, 4);
  Eigen::VectorXd rhs = Eigen::VectorXd::Random(20);
  const Eigen::VectorXd sol = A.colPivHouseholderQr().solve(rhs);
  Parameter<double> w("w", 4);
  Adam c({real_view(w)}, {0.05, 0.9, 0.999, 1e-8, 0.0, false});
  for (int it = 0; it < 4000; ++it) {
    Eigen::Map<Eigen::VectorXd> wv(w.value.data(), 4), gv(w.grad.data(), 4);
    gv = 2.0 * A.transpose() * (A * wv - rhs);
    c.step();
    if (it > 3000) c.set_lr(0.005);
  }
  CHECK((Eigen::Map<Eigen::VectorXd>(w.value.data(), 4) - sol).norm() <= 1e-4 * sol.norm());
}

TEST_CASE("A Monarch MLP learns a smooth function of two variables", "[nn]") {
  Rng rng(21);
  auto net = mlp({2, 32, 32, 1}, "monarch:4", rng);
  const long n = 256;
  std::vector<double> x(2 * n), t(n), y(n), g(n);
  for (long i = 0; i < n; ++i) {
    x[2 * i] = rng.uniform(-1, 1);
    x[2 * i + 1] = rng.uniform(-1, 1);
    t[i] = std::sin(2 * x[2 * i]) + x[2 * i + 1] * x[2 * i + 1];
  }
  Adam opt(net->parameters(), {1e-2, 0.9, 0.999, 1e-8, 0.0, false});
  const double l0 = [&] {
    net->forward(x.data(), y.data(), n);
    return mse_loss(y.data(), t.data(), 1, n, nullptr);
  }();
  double l = l0;
  for (int it = 0; it < 1500; ++it) {
    opt.zero_grad();
    net->forward(x.data(), y.data(), n);
    l = mse_loss(y.data(), t.data(), 1, n, g.data());
    net->backward(x.data(), g.data(), nullptr, n);
    opt.set_lr(step_schedule(1e-2, it, 500, 0.5));
    opt.step();
  }
  INFO("mse " << l0 << " -> " << l);
  CHECK(l < 2e-4);
  CHECK(l < 1e-3 * l0);
}

// The tensor-core Monarch kernel's weight layout, checked on the CPU (CI has no GPU): the MMA is
// emulated from PTX's documented fragment positions (mma.m16n8k16 bf16: lane (g, t) holds A at
// (g | g+8, 2t | 2t+1 | 2t+8 | 2t+9) in the order a0..a7 and B at rows 2t, 2t+1, 2t+8, 2t+9 of
// column g; m16n8k8 tf32: A at (g, t), (g+8, t), (g, t+4), (g+8, t+4), B at rows t, t+4), with B
// loaded as the kernel loads x (lane t: XPER consecutive values from column kk KS + t XPER). The
// product over all k-steps must be R_k x for every 16-row tile.
TEST_CASE("The tensor-core Monarch weight layout feeds the MMA fragments R x", "[nn]") {
  for (const bool bf16 : {true, false})
    for (const int bs : {16, 32, 64}) {
      INFO((bf16 ? "bf16" : "tf32") << ", blocks of " << bs);
      const long nb = 3;
      const int ks = nn::fused::tc_kstep(bf16), per = bf16 ? 8 : 4, xper = bf16 ? 4 : 2;
      nn::Rng rng(static_cast<std::uint64_t>(bs + (bf16 ? 1 : 0)));
      std::vector<double> W(static_cast<std::size_t>(nb * bs * bs)), X(static_cast<std::size_t>(8 * nb * bs));  // 8 samples
      for (auto& v : W) v = rng.normal();
      for (auto& v : X) v = rng.normal();
      auto w = [&](long k, int r, int c) { return W[static_cast<std::size_t>((k * bs + r) * bs + c)]; };
      const auto F = nn::fused::tc_fragment_layout(nb, bs, bf16, w);
      REQUIRE(F.size() == W.size());
      double err = 0;
      for (long k = 0; k < nb; ++k)
        for (int mt = 0; mt < bs / 16; ++mt) {
          double C[16][8] = {};
          for (int kk = 0; kk < bs / ks; ++kk) {
            double A[16][16] = {}, B[16][8] = {};  // the MMA's operands (k-step columns / rows)
            for (int lane = 0; lane < 32; ++lane) {
              const int g = lane / 4, t = lane % 4;
              const double* a = F.data() + ((((k * (bs / 16) + mt) * (bs / ks) + kk) * 32 + lane) * per);
              const double* x = X.data() + g * nb * bs + k * bs + kk * ks + t * xper;  // sample g
              if (bf16) {
                const int ar[8] = {g, g, g + 8, g + 8, g, g, g + 8, g + 8}, ac[8] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1, 2 * t + 8, 2 * t + 9, 2 * t + 8, 2 * t + 9};
                for (int e = 0; e < 8; ++e) A[ar[e]][ac[e]] = a[e];
                const int br[4] = {2 * t, 2 * t + 1, 2 * t + 8, 2 * t + 9};
                for (int e = 0; e < 4; ++e) B[br[e]][g] = x[e];
              } else {
                const int ar[4] = {g, g + 8, g, g + 8}, ac[4] = {t, t, t + 4, t + 4};
                for (int e = 0; e < 4; ++e) A[ar[e]][ac[e]] = a[e];
                B[t][g] = x[0];
                B[t + 4][g] = x[1];
              }
            }
            for (int i = 0; i < 16; ++i)
              for (int j = 0; j < 8; ++j)
                for (int c = 0; c < ks; ++c) C[i][j] += A[i][c] * B[c][j];
          }
          for (int i = 0; i < 16; ++i)
            for (int j = 0; j < 8; ++j) {
              double ref = 0;
              for (int c = 0; c < bs; ++c) ref += w(k, mt * 16 + i, c) * X[static_cast<std::size_t>(j * nb * bs + k * bs + c)];
              err = std::max(err, std::abs(C[i][j] - ref));
            }
        }
      CHECK(err <= 1e-12);
    }
}

TEST_CASE("Structures refuse shapes they do not allow, with the reason", "[nn]") {
  Rng rng(1);
  CHECK_THROWS_WITH(make_map<double>("monarch:3", 16, 16, rng), Catch::Contains("3 blocks do not divide both sizes"));
  CHECK_THROWS_WITH(make_map<double>("block_diag:5", 10, 12, rng), Catch::Contains("5 blocks do not divide"));
  CHECK_THROWS_WITH(make_map<double>("butterfly", 12, 12, rng), Catch::Contains("power of two"));
  CHECK_THROWS_WITH(make_map<double>("butterfly", 16, 8, rng), Catch::Contains("a butterfly layer is square"));
  CHECK_THROWS_WITH(make_map<double>("low_rank:9", 8, 16, rng), Catch::Contains("rank 9 outside 1 .. 8"));
  CHECK_THROWS_WITH(make_map<double>("monarch", 16, 16, rng), Catch::Contains("needs a size after ':'"));
  CHECK_THROWS_WITH(make_map<double>("dense:2", 16, 16, rng), Catch::Contains("takes no ':' argument"));
  CHECK_THROWS_WITH(make_map<double>("monarch:x", 16, 16, rng), Catch::Contains("'x' is not a positive whole number"));
  CHECK_THROWS_WITH(make_map<double>("sparse:2", 16, 16, rng), Catch::Contains("unknown structure 'sparse'"));
  CHECK_THROWS_WITH(make_map<double>("flat_butterfly:3", 12, 12, rng), Catch::Contains("3 blocks is not a power of two"));
  CHECK_THROWS_WITH(make_map<double>("flat_butterfly:4", 10, 12, rng), Catch::Contains("4 blocks do not divide both sizes"));
  CHECK_THROWS_WITH(make_map<double>("flat_butterfly", 16, 16, rng), Catch::Contains("needs a size after ':'"));
  CHECK_THROWS_WITH(make_map<double>("+low_rank:2", 16, 16, rng), Catch::Contains("a '+' needs a structure on each side"));
  CHECK_THROWS_WITH(structure_parameters("flat_butterfly:4+", 16, 16), Catch::Contains("a '+' needs a structure on each side"));
  CHECK_THROWS_WITH(make_map<double>("flat_butterfly:4+sparse:2", 16, 16, rng), Catch::Contains("unknown structure 'sparse'"));
  Sequential s;
  s.add(std::make_unique<Linear>(make_map<double>("dense", 4, 6, rng)));
  CHECK_THROWS_WITH(s.add(std::make_unique<Gelu>(5)), Catch::Contains("takes 5 values but the layer before gives 6"));
}

// ---- Fourier neural operators ------------------------------------------------------------------

#include <fftw3.h>

TEST_CASE("FNO transforms: truncated DFT rows against FFTW, and back for band-limited data", "[nn][fno]") {
  Rng rng(4);
  for (long n : {10L, 13L, 94L}) {
    const long m = std::min(12L, n / 2);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = rng.normal();
    std::vector<cplx> ref(static_cast<std::size_t>(n / 2 + 1));
    fftw_plan p = fftw_plan_dft_r2c_1d(static_cast<int>(n), v.data(), reinterpret_cast<fftw_complex*>(ref.data()), FFTW_ESTIMATE);
    std::vector<double> keep = v;
    fftw_execute(p);
    fftw_destroy_plan(p);
    v = keep;
    const Eigen::VectorXd c = rdft_rows(n, m) * Eigen::Map<const Eigen::VectorXd>(v.data(), n);
    double err = 0;
    for (long k = 0; k < m; ++k) err = std::max(err, std::abs(cplx(c[2 * k], c[2 * k + 1]) - ref[static_cast<std::size_t>(k)]));
    CHECK(err <= 1e-12 * n);
    // A real signal of the kept modes comes back exactly.
    Eigen::VectorXd band = Eigen::VectorXd::Zero(n);
    for (long k = 0; k < m; ++k) {
      const double a = rng.normal(), ph = 2 * k == n ? 0.0 : 0.3 * k;  // (the Nyquist mode has no sine part)
      for (long i = 0; i < n; ++i) band[i] += a * std::cos(2 * M_PI * k * i / double(n) + ph);
    }
    CHECK((irdft_cols(n, m) * (rdft_rows(n, m) * band) - band).norm() <= 1e-12 * band.norm() * n);
    // Complex rows against FFTW's c2c; a signal of the kept modes comes back.
    const long my = std::min(5L, n / 2);
    std::vector<cplx> z(static_cast<std::size_t>(n)), zf(z.size());
    for (auto& x : z) x = cplx(rng.normal(), rng.normal());
    fftw_plan q = fftw_plan_dft_1d(static_cast<int>(n), reinterpret_cast<fftw_complex*>(z.data()), reinterpret_cast<fftw_complex*>(zf.data()),
                                   FFTW_FORWARD, FFTW_ESTIMATE);
    fftw_execute(q);
    fftw_destroy_plan(q);
    const Eigen::VectorXcd d = dft_rows(n, my) * Eigen::Map<const Eigen::VectorXcd>(z.data(), n);
    double derr = 0;
    for (long r = 0; r < 2 * my; ++r) derr = std::max(derr, std::abs(d[r] - zf[static_cast<std::size_t>(r < my ? r : n - 2 * my + r)]));
    CHECK(derr <= 1e-12 * n);
    Eigen::VectorXcd zb = Eigen::VectorXcd::Zero(n);
    for (long r = 0; r < 2 * my; ++r) {
      const long k = r < my ? r : n - 2 * my + r;
      const cplx a(rng.normal(), rng.normal());
      for (long j = 0; j < n; ++j) zb[j] += a * std::polar(1.0, 2 * M_PI * double(k * j % n) / double(n));
    }
    CHECK((idft_cols(n, my) * (dft_rows(n, my) * zb) - zb).norm() <= 1e-12 * zb.norm() * n);
  }
}

TEST_CASE("FNO 1D and 2D: gradients against central differences, any structure", "[nn][fno]") {
  struct Case {
    int dim;
    std::string spectral, mixing, transform = "fixed";
  };
  for (const Case& c : std::vector<Case>{{1, "dense", "dense"},
                                         {2, "dense", "dense"},
                                         {2, "monarch:2", "block_diag:2"},
                                         {1, "low_rank:2", "monarch:2"},
                                         {2, "dense", "dense", "dense"},
                                         {2, "dense", "monarch:2", "monarch:2"},
                                         {1, "dense", "dense", "low_rank:2"},
                                         {2, "dense", "block_diag:2", "monarch_dft"},
                                         {1, "low_rank:2", "dense", "monarch_dft"}}) {
    INFO(c.dim << "D FNO, spectral " << c.spectral << ", mixing " << c.mixing << ", transform " << c.transform);
    Rng rng(8);
    FnoOptions o;
    o.dim = c.dim;
    const bool mdft = c.transform == "monarch_dft";
    o.nx = mdft ? 7 : c.transform.rfind("monarch", 0) == 0 ? 6 : 7;  // Monarch transforms: 8 padded points; the Monarch DFT 9
    o.ny = c.dim == 2 ? (mdft ? 7 : 6) : 1;
    o.in_channels = 2;
    o.out_channels = 1;
    o.modes_x = 3;
    o.modes_y = 2;
    o.width = 4;
    o.layers = 2;
    o.padding = 2;
    o.head = 5;
    o.spectral = c.spectral;
    o.mixing = c.mixing;
    o.transform = c.transform;
    Fno net(o, rng);
    const long batch = 2;
    auto x = random_vector<double>(batch * net.in(), rng), t = random_vector<double>(batch * net.out(), rng);
    std::vector<double> y(static_cast<std::size_t>(batch * net.out())), g(y.size()), dx(x.size());
    auto loss = [&](double* grad) {
      net.forward(x.data(), y.data(), batch);
      return mse_loss(y.data(), t.data(), net.out(), batch, grad);
    };
    auto params = net.parameters();
    for (auto& p : params) p.zero_grad();
    loss(g.data());
    net.backward(x.data(), g.data(), dx.data(), batch);
    const auto [err, scale, checked] = fd_check(params, x, dx, loss, [](long n) { return std::max(1L, n / 7); }, 3);
    INFO("gradient error " << err << " of " << scale << " over " << checked << " parameters");
    CHECK(err <= 1e-6 * scale);
    CHECK(checked > 50);
  }
}

namespace {
// Copies the fixed-transform FNO's weights into a model with `extra` learnable transform
// factors (Fno::parameters: the mixing layers, then the transforms, then the head's two layers),
// and returns the largest difference of their outputs on a random batch, relative.
double outputs_with_same_weights(Fno& fixed, Fno& learnt, std::size_t extra) {
  auto pf = fixed.parameters(), pl = learnt.parameters();
  REQUIRE(pl.size() == pf.size() + extra);
  for (std::size_t k = 0, j = 0; k < pf.size(); ++k, ++j) {
    if (k == pf.size() - 4) j += extra;  // the head's weights and biases come last
    REQUIRE(pl[j].size == pf[k].size);
    std::copy(pf[k].value, pf[k].value + pf[k].size, pl[j].value);
    pl[j].upload();
  }
  Rng rx(6);
  const long B = 2;
  auto x = random_vector<double>(B * fixed.in(), rx);
  std::vector<double> y1(static_cast<std::size_t>(B * fixed.out())), y2(y1.size());
  fixed.forward(x.data(), y1.data(), B);
  learnt.forward(x.data(), y2.data(), B);
  double d = 0, n = 0;
  for (std::size_t i = 0; i < y1.size(); ++i) {
    d = std::max(d, std::abs(y1[i] - y2[i]));
    n = std::max(n, std::abs(y1[i]));
  }
  return d / n;
}
}  // namespace

TEST_CASE("Learnable transforms start at the DFT: dense exactly (the FNO's outputs), others at their projection", "[nn][fno]") {
  Rng r1(4), r2(5);
  Fno fixed(kron::testing::small_fno("dense", "dense"), r1), learnt(kron::testing::small_fno("dense", "dense", "dense"), r2);
  CHECK(fixed.transform_parameters() == 0);
  CHECK(fixed.transform_start_error() == 0.0);
  // 2 layers x (x: 2 x 6 x 14 real, y: 2 x 6 x 14 complex).
  CHECK(learnt.transform_parameters() == 2 * (2 * 6 * 14 + 2 * 2 * 6 * 14));
  CHECK(learnt.transform_start_error() <= 1e-15);
  // The same weights elsewhere (8 factors: 2 layers x 4 transforms): the FNO's outputs.
  CHECK(outputs_with_same_weights(fixed, learnt, 8) <= 1e-13);
  // Monarch transforms start at the nearest Monarch matrices, not at the DFT itself.
  Rng r3(5);
  Fno mno(kron::testing::small_fno("dense", "dense", "monarch:2"), r3);
  INFO("Monarch transforms start " << mno.transform_start_error() << " from the DFT");
  CHECK(mno.transform_start_error() > 1e-3);
  CHECK(mno.transform_start_error() < 1.0);
  CHECK(mno.describe().find("learnable monarch:2 transforms") != std::string::npos);
  CHECK_THROWS_WITH(Fno(kron::testing::small_fno("dense", "dense", "monarch:4"), r3), Catch::Contains("do not divide both sizes"));
}

TEST_CASE("The Monarch DFT: the four transforms exact at the start, adjoint, learnable", "[nn][fno]") {
  using K = kron::nn::MonarchDft::Kind;
  Rng rng(21);
  for (long n : {4L, 16L, 25L, 100L})
    for (long points : {1L, 3L}) {
      const long k = std::min(n / 2, 4L), kc = std::min(n / 2, 3L);
      struct Want {
        K kind;
        Eigen::MatrixXd A;  // the real-linear map on doubles (complex values as re, im pairs)
        long modes;
      };
      // Complex matrices as real-linear maps on interleaved doubles.
      auto real_form = [](const Eigen::MatrixXcd& C) {
        Eigen::MatrixXd A(2 * C.rows(), 2 * C.cols());
        for (long i = 0; i < C.rows(); ++i)
          for (long j = 0; j < C.cols(); ++j) {
            A(2 * i, 2 * j) = C(i, j).real();
            A(2 * i, 2 * j + 1) = -C(i, j).imag();
            A(2 * i + 1, 2 * j) = C(i, j).imag();
            A(2 * i + 1, 2 * j + 1) = C(i, j).real();
          }
        return A;
      };
      for (const Want& w : {Want{K::RealForward, rdft_rows(n, k), k}, Want{K::RealInverse, irdft_cols(n, k), k},
                            Want{K::Forward, real_form(dft_rows(n, kc)), kc}, Want{K::Inverse, real_form(idft_cols(n, kc)), kc}}) {
        INFO("n = " << n << ", points " << points << ", kind " << static_cast<int>(w.kind));
        kron::nn::MonarchDft T(w.kind, n, w.modes, rng);
        const long rin = w.A.cols(), rout = w.A.rows(), lines = 2;
        // Lines of rows x points doubles (complex: each row's points as pairs).
        const long win = T.real_in() ? 1 : 2, wout = T.real_out() ? 1 : 2;
        REQUIRE(rin == T.in_rows() * win);
        REQUIRE(rout == T.out_rows() * wout);
        auto x = random_vector<double>(lines * rin * points, rng), dy = random_vector<double>(lines * rout * points, rng);
        std::vector<double> y(dy.size()), dx(x.size());
        T.forward(x.data(), y.data(), lines, points);
        double err = 0, scale = 0;
        for (long l = 0; l < lines; ++l)
          for (long p = 0; p < points; ++p)
            for (long i = 0; i < rout; ++i) {
              const long ri = i / wout, ci = i % wout;
              double want = 0;
              for (long j = 0; j < rin; ++j) want += w.A(i, j) * x[static_cast<std::size_t>(l * rin * points + ((j / win) * points + p) * win + j % win)];
              err = std::max(err, std::abs(y[static_cast<std::size_t>(l * rout * points + (ri * points + p) * wout + ci)] - want));
              scale = std::max(scale, std::abs(want));
            }
        INFO("error " << err << " of " << scale);
        CHECK(err <= 1e-12 * scale);
        // Dot-product test: <T x, dy> = <x, T^T dy>.
        T.backward(x.data(), dy.data(), dx.data(), lines, points);
        double a = 0, b = 0;
        for (std::size_t i = 0; i < y.size(); ++i) a += y[i] * dy[i];
        for (std::size_t i = 0; i < x.size(); ++i) b += x[i] * dx[i];
        CHECK(std::abs(a - b) <= 1e-12 * (std::abs(a) + 1.0) * n);
        // Learnable: the m blocks of R and L, m^2 complex values each.
        const long m = static_cast<long>(std::llround(std::sqrt(double(n))));
        CHECK(T.monarch().parameter_count() == 2 * m * m * m);
      }
    }
  CHECK_THROWS_WITH(kron::nn::MonarchDft(K::Forward, 94, 12, rng), Catch::Contains("94 points") && Catch::Contains("square number"));
  CHECK_THROWS_WITH(kron::nn::MonarchDft(K::RealForward, 16, 9, rng), Catch::Contains("9 modes"));
}

TEST_CASE("The Monarch neural operator starts as the FNO exactly and learns its transforms", "[nn][fno]") {
  // The same weights as an FNO on 16 = 4^2 padded points: the same outputs to rounding.
  Rng r1(4), r2(5);
  const auto om = kron::testing::small_fno("dense", "dense", "monarch_dft");
  auto of = om;
  of.transform = "fixed";
  Fno fixed(of, r1), mno(om, r2);
  CHECK(mno.transform_start_error() <= 1e-14);
  // 2 layers x 4 transforms, each 2 m^3 complex values (m = 4): 2 real numbers each.
  CHECK(mno.transform_parameters() == 2 * 4 * 2 * 2 * 64);
  CHECK(mno.describe().find("the Monarch neural operator") != std::string::npos);
  // R and L of 8 transforms (2 layers x 4).
  const double d = outputs_with_same_weights(fixed, mno, 2 * 4 * 2);
  INFO("Monarch NO against the FNO: " << d << " (relative)");
  CHECK(d <= 1e-13);
  // A padded grid that is no square is refused with the padding that works.
  auto bad = om;
  bad.padding = 2;
  CHECK_THROWS_WITH(Fno(bad, r2), Catch::Contains("square number of padded points along x") && Catch::Contains("set the padding to 4"));
}

TEST_CASE("A small FNO learns the solution operator of -u'' + u = f (periodic, 1D)", "[nn][fno]") {
  // Data: f with random Fourier modes 0..6 on 32 periodic points; u exactly (each mode divided by
  // 1 + (2 pi k)^2). 160 training and 32 test samples.
  const long n = 32, ntrain = 160, ntest = 32;
  Rng rng(12);
  auto sample = [&](std::vector<double>& f, std::vector<double>& u) {
    f.assign(static_cast<std::size_t>(n), 0.0);
    u.assign(static_cast<std::size_t>(n), 0.0);
    for (long k = 0; k <= 6; ++k) {
      const double a = rng.normal() / (1.0 + k), b = k ? rng.normal() / (1.0 + k) : 0.0, d = 1.0 + 4 * M_PI * M_PI * k * k;
      for (long i = 0; i < n; ++i) {
        const double th = 2 * M_PI * k * i / double(n);
        f[static_cast<std::size_t>(i)] += a * std::cos(th) + b * std::sin(th);
        u[static_cast<std::size_t>(i)] += (a * std::cos(th) + b * std::sin(th)) / d * 40.0;  // scaled to O(1)
      }
    }
  };
  std::vector<double> F, U, Ft, Ut, f, u;
  for (long s = 0; s < ntrain + ntest; ++s) {
    sample(f, u);
    (s < ntrain ? F : Ft).insert((s < ntrain ? F : Ft).end(), f.begin(), f.end());
    (s < ntrain ? U : Ut).insert((s < ntrain ? U : Ut).end(), u.begin(), u.end());
  }
  FnoOptions o;
  o.dim = 1;
  o.nx = n;
  o.ny = 1;
  o.modes_x = 8;
  o.width = 8;
  o.layers = 2;
  o.padding = 0;
  o.head = 16;
  Fno net(o, rng);
  Adam opt(net.parameters(), {3e-3, 0.9, 0.999, 1e-8, 0.0, false});
  std::vector<double> y(U.size()), g(U.size()), yt(Ut.size());
  double train = 0;
  for (int epoch = 0; epoch < 800; ++epoch) {
    opt.zero_grad();
    net.forward(F.data(), y.data(), ntrain);
    train = relative_l2_loss(y.data(), U.data(), n, ntrain, g.data());
    net.backward(F.data(), g.data(), nullptr, ntrain);
    opt.set_lr(step_schedule(3e-3, epoch, 300, 0.5));
    opt.step();
  }
  net.forward(Ft.data(), yt.data(), ntest);
  const double test = relative_l2_loss(yt.data(), Ut.data(), n, ntest, nullptr);
  INFO("train relative L2 " << train << ", test " << test);
  CHECK(test < 0.05);
}
