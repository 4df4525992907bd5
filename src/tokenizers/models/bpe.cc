// BPE model (spec section 8.1), mirroring tokenizers/src/models/bpe/{model,word,serialization}.rs
// of huggingface/tokenizers 0.22.2: merges in both JSON forms, continuing_subword_prefix,
// end_of_word_suffix, unk fusing, byte fallback, ignore_merges and dropout.
//
// Speed: the vocabulary and the merge table are flat open-addressing maps (loading prefetches
// ahead); short pieces are answered from a per-thread cache (piece_cache.h); short words merge
// with a rank scan instead of the heap; merging works on per-thread scratch buffers, so
// tokenizing a piece allocates only the returned tokens.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <random>

#include "tokenizers/models/models.h"
#include "tokenizers/models/piece_cache.h"
#include "tokenizers/models/vocab.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {

namespace {

// One symbol of the word being merged (Rust word.rs Symbol). `len` is the byte length it
// covers in the piece; 0 marks a symbol merged into its left neighbour.
struct Symbol {
  uint32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;
};

// A queued merge at symbol `pos`; the heap pops the smallest (rank, pos) first.
struct QueuedMerge {
  uint64_t key;  // rank << 32 | pos
  uint32_t new_id;
  uint32_t left, right;  // the pair's ids when queued
};

struct MergeAfter {
  bool operator()(const QueuedMerge& a, const QueuedMerge& b) const { return a.key > b.key; }
};

// Per-thread buffers reused across calls.
struct Scratch {
  std::vector<Symbol> word;
  std::vector<QueuedMerge> heap;
  std::vector<uint64_t> pair_keys;  // merge_short: rank << 32 | pos per pair, or UINT64_MAX
  std::vector<uint32_t> pair_ids;   // merge_short: the merged id of each pair
  std::vector<QueuedMerge> skipped;
  std::string text;
  // True when every symbol is plain text of the piece (no unk, no byte tokens).
  bool plain = true;
};

constexpr size_t kMaxPieceBytes = size_t{1} << 30;
// Words of at most this many symbols use merge_short (a linear scan per merge) instead of the
// heap.
constexpr size_t kShortWord = 48;
constexpr size_t kSmallChars = 0x800;  // code points with a direct id table (1-2 byte UTF-8)

struct BpeOptions {
  std::optional<float> dropout;
  std::optional<std::string> unk_token;
  std::string prefix;  // continuing_subword_prefix ("" = none)
  std::string suffix;  // end_of_word_suffix ("" = none)
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class Bpe final : public Model {
 public:
  Bpe(Vocab vocab, U64Map merges, BpeOptions opt)
      : vocab_(std::move(vocab)), merges_(std::move(merges)), opt_(std::move(opt)) {
    if (opt_.unk_token) vocab_.find(*opt_.unk_token, &unk_id_);
    has_unk_id_ = opt_.unk_token && vocab_.get(*opt_.unk_token).has_value();
    for (int b = 0; b < 256; ++b) {
      uint32_t id;
      byte_ids_[b] = vocab_.find(byte_token(static_cast<uint8_t>(b)), &id) ? int64_t{id} : -1;
    }
    // The table marks absent chars with kNoId, so it is unusable when a token has that id.
    if (vocab_.token(kNoId).has_value()) {
      small_char_ids_.clear();
    } else {
      small_char_ids_.assign(kSmallChars, kNoId);
    }
    std::string s;
    for (char32_t c = 0; c < small_char_ids_.size(); ++c) {
      s.clear();
      unicode::append_utf8(s, c);
      uint32_t id;
      if (vocab_.find(s, &id)) small_char_ids_[c] = id;
    }
    dropout_on_ = opt_.dropout && *opt_.dropout > 0.0f;
    // Without prefix/suffix a merged symbol's token is the concatenation of its chars' text,
    // i.e. the slice of the piece it covers (when ids are unique, vocab_r[id] is that token).
    slices_are_tokens_ = vocab_.ids_unique() && opt_.prefix.empty() && opt_.suffix.empty();
    // merge_short equals merge_all when token strings identify ids and grow with every merge:
    // unique ids, no prefix stripping, no empty token.
    short_merge_ok_ = vocab_.ids_unique() && opt_.prefix.empty() && !vocab_.get("").has_value();
    rng_.store(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32));
  }

