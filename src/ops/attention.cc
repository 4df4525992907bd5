// attention(): shape checks, then the fused kernel (src/kernels/cpu/attention.cc) over
// (batch, head, query block) items on the pool. Each query row is computed the same way whatever
// item it falls in, so results do not depend on the thread count.
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
  const AttentionShape s{q.dim(0), q.dim(1), k.dim(1), num_heads, q.dim(2) / num_heads,
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
  const Tensor q = detail::f32(q_in, "attention", "q");
  const Tensor k = detail::f32(k_in, "attention", "k");
  const Tensor v = detail::f32(v_in, "attention", "v");
  const AttentionShape s = check_attention(q, k, v, num_heads, mask_in, bias_in);
  const Tensor mask = mask_in.defined() ? mask_in.to(DType::kF32).contiguous() : Tensor();
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "attention", "bias") : Tensor();
  Tensor out = Tensor::empty(DType::kF32, {s.B, s.Tq, s.H * s.Dv});
  if (out.numel() == 0) return out;
  const float* qp = q.data<float>();
  const float* kp = k.data<float>();
  const float* vp = v.data<float>();
  const float* mp = mask.defined() ? mask.data<float>() : nullptr;
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* op = out.data<float>();
  // Items: (b, h, block of query rows). Blocks of 32 rows give long sequences of few heads
  // enough items for every lane; their boundaries do not change any result.
  const int64_t q_block = 32, blocks = (s.Tq + q_block - 1) / q_block;
  const double cost = 2.0 * static_cast<double>(std::min(s.Tq, q_block)) * s.Tk * (s.D + s.Dv);
  detail::parallel_chunks(s.B * s.H * blocks, cost, [&](int64_t i0, int64_t i1) {
    std::vector<float> scratch(static_cast<size_t>(kernels::attention_scratch_floats(s.Tk)));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t blk = i % blocks, bh = i / blocks, b = bh / s.H, h = bh % s.H;
      kernels::AttentionHead head;
      head.q = qp + b * s.Tq * s.H * s.D + h * s.D;
      head.k = kp + b * s.Tk * s.H * s.D + h * s.D;
      head.v = vp + b * s.Tk * s.H * s.Dv + h * s.Dv;
      head.out = op + b * s.Tq * s.H * s.Dv + h * s.Dv;
      head.q_stride = head.k_stride = s.H * s.D;
      head.v_stride = head.out_stride = s.H * s.Dv;
      head.tk = s.Tk;
      head.d = s.D;
      head.dv = s.Dv;
      head.key_mask = mp ? mp + b * s.Tk : nullptr;
      head.bias = nullptr;
      if (bp) {
        const int64_t bb = bias.dim(0) == 1 ? 0 : b, bhh = bias.dim(1) == 1 ? 0 : h;
        head.bias = bp + (bb * bias.dim(1) + bhh) * s.Tq * s.Tk;
      }
      head.scale = scale;
      const int64_t t0 = blk * q_block;
      kernels::attention_rows(head, t0, std::min(s.Tq, t0 + q_block), scratch.data());
    }
  });
  return out;
}

}  // namespace mlhub::ops
