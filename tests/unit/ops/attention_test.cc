// attention() against its double-precision reference (shapes, masks, biases, cross attention),
// the finfo.min semantics of a fully masked row, and bitwise padding / batch invariance.
#include <gtest/gtest.h>

#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::max_scaled_error;
using testing::random_tensor;

// Right padding: sequence b keeps lengths[b] tokens.
Tensor padding_mask(const std::vector<int64_t>& lengths, int64_t t) {
  std::vector<int64_t> m(lengths.size() * t, 0);
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t i = 0; i < lengths[b]; ++i) m[b * t + i] = 1;
  return Tensor::from_ints(m, {static_cast<int64_t>(lengths.size()), t});
}

TEST(AttentionTest, MatchesReferenceAcrossShapes) {
  uint32_t seed = 100;
  // B, T, H, D: T from 1 to 130 (tails of the 8-row query blocks, 4-key blocks, 8-float vectors),
  // D 4..64 including odd sizes.
  for (auto [B, T, H, D] : {std::tuple<int64_t, int64_t, int, int64_t>{1, 1, 1, 4},
                            {2, 7, 4, 8}, {3, 16, 12, 32}, {1, 13, 3, 33}, {2, 130, 2, 64},
                            {33, 5, 2, 7}}) {
    const Tensor q = random_tensor({B, T, H * D}, seed++);
    const Tensor k = random_tensor({B, T, H * D}, seed++);
    const Tensor v = random_tensor({B, T, H * D}, seed++);
    std::vector<int64_t> lengths(B);
    for (int64_t b = 0; b < B; ++b) lengths[b] = std::max<int64_t>(1, T - b * T / 3);
    const Tensor mask = padding_mask(lengths, T);
    const Tensor bias = random_tensor({1, H, T, T}, seed++);
    const float sc = 1.0f / std::sqrt(static_cast<float>(D));
    for (const Tensor& m : {Tensor(), mask})
      for (const Tensor& bb : {Tensor(), bias})
        // Outputs are averages of N(0, 1) values: within 1e-5 of max(1, |y|).
        EXPECT_LT(max_scaled_error(attention(q, k, v, H, m, bb, sc),
                                   ref::attention(q, k, v, H, m, bb, sc), 1.0),
                  1e-5)
            << B << "x" << T << "x" << H << "x" << D << " mask " << m.defined() << " bias "
            << bb.defined();
  }
}

TEST(AttentionTest, CrossAttentionDvBiasBroadcastsAndMaskDtypes) {
  const int64_t B = 2, Tq = 5, Tk = 9, H = 3, D = 6, Dv = 10;
  const Tensor q = random_tensor({B, Tq, H * D}, 1), k = random_tensor({B, Tk, H * D}, 2),
               v = random_tensor({B, Tk, H * Dv}, 3);
  const Tensor mask = padding_mask({9, 6}, Tk);
  for (const Shape& bs : {Shape{B, H, Tq, Tk}, Shape{1, H, Tq, Tk}, Shape{B, 1, Tq, Tk}}) {
    const Tensor bias = random_tensor(bs, 4);
    const Tensor y = attention(q, k, v, H, mask, bias, 0.3f);
    EXPECT_EQ(y.shape(), (Shape{B, Tq, H * Dv}));
    EXPECT_LT(max_scaled_error(y, ref::attention(q, k, v, H, mask, bias, 0.3f), 1.0), 1e-5);
  }
  // An F32 mask means the same as the I64 one.
  EXPECT_TRUE(bitwise_equal(attention(q, k, v, H, mask.to(DType::kF32), Tensor(), 0.3f),
                            attention(q, k, v, H, mask, Tensor(), 0.3f)));
}

