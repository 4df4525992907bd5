// linear() with quantized weights: the AVX2 integer kernels against the scalar reference (bit for
// bit), against linear(x, dequantize(w)) within the activation-rounding bound of ops.h, and the
// determinism contract (rows independent of the batch, results independent of the split).
#include <gtest/gtest.h>

#include <cmath>
#include <array>
#include <cstring>
#include <vector>

#include "kernels/cpu/quant.h"
#include "quant_test_util.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::random_quant;
using testing::random_tensor;

constexpr DType kIntTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0,
                               DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
constexpr DType kGenericTypes[] = {DType::kQ5_0, DType::kQ5_1, DType::kQ2_K, DType::kQ3_K};

TEST(QuantLinearTest, ActivationQuantizersEqualScalar) {
  // Blocks with zeros, ties (x * 127 / max = k + 0.5) and tiny values.
  std::vector<float> x(4096);
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  for (size_t i = 0; i < x.size(); ++i) x[i] = dist(rng) * (i < 512 ? 1e-32f : 1.0f);
  for (size_t i = 1024; i < 1056; ++i) x[i] = 0.0f;
  for (size_t i = 2048; i < 2080; ++i) x[i] = (static_cast<float>(i % 7) - 3.0f) * 0.5f;
  using kernels::BlockQ8A;
  using kernels::BlockQ8K;
  std::vector<BlockQ8A> a(x.size() / 32), b(x.size() / 32);
  kernels::quantize_acts_q8a(x.data(), a.data(), 4096);
  kernels::quantize_acts_q8a_scalar(x.data(), b.data(), 4096);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(BlockQ8A)), 0);
  std::vector<BlockQ8K> c(x.size() / 256), d(x.size() / 256);
  kernels::quantize_acts_q8k(x.data(), c.data(), 4096);
  kernels::quantize_acts_q8k_scalar(x.data(), d.data(), 4096);
  EXPECT_EQ(std::memcmp(c.data(), d.data(), c.size() * sizeof(BlockQ8K)), 0);
  EXPECT_EQ(a[0].d, 0.0f);  // below kQ8MinAmax: all zeros
}

TEST(QuantLinearTest, IntegerKernelsEqualScalarReferenceBitForBit) {
  uint32_t seed = 100;
  for (DType type : kIntTypes)
    for (int64_t m : {1, 3, 4, 5, 9})
      for (int64_t n : {1, 2, 5, 67, 130})
        for (int64_t k : {256, 768}) {
          const Tensor w = random_quant(type, n, k, seed++);
          const Tensor x = random_tensor({m, k}, seed++);
          const Tensor b = random_tensor({n}, seed++);
          EXPECT_TRUE(bitwise_equal(linear(x, w, b), ref::linear_quantized(x, w, b)))
              << dtype_name(type) << " " << m << "x" << n << "x" << k;
        }
}

// |linear(x, w) - linear(x, dequantize(w))| against the bound of ops.h: per element
// 0.5 * sum_i |w_i| d_x(i) (activation rounding, d_x = max|x| over i's block / 127) plus float
// accumulation slack 1e-5 * sum_i |w_i x_i| (K <= 2048 terms, a few roundings each).
void expect_within_activation_bound(DType type, const Tensor& x, const Tensor& w) {
  const Tensor wf = dequantize(w);
  const Tensor got = linear(x, w, Tensor()), want = linear(x, wf, Tensor());
  const int64_t m = x.dim(0), n = w.dim(0), k = w.dim(1);
  const int64_t blk = kernels::quant_path(type) == kernels::QuantPath::kQ8K ? 256 : 32;
  const auto xv = x.to_floats(), wv = wf.to_floats(), gv = got.to_floats(), hv = want.to_floats();
  double worst = 0, mean_rel = 0;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double bound = 0, mag = 0;
      for (int64_t b0 = 0; b0 < k; b0 += blk) {
        double amax = 0;
        for (int64_t i = b0; i < b0 + blk; ++i) amax = std::max(amax, std::fabs(double(xv[r * k + i])));
        for (int64_t i = b0; i < b0 + blk; ++i) {
          bound += 0.5 * std::fabs(double(wv[c * k + i])) * amax / 127.0;
          mag += std::fabs(double(wv[c * k + i]) * xv[r * k + i]);
        }
      }
      const double err = std::fabs(double(gv[r * n + c]) - hv[r * n + c]);
      worst = std::max(worst, err / (bound + 1e-5 * mag + 1e-30));
      mean_rel += err / (mag + 1e-30);
    }
  EXPECT_LE(worst, 1.0) << dtype_name(type);
  // And the bound is not vacuous: the typical error is well below 1% of sum |w x|.
  EXPECT_LT(mean_rel / double(m * n), 1e-2) << dtype_name(type);
}

