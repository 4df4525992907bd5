// DeBERTa-v2's config and its two unusual modules (DisentangledSelfAttention + SelfOutput, and
// ConvLayer), shared by deberta_v2.cc (where they are defined) and deberta_v2_model.cc (the
// embeddings, encoder, model and heads). Private to src/models.
#pragma once

#include "mlhub/models.h"
#include "mlhub/nn.h"

namespace mlhub::models {

// DebertaV2Config with its defaults (configuration_deberta_v2.py) and the getattr() defaults the
// modeling file applies.
struct DebertaV2Config {
  int64_t vocab_size = 128100;
  int64_t hidden_size = 1536;
  int64_t num_hidden_layers = 24;
  int64_t num_attention_heads = 24;
  int64_t intermediate_size = 6144;
  ops::Activation hidden_act = ops::Activation::kGeluErf;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 0;
  float layer_norm_eps = 1e-7f;
  bool relative_attention = false;
  int64_t max_relative_positions = -1;  // < 1: max_position_embeddings
  int64_t position_buckets = -1;        // <= 0: no log buckets
  bool position_biased_input = true;
  bool share_att_key = false;
  bool c2p = false, p2c = false;  // pos_att_type
  bool norm_rel_ebd_layer_norm = false;
  int64_t embedding_size = 0;       // default hidden_size
  int64_t attention_head_size = 0;  // default hidden_size / num_attention_heads
  int64_t pooler_hidden_size = 0;   // default hidden_size
  ops::Activation pooler_hidden_act = ops::Activation::kGeluErf;
  bool legacy = true;  // MLM head layout
  bool tie_word_embeddings = true;
  int64_t conv_kernel_size = 0;  // > 0: ConvLayer after the first layer
  int64_t conv_groups = 1;
  ops::Activation conv_act = ops::Activation::kTanh;

  explicit DebertaV2Config(const ModelConfig& config);  // parses and validates config.raw
  int64_t all_head_size() const { return num_attention_heads * attention_head_size; }
  // Relative embedding rows per direction (att_span).
  int64_t pos_ebd_size() const {
    return position_buckets > 0 ? position_buckets : max_relative_positions;
  }
  // 1 + one per c2p / p2c: scores are divided by sqrt(head_size * scale_factor).
  int64_t scale_factor() const { return 1 + (c2p ? 1 : 0) + (p2c ? 1 : 0); }
};

// What every layer's attention shares in one forward: the (normalised) relative embeddings
// [2 * pos_ebd_size, hidden] and the bucketed relative positions i - j, I64 [T, T].
struct DebertaV2Relative {
  Tensor embeddings;
  Tensor positions;
};

// DebertaV2Attention ("attention"): self.{query_proj,key_proj,value_proj,pos_key_proj,
// pos_query_proj} and output.{dense,LayerNorm}.
struct DebertaV2Attention {
  DebertaV2Attention(const nn::WeightMap& w, const DebertaV2Config& c);
  // x [B, T, H]; mask [B, T] or undefined. Returns LayerNorm(dense(context) + x).
  Tensor forward(const Tensor& x, const Tensor& mask, const DebertaV2Relative& rel) const;

  nn::Linear query_proj, key_proj, value_proj;
  nn::Linear pos_key_proj, pos_query_proj;  // only without share_att_key
  nn::Linear output_dense;
  nn::LayerNorm output_layer_norm;

 private:
  // The additive scores: c2p + p2c (divided by the scale), and -FLT_MAX where query or key is
  // padding. [B, H, T, T].
  Tensor attention_bias(const Tensor& q, const Tensor& k, const DebertaV2Relative& rel,
                        const Tensor& mask) const;
  DebertaV2Config c_;
};

// ConvLayer ("encoder.conv"): conv (Conv1d, same padding, groups), conv_act, LayerNorm with the
// first layer's output as residual, padded rows zeroed.
struct DebertaV2Conv {
  DebertaV2Conv(const nn::WeightMap& w, const DebertaV2Config& c);
  Tensor forward(const Tensor& hidden_states, const Tensor& residual, const Tensor& mask) const;

  Tensor weight, bias;  // conv.weight [H, H / groups, k], conv.bias [H]
  nn::LayerNorm layer_norm;
  int64_t kernel, groups;
  ops::Activation act;
};

// x [B, T, H] with row (b, t) multiplied by mask[b, t] (any numeric dtype) — transformers'
// `x * mask.unsqueeze(-1)`.
Tensor mask_rows(const Tensor& x, const Tensor& mask);

}  // namespace mlhub::models
