// Encoding operations: merging (with the overflow combination of Rust Encoding::merge_with),
// truncation into stride windows, padding, and the post-processing frame (spec sections 10-12).
// Mirrors tokenizers/src/tokenizer/encoding.rs, utils/truncation.rs and utils/padding.rs.
#include <algorithm>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokenizers/encoding_ops.h"

namespace mlhub::tok {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(StatusCode::kInvalidArgument, message);
}

// Appends the fields of `other` to `enc` (everything but the overflowing lists).
void append_fields(Encoding& enc, Encoding&& other, bool growing_offsets) {
  const size_t base = enc.ids.size();
  // Rust's HashMap::extend: a sequence id already present is overwritten.
  for (const auto& [seq_id, range] : other.sequence_ranges) {
    enc.sequence_ranges[seq_id] = {base + range.first, base + range.second};
  }
  const size_t shift = growing_offsets && !enc.offsets.empty() ? enc.offsets.back().second : 0;
  auto extend = [](auto& dst, auto& src) {
    if (dst.empty()) {
      dst = std::move(src);
    } else {
      dst.insert(dst.end(), std::make_move_iterator(src.begin()),
                 std::make_move_iterator(src.end()));
    }
  };
  extend(enc.ids, other.ids);
  extend(enc.type_ids, other.type_ids);
  extend(enc.tokens, other.tokens);
  extend(enc.words, other.words);
  if (shift != 0) {
    for (auto& o : other.offsets) o = {o.first + shift, o.second + shift};
  }
  extend(enc.offsets, other.offsets);
  extend(enc.special_tokens_mask, other.special_tokens_mask);
  extend(enc.attention_mask, other.attention_mask);
}

// One window [start, stop) of `enc`, without overflowing or sequence ranges.
Encoding slice(const Encoding& enc, size_t start, size_t stop) {
  // Rust slices every field with the same range and panics when one is shorter; clamp instead
  // so hand-built encodings with inconsistent fields cannot read out of bounds.
  auto cut = [start, stop](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    const size_t b = std::min(start, v.size());
    const size_t e = std::min(stop, v.size());
    return V(v.begin() + static_cast<std::ptrdiff_t>(b),
             v.begin() + static_cast<std::ptrdiff_t>(e));
  };
  Encoding out;
  out.ids = cut(enc.ids);
  out.type_ids = cut(enc.type_ids);
  out.tokens = cut(enc.tokens);
  out.words = cut(enc.words);
  out.offsets = cut(enc.offsets);
  out.special_tokens_mask = cut(enc.special_tokens_mask);
  out.attention_mask = cut(enc.attention_mask);
  return out;
}

template <typename T>
void prepend(std::vector<T>& v, size_t n, const T& value) {
  v.insert(v.begin(), n, value);
}

}  // namespace

void set_sequence_id_shallow(Encoding& enc, size_t sequence_id) {
  enc.sequence_ranges[sequence_id] = {0, enc.size()};
}

void set_type_ids_shallow(Encoding& enc, uint32_t type_id) {
  enc.type_ids.assign(enc.size(), type_id);
}

std::vector<std::optional<uint32_t>> Encoding::sequence_ids() const {
  const size_t len = size();
  std::vector<std::optional<uint32_t>> out(len);
  // Rust iterates sequence ids 0..n_sequences (not the map's keys); a missing id covers the
  // whole encoding.
  const size_t n = sequence_ranges.empty() ? 1 : sequence_ranges.size();
  for (size_t seq_id = 0; seq_id < n; ++seq_id) {
    size_t begin = 0, end = len;
    if (auto it = sequence_ranges.find(seq_id); it != sequence_ranges.end()) {
      begin = std::min(it->second.first, len);
      end = std::min(std::max(it->second.second, begin), len);
    }
    for (size_t i = begin; i < end; ++i) out[i] = static_cast<uint32_t>(seq_id);
  }
  return out;
}

