// GPT-2 byte <-> char table (tokenizers' bytes_char()).
#include "tokenizers/byte_level.h"

#include <array>

namespace mlhub::tok {
namespace {

bool maps_to_itself(unsigned b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<char, 256 * 2> utf8{};  // two bytes per entry; ASCII entries use one
  std::array<uint8_t, 256> utf8_len{};
  // Inverse over the alphabet, which lies entirely in U+0021..U+0143.
  std::array<int16_t, 0x144> to_byte{};

  Tables() {
    to_byte.fill(-1);
    unsigned n = 0;
    for (unsigned b = 0; b < 256; ++b) {
      char32_t c = maps_to_itself(b) ? b : 0x100 + n++;
      to_char[b] = c;
      to_byte[c] = static_cast<int16_t>(b);
      if (c < 0x80) {
        utf8[2 * b] = static_cast<char>(c);
        utf8_len[b] = 1;
      } else {
        utf8[2 * b] = static_cast<char>(0xC0 | (c >> 6));
        utf8[2 * b + 1] = static_cast<char>(0x80 | (c & 0x3F));
        utf8_len[b] = 2;
      }
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t b) {
  return tables().to_char[b];
}

std::string_view byte_to_char_utf8(uint8_t b) {
  const Tables& t = tables();
  return {&t.utf8[2 * b], t.utf8_len[b]};
}

std::optional<uint8_t> char_to_byte(char32_t c) {
  const Tables& t = tables();
  if (c >= t.to_byte.size() || t.to_byte[c] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.to_byte[c]);
}

}  // namespace mlhub::tok
