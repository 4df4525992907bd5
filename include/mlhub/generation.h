// mlhub generation: what turns a decoder model into text: chat templates (the Jinja subset that
// tokenizer_config.json chat_template fields use, rendered exactly as transformers'
// apply_chat_template), and generation (logits processors, greedy / sampling / beam search,
// stopping criteria, streamers) with transformers' GenerationConfig semantics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/models.h"
#include "mlhub/tokenizers.h"

namespace mlhub::generation {

// ==== Chat templates (src/generation/chat_template*.cc) =======================================
//
// A Jinja2 interpreter for the subset chat templates use, rendering byte-identically to
// transformers 4.57's tokenizer.apply_chat_template(..., tokenize=False): the environment is
// Jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls,
// transformers' tojson (json.dumps, ensure_ascii=False), raise_exception and strftime_now
// globals, and the {% generation %} tag. See docs/chat_templates.md for the supported language
// and the known differences.
//
// JSON values are nlohmann::ordered_json because Python dicts keep insertion order and templates
// expose it (tojson, dict.items()); a plain nlohmann::json converts implicitly, with its keys
// sorted.

namespace jinja {
struct Program;
}  // namespace jinja

// What apply_chat_template passes besides the messages.
struct ChatTemplateOptions {
  // Appends the template's assistant header (the template reads `add_generation_prompt`).
  bool add_generation_prompt = false;
  // Renders the final message open-ended so the model continues it (transformers' tag-and-trim
  // algorithm); incompatible with add_generation_prompt.
  bool continue_final_message = false;
  // Tool JSON schemas (array of objects) or null; the template sees `tools` as None when null.
  nlohmann::ordered_json tools;
  // RAG documents (array of objects) or null.
  nlohmann::ordered_json documents;
  // The tokenizer's special_tokens_map: bos_token, eos_token, unk_token, sep_token, pad_token,
  // cls_token, mask_token (strings), additional_special_tokens (array); absent ones stay
  // undefined in the template. See special_tokens_from_config.
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
  // Extra template variables (apply_chat_template's **kwargs); they override special tokens.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
};

// A parsed chat template. Immutable after parse; copies share the parsed tree; render is
// thread-safe.
class ChatTemplate {
 public:
  // Parses Jinja2 source. Errors: InvalidArgument ("TemplateSyntaxError: line N: ...") for
  // malformed templates, unknown tags (extends/include/import/do ...), filters or tests, and
  // invalid UTF-8.
  static Result<ChatTemplate> parse(std::string_view source);

  // Renders one conversation (an array of message objects) as transformers would. Errors:
  // InvalidArgument for an exception the template raises: raise_exception(msg) yields `msg`
  // verbatim; others read "<PythonException>: message" (UndefinedError, TypeError,
  // SecurityError for list/dict mutation in the immutable sandbox, ValueError for
  // continue_final_message misuse); OutOfRange when a safety limit is hit (work budget, macro
  // recursion depth, 16 MiB strings / output, 2^20-item lists, range() over 100000 items).
  Result<std::string> render(const nlohmann::ordered_json& messages,
                             const ChatTemplateOptions& opts = {}) const;

  const std::string& source() const { return source_; }

