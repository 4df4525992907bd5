// The BART family (private to src/models): BART, mBART and Marian share one encoder-decoder
// implementation (src/models/bart.cc) that differs in a few switches read from config.json by
// each architecture's file (bart.cc for BART / mBART, marian.cc for Marian). transformers keeps
// three copies of the same modules ("Copied from transformers.models.bart..."); the differences
// are exactly the fields below.
#pragma once

#include <memory>
#include <string>

#include "mlhub/models.h"
#include "mlhub/nn.h"
#include "mlhub/ops.h"
#include "models/seq2seq_common.h"

namespace mlhub::models {

struct BartFamilyConfig {
  std::string model_type;  // for messages: "bart", "mbart", "marian"
  int64_t vocab_size = 50265;
  // Rows of the decoder's embeddings, lm_head and final_logits_bias: vocab_size except for
  // Marian checkpoints with separate source / target vocabularies (decoder_vocab_size).
  int64_t decoder_vocab_size = 50265;
  int64_t d_model = 1024;
  int64_t encoder_layers = 12, decoder_layers = 12;
  int64_t encoder_attention_heads = 16, decoder_attention_heads = 16;
  int64_t encoder_ffn_dim = 4096, decoder_ffn_dim = 4096;
  int64_t max_position_embeddings = 1024;
  ops::Activation activation_function = ops::Activation::kGeluErf;
  float embed_scale = 1.0f;  // sqrt(d_model) when scale_embedding
  bool tie_word_embeddings = true;

  // mBART: pre-LayerNorm layers and a final encoder.layer_norm / decoder.layer_norm. BART and
  // Marian: post-LayerNorm layers, no final norm.
  bool pre_layer_norm = false;
  // BART, mBART: a LayerNorm right after token + position embeddings. Not Marian.
  bool layernorm_embedding = true;
  // Learned positions (BART / mBART: BartLearnedPositionalEmbedding, max + 2 rows, ids offset by
  // 2) unless sinusoidal_table is defined (Marian: MarianSinusoidalPositionalEmbedding, offset 0,
  // [max_position_embeddings, d_model]), which is used when the checkpoint does not carry
  // embed_positions.weight (transformers recomputes it then; it is not saved).
  Tensor sinusoidal_table;
  // model.shared feeds encoder and decoder (BART, mBART, Marian's
  // share_encoder_decoder_embeddings); otherwise encoder.embed_tokens / decoder.embed_tokens.
  bool shared_embeddings = true;
};

// The fields BART, mBART and Marian configs spell alike (d_model, *_layers, *_heads, *_ffn_dim,
// activation_function, scale_embedding, tie_word_embeddings, max_position_embeddings,
// vocab_size), validated. Throws kInvalidArgument naming the bad field.
BartFamilyConfig parse_bart_family_config(const ModelConfig& config);

// Builds the model over weights scoped at the checkpoint root (keys "model.encoder...",
// "lm_head.weight", "final_logits_bias").
std::unique_ptr<Seq2SeqBase> make_bart_family(const ModelConfig& config, const nn::WeightMap& w,
                                              const BartFamilyConfig& c);

}  // namespace mlhub::models
