// Helpers of the ops tests: seeded random tensors and comparisons.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "mlhub/ops.h"

namespace mlhub::ops::testing {

inline Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = dist(rng);
  return Tensor::from_floats(v, shape);
}

// max |a - b| / (atol + |b|): below 1 means within `rtol`-ish of b where b is not tiny.
inline double max_scaled_error(const Tensor& a, const Tensor& b, double atol) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  const auto x = a.to_floats(), y = b.to_floats();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::fabs(double(x[i]) - y[i]) / (atol + std::fabs(double(y[i]))));
  return worst;
}

inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  const auto x = a.to_floats(), y = b.to_floats();
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

// Same shape and the same bits.
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  const auto x = a.to_floats(), y = b.to_floats();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// A strided (non-contiguous) tensor with the same values as `t`: the transpose of a contiguous
// copy of t's transpose.
inline Tensor strided_copy(const Tensor& t) {
  const int n = t.ndim();
  Tensor flipped = t.transpose(n - 2, n - 1).contiguous();
  Tensor view = flipped.transpose(n - 2, n - 1);
  EXPECT_FALSE(view.is_contiguous());
  return view;
}

// A read-only copy of t (storage that is a view, like a weight mapped from a safetensors file):
// ops must read it through const access only.
inline Tensor read_only_copy(const Tensor& t) {
  const Tensor c = t.contiguous();
  auto bytes = std::make_shared<std::vector<std::byte>>(c.nbytes());
  std::memcpy(bytes->data(), c.raw_data(), c.nbytes());
  auto storage = Storage::view(std::shared_ptr<const void>(bytes, bytes->data()), bytes->data(),
                               bytes->size());
  Tensor view = Tensor::view_of(storage, 0, c.dtype(), c.shape());
  EXPECT_TRUE(view.read_only());
  return view;
}

}  // namespace mlhub::ops::testing