 private:
  std::shared_ptr<const jinja::Program> program_;
  std::string source_;
};

// The chat template of a tokenizer_config.json, selected as transformers' get_chat_template
// does: `chat_template` is a string, or a list of {"name", "template"} (or an object of name ->
// template). With a list, `name` picks one (NotFound when absent); an empty name picks
// "tool_use" when with_tools and present, else "default" (InvalidArgument when neither exists).
// NotFound when the config has no chat_template.
Result<ChatTemplate> chat_template_from_config(const nlohmann::ordered_json& tokenizer_config,
                                               std::string_view name = "",
                                               bool with_tools = false);

// transformers' special_tokens_map from tokenizer_config.json: the special token strings that
// are set (string or {"content": ...} form), in transformers' order, for
// ChatTemplateOptions::special_tokens.
nlohmann::ordered_json special_tokens_from_config(const nlohmann::ordered_json& tokenizer_config);


// ==== Generation (src/generation/generate*.cc and friends) ====================================
//
// Semantics follow transformers 4.57's generate() (docs/generation.md lists every difference).
// Each sequence is generated as if it ran alone: max_length / min_length count that sequence's
// own prompt (transformers' left-padded batches count the padded width), and no processor sees
// padding. Errors: configuration problems return kInvalidArgument; model errors pass through.

// early_stopping: true, false or "never" (transformers' GenerationConfig.early_stopping).
enum class EarlyStopping : uint8_t { kFalse, kTrue, kNever };

// The text-generation fields of transformers' GenerationConfig (same names, same defaults), plus
// OpenAI's presence_penalty / frequency_penalty and a seed for our sampler.
struct GenerationConfig {
  // Length. max_length nullopt = transformers' untouched default of 20, which means "20 new
  // tokens" (capped by the model's max_positions()); a value counts prompt + generated tokens.
  // max_new_tokens wins over max_length, min_new_tokens over min_length.
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;
  std::optional<int64_t> min_new_tokens;
  int64_t min_length = 0;
  // Strategy: greedy (num_beams 1, !do_sample), multinomial sampling, beam search, beam sampling.
  bool do_sample = false;
  int64_t num_beams = 1;
  int64_t num_return_sequences = 1;
  // Warpers (only with do_sample).
  double temperature = 1.0;
  int64_t top_k = 50;  // 0 disables
  double top_p = 1.0;
  std::optional<double> min_p;
  double typical_p = 1.0;
  // Processors.
  double repetition_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  std::vector<std::vector<int64_t>> bad_words_ids;
  // OpenAI: logit[t] -= frequency_penalty * count(t) + presence_penalty * (count(t) > 0), counted
  // over the generated tokens only (not the prompt), as vLLM and OpenAI do.
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  // Beam search.
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::kFalse;
  // Special tokens. pad_token_id unset falls back to eos_token_id[0] (as transformers does).
  std::vector<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;
  std::optional<int64_t> bos_token_id;
  // Encoder-decoder models: ForcedBOSTokenLogitsProcessor (the first generated token) and
  // ForcedEOSTokenLogitsProcessor (the token at max_length - 1), and the decoder's first token
  // (unset: the model's config.json decoder_start_token_id).
  std::optional<int64_t> forced_bos_token_id;
  std::vector<int64_t> forced_eos_token_id;
  std::optional<int64_t> decoder_start_token_id;
  std::vector<std::string> stop_strings;  // needs GenerateOptions::tokenizer
  std::optional<uint64_t> seed;           // sampling RNG seed; unset = random

  // Parses a generation_config.json object. Unknown keys are ignored; known keys with a wrong
  // type are kInvalidArgument. eos_token_id may be an int or a list; null means unset.
  static Result<GenerationConfig> from_json(const nlohmann::json& json);
  // What transformers builds from config.json when a model has no generation_config.json
  // (GenerationConfig.from_model_config: bos/eos/pad and any generation field it sets).
  static Result<GenerationConfig> from_model_config(const nlohmann::json& config);
  // Loads folder/generation_config.json, else derives from folder/config.json. A missing
  // eos/bos/pad in generation_config.json is not filled from config.json (transformers neither).
  static Result<GenerationConfig> load(const std::filesystem::path& folder);
  // Applies model.generate(**kwargs) overrides given as a JSON object, over this config.
  Status update(const nlohmann::json& overrides);
  // transformers' checks that would raise (temperature <= 0 with sampling, top_p outside [0,1],
  // num_return_sequences > num_beams in beam search, ...).
  Status validate() const;
  nlohmann::json to_json() const;

