// Builds a Decoder from its tokenizer.json object. As in the reference: when "type" names a
// known decoder only that one is tried; otherwise (no or unknown "type", legacy files) the
// decoders are tried in the order below and the first whose fields fit wins — only BPEDecoder,
// WordPiece, CTC, Replace and Strip can match there, the others require their "type".
#include <string>
#include <string_view>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {

char32_t json_char(const JsonRef& j) {
  const std::string_view s = j.str_view();
  size_t i = 0;
  const char32_t c = s.empty() ? kNotAChar : next_char(s, i);
  if (c == kNotAChar || i != s.size()) j.fail("expected a string of exactly one character");
  return c;
}

size_t json_usize(const JsonRef& j) {
  const int64_t v = j.integer();
  if (v < 0) j.fail("expected a non-negative integer, got " + std::to_string(v));
  return static_cast<size_t>(v);
}

std::unique_ptr<Decoder> decoder_from_json(const JsonRef& j) {
  if (!j.is_object()) {
    j.fail("expected a decoder object, got " + std::string(json_type_name(j.raw())));
  }
  using Builder = std::unique_ptr<Decoder> (*)(const JsonRef&);
  struct Variant {
    std::string_view type;
    Builder build;
  };
  static constexpr Variant kVariants[] = {
      {"BPEDecoder", bpe_decoder_from_json},
      {"ByteLevel", byte_level_decoder_from_json},
      {"WordPiece", wordpiece_decoder_from_json},
      {"Metaspace", metaspace_decoder_from_json},
      {"CTC", ctc_decoder_from_json},
      {"Sequence", sequence_decoder_from_json},
      {"Replace", replace_decoder_from_json},
      {"Fuse", fuse_decoder_from_json},
      {"Strip", strip_decoder_from_json},
      {"ByteFallback", byte_fallback_decoder_from_json},
      {"MarianSentencePiece", marian_decoder_from_json},  // mlhub extension
  };
  const std::string type = j.has("type") && j.at("type").is_string() ? j.at("type").str() : "";
  for (const Variant& v : kVariants) {
    if (v.type == type) return v.build(j);
  }
  for (const Variant& v : kVariants) {
    try {
      return v.build(j);
    } catch (const Error&) {
      // Does not fit this variant; try the next one.
    }
  }
  if (type.empty()) j.fail("decoder has no \"type\" and does not match any known decoder");
  j.fail("decoder type \"" + type + "\" is not supported");
}

}  // namespace mlhub::tok
