// Shared helpers of the libFuzzer targets: a strict UTF-8 check (the oracle for "invalid input
// is an error, valid input encodes") and the structural invariants every Encoding must hold.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mlhub/tokenizers.h"

namespace mlhub::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

#define MLHUB_FUZZ_CHECK(cond) \
  do {                         \
    if (!(cond)) ::mlhub::fuzz::fail(#cond); \
  } while (0)

// Well-formed UTF-8 as in Unicode Table 3-7 (no overlongs, surrogates or values past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

// Number of Unicode scalar values in valid UTF-8.
inline size_t char_count(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Parallel arrays have one entry per token; offsets are ordered pairs inside the input (`limit`:
// its length in the offset unit, or SIZE_MAX when unknown, e.g. after a pair). Recurses into
// overflowing encodings.
inline void check_encoding(const tok::Encoding& e, size_t limit) {
  const size_t n = e.ids.size();
  MLHUB_FUZZ_CHECK(e.tokens.size() == n);
  MLHUB_FUZZ_CHECK(e.type_ids.size() == n);
  MLHUB_FUZZ_CHECK(e.words.size() == n);
  MLHUB_FUZZ_CHECK(e.offsets.size() == n);
  MLHUB_FUZZ_CHECK(e.special_tokens_mask.size() == n);
  MLHUB_FUZZ_CHECK(e.attention_mask.size() == n);
  for (const auto& [begin, end] : e.offsets) {
    MLHUB_FUZZ_CHECK(begin <= end);
    MLHUB_FUZZ_CHECK(end <= limit);
  }
  for (size_t i = 0; i < n; ++i) {
    MLHUB_FUZZ_CHECK(e.special_tokens_mask[i] <= 1);
    MLHUB_FUZZ_CHECK(e.attention_mask[i] <= 1);
  }
  for (const auto& [seq, range] : e.sequence_ranges) {
    MLHUB_FUZZ_CHECK(range.first <= range.second && range.second <= n);
  }
  MLHUB_FUZZ_CHECK(e.sequence_ids().size() == n);
  for (const auto& o : e.overflowing) check_encoding(o, limit);
}

}  // namespace mlhub::fuzz
