// Builds a PreTokenizer from its tokenizer.json object, dispatching on "type" to the
// component files of this folder (the list of tokenizers' PreTokenizerWrapper).
#include <string>

#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {

std::optional<SplitBehavior> behavior_or_null(const JsonRef& j, std::string_view key) {
  auto v = j.get(key);
  if (!v) return std::nullopt;
  auto b = split_behavior_from_string(v->str_view());
  if (!b) {
    v->fail("unknown split behavior \"" + v->str() +
            "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
  }
  return b;
}

char32_t json_char(const JsonRef& j, std::string_view key) {
  JsonRef v = j.at(key);
  std::string_view s = v.str_view();
  size_t i = 0;
  if (s.empty() || unicode::find_invalid_utf8(s)) v.fail("expected a single character");
  char32_t c = unicode::decode_utf8(s, i);
  if (i != s.size()) v.fail("expected a single character, got \"" + std::string(s) + "\"");
  return c;
}

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonRef& j) {
  if (!j.is_object())
    j.fail("expected a pre_tokenizer object, got " + std::string(json_type_name(j.raw())));
  const std::string type = j.type();
  if (type == "BertPreTokenizer") return bert_pre_tokenizer_from_json(j);
  if (type == "ByteLevel") return byte_level_from_json(j);
  if (type == "CharDelimiterSplit") return char_delimiter_split_from_json(j);
  if (type == "Metaspace") return metaspace_from_json(j);
  if (type == "Whitespace") return whitespace_from_json(j);
  if (type == "Sequence") return sequence_from_json(j);
  if (type == "Split") return split_from_json(j);
  if (type == "Punctuation") return punctuation_from_json(j);
  if (type == "WhitespaceSplit") return whitespace_split_from_json(j);
  if (type == "Digits") return digits_from_json(j);
  if (type == "UnicodeScripts") return unicode_scripts_from_json(j);
  if (type == "FixedLength") return fixed_length_from_json(j);
  j.at("type").fail("unknown pre_tokenizer type \"" + type + "\"");
}

}  // namespace mlhub::tok
