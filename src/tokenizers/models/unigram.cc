// Unigram model (spec section 8.4), mirroring tokenizers/src/models/unigram/model.rs
// (encode_optimized, the SentencePiece Viterbi) of huggingface/tokenizers 0.22.2. Unknown
// chars are always fused; an unknown piece becomes byte tokens (byte_fallback) or the unk id
// with the covered text as its token string.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "tokenizers/models/models.h"
#include "tokenizers/models/piece_cache.h"
#include "tokenizers/models/vocab.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {

namespace {

constexpr double kUnkPenalty = 10.0;

// The f64 that serde_json (without its float_roundtrip feature, as tokenizers builds it) reads
// for a JSON number: the decimal significand as u64 (digits past 19 ignored), converted to
// f64, then multiplied or divided by 10^|exp| — not always the nearest double. Viterbi ties
// between equal-score segmentations ("---" + "-" vs "-" + "---" in T5) are decided by these
// last bits. nlohmann has parsed the nearest double; its shortest representation gives back
// the file's digits (files store shortest representations), which are then re-read the serde
// way.
double serde_json_f64(const Json& v) {
  // serde_json's POW10 table: the nearest double to each 1eN.
  static const std::array<double, 309> kPow10 = [] {
    std::array<double, 309> t{};
    for (int i = 0; i < 309; ++i) t[i] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr);
    return t;
  }();
  if (v.is_number_unsigned()) return static_cast<double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<double>(v.get<int64_t>());
  const double d = v.get<double>();
  if (d == 0.0 || !std::isfinite(d)) return d;
  char buf[64];
  const char* end = std::to_chars(buf, buf + sizeof buf, d).ptr;
  const char* p = buf;
  const bool negative = *p == '-';
  if (negative) ++p;
  uint64_t significand = 0;
  int exponent = 0;
  bool overflow = false;
  bool fraction = false;
  for (; p < end && *p != 'e'; ++p) {
    if (*p == '.') {
      fraction = true;
      continue;
    }
    const uint64_t digit = static_cast<uint64_t>(*p - '0');
    if (!overflow && significand > (UINT64_MAX - digit) / 10) overflow = true;
    if (overflow) {
      if (!fraction) ++exponent;  // ignored integer digits still scale the value
      continue;
    }
    significand = significand * 10 + digit;
    if (fraction) --exponent;
  }
  if (p < end) exponent += std::atoi(p + 1);
  double f = static_cast<double>(significand);
  while (true) {
    const int a = exponent < 0 ? -exponent : exponent;
    if (a <= 308) {
      f = exponent >= 0 ? f * kPow10[a] : f / kPow10[a];
      break;
    }
    if (f == 0.0 || exponent >= 0) break;
    f /= 1e308;
    exponent += 308;
  }
  return negative ? -f : f;
}

// A byte trie over the vocabulary for common-prefix search. Transitions live in one flat map
// keyed by (node << 8 | byte); the root's 256 transitions are a direct table.
class ByteTrie {
 public:
  ByteTrie() { root_.fill(kNoId); terminal_.push_back(kNoId); }

  void insert(std::string_view key, uint32_t value) {
    uint32_t node = 0;
    for (char ch : key) {
      uint8_t c = static_cast<uint8_t>(ch);
      uint32_t next = child(node, c);
      if (next == kNoId) {
        next = static_cast<uint32_t>(terminal_.size());
        terminal_.push_back(kNoId);
        if (node == 0) {
          root_[c] = next;
        } else {
          edges_.insert_or_assign(uint64_t{node} << 8 | c, next);
        }
      }
      node = next;
    }
    terminal_[node] = value;  // a later duplicate wins, as in Rust's token_to_ids
  }

  uint32_t child(uint32_t node, uint8_t c) const {
    if (node == 0) return root_[c];
    const uint64_t* v = edges_.find(uint64_t{node} << 8 | c);
    return v ? static_cast<uint32_t>(*v) : kNoId;
  }
  uint32_t terminal(uint32_t node) const { return terminal_[node]; }

 private:
  std::array<uint32_t, 256> root_;
  U64Map edges_;
  std::vector<uint32_t> terminal_;  // value stored at each node, kNoId if none
};