void merge_encoding(Encoding& enc, Encoding other, bool growing_offsets) {
  std::vector<Encoding> overflowing;
  if (!enc.overflowing.empty() || !other.overflowing.empty()) {
    // 1. each of our overflows with `other` (which keeps its own overflows, so the result
    //    nests), then with each of other's overflows;
    for (const Encoding& self_o : enc.overflowing) {
      Encoding n = self_o;
      merge_encoding(n, other, growing_offsets);
      overflowing.push_back(std::move(n));
      for (const Encoding& other_o : other.overflowing) {
        Encoding m = self_o;
        merge_encoding(m, other_o, growing_offsets);
        overflowing.push_back(std::move(m));
      }
    }
    // 2. ourself (overflows included) with each of other's overflows.
    for (const Encoding& other_o : other.overflowing) {
      Encoding n = enc;
      merge_encoding(n, other_o, growing_offsets);
      overflowing.push_back(std::move(n));
    }
  }
  append_fields(enc, std::move(other), growing_offsets);
  enc.overflowing = std::move(overflowing);
}

Encoding merge_encodings(std::vector<Encoding> encodings, bool growing_offsets) {
  Encoding out;
  for (Encoding& e : encodings) merge_encoding(out, std::move(e), growing_offsets);
  return out;
}

void truncate_encoding(Encoding& enc, size_t max_length, size_t stride, TruncationDirection dir) {
  const size_t len = enc.size();
  if (max_length >= len) return;
  if (max_length == 0) {
    Encoding whole = std::move(enc);
    enc = Encoding();
    enc.overflowing.push_back(std::move(whole));
    return;
  }
  if (stride >= max_length) {
    // A panic (assert) in Rust.
    fail("truncation: stride (" + std::to_string(stride) +
         ") must be strictly less than max_len (" + std::to_string(max_length) +
         "); max_len excludes the special tokens the post-processor adds");
  }
  const size_t step = max_length - stride;
  std::vector<std::pair<size_t, size_t>> windows;
  if (dir == TruncationDirection::kRight) {
    for (size_t start = 0; start < len; start += step) {
      const size_t stop = std::min(start + max_length, len);
      windows.emplace_back(start, stop);
      if (stop == len) break;
    }
  } else {
    // Rust: (0..len).rev().step_by(step) gives window ends len, len-step, ...
    for (size_t k = 0; k * step < len; ++k) {
      const size_t stop = len - k * step;
      const size_t start = stop > max_length ? stop - max_length : 0;
      windows.emplace_back(start, stop);
      if (start == 0) break;
    }
  }
  Encoding kept = slice(enc, windows[0].first, windows[0].second);
  kept.overflowing.reserve(windows.size() - 1);
  for (size_t i = 1; i < windows.size(); ++i) {
    kept.overflowing.push_back(slice(enc, windows[i].first, windows[i].second));
  }
  // The previous overflowing entries and sequence ranges are dropped, as in Rust.
  enc = std::move(kept);
}

void truncate_encodings(Encoding& first, std::optional<Encoding>& second,
                        const TruncationParams& p) {
  if (p.max_length == 0) {
    truncate_encoding(first, 0, p.stride, p.direction);
    if (second) truncate_encoding(*second, 0, p.stride, p.direction);
    return;
  }
  const size_t total = first.size() + (second ? second->size() : 0);
  if (total <= p.max_length) return;
  const size_t to_remove = total - p.max_length;

  if (p.strategy == TruncationStrategy::kLongestFirst) {
    if (!second) {
      truncate_encoding(first, p.max_length, p.stride, p.direction);
      return;
    }
    size_t n1 = first.size(), n2 = second->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > p.max_length ? n1 : std::max(n1, p.max_length - n1);
    if (n1 + n2 > p.max_length) {
      n1 = p.max_length / 2;
      n2 = n1 + p.max_length % 2;
    }
    if (swap) std::swap(n1, n2);
    truncate_encoding(first, n1, p.stride, p.direction);
    truncate_encoding(*second, n2, p.stride, p.direction);
    return;
  }

  Encoding* target = &first;
  if (p.strategy == TruncationStrategy::kOnlySecond) {
    if (!second) fail("Truncation error: Second sequence not provided");
    target = &*second;
  }
  const size_t target_len = target->size();
  if (target_len <= to_remove) {
    fail("Truncation error: Sequence to truncate too short to respect the provided max_length");
  }
  truncate_encoding(*target, target_len - to_remove, p.stride, p.direction);
}