TEST(QuantLinearTest, CloseToLinearOfDequantizedWeights) {
  uint32_t seed = 200;
  for (DType type : kIntTypes) {
    const Tensor x0 = random_tensor({7, 512}, seed++);
    expect_within_activation_bound(type, x0, random_quant(type, 33, 512, seed++));
    // Heavy-tailed activations (one large value per row): the per-block scale absorbs it.
    Tensor x = random_tensor({3, 1536}, seed++);
    float* xp = x.data<float>();
    for (int r = 0; r < 3; ++r) xp[r * 1536 + 17 * (r + 1)] = 40.0f;
    expect_within_activation_bound(type, x, random_quant(type, 20, 1536, seed++));
  }
}

TEST(QuantLinearTest, GenericFormatsEqualLinearOfDequantized) {
  uint32_t seed = 300;
  for (DType type : kGenericTypes)
    for (int64_t m : {1, 6, 40}) {
      const Tensor w = random_quant(type, 70, 512, seed++);
      const Tensor x = random_tensor({m, 512}, seed++);
      const Tensor b = random_tensor({70}, seed++);
      EXPECT_TRUE(bitwise_equal(linear(x, w, b, Activation::kSilu),
                                linear(x, dequantize(w), b, Activation::kSilu)))
          << dtype_name(type) << " m " << m;
      EXPECT_LT(testing::max_scaled_error(linear(x, w, b), ref::linear_quantized(x, w, b), 1.0),
                1e-5);
    }
}

TEST(QuantLinearTest, RowsAreBitIdenticalWhateverTheBatch) {
  // ops.h's determinism contract: a row's result does not depend on the other rows, on how many
  // there are (300 rows take the row-split path, a few rows the column split) or on the split.
  for (DType type : {DType::kQ4_1, DType::kQ8_0, DType::kQ6_K, DType::kQ3_K}) {
    const Tensor w = random_quant(type, 200, 512, 7);
    const Tensor x = random_tensor({300, 512}, 8);
    const Tensor b = random_tensor({200}, 9);
    const Tensor all = linear(x, w, b, Activation::kGeluErf);
    for (int64_t m : {1, 2, 3, 4, 5, 7, 13})
      for (int64_t off : {int64_t{0}, int64_t{3}, 300 - m}) {
        const Tensor part = linear(x.slice(0, off, off + m), w, b, Activation::kGeluErf);
        EXPECT_TRUE(bitwise_equal(part, all.slice(0, off, off + m).contiguous()))
            << dtype_name(type) << " m " << m << " off " << off;
      }
  }
}

TEST(QuantLinearTest, KernelSplitsGiveTheSameBits) {
  // What makes results independent of the thread count: quant_gemm over any sub-range of rows and
  // columns computes those elements exactly as the whole call does.
  for (DType type : kIntTypes) {
    const int64_t m = 11, n = 37, k = 512;
    const Tensor w = random_quant(type, n, k, 21);
    const Tensor x = random_tensor({m, k}, 22);
    const auto path = kernels::quant_path(type);
    const size_t xrb = kernels::quant_acts_row_bytes(path, k), wrb = dtype_row_bytes(type, k);
    std::vector<uint8_t> xq(m * xrb);
    for (int64_t r = 0; r < m; ++r)
      kernels::quantize_acts_row(path, x.data<float>() + r * k, xq.data() + r * xrb, k);
    const auto* wp = static_cast<const uint8_t*>(w.raw_data());
    std::vector<float> whole(m * n), split(m * n);
    kernels::quant_gemm(type, m, n, k, wp, wrb, xq.data(), whole.data(), n);
    for (auto [r0, r1, c0, c1] : {std::array<int64_t, 4>{0, 3, 0, 5}, {3, 11, 0, 5}, {0, 1, 5, 37},
                                  {1, 6, 5, 20}, {6, 11, 5, 20}, {1, 11, 20, 37}})
      kernels::quant_gemm(type, r1 - r0, c1 - c0, k, wp + c0 * wrb, wrb, xq.data() + r0 * xrb,
                          split.data() + r0 * n + c0, n);
    EXPECT_EQ(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)), 0)
        << dtype_name(type);
  }
}

TEST(QuantLinearTest, BiasActivationLeadingDimsAndReadOnlyWeights) {
  const Tensor w = testing::read_only_copy(random_quant(DType::kQ4_K, 24, 256, 31));
  const Tensor x = random_tensor({2, 3, 256}, 32);
  const Tensor b = random_tensor({24}, 33);
  const Tensor y = linear(x, w, b, Activation::kSilu);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 24}));
  EXPECT_LT(testing::max_scaled_error(y, ref::linear_quantized(x, w, b, Activation::kSilu), 1.0),
            1e-5);
  EXPECT_TRUE(bitwise_equal(linear(testing::strided_copy(x), w, b, Activation::kSilu), y));
  // A row view of a bigger weight (a GGUF tensor slice) equals those rows' own weight.
  const Tensor big = random_quant(DType::kQ8_0, 40, 256, 34);
  EXPECT_TRUE(bitwise_equal(linear(x, big.slice(0, 8, 32), Tensor()),
                            linear(x, big.slice(0, 8, 32).clone(), Tensor())));
}

}  // namespace
}  // namespace mlhub::ops
