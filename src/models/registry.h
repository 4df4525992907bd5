// The model registry's private interface: what each architecture file provides.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mlhub/models.h"

namespace mlhub::models {

// What every architecture class derives from: sets the config and head that EncoderModel exposes,
// and lets build_encoder attach the load report once the weights are all read.
class EncoderBase : public EncoderModel {
 public:
  void set_load_report(nn::LoadReport report) { load_report_ = std::move(report); }

 protected:
  EncoderBase(const ModelConfig& config, Head head) {
    config_ = config;
    head_ = head;
  }
  // Records the values the architecture actually uses where config.json leaves them to its
  // config class's defaults (pipelines read them from config()): 0 token types when the model
  // has none.
  void set_effective_sizes(int64_t type_vocab_size, int64_t max_position_embeddings) {
    config_.type_vocab_size = type_vocab_size;
    config_.max_position_embeddings = max_position_embeddings;
  }
};

// Builds one architecture from its config and weights with the requested head. Throws
// mlhub::Error (kUnimplemented for unsupported config values or heads, kInvalidArgument for
// invalid ones); missing weights are recorded in the WeightMap, which the caller finishes.
using EncoderFactory = std::unique_ptr<EncoderBase> (*)(const ModelConfig& config,
                                                        const nn::WeightMap& weights, Head head);

struct EncoderRegistration {
  const char* model_type;   // config.json "model_type"
  const char* base_prefix;  // transformers' base_model_prefix
  EncoderFactory factory;
};

// The registration of `model_type`, or nullptr (registry.cc).
const EncoderRegistration* find_registration(std::string_view model_type);

// One declaration per architecture file (defined there), listed once in registry.cc.
std::unique_ptr<EncoderBase> make_bert(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_roberta(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_electra(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_distilbert(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_mpnet(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_deberta_v2(const ModelConfig&, const nn::WeightMap&, Head);
std::unique_ptr<EncoderBase> make_xlnet(const ModelConfig&, const nn::WeightMap&, Head);

}  // namespace mlhub::models
