// dequantize() of the ten ggml block formats against gguf-py 0.17.1 (goldens written by
// tools/reference/quant_goldens.py: random blocks and gguf.quants.dequantize of them), bit for bit;
// the AVX2 decoder against the scalar one on more random blocks; quantized embedding lookups and
// row views.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "quant_test_util.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

using testing::bitwise_equal;
using testing::kAllQuantTypes;
using testing::random_quant;

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

constexpr int64_t kGoldenRows = 4, kGoldenCols = 512;  // manifest.json

struct Golden {
  Tensor q, want;
};

Golden load_golden(DType type) {
  const std::string base =
      std::string(MLHUB_SOURCE_DIR) + "/tests/golden/quant/" + std::string(dtype_name(type));
  const auto q = read_file(base + ".q");
  const auto f = read_file(base + ".f32");
  EXPECT_EQ(q.size(), dtype_row_bytes(type, kGoldenCols) * kGoldenRows) << base;
  EXPECT_EQ(f.size(), sizeof(float) * kGoldenRows * kGoldenCols) << base;
  return {Tensor::from_bytes(type, {kGoldenRows, kGoldenCols}, q.data()),
          Tensor::from_bytes(DType::kF32, {kGoldenRows, kGoldenCols}, f.data())};
}

// First differing element, for failure messages.
std::string first_diff(const Tensor& got, const Tensor& want) {
  const auto a = got.to_floats(), b = want.to_floats();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return "index " + std::to_string(i) + ": got " + std::to_string(a[i]) + ", want " +
             std::to_string(b[i]);
  return "sizes differ";
}

TEST(QuantDequantTest, EqualsGgufPyBitForBit) {
  for (DType type : kAllQuantTypes) {
    SCOPED_TRACE(dtype_name(type));
    const Golden g = load_golden(type);
    const Tensor fast = dequantize(g.q), slow = ref::dequantize(g.q);
    EXPECT_EQ(fast.dtype(), DType::kF32);
    EXPECT_TRUE(bitwise_equal(fast, g.want)) << first_diff(fast, g.want);
    EXPECT_TRUE(bitwise_equal(slow, g.want)) << first_diff(slow, g.want);
  }
}

TEST(QuantDequantTest, RowViewsReadOnlyStorageAndReshape) {
  for (DType type : kAllQuantTypes) {
    SCOPED_TRACE(dtype_name(type));
    const Golden g = load_golden(type);
    // Rows 1..2 of the tensor (a view with a byte offset), as a GGUF reader's slice would be.
    const Tensor rows = testing::read_only_copy(g.q).slice(0, 1, 3);
    EXPECT_TRUE(bitwise_equal(dequantize(rows), g.want.slice(0, 1, 3).contiguous()));
    // A 3-D view keeping the last dim.
    const Tensor r3 = g.q.reshape({2, 2, kGoldenCols});
    EXPECT_TRUE(bitwise_equal(dequantize(r3), g.want.reshape({2, 2, kGoldenCols})));
  }
}

TEST(QuantDequantTest, EmbeddingDequantizesTheSelectedRows) {
  for (DType type : kAllQuantTypes) {
    SCOPED_TRACE(dtype_name(type));
    const Golden g = load_golden(type);
    const std::vector<int64_t> id_values = {3, 0, 3, 2};
    const Tensor ids = Tensor::from_ints(id_values, {2, 2});
    const Tensor got = embedding(testing::read_only_copy(g.q), ids);
    ASSERT_EQ(got.shape(), (Shape{2, 2, kGoldenCols}));
    for (int64_t i = 0; i < 4; ++i)
      EXPECT_TRUE(bitwise_equal(got.reshape({4, kGoldenCols}).select(0, i).contiguous(),
                                g.want.select(0, id_values[i]).contiguous()))
          << "id " << id_values[i];
    EXPECT_THROW(embedding(g.q, Tensor::from_ints(std::vector<int64_t>{4}, {1})), Error);
  }
}

TEST(QuantDequantTest, VectorDecoderEqualsScalarOnRandomBlocks) {
  // Beyond the goldens: many random blocks with scales over the whole finite f16 range.
  uint32_t seed = 11;
  for (DType type : kAllQuantTypes)
    for (float scale : {1e-6f, 0.01f, 3.0f, 1000.0f}) {
      const Tensor q = random_quant(type, 17, 1024, seed++, scale);
      const Tensor fast = dequantize(q), slow = ref::dequantize(q);
      EXPECT_TRUE(bitwise_equal(fast, slow)) << dtype_name(type) << " " << first_diff(fast, slow);
    }
}

TEST(QuantDequantTest, PlainDtypesAreConvertedAndMisuseThrows) {
  const Tensor x = testing::random_tensor({3, 5}, 1).to(DType::kF16);
  EXPECT_TRUE(bitwise_equal(dequantize(x), x.to(DType::kF32)));
  EXPECT_THROW(dequantize(Tensor()), Error);
  const Tensor q = random_quant(DType::kQ4_0, 2, 64, 3);
  EXPECT_THROW(linear(testing::random_tensor({1, 32}, 2), q, Tensor()), Error);
  EXPECT_THROW(linear(testing::random_tensor({1, 64}, 2), q, testing::random_tensor({3}, 4)),
               Error);
}

}  // namespace
}  // namespace mlhub::ops
