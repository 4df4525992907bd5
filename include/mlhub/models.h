// mlhub models: encoder architectures loaded from Hugging Face folders, one file per family in
// src/models/ and one registry (src/models/registry.cc) mapping config.json's model_type /
// architectures to constructors.
//
// Threads: a loaded model is immutable; forward() may be called from several threads at once.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/io.h"
#include "mlhub/nn.h"
#include "mlhub/tensor.h"

namespace mlhub::models {

// The head on top of the base model (transformers' class suffix).
enum class Head : uint8_t {
  kBase,                    // *Model: last_hidden_state (+ pooler_output where the arch has one)
  kSequenceClassification,  // *ForSequenceClassification: logits [B, num_labels]
  kTokenClassification,     // *ForTokenClassification: logits [B, T, num_labels]
  kQuestionAnswering,       // *ForQuestionAnswering: start_logits, end_logits [B, T]
  kMaskedLM,                // *ForMaskedLM: logits [B, T, vocab]
};
std::string_view head_name(Head head);  // "SequenceClassification", ...
// The head an architectures[] entry names ("BertForMaskedLM" -> kMaskedLM, "BertModel" -> kBase).
// kNotFound when the name has no known suffix.
Result<Head> head_from_architecture(std::string_view architecture);

// config.json, with the fields every encoder pipeline needs parsed out.
struct ModelConfig {
  nlohmann::json raw;
  std::string model_type;                  // "bert", "distilbert", ...
  std::vector<std::string> architectures;  // as written
  std::vector<std::string> id2label;       // index -> label; "LABEL_i" when absent
  std::string problem_type;                // "", "single_label_classification", ...
  int64_t num_labels = 2;
  int64_t pad_token_id = -1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 0;  // 0 when the model has no token type embeddings

  // Reads folder/config.json (or a config.json path). kNotFound / kCorruption / kInvalidArgument.
  static Result<ModelConfig> load(const std::filesystem::path& path);
  static Result<ModelConfig> parse(const nlohmann::json& raw);
};

struct EncoderInput {
  Tensor input_ids;       // I64 [B, T]
  Tensor attention_mask;  // I64 [B, T]; undefined = all ones
  Tensor token_type_ids;  // I64 [B, T]; undefined = zeros (ignored by archs without them)
};

struct ForwardOptions {
  bool output_hidden_states = false;  // fill EncoderOutput::hidden_states
  nn::TraceFn trace;                  // optional debug hook
};

struct EncoderOutput {
  Tensor last_hidden_state;  // [B, T, H]
  Tensor pooler_output;      // [B, H] for archs with a pooler in kBase (BERT's pooler), else undefined
  Tensor logits;             // kSequenceClassification/kTokenClassification/kMaskedLM
  Tensor start_logits;       // kQuestionAnswering [B, T]
  Tensor end_logits;         // kQuestionAnswering [B, T]
  // embeddings output, then each layer's output (num_hidden_layers + 1), as transformers'
  // output_hidden_states.
  std::vector<Tensor> hidden_states;
};

class EncoderModel {
 public:
  virtual ~EncoderModel() = default;
  virtual EncoderOutput forward(const EncoderInput& input,
                                const ForwardOptions& options = {}) const = 0;
  const ModelConfig& config() const { return config_; }
  Head head() const { return head_; }
  const nn::LoadReport& load_report() const { return load_report_; }

 protected:
  ModelConfig config_;
  Head head_ = Head::kBase;
  nn::LoadReport load_report_;
};

struct LoadOptions {
  // kBase..kMaskedLM, or unset to take it from config.architectures[0].
  std::optional<Head> head;
  // Build even when weights are missing (they stay zero), as transformers does with random
  // init; the report lists them. Off by default: a pipeline on random weights is a bug.
  bool allow_missing = false;
};

// Loads config.json + checkpoint (io::Checkpoint::open rules) from `folder` and builds the model
// the registry names for config.model_type. kUnimplemented for an unknown model_type or head,
// kInvalidArgument for missing weights (listing them), io errors as io reports them.
Result<std::unique_ptr<EncoderModel>> load_encoder(const std::filesystem::path& folder,
                                                   const LoadOptions& options = {});
// Same, from an already-open checkpoint and config.
Result<std::unique_ptr<EncoderModel>> build_encoder(const ModelConfig& config,
                                                    std::shared_ptr<const io::Checkpoint> ckpt,
                                                    const LoadOptions& options = {});

// The model_type values the registry knows.
std::vector<std::string> supported_model_types();

}  // namespace mlhub::models