  // Resolved lengths for a prompt of `prompt_length` tokens and a model of `max_positions`.
  int64_t resolved_max_length(int64_t prompt_length, int64_t max_positions) const;
  int64_t resolved_min_length(int64_t prompt_length) const;
  // pad_token_id, else eos_token_id[0], else -1.
  int64_t resolved_pad_token_id() const;
};

// ---- Logits processors (src/generation/logits_process.cc) ------------------------------------
//
// Each processor edits one row of float32 scores for one sequence, given that sequence's tokens
// (prompt then generated). Arithmetic equals transformers' torch code in float32 (a Python float
// parameter is rounded to float32 first, as torch does for tensor-scalar ops).

struct SequenceView {
  std::span<const int64_t> tokens;  // prompt + generated so far
  int64_t prompt_length = 0;
};

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual void apply(const SequenceView& sequence, std::span<float> scores) const = 0;
  virtual std::string_view name() const = 0;  // transformers' class name
};

class LogitsProcessorList {
 public:
  void add(std::unique_ptr<LogitsProcessor> processor) { list_.push_back(std::move(processor)); }
  void apply(const SequenceView& sequence, std::span<float> scores) const;
  size_t size() const { return list_.size(); }
  const LogitsProcessor& operator[](size_t i) const { return *list_[i]; }

 private:
  std::vector<std::unique_ptr<LogitsProcessor>> list_;
};

// transformers' _get_logits_processor order: RepetitionPenalty, (presence/frequency: ours),
// NoRepeatNGram, NoBadWords, MinLength, MinNewTokensLength, then with do_sample Temperature,
// TopK, TopP, MinP, Typical. `min_length` is the resolved total length (resolved_min_length);
// min_new_tokens is applied through it. ForcedBOS / ForcedEOS come after MinNewTokens, as
// transformers orders them; ForcedEOS needs the resolved total `max_length`. Throws
// mlhub::Error(kInvalidArgument) on values transformers' constructors reject.
LogitsProcessorList build_logits_processors(const GenerationConfig& config, int64_t min_length,
                                            int64_t max_length = 0);

// The single processors, for tests and custom lists. min_tokens_to_keep as transformers'.
std::unique_ptr<LogitsProcessor> make_repetition_penalty(double penalty);
std::unique_ptr<LogitsProcessor> make_presence_frequency_penalty(double presence, double frequency);
std::unique_ptr<LogitsProcessor> make_no_repeat_ngram(int64_t ngram_size);
std::unique_ptr<LogitsProcessor> make_no_bad_words(std::vector<std::vector<int64_t>> bad_words_ids,
                                                   std::vector<int64_t> eos_token_id);
std::unique_ptr<LogitsProcessor> make_min_length(int64_t min_length, std::vector<int64_t> eos);
// Position 1 (the first token after a one-token decoder prompt) / position max_length - 1: every
// score -inf but the forced token's, which becomes 0.
std::unique_ptr<LogitsProcessor> make_forced_bos(int64_t bos_token_id);
std::unique_ptr<LogitsProcessor> make_forced_eos(int64_t max_length, std::vector<int64_t> eos);
std::unique_ptr<LogitsProcessor> make_temperature(double temperature);
std::unique_ptr<LogitsProcessor> make_top_k(int64_t top_k, int64_t min_tokens_to_keep = 1);
std::unique_ptr<LogitsProcessor> make_top_p(double top_p, int64_t min_tokens_to_keep = 1);
std::unique_ptr<LogitsProcessor> make_min_p(double min_p, int64_t min_tokens_to_keep = 1);
std::unique_ptr<LogitsProcessor> make_typical(double mass, int64_t min_tokens_to_keep = 1);

// log_softmax of one row in float32 (max-shifted; the sum accumulated in double).
void log_softmax_inplace(std::span<float> scores);

// ---- Sampling RNG (src/generation/sampling.cc) ------------------------------------------------

