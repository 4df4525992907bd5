// RoBERTa and XLM-RoBERTa: RobertaModel / XLMRobertaModel and their ForSequenceClassification,
// ForTokenClassification, ForQuestionAnswering and ForMaskedLM heads. The two are the same code in
// transformers (XLM-RoBERTa's file is "Copied from" RoBERTa's), so one file serves both
// model_types; the layers are BERT's (bert_encoder.h).
// transformers/models/roberta/modeling_roberta.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/roberta/modeling_roberta.py
// transformers/models/xlm_roberta/modeling_xlm_roberta.py (4.57.3)
// Liu et al. 2019, "RoBERTa: A Robustly Optimized BERT Pretraining Approach",
// https://arxiv.org/abs/1907.11692; Conneau et al. 2019, "Unsupervised Cross-lingual
// Representation Learning at Scale", https://arxiv.org/abs/1911.02116
#include "models/bert_encoder.h"
#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {
namespace {

// RobertaClassificationHead ("classifier"): dense + tanh + out_proj on the <s> token.
struct RobertaClassificationHead {
  RobertaClassificationHead(const nn::WeightMap& w, int64_t hidden, int64_t num_labels)
      : dense(w.sub("dense"), hidden, hidden), out_proj(w.sub("out_proj"), hidden, num_labels) {}
  Tensor forward(const Tensor& features) const {
    return out_proj(dense(first_token(features), ops::Activation::kTanh));
  }
  nn::Linear dense, out_proj;
};

// RobertaLMHead ("lm_head"): dense, gelu (always the erf form), layer_norm, then the decoder tied
// to the word embeddings, with "bias" tied to "decoder.bias".
struct RobertaLMHead {
  RobertaLMHead(const nn::WeightMap& w, const BertLikeConfig& c, const nn::WeightMap& embeddings,
                const Tensor& word_embeddings)
      : dense(w.sub("dense"), c.hidden_size, c.hidden_size),
        layer_norm(w.sub("layer_norm"), c.hidden_size, c.layer_norm_eps),
        decoder_weight(tied_output_weight(w, "decoder.weight", {c.vocab_size, c.hidden_size},
                                          embeddings, word_embeddings, c.tie_word_embeddings)),
        bias(tied_pair(w, "bias", "decoder.bias", {c.vocab_size})) {}
  Tensor forward(const Tensor& features) const {
    return ops::linear(layer_norm(dense(features, ops::Activation::kGeluErf)), decoder_weight,
                       bias);
  }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
  Tensor decoder_weight, bias;
};

class Roberta final : public EncoderBase {
 public:
  Roberta(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(parse_config(config)),
        base_(head == Head::kBase ? w : w.sub("roberta")),
        embeddings_(base_.sub("embeddings"), c_),
        encoder_(base_.sub("encoder"), c_) {
    set_effective_sizes(c_.type_vocab_size, c_.max_position_embeddings);
    declare_buffers(base_.sub("embeddings"), {"position_ids", "token_type_ids"});
    // Only RobertaModel has the pooler: every head builds it with add_pooling_layer=False.
    if (head == Head::kBase)
      pooler_dense_ = nn::Linear(base_.sub("pooler").sub("dense"), c_.hidden_size, c_.hidden_size);
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
        lm_head_.emplace_back(w.sub("lm_head"), c_, base_.sub("embeddings"),
                              embeddings_.word_embeddings.weight);
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, 0, config_.model_type);
    const Tensor& ids = in.input_ids;
    // Positions count from padding_idx + 1: max_position_embeddings - padding_idx - 1 tokens fit.
    const Tensor positions = padded_position_ids(ids, c_.pad_token_id);
    check_max_position(positions, c_.max_position_embeddings, config_.model_type);
    const Tensor x =
        embeddings_.forward(ids, token_types_or_zeros(in.token_type_ids, ids), positions);
    EncoderOutput out = run_bert_encoder(encoder_, x, in.attention_mask, opt);
    const Tensor& h = out.last_hidden_state;
    switch (head_) {
      case Head::kBase:
        out.pooler_output = pooler_dense_(first_token(h), ops::Activation::kTanh);
        break;
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
        out.logits = lm_head_.front().forward(h);
        break;
    }
    return out;
  }

 private:
  static BertLikeConfig parse_config(const ModelConfig& config) {
    BertLikeConfig c;  // RobertaConfig / XLMRobertaConfig change BERT's pad_token_id only
    c.pad_token_id = 1;
    c.parse(config);
    return c;
  }

  BertLikeConfig c_;
  nn::WeightMap base_;  // "roberta." in head models
  BertEmbeddings embeddings_;
  BertEncoder encoder_;
  nn::Linear pooler_dense_;
  nn::Linear classifier_;  // token classifier or qa_outputs
  std::vector<RobertaClassificationHead> classification_;
  std::vector<RobertaLMHead> lm_head_;
};

}  // namespace

std::unique_ptr<EncoderBase> make_roberta(const ModelConfig& config, const nn::WeightMap& w,
                                          Head head) {
  return std::make_unique<Roberta>(config, w, head);
}

}  // namespace mlhub::models
