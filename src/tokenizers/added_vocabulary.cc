#include "tokenizers/added_vocabulary.h"

#include <algorithm>

#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {

// ---- TokenMatcher ------------------------------------------------------------------------------

void TokenMatcher::build(const std::vector<std::string>& patterns) {
  nodes_.assign(1, Node{});
  for (uint32_t p = 0; p < patterns.size(); ++p) {
    const std::string& s = patterns[p];
    if (s.empty()) continue;  // an empty pattern would match everywhere; Rust never adds one
    uint32_t node = 0;
    for (unsigned char b : s) {
      auto& ch = nodes_[node].children;
      auto it = std::lower_bound(ch.begin(), ch.end(), b,
                                 [](const auto& e, uint8_t v) { return e.first < v; });
      if (it != ch.end() && it->first == b) {
        node = it->second;
      } else {
        uint32_t next = static_cast<uint32_t>(nodes_.size());
        ch.insert(it, {b, next});
        nodes_.emplace_back();
        node = next;
      }
    }
    // With duplicate patterns the first one wins, as aho-corasick reports the lowest index.
    if (nodes_[node].pattern < 0) nodes_[node].pattern = static_cast<int32_t>(p);
  }
  root_next_.assign(256, 0);
  for (const auto& [b, n] : nodes_[0].children) root_next_[b] = n;
}

uint32_t TokenMatcher::child(uint32_t node, uint8_t b) const {
  const auto& ch = nodes_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), b,
                             [](const auto& e, uint8_t v) { return e.first < v; });
  return (it != ch.end() && it->first == b) ? it->second : 0;
}

std::vector<TokenMatcher::Match> TokenMatcher::find_all(std::string_view text) const {
  std::vector<Match> out;
  if (empty()) return out;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint32_t node = root_next_[static_cast<uint8_t>(text[i])];
    if (node == 0) {
      ++i;
      continue;
    }
    int32_t best = -1;
    size_t best_end = 0;
    size_t j = i + 1;
    for (;;) {
      if (nodes_[node].pattern >= 0) {
        best = nodes_[node].pattern;
        best_end = j;
      }
      if (j >= n) break;
      node = child(node, static_cast<uint8_t>(text[j]));
      if (node == 0) break;
      ++j;
    }
    if (best >= 0) {
      out.push_back({i, best_end, static_cast<uint32_t>(best)});
      i = best_end;
    } else {
      ++i;
    }
  }
  return out;
}

// ---- AddedVocabulary ---------------------------------------------------------------------------

namespace {

bool same_token(const AddedToken& a, const AddedToken& b) {
  return a.content == b.content && a.single_word == b.single_word && a.lstrip == b.lstrip &&
         a.rstrip == b.rstrip && a.normalized == b.normalized && a.special == b.special;
}

// The last code point of `s` (valid UTF-8, non-empty).
char32_t last_char(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return unicode::decode_utf8(s, i);
}

// Byte position where the trailing run of White_Space of `s` starts (Rust `\s*$`).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t i = end - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    size_t k = i;
    if (!unicode::is_whitespace(unicode::decode_utf8(s, k))) break;
    end = i;
  }
  return end;
}

// Byte length of the leading run of White_Space of `s` (Rust `^\s*`).
size_t leading_space_len(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t k = i;
    if (!unicode::is_whitespace(unicode::decode_utf8(s, k))) break;
    i = k;
  }
  return i;
}

}  // namespace

std::optional<uint32_t> AddedVocabulary::lookup(std::string_view content, const Model& model) const {
  auto it = by_content_.find(std::string(content));
  if (it != by_content_.end()) return it->second;
  return model.token_to_id(content);
}

size_t AddedVocabulary::add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                                   const Normalizer* normalizer) {
  for (const AddedToken& t : tokens) {
    if (t.special && !t.content.empty() && !special_set_.count(t.content)) {
      special_.push_back(t);
      special_set_.insert(t.content);
    }
  }
  size_t ignored = 0;
  const uint32_t vocab_size = static_cast<uint32_t>(model.vocab_size());
  for (const AddedToken& t : tokens) {
    bool known = t.content.empty();
    for (const auto& [id, existing] : by_id_) {
      if (known) break;
      known = same_token(existing, t);
    }
    if (known) {
      ++ignored;
      continue;
    }
    uint32_t new_id;
    if (auto id = lookup(t.content, model)) {
      new_id = *id;
    } else if (by_content_.empty()) {
      new_id = vocab_size;
    } else {
      uint32_t max = 0;
      for (const auto& [c, id] : by_content_) max = std::max(max, id);
      new_id = (max >= vocab_size || vocab_size == 0) ? max + 1 : vocab_size;
    }
    by_content_[t.content] = new_id;
    AddedToken stored = t;
    stored.id = new_id;
    by_id_[new_id] = stored;
    if (!special_set_.count(t.content)) classic_.push_back(stored);
  }
  refresh(model, normalizer);
  return tokens.size() - ignored;
}

