// Reference linear and matmul: plain triple loops with double accumulation, one thread.
#include "ops/ops_internal.h"

namespace mlhub::ops {

Tensor ref::linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, Activation act) {
  const Tensor x = detail::f32(x_in, "ref::linear", "input");
  const Tensor w = detail::f32(w_in, "ref::linear", "weight");
  if (w.ndim() != 2 || x.ndim() < 1 || x.dim(-1) != w.dim(1))
    detail::fail("ref::linear: shape mismatch");
  const Tensor b = b_in.defined() ? detail::f32(b_in, "ref::linear", "bias") : Tensor();
  const int64_t in = w.dim(1), out = w.dim(0);
  const int64_t m = detail::rows_of(x).first;
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), out));
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < in; ++i) s += static_cast<double>(xp[r * in + i]) * wp[o * in + i];
      // The fast path rounds x W^T to float before adding the bias; do the same.
      const float dot = static_cast<float>(s);
      const float pre = b.defined() ? dot + b.data<float>()[o] : dot;
      y.data<float>()[r * out + o] = static_cast<float>(detail::ref_activation(pre, act));
    }
  return y;
}

Tensor ref::matmul(const Tensor& a_in, const Tensor& b_in, bool transpose_b) {
  const Tensor a = detail::f32(a_in, "ref::matmul", "a");
  const Tensor b = detail::f32(b_in, "ref::matmul", "b");
  if (a.ndim() < 2 || b.ndim() != a.ndim()) detail::fail("ref::matmul: shape mismatch");
  const int64_t m = a.dim(-2), k = a.dim(-1), n = transpose_b ? b.dim(-2) : b.dim(-1);
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(a.shape(), n));
  if (m == 0 || n == 0) return y;
  const int64_t batch = y.numel() / (m * n);
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) {
          const float bv = transpose_b ? bp[z * n * k + j * k + l] : bp[z * k * n + l * n + j];
          s += static_cast<double>(ap[z * m * k + i * k + l]) * bv;
        }
        y.data<float>()[z * m * n + i * n + j] = static_cast<float>(s);
      }
  return y;
}

}  // namespace mlhub::ops
