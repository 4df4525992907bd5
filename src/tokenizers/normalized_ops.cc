// The normalizing operations of NormalizedString, each expressed as the change stream of spec
// 3.3 so that alignments match tokenizers 0.22.2 byte for byte. Operations that leave the text
// unchanged (pure ASCII under NF*, nothing to filter, ...) skip the transform: an identity
// stream is a no-op because all bytes of a char always share one alignment.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mlhub/core.h"
#include "tokenizers/normalized_string.h"
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

using Change = NormalizedString::Change;

// Per-thread scratch buffers so that hot paths do not allocate per call.
std::vector<Change>& scratch_changes() {
  thread_local std::vector<Change> v;
  v.clear();
  return v;
}

bool is_ascii(std::string_view s) {
  unsigned char acc = 0;
  for (char c : s) acc |= static_cast<unsigned char>(c);
  return acc < 0x80;
}

// The normalized range that Rust's `transform` rewrites: it converts the whole *original* range
// to normalized coordinates (convert_offsets(Range::Original(..))), which skips leading
// zero-width alignments and is empty when the original is. nullopt: the reference does nothing.
std::optional<std::pair<size_t, size_t>> whole_range(const NormalizedString& ns) {
  const size_t len_o = ns.original().size();
  if (len_o == 0) return std::pair<size_t, size_t>{0, 0};
  const auto& al = ns.alignments();
  // Common case, checked with one vectorizable pass: every alignment ends inside the original
  // and the first one is not empty.
  uint32_t max_end = 0;
  for (const Alignment& a : al) max_end = std::max(max_end, a.end);
  if (!al.empty() && max_end <= len_o && al[0].start != al[0].end) {
    return std::pair<size_t, size_t>{0, al.size()};
  }
  std::optional<size_t> start;
  size_t end = 0;
  bool any = false;
  for (size_t i = 0; i < al.size(); ++i) {
    if (al[i].end > len_o) break;
    if (!start && al[i].start != al[i].end) start = i;
    end = i + 1;
    any = true;
  }
  if (start && any) return std::pair<size_t, size_t>{*start, end};
  if (start) return std::pair<size_t, size_t>{*start, *start};
  if (any) return std::pair<size_t, size_t>{end, end};
  return std::nullopt;
}

bool is_whole(const NormalizedString& ns, const std::optional<std::pair<size_t, size_t>>& r) {
  return r && r->first == 0 && r->second == ns.len();
}

// transform() with the reference's range; `changes` is a stream over the chars of that range.
void apply(NormalizedString& ns, const std::optional<std::pair<size_t, size_t>>& range,
           std::span<const Change> changes, size_t initial_skip) {
  if (!range) return;
  ns.transform_range(range->first, range->second, changes, initial_skip);
}

// True when `changes` rewrites the chars of `s` into themselves.
bool is_identity(std::string_view s, std::span<const Change> changes) {
  size_t i = 0;
  for (const Change& ch : changes) {
    if (ch.change != 0 || i >= s.size() || unicode::decode_utf8(s, i) != ch.c) return false;
  }
  return i == s.size();
}

// Decomposition stream (unicode-normalization-alignments Decompositions): each char's full
// decomposition, first char 0 and the others +1, canonically reordered by a stable sort of
// every run of non-starters.
struct Item {
  char32_t c;
  int32_t change;
  uint8_t ccc;
};

void decompose_stream(std::string_view s, bool compat, std::vector<Item>& items) {
  thread_local std::u32string buf;
  size_t pending = 0;  // start of the not yet sorted tail
  auto sort_pending = [&] {
    // Insertion sort: stable, and the runs are tiny.
    for (size_t i = pending + 1; i < items.size(); ++i) {
      Item x = items[i];
      size_t j = i;
      while (j > pending && items[j - 1].ccc > x.ccc) {
        items[j] = items[j - 1];
        --j;
      }
      items[j] = x;
    }
    pending = items.size();
  };
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = unicode::decode_utf8(s, i);
    buf.clear();
    unicode::decompose(c, compat, buf);
    for (size_t k = 0; k < buf.size(); ++k) {
      uint8_t ccc = unicode::combining_class(buf[k]);
      if (ccc == 0) sort_pending();
      items.push_back({buf[k], k == 0 ? 0 : 1, ccc});
    }
  }
  sort_pending();
}

