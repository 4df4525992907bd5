// ByteFallback decoder (spec 13): runs of "<0xHH>" tokens become the bytes they name, decoded
// as UTF-8; an invalid run yields one U+FFFD per byte. Mirrors
// tokenizers/src/decoders/byte_fallback.rs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

std::optional<int> hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// The byte a "<0xHH>" token names. The two chars are parsed like Rust's
// u8::from_str_radix(_, 16), which also accepts a leading '+' ("<0x+F>" is 0x0F).
std::optional<uint8_t> parse_byte_token(std::string_view t) {
  if (t.size() != 6 || !t.starts_with("<0x") || t.back() != '>') return std::nullopt;
  if (t[3] == '+') {
    auto d = hex_digit(t[4]);
    if (!d) return std::nullopt;
    return static_cast<uint8_t>(*d);
  }
  auto hi = hex_digit(t[3]);
  auto lo = hex_digit(t[4]);
  if (!hi || !lo) return std::nullopt;
  return static_cast<uint8_t>(*hi * 16 + *lo);
}

void flush(std::string& bytes, std::vector<std::string>& out) {
  if (bytes.empty()) return;
  if (!unicode::find_invalid_utf8(bytes)) {
    out.push_back(std::move(bytes));
  } else {
    for (size_t i = 0; i < bytes.size(); ++i) out.emplace_back(kReplacement);
  }
  bytes.clear();
}

class ByteFallbackDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string bytes;
    for (std::string& t : tokens) {
      if (auto b = parse_byte_token(t)) {
        bytes.push_back(static_cast<char>(*b));
      } else {
        flush(bytes, out);
        out.push_back(std::move(t));
      }
    }
    flush(bytes, out);
    return out;
  }
};

}  // namespace

std::unique_ptr<Decoder> byte_fallback_decoder_from_json(const JsonRef& j) {
  if (!j.has("type") || j.at("type").str_view() != "ByteFallback") {
    j.fail("not a ByteFallback object");
  }
  return std::make_unique<ByteFallbackDecoder>();
}

}  // namespace mlhub::tok
