// Unicode helpers: UTF-8 coding, the character predicates of the reference (each pinned to the
// Unicode version the reference uses, docs/tokenizers.md section 14), normalization data
// (Unicode 9.0, emulated on utf8proc's 15.0 data by masking later code points) and grapheme
// breaks. The range tables come from tools/unicode/gen_unicode_tables.py.
#include "tokenizers/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <span>

namespace mlhub::tok::unicode {
namespace {

struct CodeRange {
  uint32_t first;
  uint32_t last;
};

struct CompositionPair {
  uint32_t first;
  uint32_t second;
  uint32_t composite;
};

struct LowercaseDelta {
  uint32_t first;
  uint32_t last;
  int32_t delta;
};

#include "tokenizers/unicode_tables.inc"

bool in_ranges(std::span<const CodeRange> ranges, char32_t c) {
  // First range whose last >= c.
  auto it = std::lower_bound(ranges.begin(), ranges.end(), static_cast<uint32_t>(c),
                             [](const CodeRange& r, uint32_t v) { return r.last < v; });
  return it != ranges.end() && it->first <= c;
}

bool assigned_u9(char32_t c) { return c < 0x300 || in_ranges(kAssignedU9, c); }

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

}  // namespace

// ---- UTF-8 ----

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    char buf[2] = {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
    out.append(buf, 2);
  } else if (c < 0x10000) {
    char buf[3] = {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                   static_cast<char>(0x80 | (c & 0x3F))};
    out.append(buf, 3);
  } else {
    char buf[4] = {static_cast<char>(0xF0 | (c >> 18)),
                   static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
                   static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                   static_cast<char>(0x80 | (c & 0x3F))};
    out.append(buf, 4);
  }
}

std::string to_utf8(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// ---- properties ----

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return in_ranges(kWhiteSpace, c);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return in_ranges(kNumeric, c);
}

bool is_alphabetic(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return in_ranges(kAlphabetic, c);
}

bool is_word_char(char32_t c) {
  if (c < 0x80) {
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }
  return in_ranges(kWordChar, c);
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  return in_ranges(kPunctuationU8, c);
}

bool is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return in_ranges(kControlU8, c);
}

bool is_mark_nonspacing_u8(char32_t c) { return c >= 0x300 && in_ranges(kNonspacingMarkU8, c); }

bool is_mark_u9(char32_t c) { return c >= 0x300 && in_ranges(kMarkU9, c); }

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

int to_lowercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  // The only unconditional multi-char lowercase mapping of SpecialCasing.txt.
  if (c == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  if (c > 0x10FFFF) {
    out[0] = c;
    return 1;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  if (out[0] == c && c >= kLowercaseAfter15[0].first) {
    for (const LowercaseDelta& d : kLowercaseAfter15) {
      if (c >= d.first && c <= d.last) {
        out[0] = static_cast<char32_t>(static_cast<int32_t>(c) + d.delta);
      }
    }
  }
  return 1;
}

// ---- normalization ----

uint8_t combining_class(char32_t c) {
  if (c < 0x300 || c > 0x10FFFF) return 0;
  uint8_t ccc = static_cast<uint8_t>(
      utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class);
  if (ccc != 0 && !assigned_u9(c)) return 0;
  return ccc;
}

void decompose(char32_t c, bool compat, std::u32string& out) {
  if (c < 0xC0 && !(compat && c >= 0xA0)) {
    out.push_back(c);
    return;
  }
  if (c >= kSBase && c < kSBase + kSCount) {
    char32_t s = c - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (c > 0x10FFFF) {
    out.push_back(c);
    return;
  }
  const utf8proc_property_t* prop = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  // No mapping at all, or only a compatibility one when canonical is asked for.
  if (prop->decomp_seqindex == UINT16_MAX || (!compat && prop->decomp_type != 0) ||
      !assigned_u9(c)) {
    out.push_back(c);
    return;
  }
  utf8proc_int32_t buf[32];
  int last_boundclass = 0;
  int options = UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0);
  utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                               static_cast<utf8proc_option_t>(options),
                                               &last_boundclass);
  if (n <= 0 || n > 32) {
    out.push_back(c);
    return;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out.push_back(static_cast<char32_t>(buf[i]));
}

std::optional<char32_t> compose(char32_t a, char32_t b) {
  // Hangul LV and LVT.
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  // Every second element of a canonical pair is U+0300 or above (Hangul is handled above).
  if (b < 0x300) return std::nullopt;
  const uint64_t key = (static_cast<uint64_t>(a) << 32) | b;
  auto it = std::lower_bound(std::begin(kCompositions), std::end(kCompositions), key,
                             [](const CompositionPair& p, uint64_t k) {
                               return ((static_cast<uint64_t>(p.first) << 32) | p.second) < k;
                             });
  if (it != std::end(kCompositions) && it->first == a && it->second == b) return it->composite;
  return std::nullopt;
}

// ---- graphemes ----

bool grapheme_break(char32_t a, char32_t b, int32_t* state) {
  return utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(a),
                                          static_cast<utf8proc_int32_t>(b), state);
}

}  // namespace mlhub::tok::unicode
