// Every fast op against its slow reference (mlhub::ops::ref), on random inputs of odd sizes,
// strided views and padded masks; plus batch invariance of linear and attention.
#include "mlhub/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlhub::ops {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(shape_numel(shape));
  for (float& x : v) x = dist(rng);
  return Tensor::from_floats(v, shape);
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const auto x = a.to_floats(), y = b.to_floats();
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

TEST(OpsTest, LinearMatchesReferenceAcrossShapesAndActivations) {
  const Activation acts[] = {Activation::kIdentity, Activation::kGeluErf, Activation::kGeluTanh,
                             Activation::kRelu, Activation::kSilu, Activation::kTanh};
  uint32_t seed = 1;
  for (int64_t m : {1, 3, 16, 33, 130, 300})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{7, 5}, {64, 32}, {37, 96}, {384, 384}}) {
      const Tensor x = random_tensor({m, k}, seed++);
      const Tensor w = random_tensor({n, k}, seed++, 0.1f);
      const Tensor b = random_tensor({n}, seed++);
      const Activation act = acts[seed % 6];
      EXPECT_LT(max_abs_diff(linear(x, w, b, act), ref::linear(x, w, b, act)), 2e-5f)
          << m << "x" << n << "x" << k;
    }
}

TEST(OpsTest, LinearRowsDoNotDependOnTheBatchBeyondRounding) {
  const Tensor x = random_tensor({200, 384}, 7);
  const Tensor w = random_tensor({1536, 384}, 8, 0.05f);
  const Tensor b = random_tensor({1536}, 9);
  const Tensor all = linear(x, w, b, Activation::kGeluErf);
  for (int64_t r : {0, 1, 77, 199}) {
    const Tensor one = linear(x.slice(0, r, r + 1), w, b, Activation::kGeluErf);
    const Tensor part = linear(x.slice(0, r, std::min<int64_t>(200, r + 5)), w, b,
                               Activation::kGeluErf);
    // Not bitwise: OpenBLAS picks its kernel by shape (docs/kernels.md); within float rounding.
    EXPECT_LT(max_abs_diff(one, all.slice(0, r, r + 1).contiguous()), 1e-5f) << r;
    EXPECT_LT(max_abs_diff(part.slice(0, 0, 1).contiguous(), one), 1e-5f) << r;
  }
}

TEST(OpsTest, ActivationsMatchLibm) {
  std::vector<float> v;
  for (float x = -12.f; x <= 12.f; x += 0.0137f) v.push_back(x);
  const Tensor x = Tensor::from_floats(v, {static_cast<int64_t>(v.size())});
  for (Activation a : {Activation::kGeluErf, Activation::kGeluTanh, Activation::kGeluQuick,
                       Activation::kRelu, Activation::kSilu, Activation::kTanh,
                       Activation::kSigmoid})
    EXPECT_LT(max_abs_diff(activation(x, a), ref::activation(x, a)), 1e-6f * 12)
        << static_cast<int>(a);
  EXPECT_EQ(activation_from_name("gelu"), Activation::kGeluErf);
  EXPECT_EQ(activation_from_name("gelu_new"), Activation::kGeluTanh);
  EXPECT_THROW(activation_from_name("nonsense"), Error);
}

TEST(OpsTest, LayerNormSoftmaxRmsNormMatchReference) {
  for (int64_t w : {1, 7, 32, 384, 1000}) {
    const Tensor x = random_tensor({5, 3, w}, 10 + w, 3.0f);
    const Tensor r = random_tensor({5, 3, w}, 20 + w);
    const Tensor g = random_tensor({w}, 30 + w);
    const Tensor b = random_tensor({w}, 40 + w);
    EXPECT_LT(max_abs_diff(layer_norm(x, g, b, 1e-12f), ref::layer_norm(x, g, b, 1e-12f)), 2e-5f);
    EXPECT_LT(max_abs_diff(layer_norm(x, g, b, 1e-5f, r), ref::layer_norm(x, g, b, 1e-5f, r)),
              2e-5f);
    EXPECT_LT(max_abs_diff(rms_norm(x, g, 1e-6f), ref::rms_norm(x, g, 1e-6f)), 2e-5f);
    EXPECT_LT(max_abs_diff(softmax(x), ref::softmax(x)), 1e-6f);
  }
  // Strided input: a transposed view is normalised as its logical values.
  const Tensor x = random_tensor({6, 8}, 99).transpose(0, 1);
  const Tensor g = Tensor::full({6}, 1.0f);
  EXPECT_LT(max_abs_diff(layer_norm(x, g, Tensor(), 1e-5f),
                         ref::layer_norm(x.contiguous(), g, Tensor(), 1e-5f)), 2e-5f);
}

