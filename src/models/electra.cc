// ELECTRA: ElectraModel, ElectraForSequenceClassification, ElectraForTokenClassification,
// ElectraForQuestionAnswering, ElectraForMaskedLM (the generator). BERT's layers
// (bert_encoder.h) behind embeddings of embedding_size, projected to hidden_size by
// embeddings_project when the two differ.
// transformers/models/electra/modeling_electra.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/electra/modeling_electra.py
// Clark et al. 2020, "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than
// Generators", https://arxiv.org/abs/2003.10555
#include "models/bert_encoder.h"
#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {
namespace {

// ElectraClassificationHead ("classifier"): dense, gelu (not BERT's tanh), out_proj on the first
// token.
struct ElectraClassificationHead {
  ElectraClassificationHead(const nn::WeightMap& w, int64_t hidden, int64_t num_labels)
      : dense(w.sub("dense"), hidden, hidden), out_proj(w.sub("out_proj"), hidden, num_labels) {}
  Tensor forward(const Tensor& features) const {
    return out_proj(dense(first_token(features), ops::Activation::kGeluErf));
  }
  nn::Linear dense, out_proj;
};

// ElectraGeneratorPredictions ("generator_predictions": dense to embedding_size, gelu,
// LayerNorm) then "generator_lm_head", whose weight is tied to the word embeddings.
struct ElectraGeneratorHead {
  ElectraGeneratorHead(const nn::WeightMap& w, const BertLikeConfig& c,
                       const nn::WeightMap& embeddings, const Tensor& word_embeddings)
      : dense(w.sub("generator_predictions").sub("dense"), c.hidden_size, c.embedding_size),
        layer_norm(w.sub("generator_predictions").sub("LayerNorm"), c.embedding_size,
                   c.layer_norm_eps),
        lm_head_weight(tied_output_weight(w, "generator_lm_head.weight",
                                          {c.vocab_size, c.embedding_size}, embeddings,
                                          word_embeddings, c.tie_word_embeddings)),
        lm_head_bias(w.get("generator_lm_head.bias", {c.vocab_size})) {}
  Tensor forward(const Tensor& x) const {
    return ops::linear(layer_norm(dense(x, ops::Activation::kGeluErf)), lm_head_weight,
                       lm_head_bias);
  }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
  Tensor lm_head_weight, lm_head_bias;
};

class Electra final : public EncoderBase {
 public:
  Electra(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(parse_config(config)),
        base_(head == Head::kBase ? w : w.sub("electra")),
        embeddings_(base_.sub("embeddings"), c_),
        encoder_(base_.sub("encoder"), c_) {
    set_effective_sizes(c_.type_vocab_size, c_.max_position_embeddings);
    declare_buffers(base_.sub("embeddings"), {"position_ids", "token_type_ids"});
    if (c_.embedding_size != c_.hidden_size)
      embeddings_project_ =
          nn::Linear(base_.sub("embeddings_project"), c_.embedding_size, c_.hidden_size);
    switch (head) {
      case Head::kSequenceClassification:
        classification_.emplace_back(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kTokenClassification:
        classifier_ = nn::Linear(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        classifier_ = nn::Linear(w.sub("qa_outputs"), c_.hidden_size, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        generator_.emplace_back(w, c_, base_.sub("embeddings"),
                                embeddings_.word_embeddings.weight);
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, c_.max_position_embeddings, "electra");
    const Tensor& ids = in.input_ids;
    Tensor x = embeddings_.forward(ids, token_types_or_zeros(in.token_type_ids, ids),
                                   arange_position_ids(ids.dim(0), ids.dim(1)));
    // transformers' hidden_states[0] is the encoder input, i.e. after the projection.
    if (embeddings_project_.weight.defined()) x = embeddings_project_(x);
    EncoderOutput out = run_bert_encoder(encoder_, x, in.attention_mask, opt);
    const Tensor& h = out.last_hidden_state;
    switch (head_) {
      case Head::kSequenceClassification:
        out.logits = classification_.front().forward(h);
        break;
      case Head::kTokenClassification:
        out.logits = classifier_(h);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(classifier_(h), out);
        break;
      case Head::kMaskedLM:
        out.logits = generator_.front().forward(h);
        break;
      case Head::kBase:
        break;
    }
    return out;
  }

 private:
  static BertLikeConfig parse_config(const ModelConfig& config) {
    BertLikeConfig c;  // ElectraConfig's defaults (electra-small)
    c.hidden_size = 256;
    c.num_attention_heads = 4;
    c.intermediate_size = 1024;
    c.parse(config);
    c.embedding_size = config_int(config.raw, "embedding_size", 128);
    config_check(c.embedding_size > 0, "electra", "embedding_size must be positive");
    return c;
  }

  BertLikeConfig c_;
  nn::WeightMap base_;  // "electra." in head models
  BertEmbeddings embeddings_;
  nn::Linear embeddings_project_;  // only when embedding_size != hidden_size
  BertEncoder encoder_;
  nn::Linear classifier_;  // token classifier or qa_outputs
  std::vector<ElectraClassificationHead> classification_;
  std::vector<ElectraGeneratorHead> generator_;
};

}  // namespace

std::unique_ptr<EncoderBase> make_electra(const ModelConfig& config, const nn::WeightMap& w,
                                          Head head) {
  return std::make_unique<Electra>(config, w, head);
}

}  // namespace mlhub::models
