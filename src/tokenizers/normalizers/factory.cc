// Builds a Normalizer from its tokenizer.json object, dispatching on "type" to the component
// files of this folder (the list of tokenizers' NormalizerWrapper).
#include <string>

#include "tokenizers/normalizers/normalizers.h"

namespace mlhub::tok {
namespace {

// serde_json's recursion limit; deeper Sequence nesting is rejected rather than risking the stack.
constexpr int kMaxDepth = 128;

// Objects without "type" are accepted the way the reference's untagged fallback does: the
// first component whose required fields are present.
std::string legacy_type(const JsonRef& j) {
  const Json& o = j.raw();
  if (o.contains("clean_text") && o.contains("handle_chinese_chars") && o.contains("lowercase")) {
    return "BertNormalizer";
  }
  if (o.contains("strip_left") && o.contains("strip_right")) return "Strip";
  if (o.contains("normalizers")) return "Sequence";
  if (o.contains("precompiled_charsmap")) return "Precompiled";
  if (o.contains("pattern") && o.contains("content")) return "Replace";
  if (o.contains("prepend")) return "Prepend";
  j.fail("normalizer object has no \"type\"");
}

std::unique_ptr<Normalizer> dispatch(const JsonRef& j) {
  if (!j.is_object()) {
    j.fail("expected a normalizer object, got " + std::string(json_type_name(j.raw())));
  }
  const std::string type = j.raw().contains("type") ? j.type() : legacy_type(j);
  if (type == "BertNormalizer" || type == "Bert") return bert_normalizer_from_json(j);
  if (type == "Strip") return strip_from_json(j);
  if (type == "StripAccents") return make_strip_accents();
  if (type == "NFC") return make_unicode_normalizer(UnicodeForm::kNFC);
  if (type == "NFD") return make_unicode_normalizer(UnicodeForm::kNFD);
  if (type == "NFKC") return make_unicode_normalizer(UnicodeForm::kNFKC);
  if (type == "NFKD") return make_unicode_normalizer(UnicodeForm::kNFKD);
  if (type == "Sequence") return normalizer_sequence_from_json(j);
  if (type == "Lowercase") return make_lowercase();
  if (type == "Nmt") return make_nmt();
  if (type == "Precompiled") return precompiled_from_json(j);
  if (type == "Replace") return replace_from_json(j);
  if (type == "Prepend") return prepend_from_json(j);
  if (type == "ByteLevel") return make_byte_level_normalizer();
  j.at("type").fail("unknown normalizer type \"" + type + "\"");
}

}  // namespace

std::unique_ptr<Normalizer> normalizer_from_json(const JsonRef& j) {
  thread_local int depth = 0;
  if (depth >= kMaxDepth) j.fail("normalizers nested too deeply");
  ++depth;
  try {
    auto n = dispatch(j);
    --depth;
    return n;
  } catch (...) {
    --depth;
    throw;
  }
}

}  // namespace mlhub::tok