// xoshiro256** seeded through splitmix64 from (seed, stream): our own generator, so sampled
// tokens are reproducible per seed on every platform (torch's RNG is not reproduced).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0);
  uint64_t next_u64();
  double uniform();  // [0, 1), 53 bits
 private:
  uint64_t s_[4];
};

// Draws an index from softmax(scores) (-inf entries are never drawn). kInvalidArgument (thrown)
// when every score is -inf or NaN.
int64_t sample_from_logits(std::span<const float> scores, Rng& rng);
// The first index of the maximum (torch.argmax).
int64_t argmax(std::span<const float> scores);

// ---- Stopping (src/generation/stopping.cc) ----------------------------------------------------

enum class FinishReason : uint8_t {
  kNone,        // still running
  kLength,      // max_new_tokens / max_length / the model's max_positions()
  kEos,         // an eos_token_id was generated (it is part of the output)
  kStopString,  // a stop string ended in the last token (the token is part of the output)
  kCancelled,   // Generator::cancel
};
std::string_view finish_reason_name(FinishReason reason);  // "length", "eos", "stop", ...

// transformers' StopStringCriteria: true when some stop string occurs in the concatenated token
// strings and ends inside the last token (so it overlaps it). Token strings are what each id
// decodes to on its own, with leading-space markers resolved (token_strings_for()).
class StopStringMatcher {
 public:
  // token_strings[id] is the text of token id (shared: one table serves many requests).
  StopStringMatcher(std::vector<std::string> stop_strings,
                    std::shared_ptr<const std::vector<std::string>> token_strings);
  // `tokens` is the whole sequence (prompt + generated): a stop string may start in the prompt.
  bool matches(std::span<const int64_t> tokens) const;

 private:
  std::vector<std::string> stop_strings_;
  std::shared_ptr<const std::vector<std::string>> token_strings_;
  size_t max_stop_length_ = 0;
};
// Per id, the text it adds after a fixed prefix (transformers' clean_tokenizer_vocab: the prefix
// "abcdef" is encoded, each id is decoded after it, and the prefix's text is cut off).
Result<std::vector<std::string>> token_strings_for(const tok::Tokenizer& tokenizer);

// ---- Streaming (src/generation/streamer.cc) ---------------------------------------------------

// Turns generated ids into text pieces for a callback. A piece never splits a UTF-8 character or
// a byte-fallback sequence: incomplete bytes are held until the token that completes them (the
// window algorithm of the Rust DecodeStream, with an end() flush). Unlike transformers' TextStreamer, text is released at every
// complete character instead of at word boundaries (docs/generation.md says why).
class TextStreamer {
 public:
  using Callback = std::function<void(std::string_view text)>;
  TextStreamer(const tok::Tokenizer& tokenizer, Callback callback, bool skip_prompt = true,
               bool skip_special_tokens = false);
  // The prompt: emitted unless skip_prompt; either way it is decoding context.
  Status put_prompt(std::span<const int64_t> ids);
  Status put(int64_t id);
  // Flushes held bytes (as U+FFFD if they never completed). Call once at the end.
  Status end();

