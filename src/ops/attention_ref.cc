// Reference attention: per (batch, head, query) scores in double, -FLT_MAX for masked keys (what
// transformers' finfo.min mask rounds to), softmax, weighted sum of V. One thread.
#include <cfloat>
#include <cmath>
#include <vector>

#include "ops/ops_internal.h"

namespace mlhub::ops {

Tensor ref::attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, int num_heads,
                      const Tensor& mask_in, const Tensor& bias_in, float scale) {
  const Tensor q = detail::f32(q_in, "ref::attention", "q");
  const Tensor k = detail::f32(k_in, "ref::attention", "k");
  const Tensor v = detail::f32(v_in, "ref::attention", "v");
  if (q.ndim() != 3 || k.ndim() != 3 || v.ndim() != 3 || num_heads <= 0)
    detail::fail("ref::attention: q, k, v must be [B, T, H*D]");
  const int64_t B = q.dim(0), Tq = q.dim(1), Tk = k.dim(1), H = num_heads, D = q.dim(2) / H,
                Dv = v.dim(2) / H;
  const Tensor mask = mask_in.defined() ? mask_in.to(DType::kF32).contiguous() : Tensor();
  const Tensor bias =
      bias_in.defined() ? detail::f32(bias_in, "ref::attention", "bias") : Tensor();
  const float* qp = q.data<float>();
  const float* kp = k.data<float>();
  const float* vp = v.data<float>();
  Tensor out = Tensor::empty(DType::kF32, {B, Tq, H * Dv});
  std::vector<double> s(static_cast<size_t>(Tk));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < Tq; ++t) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < Tk; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += static_cast<double>(qp[(b * Tq + t) * H * D + h * D + d]) *
                   kp[(b * Tk + j) * H * D + h * D + d];
          double x = dot * scale;
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
            acc += s[j] / sum * vp[(b * Tk + j) * H * Dv + h * Dv + d];
          out.data<float>()[(b * Tq + t) * H * Dv + h * Dv + d] = static_cast<float>(acc);
        }
      }
  return out;
}

}  // namespace mlhub::ops
