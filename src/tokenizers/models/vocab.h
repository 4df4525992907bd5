// Flat lookup tables shared by the four models: a token string <-> id vocabulary and a
// uint64-keyed open-addressing map (BPE merge pairs, trie transitions). Both are built once at
// load time and are read-only afterwards, so concurrent lookups are safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizers/json.h"

namespace mlhub::tok {

// Marks an absent entry in internal tables (never compared with a vocabulary id).
inline constexpr uint32_t kNoId = UINT32_MAX;

// A fast, non-cryptographic hash of a byte string (wyhash-style multiply-fold).
inline uint64_t hash_bytes(std::string_view s) {
  auto fold = [](uint64_t a, uint64_t b) {
    __uint128_t r = static_cast<__uint128_t>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  };
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x243F6A8885A308D3ull ^ (n * 0x9E3779B97F4A7C15ull);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = fold(h ^ v, 0xA0761D6478BD642Full);
    p += 8;
    n -= 8;
  }
  uint64_t v = 0;
  if (n > 0) std::memcpy(&v, p, n);
  return fold(h ^ v ^ 0xE7037ED1A0B428DBull, 0x8EBC6AF09C88C6E3ull);
}

// Token string -> id, and id -> token string. Keys live in one arena (no per-token allocation);
// each hash slot holds the key's arena span, its id and a hash tag, so a lookup touches one
// slot and the key bytes. Inserting an existing key replaces its id (later wins, as a Rust
// HashMap insert does). Ids may be sparse or huge (up to 2^32-1); id_to_token handles holes.
class Vocab {
 public:
  Vocab() = default;

  // Reads a JSON object {token: id}. Ids must fit in 32 bits; errors name the JSON path.
  static Vocab from_json_object(const JsonRef& j);

  // Prepares for `n` keys in total.
  void reserve(size_t n);
  // Adds (token, id); when `token` is already present its id is replaced.
  void insert(std::string_view token, uint32_t id) { insert_hashed(token, hash_bytes(token), id); }
  // insert() of many pairs in order, overlapping the memory latency of consecutive inserts.
  void insert_all(const std::vector<std::pair<std::string_view, uint32_t>>& items);
  // Builds the id -> token index; call once after the last insert.
  void finalize();

  // Looks `token` up; on a hit stores its id in *id and returns true.
  bool find(std::string_view token, uint32_t* id) const {
    return find_hashed(token, hash_bytes(token), id);
  }
  bool find_hashed(std::string_view token, uint64_t h, uint32_t* id) const {
    if (slots_.empty()) return false;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.offset == kEmpty) return false;
      if (s.tag == tag && s.len == token.size() &&
          std::memcmp(arena_.data() + s.offset, token.data(), token.size()) == 0) {
        *id = s.id;
        return true;
      }
    }
  }
  // Hints the CPU to load the slot a lookup of hash `h` starts at.
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  std::optional<uint32_t> get(std::string_view token) const {
    uint32_t id;
    if (find(token, &id)) return id;
    return std::nullopt;
  }
  // The token of `id` (the last inserted one when several tokens share the id), or nullopt.
  std::optional<std::string_view> token(uint32_t id) const {
    if (id < dense_.size()) {
      const Span s = dense_[id];
      if (s.offset == kEmpty) return std::nullopt;
      return std::string_view(arena_.data() + s.offset, s.len);
    }
    return sparse_token(id);
  }

  // Number of distinct tokens (Rust's vocab.len()).
  size_t size() const { return size_; }
  // Largest token length in bytes (0 when empty).
  size_t max_token_len() const { return max_len_; }
  // True when no two tokens share an id (so token(find(t)) == t); valid after finalize().
  bool ids_unique() const { return ids_unique_; }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint32_t offset = kEmpty;  // of the key in arena_; kEmpty marks a free slot
    uint32_t len = 0;
    uint32_t id = 0;
    uint32_t tag = 0;  // high half of the key's hash
  };
  struct Span {
    uint32_t offset = kEmpty;
    uint32_t len = 0;
  };
  void rehash(size_t capacity);
  void insert_hashed(std::string_view token, uint64_t h, uint32_t id);
  std::optional<std::string_view> sparse_token(uint32_t id) const;

  std::string arena_;  // keys, in insertion order
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t max_len_ = 0;
  bool ids_unique_ = true;
  // id -> key: dense when ids are compact, else (id, span) pairs sorted by id.
  std::vector<Span> dense_;
  std::vector<std::pair<uint32_t, Span>> sparse_;
};

// uint64 key -> uint64 value, open addressing with linear probing; keys and values are stored
// side by side so a lookup touches one cache line. Any key is allowed (the empty-slot marker
// UINT64_MAX is kept aside).
class U64Map {
 public:
  void reserve(size_t n);
  // Inserts or overwrites.
  void insert_or_assign(uint64_t key, uint64_t value);
  // Hints the CPU to load the slot where a lookup of `key` starts.
  void prefetch(uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[index(key)]);
  }
  // Pointer to the value of `key`, or nullptr.
  const uint64_t* find(uint64_t key) const {
    if (key == kEmpty) return has_max_key_ ? &max_key_value_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (size_t i = index(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_ + (has_max_key_ ? 1 : 0); }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  struct Slot {
    uint64_t key = kEmpty;
    uint64_t value = 0;
  };
  size_t index(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 63;
  size_t size_ = 0;
  bool has_max_key_ = false;
  uint64_t max_key_value_ = 0;
};

// Formats byte `b` as SentencePiece byte-fallback tokens do: "<0x0A>".
inline std::string byte_token(uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s = "<0x00>";
  s[3] = kHex[b >> 4];
  s[4] = kHex[b & 15];
  return s;
}

}  // namespace mlhub::tok
