// AVX2 dequantization of ggml's block formats: the arithmetic of quant_scalar.cc (one rounded
// multiply, then one rounded add or subtract where the format has a min), eight values at a time,
// so the bits equal gguf-py's. Used by ops::dequantize, embedding lookups and the generic
// (dequantize-then-GEMM) linear path.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/quant.h"
#include "mlhub/core.h"

namespace mlhub::kernels {

namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 8 bytes -> 8 int32 (unsigned / signed).
inline __m256i u8x8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline __m256i i8x8(const int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// The 32 4-bit values of a 16-byte nibble array, value order: bytes 0..15 low nibbles, 16..31
// high nibbles.
inline void unpack_nibbles(const uint8_t* qs, uint8_t out[32]) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(0x0F);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_and_si128(q, m));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_and_si128(_mm_srli_epi16(q, 4), m));
}

// y[0..8) = d * float(q) (+ m when with_min) for 8 int32 q.
template <bool kWithMin>
inline void store_dq(float* y, __m256i q, __m256 d, __m256 m) {
  __m256 v = _mm256_mul_ps(d, _mm256_cvtepi32_ps(q));
  if constexpr (kWithMin) v = _mm256_add_ps(v, m);
  _mm256_storeu_ps(y, v);
}
// y[0..8) = dl * float(q) - ml.
inline void store_dq_sub(float* y, __m256i q, __m256 dl, __m256 ml) {
  _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(dl, _mm256_cvtepi32_ps(q)), ml));
}

template <bool kWithMin, class Block>
void deq_q4(const Block* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    alignas(32) uint8_t q[32];
    unpack_nibbles(b[i].qs, q);
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    __m256 m = _mm256_setzero_ps();
    __m256i off = _mm256_set1_epi32(8);
    if constexpr (kWithMin) {
      m = _mm256_set1_ps(h2f(reinterpret_cast<const BlockQ4_1*>(b + i)->m));
      off = _mm256_setzero_si256();
    }
    for (int c = 0; c < 4; ++c)
      store_dq<kWithMin>(y + 8 * c, _mm256_sub_epi32(u8x8(q + 8 * c), off), d, m);
  }
}

// 8 int32 holding bits [shift, shift + 8) of qh, each 0 or 16.
inline __m256i high_bits(uint32_t qh, int shift) {
  const __m256i sh = _mm256_add_epi32(_mm256_set1_epi32(shift), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i bits = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(qh)), sh),
                                        _mm256_set1_epi32(1));
  return _mm256_slli_epi32(bits, 4);
}

template <bool kWithMin, class Block>
void deq_q5(const Block* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    alignas(32) uint8_t q[32];
    unpack_nibbles(b[i].qs, q);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    __m256 m = _mm256_setzero_ps();
    __m256i off = _mm256_set1_epi32(16);
    if constexpr (kWithMin) {
      m = _mm256_set1_ps(h2f(reinterpret_cast<const BlockQ5_1*>(b + i)->m));
      off = _mm256_setzero_si256();
    }
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_or_si256(u8x8(q + 8 * c), high_bits(qh, 8 * c));
      store_dq<kWithMin>(y + 8 * c, _mm256_sub_epi32(v, off), d, m);
    }
  }
}

void deq_q8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    for (int c = 0; c < 4; ++c)
      _mm256_storeu_ps(y + 8 * c, _mm256_mul_ps(_mm256_cvtepi32_ps(i8x8(b[i].qs + 8 * c)), d));
  }
}

void deq_q2_k(const BlockQ2_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int g = 0; g < 16; ++g) {  // 16 values: byte (g / 8) * 32 + (g % 2) * 16 + l
      const uint8_t s = b[i].scales[g];
      const __m256 dl = _mm256_set1_ps(d * static_cast<float>(s & 0x0F));
      const __m256 ml = _mm256_set1_ps(dmin * static_cast<float>(s >> 4));
      const uint8_t* q = b[i].qs + (g / 8) * 32 + (g % 2) * 16;
      const int shift = 2 * ((g / 2) % 4);
      for (int c = 0; c < 2; ++c) {
        const __m256i v = _mm256_and_si256(_mm256_srli_epi32(u8x8(q + 8 * c), shift),
                                           _mm256_set1_epi32(3));
        store_dq_sub(y + 16 * g + 8 * c, v, dl, ml);
      }
    }
  }
}

