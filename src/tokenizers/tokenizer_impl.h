// The state behind mlhub::tok::Tokenizer: the five pipeline components, the added vocabulary
// and the truncation / padding settings (tokenizer/mod.rs TokenizerImpl).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "mlhub/tokenizers.h"
#include "tokenizers/added_vocabulary.h"
#include "tokenizers/components.h"
#include "tokenizers/json.h"

namespace mlhub::tok {

class TokenizerImpl {
 public:
  // Builds a tokenizer from a parsed tokenizer.json document (throws Error with JSON paths).
  static std::shared_ptr<TokenizerImpl> from_json(const Json& doc);

  // One sequence through added-token extraction, normalization, pre-tokenization and the
  // model (no truncation / post-processing). `text` must be valid UTF-8.
  Encoding encode_sequence(std::string_view text, uint32_t type_id, OffsetType offsets,
                           std::optional<uint32_t> word_index) const;
  // Truncation, post-processor and padding (Rust TokenizerImpl::post_process).
  Encoding post_process(Encoding first, std::optional<Encoding> second, bool add_special_tokens) const;
  // The whole encode of one input.
  Encoding encode(std::string_view first, std::optional<std::string_view> second,
                  bool add_special_tokens, OffsetType offsets) const;
  std::string decode(std::span<const uint32_t> ids, bool skip_special_tokens) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  size_t added_special_tokens(bool is_pair) const {
    return post_processor_ ? post_processor_->added_tokens(is_pair) : 0;
  }

  std::shared_ptr<const Normalizer> normalizer_;
  std::shared_ptr<const PreTokenizer> pre_tokenizer_;
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const PostProcessor> post_processor_;
  std::shared_ptr<const Decoder> decoder_;
  std::shared_ptr<const AddedVocabulary> added_vocabulary_;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
  bool encode_special_tokens_ = false;
  Json tokenizer_config_ = Json::object();  // tokenizer_config.json, when loaded from a folder
};

// Parses the "truncation" / "padding" objects of tokenizer.json.
TruncationParams truncation_from_json(const JsonRef& j);
PaddingParams padding_from_json(const JsonRef& j);

// Throws Error(kInvalidArgument) "input is not valid UTF-8: invalid byte 0x.. at byte N".
void check_utf8(std::string_view text, std::string_view what);

}  // namespace mlhub::tok
