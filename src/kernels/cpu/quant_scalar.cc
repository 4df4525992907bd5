// Scalar dequantization of ggml's block formats (the formulas of gguf-py 0.17.1 gguf/quants.py,
// written out per value) and the scalar activation quantizers. These define the bits the AVX2
// versions must reproduce. The project compiles with -std=c++20 (not gnu++20), so GCC does not
// contract a * b + c into an FMA: each product is rounded, as numpy rounds it.
#include <cmath>
#include <cstring>

#include "kernels/cpu/quant.h"
#include "mlhub/core.h"

namespace mlhub::kernels {

namespace {

inline float h2f(uint16_t h) { return f16_to_f32(h); }

void deq_q4_0(const BlockQ4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>((b[i].qs[j] & 0x0F) - 8);
      y[j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void deq_q4_1(const BlockQ4_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(b[i].qs[j] & 0x0F) + m;
      y[j + 16] = d * static_cast<float>(b[i].qs[j] >> 4) + m;
    }
  }
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void deq_q5_0(const BlockQ5_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    const uint32_t qh = load_u32(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * static_cast<float>(lo - 16);
      y[j + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

void deq_q5_1(const BlockQ5_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    const uint32_t qh = load_u32(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * static_cast<float>(lo) + m;
      y[j + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

void deq_q8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

void deq_q2_k(const BlockQ2_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int e = 0; e < kQKK; ++e) {
      // value e: byte (e / 128) * 32 + e % 32, bits 2 * ((e / 32) % 4); scale e / 16.
      const int q = (b[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
      const uint8_t s = b[i].scales[e / 16];
      const float dl = d * static_cast<float>(s & 0x0F);
      const float ml = dmin * static_cast<float>(s >> 4);
      y[e] = dl * static_cast<float>(q) - ml;
    }
  }
}

// Scale g (0..15) of a Q3_K block: 4 low bits from scales[g % 8] (nibble g / 8), 2 high bits from
// scales[8 + g % 4] (bits 2 * (g / 4)), minus 32.
int q3k_scale(const uint8_t* s, int g) {
  const int lo = (s[g % 8] >> (4 * (g / 8))) & 0x0F;
  const int hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

void deq_q3_k(const BlockQ3_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d);
    for (int e = 0; e < kQKK; ++e) {
      const int lo = (b[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
      const int hbit = (b[i].hmask[e % 32] >> (e / 32)) & 1;
      const float dl = d * static_cast<float>(q3k_scale(b[i].scales, e / 16));
      y[e] = dl * static_cast<float>(lo - (hbit ? 0 : 4));
    }
  }
}

void deq_q4_k(const BlockQ4_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int j = 0; j < 8; ++j) {  // sub-block j: values 32j .. 32j + 31
      int sc, mn;
      k_scale_min(b[i].scales, j, &sc, &mn);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(mn);
      const uint8_t* q = b[i].qs + (j / 2) * 32;
      for (int l = 0; l < 32; ++l)
        y[32 * j + l] = dl * static_cast<float>((q[l] >> (4 * (j % 2))) & 0x0F) - ml;
    }
  }
}

void deq_q5_k(const BlockQ5_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int j = 0; j < 8; ++j) {
      int sc, mn;
      k_scale_min(b[i].scales, j, &sc, &mn);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(mn);
      const uint8_t* q = b[i].qs + (j / 2) * 32;
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> (4 * (j % 2))) & 0x0F) | (((b[i].qh[l] >> j) & 1) << 4);
        y[32 * j + l] = dl * static_cast<float>(v) - ml;
      }
    }
  }
}

void deq_q6_k(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = h2f(b[i].d);
    for (int e = 0; e < kQKK; ++e) {
      // value e = 128 h + r: low 4 bits from ql[64 h + r % 64] (nibble r / 64), high 2 bits
      // from qh[32 h + r % 32] (bits 2 * (r / 32)).
      const int h = e / 128, r = e % 128;
      const int lo = (b[i].ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0F;
      const int hi = (b[i].qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
      const float dl = d * static_cast<float>(b[i].scales[e / 16]);
      y[e] = dl * static_cast<float>((lo | (hi << 4)) - 32);
    }
  }
}

}  // namespace

void dequantize_row_scalar(DType type, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / dtype_block_elems(type);
  switch (type) {
    case DType::kQ4_0: return deq_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb);
    case DType::kQ4_1: return deq_q4_1(static_cast<const BlockQ4_1*>(src), dst, nb);
    case DType::kQ5_0: return deq_q5_0(static_cast<const BlockQ5_0*>(src), dst, nb);
    case DType::kQ5_1: return deq_q5_1(static_cast<const BlockQ5_1*>(src), dst, nb);
    case DType::kQ8_0: return deq_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
    case DType::kQ2_K: return deq_q2_k(static_cast<const BlockQ2_K*>(src), dst, nb);
    case DType::kQ3_K: return deq_q3_k(static_cast<const BlockQ3_K*>(src), dst, nb);
    case DType::kQ4_K: return deq_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb);
    case DType::kQ5_K: return deq_q5_k(static_cast<const BlockQ5_K*>(src), dst, nb);
    case DType::kQ6_K: return deq_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb);
    default: throw Error(Status::invalid_argument("dequantize_row_scalar: not a quantized dtype"));
  }
}

// Round half to even (the AVX2 quantizer's _MM_FROUND_TO_NEAREST_INT), clamped to [-127, 127].
static inline int8_t q8_round(float v) {
  const float r = std::nearbyint(v);
  return static_cast<int8_t>(r > 127.f ? 127.f : (r < -127.f ? -127.f : r));
}

// d = max|x| / 127 and the multiplier 127 / max|x| (0 for an all-zero block).
static inline void q8_scale(const float* x, int n, float* d, float* id) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  if (amax < kQ8MinAmax) amax = 0.0f;
  *d = amax / 127.0f;
  *id = amax > 0.0f ? 127.0f / amax : 0.0f;
}

void quantize_acts_q8a_scalar(const float* x, BlockQ8A* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float d, id;
    q8_scale(x, kQK, &d, &id);
    y[i].d = d;
    y[i].pad = 0.0f;
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = q8_round(x[j] * id);
    for (int l = 0; l < 8; ++l) {
      const int s = y[i].qs[4 * l] + y[i].qs[4 * l + 1] + y[i].qs[4 * l + 2] + y[i].qs[4 * l + 3];
      y[i].ls[l] = d * static_cast<float>(s);
    }
  }
}

void quantize_acts_q8k_scalar(const float* x, BlockQ8K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    float d, id;
    q8_scale(x, kQKK, &d, &id);
    y[i].d = d;
    for (int j = 0; j < kQKK; ++j) y[i].qs[j] = q8_round(x[j] * id);
    for (int g = 0; g < kQKK / 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += y[i].qs[16 * g + j];
      y[i].bsums[g] = static_cast<int16_t>(s);
    }
  }
}

}  // namespace mlhub::kernels
