// Builds a Model from its tokenizer.json object, dispatching on "type". Old files have no
// "type" in "model"; Rust (models/mod.rs, ModelWrapper) then deserializes the object as each
// model in turn — BPE, WordPiece, WordLevel, Unigram — and keeps the first that loads, so a
// file that fails as BPE (say, a merge naming a missing token) may still load as WordPiece.
#include <string>

#include "tokenizers/components.h"
#include "tokenizers/models/models.h"

namespace mlhub::tok {

std::unique_ptr<Model> model_from_json(const JsonRef& j) {
  if (!j.is_object()) {
    j.fail("expected a model object, got " + std::string(json_type_name(j.raw())));
  }
  if (j.raw().contains("type")) {
    const std::string type = j.type();
    if (type == "BPE") return bpe_from_json(j);
    if (type == "WordPiece") return wordpiece_from_json(j);
    if (type == "WordLevel") return wordlevel_from_json(j);
    if (type == "Unigram") return unigram_from_json(j);
    if (type == "MarianSentencePiece") return marian_from_json(j);  // mlhub extension
    j.at("type").fail("unknown model type \"" + type +
                      "\" (expected BPE, WordPiece, WordLevel or Unigram)");
  }
  using Loader = std::unique_ptr<Model> (*)(const JsonRef&);
  static constexpr std::pair<const char*, Loader> kLoaders[] = {
      {"BPE", bpe_from_json},
      {"WordPiece", wordpiece_from_json},
      {"WordLevel", wordlevel_from_json},
      {"Unigram", unigram_from_json},
  };
  std::string reasons;
  for (const auto& [name, load] : kLoaders) {
    try {
      return load(j);
    } catch (const Error& e) {
      reasons += std::string(reasons.empty() ? "" : "; ") + "not " + name + ": " + e.what();
    }
  }
  j.fail("model without \"type\" matches no model (" + reasons + ")");
}

}  // namespace mlhub::tok
