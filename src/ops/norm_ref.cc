// Reference layer_norm / rms_norm: double accumulation, two passes, one thread.
#include <cmath>

#include "ops/ops_internal.h"

namespace mlhub::ops {

Tensor ref::layer_norm(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, float eps,
                       const Tensor& residual) {
  Tensor x = detail::f32_copy(x_in, "ref::layer_norm", "input");
  if (residual.defined()) {
    const Tensor r = detail::f32(residual, "ref::layer_norm", "residual");
    // Rounded to float first, as torch's separate add.
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
    mean /= static_cast<double>(width);
    for (int64_t i = 0; i < width; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= static_cast<double>(width);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < width; ++i)
      y.data<float>()[r * width + i] = static_cast<float>(
          (row[i] - mean) * inv * w.data<float>()[i] + (b.defined() ? b.data<float>()[i] : 0.0));
  }
  return y;
}

Tensor ref::rms_norm(const Tensor& x_in, const Tensor& w_in, float eps) {
  const Tensor x = detail::f32(x_in, "ref::rms_norm", "input");
  const Tensor w = detail::f32(w_in, "ref::rms_norm", "weight");
  const auto [rows, width] = detail::rows_of(x);
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  const float* xp = x.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < width; ++i)
      ss += static_cast<double>(xp[r * width + i]) * xp[r * width + i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(width) + eps);
    for (int64_t i = 0; i < width; ++i)
      y.data<float>()[r * width + i] =
          static_cast<float>(xp[r * width + i] * inv * w.data<float>()[i]);
  }
  return y;
}

}  // namespace mlhub::ops
