// Our sampling RNG (xoshiro256**, seeded through splitmix64) and the token choosers. torch's
// Philox/MT streams are not reproduced: sampled tokens are reproducible per seed, not equal to
// torch's (tests check determinism and the distribution instead).
#include <cmath>
#include <limits>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  uint64_t x = seed;
  const uint64_t salt = splitmix64(x) ^ (stream * 0xD1B54A32D192ED03ull);
  x = salt;
  for (uint64_t& s : s_) s = splitmix64(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

int64_t argmax(std::span<const float> scores) {
  int64_t best = 0;
  for (size_t i = 1; i < scores.size(); ++i) {
    // NaN never wins; the first maximum wins ties (torch.argmax on CPU).
    if (scores[i] > scores[best] || std::isnan(scores[best])) best = static_cast<int64_t>(i);
  }
  return best;
}

int64_t sample_from_logits(std::span<const float> scores, Rng& rng) {
  float mx = -std::numeric_limits<float>::infinity();
  for (float v : scores) {
    if (v > mx) mx = v;
  }
  if (!(mx > -std::numeric_limits<float>::infinity()) || std::isinf(mx)) {
    throw Error(StatusCode::kInvalidArgument, "sampling: no token has a finite score");
  }
  double total = 0;
  for (float v : scores) {
    if (v > -std::numeric_limits<float>::infinity()) total += std::exp(static_cast<double>(v) - mx);
  }
  const double u = rng.uniform() * total;
  double acc = 0;
  int64_t last = -1;
  for (size_t i = 0; i < scores.size(); ++i) {
    const float v = scores[i];
    if (!(v > -std::numeric_limits<float>::infinity())) continue;
    acc += std::exp(static_cast<double>(v) - mx);
    last = static_cast<int64_t>(i);
    if (u < acc) return last;
  }
  return last;  // rounding left u at the very end
}

}  // namespace mlhub::generation
