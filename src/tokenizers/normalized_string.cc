// NormalizedString core: construction, offset conversion, slicing, the transform primitive
// (spec 3.2) and splitting (spec 6.1). The normalizing operations live in normalized_ops.cc.
// Mirrors tokenizers/src/tokenizer/normalizer.rs and pattern.rs of tokenizers 0.22.2.
#include "tokenizers/normalized_string.h"

#include <algorithm>
#include <utility>

#include "mlhub/core.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

bool is_char_boundary(std::string_view s, size_t i) {
  if (i == 0 || i == s.size()) return true;
  if (i > s.size()) return false;
  return (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

size_t encode_utf8(char32_t c, char* out) {
  if (c < 0x80) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<char>(0xC0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (c >> 12));
    out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (c >> 18));
  out[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (c & 0x3F));
  return 4;
}

}  // namespace

std::optional<SplitBehavior> split_behavior_from_string(std::string_view s) {
  if (s == "Removed") return SplitBehavior::kRemoved;
  if (s == "Isolated") return SplitBehavior::kIsolated;
  if (s == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (s == "Contiguous") return SplitBehavior::kContiguous;
  return std::nullopt;
}

// ---- patterns (pattern.rs) ----

std::vector<std::tuple<size_t, size_t, bool>> CharPredicatePattern::find_matches(
    std::string_view text) const {
  std::vector<std::tuple<size_t, size_t, bool>> out;
  if (text.empty()) {
    out.emplace_back(0, 0, false);
    return out;
  }
  size_t last_offset = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t b = i;
    char32_t c = unicode::decode_utf8(text, i);
    if (pred_(c)) {
      if (last_offset < b) out.emplace_back(last_offset, b, false);
      out.emplace_back(b, i, true);
      last_offset = i;
    }
  }
  if (text.size() > last_offset) out.emplace_back(last_offset, text.size(), false);
  return out;
}

std::vector<std::tuple<size_t, size_t, bool>> RegexPattern::find_matches(
    std::string_view text) const {
  std::vector<std::tuple<size_t, size_t, bool>> out;
  if (text.empty()) {
    out.emplace_back(0, 0, false);
    return out;
  }
  size_t prev = 0;
  for (const auto& [start, end] : regex_.find_all(text)) {
    if (prev != start) out.emplace_back(prev, start, false);
    out.emplace_back(start, end, true);
    prev = end;
  }
  if (prev != text.size()) out.emplace_back(prev, text.size(), false);
  return out;
}

std::vector<std::tuple<size_t, size_t, bool>> InvertedPattern::find_matches(
    std::string_view text) const {
  auto out = inner_.find_matches(text);
  for (auto& m : out) std::get<2>(m) = !std::get<2>(m);
  return out;
}

// ---- NormalizedString ----

NormalizedString::NormalizedString(std::string_view original, size_t original_shift)
    : original_(original), original_shift_(original_shift), normalized_(original) {
  alignments_.resize(original.size());
  size_t i = 0;
  while (i < original.size()) {
    size_t len = unicode::utf8_seq_len(static_cast<unsigned char>(original[i]));
    if (len > original.size() - i) len = original.size() - i;  // truncated input: stay in bounds
    Alignment a{static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)};
    for (size_t k = 0; k < len; ++k) alignments_[i + k] = a;
    i += len;
  }
}

std::optional<Offsets> NormalizedString::convert_offsets(size_t start, size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end || end > alignments_.size()) return std::nullopt;
  return Offsets{alignments_[start].start, alignments_[end - 1].end};
}

std::optional<NormalizedString> NormalizedString::slice(size_t start, size_t end) const {
  if (!is_char_boundary(normalized_, start) || !is_char_boundary(normalized_, end)) {
    return std::nullopt;
  }
  std::optional<Offsets> orig = convert_offsets(start, end);
  if (!orig) return std::nullopt;
  NormalizedString out;
  // The reference takes original.get(range) and falls back to "" when the range is not a
  // valid char range of the original (e.g. the normalized-coordinate range of an empty slice).
  auto [os, oe] = *orig;
  if (os <= oe && oe <= original_.size() && is_char_boundary(original_, os) &&
      is_char_boundary(original_, oe)) {
    out.original_ = original_.substr(os, oe - os);
  } else {
    out.original_ = original_.substr(0, 0);
  }
  out.normalized_.assign(normalized_, start, end - start);
  // Unsigned wrap-around mirrors Rust release arithmetic on non-monotonic tables.
  const uint32_t n_shift = static_cast<uint32_t>(os);
  out.alignments_.resize(end - start);
  for (size_t i = start; i < end; ++i) {
    out.alignments_[i - start] = {alignments_[i].start - n_shift, alignments_[i].end - n_shift};
  }
  out.original_shift_ = original_shift_ + os;
  return out;
}

