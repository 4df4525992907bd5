// A fake DecoderModel for generation tests: its logits are an exact function of the last two
// tokens and the position through an integer hash, as FakeLM in
// tools/reference/generation_goldens.py (which runs transformers' generate() on it). Every value
// is a multiple of 2^-16 below 64 in magnitude, so float32 sums are exact in any order. The KV
// cache (1 layer, width 1) records the token ids (KvCache::tokens), all the model needs.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "mlhub/generation.h"
#include "mlhub/models.h"

namespace mlhub::generation::testing {

inline constexpr int64_t kVocab = 32;
inline constexpr int64_t kEos = 2;
inline constexpr int64_t kPad = 1;
inline constexpr int64_t kMaxPositions = 64;

inline float hash_value(uint64_t kind, uint64_t a, uint64_t v) {
  constexpr uint64_t kM = 0xFFFFFFFFull;
  uint64_t h = (kind * 1000003 + a * 7919 + v * 104729 + 12345) & kM;
  h = ((h ^ (h >> 15)) * 2246822519ull) & kM;
  h = ((h ^ (h >> 13)) * 3266489917ull) & kM;
  h ^= h >> 16;
  return static_cast<float>(static_cast<double>(h & 0xFFFFF) / 65536.0 - 8.0);
}

// prev = kVocab when there is no previous token.
inline void fake_logits(int64_t last, int64_t prev, int64_t pos, float* out) {
  for (int64_t v = 0; v < kVocab; ++v) {
    float x = hash_value(0, last, v) + hash_value(1, prev, v) + hash_value(2, pos, v);
    if (v == kEos) x += 0.25f * static_cast<float>(pos);
    if (v == kPad) x -= 64.0f;
    out[v] = x;
  }
}

class FakeDecoder final : public models::DecoderModel {
 public:
  Tensor forward(std::span<const models::DecoderSequence> batch,
                 const models::ForwardOptions& = {}) const override {
    ++forwards;
    int64_t rows = 0;
    for (const auto& s : batch) {
      if (s.tokens.empty() || !s.cache)
        throw Error(StatusCode::kInvalidArgument, "fake: empty sequence");
      rows += s.all_logits ? static_cast<int64_t>(s.tokens.size()) : 1;
      max_batch = std::max<int64_t>(max_batch, static_cast<int64_t>(batch.size()));
    }
    Tensor out = Tensor::empty(DType::kF32, {rows, kVocab});
    float* o = out.data<float>();
    for (const auto& s : batch) {
      models::KvCache& cache = *s.cache;
      const int64_t start = cache.length();
      const int64_t n = static_cast<int64_t>(s.tokens.size());
      if (start + n > kMaxPositions)
        throw Error(StatusCode::kInvalidArgument, "fake: past the context");
      int64_t prev = start > 0 ? cache.tokens()[start - 1] : kVocab;
      const int64_t row = cache.reserve(n);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t t = s.tokens[i];
        if (t < 0 || t >= kVocab)
          throw Error(StatusCode::kInvalidArgument, "fake: token out of range");
        cache.keys(0)[row + i] = static_cast<float>(t);
        cache.values(0)[row + i] = 0.0f;
        if (s.all_logits || i == n - 1) {
          fake_logits(t, prev, start + i, o);
          o += kVocab;
        }
        prev = t;
      }
      cache.commit(s.tokens);
    }
    return out;
  }
  models::KvCache new_cache() const override { return models::KvCache(1, 1); }
  int64_t vocab_size() const override { return kVocab; }
  int64_t max_positions() const override { return kMaxPositions; }

  mutable std::atomic<int> forwards{0};
  mutable std::atomic<int64_t> max_batch{0};
};

inline nlohmann::json load_golden(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::path(MLHUB_SOURCE_DIR) / "tests/golden/generation" / name;
  std::ifstream in(p);
  if (!in) throw std::runtime_error("missing golden " + p.string());
  return nlohmann::json::parse(in)["data"];
}

inline float golden_float(const nlohmann::json& v) {
  if (v.is_string()) {
    return v.get<std::string>() == "-inf" ? -std::numeric_limits<float>::infinity()
                                          : std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(v.get<double>());
}

}  // namespace mlhub::generation::testing
