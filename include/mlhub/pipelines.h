// mlhub pipelines: transformers' pipeline("task", model) in C++.
//
// A Pipeline takes one input shaped as transformers' pipeline accepts it (a string, or an object
// such as {"question": ..., "context": ...}) plus the call's keyword parameters, and returns the
// JSON that transformers' pipeline returns for that one input: same field names, nesting and
// ordering (scores as floats, spans as character offsets into the original text).
//
// Threads: a Pipeline is immutable after construction; run() may be called concurrently.
#pragma once

#include <filesystem>
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
// "sentence-embeddings", "sentence-similarity", "zero-shot-classification", "text-ranking")
// over the model folder `model` (config.json, weights, tokenizer files; sentence-transformers
// folders with modules.json). `init_params` are constructor-time options
// (e.g. {"aggregation_strategy": "simple"}). kUnimplemented for an unknown task.
Result<std::unique_ptr<Pipeline>> pipeline(std::string_view task,
                                           const std::filesystem::path& model,
                                           const nlohmann::json& init_params =
                                               nlohmann::json::object());

std::vector<std::string> supported_tasks();

}  // namespace mlhub
