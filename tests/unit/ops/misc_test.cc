// embedding, pooling, l2_normalize, concat, elementwise ops: values computed independently in
// the test (double precision or exact), broadcasting, in-place add, errors.
#include <gtest/gtest.h>

#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::random_tensor;

TEST(EmbeddingTest, GathersRowsOfEveryFloatDtype) {
  const Tensor w = random_tensor({10, 19}, 3);
  const Tensor ids = Tensor::from_ints(std::vector<int64_t>{3, 0, 9, 3}, {2, 2});
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kF64}) {
    const Tensor wt = w.to(dt);
    const Tensor e = embedding(wt, ids);
    ASSERT_EQ(e.shape(), (Shape{2, 2, 19}));
    const Tensor wf = wt.to(DType::kF32);  // the exact conversion
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t id = std::vector<int64_t>{3, 0, 9, 3}[i];
      EXPECT_TRUE(bitwise_equal(e.reshape({4, 19}).slice(0, i, i + 1), wf.slice(0, id, id + 1)))
          << dtype_name(dt) << " " << i;
    }
  }
  // I32 ids work as I64.
  EXPECT_TRUE(bitwise_equal(embedding(w, ids.to(DType::kI32)), embedding(w, ids)));
}

TEST(EmbeddingTest, OutOfRangeIdsAndBadTables) {
  const Tensor w = random_tensor({10, 4}, 3);
  for (int64_t bad : {int64_t{10}, int64_t{-1}}) {
    try {
      embedding(w, Tensor::from_ints(std::vector<int64_t>{1, bad}, {2}));
      FAIL() << bad;
    } catch (const Error& err) {
      EXPECT_EQ(err.status().code(), StatusCode::kOutOfRange);
    }
  }
  EXPECT_THROW(embedding(random_tensor({10}, 1), Tensor::from_ints(std::vector<int64_t>{1}, {1})),
               Error);
  EXPECT_THROW(embedding(w.to(DType::kI64), Tensor::from_ints(std::vector<int64_t>{1}, {1})),
               Error);
}

TEST(PoolingTest, MaskedMeanMaxAndNormalize) {
  const int64_t B = 3, T = 7, H = 13;
  const Tensor x = random_tensor({B, T, H}, 8);
  const std::vector<int64_t> lengths = {7, 3, 0};
  std::vector<int64_t> m(B * T, 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) m[b * T + t] = 1;
  const Tensor mask = Tensor::from_ints(m, {B, T});
  const Tensor mean = masked_mean(x, mask), mx = masked_max(x, mask);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      double s = 0, best = -1e9;
      for (int64_t t = 0; t < lengths[b]; ++t) {
        s += x.item_f32({b, t, h});
        best = std::max<double>(best, x.item_f32({b, t, h}));
      }
      // No token: sum 0 over the clamped count 1e-9 (sentence-transformers) is 0.
      EXPECT_NEAR(mean.item_f32({b, h}), lengths[b] ? s / lengths[b] : 0.0, 1e-6);
      EXPECT_EQ(mx.item_f32({b, h}), static_cast<float>(best));
    }
  const Tensor n = l2_normalize(mean);
  for (int64_t b = 0; b < 2; ++b) {
    double ss = 0;
    for (int64_t h = 0; h < H; ++h) ss += double(mean.item_f32({b, h})) * mean.item_f32({b, h});
    for (int64_t h = 0; h < H; ++h)
      EXPECT_NEAR(n.item_f32({b, h}), mean.item_f32({b, h}) / std::sqrt(ss), 1e-6);
  }
  // The zero row stays zero (eps 1e-12 in the denominator).
  for (int64_t h = 0; h < H; ++h) EXPECT_EQ(n.item_f32({2, h}), 0.0f);
  EXPECT_THROW(masked_mean(x, Tensor::from_ints(m, {B * T})), Error);
  EXPECT_THROW(masked_max(x.reshape({B * T, H}), mask), Error);
}

TEST(ConcatTest, JoinsAlongAnyDim) {
  const Tensor a = random_tensor({2, 3, 4}, 1), b = random_tensor({2, 5, 4}, 2);
  const Tensor c = concat(std::vector<Tensor>{a, b}, 1);
  ASSERT_EQ(c.shape(), (Shape{2, 8, 4}));
  EXPECT_TRUE(bitwise_equal(c.slice(1, 0, 3).contiguous(), a));
  EXPECT_TRUE(bitwise_equal(c.slice(1, 3, 8).contiguous(), b));
  const Tensor d = concat(std::vector<Tensor>{a, a, a.to(DType::kBF16)}, -1);
  ASSERT_EQ(d.shape(), (Shape{2, 3, 12}));
  EXPECT_TRUE(bitwise_equal(d.slice(2, 8, 12).contiguous(), a.to(DType::kBF16).to(DType::kF32)));
  const Tensor e = concat(std::vector<Tensor>{a, a}, 0);
  EXPECT_TRUE(bitwise_equal(e.slice(0, 2, 4).contiguous(), a));
  EXPECT_THROW(concat(std::vector<Tensor>{a, b}, 2), Error);
  EXPECT_THROW(concat(std::vector<Tensor>{a}, 3), Error);
  EXPECT_THROW(concat(std::vector<Tensor>{}, 0), Error);
}

TEST(ElementwiseTest, AddMulScaleWithBroadcast) {
  const Tensor a = random_tensor({3, 5, 11}, 1);
  const Tensor row = random_tensor({11}, 2), plane = random_tensor({5, 11}, 3);
  const Tensor same = random_tensor({3, 5, 11}, 4);
  const auto av = a.to_floats();
  for (const Tensor& b : {row, plane, same}) {
    const auto bv = b.to_floats();
    const auto sum = add(a, b).to_floats(), prod = mul(a, b).to_floats();
    for (size_t i = 0; i < av.size(); ++i) {
      ASSERT_EQ(sum[i], av[i] + bv[i % bv.size()]);
      ASSERT_EQ(prod[i], av[i] * bv[i % bv.size()]);
    }
    Tensor inplace = a.clone();
    add_(inplace, b);
    EXPECT_TRUE(bitwise_equal(inplace, add(a, b)));
  }
  const auto sc = scale(testing::strided_copy(a), -0.5f).to_floats();
  for (size_t i = 0; i < av.size(); ++i) ASSERT_EQ(sc[i], av[i] * -0.5f);
  EXPECT_THROW(add(a, random_tensor({5}, 1)), Error);
  EXPECT_THROW(mul(row, a), Error);  // only b broadcasts
  Tensor strided = testing::strided_copy(a);
  EXPECT_THROW(add_(strided, row), Error);
}

TEST(ActivationTest, Names) {
  EXPECT_EQ(activation_from_name("gelu"), Activation::kGeluErf);
  EXPECT_EQ(activation_from_name("gelu_new"), Activation::kGeluTanh);
  EXPECT_EQ(activation_from_name("gelu_pytorch_tanh"), Activation::kGeluTanh);
  EXPECT_EQ(activation_from_name("quick_gelu"), Activation::kGeluQuick);
  EXPECT_EQ(activation_from_name("swish"), Activation::kSilu);
  EXPECT_EQ(activation_from_name("relu"), Activation::kRelu);
  EXPECT_THROW(activation_from_name("nonsense"), Error);
}

}  // namespace
}  // namespace mlhub::ops
