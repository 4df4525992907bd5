// mlhub pipelines: transformers' pipeline("task", model) in C++.
//
// A Pipeline takes one input shaped as transformers' pipeline accepts it (a string, or an object
// such as {"question": ..., "context": ...}) plus the call's keyword parameters, and returns the
// JSON that transformers' pipeline returns for that one input: same field names, nesting and
// ordering (scores as floats, spans as character offsets into the original text).
//
// Threads: a Pipeline is immutable after construction; run() may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/generation.h"
#include "mlhub/models.h"
#include "mlhub/tokenizers.h"

namespace mlhub {

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // One input -> one result. Bad input or parameters throw mlhub::Error (kInvalidArgument) with
  // a message a user can act on.
  virtual nlohmann::json run(const nlohmann::json& input,
                             const nlohmann::json& params = nlohmann::json::object()) const = 0;
  // Several inputs, batched through the model where the task allows; element i equals
  // run(inputs[i], params).
  virtual std::vector<nlohmann::json> run_batch(
      const std::vector<nlohmann::json>& inputs,
      const nlohmann::json& params = nlohmann::json::object()) const;
  const std::string& task() const { return task_; }
  // How many tokens the model sees for `input` (every row it makes, special tokens included), for
  // metering and batching; -1 when the task does not tell.
  virtual int64_t count_tokens(const nlohmann::json& input,
                               const nlohmann::json& params = nlohmann::json::object()) const {
    return -1;
  }

 protected:
  std::string task_;
};

// Builds the pipeline for `task` ("text-classification", "sentiment-analysis" alias,
// "token-classification"/"ner", "question-answering", "fill-mask", "feature-extraction",
// "sentence-embeddings", "sentence-similarity", "zero-shot-classification", "text-ranking",
// "text-generation", "chat") over the model folder `model` (config.json, weights, tokenizer
// files; sentence-transformers folders with modules.json; for text-generation and chat a causal
// LM with tokenizer.json, tokenizer_config.json and generation_config.json). See
// docs/pipelines.md for each task's input, parameters and output. `init_params` are
// constructor-time options (e.g. {"aggregation_strategy": "simple"}). kUnimplemented for an
// unknown task.
Result<std::unique_ptr<Pipeline>> pipeline(std::string_view task,
                                           const std::filesystem::path& model,
                                           const nlohmann::json& init_params =
                                               nlohmann::json::object());

std::vector<std::string> supported_tasks();

// A causal LM loaded for serving (what the inference server's generation engine runs): the model,
// its tokenizer, chat template and generation config, with the text rules the text-generation
// and chat pipelines apply. Immutable; every method may be called from several threads.
class LanguageModel {
 public:
  // A model folder (config.json, weights, tokenizer files) or a .gguf file. Errors as the
  // pipelines' loaders (kNotFound, kUnimplemented, kCorruption, kInvalidArgument).
  static Result<std::shared_ptr<const LanguageModel>> load(const std::filesystem::path& model);
  ~LanguageModel();

  const models::DecoderModel& model() const;
  const tok::Tokenizer& tokenizer() const;
  // The model's own generation config (generation_config.json, else config.json).
  const generation::GenerationConfig& generation_config() const;
  // transformers' TextGenerationPipeline defaults over it (max_new_tokens 256, do_sample, ...).
  const generation::GenerationConfig& pipeline_config() const;
  bool has_chat_template() const;
  // The prompt ids of a chat as the chat / text-generation pipelines make them: the template
  // rendered with add_generation_prompt = !continue_final_message (and `tools` when not null),
  // tokenized without special tokens. kInvalidArgument without a template, for a malformed chat
  // or when the template raises.
  Result<std::vector<int64_t>> chat_prompt(const nlohmann::json& messages,
                                           const nlohmann::json& tools = nullptr,
                                           bool continue_final_message = false) const;
  // The rendered chat text (what chat_prompt tokenizes).
  Result<std::string> render_chat(const nlohmann::json& messages,
                                  const nlohmann::json& tools = nullptr,
                                  bool continue_final_message = false) const;
  Result<std::vector<int64_t>> encode(std::string_view text, bool add_special_tokens = true) const;
  // decode(ids) with the tokenizer's clean_up_tokenization_spaces.
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens = true) const;
  // The text-generation pipeline's rule for the new text: decode(prompt + generated) minus the
  // characters of decode(prompt).
  std::string text_after_prompt(std::span<const int64_t> prompt, std::span<const int64_t> generated,
                                bool skip_special_tokens = true) const;
  bool is_special(int64_t id) const;
  int64_t max_positions() const;

 private:
  struct Impl;
  explicit LanguageModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An interactive conversation with a causal LM (what `mlhub chat` runs): keeps the messages,
// renders them with the tokenizer's chat template each turn, and keeps one KV cache across turns
// — a new prompt that starts with tokens already in the cache only runs its new tokens (the
// longest common prefix is kept, the rest is dropped and re-run). Each reply is what the "chat"
// pipeline returns for the same conversation and generation parameters (greedy decoding gives
// the same text), streamed while it is generated.
//
// Not thread-safe: one thread drives a session.
class ChatSession {
 public:
  struct Options {
    std::string system;  // a first "system" message when non-empty
    // generate() keywords applied over the chat pipeline's generation config (max_new_tokens,
    // do_sample, temperature, top_p, top_k, seed, ...). num_beams > 1 is not supported here.
    nlohmann::json generate = nlohmann::json::object();
  };
  // Loads the model folder. Errors: the loaders' (kNotFound, kUnimplemented, ...), and
  // kInvalidArgument for a tokenizer without a chat template or bad generation options.
  static Result<std::unique_ptr<ChatSession>> open(const std::filesystem::path& model,
                                                   const Options& options);
  ~ChatSession();

  // Adds a user message, generates the assistant's reply and adds it to the conversation.
  // `on_text` receives the reply's text as it is generated (pieces never split a UTF-8
  // character; special tokens are not shown). Returns the reply as the chat pipeline decodes
  // it (its text after the prompt, with transformers' clean-up of tokenization spaces). On an
  // error the user message is dropped again.
  Result<std::string> send(std::string_view user_text,
                           const std::function<void(std::string_view)>& on_text);
  // Forgets the conversation (keeps the system message) and empties the cache.
  void reset();
  // The conversation so far: [{"role", "content"}, ...].
  const nlohmann::ordered_json& messages() const;
  // How many prompt tokens of the last send() came from the cache instead of being run again.
  int64_t reused_tokens() const;

 private:
  struct Impl;
  explicit ChatSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlhub
