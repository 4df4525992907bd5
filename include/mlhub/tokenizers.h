// mlhub tokenizers: loads Hugging Face tokenizers (tokenizer.json, or the legacy vocab.txt,
// vocab.json + merges.txt and SentencePiece .model files with tokenizer_config.json) and
// encodes/decodes exactly as the Rust `tokenizers` library 0.22.2 does.
//
// Spec: ../shared/docs/tokenizers.md. Differences from the reference are listed in
// docs/tokenizers.md of this repository.
//
// Thread safety: a Tokenizer is immutable after loading except for the set_truncation /
// set_padding / set_encode_special_tokens setters; const methods may be called from any
// number of threads at once. Copies share the loaded vocabulary (cheap).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlhub/core.h"

namespace mlhub {
class ThreadPool;
}

namespace mlhub::tok {

// Which unit offsets count in: bytes of the UTF-8 input (the Rust `encode`) or Unicode scalar
// values (the Rust `encode_char_offsets`, what the Python binding returns).
enum class OffsetType : uint8_t { kByte, kChar };

using Offsets = std::pair<size_t, size_t>;

// The output of encoding one input (a sequence or a pair), as in tokenizers' `Encoding`.
struct Encoding {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<std::string> tokens;
  std::vector<std::optional<uint32_t>> words;  // word index, none for special/pad tokens
  std::vector<Offsets> offsets;
  std::vector<uint32_t> special_tokens_mask;
  std::vector<uint32_t> attention_mask;
  std::vector<Encoding> overflowing;
  // sequence id -> [begin, end) token range; used by sequence_ids().
  std::map<size_t, std::pair<size_t, size_t>> sequence_ranges;

  size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }
  // Per token: the index of the input sequence it came from (0 or 1), none for special tokens.
  std::vector<std::optional<uint32_t>> sequence_ids() const;
};

enum class TruncationDirection : uint8_t { kRight, kLeft };
enum class TruncationStrategy : uint8_t { kLongestFirst, kOnlyFirst, kOnlySecond };

struct TruncationParams {
  TruncationDirection direction = TruncationDirection::kRight;
  size_t max_length = 512;
  TruncationStrategy strategy = TruncationStrategy::kLongestFirst;
  size_t stride = 0;
};

enum class PaddingDirection : uint8_t { kRight, kLeft };

struct PaddingParams {
  // nullopt: pad to the longest encoding of the batch; a value: pad to that fixed length.
  std::optional<size_t> fixed_length;
  PaddingDirection direction = PaddingDirection::kRight;
  std::optional<size_t> pad_to_multiple_of;
  uint32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

// One added token as listed in tokenizer.json's "added_tokens".
struct AddedToken {
  std::string content;
  uint32_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// An encode input: one sequence, or a pair (second set).
struct EncodeInput {
  std::string first;
  std::optional<std::string> second;
};

class TokenizerImpl;  // private, src/tokenizers/tokenizer_impl.h

class Tokenizer {
 public:
  // Loads a tokenizer.json file. Errors name the file, the JSON path and the problem, e.g.
  // "tokenizer.json: $.model.merges[3]: merge \"a b\" refers to token \"b\" not in the vocab".
  static Result<Tokenizer> from_file(const std::string& path);
  // Parses the contents of a tokenizer.json file.
  static Result<Tokenizer> from_json_string(std::string_view json);
  // Loads a model folder the way transformers' AutoTokenizer does: tokenizer.json when present,
  // otherwise the legacy files (vocab.txt; vocab.json + merges.txt; a SentencePiece .model),
  // with tokenizer_config.json / special_tokens_map.json settings applied. A MarianTokenizer
  // folder (source.spm, target.spm, vocab.json) loads as transformers' slow MarianTokenizer,
  // even when it also has a tokenizer.json (transformers has no fast Marian class); encode and
  // decode then follow that class (docs/tokenizers.md, "MarianTokenizer").
  // `path` may also be a tokenizer.json file.
  static Result<Tokenizer> from_pretrained(const std::string& path);

  // Encodes one sequence. Input must be valid UTF-8 (else kInvalidArgument naming the byte
  // position). Truncation and padding configured on this tokenizer apply.
  Result<Encoding> encode(std::string_view text, bool add_special_tokens = true,
                          OffsetType offsets = OffsetType::kChar) const;
  // Encodes a pair (first, second).
  Result<Encoding> encode_pair(std::string_view first, std::string_view second,
                               bool add_special_tokens = true,
                               OffsetType offsets = OffsetType::kChar) const;
  // Encodes pre-tokenized input: each word runs through the whole pipeline on its own and its
  // offsets are relative to that word (as in the Rust library).
  Result<Encoding> encode_pretokenized(const std::vector<std::string>& words,
                                       bool add_special_tokens = true,
                                       OffsetType offsets = OffsetType::kChar) const;
  // Encodes many inputs on `pool` (ThreadPool::global() when null), then pads the batch.
  // Results are in input order and equal to encoding one at a time (before batch padding).
  Result<std::vector<Encoding>> encode_batch(const std::vector<EncodeInput>& inputs,
                                             bool add_special_tokens = true,
                                             OffsetType offsets = OffsetType::kChar,
                                             ThreadPool* pool = nullptr) const;

  // Decodes ids to text: unknown ids are dropped; special tokens dropped when asked; then the
  // decoder chain. `clean_up_tokenization_spaces` applies transformers' extra clean-up (off in
  // the Rust library).
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special_tokens = false,
                             bool clean_up_tokenization_spaces = false) const;
  Result<std::vector<std::string>> decode_batch(const std::vector<std::vector<uint32_t>>& ids,
                                                bool skip_special_tokens = false) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  // Size of the model vocabulary, plus added tokens when `with_added_tokens`.
  size_t vocab_size(bool with_added_tokens = true) const;
  std::vector<AddedToken> added_tokens() const;
  // Number of special tokens the post-processor adds to one sequence or a pair.
  size_t num_special_tokens_to_add(bool is_pair) const;

  const std::optional<TruncationParams>& truncation() const;
  const std::optional<PaddingParams>& padding() const;
  // Sets or clears truncation; fails (kInvalidArgument) when stride >= max_length - added
  // special tokens, as the Rust library does.
  Status set_truncation(std::optional<TruncationParams> params);
  void set_padding(std::optional<PaddingParams> params);
  // When true, special added tokens in the input are not matched (tokenized as plain text).
  void set_encode_special_tokens(bool value);

  // Values read from tokenizer_config.json by from_pretrained (e.g. "bos_token",
  // "model_max_length", "chat_template"), as a JSON string; nullopt when absent.
  std::optional<std::string> config_value(std::string_view key) const;

  Tokenizer(const Tokenizer&);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(const Tokenizer&);
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  explicit Tokenizer(std::shared_ptr<TokenizerImpl> impl);
  const TokenizerImpl& impl() const { return *impl_; }

 private:
  TokenizerImpl& mutable_impl();  // copy-on-write before a setter changes shared state
  std::shared_ptr<TokenizerImpl> impl_;
};

// Incremental decoding for streaming generation: feed ids one at a time, get text chunks that
// never end inside a UTF-8 character or a byte-fallback sequence (the Rust `DecodeStream`).
class DecodeStream {
 public:
  explicit DecodeStream(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  // Returns the new text produced by `id`, or nullopt when none is ready yet.
  Result<std::optional<std::string>> step(uint32_t id);

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_tokens_;
  std::vector<uint32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

}  // namespace mlhub::tok
