// Lossy UTF-8 decoding with the semantics of Rust's String::from_utf8_lossy, which the byte-level
// decoder relies on (spec section 13).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mlhub::tok {

// Returns `bytes` with every maximal invalid subpart (a lead byte followed by the longest run of
// continuation bytes that could still start a valid sequence, or a lone invalid byte) replaced
// by one U+FFFD, as Rust's from_utf8_lossy and the Unicode "substitution of maximal subparts"
// practice do. Valid input is returned unchanged.
std::string utf8_lossy(std::string_view bytes);

// Length of the valid UTF-8 sequence starting at bytes[i], or 0 when none starts there.
size_t utf8_valid_seq_len(std::string_view bytes, size_t i);

// A value no decoded char can have.
inline constexpr char32_t kNotAChar = 0x110000;

// Decodes the char at s[i] and advances i past it. A byte that does not start a valid UTF-8
// sequence is consumed alone and yields kNotAChar, so callers never read out of bounds on
// malformed text.
char32_t next_char(std::string_view s, size_t& i);

}  // namespace mlhub::tok