class Unigram final : public Model {
 public:
  Unigram(std::vector<std::string_view> pieces, std::vector<double> scores,
          std::optional<uint32_t> unk_id, bool byte_fallback)
      : scores_(std::move(scores)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
    size_t total = 0;
    for (auto p : pieces) total += p.size();
    arena_.reserve(total);
    spans_.reserve(pieces.size());
    ids_.reserve(pieces.size());
    for (uint32_t id = 0; id < pieces.size(); ++id) {
      spans_.emplace_back(arena_.size(), pieces[id].size());
      arena_.append(pieces[id]);
      ids_.insert(pieces[id], id);
      trie_.insert(pieces[id], id);
    }
    ids_.finalize();
    double min_score = std::numeric_limits<double>::infinity();
    for (double s : scores_) min_score = std::min(min_score, s);
    unk_score_ = min_score - kUnkPenalty;
    for (int b = 0; b < 256; ++b) {
      if (!ids_.find(byte_token(static_cast<uint8_t>(b)), &byte_ids_[b])) byte_ids_[b] = kNoId;
    }
  }

  std::vector<Token> tokenize(std::string_view piece) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override {
    return ids_.get(token);
  }
  std::optional<std::string_view> id_to_token(uint32_t id) const override {
    if (id >= spans_.size()) return std::nullopt;
    return std::string_view(arena_).substr(spans_[id].first, spans_[id].second);
  }
  size_t vocab_size() const override { return spans_.size(); }

 private:
  struct BestNode {
    double score;
    int64_t starts_at;  // -1: not reached yet
    uint32_t id;
  };
  struct Range {
    size_t start, end;
    bool unk;
  };
  void viterbi(std::string_view s, std::vector<BestNode>& best) const;
  [[noreturn]] static void missing_unk_id() {
    throw Error(StatusCode::kInvalidArgument,
                "Unigram: encountered an unknown token but unk_id is missing");
  }

  std::string arena_;
  std::vector<std::pair<size_t, size_t>> spans_;  // id -> (offset, length) in arena_
  std::vector<double> scores_;
  Vocab ids_;  // piece -> id (the last index for duplicated pieces)
  ByteTrie trie_;
  std::optional<uint32_t> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0.0;
  std::array<uint32_t, 256> byte_ids_{};
  PieceCache cache_;
};

// best[e] = the best path ending at byte e: its score, where its last piece starts, and the
// piece id. Ties keep the earlier candidate (strictly-greater replacement), as Rust does.
void Unigram::viterbi(std::string_view s, std::vector<BestNode>& best) const {
  const size_t n = s.size();
  best.assign(n + 1, BestNode{0.0, -1, 0});
  size_t start = 0;
  while (start < n) {
    const double here = best[start].score;
    const size_t mblen =
        std::min(n - start, unicode::utf8_seq_len(static_cast<unsigned char>(s[start])));
    bool has_single = false;
    uint32_t node = 0;
    for (size_t k = start; k < n; ++k) {
      node = trie_.child(node, static_cast<uint8_t>(s[k]));
      if (node == kNoId) break;
      const uint32_t id = trie_.terminal(node);
      if (id == kNoId) continue;
      const size_t key_pos = k + 1;
      const double cand = scores_[id] + here;
      BestNode& target = best[key_pos];
      if (target.starts_at < 0 || cand > target.score) {
        target = BestNode{cand, static_cast<int64_t>(start), id};
      }
      if (key_pos - start == mblen) has_single = true;
    }
    if (!has_single) {
      BestNode& target = best[start + mblen];
      const double cand = unk_score_ + here;
      if (target.starts_at < 0 || cand > target.score) {
        if (!unk_id_) missing_unk_id();
        target = BestNode{cand, static_cast<int64_t>(start), *unk_id_};
      }
    }
    start += mblen;
  }
}

