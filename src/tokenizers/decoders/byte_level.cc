// ByteLevel decoder (spec 13): maps every byte-level char back to its byte, keeps tokens that
// contain any other char as their own UTF-8, and decodes the concatenation with U+FFFD for
// invalid sequences. Mirrors the Decoder impl of tokenizers/src/pre_tokenizers/byte_level.rs.
#include <string>
#include <vector>

#include "tokenizers/byte_level.h"
#include "tokenizers/decoders/decoders.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

class ByteLevelDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    size_t total = 0;
    for (const std::string& t : tokens) total += t.size();
    bytes.reserve(total);
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      if (!append_bytes(t, bytes)) {
        bytes.resize(mark);
        bytes.append(t);
      }
    }
    std::vector<std::string> out;
    out.push_back(utf8_lossy(bytes));
    return out;
  }

 private:
  // Appends the bytes of a token whose chars are all in the byte-level alphabet (all of which
  // are 1- or 2-byte UTF-8); false as soon as one char is not.
  static bool append_bytes(const std::string& t, std::string& out) {
    const size_t n = t.size();
    size_t i = 0;
    while (i < n) {
      const auto c = static_cast<unsigned char>(t[i]);
      char32_t cp;
      if (c < 0x80) {
        cp = c;
        ++i;
      } else if (c >= 0xC2 && c < 0xE0 && i + 1 < n &&
                 (static_cast<unsigned char>(t[i + 1]) & 0xC0) == 0x80) {
        cp = (static_cast<char32_t>(c & 0x1F) << 6) | (static_cast<unsigned char>(t[i + 1]) & 0x3F);
        i += 2;
      } else {
        return false;
      }
      const auto b = char_to_byte(cp);
      if (!b) return false;
      out.push_back(static_cast<char>(*b));
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Decoder> byte_level_decoder_from_json(const JsonRef& j) {
  // impl_serde_type: the tag must be "ByteLevel" and both flags are required, although
  // decoding does not use them.
  if (!j.has("type") || j.at("type").str_view() != "ByteLevel") j.fail("not a ByteLevel object");
  j.at("add_prefix_space").boolean();
  j.at("trim_offsets").boolean();
  if (auto r = j.get("use_regex")) r->boolean();
  return std::make_unique<ByteLevelDecoder>();
}

}  // namespace mlhub::tok
