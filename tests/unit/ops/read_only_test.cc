// Every op accepts read-only inputs (views into mapped checkpoint files, as WeightMap returns
// them) and gives the same bits as for owned copies.
#include <gtest/gtest.h>

#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::random_tensor;
using testing::read_only_copy;

TEST(ReadOnlyTest, OpsReadMappedWeightsAndInputs) {
  const Tensor x = random_tensor({2, 5, 24}, 1), w = random_tensor({16, 24}, 2),
               b = random_tensor({16}, 3), g = random_tensor({24}, 4),
               r = random_tensor({2, 5, 24}, 5);
  const Tensor xr = read_only_copy(x), wr = read_only_copy(w), br = read_only_copy(b),
               gr = read_only_copy(g), rr = read_only_copy(r);
  EXPECT_TRUE(bitwise_equal(linear(xr, wr, br, Activation::kGeluErf),
                            linear(x, w, b, Activation::kGeluErf)));
  EXPECT_TRUE(bitwise_equal(ref::linear(xr, wr, br), ref::linear(x, w, b)));
  EXPECT_TRUE(bitwise_equal(matmul(xr, read_only_copy(x), true), matmul(x, x, true)));
  EXPECT_TRUE(bitwise_equal(layer_norm(xr, gr, gr, 1e-5f, rr), layer_norm(x, g, g, 1e-5f, r)));
  EXPECT_TRUE(bitwise_equal(ref::layer_norm(xr, gr, gr, 1e-5f, rr),
                            ref::layer_norm(x, g, g, 1e-5f, r)));
  EXPECT_TRUE(bitwise_equal(rms_norm(xr, gr, 1e-6f), rms_norm(x, g, 1e-6f)));
  EXPECT_TRUE(bitwise_equal(softmax(xr), softmax(x)));
  EXPECT_TRUE(bitwise_equal(log_softmax(xr), log_softmax(x)));
  EXPECT_TRUE(bitwise_equal(activation(xr, Activation::kSilu), activation(x, Activation::kSilu)));
  EXPECT_TRUE(bitwise_equal(add(xr, gr), add(x, g)));
  EXPECT_TRUE(bitwise_equal(mul(xr, rr), mul(x, r)));
  EXPECT_TRUE(bitwise_equal(scale(xr, 3.f), scale(x, 3.f)));
  EXPECT_TRUE(bitwise_equal(l2_normalize(xr), l2_normalize(x)));
  EXPECT_TRUE(bitwise_equal(concat(std::vector<Tensor>{xr, rr}, 1),
                            concat(std::vector<Tensor>{x, r}, 1)));
  const Tensor mask = Tensor::from_ints(std::vector<int64_t>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, {2, 5});
  const Tensor bias = random_tensor({1, 4, 5, 5}, 6);
  EXPECT_TRUE(bitwise_equal(
      attention(xr, rr, xr, 4, read_only_copy(mask), read_only_copy(bias), 0.3f),
      attention(x, r, x, 4, mask, bias, 0.3f)));
  EXPECT_TRUE(bitwise_equal(masked_mean(xr, read_only_copy(mask)), masked_mean(x, mask)));
  EXPECT_TRUE(bitwise_equal(masked_max(xr, read_only_copy(mask)), masked_max(x, mask)));
  const Tensor ids = Tensor::from_ints(std::vector<int64_t>{3, 0, 15}, {3});
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    EXPECT_TRUE(bitwise_equal(embedding(read_only_copy(w.to(dt)), read_only_copy(ids)),
                              embedding(w.to(dt), ids)));
}

}  // namespace
}  // namespace mlhub::ops
