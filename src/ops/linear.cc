// linear(): y = x W^T + b, then an activation, on mlhub's GEMM (src/kernels/cpu/sgemm.cc) split
// over the thread pool, with bias and activation applied to each chunk while it is in cache.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, Activation act) {
  const Tensor x = detail::f32(x_in, "linear", "input");
  const Tensor w = detail::f32(weight_in, "linear", "weight");
  if (w.ndim() != 2 || x.ndim() < 1 || x.dim(-1) != w.dim(1))
    fail(fmt::format("linear: input {} does not match weight {}", shape_string(x.shape()),
                     shape_string(w.shape())));
  const int64_t out_features = w.dim(0), in_features = w.dim(1);
  // const: weights and biases are often read-only views into a mapped file, and only the const
  // data() accessor may read those.
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "linear", "bias") : Tensor();
  if (bias.defined() && bias.numel() != out_features)
    fail(fmt::format("linear: bias {} for {} outputs", shape_string(bias.shape()), out_features));
  int64_t m = 1;
  for (int i = 0; i + 1 < x.ndim(); ++i) m *= x.dim(i);
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), out_features));
  if (m == 0 || out_features == 0) return y;
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* yp = y.data<float>();
  const int kind = static_cast<int>(act);
  const double row_cost = 2.0 * static_cast<double>(in_features) * out_features;
  // Many rows: split M (each lane packs all of W once, then streams its rows). Few rows: split N
  // so that batch 1 still uses every lane. Any split gives the same bits (kernels.h).
  if (m >= 32 * static_cast<int64_t>(ThreadPool::global().lanes())) {
    detail::parallel_chunks(
        m, row_cost,
        [&](int64_t r0, int64_t r1) {
          float* yr = yp + r0 * out_features;
          kernels::sgemm(r1 - r0, out_features, in_features, xp + r0 * in_features, in_features,
                         wp, in_features, true, yr, out_features);
          kernels::bias_activation(yr, r1 - r0, out_features, out_features, bp, kind);
        },
        kernels::kGemmRows);
  } else {
    detail::parallel_chunks(
        out_features, row_cost * static_cast<double>(m) / static_cast<double>(out_features),
        [&](int64_t c0, int64_t c1) {
          kernels::sgemm(m, c1 - c0, in_features, xp, in_features, wp + c0 * in_features,
                         in_features, true, yp + c0, out_features);
          kernels::bias_activation(yp + c0, m, c1 - c0, out_features, bp ? bp + c0 : nullptr,
                                   kind);
        },
        kernels::kGemmCols);
  }
  return y;
}

}  // namespace mlhub::ops
