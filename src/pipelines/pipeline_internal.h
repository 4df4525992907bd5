// Private to src/pipelines: what every encoder pipeline shares — the loaded model and tokenizer,
// the tokenizer settings transformers reads from tokenizer_config.json / special_tokens_map.json,
// tokenization with transformers' truncation rules, batching encodings into padded tensors, and
// the base class that turns a task's prepare/finish pair into run() and run_batch().
#pragma once

#include <any>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/models.h"
#include "mlhub/pipelines.h"
#include "mlhub/tokenizers.h"

namespace mlhub::pipelines {

using nlohmann::json;

// Throws Error(kInvalidArgument, msg): bad input or parameters, as the header promises.
[[noreturn]] void fail(const std::string& msg);

// The PreTrainedTokenizerFast attributes the pipelines read (tokenization_utils_base.py).
struct TokenizerInfo {
  // tokenizer_config.json "model_max_length"; nullopt when absent or "very large" (transformers'
  // VERY_LARGE_INTEGER, meaning: no limit, truncation=True does nothing).
  std::optional<int64_t> model_max_length;
  bool padding_right = true;     // padding_side == "right"
  bool truncation_right = true;  // truncation_side == "right"
  bool clean_up_tokenization_spaces = false;
  std::optional<uint32_t> cls_id, sep_id, pad_id, mask_id, unk_id;
  std::string mask_token;
  // The WordPiece/BPE model's continuing_subword_prefix when it has a non-empty one (token
  // classification's is_subword test depends on it).
  std::optional<std::string> continuing_subword_prefix;
  // Whether the tokenizer returns token_type_ids (model_input_names).
  bool returns_token_type_ids = true;
};

// Loads tokenizer and TokenizerInfo from a model folder (tokenizer.json or legacy files).
struct LoadedTokenizer {
  tok::Tokenizer tokenizer;
  TokenizerInfo info;
};
LoadedTokenizer load_tokenizer(const std::filesystem::path& folder);

// transformers' tokenizer(..., truncation=, max_length=, stride=) arguments, resolved into the
// backend truncation setting (_get_padding_truncation_strategies). `truncation` is the JSON value
// passed (absent/null/false/true/"longest_first"/"only_first"/"only_second"/"do_not_truncate").
std::optional<tok::TruncationParams> resolve_truncation(const TokenizerInfo& info,
                                                        const json& truncation,
                                                        const json& max_length, size_t stride = 0);
// A copy of `tk` configured as transformers configures the backend before a call: the given
// truncation, no padding (the pipelines pad batches themselves).
tok::Tokenizer configured(const tok::Tokenizer& tk, std::optional<tok::TruncationParams> trunc);

// Encodes with character offsets; throws Error(kInvalidArgument) with the tokenizer's message.
tok::Encoding encode(const tok::Tokenizer& tk, std::string_view text,
                     std::optional<std::string_view> pair = std::nullopt,
                     bool add_special_tokens = true);

// transformers' convert_tokens_to_string: the decoder chain over token strings, or the tokens
// joined by spaces when the tokenizer has no decoder.
std::string tokens_to_string(const tok::Tokenizer& tk, const std::vector<std::string>& tokens);
// decode(ids, skip_special_tokens) with the tokenizer's clean_up_tokenization_spaces.
std::string decode(const LoadedTokenizer& t, std::span<const uint32_t> ids,
                   bool skip_special_tokens);

// ---- model --------------------------------------------------------------------------------

struct LoadedModel {
  std::shared_ptr<const models::EncoderModel> model;
  LoadedTokenizer tok;
};
LoadedModel load_model(const std::filesystem::path& folder, models::Head head);

// The model outputs of one row (one encoding) of a batch, unpadded: `values` is [rows, cols]
// row-major where rows == 1 for per-sequence outputs (sequence classification logits) and the
// row's token count for per-token outputs. For question answering `values` holds start logits
// and `values2` end logits (cols == 1).
struct RowOutput {
  std::vector<float> values;
  std::vector<float> values2;
  int64_t rows = 0;
  int64_t cols = 0;
  const float* row(int64_t i) const { return values.data() + i * cols; }
};

// Runs `rows` through the model in batches (padded to the longest of each batch with the pad id
// on the tokenizer's padding side, attention mask 0 on padding) and returns each row's output
// for `head`.
std::vector<RowOutput> forward_rows(const LoadedModel& m, const std::vector<tok::Encoding>& rows);

// ---- params -------------------------------------------------------------------------------

// The call's parameters: `merged` is init params overridden by call params (what
// _sanitize_parameters sees at call time); `call` the call's own.
struct Params {
  json merged = json::object();
  json call = json::object();
  bool has(const char* key) const { return merged.contains(key); }
  // The value, or `fallback` when absent or null.
  const json& get(const char* key) const;
};
bool param_bool(const Params& p, const char* key, bool fallback);
int64_t param_int(const Params& p, const char* key, int64_t fallback);
std::string param_string(const Params& p, const char* key, const std::string& fallback);

// The task classes derive from this: prepare() tokenizes one input into model rows (with any
// state finish() needs), finish() turns those rows' outputs into the result JSON. run_batch()
// prepares every input, runs all rows through the model together, then finishes each input.
class EncoderPipeline : public Pipeline {
 public:
  json run(const json& input, const json& params) const override;
  std::vector<json> run_batch(const std::vector<json>& inputs, const json& params) const override;
  // The token count of the rows prepare() makes for `input` (special tokens, truncation and
  // every pair of e.g. zero-shot or question-answering windows included).
  int64_t count_tokens(const json& input, const json& params) const override;

