// linear() with a PackedWeight against linear() with the plain weight: the same bits for every
// shape, activation and split of the work (the thread-count cases), and rows that do not depend
// on the batch.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/kernels.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::random_tensor;

// (N, K): one tile and less, odd sizes, MiniLM / BERT-base layer sizes, K cut into several
// blocks (1000, 1536, 3072), N past one column block (2048).
constexpr std::pair<int64_t, int64_t> kSizes[] = {{1, 1},      {7, 5},      {17, 33},
                                                  {64, 32},    {50, 400},   {23, 1000},
                                                  {384, 384},  {1536, 384}, {384, 1536},
                                                  {2100, 130}, {768, 3072}};

TEST(PackedWeightTest, SameBitsAsUnpackedLinear) {
  uint32_t seed = 100;
  for (int64_t m : {1, 2, 16, 128, 300})
    for (auto [n, k] : kSizes) {
      const Tensor x = random_tensor({m, k}, seed++);
      const Tensor w = random_tensor({n, k}, seed++, 1.0f / std::sqrt(float(k)));
      const Tensor b = seed % 3 == 0 ? Tensor() : random_tensor({n}, seed++);
      const Activation act = static_cast<Activation>(seed % 8);
      const PackedWeight p = PackedWeight::pack(w);
      EXPECT_EQ(p.out_features(), n);
      EXPECT_EQ(p.in_features(), k);
      const Tensor want = linear(x, w, b, act);
      EXPECT_TRUE(bitwise_equal(linear(x, p, b, act), want)) << m << "x" << n << "x" << k;
    }
}

TEST(PackedWeightTest, LeadingDimsStridedInputAndOtherDtypes) {
  const Tensor x = random_tensor({2, 3, 48}, 3);
  const Tensor w = random_tensor({20, 48}, 4, 0.2f);
  const Tensor b = random_tensor({20}, 5);
  const PackedWeight p = PackedWeight::pack(w);
  const Tensor y = linear(x, p, b, Activation::kGeluErf);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 20}));
  EXPECT_TRUE(bitwise_equal(y, linear(x, w, b, Activation::kGeluErf)));
  EXPECT_TRUE(bitwise_equal(linear(testing::strided_copy(x), p, b), linear(x, w, b)));
  // A strided weight and an F16 weight pack as their F32 contiguous values.
  EXPECT_TRUE(bitwise_equal(linear(x, PackedWeight::pack(testing::strided_copy(w)), b),
                            linear(x, w, b)));
  const Tensor w16 = w.to(DType::kF16);
  EXPECT_TRUE(bitwise_equal(linear(x, PackedWeight::pack(w16), b), linear(x, w16, b)));
}

// Both linear() splits (rows, or columns at multiples of kGemmCols) for every lane count: the
// packed kernel on any split gives the bits of the unpacked kernel on the whole product.
TEST(PackedWeightTest, KernelSplitsGiveTheSameBitsAsSgemm) {
  uint32_t seed = 7;
  for (int64_t m : {1, 16, 128, 300})
    for (auto [n, k] : kSizes) {
      const Tensor a = random_tensor({m, k}, seed++);
      const Tensor w = random_tensor({n, k}, seed++, 0.1f);
      const float* ap = a.data<float>();
      const float* wp = w.data<float>();
      // Owned tensor storage: 64-byte aligned, as the panels must be.
      Tensor packed_t = Tensor::empty(DType::kF32, {kernels::sgemm_packed_b_floats(n, k)});
      float* packed = packed_t.data<float>();
      // Packed in two parts, as PackedWeight::pack may split it.
      const int64_t half = std::min(n, (n / 2 + kernels::kGemmCols - 1) / kernels::kGemmCols *
                                           kernels::kGemmCols);
      kernels::sgemm_pack_b(n, k, wp, k, 0, half, packed);
      kernels::sgemm_pack_b(n, k, wp, k, half, n - half, packed);
      std::vector<float> whole(static_cast<size_t>(m * n));
      kernels::sgemm(m, n, k, ap, k, wp, k, true, whole.data(), n);
      for (int64_t lanes : {1, 2, 3, 4, 7, 16}) {
        std::vector<float> by_cols(whole.size(), -1.0f), by_rows(whole.size(), -1.0f);
        const int64_t col_units = (n + kernels::kGemmCols - 1) / kernels::kGemmCols;
        const int64_t row_units = (m + kernels::kGemmRows - 1) / kernels::kGemmRows;
        for (int64_t c = 0; c < lanes; ++c) {
          const int64_t c0 = std::min(n, col_units * c / lanes * kernels::kGemmCols);
          const int64_t c1 = std::min(n, col_units * (c + 1) / lanes * kernels::kGemmCols);
          if (c0 < c1)
            kernels::sgemm_packed(m, c1 - c0, k, ap, k, packed, n, c0, by_cols.data() + c0,
                                  n);
          const int64_t r0 = std::min(m, row_units * c / lanes * kernels::kGemmRows);
          const int64_t r1 = std::min(m, row_units * (c + 1) / lanes * kernels::kGemmRows);
          if (r0 < r1)
            kernels::sgemm_packed(r1 - r0, n, k, ap + r0 * k, k, packed, n, 0,
                                  by_rows.data() + r0 * n, n);
        }
        EXPECT_EQ(by_cols, whole) << m << "x" << n << "x" << k << " lanes " << lanes;
        EXPECT_EQ(by_rows, whole) << m << "x" << n << "x" << k << " lanes " << lanes;
      }
    }
}

TEST(PackedWeightTest, RowsAreBitIdenticalWhateverTheBatch) {
  const Tensor x = random_tensor({300, 384}, 11);
  const Tensor w = random_tensor({1536, 384}, 12, 0.05f);
  const Tensor b = random_tensor({1536}, 13);
  const PackedWeight p = PackedWeight::pack(w);
  const Tensor all = linear(x, p, b, Activation::kGeluErf);
  for (int64_t r : {0, 1, 5, 6, 95, 96, 150, 299}) {
    const Tensor alone = linear(x.slice(0, r, r + 1), p, b, Activation::kGeluErf);
    EXPECT_TRUE(bitwise_equal(alone, all.slice(0, r, r + 1))) << "row " << r;
    EXPECT_TRUE(bitwise_equal(alone, linear(x.slice(0, r, r + 1), w, b, Activation::kGeluErf)));
  }
  // A batch of 16 inside the batch of 300.
  EXPECT_TRUE(bitwise_equal(linear(x.slice(0, 32, 48), p, b, Activation::kGeluErf),
                            all.slice(0, 32, 48)));
}

TEST(PackedWeightTest, RejectsMisuse) {
  const Tensor w = random_tensor({8, 4}, 1);
  const PackedWeight p = PackedWeight::pack(w);
  EXPECT_THROW(linear(random_tensor({2, 5}, 2), p, Tensor()), Error);
  EXPECT_THROW(linear(random_tensor({2, 4}, 2), p, random_tensor({7}, 3)), Error);
  EXPECT_THROW(PackedWeight::pack(random_tensor({8}, 4)), Error);
  EXPECT_THROW(PackedWeight::pack(Tensor()), Error);
  EXPECT_FALSE(PackedWeight().defined());
  EXPECT_THROW(linear(random_tensor({2, 4}, 2), PackedWeight(), Tensor()), Error);
}

}  // namespace
}  // namespace mlhub::ops
