// Helpers of the quantized-weight tests: random ggml blocks with finite scales.
#pragma once

#include <random>
#include <vector>

#include "mlhub/tensor.h"

namespace mlhub::ops::testing {

// Byte offsets of the f16 scale / min fields inside a block of `type` (ggml-common.h).
inline std::vector<size_t> f16_fields(DType type) {
  switch (type) {
    case DType::kQ4_1: case DType::kQ5_1: case DType::kQ4_K: case DType::kQ5_K: return {0, 2};
    case DType::kQ2_K: return {80, 82};
    case DType::kQ3_K: return {108};
    case DType::kQ6_K: return {208};
    default: return {0};
  }
}

// A [rows, cols] tensor of `type` from random bytes, the f16 fields set to N(0, scale) values
// (so the dequantized weights are O(scale * 15) for 4-bit formats).
inline Tensor random_quant(DType type, int64_t rows, int64_t cols, uint32_t seed,
                           float scale = 0.01f) {
  std::mt19937 rng(seed);
  const size_t bb = dtype_block_bytes(type);
  const size_t nblocks = static_cast<size_t>(rows * cols / dtype_block_elems(type));
  std::vector<uint8_t> bytes(nblocks * bb);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  std::normal_distribution<float> dist(0.0f, scale);
  for (size_t i = 0; i < nblocks; ++i)
    for (size_t off : f16_fields(type)) {
      const uint16_t h = f32_to_f16(dist(rng));
      bytes[i * bb + off] = static_cast<uint8_t>(h & 0xFF);
      bytes[i * bb + off + 1] = static_cast<uint8_t>(h >> 8);
    }
  return Tensor::from_bytes(type, {rows, cols}, bytes.data());
}

constexpr DType kAllQuantTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                    DType::kQ8_0, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K,
                                    DType::kQ5_K, DType::kQ6_K};

}  // namespace mlhub::ops::testing
