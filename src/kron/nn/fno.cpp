#include "kron/nn/fno.hpp"

#include <algorithm>
#include <cmath>

#include "kron/core/error.hpp"
#include "kron/nn/monarch_dft.hpp"
#include "kron/nn/ops.hpp"

namespace kron::nn {

namespace {
constexpr double kPi = 3.14159265358979323846;

template <class R>
std::complex<R>* as_complex(R* p) {
  return reinterpret_cast<std::complex<R>*>(p);
}
template <class R>
const std::complex<R>* as_complex(const R* p) {
  return reinterpret_cast<const std::complex<R>*>(p);
}
template <class R>
R* as_real(std::complex<R>* p) {
  return reinterpret_cast<R*>(p);
}
template <class R>
const R* as_real(const std::complex<R>* p) {
  return reinterpret_cast<const R*>(p);
}

// y = M x + b at every point of every sample (points fastest), M of any structure.
template <class R>
struct PointLinear {
  std::unique_ptr<StructuredMap<R>> map;
  Parameter<R> bias;
  PointLinear(const std::string& spec, long in, long out, Rng& rng) : map(make_map<R>(spec, in, out, rng)), bias("bias", out) {
    fill_uniform(bias.value, 1.0 / std::sqrt(static_cast<double>(in)), rng);  // PyTorch's Linear / Conv1x1
  }
  void to(core::MemorySpace s) {
    map->to(s);
    if (s == core::MemorySpace::Device) bias.to_device();
    else bias.to_host();
  }
  void forward(const R* x, R* y, long batch, long points) {
    map->forward(x, y, batch, points);
    ops::bias_add(map->space(), y, bias.values(), batch, map->out(), points);
  }
  void backward(const R* x, const R* dy, R* dx, long batch, long points) {
    ops::bias_gradient(map->space(), dy, bias.grads(), batch, map->out(), points);
    map->backward(x, dy, dx, batch, points);
  }
  void parameters(std::vector<ParamRefT<R>>& r) {
    for (auto* p : map->parameters()) r.push_back(real_view(*p));
    r.push_back(real_view(bias));
  }
  long count() { return map->parameter_count() + bias.size(); }
};

// A truncated transform along one axis as the FNO applies it: lines of reals R (complex values as
// interleaved pairs) at `points` points; a StructuredMap (the fixed DFT rows or a learnable
// structure) or the Monarch neural operator's MonarchDft (double only).
template <class R>
struct AxisTransform {
  virtual ~AxisTransform() = default;
  virtual void forward(const R* x, R* y, long lines, long points) = 0;
  virtual void backward(const R* x, const R* dy, R* dx, long lines, long points) = 0;
  virtual void to(core::MemorySpace s) = 0;
  virtual std::vector<ParamRefT<R>> parameters() = 0;
  virtual long parameter_count() = 0;  // real numbers
  virtual double flops() const = 0;  // per line and point
};

template <class T>
struct MapTransform : AxisTransform<real_of_t<T>> {
  using R = real_of_t<T>;
  std::unique_ptr<StructuredMap<T>> map;
  explicit MapTransform(std::unique_ptr<StructuredMap<T>> m) : map(std::move(m)) {}
  static const T* in(const R* p) { return reinterpret_cast<const T*>(p); }
  static T* out(R* p) { return reinterpret_cast<T*>(p); }
  void forward(const R* x, R* y, long lines, long points) override { map->forward(in(x), out(y), lines, points); }
  void backward(const R* x, const R* dy, R* dx, long lines, long points) override { map->backward(in(x), in(dy), out(dx), lines, points); }
  void to(core::MemorySpace s) override { map->to(s); }
  std::vector<ParamRefT<R>> parameters() override {
    std::vector<ParamRefT<R>> r;
    for (auto* p : map->parameters()) r.push_back(real_view(*p));
    return r;
  }
  long parameter_count() override { return (std::is_same_v<T, R> ? 1 : 2) * map->parameter_count(); }
  double flops() const override { return map->flops(); }
};

struct MonarchTransform : AxisTransform<double> {
  MonarchDft t;
  MonarchTransform(MonarchDft::Kind k, long n, long modes, Rng& rng) : t(k, n, modes, rng) {}
  void forward(const double* x, double* y, long lines, long points) override { t.forward(x, y, lines, points); }
  void backward(const double* x, const double* dy, double* dx, long lines, long points) override { t.backward(x, dy, dx, lines, points); }
  void to(core::MemorySpace s) override { t.to(s); }
  std::vector<ParamRef> parameters() override {
    std::vector<ParamRef> r;
    for (auto* p : t.monarch().parameters()) r.push_back(real_view(*p));
    return r;
  }
  long parameter_count() override { return 2 * t.monarch().parameter_count(); }
  double flops() const override { return t.flops(); }
};

// A truncated transform: the DFT rows A frozen ("fixed"), or a learnable map of structure `spec`
// starting at its nearest matrix to A (worst: the largest relative distance so far), or the
// Monarch DFT of `kind` ("monarch_dft").
template <class T>
std::unique_ptr<AxisTransform<real_of_t<T>>> transform_map(const std::string& spec, const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& A,
                                                           MonarchDft::Kind kind, long n, long modes, Rng& rng, double& worst) {
  using R = real_of_t<T>;
  std::unique_ptr<AxisTransform<R>> t;
  if (spec == "fixed") {
    auto m = std::make_unique<DenseMap<T>>(A);
    m->set_trainable(false);
    return std::make_unique<MapTransform<T>>(std::move(m));
  }
  if (spec == "monarch_dft") {
    if constexpr (std::is_same_v<R, double>)
      t = std::make_unique<MonarchTransform>(kind, n, modes, rng);
    else
      throw Error("FNO: transform monarch_dft (the Monarch neural operator) runs in double precision only", {},
                  "train it in fp64, or use a structured transform (dense, low_rank:R, block_diag:NB, monarch:NB) in fp32");
  } else {
    auto m = make_map<T>(spec, A.cols(), A.rows(), rng);
    if (!m->project_group(0, A))
      throw Error("FNO: transform " + spec + " has no closed-form projection of the DFT to start from", {},
                  "use fixed, monarch_dft, dense, low_rank:R, block_diag:NB or monarch:NB");
    t = std::make_unique<MapTransform<T>>(std::move(m));
  }
  // The starting matrix, column by column (unit inputs as lines), against A.
  const long rows = A.rows(), cols = A.cols();
  std::vector<T> e(static_cast<std::size_t>(cols * cols), T(0)), y(static_cast<std::size_t>(cols * rows));
  for (long j = 0; j < cols; ++j) e[static_cast<std::size_t>(j * cols + j)] = T(1);
  t->forward(reinterpret_cast<const R*>(e.data()), reinterpret_cast<R*>(y.data()), cols, 1);
  const Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>> S(y.data(), rows, cols);
  worst = std::max(worst, double((S - A).norm() / A.norm()));
  return t;
}
}  // namespace

template <class R>
struct FnoT<R>::Impl {
  using C = std::complex<R>;
  long NX = 1, NY = 1, P = 1, PP = 1, M = 1, c0 = 1, mx = 1;
  core::MemorySpace space = core::MemorySpace::Host;
  std::unique_ptr<PointLinear<R>> lift, head1, head2;
  std::vector<PointLinear<R>> w;
  // The truncated real DFT along x and its inverse, the truncated DFT along y and its inverse (2D):
  // one of each shared by every layer when fixed, each layer its own when learnable.
  std::vector<std::unique_ptr<AxisTransform<R>>> fx, ix, fy, iy;
  double start_error = 0;
  template <class M>
  static M& of(std::vector<std::unique_ptr<M>>& v, long l) {
    return *v[v.size() == 1 ? 0 : static_cast<std::size_t>(l)];
  }
  template <class M>
  static const M& of(const std::vector<std::unique_ptr<M>>& v, long l) {
    return *v[v.size() == 1 ? 0 : static_cast<std::size_t>(l)];
  }
  AxisTransform<R>& FX(long l) { return of(fx, l); }
  AxisTransform<R>& IX(long l) { return of(ix, l); }
  AxisTransform<R>& FY(long l) { return of(fy, l); }
  AxisTransform<R>& IY(long l) { return of(iy, l); }
  std::vector<std::unique_ptr<StructuredMap<C>>> mix;
  // The last forward's activations.
  long batch = 0;
  Array<R> grid, xin, lifted, unpadded, h1, h1g;
  std::vector<Array<R>> v, pre, a1;  // layer inputs (padded), pre-activations, x-transforms
  std::vector<Array<C>> a2, a3, a4;  // y-transforms, mixed modes, inverse y-transforms
  // Backward's gradients and scratch.
  Array<R> t, gh, gu, g, gv, gl, gx;
  Array<C> g4, g3, g2, g1;
  long grid_batch = 0;