void NormalizedString::transform_range(size_t start, size_t end, std::span<const Change> changes,
                                       size_t initial_skip) {
  if (start > end || end > normalized_.size() || !is_char_boundary(normalized_, start) ||
      !is_char_boundary(normalized_, end)) {
    throw Error(StatusCode::kInternal, "NormalizedString::transform_range: bad range");
  }
  // Cursor over the input chars of the range; `p` never leaves [start, end].
  size_t p = start;
  for (size_t k = 0; k < initial_skip && p < end; ++k) {
    p += unicode::utf8_seq_len(static_cast<unsigned char>(normalized_[p]));
  }
  auto next_char_len = [&]() -> size_t {
    if (p >= end) return 0;
    return unicode::utf8_seq_len(static_cast<unsigned char>(normalized_[p]));
  };

  size_t out_len = 0;
  for (const Change& ch : changes) out_len += unicode::utf8_len(ch.c);
  std::string out(out_len, '\0');
  std::vector<Alignment> out_align(out_len);
  size_t o = 0;
  for (const Change& ch : changes) {
    Alignment a;
    if (ch.change > 0) {
      a = p == 0 ? Alignment{0, 0} : alignments_[p - 1];
    } else {
      // The reference indexes the whole table here and panics past its end.
      if (p >= alignments_.size()) {
        throw Error(StatusCode::kInternal,
                    "NormalizedString::transform_range: change stream overruns");
      }
      a = alignments_[p];
      p += next_char_len();
      for (int32_t k = 0; k < -ch.change; ++k) p += next_char_len();
    }
    char32_t c = ch.c;
    if (c < 0x80) {
      out[o] = static_cast<char>(c);
      out_align[o++] = a;
    } else {
      char enc[4];
      size_t n = encode_utf8(c, enc);
      for (size_t k = 0; k < n; ++k) {
        out[o] = enc[k];
        out_align[o++] = a;
      }
    }
  }

  if (start == 0 && end == normalized_.size()) {
    normalized_ = std::move(out);
    alignments_ = std::move(out_align);
    return;
  }
  normalized_.replace(start, end - start, out);
  alignments_.erase(alignments_.begin() + start, alignments_.begin() + end);
  alignments_.insert(alignments_.begin() + start, out_align.begin(), out_align.end());
}

std::vector<NormalizedString> NormalizedString::split(const Pattern& pattern,
                                                      SplitBehavior behavior) const {
  auto matches = pattern.find_matches(normalized_);
  // (start, end, remove)
  std::vector<std::tuple<size_t, size_t, bool>> splits;
  splits.reserve(matches.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (auto& [s, e, m] : matches) splits.emplace_back(s, e, false);
      break;
    case SplitBehavior::kRemoved:
      splits = std::move(matches);
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (auto& [s, e, m] : matches) {
        if (m == previous_match && !splits.empty()) {
          std::get<1>(splits.back()) = e;
        } else {
          splits.emplace_back(s, e, false);
        }
        previous_match = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (auto& [s, e, m] : matches) {
        if (m && !previous_match && !splits.empty()) {
          std::get<1>(splits.back()) = e;
        } else {
          splits.emplace_back(s, e, false);
        }
        previous_match = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        auto& [s, e, m] = *it;
        if (m && !previous_match && !splits.empty()) {
          std::get<0>(splits.back()) = s;
        } else {
          splits.emplace_back(s, e, false);
        }
        previous_match = m;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }

  std::vector<NormalizedString> out;
  out.reserve(splits.size());
  for (auto& [s, e, remove] : splits) {
    if (remove) continue;
    auto piece = slice(s, e);
    if (!piece) throw Error(StatusCode::kInternal, "NormalizedString::split: bad split");
    out.push_back(std::move(*piece));
  }
  return out;
}

}  // namespace mlhub::tok
