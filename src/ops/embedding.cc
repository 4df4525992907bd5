// embedding(), pooling reductions, l2_normalize, concat.
#include <cmath>
#include <cstring>

#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Tensor embedding(const Tensor& weight, const Tensor& ids_in) {
  if (!weight.defined() || weight.ndim() != 2) fail("embedding: weight must be [V, H]");
  if (!ids_in.defined()) fail("embedding: ids are undefined");
  const Tensor ids = ids_in.to(DType::kI64).contiguous();
  const int64_t vocab = weight.dim(0), hidden = weight.dim(1);
  Shape out_shape = ids.shape();
  out_shape.push_back(hidden);
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  const int64_t* ip = ids.data<int64_t>();
  float* yp = y.data<float>();
  const Tensor w = weight.is_contiguous() ? weight : weight.contiguous();
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    const int64_t id = ip[i];
    if (id < 0 || id >= vocab)
      throw Error(Status::out_of_range(
          fmt::format("embedding: id {} is outside the vocabulary of {}", id, vocab)));
    if (w.dtype() == DType::kF32) {
      std::memcpy(yp + i * hidden, w.data<float>() + id * hidden, hidden * sizeof(float));
    } else {
      const Tensor row = w.select(0, id).to(DType::kF32);
      std::memcpy(yp + i * hidden, row.data<float>(), hidden * sizeof(float));
    }
  }
  return y;
}

namespace {
void check_pool(const Tensor& x, const Tensor& mask, std::string_view op) {
  if (x.ndim() != 3 || !mask.defined() || mask.ndim() != 2 || mask.dim(0) != x.dim(0) ||
      mask.dim(1) != x.dim(1))
    fail(fmt::format("{}: expected x [B, T, H] and mask [B, T], got {} and {}", op,
                     shape_string(x.shape()),
                     mask.defined() ? shape_string(mask.shape()) : "undefined"));
}
}  // namespace

Tensor masked_mean(const Tensor& x_in, const Tensor& mask_in) {
  const Tensor x = detail::f32(x_in, "masked_mean", "input");
  check_pool(x, mask_in, "masked_mean");
  const Tensor mask = mask_in.to(DType::kF32).contiguous();
  const int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2);
  Tensor y = Tensor::empty(DType::kF32, {B, H});
  for (int64_t b = 0; b < B; ++b) {
    float* out = y.data<float>() + b * H;
    float count = 0;
    for (int64_t t = 0; t < T; ++t) {
      const float m = mask.data<float>()[b * T + t];
      if (m == 0) continue;
      count += m;
      const float* row = x.data<float>() + (b * T + t) * H;
      for (int64_t h = 0; h < H; ++h) out[h] += row[h] * m;
    }
    // sentence-transformers clamps the token count at 1e-9.
    const float denom = std::max(count, 1e-9f);
    for (int64_t h = 0; h < H; ++h) out[h] /= denom;
  }
  return y;
}

Tensor masked_max(const Tensor& x_in, const Tensor& mask_in) {
  const Tensor x = detail::f32(x_in, "masked_max", "input");
  check_pool(x, mask_in, "masked_max");
  const Tensor mask = mask_in.to(DType::kF32).contiguous();
  const int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2);
  Tensor y = Tensor::full({B, H}, -1e9f);
  for (int64_t b = 0; b < B; ++b) {
    float* out = y.data<float>() + b * H;
    for (int64_t t = 0; t < T; ++t) {
      if (mask.data<float>()[b * T + t] == 0) continue;
      const float* row = x.data<float>() + (b * T + t) * H;
      for (int64_t h = 0; h < H; ++h) out[h] = std::max(out[h], row[h]);
    }
  }
  return y;
}

Tensor l2_normalize(const Tensor& x_in) {
  Tensor y = detail::f32(x_in, "l2_normalize", "input").clone();
  const auto [rows, width] = detail::rows_of(y);
  float* p = y.data<float>();
  for (int64_t i = 0; i < rows; ++i) {
    double ss = 0;
    for (int64_t j = 0; j < width; ++j) ss += static_cast<double>(p[i * width + j]) * p[i * width + j];
    const float denom = std::max(static_cast<float>(std::sqrt(ss)), 1e-12f);
    for (int64_t j = 0; j < width; ++j) p[i * width + j] /= denom;
  }
  return y;
}

Tensor concat(std::span<const Tensor> parts, int dim) {
  if (parts.empty()) fail("concat: no tensors");
  const Tensor first = detail::f32(parts[0], "concat", "part");
  const int nd = first.ndim();
  const int d = dim < 0 ? dim + nd : dim;
  if (d < 0 || d >= nd) fail("concat: dim out of range");
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  std::vector<Tensor> f32s;
  for (const Tensor& p : parts) {
    Tensor t = detail::f32(p, "concat", "part");
    if (t.ndim() != nd) fail("concat: parts differ in rank");
    for (int i = 0; i < nd; ++i)
      if (i != d && t.dim(i) != first.dim(i))
        fail(fmt::format("concat: {} does not match {}", shape_string(t.shape()),
                         shape_string(first.shape())));
    out_shape[d] += t.dim(d);
    f32s.push_back(std::move(t));
  }
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= out_shape[i];
  for (int i = d + 1; i < nd; ++i) inner *= out_shape[i];
  float* yp = y.data<float>();
  int64_t offset = 0;
  for (const Tensor& t : f32s) {
    const int64_t chunk = t.dim(d) * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(yp + o * out_shape[d] * inner + offset, t.data<float>() + o * chunk,
                  chunk * sizeof(float));
    offset += chunk;
  }
  return y;
}

}  // namespace mlhub::ops