  template <class A>
  void sized(A& a, long n) {
    a.set_space(space);
    a.resize(static_cast<std::size_t>(n));
  }
  template <class A>
  void sized(std::vector<A>& as, long l, long n) {
    sized(as[static_cast<std::size_t>(l)], n);
  }

  // out = K v for one layer (B samples of W channels on NY x NX), caching its intermediates.
  void spectral(long l, const R* vin, R* out, long B, long W, bool two_d) {
    sized(a1, l, B * W * NY * 2 * mx);
    R* A1 = a1[static_cast<std::size_t>(l)].data();
    FX(l).forward(vin, A1, B * W * NY, 1);
    const C* modes = as_complex(A1);
    if (two_d) {
      sized(a2, l, B * W * M);
      FY(l).forward(as_real(modes), as_real(a2[static_cast<std::size_t>(l)].data()), B * W, mx);
      modes = a2[static_cast<std::size_t>(l)].data();
    }
    sized(a3, l, B * W * M);
    C* A3 = a3[static_cast<std::size_t>(l)].data();
    mix[static_cast<std::size_t>(l)]->forward(modes, A3, B, M);
    const C* back = A3;
    if (two_d) {
      sized(a4, l, B * W * NY * mx);
      IY(l).forward(as_real(A3), as_real(a4[static_cast<std::size_t>(l)].data()), B * W, mx);
      back = a4[static_cast<std::size_t>(l)].data();
    }
    IX(l).forward(as_real(back), out, B * W * NY, 1);
  }

