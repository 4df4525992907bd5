// rotary_() and cached_attention(): the two ops decoder layers add to the encoder set. Shape
// checks here; the attention kernel is the fused one of src/kernels/cpu/attention.cc with its
// causal / sliding-window / soft-capping options.
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

void rotary_(Tensor& x, int num_heads, std::span<const int64_t> positions,
             std::span<const float> inv_freq, float attention_scaling) {
  if (!x.defined() || x.dtype() != DType::kF32 || !x.is_contiguous() || x.read_only() ||
      x.ndim() != 2)
    fail("rotary_: x must be an owned contiguous F32 [N, H*D] tensor");
  const int64_t n = x.dim(0), width = x.dim(1);
  if (num_heads <= 0 || width % num_heads != 0)
    fail(fmt::format("rotary_: width {} is not a multiple of {} heads", width, num_heads));
  const int64_t d = width / num_heads, half = static_cast<int64_t>(inv_freq.size());
  if (half == 0 || 2 * half > d)
    fail(fmt::format("rotary_: {} frequencies do not fit head dim {}", half, d));
  if (static_cast<int64_t>(positions.size()) != n)
    fail(fmt::format("rotary_: {} positions for {} rows", positions.size(), n));
  float* base = x.data<float>();
  detail::parallel_chunks(n, 8.0 * static_cast<double>(width), [&](int64_t r0, int64_t r1) {
    std::vector<float> cos_v(static_cast<size_t>(half)), sin_v(static_cast<size_t>(half));
    for (int64_t r = r0; r < r1; ++r) {
      // torch: freqs = inv_freq @ position (one float32 product each), then cos/sin in float32
      // and the attention scaling.
      const float pos = static_cast<float>(positions[r]);
      for (int64_t f = 0; f < half; ++f) {
        const float angle = inv_freq[f] * pos;
        cos_v[f] = static_cast<float>(std::cos(static_cast<double>(angle))) * attention_scaling;
        sin_v[f] = static_cast<float>(std::sin(static_cast<double>(angle))) * attention_scaling;
      }
      float* row = base + r * width;
      for (int64_t h = 0; h < num_heads; ++h) {
        float* xh = row + h * d;
        for (int64_t f = 0; f < half; ++f) {
          const float x1 = xh[f], x2 = xh[f + half];
          // Two products then one sum, as torch's (x * cos) + (rotate_half(x) * sin).
          const float a1 = x1 * cos_v[f], b1 = -x2 * sin_v[f];
          const float a2 = x2 * cos_v[f], b2 = x1 * sin_v[f];
          xh[f] = a1 + b1;
          xh[f + half] = a2 + b2;
        }
      }
    }
  });
}

Tensor cached_attention(const Tensor& q_in, std::span<const CachedAttentionSequence> sequences,
                        const CachedAttentionParams& p) {
  const Tensor q = detail::f32(q_in, "cached_attention", "q");
  if (q.ndim() != 2 || p.num_heads <= 0 || p.num_kv_heads <= 0 || p.head_dim <= 0 ||
      p.num_heads % p.num_kv_heads != 0 || q.dim(1) != p.num_heads * p.head_dim)
    fail(fmt::format("cached_attention: q {} does not fit {} heads x {} ({} kv heads)",
                     shape_string(q.shape()), p.num_heads, p.head_dim, p.num_kv_heads));
  const int64_t n = q.dim(0), width = q.dim(1), kv_width = p.num_kv_heads * p.head_dim;
  for (const CachedAttentionSequence& s : sequences) {
    if (s.q_rows <= 0 || s.q_row0 < 0 || s.q_row0 + s.q_rows > n || s.kv_len <= 0 ||
        (p.causal && s.kv_len < s.q_rows) || s.k == nullptr || s.v == nullptr)
      fail(fmt::format("cached_attention: sequence rows [{}, +{}) with {} keys do not fit {} "
                       "query rows",
                       s.q_row0, s.q_rows, s.kv_len, n));
  }
  Tensor out = Tensor::empty(DType::kF32, {n, width});
  if (n == 0) return out;
  const float* qp = q.data<float>();
  float* op = out.data<float>();
  const int64_t group = p.num_heads / p.num_kv_heads;
  // Items: (sequence, head, block of 32 query rows).
  constexpr int64_t kBlock = 32;
  struct Item {
    int64_t seq, head, row0;
  };
  std::vector<Item> items;
  int64_t max_kv = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    max_kv = std::max(max_kv, sequences[s].kv_len);
    for (int64_t h = 0; h < p.num_heads; ++h)
      for (int64_t r = 0; r < sequences[s].q_rows; r += kBlock)
        items.push_back({static_cast<int64_t>(s), h, r});
  }
  const double cost = 4.0 * static_cast<double>(p.head_dim) * static_cast<double>(max_kv) *
                      static_cast<double>(std::min<int64_t>(kBlock, n));
  detail::parallel_chunks(static_cast<int64_t>(items.size()), cost, [&](int64_t i0, int64_t i1) {
    std::vector<float> scratch(static_cast<size_t>(kernels::attention_scratch_floats(max_kv)));
    for (int64_t i = i0; i < i1; ++i) {
      const Item& it = items[static_cast<size_t>(i)];
      const CachedAttentionSequence& s = sequences[static_cast<size_t>(it.seq)];
      const int64_t kv_head = it.head / group;
      kernels::AttentionHead head;
      head.q = qp + s.q_row0 * width + it.head * p.head_dim;
      head.out = op + s.q_row0 * width + it.head * p.head_dim;
      head.k = s.k + kv_head * p.head_dim;
      head.v = s.v + kv_head * p.head_dim;
      head.q_stride = head.out_stride = width;
      head.k_stride = head.v_stride = kv_width;
      head.tk = s.kv_len;
      head.d = head.dv = p.head_dim;
      head.key_mask = nullptr;
      head.bias = s.bias ? s.bias + it.head * s.q_rows * s.kv_len : nullptr;
      head.scale = p.scale;
      head.causal_offset = p.causal ? s.kv_len - s.q_rows : -1;
      head.window = p.sliding_window;
      head.softcap = p.softcap;
      kernels::attention_rows(head, it.row0, std::min(s.q_rows, it.row0 + kBlock),
                              scratch.data());
    }
  });
  return out;
}

}  // namespace mlhub::ops
