// cached_attention's encoder-decoder options against the full attention op: non-causal
// cross-attention (every query row sees every key, also with more query rows than keys) and
// per-sequence additive biases (T5's relative position bias) on causal self-attention.
#include <gtest/gtest.h>

#include <vector>

#include "mlhub/ops.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::max_abs_diff;
using testing::random_tensor;

constexpr int kHeads = 3;
constexpr int64_t kDim = 8, kWidth = kHeads * kDim;

// Rows [row0, row0 + rows) of a [N, W] tensor as [1, rows, W].
Tensor rows_of(const Tensor& x, int64_t row0, int64_t rows) {
  return x.slice(0, row0, row0 + rows).contiguous().reshape({1, rows, x.dim(1)});
}

TEST(CachedAttention, NonCausalRowsSeeEveryKey) {
  // Two sequences: 5 query rows against 2 keys (kv_len < q_rows is allowed without causality),
  // and 1 query row against 7 keys.
  const Tensor q = random_tensor({6, kWidth}, 1);
  const Tensor k0 = random_tensor({2, kWidth}, 2), v0 = random_tensor({2, kWidth}, 3);
  const Tensor k1 = random_tensor({7, kWidth}, 4), v1 = random_tensor({7, kWidth}, 5);
  std::vector<CachedAttentionSequence> seqs(2);
  seqs[0] = {0, 5, k0.data<float>(), v0.data<float>(), 2, nullptr};
  seqs[1] = {5, 1, k1.data<float>(), v1.data<float>(), 7, nullptr};
  CachedAttentionParams p;
  p.num_heads = p.num_kv_heads = kHeads;
  p.head_dim = kDim;
  p.scale = 0.3f;
  p.causal = false;
  const Tensor out = cached_attention(q, seqs, p);
  const Tensor want0 = attention(rows_of(q, 0, 5), k0.reshape({1, 2, kWidth}), v0.reshape({1, 2, kWidth}),
                                 kHeads, Tensor(), Tensor(), 0.3f);
  const Tensor want1 = attention(rows_of(q, 5, 1), k1.reshape({1, 7, kWidth}), v1.reshape({1, 7, kWidth}),
                                 kHeads, Tensor(), Tensor(), 0.3f);
  EXPECT_LE(max_abs_diff(rows_of(out, 0, 5), want0), 1e-6f);
  EXPECT_LE(max_abs_diff(rows_of(out, 5, 1), want1), 1e-6f);

  // The causal default refuses more query rows than keys.
  p.causal = true;
  EXPECT_THROW(cached_attention(q, seqs, p), Error);
}

TEST(CachedAttention, PerSequenceBiasOnCausalRows) {
  // 3 new rows at positions 4..6 of a 7-key cache, scale 1 (T5), bias [heads, 3, 7].
  const int64_t rows = 3, kv = 7;
  const Tensor q = random_tensor({rows, kWidth}, 11);
  const Tensor k = random_tensor({kv, kWidth}, 12), v = random_tensor({kv, kWidth}, 13);
  const Tensor bias = random_tensor({1, kHeads, rows, kv}, 14, 2.0f);
  CachedAttentionSequence s{0, rows, k.data<float>(), v.data<float>(), kv, bias.data<float>()};
  CachedAttentionParams p;
  p.num_heads = p.num_kv_heads = kHeads;
  p.head_dim = kDim;
  p.scale = 1.0f;
  const Tensor out = cached_attention(q, {&s, 1}, p);
  // The same through the full op: the bias plus a causal mask (keys past each row's position
  // get -1e30, whose exp is exactly 0).
  std::vector<float> full = bias.to_floats();
  for (int h = 0; h < kHeads; ++h)
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t j = kv - rows + t + 1; j < kv; ++j) full[(h * rows + t) * kv + j] = -1e30f;
  const Tensor want = attention(q.reshape({1, rows, kWidth}), k.reshape({1, kv, kWidth}),
                                v.reshape({1, kv, kWidth}), kHeads, Tensor(),
                                Tensor::from_floats(full, {1, kHeads, rows, kv}), 1.0f);
  EXPECT_LE(max_abs_diff(out.reshape({1, rows, kWidth}), want), 1e-6f);

  // Without the bias the answer changes (the bias is really applied).
  s.bias = nullptr;
  EXPECT_GT(max_abs_diff(cached_attention(q, {&s, 1}, p), out), 1e-3f);
}

}  // namespace
}  // namespace mlhub::ops