  // dv = K^T g for layer l (the mixing's parameter gradients accumulated).
  void spectral_backward(long l, const R* vin, const R* gin, R* dv, long B, long W, bool two_d) {
    const auto& A1 = a1[static_cast<std::size_t>(l)];
    const auto& A2 = a2[static_cast<std::size_t>(l)];
    const auto& A3 = a3[static_cast<std::size_t>(l)];
    const auto& A4 = a4[static_cast<std::size_t>(l)];
    sized(g4, B * W * NY * mx);
    sized(g3, B * W * M);
    sized(g2, B * W * M);
    IX(l).backward(as_real(two_d ? A4.data() : A3.data()), gin, as_real(g4.data()), B * W * NY, 1);
    const C* gm = g4.data();
    if (two_d) {
      IY(l).backward(as_real(A3.data()), as_real(g4.data()), as_real(g3.data()), B * W, mx);
      gm = g3.data();
    }
    const C* modes_in = two_d ? A2.data() : as_complex(A1.data());
    mix[static_cast<std::size_t>(l)]->backward(modes_in, gm, g2.data(), B, M);
    const C* gxm = g2.data();
    if (two_d) {
      sized(g1, B * W * NY * mx);
      FY(l).backward(A1.data(), as_real(g2.data()), as_real(g1.data()), B * W, mx);
      gxm = g1.data();
    }
    FX(l).backward(vin, as_real(gxm), dv, B * W * NY, 1);
  }