TEST(AttentionTest, FullyMaskedRowIsTheUniformAverageOfValues) {
  // transformers adds finfo.min to every score of a fully padded sequence: all scores equal, so
  // each query gets the plain mean of V (torch's result, not NaN or zeros).
  const int64_t T = 6, H = 2, D = 4;
  const Tensor q = random_tensor({1, T, H * D}, 1), k = random_tensor({1, T, H * D}, 2),
               v = random_tensor({1, T, H * D}, 3);
  const Tensor y = attention(q, k, v, H, padding_mask({0}, T), Tensor(), 0.5f);
  for (int64_t c = 0; c < H * D; ++c) {
    double mean = 0;
    for (int64_t j = 0; j < T; ++j) mean += v.item_f32({0, j, c});
    mean /= T;
    for (int64_t t = 0; t < T; ++t) EXPECT_NEAR(y.item_f32({0, t, c}), mean, 1e-6);
  }
}

TEST(AttentionTest, PaddedBatchGivesTheSameBitsAsEachSequenceAlone) {
  for (auto [T, H, D] : {std::tuple<int64_t, int, int64_t>{11, 4, 8}, {40, 12, 32},
                         {130, 2, 64}}) {
    const std::vector<int64_t> lengths = {T, T * 2 / 3, 1, T / 4 + 1};
    const int64_t B = static_cast<int64_t>(lengths.size());
    const Tensor q = random_tensor({B, T, H * D}, 5), k = random_tensor({B, T, H * D}, 6),
                 v = random_tensor({B, T, H * D}, 7);
    const Tensor out = attention(q, k, v, H, padding_mask(lengths, T), Tensor(), 0.35f);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = lengths[b];
      auto one = [&](const Tensor& x) { return x.slice(0, b, b + 1).slice(1, 0, L).contiguous(); };
      const Tensor alone = attention(one(q), one(k), one(v), H, Tensor(), Tensor(), 0.35f);
      EXPECT_TRUE(bitwise_equal(alone, one(out))) << "T " << T << " sequence " << b;
      // Same sequence, other batch companions: also identical.
      const Tensor pair_q = concat(std::vector<Tensor>{one(q), one(q)}, 0);
      const Tensor pair_k = concat(std::vector<Tensor>{one(k), one(k)}, 0);
      const Tensor pair_v = concat(std::vector<Tensor>{one(v), one(v)}, 0);
      const Tensor pair = attention(pair_q, pair_k, pair_v, H, Tensor(), Tensor(), 0.35f);
      EXPECT_TRUE(bitwise_equal(pair.slice(0, 1, 2).contiguous(), alone));
    }
  }
}

TEST(AttentionTest, StridedViewsOfAFusedProjection) {
  // Models slice q, k, v out of one [B, T, 3*H*D] projection: non-contiguous inputs.
  const int64_t B = 2, T = 9, H = 3, D = 5;
  const Tensor qkv = random_tensor({B, T, 3 * H * D}, 9);
  const Tensor q = qkv.slice(2, 0, H * D), k = qkv.slice(2, H * D, 2 * H * D),
               v = qkv.slice(2, 2 * H * D, 3 * H * D);
  ASSERT_FALSE(q.is_contiguous());
  EXPECT_TRUE(bitwise_equal(attention(q, k, v, H, Tensor(), Tensor(), 0.4f),
                            attention(q.contiguous(), k.contiguous(), v.contiguous(), H, Tensor(),
                                      Tensor(), 0.4f)));
}

TEST(AttentionTest, RejectsBadShapes) {
  const Tensor x = random_tensor({2, 4, 12}, 1);
  EXPECT_THROW(attention(x, x, x, 5, Tensor(), Tensor(), 1.f), Error);  // 12 % 5
  EXPECT_THROW(attention(x, x, x, 0, Tensor(), Tensor(), 1.f), Error);
  EXPECT_THROW(attention(x, random_tensor({2, 4, 6}, 2), x, 3, Tensor(), Tensor(), 1.f), Error);
  EXPECT_THROW(attention(x, x, x, 3, padding_mask({4}, 4), Tensor(), 1.f), Error);
  EXPECT_THROW(attention(x, x, x, 3, Tensor(), random_tensor({2, 2, 4, 4}, 3), 1.f), Error);
  EXPECT_THROW(attention(random_tensor({4, 12}, 1), x, x, 3, Tensor(), Tensor(), 1.f), Error);
}

}  // namespace
}  // namespace mlhub::ops
