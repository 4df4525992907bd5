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
  std::vector<std::pair<std::string_view, uint32_t>> items;
  items.reserve(j.raw().size());
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
    items.emplace_back(token, static_cast<uint32_t>(id));
  }
  Vocab v;
  v.insert_all(items);
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

void Vocab::insert_all(const std::vector<std::pair<std::string_view, uint32_t>>& items) {
  reserve(size_ + items.size());
  size_t total = arena_.size();
  for (const auto& item : items) total += item.first.size();
  arena_.reserve(total);
  // Hash a few items ahead and prefetch their slots: the table is larger than the caches.
  constexpr size_t kAhead = 16;
  uint64_t hashes[kAhead];
  for (size_t i = 0; i < items.size() + kAhead; ++i) {
    if (i >= kAhead) {  // insert item i - kAhead, then reuse its hash cell for item i
      const size_t k = i - kAhead;
      insert_hashed(items[k].first, hashes[k % kAhead], items[k].second);
    }
    if (i < items.size()) {
      hashes[i % kAhead] = hash_bytes(items[i].first);
      prefetch(hashes[i % kAhead]);
    }
  }
}

void Vocab::insert_hashed(std::string_view token, uint64_t h, uint32_t id) {
  if (2 * (size_ + 1) > slots_.size()) rehash(pow2_at_least(4 * (size_ + 1)));
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
  slots_[i] =
      Slot{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(token.size()), id, tag};
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
  ids_unique_ = true;
  if (max_id < 2 * keys.size() + 1024) {
    dense_.assign(max_id + 1, Span{});
    for (const auto& [id, span] : keys) {
      if (dense_[id].offset != kEmpty) ids_unique_ = false;
      dense_[id] = span;
    }
  } else {
    sparse_ = std::move(keys);
    std::stable_sort(sparse_.begin(), sparse_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < sparse_.size(); ++i) {
      if (sparse_[i].first == sparse_[i - 1].first) ids_unique_ = false;
    }
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