void pad_encoding(Encoding& enc, size_t target, const PaddingParams& p) {
  for (Encoding& o : enc.overflowing) pad_encoding(o, target, p);
  const size_t len = enc.size();
  if (len >= target) return;
  const size_t n = target - len;
  if (p.direction == PaddingDirection::kLeft) {
    prepend(enc.ids, n, p.pad_id);
    prepend(enc.type_ids, n, p.pad_type_id);
    prepend(enc.tokens, n, p.pad_token);
    prepend(enc.words, n, std::optional<uint32_t>());
    prepend(enc.attention_mask, n, 0u);
    prepend(enc.special_tokens_mask, n, 1u);
    prepend(enc.offsets, n, Offsets{0, 0});
    for (auto& [seq_id, range] : enc.sequence_ranges) range = {range.first + n, range.second + n};
  } else {
    enc.ids.insert(enc.ids.end(), n, p.pad_id);
    enc.type_ids.insert(enc.type_ids.end(), n, p.pad_type_id);
    enc.tokens.insert(enc.tokens.end(), n, p.pad_token);
    enc.words.insert(enc.words.end(), n, std::nullopt);
    enc.attention_mask.insert(enc.attention_mask.end(), n, 0u);
    enc.special_tokens_mask.insert(enc.special_tokens_mask.end(), n, 1u);
    enc.offsets.insert(enc.offsets.end(), n, Offsets{0, 0});
  }
}

void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& p) {
  if (encodings.empty()) return;
  size_t target = 0;
  if (p.fixed_length) {
    target = *p.fixed_length;
  } else {
    for (const Encoding& e : encodings) target = std::max(target, e.size());
  }
  if (p.pad_to_multiple_of && *p.pad_to_multiple_of > 0) {
    const size_t m = *p.pad_to_multiple_of;
    if (target % m != 0) target += m - target % m;
  }
  for (Encoding& e : encodings) pad_encoding(e, target, p);
}

void set_sequence_id(Encoding& enc, size_t sequence_id) {
  set_sequence_id_shallow(enc, sequence_id);
  for (Encoding& o : enc.overflowing) set_sequence_id_shallow(o, sequence_id);
}

void set_type_ids(Encoding& enc, uint32_t type_id) {
  set_type_ids_shallow(enc, type_id);
  for (Encoding& o : enc.overflowing) set_type_ids_shallow(o, type_id);
}

Encoding post_process(const PostProcessor* processor, Encoding first,
                      std::optional<Encoding> second, bool add_special_tokens) {
  std::vector<Encoding> encodings;
  encodings.reserve(second ? 2 : 1);
  encodings.push_back(std::move(first));
  if (second) encodings.push_back(std::move(*second));

  if (processor == nullptr) {
    // Rust default_process: a single encoding is returned untouched; a pair gets sequence ids
    // on the top-level encodings only (not on their overflows) and is merged.
    if (encodings.size() == 1) return std::move(encodings[0]);
    for (size_t i = 0; i < encodings.size(); ++i) set_sequence_id_shallow(encodings[i], i);
    return merge_encodings(std::move(encodings));
  }

  // Rust PostProcessor::process: sequence id i on each encoding and its overflows, type ids i
  // on the top-level encoding only (overflows keep the type ids the model stage gave them).
  for (size_t i = 0; i < encodings.size(); ++i) {
    set_sequence_id(encodings[i], i);
    set_type_ids_shallow(encodings[i], static_cast<uint32_t>(i));
  }
  return merge_encodings(processor->process_encodings(std::move(encodings), add_special_tokens));
}

}  // namespace mlhub::tok
