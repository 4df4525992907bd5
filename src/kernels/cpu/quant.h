// ggml's block-quantized weight formats and mlhub's CPU kernels over them (private to ops).
//
// Layouts are ggml's (ggml-common.h), byte for byte, so GGUF tensors are used in place. "f16" fields
// are IEEE half bits. Dequantization formulas are those of gguf-py 0.17.1 gguf/quants.py, which
// transformers uses for gguf_file= loading; our dequantization equals it bit for bit (it rounds
// each product separately: no FMA contraction, see dequantize_row).
//
// Quantized dot products (linear with a quantized weight) follow llama.cpp's scheme: each row of
// activations is quantized once to 8 bits (QuantizedActs), then every weight block is multiplied
// with integer arithmetic. The exact arithmetic of one output element is defined in
// docs/kernels.md ("Quantized weights") and mirrored by ops::ref::linear_quantized; it depends
// only on the row of x, the row of w and K, never on tiling, batch size or thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mlhub/tensor.h"

namespace mlhub::kernels {

constexpr int kQK = 32;   // values per block of the 32-value formats
constexpr int kQKK = 256;  // values per K-quant super-block

struct BlockQ4_0 {
  uint16_t d;             // scale (f16)
  uint8_t qs[kQK / 2];    // v = d * (q - 8); value i in the low nibble of qs[i], i + 16 high
};
struct BlockQ4_1 {
  uint16_t d, m;          // scale, min (f16)
  uint8_t qs[kQK / 2];    // v = d * q + m; nibble order as Q4_0
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];          // bit i (little-endian u32) = 5th bit of value i
  uint8_t qs[kQK / 2];    // v = d * (q - 16)
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];    // v = d * q + m
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];         // v = d * q
};
struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  // per 16 values: low nibble scale, high nibble min
  uint8_t qs[kQKK / 4];       // 2-bit quants
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];  // high bit (set = no -4 offset)
  uint8_t qs[kQKK / 4];     // low 2 bits
  uint8_t scales[12];       // 16 6-bit scales, offset by 32
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];       // 8 6-bit scales and 8 6-bit mins (get_scale_min layout)
  uint8_t qs[kQKK / 2];     // v = d * sc * q - dmin * m
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

// Decodes the 6-bit scale j (0..7) and min j of a Q4_K / Q5_K scales[12] array.
inline void k_scale_min(const uint8_t* s, int j, int* sc, int* mn) {
  if (j < 4) {
    *sc = s[j] & 63;
    *mn = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// ---- Dequantization (quant_dequant.cc). n values (a multiple of the block size) of `type` at
// src -> dst. Equals gguf-py's dequantize bit for bit. AVX2 for every type.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);
// The scalar version (also used by ops::ref): the same bits.
void dequantize_row_scalar(DType type, const void* src, float* dst, int64_t n);

// ---- Activations quantized for the integer dot products (quant_acts.cc).
// 32-value blocks (for Q4_0, Q4_1, Q8_0): q = round-half-away(x / d), d = max|x| / 127 (q in
// [-127, 127]); ls[l] = d * (q[4l] + ... + q[4l+3]) (lane sums, for the formats with a min).
struct BlockQ8A {
  int8_t qs[kQK];
  float ls[8];
  float d;
  float pad;
};
// 256-value blocks (K-quants): the same rounding; bsums[g] = sum of q[16g .. 16g+15].
struct BlockQ8K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};
// A block whose max|x| is below this (so tiny that 127 / max|x| could overflow) is all zeros.
constexpr float kQ8MinAmax = 1e-30f;
void quantize_acts_q8a(const float* x, BlockQ8A* y, int64_t n);
void quantize_acts_q8k(const float* x, BlockQ8K* y, int64_t n);
// The same, scalar (ref): identical outputs.
void quantize_acts_q8a_scalar(const float* x, BlockQ8A* y, int64_t n);
void quantize_acts_q8k_scalar(const float* x, BlockQ8K* y, int64_t n);

// Which integer kernel (if any) a weight type uses, and the activation format it wants.
enum class QuantPath : uint8_t { kGeneric, kQ8A, kQ8K };
QuantPath quant_path(DType type);
// Bytes of one quantized activation row of k values for `path`.
size_t quant_acts_row_bytes(QuantPath path, int64_t k);
void quantize_acts_row(QuantPath path, const float* x, void* y, int64_t k);

// y[r * ldy + c] = dot(w row c, x row r) for r < m, c < n (no bias): w rows of `type` at
// w + c * w_row_bytes, quantized activation rows at xq + r * quant_acts_row_bytes(path, k).
// The result of an element does not depend on m, n or on where the call starts (tiling).
// Only for quant_path(type) != kGeneric.
void quant_gemm(DType type, int64_t m, int64_t n, int64_t k, const void* w, size_t w_row_bytes,
                const void* xq, float* y, int64_t ldy);

}  // namespace mlhub::kernels
