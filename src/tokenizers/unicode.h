// Unicode helpers for the tokenizer pipeline. Each predicate follows the Unicode data the
// reference (Rust tokenizers 0.22.2) uses for that component; see docs/tokenizers.md section 14:
// normalization forms and the StripAccents mark test use Unicode 9.0, BERT punctuation/control
// tests use Unicode 8.0 General Categories, the rest follow current Unicode (utf8proc).
// Implemented with utf8proc plus the tables generated into unicode_tables.inc (tools/unicode/gen_unicode_tables.py).
#pragma once

#include "mlhub/core.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlhub::tok::unicode {

// ---- UTF-8 ----
// Decodes the code point starting at s[i] and advances i past it. The input must be valid
// UTF-8 (checked once at the API boundary with find_invalid_utf8).
inline char32_t decode_utf8(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { ++i; return c; }
  if (c < 0xE0) {
    char32_t cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
    i += 2;
    return cp;
  }
  if (c < 0xF0) {
    char32_t cp = ((c & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
                  (static_cast<unsigned char>(s[i + 2]) & 0x3F);
    i += 3;
    return cp;
  }
  char32_t cp = ((c & 0x07) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 12) |
                ((static_cast<unsigned char>(s[i + 2]) & 0x3F) << 6) |
                (static_cast<unsigned char>(s[i + 3]) & 0x3F);
  i += 4;
  return cp;
}
// Byte length of the UTF-8 sequence that starts with lead byte `c`.
inline size_t utf8_seq_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }
inline size_t utf8_len(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
void append_utf8(std::string& out, char32_t c);
std::string to_utf8(char32_t c);
// find_invalid_utf8 lives in core (mlhub/core.h); the tokenizers call it by this name too.
using mlhub::find_invalid_utf8;
// Number of code points in valid UTF-8 `s`.
size_t char_count(std::string_view s);

// ---- properties (current Unicode unless said otherwise) ----
bool is_whitespace(char32_t c);       // Rust char::is_whitespace (White_Space)
bool is_numeric(char32_t c);          // Rust char::is_numeric: Nd, Nl, No
bool is_alphabetic(char32_t c);       // Alphabetic derived property
bool is_word_char(char32_t c);        // Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control
bool is_bert_punctuation(char32_t c); // ASCII punctuation or General Category P* (Unicode 8.0)
bool is_bert_control(char32_t c);     // Cc, Cf, Co (Unicode 8.0), except \t \n \r
bool is_mark_nonspacing_u8(char32_t c);  // Mn in Unicode 8.0 (BertNormalizer strip accents)
bool is_mark_u9(char32_t c);          // Mn, Mc, Me in Unicode 9.0 (StripAccents normalizer)
bool is_chinese_char(char32_t c);     // the CJK ranges of BertNormalizer (Rust's table)

// Full lowercase mapping of Rust char::to_lowercase (no context): writes 1..3 code points
// to out and returns how many.
int to_lowercase(char32_t c, char32_t out[3]);

// ---- normalization data (Unicode 9.0) ----
// Appends the full canonical (compat=false) or compatibility (compat=true) decomposition of
// `c`, or `c` itself when it has none. Hangul syllables decompose algorithmically.
void decompose(char32_t c, bool compat, std::u32string& out);
// Canonical combining class.
uint8_t combining_class(char32_t c);
// The primary composite of (a, b), or nullopt (Hangul included, exclusions applied).
std::optional<char32_t> compose(char32_t a, char32_t b);

// ---- extended grapheme clusters (current Unicode) ----
// Splits valid UTF-8 `s` into extended grapheme clusters; calls fn(start, end) per cluster.
template <typename Fn>
void for_each_grapheme(std::string_view s, Fn&& fn);
// Implementation detail of for_each_grapheme: true when there is a boundary between code
// points a and b given the running state (initialize state to 0 per string).
bool grapheme_break(char32_t a, char32_t b, int32_t* state);

template <typename Fn>
void for_each_grapheme(std::string_view s, Fn&& fn) {
  size_t i = 0, start = 0;
  if (s.empty()) return;
  int32_t state = 0;
  char32_t prev = decode_utf8(s, i);
  while (i < s.size()) {
    size_t pos = i;
    char32_t c = decode_utf8(s, i);
    if (grapheme_break(prev, c, &state)) {
      fn(start, pos);
      start = pos;
    }
    prev = c;
  }
  fn(start, s.size());
}

}  // namespace mlhub::tok::unicode
