// layer_norm (with the fused residual add) and rms_norm over the last dim, rows on the pool.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

namespace {

Tensor vector_param(const Tensor& t, int64_t width, std::string_view op, std::string_view what) {
  Tensor p = detail::f32(t, op, what);
  if (p.numel() != width)
    fail(fmt::format("{}: {} {} for a last dim of {}", op, what, shape_string(p.shape()), width));
  return p;
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, float eps,
                  const Tensor& residual_in) {
  const Tensor x = detail::f32(x_in, "layer_norm", "input");
  const auto shape_rw = detail::rows_of(x);
  const int64_t rows = shape_rw.first, width = shape_rw.second;  // (clang 14: no captured bindings)
  const Tensor w = vector_param(w_in, width, "layer_norm", "weight");
  const Tensor b = b_in.defined() ? vector_param(b_in, width, "layer_norm", "bias") : Tensor();
  // const throughout: inputs may be read-only views (mapped weights), readable only as const.
  const Tensor r =
      residual_in.defined() ? detail::f32(residual_in, "layer_norm", "residual") : Tensor();
  if (r.defined() && r.shape() != x.shape())
    fail(fmt::format("layer_norm: residual {} for input {}", shape_string(r.shape()),
                     shape_string(x.shape())));
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  const float* xp = x.data<float>();
  const float* rp = r.defined() ? r.data<float>() : nullptr;
  const float* wp = w.data<float>();
  const float* bp = b.defined() ? b.data<float>() : nullptr;
  float* yp = y.data<float>();
  detail::parallel_chunks(rows, 8.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      kernels::layer_norm_row(xp + i * width, rp ? rp + i * width : nullptr, wp, bp, eps, width,
                              yp + i * width);
  });
  return y;
}

Tensor rms_norm(const Tensor& x_in, const Tensor& w_in, float eps) {
  const Tensor x = detail::f32(x_in, "rms_norm", "input");
  const auto shape_rw = detail::rows_of(x);
  const int64_t rows = shape_rw.first, width = shape_rw.second;  // (clang 14: no captured bindings)
  const Tensor w = vector_param(w_in, width, "rms_norm", "weight");
  Tensor y = Tensor::empty(DType::kF32, x.shape());
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  detail::parallel_chunks(rows, 4.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      kernels::rms_norm_row(xp + i * width, wp, eps, width, yp + i * width);
  });
  return y;
}

}  // namespace mlhub::ops
