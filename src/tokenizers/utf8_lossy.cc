// from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD.
#include "tokenizers/utf8_lossy.h"

#include <cstdint>

namespace mlhub::tok {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// For lead byte `c`, the number of continuation bytes and the allowed range of the first one
// (Unicode Table 3-7, Well-Formed UTF-8 Byte Sequences). Returns false for a byte that cannot
// start a sequence.
bool lead_info(uint8_t c, size_t& n_cont, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n_cont = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n_cont = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n_cont = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return false;
  }
  return true;
}

// Number of bytes starting at i that form either a complete valid sequence (*valid = true) or
// the maximal invalid subpart (*valid = false, at least 1).
size_t scan(std::string_view s, size_t i, bool* valid) {
  const uint8_t c = static_cast<uint8_t>(s[i]);
  if (c < 0x80) {
    *valid = true;
    return 1;
  }
  size_t n_cont = 0;
  uint8_t lo = 0, hi = 0;
  if (!lead_info(c, n_cont, lo, hi)) {
    *valid = false;
    return 1;
  }
  size_t k = 1;
  for (; k <= n_cont; ++k) {
    if (i + k >= s.size()) break;
    const uint8_t b = static_cast<uint8_t>(s[i + k]);
    const uint8_t min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) break;
  }
  *valid = k == n_cont + 1;
  return k;
}

}  // namespace

size_t utf8_valid_seq_len(std::string_view bytes, size_t i) {
  bool valid = false;
  const size_t n = scan(bytes, i, &valid);
  return valid ? n : 0;
}

char32_t next_char(std::string_view s, size_t& i) {
  const size_t n = utf8_valid_seq_len(s, i);
  if (n == 0) {
    ++i;
    return kNotAChar;
  }
  const uint8_t c = static_cast<uint8_t>(s[i]);
  char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  // Fast path: copy the longest valid prefix in one go.
  while (i < bytes.size()) {
    bool valid = false;
    const size_t n = scan(bytes, i, &valid);
    if (!valid) break;
    i += n;
  }
  if (i == bytes.size()) return std::string(bytes);
  out.reserve(bytes.size() + 8);
  out.append(bytes.substr(0, i));
  while (i < bytes.size()) {
    bool valid = false;
    const size_t n = scan(bytes, i, &valid);
    if (valid) {
      out.append(bytes.substr(i, n));
    } else {
      out.append(kReplacement);
    }
    i += n;
  }
  return out;
}

}  // namespace mlhub::tok