  // The padded layout: B W slabs of NY x NX points holding nx x ny ones.
  std::array<long, 3> padded_strides() const { return {1, NX, NX * NY}; }
};

Eigen::MatrixXd rdft_rows(long n, long m) {
  Eigen::MatrixXd F(2 * m, n);
  for (long k = 0; k < m; ++k)
    for (long i = 0; i < n; ++i) {
      const double a = 2 * kPi * static_cast<double>(k * i % n) / static_cast<double>(n);
      F(2 * k, i) = std::cos(a);
      F(2 * k + 1, i) = -std::sin(a);
    }
  return F;
}

Eigen::MatrixXd irdft_cols(long n, long m) {
  Eigen::MatrixXd I(n, 2 * m);
  for (long k = 0; k < m; ++k)
    for (long i = 0; i < n; ++i) {
      const double a = 2 * kPi * static_cast<double>(k * i % n) / static_cast<double>(n);
      const double w = (k == 0 || 2 * k == n ? 1.0 : 2.0) / static_cast<double>(n);
      I(i, 2 * k) = w * std::cos(a);
      I(i, 2 * k + 1) = -w * std::sin(a);
    }
  return I;
}

Eigen::MatrixXcd dft_rows(long n, long m) {
  Eigen::MatrixXcd F(2 * m, n);
  for (long r = 0; r < 2 * m; ++r) {
    const long k = r < m ? r : n - 2 * m + r;
    for (long j = 0; j < n; ++j) F(r, j) = std::polar(1.0, -2 * kPi * static_cast<double>(k * j % n) / static_cast<double>(n));
  }
  return F;
}

Eigen::MatrixXcd idft_cols(long n, long m) {
  return dft_rows(n, m).adjoint() / static_cast<double>(n);
}

template <class R>
FnoT<R>::~FnoT() = default;

template <class R>
FnoT<R>::FnoT(const FnoOptions& o, Rng& rng) : o_(o), impl_(std::make_unique<Impl>()) {
  using C = std::complex<R>;
  using MR = Eigen::Matrix<R, Eigen::Dynamic, Eigen::Dynamic>;
  using MC = Eigen::Matrix<C, Eigen::Dynamic, Eigen::Dynamic>;
  Impl& m = *impl_;
  const bool two_d = o.dim == 2;
  if (o.dim != 1 && o.dim != 2) throw Error("FNO: dim " + std::to_string(o.dim) + " (1 or 2)");
  if (o.nx < 2 || (two_d && o.ny < 2) || (!two_d && o.ny != 1))
    throw Error("FNO: a grid of " + std::to_string(o.nx) + " x " + std::to_string(o.ny) + " points does not fit dim " + std::to_string(o.dim));
  if (o.in_channels < 1 || o.out_channels < 1 || o.width < 1 || o.layers < 1 || o.head < 1 || o.padding < 0)
    throw Error("FNO: channels, width, layers and head must be positive and the padding not negative");
  m.NX = o.nx + o.padding;
  m.NY = two_d ? o.ny + o.padding : 1;
  m.P = o.nx * o.ny;
  m.PP = m.NX * m.NY;
  if (o.modes_x < 1 || o.modes_x > m.NX / 2)
    throw Error("FNO: " + std::to_string(o.modes_x) + " modes along x do not fit " + std::to_string(m.NX) + " padded points", {},
                "keep at most half the padded points' modes: the real transform's Nyquist limit");
  if (two_d && (o.modes_y < 1 || 2 * o.modes_y > m.NY))
    throw Error("FNO: 2 x " + std::to_string(o.modes_y) + " modes along y do not fit " + std::to_string(m.NY) + " padded points");
  const long mx = o.modes_x, my = two_d ? o.modes_y : 0;
  m.mx = mx;
  m.M = two_d ? 2 * my * mx : mx;
  m.c0 = o.in_channels + (o.grid_channels ? o.dim : 0);

  {
    // Formed in double, rounded once to R.
    const MR Fx = rdft_rows(m.NX, mx).template cast<R>(), Ix = irdft_cols(m.NX, mx).template cast<R>();
    const MC Fy = two_d ? MC(dft_rows(m.NY, my).template cast<C>()) : MC(), Iy = two_d ? MC(idft_cols(m.NY, my).template cast<C>()) : MC();
    using K = MonarchDft::Kind;
    if (o.transform == "monarch_dft")
      for (long n : {m.NX, two_d ? m.NY : 4L}) {
        const long r = static_cast<long>(std::llround(std::sqrt(static_cast<double>(n))));
        if (r * r != n) {
          const long up = static_cast<long>(std::ceil(std::sqrt(static_cast<double>(n))));
          throw Error("FNO: transform monarch_dft needs a square number of padded points along " + std::string(n == m.NX ? "x" : "y") + ", n = m^2; " +
                          std::to_string(n == m.NX ? o.nx : o.ny) + " points + padding " + std::to_string(o.padding) + " = " + std::to_string(n),
                      {}, "set the padding to " + std::to_string(up * up - (n == m.NX ? o.nx : o.ny)) + " for " + std::to_string(up * up) + " padded points");
        }
      }
    for (long l = 0; l < (o.transform == "fixed" ? 1 : o.layers); ++l) {
      m.fx.push_back(transform_map(o.transform, Fx, K::RealForward, m.NX, mx, rng, m.start_error));
      m.ix.push_back(transform_map(o.transform, Ix, K::RealInverse, m.NX, mx, rng, m.start_error));
      if (two_d) {
        m.fy.push_back(transform_map(o.transform, Fy, K::Forward, m.NY, my, rng, m.start_error));
        m.iy.push_back(transform_map(o.transform, Iy, K::Inverse, m.NY, my, rng, m.start_error));
      }
    }
  }

  m.lift = std::make_unique<PointLinear<R>>("dense", m.c0, o.width, rng);
  const double scale = 1.0 / static_cast<double>(o.width * o.width);
  for (long l = 0; l < o.layers; ++l) {
    auto mixl = make_map<C>(o.spectral, o.width, o.width, rng, m.M);
    auto ps = mixl->parameters();
    if (o.spectral == "dense") {
      // The reference code's initialisation: scale * U[0, 1) in both parts, scale = 1 / width^2.
      for (auto* p : ps) {
        for (auto& v : p->value) {
          const double re = scale * rng.uniform(), im = scale * rng.uniform();
          v = C(static_cast<R>(re), static_cast<R>(im));
        }
        p->changed();
      }
    } else if (o.init == "projected") {
      // Per mode, the structure's nearest matrix to a draw of the dense initialisation.
      for (long g = 0; g < m.M; ++g) {
        MC D(o.width, o.width);
        for (long i = 0; i < o.width; ++i)
          for (long j = 0; j < o.width; ++j) {
            const double re = scale * rng.uniform(), im = scale * rng.uniform();
            D(i, j) = C(static_cast<R>(re), static_cast<R>(im));
          }
        if (!mixl->project_group(g, D))
          throw Error("FNO: spectral mixing " + o.spectral + " has no closed-form projection to initialise from", {},
                      "use init = scaled for butterfly layers");
      }
    } else if (o.init == "scaled") {
      // A structure's own initialisation rescaled to the dense one's Frobenius norm per mode
      // (W scale sqrt(2/3)), spread evenly over its factors.
      const double target = static_cast<double>(o.width) * scale * std::sqrt(2.0 / 3.0), now = static_cast<double>(mixl->matrix(0).norm());
      const double f = std::pow(target / now, 1.0 / static_cast<double>(ps.size()));
      for (auto* p : ps) {
        for (auto& v : p->value) v *= static_cast<R>(f);
        p->changed();
      }
    } else {
      throw Error("FNO: unknown initialisation '" + o.init + "' of the structured spectral mixing (scaled or projected)");
    }
    m.mix.push_back(std::move(mixl));
    m.w.emplace_back(o.mixing, o.width, o.width, rng);
  }
  m.head1 = std::make_unique<PointLinear<R>>("dense", o.width, o.head, rng);
  m.head2 = std::make_unique<PointLinear<R>>("dense", o.head, o.out_channels, rng);
  m.v.resize(static_cast<std::size_t>(o.layers));
  m.pre.resize(m.v.size());
  m.a1.resize(m.v.size());
  m.a2.resize(m.v.size());
  m.a3.resize(m.v.size());
  m.a4.resize(m.v.size());
}

template <class R>
void FnoT<R>::to(core::MemorySpace s) {
  Impl& m = *impl_;
  m.space = s;
  for (auto* p : {&m.lift, &m.head1, &m.head2}) (*p)->to(s);
  for (auto& l : m.w) l.to(s);
  for (auto& l : m.mix) l->to(s);
  for (auto* v : {&m.fx, &m.ix})
    for (auto& t : *v) t->to(s);
  for (auto* v : {&m.fy, &m.iy})
    for (auto& t : *v) t->to(s);
  m.grid_batch = 0;
  m.batch = 0;
}

template <class R>
core::MemorySpace FnoT<R>::space() const {
  return impl_->space;
}

template <class R>
void FnoT<R>::forward(const R* x, R* y, long B) {
  Impl& m = *impl_;
  const long W = o_.width, L = o_.layers, nx = o_.nx, ny = o_.ny, P = m.P, ci = o_.in_channels, ng = m.c0 - ci;
  const bool two_d = o_.dim == 2;
  const auto S = m.space;
  m.batch = B;
  // Input channels and grid coordinates (B copies of the grid, built once a batch size).
  m.sized(m.xin, B * m.c0 * P);
  ops::copy_box(S, x, {1, ci * P, 0}, m.xin.data(), {1, m.c0 * P, 0}, {ci * P, B, 1});
  if (ng > 0) {
    if (m.grid_batch < B) {
      std::vector<R> gh(static_cast<std::size_t>(B * ng * P));
      for (long b = 0; b < B; ++b)
        for (long j = 0; j < ny; ++j)
          for (long i = 0; i < nx; ++i) {
            R* gp = gh.data() + b * ng * P;
            gp[j * nx + i] = static_cast<R>(static_cast<double>(i) / static_cast<double>(nx - 1));
            if (two_d) gp[P + j * nx + i] = static_cast<R>(static_cast<double>(j) / static_cast<double>(ny - 1));
          }
      m.grid.set_space(S);
      m.grid.assign(gh.data(), gh.size());
      m.grid_batch = B;
    }
    ops::copy_box(S, m.grid.data(), {1, ng * P, 0}, m.xin.data() + ci * P, {1, m.c0 * P, 0}, {ng * P, B, 1});
  }
  m.sized(m.lifted, B * W * P);
  m.lift->forward(m.xin.data(), m.lifted.data(), B, P);
  // Zero padding at the high end of each axis.
  m.sized(m.v, 0, B * W * m.PP);
  ops::fill(S, m.v[0].data(), B * W * m.PP, R(0));
  ops::copy_box(S, m.lifted.data(), {1, nx, nx * ny}, m.v[0].data(), m.padded_strides(), {nx, ny, B * W});
  m.sized(m.t, B * W * m.PP);
  for (long l = 0; l < L; ++l) {
    const R* vin = m.v[static_cast<std::size_t>(l)].data();
    m.sized(m.pre, l, B * W * m.PP);
    R* pre = m.pre[static_cast<std::size_t>(l)].data();
    m.spectral(l, vin, pre, B, W, two_d);
    m.w[static_cast<std::size_t>(l)].forward(vin, m.t.data(), B, m.PP);
    ops::add(S, m.t.data(), pre, B * W * m.PP);
    if (l + 1 < L) {
      m.sized(m.v, l + 1, B * W * m.PP);
      ops::gelu(S, pre, m.v[static_cast<std::size_t>(l + 1)].data(), B * W * m.PP);
    }
  }
  m.sized(m.unpadded, B * W * P);
  ops::copy_box(S, m.pre[static_cast<std::size_t>(L - 1)].data(), m.padded_strides(), m.unpadded.data(), {1, nx, nx * ny}, {nx, ny, B * W});
  m.sized(m.h1, B * o_.head * P);
  m.sized(m.h1g, B * o_.head * P);
  m.head1->forward(m.unpadded.data(), m.h1.data(), B, P);
  ops::gelu(S, m.h1.data(), m.h1g.data(), B * o_.head * P);
  m.head2->forward(m.h1g.data(), y, B, P);
}

template <class R>
void FnoT<R>::backward(const R* /*x*/, const R* dy, R* dx, long B) {
  Impl& m = *impl_;
  if (B != m.batch) throw Error("internal: FNO backward for another batch than the last forward");
  const long W = o_.width, L = o_.layers, nx = o_.nx, ny = o_.ny, P = m.P, ci = o_.in_channels;
  const bool two_d = o_.dim == 2;
  const auto S = m.space;
  const long hn = B * o_.head * P, pn = B * W * m.PP;
  m.sized(m.gh, hn);
  m.head2->backward(m.h1g.data(), dy, m.gh.data(), B, P);
  ops::gelu_backward(S, m.h1.data(), m.gh.data(), m.gh.data(), hn);
  m.sized(m.gu, B * W * P);
  m.head1->backward(m.unpadded.data(), m.gh.data(), m.gu.data(), B, P);
  m.sized(m.g, pn);
  m.sized(m.gv, pn);
  m.sized(m.t, pn);
  ops::fill(S, m.g.data(), pn, R(0));
  ops::copy_box(S, m.gu.data(), {1, nx, nx * ny}, m.g.data(), m.padded_strides(), {nx, ny, B * W});
  for (long l = L - 1; l >= 0; --l) {
    // g: the gradient at layer l's output (after its GELU, except the last layer's).
    if (l + 1 < L) ops::gelu_backward(S, m.pre[static_cast<std::size_t>(l)].data(), m.g.data(), m.g.data(), pn);
    const R* vin = m.v[static_cast<std::size_t>(l)].data();
    m.spectral_backward(l, vin, m.g.data(), m.gv.data(), B, W, two_d);
    m.w[static_cast<std::size_t>(l)].backward(vin, m.g.data(), m.t.data(), B, m.PP);
    ops::add(S, m.t.data(), m.gv.data(), pn);
    std::swap(m.g, m.gv);
  }
  m.sized(m.gl, B * W * P);
  ops::copy_box(S, m.g.data(), m.padded_strides(), m.gl.data(), {1, nx, nx * ny}, {nx, ny, B * W});
  if (dx) m.sized(m.gx, B * m.c0 * P);
  m.lift->backward(m.xin.data(), m.gl.data(), dx ? m.gx.data() : nullptr, B, P);
  if (dx) ops::copy_box(S, m.gx.data(), {1, m.c0 * P, 0}, dx, {1, ci * P, 0}, {ci * P, B, 1});
}

template <class R>
std::vector<ParamRefT<R>> FnoT<R>::parameters() {
  Impl& m = *impl_;
  std::vector<ParamRefT<R>> r;
  m.lift->parameters(r);
  for (long l = 0; l < o_.layers; ++l) {
    for (auto* p : m.mix[static_cast<std::size_t>(l)]->parameters()) r.push_back(real_view(*p));
    m.w[static_cast<std::size_t>(l)].parameters(r);
  }
  if (o_.transform != "fixed")
    for (long l = 0; l < o_.layers; ++l) {
      for (auto* t : {&m.FX(l), &m.IX(l)})
        for (auto& p : t->parameters()) r.push_back(p);
      if (o_.dim == 2)
        for (auto* t : {&m.FY(l), &m.IY(l)})
          for (auto& p : t->parameters()) r.push_back(p);
    }
  m.head1->parameters(r);
  m.head2->parameters(r);
  return r;
}

template <class R>
long FnoT<R>::mixing_parameters() {
  Impl& m = *impl_;
  long c = 0;
  for (long l = 0; l < o_.layers; ++l) c += 2 * m.mix[static_cast<std::size_t>(l)]->parameter_count() + m.w[static_cast<std::size_t>(l)].map->parameter_count();
  return c;
}

template <class R>
long FnoT<R>::transform_parameters() {
  Impl& m = *impl_;
  if (o_.transform == "fixed") return 0;
  long c = 0;
  for (long l = 0; l < o_.layers; ++l) {
    c += m.FX(l).parameter_count() + m.IX(l).parameter_count();
    if (o_.dim == 2) c += m.FY(l).parameter_count() + m.IY(l).parameter_count();
  }
  return c;
}

template <class R>
double FnoT<R>::transform_start_error() const {
  return impl_->start_error;
}

template <class R>
typename FnoT<R>::Memory FnoT<R>::memory(const FnoOptions& o, long batch) {
  const bool two_d = o.dim == 2;
  const double B = double(batch), W = double(o.width), H = double(o.head), nx = double(o.nx), ny = double(o.ny);
  const double NX = nx + double(o.padding), NY = two_d ? ny + double(o.padding) : 1.0, P = nx * ny, PP = NX * NY;
  const double mx = double(o.modes_x), my = two_d ? double(o.modes_y) : 0.0, M = two_d ? 2 * my * mx : mx;
  const double c0 = double(o.in_channels + (o.grid_channels ? o.dim : 0)), L = double(o.layers);
  const double spectral = structure_parameters(o.spectral, o.width, o.width), mixing = structure_parameters(o.mixing, o.width, o.width);
  const double params = c0 * W + W + L * (2 * M * spectral + mixing + W) + W * H + H + H * double(o.out_channels) + double(o.out_channels);
  const double frozen = 2 * (2 * mx * NX) + (two_d ? 2 * 2 * (2 * my * NY) : 0.0);
  const bool learnt = o.transform != "fixed", mdft = o.transform == "monarch_dft";
  // The Monarch DFT: complex m-block Monarch factors of n = m^2 points, 2 m^3 values, each way.
  auto monarch_dft = [](double n) { return 2.0 * 2.0 * 2.0 * std::pow(n, 1.5); };
  const double transforms = !learnt ? 0.0
                            : mdft  ? L * (monarch_dft(NX) + (two_d ? monarch_dft(NY) : 0.0))
                                    : L * (structure_parameters(o.transform, long(NX), long(2 * mx)) + structure_parameters(o.transform, long(2 * mx), long(NX)) +
                                           (two_d ? 2 * (structure_parameters(o.transform, long(NY), long(2 * my)) +
                                                         structure_parameters(o.transform, long(2 * my), long(NY)))
                                                  : 0.0));
  Memory m;
  constexpr double bytes = sizeof(R);
  m.parameters = bytes * (4 * (params + transforms) + (learnt ? 0.0 : frozen));
  // Structured maps' intermediates (at most their input's size, twice: forward and backward).
  const double structured = (o.spectral != "dense" ? 2 * 2 * B * W * M : 0.0) + (o.mixing != "dense" ? 2 * B * W * PP : 0.0) +
                            (mdft                               ? 4 * 3 * 2 * B * W * (PP + (two_d ? NY * mx : 0.0))
                             : learnt && o.transform != "dense" ? 2 * (B * W * PP + 2 * B * W * NY * mx)
                                                                : 0.0);
  const double per_layer = 2 * B * W * PP + B * W * NY * 2 * mx + (two_d ? 2 * 2 * B * W * M + 2 * B * W * NY * mx : 0.0) + structured;
  const double forward = B * P * (2 * c0 + 2 * W + 2 * H) + L * per_layer;
  const double backward = B * H * P + 2 * B * W * P + 3 * B * W * PP + B * c0 * P + 2 * (2 * B * W * NY * mx + 2 * B * W * M);
  m.activations = bytes * (forward + backward);
  return m;
}

template <class R>
std::string FnoT<R>::describe() const {
  const Impl& m = *impl_;
  return "FNO " + std::to_string(o_.dim) + "D on " + std::to_string(o_.nx) + (o_.dim == 2 ? "x" + std::to_string(o_.ny) : "") + " (padded " +
         std::to_string(m.NX) + (o_.dim == 2 ? "x" + std::to_string(m.NY) : "") + "), width " + std::to_string(o_.width) + ", " +
         std::to_string(o_.layers) + " Fourier layers of " + std::to_string(m.M) + " modes, spectral mixing " + o_.spectral +
         ", point-wise mixing " + o_.mixing +
         (o_.transform == "fixed"         ? std::string()
          : o_.transform == "monarch_dft" ? ", learnable Monarch transforms per layer starting as the exact DFT (the Monarch neural operator)"
                                          : ", learnable " + o_.transform + " transforms per layer from the DFT");
}

template <class R>
double FnoT<R>::flops() const {
  const Impl& m = *impl_;
  const double W = static_cast<double>(o_.width), mx = static_cast<double>(o_.modes_x);
  double f = static_cast<double>(m.P) * (m.lift->map->flops() + o_.head * 20.0 + m.head1->map->flops() + m.head2->map->flops());
  for (long l = 0; l < o_.layers; ++l) {
    f += W * static_cast<double>(m.NY) * (m.of(m.fx, l).flops() + m.of(m.ix, l).flops());
    if (o_.dim == 2) f += W * mx * (m.of(m.fy, l).flops() + m.of(m.iy, l).flops());
    f += static_cast<double>(m.M) * m.mix[static_cast<std::size_t>(l)]->flops();
    f += static_cast<double>(m.PP) * (m.w[static_cast<std::size_t>(l)].map->flops() + 1 + (l + 1 < o_.layers ? 20.0 * W : 0.0));
  }
  return f;
}

template class FnoT<double>;
template class FnoT<float>;

}  // namespace kron::nn