 protected:
  struct Prepared {
    std::vector<tok::Encoding> rows;
    std::any state;
  };
  EncoderPipeline(std::string task, LoadedModel model, json init);
  virtual Prepared prepare(const json& input, const Params& params) const = 0;
  virtual json finish(const json& input, Prepared& prepared, std::span<const RowOutput> outputs,
                      const Params& params) const = 0;
  // Checks/normalises the merged parameters once per call (unknown keys, bad values).
  virtual void check_params(const Params& params) const {}

  LoadedModel m_;
  json init_;
};

// ---- math and text helpers ----------------------------------------------------------------

// numpy float32 softmax / sigmoid as the pipelines compute them.
std::vector<float> softmax(std::span<const float> x);
std::vector<float> sigmoid(std::span<const float> x);
size_t argmax(std::span<const float> x);  // first maximum, as numpy

// Character (code point) indexing of valid UTF-8, for Python-style slicing with the character
// offsets the tokenizer returns.
class CharIndex {
 public:
  explicit CharIndex(std::string_view text);
  size_t size() const { return bytes_.size() - 1; }  // number of code points
  // Python text[begin:end] (clamped; empty when end <= begin).
  std::string slice(int64_t begin, int64_t end) const;

 private:
  std::string_view text_;
  std::vector<size_t> bytes_;  // byte offset of each code point, plus the end
};
// Python str.lower() (full lowercase mapping) and str.strip() (Python's whitespace set).
std::string py_lower(std::string_view s);
std::string py_strip(std::string_view s);

// ---- the task factories (one file each; registry.cc lists them) ---------------------------

using Factory = std::unique_ptr<Pipeline> (*)(const std::filesystem::path& model, const json& init);
std::unique_ptr<Pipeline> make_text_classification(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_token_classification(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_question_answering(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_fill_mask(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_feature_extraction(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_sentence_embeddings(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_sentence_similarity(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_zero_shot_classification(const std::filesystem::path&, const json&);
// text2text_generation.cc: the encoder-decoder tasks. make_translation takes the task name
// ("translation" or "translation_xx_to_yy", whose task_specific_params it reads).
std::unique_ptr<Pipeline> make_text2text_generation(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_summarization(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_translation(const std::filesystem::path&, const json&,
                                           const std::string& task);
std::unique_ptr<Pipeline> make_text_ranking(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_text_generation(const std::filesystem::path&, const json&);
std::unique_ptr<Pipeline> make_chat(const std::filesystem::path&, const json&);

}  // namespace mlhub::pipelines