// Canonical composition over a decomposed stream (unicode-normalization-alignments
// Recompositions): a char composed into the starter disappears and the starter's change
// becomes change(starter) + change(char) - 1.
void compose_stream(const std::vector<Item>& items, std::vector<Change>& out) {
  std::optional<size_t> starter;
  int last_ccc = -1;  // -1: nothing left uncomposed since the starter
  for (const Item& it : items) {
    if (!starter) {
      if (it.ccc == 0) starter = out.size();
      out.push_back({it.c, it.change});
      continue;
    }
    if (last_ccc < 0 || last_ccc < it.ccc) {
      Change& st = out[*starter];
      if (auto r = unicode::compose(st.c, it.c)) {
        st.c = *r;
        st.change = st.change + it.change - 1;
        continue;
      }
    }
    if (it.ccc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = it.ccc;
    }
    out.push_back({it.c, it.change});
  }
}

void normalize_form(NormalizedString& ns, bool compat, bool compose) {
  auto range = whole_range(ns);
  if (!range) return;
  const bool whole = is_whole(ns, range);
  std::string_view text =
      std::string_view(ns.get()).substr(range->first, range->second - range->first);
  if (whole && is_ascii(text)) return;
  thread_local std::vector<Item> items;
  items.clear();
  // The reference builds the stream from the whole normalized string, not just the range.
  decompose_stream(ns.get(), compat, items);
  auto& changes = scratch_changes();
  if (compose) {
    compose_stream(items, changes);
  } else {
    changes.reserve(items.size());
    for (const Item& it : items) changes.push_back({it.c, it.change});
  }
  if (whole && is_identity(ns.get(), changes)) return;
  apply(ns, range, changes, 0);
}

}  // namespace

void NormalizedString::nfd() { normalize_form(*this, false, false); }
void NormalizedString::nfkd() { normalize_form(*this, true, false); }
void NormalizedString::nfc() { normalize_form(*this, false, true); }
void NormalizedString::nfkc() { normalize_form(*this, true, true); }

void NormalizedString::lowercase() {
  auto range = whole_range(*this);
  if (!range) return;
  char32_t buf[3];
  if (is_whole(*this, range)) {
    // In place while every char maps to one char of the same UTF-8 length. On the first char
    // that does not, fall back to the stream below: it is rebuilt from the partly lowercased
    // text, which gives the same result because lowercasing a lowercased char is a no-op.
    size_t i = 0;
    char* p = normalized_.data();
    const size_t n = normalized_.size();
    bool in_place = true;
    while (i < n) {
      auto b = static_cast<unsigned char>(p[i]);
      if (b < 0x80) {
        p[i] = static_cast<char>(b + ((static_cast<unsigned>(b - 'A') < 26u) ? 32 : 0));
        ++i;
        continue;
      }
      size_t start = i;
      char32_t c = unicode::decode_utf8(normalized_, i);
      if (unicode::to_lowercase(c, buf) != 1 || unicode::utf8_len(buf[0]) != i - start) {
        in_place = false;
        break;
      }
      if (buf[0] != c) {
        std::string enc = unicode::to_utf8(buf[0]);
        std::copy(enc.begin(), enc.end(), p + start);
      }
    }
    if (in_place) return;
  }
  auto& changes = scratch_changes();
  changes.reserve(normalized_.size());
  size_t i = 0;
  while (i < normalized_.size()) {
    char32_t c = unicode::decode_utf8(normalized_, i);
    int n = unicode::to_lowercase(c, buf);
    for (int k = 0; k < n; ++k) changes.push_back({buf[k], k > 0 ? 1 : 0});
  }
  apply(*this, range, changes, 0);
}

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  auto& changes = scratch_changes();
  int32_t removed = 0;
  size_t removed_start = 0;
  bool has_last = false;
  char32_t last_c = 0;
  size_t i = 0;
  while (i < normalized_.size()) {
    char32_t c = unicode::decode_utf8(normalized_, i);
    if (keep(c)) {
      if (has_last) {
        changes.push_back({last_c, -removed});
      } else {
        removed_start = static_cast<size_t>(removed);
      }
      last_c = c;
      has_last = true;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (has_last) changes.push_back({last_c, -removed});
  auto range = whole_range(*this);
  if (is_whole(*this, range) && removed_start == 0 && removed == 0 &&
      std::all_of(changes.begin(), changes.end(), [](const Change& c) { return c.change == 0; })) {
    return;  // nothing removed
  }
  apply(*this, range, changes, removed_start);
}

void NormalizedString::map(const std::function<char32_t(char32_t)>& f) {
  auto range = whole_range(*this);
  if (!range) return;
  auto& changes = scratch_changes();
  changes.reserve(normalized_.size());
  size_t i = 0;
  bool same_len = true;
  bool changed = false;
  while (i < normalized_.size()) {
    size_t start = i;
    char32_t c = unicode::decode_utf8(normalized_, i);
    char32_t m = f(c);
    changed |= m != c;
    same_len &= unicode::utf8_len(m) == i - start;
    changes.push_back({m, 0});
  }
  if (is_whole(*this, range)) {
    if (!changed) return;
    if (same_len) {
      // Same byte lengths: alignments are unchanged, rewrite the bytes in place.
      std::string out;
      out.reserve(normalized_.size());
      for (const Change& ch : changes) unicode::append_utf8(out, ch.c);
      normalized_ = std::move(out);
      return;
    }
  }
  apply(*this, range, changes, 0);
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t first_len = unicode::utf8_seq_len(static_cast<unsigned char>(normalized_[0]));
  size_t j = 0;
  char32_t next = unicode::decode_utf8(normalized_, j);
  auto& changes = scratch_changes();
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    changes.push_back({unicode::decode_utf8(s, i), first ? 0 : 1});
    first = false;
  }
  changes.push_back({next, 1});
  transform_range(0, first_len, changes, 0);
}

