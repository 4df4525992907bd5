// AVX2 quantization of activation rows to 8 bits (BlockQ8A for the 32-value formats, BlockQ8K for
// the K-quants): the same outputs as quantize_acts_*_scalar (max|x| reduced exactly, one rounded
// multiply by 127 / max|x|, round half to even).
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/quant.h"
#include "mlhub/core.h"

namespace mlhub::kernels {

namespace {

// max |x| over n (a multiple of 8) floats; max is exact, so any order gives the same value.
inline float amax(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// 32 floats -> 32 int8 in order: round(x * id) half to even, clamped to [-127, 127].
inline __m256i quant32(const float* x, __m256 id) {
  const __m256 lim = _mm256_set1_ps(127.0f), nlim = _mm256_set1_ps(-127.0f);
  __m256i q[4];
  for (int c = 0; c < 4; ++c) {
    __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * c), id),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_min_ps(_mm256_max_ps(v, nlim), lim);
    q[c] = _mm256_cvtps_epi32(v);
  }
  // Pack 32-bit -> 16-bit -> 8-bit; the packs interleave 128-bit lanes, undone by a permute.
  const __m256i a = _mm256_packs_epi32(q[0], q[1]), b = _mm256_packs_epi32(q[2], q[3]);
  const __m256i p = _mm256_packs_epi16(a, b);
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline void scale_of(const float* x, int n, float* d, __m256* id) {
  float a = amax(x, n);
  if (a < kQ8MinAmax) a = 0.0f;
  *d = a / 127.0f;
  *id = _mm256_set1_ps(a > 0.0f ? 127.0f / a : 0.0f);
}

}  // namespace

void quantize_acts_q8a(const float* x, BlockQ8A* y, int64_t n) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float d;
    __m256 id;
    scale_of(x, kQK, &d, &id);
    const __m256i q = quant32(x, id);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), q);
    // Lane l = q[4l] + .. + q[4l + 3] (exact in int32), times d.
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
    _mm256_storeu_ps(y[i].ls, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s)));
    y[i].d = d;
    y[i].pad = 0.0f;
  }
}

void quantize_acts_q8k(const float* x, BlockQ8K* y, int64_t n) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    float d;
    __m256 id;
    scale_of(x, kQKK, &d, &id);
    y[i].d = d;
    for (int c = 0; c < 8; ++c) {
      const __m256i q = quant32(x + 32 * c, id);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + 32 * c), q);
      // 16 pair sums -> two sums of 16 values: horizontal adds within each 128-bit half.
      const __m256i p = _mm256_maddubs_epi16(ones8, q);
      __m128i h = _mm_hadd_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
      h = _mm_hadd_epi16(h, h);
      h = _mm_hadd_epi16(h, h);  // [sum lo 16, sum hi 16, ...]
      const uint32_t two = static_cast<uint32_t>(_mm_cvtsi128_si32(h));
      std::memcpy(y[i].bsums + 2 * c, &two, 4);
    }
  }
}

QuantPath quant_path(DType type) {
  switch (type) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ8_0: return QuantPath::kQ8A;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return QuantPath::kQ8K;
    default: return QuantPath::kGeneric;
  }
}

size_t quant_acts_row_bytes(QuantPath path, int64_t k) {
  switch (path) {
    case QuantPath::kQ8A: return static_cast<size_t>(k / kQK) * sizeof(BlockQ8A);
    case QuantPath::kQ8K: return static_cast<size_t>(k / kQKK) * sizeof(BlockQ8K);
    default: return 0;
  }
}

void quantize_acts_row(QuantPath path, const float* x, void* y, int64_t k) {
  if (path == QuantPath::kQ8A) quantize_acts_q8a(x, static_cast<BlockQ8A*>(y), k);
  if (path == QuantPath::kQ8K) quantize_acts_q8k(x, static_cast<BlockQ8K*>(y), k);
}

}  // namespace mlhub::kernels