  std::vector<Token> tokenize(std::string_view piece) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override {
    return vocab_.get(token);
  }
  std::optional<std::string_view> id_to_token(uint32_t id) const override {
    return vocab_.token(id);
  }
  size_t vocab_size() const override { return vocab_.size(); }

  void seed(uint64_t s) const { rng_.store(s); }

 private:
  bool merge_of(uint32_t a, uint32_t b, uint64_t* rank_and_id) const {
    const uint64_t* v = merges_.find(uint64_t{a} << 32 | b);
    if (v == nullptr) return false;
    *rank_and_id = *v;
    return true;
  }
  void build_word(std::string_view piece, Scratch& s) const;
  // Appends the token of symbol `id` covering piece[begin, end); `plain` says the token string
  // is that slice (saves a lookup in the id -> token table).
  void emit(uint32_t id, std::string_view piece, size_t begin, size_t end, bool plain,
            std::vector<Token>& out) const {
    if (plain) {
      out.push_back(Token{id, std::string(piece.substr(begin, end - begin)), {begin, end}});
      return;
    }
    std::optional<std::string_view> value = vocab_.token(id);
    out.push_back(Token{id, value ? std::string(*value) : std::string(), {begin, end}});
  }
  void merge_all(Scratch& s) const;
  void merge_short(Scratch& s) const;
  float next_random() const;

  Vocab vocab_;
  U64Map merges_;  // (id_a << 32 | id_b) -> (rank << 32 | merged id)
  BpeOptions opt_;
  uint32_t unk_id_ = kNoId;
  bool has_unk_id_ = false;
  bool dropout_on_ = false;
  std::array<int64_t, 256> byte_ids_{};  // id of "<0xHH>", or -1
  // Id of the 1-char token of each code point < 0x800, or kNoId; empty when unusable.
  std::vector<uint32_t> small_char_ids_;
  mutable std::atomic<uint64_t> rng_{0};
  PieceCache cache_;
  bool slices_are_tokens_ = false;
  bool short_merge_ok_ = false;
};

float Bpe::next_random() const {
  // splitmix64 on an atomic counter: lock-free and safe to call from several threads.
  uint64_t z = rng_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) +
               0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * 0x1.0p-24f;  // uniform in [0, 1)
}

