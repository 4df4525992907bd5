// layer_norm (+ residual), rms_norm, softmax, log_softmax against their references, including
// widths that exercise the masked tails and strided inputs; row independence.
#include <gtest/gtest.h>

#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::max_scaled_error;
using testing::random_tensor;

TEST(NormTest, LayerNormAndRmsNormMatchReference) {
  for (int64_t w : {1, 2, 7, 8, 9, 32, 37, 384, 1000}) {
    const Tensor x = random_tensor({5, 3, w}, 10 + w, 3.0f);
    const Tensor r = random_tensor({5, 3, w}, 20 + w);
    const Tensor g = random_tensor({w}, 30 + w);
    const Tensor b = random_tensor({w}, 40 + w);
    // Absolute scale of the outputs is |g| ~ 1: compare with an absolute floor of 1e-2.
    EXPECT_LT(max_scaled_error(layer_norm(x, g, b, 1e-12f), ref::layer_norm(x, g, b, 1e-12f),
                               1e-2),
              3e-5)
        << w;
    EXPECT_LT(max_scaled_error(layer_norm(x, g, b, 1e-5f, r), ref::layer_norm(x, g, b, 1e-5f, r),
                               1e-2),
              3e-5)
        << w;
    EXPECT_LT(max_scaled_error(layer_norm(x, g, Tensor(), 1e-5f),
                               ref::layer_norm(x, g, Tensor(), 1e-5f), 1e-2),
              3e-5)
        << w;
    EXPECT_LT(max_scaled_error(rms_norm(x, g, 1e-6f), ref::rms_norm(x, g, 1e-6f), 1e-2), 3e-5)
        << w;
  }
}

TEST(NormTest, ConstantRowsAndEps) {
  // A constant row has zero variance: the output is the bias (x - mean = 0 exactly).
  const Tensor x = Tensor::full({2, 16}, 3.25f);
  const Tensor g = random_tensor({16}, 1), b = random_tensor({16}, 2);
  EXPECT_TRUE(bitwise_equal(layer_norm(x, g, b, 1e-12f), concat(std::vector<Tensor>{
                                                                    b.unsqueeze(0), b.unsqueeze(0)},
                                                                0)));
}

TEST(NormTest, StridedInputsAndRowIndependence) {
  const Tensor x = random_tensor({12, 40}, 99, 2.0f);
  const Tensor g = random_tensor({40}, 3), b = random_tensor({40}, 4);
  const Tensor xs = testing::strided_copy(x);
  EXPECT_TRUE(bitwise_equal(layer_norm(xs, g, b, 1e-5f), layer_norm(x, g, b, 1e-5f)));
  EXPECT_TRUE(bitwise_equal(softmax(xs), softmax(x)));
  const Tensor all = layer_norm(x, g, b, 1e-5f, x);
  for (int64_t r : {0, 5, 11}) {
    const Tensor row = x.slice(0, r, r + 1);
    EXPECT_TRUE(bitwise_equal(layer_norm(row, g, b, 1e-5f, row), all.slice(0, r, r + 1)));
  }
}

TEST(SoftmaxTest, MatchesReference) {
  for (int64_t w : {1, 3, 8, 13, 128, 1001}) {
    const Tensor x = random_tensor({4, w}, 50 + w, 4.0f);
    EXPECT_LT(max_scaled_error(softmax(x), ref::softmax(x), 1e-6), 2e-6) << w;
    // log_softmax against log of the double reference softmax.
    const auto ls = log_softmax(x).to_floats();
    const auto s = ref::softmax(x).to_floats();
    for (size_t i = 0; i < ls.size(); ++i) EXPECT_NEAR(ls[i], std::log(s[i]), 2e-5);
  }
  // Large logits do not overflow; a row of equal values is uniform.
  const Tensor big = Tensor::from_floats(std::vector<float>{1000.f, 1000.f, -1000.f, 0.f}, {1, 4});
  const auto s = softmax(big).to_floats();
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_FLOAT_EQ(s[1], 0.5f);
  EXPECT_EQ(s[2], 0.0f);
  const auto ls = log_softmax(big).to_floats();
  EXPECT_NEAR(ls[0], -std::log(2.0f), 1e-6);
}

TEST(NormTest, RejectsBadParameters) {
  const Tensor x = random_tensor({2, 8}, 1);
  EXPECT_THROW(layer_norm(x, random_tensor({7}, 2), Tensor(), 1e-5f), Error);
  EXPECT_THROW(layer_norm(x, random_tensor({8}, 2), random_tensor({9}, 3), 1e-5f), Error);
  EXPECT_THROW(layer_norm(x, random_tensor({8}, 2), Tensor(), 1e-5f, random_tensor({8}, 3)),
               Error);
  EXPECT_THROW(rms_norm(x, random_tensor({3}, 2), 1e-6f), Error);
  EXPECT_THROW(softmax(Tensor()), Error);
}

}  // namespace
}  // namespace mlhub::ops