 private:
  Status feed(int64_t id, bool emit);
  const tok::Tokenizer* tokenizer_;
  Callback callback_;
  bool skip_prompt_;
  bool skip_special_tokens_;
  // The Rust DecodeStream window: ids_[prefix_index_..] are not released yet; prefix_ is the
  // text of ids_[..prefix_index_].
  std::vector<uint32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

// ---- Generation (src/generation/generate.cc, beam_search.cc) ---------------------------------

struct GeneratedSequence {
  std::vector<int64_t> tokens;  // generated tokens only (the eos / stop token included)
  FinishReason finish_reason = FinishReason::kNone;
  // Beam search: transformers' sequences_scores (sum of processed log-probs / length^penalty).
  // Greedy / sampling: the sum of the chosen tokens' log-probabilities after processing.
  float score = 0.0f;
};

struct GenerationResult {
  std::vector<GeneratedSequence> sequences;  // num_return_sequences, best first for beams
};

struct GenerateOptions {
  const tok::Tokenizer* tokenizer = nullptr;  // required for stop_strings
  // Called after each step with the new token of sequence `index` of prompt `prompt`
  // (greedy / sampling only; beam search reports nothing until it ends).
  std::function<void(size_t prompt, size_t index, int64_t token)> on_token;
};

// Step-level driver for the server (continuous batching): requests join with add(), every
// step() runs one model forward over all running sequences (prefill of new prompts included:
// each DecoderSequence carries its own KvCache), and requests leave when finished or cancelled.
// A beam request runs num_beams sequences that fork their caches (KvCache::clone) when a beam
// is selected more than once. Not thread-safe: one thread drives a Generator.
class Generator {
 public:
  struct Event {
    uint64_t request = 0;
    size_t index = 0;           // return-sequence index within the request
    int64_t token = -1;         // the new token; -1 for beam requests
    FinishReason finish_reason = FinishReason::kNone;  // kNone while running
    // Greedy / sampling: log_softmax of the processed scores at `token` (what
    // GeneratedSequence::score sums); 0 for beam requests.
    float logprob = 0.0f;
  };

  Generator(const models::DecoderModel& model, const tok::Tokenizer* tokenizer = nullptr);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Queues a prompt (non-empty, or empty with bos_token_id set) with its own config. Returns the
  // request id. kInvalidArgument for a bad config, stop_strings without a tokenizer, or ids
  // outside the vocabulary. Encoder-decoder models: `cross` is the source (every cache of the
  // request decodes from it) and the prompt is the decoder's start, e.g. {decoder_start_token_id}.
  Result<uint64_t> add(std::vector<int64_t> prompt, const GenerationConfig& config,
                       std::shared_ptr<const models::CrossMemory> cross = nullptr);
  // Finishes a request now (kCancelled); its result stays available through take().
  void cancel(uint64_t request);
  // One forward over every running request. Returns one event per running greedy/sampling
  // sequence (its new token) and one per finishing beam request. When the model fails (its
  // error is returned) the running requests are left in an unspecified state: cancel them.
  Result<std::vector<Event>> step();
  bool has_running() const;
  // The result of a finished request, once; kNotFound while running or after take().
  Result<GenerationResult> take(uint64_t request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Generates for every prompt together (one forward per step) and returns, per prompt, what
// transformers' generate() returns for it run alone. A batch gives the same tokens as each
// prompt alone (sampling included: each prompt's RNG is seeded from config.seed alone).
Result<std::vector<GenerationResult>> generate(const models::DecoderModel& model,
                                               const std::vector<std::vector<int64_t>>& prompts,
                                               const GenerationConfig& config,
                                               const GenerateOptions& options = {});

// Encoder-decoder generation, as transformers' generate() on a *ForConditionalGeneration model:
// each source (token ids, eos included as the tokenizer adds it) is encoded (sources are
// batched through the encoder), and decoding starts from config.decoder_start_token_id (else the
// model's). Lengths count decoder tokens including the start token, so max_new_tokens N gives
// at most N tokens after it. GeneratedSequence::tokens holds the generated tokens only (not the
// start token). Same batching guarantees as generate().
Result<std::vector<GenerationResult>> generate_seq2seq(const models::Seq2SeqModel& model,
                                                       const std::vector<std::vector<int64_t>>& sources,
                                                       const GenerationConfig& config,
                                                       const GenerateOptions& options = {});
// The encoder half of generate_seq2seq: each source's CrossMemory, for Generator::add (the
// server's continuous batching). Sources are batched through the encoder by length.
// kInvalidArgument for an empty source or one longer than the model's max_source_positions().
Result<std::vector<std::shared_ptr<const models::CrossMemory>>> encode_sources(
    const models::Seq2SeqModel& model, const std::vector<std::vector<int64_t>>& sources);

}  // namespace mlhub::generation
