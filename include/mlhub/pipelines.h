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
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"

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