int q3k_scale(const uint8_t* s, int g) {
  const int lo = (s[g % 8] >> (4 * (g / 8))) & 0x0F;
  const int hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

void deq_q3_k(const BlockQ3_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d);
    for (int g = 0; g < 16; ++g) {
      const __m256 dl = _mm256_set1_ps(d * static_cast<float>(q3k_scale(b[i].scales, g)));
      const int l0 = (g % 2) * 16, shift = 2 * ((g / 2) % 4), hshift = g / 2;
      const uint8_t* q = b[i].qs + (g / 8) * 32 + l0;
      for (int c = 0; c < 2; ++c) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi32(u8x8(q + 8 * c), shift),
                                            _mm256_set1_epi32(3));
        const __m256i hb = _mm256_and_si256(
            _mm256_srli_epi32(u8x8(b[i].hmask + l0 + 8 * c), hshift), _mm256_set1_epi32(1));
        // q = lo - 4 when the high bit is clear.
        const __m256i v = _mm256_sub_epi32(lo, _mm256_slli_epi32(_mm256_xor_si256(hb, _mm256_set1_epi32(1)), 2));
        store_dq<false>(y + 16 * g + 8 * c, v, dl, dl);
      }
    }
  }
}

template <bool kQ5>
void deq_q45_k(const uint8_t* base, size_t stride, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const uint8_t* blk = base + i * stride;
    uint16_t dh, mh;
    std::memcpy(&dh, blk, 2);
    std::memcpy(&mh, blk + 2, 2);
    const float d = h2f(dh), dmin = h2f(mh);
    const uint8_t* scales = blk + 4;
    const uint8_t* qh = blk + 16;  // Q5_K only
    const uint8_t* qs = blk + (kQ5 ? 48 : 16);
    for (int j = 0; j < 8; ++j) {
      int sc, mn;
      k_scale_min(scales, j, &sc, &mn);
      const __m256 dl = _mm256_set1_ps(d * static_cast<float>(sc));
      const __m256 ml = _mm256_set1_ps(dmin * static_cast<float>(mn));
      const uint8_t* q = qs + (j / 2) * 32;
      for (int c = 0; c < 4; ++c) {
        __m256i v = _mm256_and_si256(_mm256_srli_epi32(u8x8(q + 8 * c), 4 * (j % 2)),
                                     _mm256_set1_epi32(0x0F));
        if constexpr (kQ5) {
          const __m256i h = _mm256_and_si256(_mm256_srli_epi32(u8x8(qh + 8 * c), j),
                                             _mm256_set1_epi32(1));
          v = _mm256_or_si256(v, _mm256_slli_epi32(h, 4));
        }
        store_dq_sub(y + 32 * j + 8 * c, v, dl, ml);
      }
    }
  }
}

void deq_q6_k(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d);
    for (int g = 0; g < 16; ++g) {  // values 16g .. 16g + 15 = 128 h + r
      const __m256 dl = _mm256_set1_ps(d * static_cast<float>(b[i].scales[g]));
      const int h = g / 8, r0 = (g % 8) * 16;
      for (int c = 0; c < 2; ++c) {
        const int r = r0 + 8 * c;
        const __m256i lo = _mm256_and_si256(
            _mm256_srli_epi32(u8x8(b[i].ql + 64 * h + r % 64), 4 * (r / 64)), _mm256_set1_epi32(0x0F));
        const __m256i hi = _mm256_and_si256(
            _mm256_srli_epi32(u8x8(b[i].qh + 32 * h + r % 32), 2 * (r / 32)), _mm256_set1_epi32(3));
        const __m256i v = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)),
                                           _mm256_set1_epi32(32));
        store_dq<false>(y + 16 * g + 8 * c, v, dl, dl);
      }
    }
  }
}

}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / dtype_block_elems(type);
  const auto* p = static_cast<const uint8_t*>(src);
  switch (type) {
    case DType::kQ4_0: return deq_q4<false>(static_cast<const BlockQ4_0*>(src), dst, nb);
    case DType::kQ4_1: return deq_q4<true>(static_cast<const BlockQ4_1*>(src), dst, nb);
    case DType::kQ5_0: return deq_q5<false>(static_cast<const BlockQ5_0*>(src), dst, nb);
    case DType::kQ5_1: return deq_q5<true>(static_cast<const BlockQ5_1*>(src), dst, nb);
    case DType::kQ8_0: return deq_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
    case DType::kQ2_K: return deq_q2_k(static_cast<const BlockQ2_K*>(src), dst, nb);
    case DType::kQ3_K: return deq_q3_k(static_cast<const BlockQ3_K*>(src), dst, nb);
    case DType::kQ4_K: return deq_q45_k<false>(p, sizeof(BlockQ4_K), dst, nb);
    case DType::kQ5_K: return deq_q45_k<true>(p, sizeof(BlockQ5_K), dst, nb);
    case DType::kQ6_K: return deq_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb);
    default: throw Error(Status::invalid_argument("dequantize_row: not a quantized dtype"));
  }
}

}  // namespace mlhub::kernels
