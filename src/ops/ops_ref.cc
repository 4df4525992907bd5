// The slow references of the fast ops (plain loops, double accumulation, std:: math, one
// thread). tests/unit/ops compares every fast op with its reference here.
#include <cfloat>
#include <cmath>
#include <vector>

#include "ops/ops_internal.h"

namespace mlhub::ops::ref {

namespace {
double act1(double x, Activation act) {
  switch (act) {
    case Activation::kGeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::kGeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::kGeluQuick:
      return x / (1.0 + std::exp(-1.702 * x));
    case Activation::kRelu:
      return x > 0 ? x : 0.0;
    case Activation::kSilu:
      return x / (1.0 + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Activation::kIdentity:
      break;
  }
  return x;
}
}  // namespace

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, Activation act) {
  const Tensor x = detail::f32(x_in, "ref::linear", "input");
  const Tensor w = detail::f32(w_in, "ref::linear", "weight");
  if (w.ndim() != 2 || x.dim(-1) != w.dim(1)) detail::fail("ref::linear: shape mismatch");
  const Tensor b = b_in.defined() ? detail::f32(b_in, "ref::linear", "bias") : Tensor();
  const int64_t in = w.dim(1), out = w.dim(0), m = x.numel() / in;
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), out));
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b.defined() ? b.data<float>()[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += static_cast<double>(x.data<float>()[r * in + i]) * w.data<float>()[o * in + i];
      y.data<float>()[r * out + o] = static_cast<float>(act1(s, act));
    }
  return y;
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in, bool transpose_b) {
  const Tensor a = detail::f32(a_in, "ref::matmul", "a");
  const Tensor b = detail::f32(b_in, "ref::matmul", "b");
  const int64_t m = a.dim(-2), k = a.dim(-1), n = transpose_b ? b.dim(-2) : b.dim(-1);
  Shape shape = a.shape();
  shape.back() = n;
  Tensor y = Tensor::empty(DType::kF32, shape);
  const int64_t batch = a.numel() / (m * k);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) {
          const float bv = transpose_b ? b.data<float>()[z * n * k + j * k + l]
                                       : b.data<float>()[z * k * n + l * n + j];
          s += static_cast<double>(a.data<float>()[z * m * k + i * k + l]) * bv;
        }
        y.data<float>()[z * m * n + i * n + j] = static_cast<float>(s);
      }
  return y;
}

Tensor activation(const Tensor& x_in, Activation act) {
  Tensor y = detail::f32(x_in, "ref::activation", "input").clone();
  for (int64_t i = 0, n = y.numel(); i < n; ++i)
    y.data<float>()[i] = static_cast<float>(act1(y.data<float>()[i], act));
  return y;
}

Tensor layer_norm(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, float eps,
                  const Tensor& residual) {
  Tensor x = detail::f32(x_in, "ref::layer_norm", "input").clone();
  if (residual.defined()) {
    const Tensor r = detail::f32(residual, "ref::layer_norm", "residual");
    for (int64_t i = 0, n = x.numel(); i < n; ++i) x.data<float>()[i] += r.data<float>()[i];
  }
  const Tensor w = detail::f32(w_in, "ref::layer_norm", "weight");
  const Tensor b = b_in.defined() ? detail::f32(b_in, "ref::layer_norm", "bias") : Tensor();
  const auto [rows, width] = detail::rows_of(x);
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x.data<float>() + r * width;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < width; ++i) mean += row[i];
    mean /= width;
    for (int64_t i = 0; i < width; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= width;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < width; ++i)
      y.data<float>()[r * width + i] = static_cast<float>(
          (row[i] - mean) * inv * w.data<float>()[i] + (b.defined() ? b.data<float>()[i] : 0.0));
  }
  return y;
}

Tensor rms_norm(const Tensor& x_in, const Tensor& w_in, float eps) {
  const Tensor x = detail::f32(x_in, "ref::rms_norm", "input");
  const Tensor w = detail::f32(w_in, "ref::rms_norm", "weight");
  const auto [rows, width] = detail::rows_of(x);
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < width; ++i) ss += double(x.data<float>()[r * width + i]) * x.data<float>()[r * width + i];
    const double inv = 1.0 / std::sqrt(ss / width + eps);
    for (int64_t i = 0; i < width; ++i)
      y.data<float>()[r * width + i] =
          static_cast<float>(x.data<float>()[r * width + i] * inv * w.data<float>()[i]);
  }
  return y;
}

Tensor softmax(const Tensor& x_in) {
  Tensor y = detail::f32(x_in, "ref::softmax", "input").clone();
  const auto [rows, width] = detail::rows_of(y);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y.data<float>() + r * width;
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < width; ++i) mx = std::max<double>(mx, row[i]);
    std::vector<double> e(width);
    for (int64_t i = 0; i < width; ++i) sum += e[i] = std::exp(row[i] - mx);
    for (int64_t i = 0; i < width; ++i) row[i] = static_cast<float>(e[i] / sum);
  }
  return y;
}

Tensor attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, int num_heads,
                 const Tensor& mask_in, const Tensor& bias_in, float scale) {
  const Tensor q = detail::f32(q_in, "ref::attention", "q");
  const Tensor k = detail::f32(k_in, "ref::attention", "k");
  const Tensor v = detail::f32(v_in, "ref::attention", "v");
  const int64_t B = q.dim(0), Tq = q.dim(1), Tk = k.dim(1), H = num_heads, D = q.dim(2) / H,
                Dv = v.dim(2) / H;
  const Tensor mask = mask_in.defined() ? mask_in.to(DType::kF32).contiguous() : Tensor();
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "ref::attention", "bias") : Tensor();
  Tensor out = Tensor::empty(DType::kF32, {B, Tq, H * Dv});
  std::vector<double> s(Tk);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < Tq; ++t) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < Tk; ++j) {
          double dotv = 0;
          for (int64_t d = 0; d < D; ++d)
            dotv += double(q.data<float>()[(b * Tq + t) * H * D + h * D + d]) *
                    k.data<float>()[(b * Tk + j) * H * D + h * D + d];
          double x = dotv * scale;
          if (bias.defined()) {
            const int64_t bb = bias.dim(0) == 1 ? 0 : b, bh = bias.dim(1) == 1 ? 0 : h;
            x += bias.data<float>()[((bb * bias.dim(1) + bh) * Tq + t) * Tk + j];
          }
          if (mask.defined() && mask.data<float>()[b * Tk + j] == 0) x = -FLT_MAX;
          s[j] = x;
          mx = std::max(mx, x);
        }
        double sum = 0;
        for (int64_t j = 0; j < Tk; ++j) sum += s[j] = std::exp(s[j] - mx);
        for (int64_t d = 0; d < Dv; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < Tk; ++j)
            acc += s[j] / sum * v.data<float>()[(b * Tk + j) * H * Dv + h * Dv + d];
          out.data<float>()[(b * Tq + t) * H * Dv + h * Dv + d] = static_cast<float>(acc);
        }
      }
  return out;
}

}  // namespace mlhub::ops::ref
