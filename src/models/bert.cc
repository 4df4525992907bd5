// BERT: BertModel, BertForSequenceClassification, BertForTokenClassification,
// BertForQuestionAnswering, BertForMaskedLM; and the BERT module tree that RoBERTa and ELECTRA
// reuse (bert_encoder.h).
// transformers/models/bert/modeling_bert.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/bert/modeling_bert.py
// Devlin et al. 2018, "BERT: Pre-training of Deep Bidirectional Transformers for Language
// Understanding", https://arxiv.org/abs/1810.04805
#include <fmt/format.h>

#include <cmath>

#include "models/bert_encoder.h"
#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {

// ---- shared BERT family pieces ---------------------------------------------------------------

void BertLikeConfig::parse(const ModelConfig& config) {
  const nlohmann::json& j = config.raw;
  const std::string_view type = config.model_type;
  vocab_size = config_int(j, "vocab_size", vocab_size);
  hidden_size = config_int(j, "hidden_size", hidden_size);
  embedding_size = hidden_size;
  num_hidden_layers = config_int(j, "num_hidden_layers", num_hidden_layers);
  num_attention_heads = config_int(j, "num_attention_heads", num_attention_heads);
  intermediate_size = config_int(j, "intermediate_size", intermediate_size);
  max_position_embeddings = config_int(j, "max_position_embeddings", max_position_embeddings);
  type_vocab_size = config_int(j, "type_vocab_size", type_vocab_size);
  pad_token_id = config_int(j, "pad_token_id", pad_token_id);
  layer_norm_eps = static_cast<float>(config_float(j, "layer_norm_eps", layer_norm_eps));
  hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "gelu"));
  tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
  const std::string position_type = config_string(j, "position_embedding_type", "absolute");
  if (position_type != "absolute")
    throw Error(StatusCode::kUnimplemented,
                fmt::format("{}: position_embedding_type \"{}\" is not supported (only "
                            "\"absolute\")",
                            type, position_type));
  config_check(vocab_size > 0 && hidden_size > 0 && num_hidden_layers >= 0 &&
                   intermediate_size > 0 && max_position_embeddings > 0 && type_vocab_size >= 0,
               type, "sizes must be positive");
  config_check(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, type,
               fmt::format("hidden_size {} is not a multiple of num_attention_heads {}",
                           hidden_size, num_attention_heads));
  config_check(layer_norm_eps > 0, type, "layer_norm_eps must be positive");
}

BertEmbeddings::BertEmbeddings(const nn::WeightMap& w, const BertLikeConfig& c)
    : word_embeddings(w.sub("word_embeddings"), c.vocab_size, c.embedding_size),
      position_embeddings(w.sub("position_embeddings"), c.max_position_embeddings,
                          c.embedding_size),
      token_type_embeddings(w.sub("token_type_embeddings"), c.type_vocab_size, c.embedding_size),
      layer_norm(w.sub("LayerNorm"), c.embedding_size, c.layer_norm_eps) {}

Tensor BertEmbeddings::forward(const Tensor& input_ids, const Tensor& token_type_ids,
                               const Tensor& position_ids) const {
  Tensor x = word_embeddings(input_ids);
  ops::add_(x, token_type_embeddings(token_type_ids));
  ops::add_(x, position_embeddings(position_ids));
  return layer_norm(x);
}

BertLayer::BertLayer(const nn::WeightMap& w, const BertLikeConfig& c)
    : query(w.sub("attention").sub("self").sub("query"), c.hidden_size, c.hidden_size),
      key(w.sub("attention").sub("self").sub("key"), c.hidden_size, c.hidden_size),
      value(w.sub("attention").sub("self").sub("value"), c.hidden_size, c.hidden_size),
      attention_dense(w.sub("attention").sub("output").sub("dense"), c.hidden_size,
                      c.hidden_size),
      attention_layer_norm(w.sub("attention").sub("output").sub("LayerNorm"), c.hidden_size,
                           c.layer_norm_eps),
      intermediate_dense(w.sub("intermediate").sub("dense"), c.hidden_size, c.intermediate_size),
      output_dense(w.sub("output").sub("dense"), c.intermediate_size, c.hidden_size),
      output_layer_norm(w.sub("output").sub("LayerNorm"), c.hidden_size, c.layer_norm_eps),
      num_heads(static_cast<int>(c.num_attention_heads)),
      act(c.hidden_act) {}

Tensor BertLayer::forward(const Tensor& x, const Tensor& mask, const ForwardOptions& opt,
                          int index) const {
  const float scale = 1.0f / std::sqrt(static_cast<float>(x.dim(-1) / num_heads));
  const Tensor context =
      ops::attention(query(x), key(x), value(x), num_heads, mask, Tensor(), scale);
  const Tensor attention_output = attention_layer_norm(attention_dense(context), x);
  trace(opt, attention_output, "attn_output", index);
  const Tensor intermediate = intermediate_dense(attention_output, act);
  const Tensor layer_output = output_layer_norm(output_dense(intermediate), attention_output);
  trace(opt, layer_output, "layer_output", index);
  return layer_output;
}

BertEncoder::BertEncoder(const nn::WeightMap& w, const BertLikeConfig& c) {
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layer.emplace_back(w.sub("layer").sub(std::to_string(i)), c);
}

