// The five pipeline stages of a tokenizer (spec section 1) as small interfaces, and the one
// factory per stage that builds a component from its tokenizer.json object. Each factory
// dispatches on "type" to one file per component under normalizers/, pre_tokenizers/,
// models/, processors/ and decoders/. Factories throw mlhub::Error(kInvalidArgument) naming the
// JSON path on bad input; a component, once built, is immutable and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/tokenizers.h"
#include "tokenizers/json.h"
#include "tokenizers/normalized_string.h"
#include "tokenizers/pre_tokenized_string.h"

namespace mlhub::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& s) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Tokenizes one pre-tokenized piece; token offsets are byte offsets into `piece`.
  // Throws mlhub::Error when the model cannot (e.g. WordLevel unk missing from the vocab).
  virtual std::vector<Token> tokenize(std::string_view piece) const = 0;
  virtual std::optional<uint32_t> token_to_id(std::string_view token) const = 0;
  // The token string of `id`, valid as long as the model lives; nullopt when unknown.
  virtual std::optional<std::string_view> id_to_token(uint32_t id) const = 0;
  // Number of vocabulary entries (what Rust's get_vocab_size returns).
  virtual size_t vocab_size() const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Number of special tokens added for one sequence (is_pair false) or a pair.
  virtual size_t added_tokens(bool is_pair) const = 0;
  // Rust process_encodings: receives the 1 or 2 sequence encodings (already carrying
  // sequence ids / type ids, see post_process()) and returns the pieces to be merged.
  virtual std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                                  bool add_special_tokens) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

std::unique_ptr<Normalizer> normalizer_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const JsonRef& j);
std::unique_ptr<Model> model_from_json(const JsonRef& j);
std::unique_ptr<PostProcessor> post_processor_from_json(const JsonRef& j);
std::unique_ptr<Decoder> decoder_from_json(const JsonRef& j);

// ---- Encoding operations shared by the processors and the tokenizer (encoding_ops.cc) ----

// Rust Encoding::merge_with (spec section 10): appends `other` to `enc` and combines their
// overflowing lists; `growing_offsets` false keeps offsets as they are (what encode uses).
void merge_encoding(Encoding& enc, Encoding other, bool growing_offsets = false);
// Rust Encoding::merge of a list.
Encoding merge_encodings(std::vector<Encoding> encodings, bool growing_offsets = false);
// Rust Encoding::truncate(max_length, stride, direction): keeps one window, the rest
// become `overflowing`.
void truncate_encoding(Encoding& enc, size_t max_length, size_t stride, TruncationDirection dir);
// Rust truncate_encodings (spec section 10.2); throws Error on "sequence too short" etc.
void truncate_encodings(Encoding& first, std::optional<Encoding>& second, const TruncationParams& p);
// Pads one encoding (and recursively its overflowing) to `target` (spec section 12).
void pad_encoding(Encoding& enc, size_t target, const PaddingParams& p);
// Pads a batch (BatchLongest or Fixed, pad_to_multiple_of applied).
void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& p);
// Sets type_ids to `type_id` and sequence_ranges {seq_id: [0,len)} on enc and its overflows.
void set_sequence_id(Encoding& enc, size_t sequence_id);
void set_type_ids(Encoding& enc, uint32_t type_id);

// PostProcessor::process (spec 11, common frame) followed by merging: the encoding returned
// by encode before padding. `processor` may be null (plain concatenation).
Encoding post_process(const PostProcessor* processor, Encoding first, std::optional<Encoding> second,
                      bool add_special_tokens);

}  // namespace mlhub::tok