void AddedVocabulary::refresh(const Model& model, const Normalizer* normalizer) {
  std::vector<std::string> raw_patterns, norm_patterns;
  raw_set_.ids.clear();
  normalized_set_.ids.clear();
  auto add = [&](const AddedToken& t) {
    auto id = lookup(t.content, model);
    if (!id) throw Error(StatusCode::kInternal, "added token \"" + t.content + "\" has no id");
    if (t.normalized) {
      NormalizedString n(t.content);
      if (normalizer) normalizer->normalize(n);
      norm_patterns.push_back(n.get());
      normalized_set_.ids.push_back(*id);
    } else {
      raw_patterns.push_back(t.content);
      raw_set_.ids.push_back(*id);
    }
  };
  for (const AddedToken& t : special_) add(t);
  for (const AddedToken& t : classic_) add(t);
  raw_set_.matcher.build(raw_patterns);
  normalized_set_.matcher.build(norm_patterns);
}

std::optional<uint32_t> AddedVocabulary::token_to_id(std::string_view token) const {
  auto it = by_content_.find(std::string(token));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedVocabulary::by_id(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<AddedToken> AddedVocabulary::tokens_by_id() const {
  std::vector<AddedToken> out;
  out.reserve(by_id_.size());
  for (const auto& [id, t] : by_id_) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

void AddedVocabulary::split_with_matches(NormalizedString piece, const MatchingSet& set,
                                         bool encode_special_tokens, std::vector<Split>& out) const {
  const std::string& text = piece.get();
  if (text.empty()) return;  // an empty piece is dropped
  auto emit = [&](size_t start, size_t stop, std::optional<uint32_t> id) {
    if (start == stop) return;
    // Rust always re-slices the piece; a slice covering the whole piece and its whole original
    // is the piece itself, so skip the copy then.
    const auto& al = piece.alignments();
    if (!id && start == 0 && stop == text.size() && al.front().start == 0 &&
        al.back().end == piece.original().size()) {
      out.push_back(Split{std::move(piece), std::nullopt});
      return;
    }
    auto slice = piece.slice(start, stop);
    if (!slice) throw Error(StatusCode::kInternal, "added vocabulary: bad split");
    if (id) {
      std::string value = slice->get();
      size_t len = value.size();
      out.push_back(Split{std::move(*slice), std::vector<Token>{Token{*id, std::move(value), {0, len}}}});
    } else {
      out.push_back(Split{std::move(*slice), std::nullopt});
    }
  };
  size_t start_offset = 0;
  std::vector<TokenMatcher::Match> matches;
  if (!set.matcher.empty()) matches = set.matcher.find_all(text);
  for (const TokenMatcher::Match& m : matches) {
    size_t start = m.start, stop = m.end;
    uint32_t id = set.ids[m.pattern];
    const AddedToken& tok = by_id_.at(id);
    if (encode_special_tokens && tok.special) continue;
    if (tok.single_word) {
      bool start_space = start == 0 || !unicode::is_word_char(last_char(std::string_view(text).substr(0, start)));
      bool stop_space = true;
      if (stop != text.size()) {
        size_t k = stop;
        stop_space = !unicode::is_word_char(unicode::decode_utf8(text, k));
      }
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(trailing_space_start(std::string_view(text).substr(0, start)), start_offset);
    if (tok.rstrip) stop += leading_space_len(std::string_view(text).substr(stop));
    if (start_offset < start) emit(start_offset, start, std::nullopt);
    emit(start, stop, id);
    start_offset = stop;
  }
  if (start_offset < text.size()) emit(start_offset, text.size(), std::nullopt);
}

PreTokenizedString AddedVocabulary::extract_and_normalize(const Normalizer* normalizer,
                                                          std::string_view sequence,
                                                          bool encode_special_tokens) const {
  PreTokenizedString pts(sequence);
  std::vector<Split> pass1;
  for (Split& s : pts.splits()) split_with_matches(std::move(s.normalized), raw_set_, encode_special_tokens, pass1);
  std::vector<Split> pass2;
  pass2.reserve(pass1.size());
  for (Split& s : pass1) {
    if (s.tokens) {
      pass2.push_back(std::move(s));
      continue;
    }
    if (normalizer) normalizer->normalize(s.normalized);
    split_with_matches(std::move(s.normalized), normalized_set_, encode_special_tokens, pass2);
  }
  pts.splits() = std::move(pass2);
  return pts;
}

}  // namespace mlhub::tok
