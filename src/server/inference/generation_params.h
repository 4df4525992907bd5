// Private to src/server/inference: how the generation routes read a request and shape an answer,
// shared by routes_generate.cc (TGI /generate, /generate_stream, the task API's text-generation,
// /info) and routes_openai.cc (/v1/chat/completions, /v1/completions).
//
// Everything here is a pure function of JSON, token ids and engine events (no model, no I/O), so
// tests/unit/server/generation_params_test.cc checks each mapping and each validation message
// without loading a model. docs/inference-api.md §3.11, §3.12 and §4 are the contract.
//
// Semantics chosen (and why):
// - TGI's parameters keep TGI's validation and messages ("Input validation error: `top_p` must
//   be > 0.0 and < 1.0"), because its clients (text-generation, huggingface_hub) show them as is.
//   Sampling is on when do_sample is true or any warper is set (temperature != 1, top_k, top_p <
//   1, typical_p < 1), as TGI's server decides.
// - OpenAI's parameters keep OpenAI's ranges; sampling is on unless temperature is 0 (OpenAI and
//   TGI's Messages API both sample at temperature 1 by default). presence_penalty and
//   frequency_penalty are OpenAI's additive penalties (GenerationConfig has them), not TGI's
//   repetition_penalty = presence_penalty + 2 mapping.
// - A model's own sampling defaults (generation_config.json's do_sample, temperature, top_k ...)
//   are ignored, as TGI and OpenAI-compatible servers do: only its eos / bos / pad ids are kept.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/generation.h"
#include "server/inference/engine.h"