// Rust BPE::merge_word up to (not including) merge_all: one symbol per char, with unknown
// chars turned into byte tokens, (fused) unk tokens, or dropped.
void Bpe::build_word(std::string_view piece, Scratch& s) const {
  std::vector<Symbol>& word = s.word;
  word.clear();
  s.plain = true;
  auto add = [&word](uint32_t id, uint32_t len) {
    if (word.size() >= static_cast<size_t>(INT32_MAX)) {
      throw Error(StatusCode::kInvalidArgument, "BPE: piece too long");
    }
    int32_t n = static_cast<int32_t>(word.size());
    if (n > 0) word.back().next = n;
    word.push_back(Symbol{id, n - 1, -1, len});
  };
  const bool has_prefix = !opt_.prefix.empty();
  const bool has_suffix = !opt_.suffix.empty();
  bool pending_unk = false;
  uint32_t unk_len = 0;
  const size_t n = piece.size();
  for (size_t i = 0; i < n;) {
    size_t end = std::min(n, i + unicode::utf8_seq_len(static_cast<unsigned char>(piece[i])));
    const uint32_t char_len = static_cast<uint32_t>(end - i);
    const bool decorate = (i > 0 && has_prefix) || (end == n && has_suffix);
    std::string_view sym = piece.substr(i, char_len);
    uint32_t id = kNoId;
    bool found;
    const unsigned char b0 = static_cast<unsigned char>(sym[0]);
    const bool fast = !decorate && !small_char_ids_.empty();
    if (fast && char_len == 1 && b0 < 0x80) {
      id = small_char_ids_[b0];
      found = id != kNoId;
    } else if (fast && char_len == 2 && (b0 & 0xE0) == 0xC0) {
      id = small_char_ids_[((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(sym[1]) & 0x3Fu)];
      found = id != kNoId;
    } else {
      if (decorate) {
        s.text.clear();
        if (i > 0) s.text.append(opt_.prefix);
        s.text.append(sym);
        if (end == n) s.text.append(opt_.suffix);
        sym = s.text;
      }
      found = vocab_.find(sym, &id);
    }
    i = end;
    if (found) {
      if (pending_unk) {
        add(unk_id_, unk_len);
        pending_unk = false;
      }
      add(id, char_len);
      continue;
    }
    if (opt_.byte_fallback) {
      bool all = true;
      for (char b : sym) all = all && byte_ids_[static_cast<unsigned char>(b)] >= 0;
      if (all) {
        // Quirk kept from Rust: a pending unk is not flushed first, and each byte token counts
        // one byte even when the symbol text carries a prefix or suffix.
        for (char b : sym) add(static_cast<uint32_t>(byte_ids_[static_cast<unsigned char>(b)]), 1);
        s.plain = false;
        continue;
      }
    }
    s.plain = false;  // an unk, or a dropped char shifting the offsets
    if (!opt_.unk_token) continue;  // no unk token: the char is dropped
    if (!has_unk_id_) {
      throw Error(StatusCode::kInvalidArgument,
                  "BPE: unk token \"" + *opt_.unk_token + "\" not found in the vocabulary");
    }
    if (pending_unk && opt_.fuse_unk) {
      unk_len += char_len;
    } else {
      if (pending_unk) add(unk_id_, unk_len);
      pending_unk = true;
      unk_len = char_len;
    }
  }
  if (pending_unk) add(unk_id_, unk_len);
}

// Rust Word::merge_all: a min-heap of (rank, position) merges; stale entries are detected by
// re-checking that the pair at the position still produces the queued merged id.
void Bpe::merge_all(Scratch& s) const {
  if (!dropout_on_ && short_merge_ok_ && s.word.size() <= kShortWord) {
    merge_short(s);
    return;
  }
  std::vector<Symbol>& w = s.word;
  std::vector<QueuedMerge>& heap = s.heap;
  heap.clear();
  s.skipped.clear();
  auto push = [&heap](uint64_t rank_and_id, size_t pos, uint32_t left, uint32_t right) {
    heap.push_back({(rank_and_id & 0xFFFFFFFF00000000ull) | pos,
                    static_cast<uint32_t>(rank_and_id), left, right});
  };
  uint64_t m;
  // The merge table is larger than the caches: start loading every initial pair's slot first.
  for (size_t i = 0; i + 1 < w.size(); ++i) merges_.prefetch(uint64_t{w[i].id} << 32 | w[i + 1].id);
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (merge_of(w[i].id, w[i + 1].id, &m)) push(m, i, w[i].id, w[i + 1].id);
  }
  std::make_heap(heap.begin(), heap.end(), MergeAfter{});
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), MergeAfter{});
    QueuedMerge top = heap.back();
    heap.pop_back();
    if (dropout_on_ && next_random() < *opt_.dropout) {
      s.skipped.push_back(top);
      continue;
    }
    for (const QueuedMerge& q : s.skipped) {
      heap.push_back(q);
      std::push_heap(heap.begin(), heap.end(), MergeAfter{});
    }
    s.skipped.clear();

    const size_t pos = static_cast<uint32_t>(top.key);
    if (w[pos].len == 0 || w[pos].next == -1) continue;
    const size_t next_pos = static_cast<size_t>(w[pos].next);
    const Symbol right = w[next_pos];
    // Rust re-looks the current pair up and merges when it yields the queued merged id. When
    // the pair is still the queued one the answer is known; only changed pairs need the table.
    if (w[pos].id != top.left || right.id != top.right) {
      if (!merge_of(w[pos].id, right.id, &m) || static_cast<uint32_t>(m) != top.new_id) continue;
    }

    w[pos].id = top.new_id;
    w[pos].len += right.len;
    w[pos].next = right.next;
    w[next_pos].len = 0;
    if (right.next > -1 && static_cast<size_t>(right.next) < w.size()) {
      w[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(pos);
    }
    const Symbol cur = w[pos];
    const bool has_prev = cur.prev >= 0;
    const bool has_next = cur.next >= 0 && static_cast<size_t>(cur.next) < w.size();
    const uint32_t prev_id = has_prev ? w[static_cast<size_t>(cur.prev)].id : 0;
    const uint32_t next_id = has_next ? w[static_cast<size_t>(cur.next)].id : 0;
    if (has_prev) merges_.prefetch(uint64_t{prev_id} << 32 | cur.id);
    if (has_next) merges_.prefetch(uint64_t{cur.id} << 32 | next_id);
    if (has_prev && merge_of(prev_id, cur.id, &m)) {
      push(m, static_cast<size_t>(cur.prev), prev_id, cur.id);
      std::push_heap(heap.begin(), heap.end(), MergeAfter{});
    }
    if (has_next && merge_of(cur.id, next_id, &m)) {
      push(m, pos, cur.id, next_id);
      std::push_heap(heap.begin(), heap.end(), MergeAfter{});
    }
  }
}

