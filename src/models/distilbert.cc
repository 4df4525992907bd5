// DistilBERT: DistilBertModel, DistilBertForSequenceClassification,
// DistilBertForTokenClassification, DistilBertForQuestionAnswering, DistilBertForMaskedLM.
// transformers/models/distilbert/modeling_distilbert.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/distilbert/modeling_distilbert.py
// Sanh et al. 2019, "DistilBERT, a distilled version of BERT: smaller, faster, cheaper and
// lighter", https://arxiv.org/abs/1910.01108
#include <fmt/format.h>

#include <cmath>

#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {
namespace {

// DistilBERT's LayerNorms use a fixed eps (there is no layer_norm_eps in DistilBertConfig).
constexpr float kLayerNormEps = 1e-12f;

struct DistilBertConfig {
  int64_t vocab_size = 30522;
  int64_t max_position_embeddings = 512;
  bool sinusoidal_pos_embds = false;
  int64_t n_layers = 6;
  int64_t n_heads = 12;
  int64_t dim = 768;
  int64_t hidden_dim = 4 * 768;
  ops::Activation activation = ops::Activation::kGeluErf;
  bool tie_word_embeddings = true;

  explicit DistilBertConfig(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    vocab_size = config_int(j, "vocab_size", vocab_size);
    max_position_embeddings = config_int(j, "max_position_embeddings", max_position_embeddings);
    sinusoidal_pos_embds = config_bool(j, "sinusoidal_pos_embds", sinusoidal_pos_embds);
    n_layers = config_int(j, "n_layers", n_layers);
    n_heads = config_int(j, "n_heads", n_heads);
    dim = config_int(j, "dim", dim);
    hidden_dim = config_int(j, "hidden_dim", hidden_dim);
    activation = ops::activation_from_name(config_string(j, "activation", "gelu"));
    tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
    config_check(vocab_size > 0 && max_position_embeddings > 0 && n_layers >= 0 && dim > 0 &&
                     hidden_dim > 0,
                 "distilbert", "sizes must be positive");
    config_check(n_heads > 0 && dim % n_heads == 0, "distilbert",
                 fmt::format("n_heads {} must divide dim {} evenly", n_heads, dim));
  }
};

// create_sinusoidal_embeddings: sin on even columns, cos on odd ones, computed in double as numpy
// does, then rounded to float.
Tensor sinusoidal_embeddings(int64_t n_pos, int64_t dim) {
  std::vector<float> v(static_cast<size_t>(n_pos * dim));
  for (int64_t pos = 0; pos < n_pos; ++pos)
    for (int64_t j = 0; j < dim; ++j) {
      const double exponent = 2.0 * static_cast<double>(j / 2) / static_cast<double>(dim);
      const double angle = static_cast<double>(pos) / std::pow(10000.0, exponent);
      v[pos * dim + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return Tensor::from_floats(v, {n_pos, dim});
}

// TransformerBlock ("transformer.layer.N"): MultiHeadSelfAttention (q_lin/k_lin/v_lin/out_lin),
// sa_layer_norm, FFN (lin1, activation, lin2), output_layer_norm.
struct TransformerBlock {
  TransformerBlock(const nn::WeightMap& w, const DistilBertConfig& c)
      : q_lin(w.sub("attention").sub("q_lin"), c.dim, c.dim),
        k_lin(w.sub("attention").sub("k_lin"), c.dim, c.dim),
        v_lin(w.sub("attention").sub("v_lin"), c.dim, c.dim),
        out_lin(w.sub("attention").sub("out_lin"), c.dim, c.dim),
        sa_layer_norm(w.sub("sa_layer_norm"), c.dim, kLayerNormEps),
        lin1(w.sub("ffn").sub("lin1"), c.dim, c.hidden_dim),
        lin2(w.sub("ffn").sub("lin2"), c.hidden_dim, c.dim),
        output_layer_norm(w.sub("output_layer_norm"), c.dim, kLayerNormEps),
        n_heads(static_cast<int>(c.n_heads)),
        activation(c.activation) {}

  Tensor forward(const Tensor& x, const Tensor& mask, const ForwardOptions& opt, int index) const {
    const float scale = 1.0f / std::sqrt(static_cast<float>(x.dim(-1) / n_heads));
    const Tensor context =
        ops::attention(q_lin(x), k_lin(x), v_lin(x), n_heads, mask, Tensor(), scale);
    const Tensor sa_output = sa_layer_norm(out_lin(context), x);
    trace(opt, sa_output, "attn_output", index);
    const Tensor ffn_output = output_layer_norm(lin2(lin1(sa_output, activation)), sa_output);
    trace(opt, ffn_output, "layer_output", index);
    return ffn_output;
  }

  nn::Linear q_lin, k_lin, v_lin, out_lin;
  nn::LayerNorm sa_layer_norm;
  nn::Linear lin1, lin2;
  nn::LayerNorm output_layer_norm;
  int n_heads;
  ops::Activation activation;
};

class DistilBert final : public EncoderBase {
 public:
  DistilBert(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(config),
        base_(head == Head::kBase ? w : w.sub("distilbert")),
        word_embeddings_(base_.sub("embeddings").sub("word_embeddings"), c_.vocab_size, c_.dim),
        embeddings_layer_norm_(base_.sub("embeddings").sub("LayerNorm"), c_.dim, kLayerNormEps) {
    const nn::WeightMap emb = base_.sub("embeddings");
    set_effective_sizes(0, c_.max_position_embeddings);
    declare_buffers(emb, {"position_ids"});
    // Sinusoidal tables are saved in checkpoints like learned ones; transformers only fills them
    // in when the checkpoint lacks them.
    position_embeddings_ = c_.sinusoidal_pos_embds
                               ? emb.get_optional("position_embeddings.weight",
                                                  {c_.max_position_embeddings, c_.dim})
                               : emb.get("position_embeddings.weight",
                                         {c_.max_position_embeddings, c_.dim});
    if (!position_embeddings_.defined())
      position_embeddings_ = sinusoidal_embeddings(c_.max_position_embeddings, c_.dim);
    for (int64_t i = 0; i < c_.n_layers; ++i)
      layer_.emplace_back(base_.sub("transformer").sub("layer").sub(std::to_string(i)), c_);
    switch (head) {
      case Head::kSequenceClassification:
        pre_classifier_ = nn::Linear(w.sub("pre_classifier"), c_.dim, c_.dim);
        classifier_ = nn::Linear(w.sub("classifier"), c_.dim, config.num_labels);
        break;
      case Head::kTokenClassification:
        classifier_ = nn::Linear(w.sub("classifier"), c_.dim, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        classifier_ = nn::Linear(w.sub("qa_outputs"), c_.dim, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        vocab_transform_ = nn::Linear(w.sub("vocab_transform"), c_.dim, c_.dim);
        vocab_layer_norm_ = nn::LayerNorm(w.sub("vocab_layer_norm"), c_.dim, kLayerNormEps);
        vocab_projector_weight_ = tied_output_weight(
            w, "vocab_projector.weight", {c_.vocab_size, c_.dim}, emb, word_embeddings_.weight,
            c_.tie_word_embeddings);
        vocab_projector_bias_ = w.get("vocab_projector.bias", {c_.vocab_size});
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, c_.max_position_embeddings, "distilbert");
    const Tensor& ids = in.input_ids;
    // Embeddings: word + position (no token types), LayerNorm.
    Tensor x = word_embeddings_(ids);
    ops::add_(x, ops::embedding(position_embeddings_, arange_position_ids(ids.dim(0), ids.dim(1))));
    x = embeddings_layer_norm_(x);
    EncoderOutput out;
    trace(opt, x, "embeddings", -1);
    if (opt.output_hidden_states) out.hidden_states.push_back(x);
    for (size_t i = 0; i < layer_.size(); ++i) {
      x = layer_[i].forward(x, in.attention_mask, opt, static_cast<int>(i));
      if (opt.output_hidden_states) out.hidden_states.push_back(x);
    }
    out.last_hidden_state = x;
    switch (head_) {
      case Head::kSequenceClassification:
        out.logits = classifier_(pre_classifier_(first_token(x), ops::Activation::kRelu));
        break;
      case Head::kTokenClassification:
        out.logits = classifier_(x);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(classifier_(x), out);
        break;
      case Head::kMaskedLM: {
        const Tensor h = vocab_layer_norm_(vocab_transform_(x, c_.activation));
        out.logits = ops::linear(h, vocab_projector_weight_, vocab_projector_bias_);
        break;
      }
      case Head::kBase:
        break;
    }
    return out;
  }

 private:
  DistilBertConfig c_;
  nn::WeightMap base_;  // "distilbert." in head models
  nn::Embedding word_embeddings_;
  Tensor position_embeddings_;
  nn::LayerNorm embeddings_layer_norm_;
  std::vector<TransformerBlock> layer_;
  nn::Linear pre_classifier_, classifier_;  // classifier: also token classifier / qa_outputs
  nn::Linear vocab_transform_;
  nn::LayerNorm vocab_layer_norm_;
  Tensor vocab_projector_weight_, vocab_projector_bias_;
};

}  // namespace

std::unique_ptr<EncoderBase> make_distilbert(const ModelConfig& config, const nn::WeightMap& w,
                                             Head head) {
  return std::make_unique<DistilBert>(config, w, head);
}

}  // namespace mlhub::models
