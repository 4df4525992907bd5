// Fused multi-head attention over the [B, T, H*D] layout: per (batch, head) one scores block
// (BLAS with row strides H*D, so no head transposes), bias + key mask, softmax, times V.
#include <cfloat>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

namespace {

struct AttentionShape {
  int64_t B, Tq, Tk, H, D, Dv;
};

AttentionShape check_attention(const Tensor& q, const Tensor& k, const Tensor& v, int num_heads,
                               const Tensor& mask, const Tensor& bias) {
  if (q.ndim() != 3 || k.ndim() != 3 || v.ndim() != 3 || num_heads <= 0)
    fail("attention: q, k, v must be [B, T, H*D] and num_heads > 0");
  AttentionShape s{q.dim(0), q.dim(1), k.dim(1), num_heads, q.dim(2) / num_heads,
                   v.dim(2) / num_heads};
  if (q.dim(2) % num_heads || v.dim(2) % num_heads || k.dim(2) != q.dim(2) || k.dim(0) != s.B ||
      v.dim(0) != s.B || v.dim(1) != s.Tk)
    fail(fmt::format("attention: q {} k {} v {} with {} heads do not fit", shape_string(q.shape()),
                     shape_string(k.shape()), shape_string(v.shape()), num_heads));
  if (mask.defined() && (mask.ndim() != 2 || mask.dim(0) != s.B || mask.dim(1) != s.Tk))
    fail(fmt::format("attention: key mask {} for batch {} x {} keys", shape_string(mask.shape()),
                     s.B, s.Tk));
  if (bias.defined() &&
      (bias.ndim() != 4 || (bias.dim(0) != 1 && bias.dim(0) != s.B) ||
       (bias.dim(1) != 1 && bias.dim(1) != s.H) || bias.dim(2) != s.Tq || bias.dim(3) != s.Tk))
    fail(fmt::format("attention: bias {} does not fit [B|1, H|1, {}, {}]",
                     shape_string(bias.shape()), s.Tq, s.Tk));
  return s;
}

}  // namespace

Tensor attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, int num_heads,
                 const Tensor& mask_in, const Tensor& bias_in, float scale) {
  kernels::blas_init();
  const Tensor q = detail::f32(q_in, "attention", "q");
  const Tensor k = detail::f32(k_in, "attention", "k");
  const Tensor v = detail::f32(v_in, "attention", "v");
  const AttentionShape s = check_attention(q, k, v, num_heads, mask_in, bias_in);
  const Tensor mask = mask_in.defined() ? mask_in.to(DType::kF32).contiguous() : Tensor();
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "attention", "bias") : Tensor();
  Tensor out = Tensor::empty(DType::kF32, {s.B, s.Tq, s.H * s.Dv});
  const float* qp = q.data<float>();
  const float* kp = k.data<float>();
  const float* vp = v.data<float>();
  const float* mp = mask.defined() ? mask.data<float>() : nullptr;
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* op = out.data<float>();
  const int64_t qs = s.H * s.D, vs = s.H * s.Dv;
  const double cost = 2.0 * s.Tq * s.Tk * (s.D + s.Dv);
  detail::parallel_rows(s.B * s.H, cost, [&](int64_t i0, int64_t i1) {
    std::vector<float> scores(static_cast<size_t>(s.Tq * s.Tk));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / s.H, h = i % s.H;
      kernels::sgemm_nt(s.Tq, s.Tk, s.D, qp + b * s.Tq * qs + h * s.D, qs,
                        kp + b * s.Tk * qs + h * s.D, qs, scores.data(), s.Tk, 0.0f);
      const float* brow = nullptr;
      if (bp) {
        const int64_t bb = bias.dim(0) == 1 ? 0 : b, bh = bias.dim(1) == 1 ? 0 : h;
        brow = bp + (bb * bias.dim(1) + bh) * s.Tq * s.Tk;
      }
      for (int64_t t = 0; t < s.Tq; ++t) {
        float* row = scores.data() + t * s.Tk;
        for (int64_t j = 0; j < s.Tk; ++j) {
          float x = row[j] * scale;
          if (brow) x += brow[t * s.Tk + j];
          // transformers adds finfo(float32).min to masked scores; the sum rounds to min itself.
          if (mp && mp[b * s.Tk + j] == 0) x = -FLT_MAX;
          row[j] = x;
        }
        kernels::softmax_row(row, s.Tk);
      }
      kernels::sgemm_nn(s.Tq, s.Dv, s.Tk, scores.data(), s.Tk, vp + b * s.Tk * vs + h * s.Dv, vs,
                        op + b * s.Tq * vs + h * s.Dv, vs, 0.0f);
    }
  });
  return out;
}

}  // namespace mlhub::ops