namespace mlhub::inference::gen {

using nlohmann::json;

constexpr size_t kMaxStopSequences = 4;  // TGI's --max-stop-sequences default; OpenAI's limit
constexpr int64_t kDefaultMaxNewTokens = 1024;    // TGI 3's DEFAULT_GENERATION_LENGTH
constexpr int64_t kDefaultCompletionTokens = 16;  // OpenAI's /v1/completions max_tokens default
constexpr size_t kMaxClientBatchSize = 16;  // inputs per task API call, prompts per completion
constexpr size_t kMaxChatMessages = 1024;
// What /info reports as `version` and the OpenAI routes as `system_fingerprint`. mlhub has no
// release number yet; change both with the first release.
constexpr const char* kServerVersion = "0.1.0";
constexpr const char* kSystemFingerprint = "mlhub-0.1.0";

// What a route asks of the engine, in one shape for every API family.
struct GenParams {
  bool do_sample = false;
  double temperature = 1.0;
  int64_t top_k = 0;  // 0 = off
  double top_p = 1.0;
  double typical_p = 1.0;
  double repetition_penalty = 1.0;
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  std::optional<int64_t> max_new_tokens;  // nullopt: the route's default
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<int64_t> truncate;  // keep only the prompt's last N tokens
};

// ---- TGI ----------------------------------------------------------------------------------------

// TGI's GenerateParameters, also what the task API's text-generation takes.
struct TgiRequest {
  GenParams gen;
  bool details = false;
  bool decoder_input_details = false;
  std::optional<bool> return_full_text;  // nullopt: the route's default
};

// Parses TGI's `parameters` (an object, or null for every default; a null member counts as
// absent, as the text-generation client sends every field). `stream` adds TGI's streaming rules
// (no best_of > 1, no decoder_input_details). Unknown members are ignored, as TGI's serde does.
// Throws InferenceError kValidation with TGI's message. Not supported: best_of > 1, top_n_tokens
// > 0 (TGI's own messages for a server started without them), grammar.
TgiRequest parse_tgi_parameters(const json& parameters, bool stream);

// TGI's finish_reason: "length", "eos_token", "stop_sequence".
std::string tgi_finish_reason(generation::FinishReason reason);

// The text TGI shows for a generated token: the streamed piece (so that the pieces of the
// non-special tokens concatenate to generated_text), or the token's own text when it is special
// (e.g. "<|im_end|>", which the generated text leaves out).
std::string tgi_token_text(const TokenEvent& event);
// {"id", "text", "logprob", "special"} (TGI's Token); `text` overrides tgi_token_text when set.
json tgi_token(const TokenEvent& event, const std::optional<std::string>& text = std::nullopt);
// TGI's Details of a finished request: finish_reason, generated_tokens, seed (null when greedy),
// prefill (empty unless prefill is given), tokens.
json tgi_details(const GenerationOutcome& outcome, bool sampled,
                 const std::vector<TokenEvent>& events, const json& prefill);
// TGI's prefill list: one {"id", "text", "logprob"} per prompt token; logprob null for the first
// (nothing predicts it). token_texts[i] is prompt[i] decoded alone; logprobs[i] the log-probability
// the model gave prompt[i + 1].
json tgi_prefill(std::span<const int64_t> prompt, const std::vector<std::string>& token_texts,
                 const std::vector<float>& logprobs);

// ---- OpenAI -------------------------------------------------------------------------------------

struct ChatRequest {
  nlohmann::ordered_json
      messages;  // [{role, content: string, ...}], as the chat template reads them
  GenParams gen;
  bool stream = false;
  bool include_usage = false;    // stream_options.include_usage
  bool logprobs = false;         // the chosen tokens' log-probabilities
  int64_t input_characters = 0;  // the characters of the messages' text
};
// POST /v1/chat/completions. Throws InferenceError kValidation (a bad field) or kUnsupported
// (n > 1, top_logprobs > 0, tools, response_format other than text, image content).
ChatRequest parse_chat_request(const json& body);

struct CompletionRequest {
  std::vector<std::string> prompts;  // one choice per prompt
  GenParams gen;
  bool stream = false;
  bool include_usage = false;
  bool echo = false;  // the choice's text starts with its prompt
};
// POST /v1/completions. max_tokens defaults to kDefaultCompletionTokens (OpenAI's 16). Throws as
// parse_chat_request (suffix, logprobs > 0, best_of > 1, n > 1 are not supported).
CompletionRequest parse_completion_request(const json& body);

// OpenAI's finish_reason: "length", or "stop" (eos or a stop sequence).
std::string openai_finish_reason(generation::FinishReason reason);

// {"token", "logprob", "bytes", "top_logprobs": []}: one entry of a chat choice's logprobs.content.
json openai_logprob(const TokenEvent& event);

// "chatcmpl-" / "cmpl-" followed by 24 random alphanumerics.
std::string random_id(std::string_view prefix);

// OpenAI's rule that the returned text stops before the stop sequence, applied to text that
// arrives in pieces: a tail that may still grow into a stop sequence is held back until it is
// decided, and the text is cut at the first stop sequence once one is complete. Feeding a text
// whole or in pieces releases the same text, as long as the pieces come in the same order.
class StopTrimmer {
 public:
  explicit StopTrimmer(std::vector<std::string> stops);
  // Adds generated text; returns what may be shown now ("" after a stop sequence).
  std::string feed(std::string_view text);
  // The end of the text: returns what was held back (no stop sequence completed in it).
  std::string finish();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

// ---- Engine requests ----------------------------------------------------------------------------

// Applies `truncate` (keeps the prompt's last tokens, TGI's rule) and checks the length against
// the engine's limit. Throws kValidation with TGI's messages: "`truncate` must be strictly
// positive and less than N. Given: M", "`inputs` must have less than N tokens. Given: M",
// "`inputs` cannot be empty".
void fit_prompt(std::vector<int64_t>& prompt, const std::optional<int64_t>& truncate,
                int64_t max_input_tokens);

// The engine's config for one request: `model`'s config (eos / bos / pad ids) with every strategy
// and length field replaced from `p`; max_new_tokens is p.max_new_tokens, else
// `default_new_tokens`, and is capped so that prompt + new tokens fit `max_total_tokens` (the
// model's context), as the engine would cap it.
generation::GenerationConfig make_config(const GenParams& p,
                                         const generation::GenerationConfig& model,
                                         int64_t prompt_length, int64_t max_total_tokens,
                                         int64_t default_new_tokens);

}  // namespace mlhub::inference::gen