Tensor BertEncoder::forward(Tensor x, const Tensor& mask, const ForwardOptions& opt,
                            std::vector<Tensor>* hidden_states) const {
  for (size_t i = 0; i < layer.size(); ++i) {
    x = layer[i].forward(x, mask, opt, static_cast<int>(i));
    if (hidden_states) hidden_states->push_back(x);
  }
  return x;
}

EncoderOutput run_bert_encoder(const BertEncoder& encoder, Tensor embeddings, const Tensor& mask,
                               const ForwardOptions& opt) {
  EncoderOutput out;
  trace(opt, embeddings, "embeddings", -1);
  if (opt.output_hidden_states) out.hidden_states.push_back(embeddings);
  out.last_hidden_state = encoder.forward(std::move(embeddings), mask, opt,
                                          opt.output_hidden_states ? &out.hidden_states : nullptr);
  return out;
}

// ---- BERT --------------------------------------------------------------------------------------

namespace {

// BertPredictionHeadTransform + BertLMPredictionHead ("cls.predictions"): dense, hidden_act,
// LayerNorm, then the decoder tied to the word embeddings with its own bias.
struct BertLMPredictionHead {
  BertLMPredictionHead(const nn::WeightMap& w, const BertLikeConfig& c,
                       const nn::WeightMap& embeddings, const Tensor& word_embeddings)
      : transform_dense(w.sub("transform").sub("dense"), c.hidden_size, c.hidden_size),
        transform_layer_norm(w.sub("transform").sub("LayerNorm"), c.hidden_size,
                             c.layer_norm_eps),
        decoder_weight(tied_output_weight(w, "decoder.weight", {c.vocab_size, c.hidden_size},
                                          embeddings, word_embeddings, c.tie_word_embeddings)),
        bias(tied_pair(w, "bias", "decoder.bias", {c.vocab_size})),
        act(c.hidden_act) {}

  Tensor forward(const Tensor& x) const {
    const Tensor h = transform_layer_norm(transform_dense(x, act));
    return ops::linear(h, decoder_weight, bias);
  }

  nn::Linear transform_dense;
  nn::LayerNorm transform_layer_norm;
  Tensor decoder_weight, bias;
  ops::Activation act;
};

class Bert final : public EncoderBase {
 public:
  Bert(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(parse_config(config)),
        base_(head == Head::kBase ? w : w.sub("bert")),
        embeddings_(base_.sub("embeddings"), c_),
        encoder_(base_.sub("encoder"), c_) {
    set_effective_sizes(c_.type_vocab_size, c_.max_position_embeddings);
    declare_buffers(base_.sub("embeddings"), {"position_ids", "token_type_ids"});
    // BertModel and BertForSequenceClassification have the pooler; the other heads are built
    // with add_pooling_layer=False.
    if (head == Head::kBase || head == Head::kSequenceClassification)
      pooler_dense_ = nn::Linear(base_.sub("pooler").sub("dense"), c_.hidden_size, c_.hidden_size);
    switch (head) {
      case Head::kSequenceClassification:
      case Head::kTokenClassification:
        classifier_ = nn::Linear(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        classifier_ = nn::Linear(w.sub("qa_outputs"), c_.hidden_size, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        mlm_.emplace_back(w.sub("cls").sub("predictions"), c_, base_.sub("embeddings"),
                          embeddings_.word_embeddings.weight);
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, c_.max_position_embeddings, "bert");
    const Tensor& ids = in.input_ids;
    const Tensor x = embeddings_.forward(ids, token_types_or_zeros(in.token_type_ids, ids),
                                         arange_position_ids(ids.dim(0), ids.dim(1)));
    EncoderOutput out = run_bert_encoder(encoder_, x, in.attention_mask, opt);
    const Tensor& h = out.last_hidden_state;
    switch (head_) {
      case Head::kBase:
        out.pooler_output = pooler_dense_(first_token(h), ops::Activation::kTanh);
        break;
      case Head::kSequenceClassification:
        // transformers' SequenceClassifierOutput has no pooler_output; the pooled vector is
        // internal to the head.
        out.logits = classifier_(pooler_dense_(first_token(h), ops::Activation::kTanh));
        break;
      case Head::kTokenClassification:
        out.logits = classifier_(h);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(classifier_(h), out);
        break;
      case Head::kMaskedLM:
        out.logits = mlm_.front().forward(h);
        break;
    }
    return out;
  }

 private:
  static BertLikeConfig parse_config(const ModelConfig& config) {
    BertLikeConfig c;
    c.parse(config);
    return c;
  }

  BertLikeConfig c_;
  nn::WeightMap base_;  // "bert." in head models
  BertEmbeddings embeddings_;
  BertEncoder encoder_;
  nn::Linear pooler_dense_;  // pooler.dense, then tanh
  nn::Linear classifier_;    // classifier or qa_outputs
  std::vector<BertLMPredictionHead> mlm_;  // cls.predictions (one, for kMaskedLM)
};

}  // namespace

std::unique_ptr<EncoderBase> make_bert(const ModelConfig& config, const nn::WeightMap& w,
                                       Head head) {
  return std::make_unique<Bert>(config, w, head);
}

}  // namespace mlhub::models
