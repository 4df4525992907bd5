// linear() and matmul() against their double-precision references; batch invariance (bitwise);
// split invariance of the GEMM kernel (what makes results independent of the thread count).
#include <gtest/gtest.h>

#include "kernels/cpu/kernels.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::max_scaled_error;
using testing::random_tensor;

constexpr Activation kActs[] = {Activation::kIdentity, Activation::kGeluErf,
                                Activation::kGeluTanh, Activation::kGeluQuick,
                                Activation::kRelu,     Activation::kSilu,
                                Activation::kTanh,     Activation::kSigmoid};

TEST(LinearTest, MatchesReferenceAcrossShapesAndActivations) {
  uint32_t seed = 1;
  // M 1..33 and past one cache block (96 rows); N and K odd, below and above one tile / block.
  for (int64_t m : {1, 2, 5, 6, 7, 16, 33, 97, 130})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {7, 5}, {17, 33}, {64, 32}, {37, 96},
                        {384, 384}, {50, 400}, {23, 1000}}) {
      const Tensor x = random_tensor({m, k}, seed++);
      const Tensor w = random_tensor({n, k}, seed++, 1.0f / std::sqrt(float(k)));
      const Tensor b = random_tensor({n}, seed++);
      const Activation act = kActs[seed % 8];
      // Float accumulation over k terms against a double reference: within 1e-5 of max(1, |y|)
      // (outputs are O(1)).
      EXPECT_LT(max_scaled_error(linear(x, w, b, act), ref::linear(x, w, b, act), 1.0), 1e-5)
          << m << "x" << n << "x" << k << " act " << static_cast<int>(act);
    }
}

TEST(LinearTest, LeadingDimsStridedInputsAndNoBias) {
  const Tensor x = random_tensor({2, 3, 48}, 3);
  const Tensor w = random_tensor({20, 48}, 4, 0.2f);
  const Tensor y = linear(x, w, Tensor());
  EXPECT_EQ(y.shape(), (Shape{2, 3, 20}));
  EXPECT_LT(max_scaled_error(y, ref::linear(x, w, Tensor()), 1.0), 1e-5);
  // A strided input (and weight) give the same bits as their contiguous copies.
  const Tensor xs = testing::strided_copy(x), ws = testing::strided_copy(w);
  EXPECT_TRUE(bitwise_equal(linear(xs, ws, Tensor()), y));
  // F16 / BF16 weights are converted exactly, then used as F32.
  const Tensor wh = w.to(DType::kBF16);
  EXPECT_TRUE(bitwise_equal(linear(x, wh, Tensor()), linear(x, wh.to(DType::kF32), Tensor())));
}

TEST(LinearTest, RowsAreBitIdenticalWhateverTheBatch) {
  // The batch-invariance guarantee of ops.h: row i of linear() does not depend on the other rows
  // or on how many there are (here 1..40 and 300 rows, at every offset class of the 6-row tile).
  for (auto [n, k] : {std::pair<int64_t, int64_t>{384, 384}, {1536, 384}, {37, 96}}) {
    const Tensor x = random_tensor({300, k}, 7);
    const Tensor w = random_tensor({n, k}, 8, 0.05f);
    const Tensor b = random_tensor({n}, 9);
    const Tensor all = linear(x, w, b, Activation::kGeluErf);
    for (int64_t m = 1; m <= 40; ++m)
      for (int64_t off : {int64_t{0}, int64_t{3}, 300 - m}) {
        const Tensor part = linear(x.slice(0, off, off + m), w, b, Activation::kGeluErf);
        ASSERT_TRUE(bitwise_equal(part, all.slice(0, off, off + m).contiguous()))
            << "n " << n << " k " << k << " rows [" << off << ", " << off + m << ")";
      }
  }
}

TEST(LinearTest, GemmSplitsGiveTheSameBits) {
  // ops split M or N over the pool by thread count; every split must give identical bits.
  const int64_t m = 50, n = 70, k = 800;
  const Tensor a = random_tensor({m, k}, 11), w = random_tensor({n, k}, 12);
  std::vector<float> whole(m * n), split(m * n);
  const float* ap = a.data<float>();
  const float* wp = w.data<float>();
  kernels::sgemm(m, n, k, ap, k, wp, k, true, whole.data(), n);
  for (int64_t cut : {1, 5, 6, 16, 33, 49}) {
    std::fill(split.begin(), split.end(), -1.0f);
    kernels::sgemm(cut, n, k, ap, k, wp, k, true, split.data(), n);  // rows [0, cut)
    kernels::sgemm(m - cut, n, k, ap + cut * k, k, wp, k, true, split.data() + cut * n, n);
    EXPECT_EQ(whole, split) << "row cut " << cut;
    if (cut < n) {
      std::fill(split.begin(), split.end(), -1.0f);
      kernels::sgemm(m, cut, k, ap, k, wp, k, true, split.data(), n);  // columns [0, cut)
      kernels::sgemm(m, n - cut, k, ap, k, wp + cut * k, k, true, split.data() + cut, n);
      EXPECT_EQ(whole, split) << "column cut " << cut;
    }
  }
}

TEST(MatmulTest, MatchesReferenceBothLayoutsAndBatched) {
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{5, 7, 4}, {1, 64, 9},
                         {33, 17, 130}, {130, 300, 20}}) {
    const float s = 1.0f / std::sqrt(static_cast<float>(k));  // outputs O(1)
    const Tensor a = random_tensor({2, 3, m, k}, 1), b = random_tensor({2, 3, k, n}, 2, s);
    const Tensor bt = random_tensor({2, 3, n, k}, 3, s);
    EXPECT_LT(max_scaled_error(matmul(a, b), ref::matmul(a, b), 1.0), 1e-5);
    EXPECT_LT(max_scaled_error(matmul(a, bt, true), ref::matmul(a, bt, true), 1.0), 1e-5);
    // One batch: rows split over the pool.
    const Tensor a1 = a.slice(0, 0, 1).slice(1, 0, 1), b1 = b.slice(0, 0, 1).slice(1, 0, 1);
    EXPECT_TRUE(bitwise_equal(matmul(a1, b1), matmul(a, b).slice(0, 0, 1).slice(1, 0, 1)));
  }
}

TEST(LinearTest, RejectsMismatchedShapes) {
  const Tensor x = random_tensor({2, 8}, 1);
  EXPECT_THROW(linear(x, random_tensor({4, 7}, 2), Tensor()), Error);
  EXPECT_THROW(linear(x, random_tensor({4, 8}, 2), random_tensor({5}, 3)), Error);
  EXPECT_THROW(linear(x, random_tensor({4, 8, 1}, 2), Tensor()), Error);
  EXPECT_THROW(matmul(x, random_tensor({7, 3}, 2)), Error);
  EXPECT_THROW(matmul(random_tensor({2, 2, 3}, 1), random_tensor({3, 3, 3}, 2)), Error);
  try {
    linear(x, random_tensor({4, 7}, 2), Tensor());
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace mlhub::ops
