// Pooling reductions over the tokens of [B, T, H] with a mask [B, T] (sentence-transformers'
// mean / max pooling) and L2 normalisation of the last dim.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

namespace {

void check_pool(const Tensor& x, const Tensor& mask, std::string_view op) {
  if (x.ndim() != 3 || !mask.defined() || mask.ndim() != 2 || mask.dim(0) != x.dim(0) ||
      mask.dim(1) != x.dim(1))
    detail::fail(fmt::format("{}: expected x [B, T, H] and mask [B, T], got {} and {}", op,
                             shape_string(x.shape()),
                             mask.defined() ? shape_string(mask.shape()) : "undefined"));
}

}  // namespace

Tensor masked_mean(const Tensor& x_in, const Tensor& mask_in) {
  const Tensor x = detail::f32(x_in, "masked_mean", "input");
  check_pool(x, mask_in, "masked_mean");
  const Tensor mask = mask_in.to(DType::kF32).contiguous();
  const int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2);
  Tensor y = Tensor::empty(DType::kF32, {B, H});  // zero-filled
  const float* xp = x.data<float>();
  const float* mp = mask.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    float* out = y.data<float>() + b * H;
    float count = 0;
    // sum_t x[t] * m[t] in token order, as torch's (x * mask).sum(1).
    for (int64_t t = 0; t < T; ++t) {
      const float m = mp[b * T + t];
      count += m;
      if (m != 0) kernels::axpy(m, xp + (b * T + t) * H, out, H);
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
  const float* xp = x.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    float* out = y.data<float>() + b * H;
    for (int64_t t = 0; t < T; ++t) {
      if (mask.data<float>()[b * T + t] == 0) continue;
      const float* row = xp + (b * T + t) * H;
      for (int64_t h = 0; h < H; ++h) out[h] = std::max(out[h], row[h]);
    }
  }
  return y;
}

Tensor l2_normalize(const Tensor& x_in) {
  Tensor y = detail::f32_copy(x_in, "l2_normalize", "input");
  const auto shape_rw = detail::rows_of(y);
  const int64_t rows = shape_rw.first, width = shape_rw.second;  // (clang 14: no captured bindings)
  float* p = y.data<float>();
  detail::parallel_chunks(rows, 4.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) kernels::l2_normalize_row(p + i * width, width);
  });
  return y;
}

}  // namespace mlhub::ops
