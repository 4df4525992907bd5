// embedding(): rows of an F32 / F16 / BF16 (or any float dtype) table gathered into F32.
// Conversions are exact (F16 via F16C, BF16 by a shift), so they equal Tensor::to(kF32).
#include <immintrin.h>

#include <cstring>

#include "ops/ops_internal.h"
#include "ops/quantized.h"

namespace mlhub::ops {

namespace {

void f16_row(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void bf16_row(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &bits, sizeof(bits));
  }
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids_in) {
  if (!weight.defined() || weight.ndim() != 2) detail::fail("embedding: weight must be [V, H]");
  if (!ids_in.defined()) detail::fail("embedding: ids are undefined");
  const DType wt = weight.dtype();
  if (dtype_is_quantized(wt)) return detail::embedding_quantized(weight, ids_in);
  if (wt != DType::kF32 && wt != DType::kF16 && wt != DType::kBF16 && wt != DType::kF64)
    detail::fail(fmt::format("embedding: weight dtype {} is not a float type", dtype_name(wt)));
  const Tensor ids = ids_in.to(DType::kI64).contiguous();
  // F64 tables (rare) are converted whole; the others are read in place.
  const Tensor w = wt == DType::kF64 ? weight.to(DType::kF32).contiguous() : weight.contiguous();
  const int64_t vocab = w.dim(0), hidden = w.dim(1);
  Shape out_shape = ids.shape();
  out_shape.push_back(hidden);
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  const int64_t* ip = ids.data<int64_t>();
  float* yp = y.data<float>();
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    const int64_t id = ip[i];
    if (id < 0 || id >= vocab)
      throw Error(Status::out_of_range(
          fmt::format("embedding: id {} is outside the vocabulary of {}", id, vocab)));
    float* dst = yp + i * hidden;
    if (w.dtype() == DType::kF32)
      std::memcpy(dst, w.data<float>() + id * hidden, hidden * sizeof(float));
    else if (w.dtype() == DType::kF16)
      f16_row(w.data<uint16_t>() + id * hidden, dst, hidden);
    else
      bf16_row(w.data<uint16_t>() + id * hidden, dst, hidden);
  }
  return y;
}

}  // namespace mlhub::ops