void NormalizedString::append(std::string_view s) {
  auto& changes = scratch_changes();
  size_t start = 0;
  if (!normalized_.empty()) {
    start = normalized_.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(normalized_[start]) & 0xC0) == 0x80) --start;
    size_t j = start;
    changes.push_back({unicode::decode_utf8(normalized_, j), 0});
  }
  size_t i = 0;
  while (i < s.size()) changes.push_back({unicode::decode_utf8(s, i), 1});
  transform_range(start, normalized_.size(), changes, 0);
}

void NormalizedString::replace(const Regex& pattern, std::string_view content) {
  // The reference's Pattern::find_matches reports no match at all on empty text.
  if (normalized_.empty()) return;
  auto matches = pattern.find_all(normalized_);
  if (matches.empty()) return;
  std::string out;
  out.reserve(normalized_.size());
  std::vector<Alignment> out_align;
  out_align.reserve(alignments_.size());
  size_t last_end = 0;
  for (const auto& [start, end] : matches) {
    out.append(normalized_, last_end, start - last_end);
    out_align.insert(out_align.end(), alignments_.begin() + last_end, alignments_.begin() + start);
    // Every inserted char takes the alignment of the last byte of the match.
    Alignment a = end == 0 ? Alignment{0, 0} : alignments_[end - 1];
    out.append(content);
    out_align.insert(out_align.end(), content.size(), a);
    last_end = end;
  }
  out.append(normalized_, last_end, std::string::npos);
  out_align.insert(out_align.end(), alignments_.begin() + last_end, alignments_.end());
  normalized_ = std::move(out);
  alignments_ = std::move(out_align);
}

namespace {

// Rust NormalizedString::lrstrip, including its use of the byte length where the char count
// is meant when tagging the last kept char (harmless: that tag only affects what follows).
void lrstrip(NormalizedString& ns, bool left, bool right) {
  const std::string& s = ns.get();
  size_t count = unicode::char_count(s);
  size_t leading = 0, trailing = 0;
  if (left) {
    size_t i = 0;
    while (i < s.size()) {
      if (!unicode::is_whitespace(unicode::decode_utf8(s, i))) break;
      ++leading;
    }
  }
  if (right) {
    size_t end = s.size();
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      size_t j = start;
      if (!unicode::is_whitespace(unicode::decode_utf8(s, j))) break;
      ++trailing;
      end = start;
    }
  }
  if (leading == 0 && trailing == 0) return;
  auto& changes = scratch_changes();
  size_t i = 0, idx = 0;
  while (i < s.size()) {
    char32_t c = unicode::decode_utf8(s, i);
    if (idx >= leading && idx < count - trailing) {
      bool tag = idx + trailing + 1 == s.size();
      changes.push_back({c, tag ? -static_cast<int32_t>(trailing) : 0});
    }
    ++idx;
  }
  apply(ns, whole_range(ns), changes, leading);
}

}  // namespace

void transform_like_reference(NormalizedString& s,
                              std::span<const NormalizedString::Change> changes,
                              size_t initial_skip) {
  apply(s, whole_range(s), changes, initial_skip);
}

void NormalizedString::lstrip() { lrstrip(*this, true, false); }
void NormalizedString::rstrip() { lrstrip(*this, false, true); }

}  // namespace mlhub::tok