// merge_all for short words of well-formed models: the rank of every adjacent pair is kept in
// an array and each round merges the smallest (rank, position), found by a linear scan — the
// classic "lowest rank, leftmost first" BPE. It performs the same merges as the heap: a queued
// heap entry whose pair changed can only pass Rust's "same merged id" check when two different
// token strings share an id or a prefix is stripped, which short_merge_ok_ excludes. Tests
// compare both against a string-based reference.
void Bpe::merge_short(Scratch& s) const {
  std::vector<Symbol>& w = s.word;
  const size_t n = w.size();
  s.pair_keys.assign(n, UINT64_MAX);
  s.pair_ids.resize(n);
  uint64_t* keys = s.pair_keys.data();
  uint32_t* ids = s.pair_ids.data();
  auto set_pair = [&](size_t i) {
    uint64_t m;
    const int32_t next = w[i].next;
    if (next >= 0 && merge_of(w[i].id, w[static_cast<size_t>(next)].id, &m)) {
      keys[i] = (m & 0xFFFFFFFF00000000ull) | i;
      ids[i] = static_cast<uint32_t>(m);
    } else {
      keys[i] = UINT64_MAX;
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) merges_.prefetch(uint64_t{w[i].id} << 32 | w[i + 1].id);
  for (size_t i = 0; i + 1 < n; ++i) set_pair(i);
  while (true) {
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; ++i) best = std::min(best, keys[i]);
    if (best == UINT64_MAX) break;
    const size_t pos = static_cast<uint32_t>(best);
    const size_t right = static_cast<size_t>(w[pos].next);
    w[pos].id = ids[pos];
    w[pos].len += w[right].len;
    w[pos].next = w[right].next;
    w[right].len = 0;
    keys[right] = UINT64_MAX;
    if (w[pos].next >= 0) w[static_cast<size_t>(w[pos].next)].prev = static_cast<int32_t>(pos);
    set_pair(pos);
    if (w[pos].prev >= 0) set_pair(static_cast<size_t>(w[pos].prev));
  }
}

