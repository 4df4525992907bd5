// What every decoder architecture file uses (private to src/models): the stacked layout of a
// ragged DecoderSequence batch, KV-cache writes, rotary embeddings with transformers' rope
// scaling types, and the decoder registry.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/models.h"
#include "mlhub/nn.h"
#include "mlhub/ops.h"

namespace mlhub::models {

// A DecoderSequence batch stacked into rows: sequence s owns rows [row0[s], row0[s] + rows[s])
// of every [N, ...] activation, at positions start[s], start[s] + 1, ...
struct BatchLayout {
  std::vector<int64_t> ids;        // [N] token ids
  std::vector<int64_t> positions;  // [N]
  std::vector<int64_t> row0, rows, start;
  std::vector<int64_t> output_rows;  // the rows whose logits forward() returns, in order
  int64_t n = 0;

  // Checks the batch (ids < vocab, caches shaped num_layers x kv_width, positions below
  // max_positions) and reserves each cache's rows for the new tokens. Throws kInvalidArgument.
  static BatchLayout make(std::span<const DecoderSequence> batch, int64_t vocab_size,
                          int64_t max_positions, int num_layers, int64_t kv_width);
  Tensor ids_tensor() const;  // I64 [N]
};

// Writes k and v ([N, kv_width], F32) of layer `layer` into each sequence's cache rows and
// returns the attention view of every sequence (its whole cache up to and including the new
// tokens).
std::vector<ops::CachedAttentionSequence> store_kv(std::span<const DecoderSequence> batch,
                                                   const BatchLayout& layout, int layer,
                                                   const Tensor& k, const Tensor& v);
// Publishes the new rows of every cache (after the last layer).
void commit_caches(std::span<const DecoderSequence> batch, const BatchLayout& layout);

// x's rows `rows`, as a contiguous [rows.size(), width] tensor (x itself when rows is 0..N-1).
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows);

// Rotary position embedding with transformers' rope types (modeling_rope_utils.py): "default",
// "linear", "dynamic", "yarn", "longrope", "llama3". Frequencies may depend on the length a
// sequence reaches (dynamic, longrope), so they are chosen per sequence of a batch.
class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  // raw: config.json; head_dim: the attention head size; rotary_dim: the rotated features
  // (head_dim * partial_rotary_factor).
  RotaryEmbedding(const nlohmann::json& raw, std::string_view model_type, int64_t head_dim,
                  int64_t rotary_dim, int64_t max_position_embeddings);
  // Rotates rows of x [N, heads * head_dim] in place at the layout's positions.
  void apply(Tensor& x, int heads, const BatchLayout& layout) const;
  int64_t rotary_dim() const { return rotary_dim_; }

 private:
  // The frequencies a sequence whose longest position is `max_position` uses.
  const std::vector<float>& inv_freq_for(int64_t max_position, std::vector<float>& scratch) const;

  std::string type_ = "default";
  std::vector<float> inv_freq_;        // default frequencies (all types)
  std::vector<float> long_inv_freq_;   // longrope: past original_max_positions_
  float attention_scaling_ = 1.0f;
  int64_t rotary_dim_ = 0;
  int64_t original_max_positions_ = 0;  // longrope / dynamic threshold
  double base_ = 10000.0, dynamic_factor_ = 1.0;
};

// A decoder architecture: sets the config and load report DecoderModel exposes, and answers
// new_cache / vocab_size / max_positions from the sizes its constructor records (set_shape).
class DecoderBase : public DecoderModel {
 public:
  void set_load_report(nn::LoadReport report) { load_report_ = std::move(report); }
  KvCache new_cache() const final { return KvCache(num_layers_, kv_width_); }
  int64_t vocab_size() const final { return vocab_size_; }
  int64_t max_positions() const final { return max_positions_; }

 protected:
  explicit DecoderBase(const ModelConfig& config) { config_ = config; }
  // kv_width: the K (and V) features one token stores per layer (kv heads x head dim).
  void set_shape(int64_t num_layers, int64_t kv_width, int64_t vocab_size, int64_t max_positions) {
    num_layers_ = static_cast<int>(num_layers);
    kv_width_ = kv_width;
    vocab_size_ = vocab_size;
    max_positions_ = max_positions;
  }

 private:
  int num_layers_ = 0;
  int64_t kv_width_ = 0, vocab_size_ = 0, max_positions_ = 0;
};

using DecoderFactory = std::unique_ptr<DecoderBase> (*)(const ModelConfig& config,
                                                        const nn::WeightMap& weights);
struct DecoderRegistration {
  const char* model_type;
  const char* base_prefix;  // transformers' base_model_prefix ("model", "transformer", ...)
  DecoderFactory factory;
};
const DecoderRegistration* find_decoder_registration(std::string_view model_type);
std::vector<std::string> supported_decoder_types();

// One declaration per architecture file, listed once in decoder_registry.cc.
std::unique_ptr<DecoderBase> make_llama(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<DecoderBase> make_gemma(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<DecoderBase> make_gpt2(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<DecoderBase> make_gpt_neox(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<DecoderBase> make_phi3(const ModelConfig&, const nn::WeightMap&);

}  // namespace mlhub::models