std::vector<Token> Unigram::tokenize(std::string_view piece) const {
  std::vector<Token> out;
  if (piece.empty()) return out;
  // Only results made of vocabulary pieces are cached (their strings are piece slices).
  const bool cacheable = piece.size() <= PieceCache::kMaxPieceBytes;
  uint64_t hash = 0;
  if (cacheable) {
    hash = hash_bytes(piece);
    if (const PieceCache::Entry* e = cache_.find(piece, hash)) {
      out.reserve(e->num_tokens);
      size_t pos = 0;
      for (size_t k = 0; k < e->num_tokens; ++k) {
        out.push_back(Token{e->ids[k], std::string(piece.substr(pos, e->lens[k])),
                            {pos, pos + e->lens[k]}});
        pos += e->lens[k];
      }
      return out;
    }
  }
  thread_local std::vector<BestNode> best;
  thread_local std::vector<Range> ranges;
  viterbi(piece, best);

  // Backtrack; consecutive unk nodes fuse into one range.
  ranges.clear();
  bool pending = false;
  size_t unk_start = 0, unk_end = 0;
  for (size_t end = piece.size(); end > 0;) {
    const BestNode& node = best[end];
    if (node.starts_at < 0) break;  // unreachable with valid UTF-8; defensive
    const size_t start = static_cast<size_t>(node.starts_at);
    if (unk_id_ && node.id == *unk_id_) {
      if (!pending) unk_end = end;
      unk_start = start;
      pending = true;
    } else {
      if (pending) ranges.push_back({unk_start, unk_end, true});
      pending = false;
      ranges.push_back({start, end, false});
    }
    end = start;
  }
  if (pending) ranges.push_back({unk_start, unk_end, true});

  out.reserve(ranges.size());
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
    std::string_view text = piece.substr(it->start, it->end - it->start);
    const Offsets offsets{it->start, it->end};
    uint32_t id;
    if (!it->unk) {
      id = best[it->end].id;
    } else if (!ids_.find(text, &id)) {
      if (byte_fallback_) {
        bool all = true;
        for (char b : text) all = all && byte_ids_[static_cast<uint8_t>(b)] != kNoId;
        if (all) {
          // Every byte token carries the offsets of the whole unknown piece.
          for (char b : text) {
            out.push_back(Token{byte_ids_[static_cast<uint8_t>(b)],
                                byte_token(static_cast<uint8_t>(b)), offsets});
          }
          continue;
        }
      }
      if (!unk_id_) missing_unk_id();
      id = *unk_id_;
    }
    out.push_back(Token{id, std::string(text), offsets});
  }
  if (cacheable && ranges.size() <= PieceCache::kMaxTokens &&
      std::none_of(ranges.begin(), ranges.end(), [](const Range& r) { return r.unk; })) {
    PieceCache::Entry entry;
    entry.plain = true;
    for (const Token& t : out) {
      entry.ids[entry.num_tokens] = t.id;
      entry.lens[entry.num_tokens] = static_cast<uint8_t>(t.offsets.second - t.offsets.first);
      ++entry.num_tokens;
    }
    cache_.store(piece, hash, entry);
  }
  return out;
}

}  // namespace

std::unique_ptr<Model> unigram_from_json(const JsonRef& j) {
  if (auto t = j.get("type"); t && t->str_view() != "Unigram") t->fail("expected \"Unigram\"");
  JsonRef vocab = j.at("vocab");
  if (!vocab.is_array()) {
    vocab.fail("expected an array of [piece, score], got " +
               std::string(json_type_name(vocab.raw())));
  }
  const Json& arr = vocab.raw();
  if (arr.size() >= kNoId) vocab.fail("too many pieces");
  std::vector<std::string_view> pieces;
  std::vector<double> scores;
  pieces.reserve(arr.size());
  scores.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const Json& e = arr[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
      JsonRef(e, vocab.child_path(i)).fail("expected [piece, score]");
    }
    pieces.push_back(e[0].get_ref<const std::string&>());
    scores.push_back(serde_json_f64(e[1]));
  }
  std::optional<uint32_t> unk_id;
  if (auto u = j.get("unk_id")) {
    int64_t v = u->integer();
    if (v < 0) u->fail("expected a non-negative integer");
    if (pieces.empty()) u->fail("the vocabulary is empty but at least <unk> is needed");
    if (static_cast<uint64_t>(v) >= pieces.size()) {
      u->fail("unk_id " + std::to_string(v) + " is not smaller than the vocabulary size " +
              std::to_string(pieces.size()));
    }
    unk_id = static_cast<uint32_t>(v);
  }
  bool byte_fallback = false;
  if (j.raw().contains("byte_fallback")) byte_fallback = j.at("byte_fallback").boolean();
  return std::make_unique<Unigram>(std::move(pieces), std::move(scores), unk_id, byte_fallback);
}

}  // namespace mlhub::tok