std::vector<Token> Bpe::tokenize(std::string_view piece) const {
  std::vector<Token> out;
  if (piece.empty()) return out;
  if (piece.size() > kMaxPieceBytes) {
    throw Error(StatusCode::kInvalidArgument, "BPE: piece longer than 1 GiB");
  }
  uint32_t id;
  if (opt_.ignore_merges && vocab_.find(piece, &id)) {
    out.push_back(Token{id, std::string(piece), {0, piece.size()}});
    return out;
  }
  // Dropout makes results random: those pieces bypass the cache, as in Rust.
  const bool cacheable = !dropout_on_ && piece.size() <= PieceCache::kMaxPieceBytes;
  uint64_t hash = 0;
  if (cacheable) {
    hash = hash_bytes(piece);
    if (const PieceCache::Entry* e = cache_.find(piece, hash)) {
      out.reserve(e->num_tokens);
      size_t pos = 0;
      for (size_t k = 0; k < e->num_tokens; ++k) {
        emit(e->ids[k], piece, pos, pos + e->lens[k], e->plain, out);
        pos += e->lens[k];
      }
      return out;
    }
  }
  thread_local Scratch scratch;
  build_word(piece, scratch);
  merge_all(scratch);
  const bool plain = scratch.plain && slices_are_tokens_;
  out.reserve(scratch.word.size());
  PieceCache::Entry entry;
  bool fits = cacheable;
  size_t pos = 0;
  for (const Symbol& sym : scratch.word) {
    if (sym.len == 0) continue;
    if (fits && entry.num_tokens < PieceCache::kMaxTokens && sym.len < 256) {
      entry.ids[entry.num_tokens] = sym.id;
      entry.lens[entry.num_tokens] = static_cast<uint8_t>(sym.len);
      ++entry.num_tokens;
    } else {
      fits = false;
    }
    emit(sym.id, piece, pos, pos + sym.len, plain, out);
    pos += sym.len;
  }
  if (fits) {
    entry.plain = plain;
    cache_.store(piece, hash, entry);
  }
  return out;
}

// ---- loading ----

struct MergeText {
  std::string_view a, b;
  size_t json_index;
};

// Reads "merges" in either form: ["a b", ...] (legacy; "#version" lines skipped) or
// [["a", "b"], ...]. The two forms cannot be mixed (serde tries each form on the whole list).
std::vector<MergeText> read_merges(const JsonRef& merges) {
  if (!merges.is_array()) {
    merges.fail("expected an array of merges, got " + std::string(json_type_name(merges.raw())));
  }
  std::vector<MergeText> out;
  out.reserve(merges.raw().size());
  const Json& arr = merges.raw();
  const bool legacy = !arr.empty() && arr[0].is_string();
  for (size_t i = 0; i < arr.size(); ++i) {
    const Json& e = arr[i];
    if (legacy) {
      if (!e.is_string()) {
        JsonRef(e, merges.child_path(i)).fail("expected a string \"a b\" like the first merge");
      }
      std::string_view line = e.get_ref<const std::string&>();
      if (line.starts_with("#version")) continue;
      size_t sp = line.find(' ');
      if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
        JsonRef(e, merges.child_path(i))
            .fail("merge \"" + std::string(line) +
                  "\" must be two tokens separated by a single space");
      }
      out.push_back({line.substr(0, sp), line.substr(sp + 1), i});
    } else {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string()) {
        JsonRef(e, merges.child_path(i)).fail("expected an array of two strings [\"a\", \"b\"]");
      }
      out.push_back({e[0].get_ref<const std::string&>(), e[1].get_ref<const std::string&>(), i});
    }
  }
  return out;
}

std::string json_quoted(std::string_view s) { return Json(std::string(s)).dump(); }

