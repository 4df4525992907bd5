// Builds a PostProcessor from its tokenizer.json object. The reference deserializes an untagged
// enum: the variants are tried in the order below and the first whose fields fit wins.
// Roberta, Bert and Template do not check the "type" value (so a "BertProcessing" object that
// also has Roberta's fields loads as Roberta); ByteLevel and Sequence require their own name.
#include <optional>
#include <string>
#include <string_view>

#include "tokenizers/processors/processors.h"

namespace mlhub::tok {

std::unique_ptr<PostProcessor> post_processor_from_json(const JsonRef& j) {
  if (!j.is_object()) {
    j.fail("expected a post_processor object, got " + std::string(json_type_name(j.raw())));
  }
  using Builder = std::unique_ptr<PostProcessor> (*)(const JsonRef&);
  struct Variant {
    std::string_view type;
    Builder build;
  };
  static constexpr Variant kVariants[] = {
      {"RobertaProcessing", roberta_processing_from_json},
      {"BertProcessing", bert_processing_from_json},
      {"ByteLevel", byte_level_processor_from_json},
      {"TemplateProcessing", template_processing_from_json},
      {"Sequence", sequence_processor_from_json},
  };
  const std::string type = j.has("type") && j.at("type").is_string() ? j.at("type").str() : "";
  std::optional<Error> named_error;
  for (const Variant& v : kVariants) {
    try {
      return v.build(j);
    } catch (const Error& e) {
      if (v.type == type) named_error = e;
    }
  }
  // Report why the variant the file names did not load, when it names one.
  if (named_error) throw *named_error;
  if (type.empty()) j.fail("post_processor has no \"type\" and does not match any known processor");
  j.fail("post_processor type \"" + type + "\" is not supported");
}

}  // namespace mlhub::tok
