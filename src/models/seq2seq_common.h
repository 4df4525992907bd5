// What every encoder-decoder architecture file uses (private to src/models): the base class that
// answers new_cache / vocab_size / max_positions, the cross-attention views of a decoder batch,
// and the seq2seq registry (model_type -> factory), listed once in seq2seq_registry.cc.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/models.h"
#include "mlhub/nn.h"
#include "mlhub/ops.h"
#include "models/decoder_common.h"

namespace mlhub::models {

class Seq2SeqBase : public Seq2SeqModel {
 public:
  void set_load_report(nn::LoadReport report) { load_report_ = std::move(report); }
  KvCache new_cache() const final { return KvCache(num_layers_, kv_width_); }
  int64_t vocab_size() const final { return vocab_size_; }
  int64_t max_positions() const final { return max_positions_; }

 protected:
  // Takes decoder_start_token_id from config.json (kInvalidArgument when absent: generation
  // could not start).
  explicit Seq2SeqBase(const ModelConfig& config);
  // num_layers / kv_width: the decoder's self-attention cache shape (layers, heads x head_dim);
  // max_positions: the longest decoder sequence (learned positions), a large value when
  // unbounded; max_source: the longest source, 0 when unbounded.
  void set_shape(int64_t num_layers, int64_t kv_width, int64_t vocab_size, int64_t max_positions,
                 int64_t max_source) {
    num_layers_ = static_cast<int>(num_layers);
    kv_width_ = kv_width;
    vocab_size_ = vocab_size;
    max_positions_ = max_positions;
    max_source_positions_ = max_source;
  }

 private:
  int num_layers_ = 0;
  int64_t kv_width_ = 0, vocab_size_ = 0, max_positions_ = 0;
};

// Per sequence of a decoder batch, the cross-attention view of decoder layer `layer`: its query
// rows (the layout's rows) against all keys / values of its cache's CrossMemory (non-causal:
// use CachedAttentionParams::causal = false). Throws kInvalidArgument when a cache has no cross
// memory or one of another shape (width, layer count).
std::vector<ops::CachedAttentionSequence> cross_views(std::span<const DecoderSequence> batch,
                                                      const BatchLayout& layout, int layer,
                                                      int num_layers, int64_t width);

// An empty CrossMemory for `num_layers` layers of `width` features and `length` source tokens,
// with every layer's keys / values sized (filled by the model).
std::shared_ptr<CrossMemory> make_cross_memory(int num_layers, int64_t length, int64_t width);

using Seq2SeqFactory = std::unique_ptr<Seq2SeqBase> (*)(const ModelConfig& config,
                                                        const nn::WeightMap& weights);
struct Seq2SeqRegistration {
  const char* model_type;
  // transformers' base_model_prefix as its checkpoints of the *ForConditionalGeneration class
  // use it: "model" for BART / mBART / Marian (model.encoder..., lm_head beside it); T5's
  // checkpoints have no prefix (encoder..., decoder..., shared, lm_head).
  const char* base_prefix;
  Seq2SeqFactory factory;
};
const Seq2SeqRegistration* find_seq2seq_registration(std::string_view model_type);

// One declaration per architecture file.
std::unique_ptr<Seq2SeqBase> make_t5(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<Seq2SeqBase> make_bart(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<Seq2SeqBase> make_mbart(const ModelConfig&, const nn::WeightMap&);
std::unique_ptr<Seq2SeqBase> make_marian(const ModelConfig&, const nn::WeightMap&);

}  // namespace mlhub::models
