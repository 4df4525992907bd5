// linear() and matmul(): BLAS products split over the thread pool.
#include <utility>

#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, Activation act) {
  kernels::blas_init();
  const Tensor x = detail::f32(x_in, "linear", "input");
  const Tensor w = detail::f32(weight_in, "linear", "weight");
  if (w.ndim() != 2 || x.ndim() < 1 || x.dim(-1) != w.dim(1))
    fail(fmt::format("linear: input {} does not match weight {}", shape_string(x.shape()),
                     shape_string(w.shape())));
  const int64_t out_features = w.dim(0), in_features = w.dim(1);
  Tensor bias;
  if (bias_in.defined()) {
    bias = detail::f32(bias_in, "linear", "bias");
    if (bias.numel() != out_features)
      fail(fmt::format("linear: bias {} for {} outputs", shape_string(bias.shape()), out_features));
  }
  const int64_t m = x.numel() / std::max<int64_t>(in_features, 1);
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), out_features));
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* bp = bias.defined() ? std::as_const(bias).data<float>() : nullptr;
  float* yp = y.data<float>();
  const int kind = static_cast<int>(act);
  // Row blocks (M) when there are enough rows, else column blocks (N) so that batch 1 still uses
  // every thread. Either way each output element is one BLAS dot over the full K in the same
  // order, so a row's result does not depend on the batch it is in.
  const double flops = 2.0 * static_cast<double>(in_features) * static_cast<double>(out_features);
  if (m >= 64 * static_cast<int64_t>(ThreadPool::global().lanes()) || out_features < 64) {
    detail::parallel_rows(m, flops, [&](int64_t r0, int64_t r1) {
      kernels::sgemm_nt(r1 - r0, out_features, in_features, xp + r0 * in_features, in_features, wp,
                        in_features, yp + r0 * out_features, out_features, 0.0f);
      if (bp || kind != 0)
        kernels::bias_activation(yp + r0 * out_features, r1 - r0, out_features, bp, kind);
    });
  } else {
    // Column blocks of 16 keep BLAS panels aligned.
    const int64_t blocks = (out_features + 15) / 16;
    detail::parallel_rows(blocks, flops * static_cast<double>(m) / static_cast<double>(blocks),
                          [&](int64_t b0, int64_t b1) {
      const int64_t c0 = b0 * 16, c1 = std::min(out_features, b1 * 16);
      kernels::sgemm_nt(m, c1 - c0, in_features, xp, in_features, wp + c0 * in_features,
                        in_features, yp + c0, out_features, 0.0f);
      for (int64_t r = 0; r < m; ++r)
        if (bp || kind != 0)
          kernels::bias_activation(yp + r * out_features + c0, 1, c1 - c0, bp ? bp + c0 : nullptr,
                                   kind);
    });
  }
  return y;
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in, bool transpose_b) {
  kernels::blas_init();
  const Tensor a = detail::f32(a_in, "matmul", "a");
  const Tensor b = detail::f32(b_in, "matmul", "b");
  if (a.ndim() < 2 || b.ndim() != a.ndim())
    fail(fmt::format("matmul: shapes {} and {}", shape_string(a.shape()), shape_string(b.shape())));
  const int nd = a.ndim();
  for (int i = 0; i < nd - 2; ++i)
    if (a.dim(i) != b.dim(i))
      fail(fmt::format("matmul: leading dims of {} and {} differ", shape_string(a.shape()),
                       shape_string(b.shape())));
  const int64_t m = a.dim(-2), k = a.dim(-1);
  const int64_t n = transpose_b ? b.dim(-2) : b.dim(-1);
  if ((transpose_b ? b.dim(-1) : b.dim(-2)) != k)
    fail(fmt::format("matmul: inner dims of {} and {} differ", shape_string(a.shape()),
                     shape_string(b.shape())));
  Shape out_shape = a.shape();
  out_shape.back() = n;
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  const int64_t batch = a.numel() / std::max<int64_t>(m * k, 1);
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  float* yp = y.data<float>();
  detail::parallel_rows(batch, 2.0 * m * n * k, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (transpose_b)
        kernels::sgemm_nt(m, n, k, ap + i * m * k, k, bp + i * n * k, k, yp + i * m * n, n, 0.0f);
      else
        kernels::sgemm_nn(m, n, k, ap + i * m * k, k, bp + i * k * n, n, yp + i * m * n, n, 0.0f);
    }
  });
  return y;
}

}  // namespace mlhub::ops