// Validates every merge against the vocabulary and builds (id_a, id_b) -> (rank, merged id).
// The tables are larger than the CPU caches, so lookups are hashed and prefetched a few merges
// ahead (this halves the load time of large vocabularies).
U64Map build_merge_map(const JsonRef& j, const std::vector<MergeText>& merges, const Vocab& vocab,
                       size_t prefix_len) {
  auto fail = [&](const MergeText& m, const std::string& message) {
    JsonRef(j.raw(), j.child_path(m.json_index)).fail(message);
  };
  // b[prefix_len..] as Rust slices it; nullopt where Rust would panic (b shorter than the
  // prefix, or the cut inside a UTF-8 sequence).
  auto b_rest = [prefix_len](std::string_view b) -> std::optional<std::string_view> {
    if (prefix_len > b.size()) return std::nullopt;
    if (prefix_len < b.size() && (static_cast<unsigned char>(b[prefix_len]) & 0xC0) == 0x80) {
      return std::nullopt;
    }
    return b.substr(prefix_len);
  };
  struct Ahead {
    uint64_t ha, hb, hm;
    std::string merged;
  };
  constexpr size_t kAhead = 8;
  std::vector<Ahead> ring(kAhead);
  std::vector<std::pair<uint64_t, uint64_t>> entries;
  entries.reserve(merges.size());
  for (size_t i = 0; i < merges.size() + kAhead; ++i) {
    if (i >= kAhead) {
      const size_t rank = i - kAhead;
      const MergeText& m = merges[rank];
      const Ahead& h = ring[rank % kAhead];
      uint32_t a, b, id;
      if (!vocab.find_hashed(m.a, h.ha, &a)) fail(m, "token " + json_quoted(m.a) + " not in vocab");
      if (!vocab.find_hashed(m.b, h.hb, &b)) fail(m, "token " + json_quoted(m.b) + " not in vocab");
      if (!b_rest(m.b)) {
        fail(m, "token " + json_quoted(m.b) +
                    " does not start with a whole continuing_subword_prefix");
      }
      if (!vocab.find_hashed(h.merged, h.hm, &id)) {
        fail(m, "token " + json_quoted(h.merged) + " not in vocab");
      }
      entries.emplace_back(uint64_t{a} << 32 | b, uint64_t{rank} << 32 | id);
    }
    if (i < merges.size()) {
      const MergeText& m = merges[i];
      Ahead& h = ring[i % kAhead];
      h.ha = hash_bytes(m.a);
      h.hb = hash_bytes(m.b);
      h.merged.assign(m.a);
      if (auto rest = b_rest(m.b)) h.merged.append(*rest);
      h.hm = hash_bytes(h.merged);
      vocab.prefetch(h.ha);
      vocab.prefetch(h.hb);
      vocab.prefetch(h.hm);
    }
  }
  U64Map map;
  map.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + kAhead < entries.size()) map.prefetch(entries[i + kAhead].first);
    map.insert_or_assign(entries[i].first, entries[i].second);  // a later rank wins
  }
  return map;
}

}  // namespace

std::unique_ptr<Model> bpe_from_json(const JsonRef& j) {
  if (auto t = j.get("type"); t && t->str_view() != "BPE") t->fail("expected \"BPE\"");
  BpeOptions opt;
  if (auto d = j.get("dropout")) {
    float p = static_cast<float>(d->number());
    if (!(p >= 0.0f && p <= 1.0f)) d->fail("dropout must be between 0 and 1, inclusive");
    opt.dropout = p;
  }
  opt.unk_token = j.opt_str("unk_token");
  opt.prefix = j.str_or("continuing_subword_prefix", "");
  opt.suffix = j.str_or("end_of_word_suffix", "");
  opt.fuse_unk = j.bool_or("fuse_unk", false);
  opt.byte_fallback = j.bool_or("byte_fallback", false);
  opt.ignore_merges = j.bool_or("ignore_merges", false);
  if (!j.has("vocab") || !j.has("merges")) j.fail("BPE needs both \"vocab\" and \"merges\"");
  Vocab vocab = Vocab::from_json_object(j.at("vocab"));
  JsonRef merges_json = j.at("merges");
  std::vector<MergeText> merges = read_merges(merges_json);
  U64Map map = build_merge_map(merges_json, merges, vocab, opt.prefix.size());
  return std::make_unique<Bpe>(std::move(vocab), std::move(map), std::move(opt));
}

bool set_bpe_dropout_seed(const Model& model, uint64_t seed) {
  const auto* bpe = dynamic_cast<const Bpe*>(&model);
  if (bpe == nullptr) return false;
  bpe->seed(seed);
  return true;
}

}  // namespace mlhub::tok