TEST(OpsTest, AttentionMatchesReferenceWithMasksAndBias) {
  uint32_t seed = 100;
  for (auto [B, T, H, D] : {std::tuple<int64_t, int64_t, int, int64_t>{1, 1, 1, 4},
                            {2, 7, 4, 8}, {3, 16, 12, 32}, {2, 130, 2, 64}}) {
    const Tensor q = random_tensor({B, T, H * D}, seed++);
    const Tensor k = random_tensor({B, T, H * D}, seed++);
    const Tensor v = random_tensor({B, T, H * D}, seed++);
    std::vector<int64_t> m(B * T, 1);
    for (int64_t b = 1; b < B; ++b)
      for (int64_t t = T - b * T / 3; t < T; ++t) m[b * T + t] = 0;  // right padding
    const Tensor mask = Tensor::from_ints(m, {B, T});
    const Tensor bias = random_tensor({1, H, T, T}, seed++);
    const float sc = 1.0f / std::sqrt(static_cast<float>(D));
    EXPECT_LT(max_abs_diff(attention(q, k, v, H, mask, Tensor(), sc),
                           ref::attention(q, k, v, H, mask, Tensor(), sc)), 2e-5f);
    EXPECT_LT(max_abs_diff(attention(q, k, v, H, mask, bias, sc),
                           ref::attention(q, k, v, H, mask, bias, sc)), 2e-5f);
  }
}

TEST(OpsTest, AttentionPaddedBatchEqualsEachSequenceAlone) {
  const int64_t B = 3, T = 11, H = 4, D = 8;
  const int64_t lengths[] = {11, 7, 4};
  const Tensor q = random_tensor({B, T, H * D}, 5), k = random_tensor({B, T, H * D}, 6),
               v = random_tensor({B, T, H * D}, 7);
  std::vector<int64_t> m(B * T, 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) m[b * T + t] = 1;
  const Tensor out = attention(q, k, v, H, Tensor::from_ints(m, {B, T}), Tensor(), 0.35f);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths[b];
    auto one = [&](const Tensor& x) { return x.slice(0, b, b + 1).slice(1, 0, L).contiguous(); };
    const Tensor alone = attention(one(q), one(k), one(v), H, Tensor(), Tensor(), 0.35f);
    EXPECT_LT(max_abs_diff(alone, one(out)), 1e-6f) << b;
  }
}

TEST(OpsTest, EmbeddingPoolingConcatAndErrors) {
  const Tensor w = random_tensor({10, 4}, 3);
  const Tensor ids = Tensor::from_ints(std::vector<int64_t>{3, 0, 9}, {1, 3});
  const Tensor e = embedding(w, ids);
  EXPECT_EQ(e.shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(e.item_f32({0, 2, 1}), w.item_f32({9, 1}));
  const Tensor e16 = embedding(w.to(DType::kBF16), ids);
  EXPECT_EQ(e16.item_f32({0, 0, 3}), w.to(DType::kBF16).item_f32({3, 3}));
  try {
    embedding(w, Tensor::from_ints(std::vector<int64_t>{10}, {1}));
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.status().code(), StatusCode::kOutOfRange);
  }
  const Tensor x = Tensor::from_floats(std::vector<float>{1, 2, 3, 4, 100, 100}, {1, 3, 2});
  const Tensor mask = Tensor::from_ints(std::vector<int64_t>{1, 1, 0}, {1, 3});
  EXPECT_EQ(masked_mean(x, mask).to_floats(), (std::vector<float>{2, 3}));
  EXPECT_EQ(masked_max(x, mask).to_floats(), (std::vector<float>{3, 4}));
  const Tensor n = l2_normalize(Tensor::from_floats(std::vector<float>{3, 4}, {1, 2}));
  EXPECT_FLOAT_EQ(n.item_f32({0, 0}), 0.6f);
  const Tensor parts[] = {x, x.slice(1, 0, 1).contiguous()};
  const Tensor c = concat(parts, 1);
  EXPECT_EQ(c.shape(), (Shape{1, 4, 2}));
  EXPECT_EQ(c.item_f32({0, 3, 1}), 2.f);
  EXPECT_THROW(linear(x, w, Tensor()), Error);
  EXPECT_THROW(attention(x, x, x, 3, Tensor(), Tensor(), 1.f), Error);
  EXPECT_EQ(add(x, Tensor::from_floats(std::vector<float>{1, 1}, {2})).item_f32({0, 2, 0}), 101.f);
  EXPECT_THROW(add(x, Tensor::from_floats(std::vector<float>{1, 1, 1}, {3})), Error);
}

TEST(OpsTest, MatmulMatchesReference) {
  const Tensor a = random_tensor({2, 3, 5, 7}, 1), b = random_tensor({2, 3, 7, 4}, 2);
  const Tensor bt = random_tensor({2, 3, 4, 7}, 3);
  EXPECT_LT(max_abs_diff(matmul(a, b), ref::matmul(a, b)), 1e-5f);
  EXPECT_LT(max_abs_diff(matmul(a, bt, true), ref::matmul(a, bt, true)), 1e-5f);
}

}  // namespace
}  // namespace mlhub::ops
