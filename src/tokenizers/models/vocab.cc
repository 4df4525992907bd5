#include "tokenizers/models/vocab.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "mlhub/core.h"

namespace mlhub::tok {

namespace {

size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

}  // namespace

Vocab Vocab::from_json_object(const JsonRef& j) {
  if (!j.is_object()) {
    j.fail("expected an object {token: id}, got " + std::string(json_type_name(j.raw())));
  }
  Vocab v;
  v.reserve(j.raw().size());
  for (const auto& [token, value] : j.raw().items()) {
    uint64_t id = 0;
    if (value.is_number_unsigned()) {
      id = value.get<uint64_t>();
    } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
      id = static_cast<uint64_t>(value.get<int64_t>());
    } else {
      JsonRef(value, j.child_path(token)).u32();  // throws with the path and the reason
    }
    if (id > std::numeric_limits<uint32_t>::max()) JsonRef(value, j.child_path(token)).u32();
    v.insert(token, static_cast<uint32_t>(id));
  }
  v.finalize();
  return v;
}

void Vocab::reserve(size_t n) {
  if (slots_.size() < 2 * n) rehash(pow2_at_least(2 * n));
}

void Vocab::rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.offset == kEmpty) continue;
    size_t i = hash_bytes(std::string_view(arena_.data() + s.offset, s.len)) & mask_;
    while (slots_[i].offset != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void Vocab::insert(std::string_view token, uint32_t id) {
  if (2 * (size_ + 1) > slots_.size()) rehash(pow2_at_least(4 * (size_ + 1)));
  const uint64_t h = hash_bytes(token);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  size_t i = h & mask_;
  for (; slots_[i].offset != kEmpty; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.tag == tag && s.len == token.size() &&
        std::memcmp(arena_.data() + s.offset, token.data(), token.size()) == 0) {
      s.id = id;
      return;
    }
  }
  if (arena_.size() + token.size() >= kEmpty) {
    throw Error(StatusCode::kInvalidArgument, "vocabulary larger than 4 GiB");
  }
  slots_[i] = Slot{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(token.size()), id, tag};
  arena_.append(token);
  ++size_;
  max_len_ = std::max(max_len_, token.size());
}

void Vocab::finalize() {
  // Keys in insertion order (= arena order), so that among tokens sharing an id the last
  // inserted one wins.
  std::vector<std::pair<uint32_t, Span>> keys;
  keys.reserve(size_);
  uint64_t max_id = 0;
  for (const Slot& s : slots_) {
    if (s.offset == kEmpty) continue;
    keys.emplace_back(s.id, Span{s.offset, s.len});
    max_id = std::max<uint64_t>(max_id, s.id);
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.second.offset < b.second.offset; });
  dense_.clear();
  sparse_.clear();
  if (keys.empty()) return;
  if (max_id < 2 * keys.size() + 1024) {
    dense_.assign(max_id + 1, Span{});
    for (const auto& [id, span] : keys) dense_[id] = span;
  } else {
    sparse_ = std::move(keys);
    std::stable_sort(sparse_.begin(), sparse_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
}

std::optional<std::string_view> Vocab::sparse_token(uint32_t id) const {
  auto it = std::upper_bound(sparse_.begin(), sparse_.end(), id,
                             [](uint32_t v, const auto& p) { return v < p.first; });
  if (it == sparse_.begin() || std::prev(it)->first != id) return std::nullopt;
  const Span s = std::prev(it)->second;  // the last inserted of equal ids
  return std::string_view(arena_.data() + s.offset, s.len);
}

void U64Map::reserve(size_t n) {
  if (slots_.size() < 2 * n) rehash(pow2_at_least(2 * n));
}

void U64Map::rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t j = index(s.key);
    while (slots_[j].key != kEmpty) j = (j + 1) & mask_;
    slots_[j] = s;
  }
}

void U64Map::insert_or_assign(uint64_t key, uint64_t value) {
  if (key == kEmpty) {
    has_max_key_ = true;
    max_key_value_ = value;
    return;
  }
  if (2 * (size_ + 1) > slots_.size()) rehash(pow2_at_least(4 * (size_ + 1)));
  size_t i = index(key);
  for (; slots_[i].key != kEmpty; i = (i + 1) & mask_) {
    if (slots_[i].key == key) {
      slots_[i].value = value;
      return;
    }
  }
  slots_[i] = Slot{key, value};
  ++size_;
}

}  // namespace mlhub::tok
