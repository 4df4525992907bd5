// layer_norm (with fused residual), rms_norm, softmax, log_softmax.
#include <cmath>
#include <utility>

#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Tensor layer_norm(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, float eps,
                  const Tensor& residual_in) {
  const Tensor x = detail::f32(x_in, "layer_norm", "input");
  const Tensor w = detail::f32(w_in, "layer_norm", "weight");
  const auto [rows, width] = detail::rows_of(x);
  if (w.numel() != width)
    fail(fmt::format("layer_norm: weight {} for input {}", shape_string(w.shape()),
                     shape_string(x.shape())));
  Tensor b, r;
  if (b_in.defined()) {
    b = detail::f32(b_in, "layer_norm", "bias");
    if (b.numel() != width) fail("layer_norm: bias size differs from the normalised dim");
  }
  if (residual_in.defined()) {
    r = detail::f32(residual_in, "layer_norm", "residual");
    if (r.shape() != x.shape())
      fail(fmt::format("layer_norm: residual {} for input {}", shape_string(r.shape()),
                       shape_string(x.shape())));
  }
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  const float* xp = x.data<float>();
  const float* rp = r.defined() ? std::as_const(r).data<float>() : nullptr;
  const float* wp = w.data<float>();
  const float* bp = b.defined() ? std::as_const(b).data<float>() : nullptr;
  float* yp = y.data<float>();
  detail::parallel_rows(rows, 8.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      kernels::layer_norm_row(xp + i * width, rp ? rp + i * width : nullptr, wp, bp, eps, width,
                              yp + i * width);
  });
  return y;
}

Tensor rms_norm(const Tensor& x_in, const Tensor& w_in, float eps) {
  const Tensor x = detail::f32(x_in, "rms_norm", "input");
  const Tensor w = detail::f32(w_in, "rms_norm", "weight");
  const auto [rows, width] = detail::rows_of(x);
  if (w.numel() != width) fail("rms_norm: weight size differs from the normalised dim");
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  detail::parallel_rows(rows, 4.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      kernels::rms_norm_row(xp + i * width, wp, eps, width, yp + i * width);
  });
  return y;
}

Tensor softmax(const Tensor& x_in) {
  Tensor y = detail::f32(x_in, "softmax", "input").clone();
  const auto [rows, width] = detail::rows_of(y);
  float* p = y.data<float>();
  detail::parallel_rows(rows, 20.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) kernels::softmax_row(p + i * width, width);
  });
  return y;
}

Tensor log_softmax(const Tensor& x_in) {
  Tensor y = detail::f32(x_in, "log_softmax", "input").clone();
  const auto [rows, width] = detail::rows_of(y);
  float* p = y.data<float>();
  for (int64_t i = 0; i < rows; ++i) {
    float* row = p + i * width;
    double mx = -INFINITY;
    for (int64_t j = 0; j < width; ++j) mx = std::max<double>(mx, row[j]);
    double sum = 0;
    for (int64_t j = 0; j < width; ++j) sum += std::exp(static_cast<double>(row[j]) - mx);
    const double lse = mx + std::log(sum);
    for (int64_t j = 0; j < width; ++j) row[j] = static_cast<float>(row[j] - lse);
  }
  return y;
}

}  // namespace mlhub::ops
