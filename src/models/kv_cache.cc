// KvCache (include/mlhub/models.h): per-layer token-major K and V rows of one sequence.
#include <fmt/format.h>

#include <algorithm>

#include "mlhub/models.h"

namespace mlhub::models {

KvCache::KvCache(int num_layers, int64_t kv_width) : layers_(num_layers), kv_width_(kv_width) {
  if (num_layers < 0 || kv_width <= 0)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("KvCache: bad shape ({} layers, width {})", num_layers, kv_width));
}

size_t KvCache::bytes() const {
  size_t n = 0;
  for (const Layer& l : layers_) n += (l.k.capacity() + l.v.capacity()) * sizeof(float);
  return n;
}

void KvCache::truncate(int64_t length) {
  if (length < 0 || length > length_)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("KvCache: cannot truncate {} tokens to {}", length_, length));
  length_ = length;
  tokens_.resize(static_cast<size_t>(length));
}

KvCache KvCache::clone() const {
  KvCache c;
  c.kv_width_ = kv_width_;
  c.length_ = length_;
  c.tokens_ = tokens_;
  c.capacity_ = length_;
  c.cross_ = cross_;
  c.layers_.resize(layers_.size());
  const size_t used = static_cast<size_t>(length_ * kv_width_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    c.layers_[i].k.assign(layers_[i].k.begin(), layers_[i].k.begin() + used);
    c.layers_[i].v.assign(layers_[i].v.begin(), layers_[i].v.begin() + used);
  }
  return c;
}

int64_t KvCache::reserve(int64_t n) {
  if (n <= 0) throw Error(StatusCode::kInvalidArgument, "KvCache: reserve of no tokens");
  const int64_t need = length_ + n;
  if (need > capacity_) {
    // Grow geometrically so that a generation of T tokens copies O(T) rows in all.
    const int64_t cap = std::max<int64_t>({need, capacity_ * 2, 64});
    for (Layer& l : layers_) {
      l.k.resize(static_cast<size_t>(cap * kv_width_));
      l.v.resize(static_cast<size_t>(cap * kv_width_));
    }
    capacity_ = cap;
  }
  return length_;
}

void KvCache::commit(std::span<const int64_t> tokens) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (length_ + n > capacity_)
    throw Error(StatusCode::kInvalidArgument, "KvCache: commit past the reserved rows");
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  length_ += n;
}

}  // namespace mlhub::models
