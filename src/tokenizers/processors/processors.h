// The post-processors of spec section 11, one file each, plus the helpers they share. Each
// *_from_json builder throws mlhub::Error naming the JSON path when the object does not have
// that processor's shape; factory.cc tries them in the reference's (untagged) order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "tokenizers/components.h"
#include "tokenizers/encoding_ops.h"

namespace mlhub::tok {

std::unique_ptr<PostProcessor> roberta_processing_from_json(const JsonRef& j);
std::unique_ptr<PostProcessor> bert_processing_from_json(const JsonRef& j);
std::unique_ptr<PostProcessor> byte_level_processor_from_json(const JsonRef& j);
std::unique_ptr<PostProcessor> template_processing_from_json(const JsonRef& j);
std::unique_ptr<PostProcessor> sequence_processor_from_json(const JsonRef& j);

// A (token, id) pair as written in JSON: ["[SEP]", 102].
using SpecialTokenPair = std::pair<std::string, uint32_t>;
SpecialTokenPair special_token_pair_from_json(const JsonRef& j);

// Byte-level offset trimming (Rust byte_level::process_offsets, spec 11.4): removes leading and
// trailing 'Ġ' / whitespace chars of each token string from its offsets, keeping a single
// leading one on the first token when `add_prefix_space`. Top-level tokens only.
void trim_byte_level_offsets(Encoding& enc, bool add_prefix_space);

// How BertProcessing / RobertaProcessing wrap one encoding in special tokens.
struct SpecialWrap {
  const SpecialTokenPair* before = nullptr;  // optional leading token
  const SpecialTokenPair* after = nullptr;   // trailing token (always set)
  uint32_t before_type = 0;
  uint32_t after_type = 0;
  std::optional<uint32_t> all_types;  // when set, every type id (specials included) is this
  size_t sequence_id = 0;             // key of the sequence range covering the input tokens
};

// Returns `enc` with the special tokens of `w` around it: special tokens get word none, offsets
// (0,0), special mask 1; attention is all ones; sequence_ranges = {sequence_id: input tokens};
// overflowing entries are wrapped the same way (their own overflows dropped).
Encoding wrap_with_special_tokens(Encoding enc, const SpecialWrap& w, bool wrap_overflowing);

}  // namespace mlhub::tok
