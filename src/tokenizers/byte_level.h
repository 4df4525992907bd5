// The GPT-2 byte <-> char table of the byte-level components (spec 6.4): every byte maps to one
// printable code point; bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to themselves, the other
// 68 bytes in increasing order to U+0100, U+0101, ... (space -> U+0120 'Ġ').
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mlhub::tok {

// The code point that byte `b` maps to.
char32_t byte_to_char(uint8_t b);
// The UTF-8 encoding (1 or 2 bytes) of byte_to_char(b); points into a static table.
std::string_view byte_to_char_utf8(uint8_t b);
// The byte that maps to `c`, or nullopt when `c` is not in the byte-level alphabet.
std::optional<uint8_t> char_to_byte(char32_t c);

}  // namespace mlhub::tok
