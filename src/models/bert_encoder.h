// The BERT module tree shared by BERT, RoBERTa / XLM-RoBERTa and ELECTRA, whose transformers
// modeling files copy it ("Copied from transformers.models.bert.modeling_bert..."):
// BertEmbeddings (word + position + token_type, LayerNorm), BertLayer (attention.self.{query,
// key,value}, attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm})
// and BertEncoder (encoder.layer.N). Private to src/models; defined in bert.cc.
#pragma once

#include <vector>

#include "mlhub/models.h"
#include "mlhub/nn.h"

namespace mlhub::models {

// BertConfig / RobertaConfig / ElectraConfig fields, with BERT's defaults (the caller overrides
// the ones its config class changes before calling parse).
struct BertLikeConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t embedding_size = 768;  // ELECTRA's embedding_size; hidden_size elsewhere
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  float layer_norm_eps = 1e-12f;
  ops::Activation hidden_act = ops::Activation::kGeluErf;
  bool tie_word_embeddings = true;

  // Reads the fields from config.raw over the defaults already in *this, validates them, and
  // rejects what mlhub does not implement (position_embedding_type other than "absolute").
  void parse(const ModelConfig& config);
};

struct BertEmbeddings {
  BertEmbeddings(const nn::WeightMap& w, const BertLikeConfig& c);  // w: "embeddings"
  // word(ids) + token_type(types) + position(positions), then LayerNorm. All I64 [B, T].
  Tensor forward(const Tensor& input_ids, const Tensor& token_type_ids,
                 const Tensor& position_ids) const;

  nn::Embedding word_embeddings, position_embeddings, token_type_embeddings;
  nn::LayerNorm layer_norm;  // "LayerNorm"
};

struct BertLayer {
  BertLayer(const nn::WeightMap& w, const BertLikeConfig& c);  // w: "encoder.layer.N"
  // mask: [B, T] key mask or undefined. Traces "attn_output" and "layer_output".
  Tensor forward(const Tensor& x, const Tensor& mask, const ForwardOptions& opt, int index) const;

  nn::Linear query, key, value;         // attention.self
  nn::Linear attention_dense;           // attention.output.dense
  nn::LayerNorm attention_layer_norm;   // attention.output.LayerNorm
  nn::Linear intermediate_dense;        // intermediate.dense
  nn::Linear output_dense;              // output.dense
  nn::LayerNorm output_layer_norm;      // output.LayerNorm
  int num_heads;
  ops::Activation act;
};

struct BertEncoder {
  BertEncoder(const nn::WeightMap& w, const BertLikeConfig& c);  // w: "encoder"
  // Runs every layer; appends each layer's output to `hidden_states` when non-null.
  Tensor forward(Tensor x, const Tensor& mask, const ForwardOptions& opt,
                 std::vector<Tensor>* hidden_states) const;

  std::vector<BertLayer> layer;
};

// The encoder part of a forward shared by the BERT family: records hidden_states[0] = x and the
// "embeddings" trace, runs the encoder, and fills last_hidden_state.
EncoderOutput run_bert_encoder(const BertEncoder& encoder, Tensor embeddings, const Tensor& mask,
                               const ForwardOptions& opt);

}  // namespace mlhub::models
