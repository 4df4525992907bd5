// ByteLevel as a post-processor (spec 11.4): adds nothing, optionally trims the offsets of
// tokens that start or end with byte-level spaces. Mirrors the PostProcessor impl and
// process_offsets of tokenizers/src/pre_tokenizers/byte_level.rs.
#include <algorithm>
#include <string_view>
#include <vector>

#include "tokenizers/processors/processors.h"
#include "tokenizers/unicode.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

constexpr char32_t kByteLevelSpace = 0x120;  // 'Ġ', the byte-level image of ' '

bool is_space_like(char32_t c) {
  return c == kByteLevelSpace || (c < kNotAChar && unicode::is_whitespace(c));
}

size_t count_leading(std::string_view s) {
  size_t count = 0, i = 0;
  while (i < s.size() && is_space_like(next_char(s, i))) ++count;
  return count;
}

size_t count_trailing(std::string_view s) {
  size_t count = 0, end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    // Step back to the start of the last char (at most 3 continuation bytes).
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    size_t i = start;
    const char32_t c = next_char(s, i);
    if (i != end) {
      // Not one valid char: a stray byte ends the run.
      break;
    }
    if (!is_space_like(c)) break;
    ++count;
    end = start;
  }
  return count;
}

class ByteLevelProcessor final : public PostProcessor {
 public:
  ByteLevelProcessor(bool add_prefix_space, bool trim_offsets)
      : add_prefix_space_(add_prefix_space), trim_offsets_(trim_offsets) {}

  size_t added_tokens(bool) const override { return 0; }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                          bool) const override {
    if (trim_offsets_) {
      for (Encoding& e : encodings) {
        trim_byte_level_offsets(e, add_prefix_space_);
        for (Encoding& o : e.overflowing) trim_byte_level_offsets(o, add_prefix_space_);
      }
    }
    for (size_t i = 0; i < encodings.size(); ++i) set_sequence_id_shallow(encodings[i], i);
    return encodings;
  }

 private:
  bool add_prefix_space_;
  bool trim_offsets_;
};

}  // namespace

void trim_byte_level_offsets(Encoding& enc, bool add_prefix_space) {
  const size_t n = std::min(enc.tokens.size(), enc.offsets.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string_view token = enc.tokens[i];
    size_t leading = count_leading(token);
    const size_t trailing = count_trailing(token);
    if (leading == 0 && trailing == 0) continue;
    Offsets& off = enc.offsets[i];
    if (leading > 0) {
      // A single leading space on the first token is the one add_prefix_space inserted.
      const bool is_first = i == 0 || off.first == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      off.first = std::min(off.first + leading, off.second);
    }
    if (trailing > 0 && off.second >= trailing) {
      off.second = std::max(off.second - trailing, off.first);
    }
  }
}

std::unique_ptr<PostProcessor> byte_level_processor_from_json(const JsonRef& j) {
  // impl_serde_type: the "type" tag must name this struct; use_regex is unused here.
  if (!j.has("type") || j.at("type").str_view() != "ByteLevel") j.fail("not a ByteLevel object");
  if (auto r = j.get("use_regex")) r->boolean();
  return std::make_unique<ByteLevelProcessor>(j.at("add_prefix_space").boolean(),
                                              j.at("trim_offsets").boolean());
}

}  // namespace mlhub::tok
