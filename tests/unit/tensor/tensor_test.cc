#include "mlhub/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace mlhub {
namespace {

TEST(TensorTest, EmptyIsZeroedContiguousAndAligned) {
  Tensor t = Tensor::empty(DType::kF32, {2, 3, 5});
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.strides(), (std::vector<int64_t>{15, 5, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  for (float v : t.to_floats()) EXPECT_EQ(v, 0.f);
}

TEST(TensorTest, ViewsShareStorage) {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
  Tensor t = Tensor::from_floats(v, {2, 3, 4});
  Tensor s = t.slice(1, 1, 3);  // [2, 2, 4]
  EXPECT_EQ(s.shape(), (Shape{2, 2, 4}));
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_EQ(s.item_f32({1, 0, 2}), 18.f);  // t[1][1][2]
  Tensor tr = t.transpose(0, 2);           // [4, 3, 2]
  EXPECT_EQ(tr.item_f32({3, 2, 1}), t.item_f32({1, 2, 3}));
  Tensor c = tr.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.item_f32({3, 2, 1}), 23.f);
  Tensor sel = t.select(0, 1);  // [3, 4]
  EXPECT_EQ(sel.item_f32({0, 0}), 12.f);
  t.data<float>()[12] = 100.f;  // writes are seen through the view
  EXPECT_EQ(sel.item_f32({0, 0}), 100.f);
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(t.unsqueeze(1).shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(t.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  // Reshape of a non-contiguous tensor copies in logical order.
  Tensor rt = tr.reshape({-1});
  EXPECT_EQ(rt.item_f32({1}), t.item_f32({1, 0, 0}));
}

TEST(TensorTest, MisuseThrowsInvalidArgument) {
  Tensor t = Tensor::empty(DType::kF32, {2, 3});
  EXPECT_THROW(t.data<int64_t>(), Error);
  EXPECT_THROW(t.reshape({4, 2}), Error);
  EXPECT_THROW(t.slice(0, 1, 3), Error);
  EXPECT_THROW(t.select(1, 3), Error);
  EXPECT_THROW(t.dim(2), Error);
  EXPECT_THROW(Tensor::empty(DType::kF32, {1LL << 40, 1LL << 40}), Error);
  EXPECT_THROW(Tensor::empty(DType::kF32, {-1}), Error);
  try {
    t.reshape({5});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TensorTest, ReadOnlyViewsRejectWrites) {
  auto buf = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4});
  auto storage = Storage::view(buf, buf->data(), buf->size() * sizeof(float));
  Tensor t = Tensor::view_of(storage, 4, DType::kF32, {3});
  EXPECT_TRUE(t.read_only());
  EXPECT_EQ(t.item_f32({0}), 2.f);
  const Tensor& ct = t;
  EXPECT_EQ(ct.data<float>()[2], 4.f);
  EXPECT_THROW(t.data<float>(), Error);
  EXPECT_THROW(Tensor::view_of(storage, 8, DType::kF32, {3}), Error);  // past the end
  Tensor copy = t.clone();
  EXPECT_FALSE(copy.read_only());
  copy.data<float>()[0] = 7.f;
  EXPECT_EQ(t.item_f32({0}), 2.f);
}

TEST(TensorTest, HalfConversionsRoundTripAndRoundToNearestEven) {
  // Every finite f16 value converts to f32 and back unchanged.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t x = static_cast<uint16_t>(h);
    if ((x & 0x7c00) == 0x7c00) continue;  // inf/NaN
    ASSERT_EQ(f32_to_f16(f16_to_f32(x)), x) << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(65520.f), 0x7c00);  // overflows to inf as torch does
  EXPECT_EQ(f32_to_f16(65504.f), 0x7bff);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    const uint16_t x = static_cast<uint16_t>(h);
    if ((x & 0x7f80) == 0x7f80) continue;
    ASSERT_EQ(f32_to_bf16(bf16_to_f32(x)), x);
  }
}

TEST(TensorTest, DtypeConversion) {
  std::vector<float> v = {1.5f, -2.25f, 3.0f, 0.1f};
  Tensor t = Tensor::from_floats(v, {2, 2});
  Tensor h = t.to(DType::kF16);
  EXPECT_EQ(h.dtype(), DType::kF16);
  Tensor back = h.to(DType::kF32);
  EXPECT_EQ(back.item_f32({0, 1}), -2.25f);
  EXPECT_NEAR(back.item_f32({1, 1}), 0.1f, 1e-4);
  Tensor bt = t.transpose(0, 1).to(DType::kBF16).to(DType::kF32);
  EXPECT_EQ(bt.item_f32({0, 1}), 3.0f);
  Tensor ids = Tensor::from_ints(std::vector<int64_t>{1, 2, 3}, {3});
  EXPECT_EQ(ids.to(DType::kF32).item_f32({2}), 3.f);
  EXPECT_EQ(t.to(DType::kI64).item_i64({0, 1}), -2);
  EXPECT_EQ(ids.to(DType::kI32).item_i64({1}), 2);
}

}  // namespace
}  // namespace mlhub
