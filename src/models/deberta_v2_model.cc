// DeBERTa-v2 / v3, second half: DebertaV2Embeddings, DebertaV2Layer, DebertaV2Encoder,
// DebertaV2Model and the heads (ContextPooler + classifier, token classifier, qa_outputs, the
// legacy "cls.predictions" and the newer "lm_predictions.lm_head" MLM heads). The attention and
// ConvLayer are in deberta_v2.cc; see there for the references.
#include <fmt/format.h>

#include "models/common.h"
#include "models/deberta_v2.h"
#include "models/registry.h"
#include "models/relative_positions.h"

namespace mlhub::models {
namespace {

// DebertaV2Layer ("encoder.layer.N"): attention, intermediate.dense, output.{dense,LayerNorm}.
struct DebertaV2Layer {
  DebertaV2Layer(const nn::WeightMap& w, const DebertaV2Config& c)
      : attention(w.sub("attention"), c),
        intermediate_dense(w.sub("intermediate").sub("dense"), c.hidden_size, c.intermediate_size),
        output_dense(w.sub("output").sub("dense"), c.intermediate_size, c.hidden_size),
        output_layer_norm(w.sub("output").sub("LayerNorm"), c.hidden_size, c.layer_norm_eps),
        act(c.hidden_act) {}

  Tensor forward(const Tensor& x, const Tensor& mask, const DebertaV2Relative& rel,
                 const ForwardOptions& opt, int index) const {
    const Tensor attention_output = attention.forward(x, mask, rel);
    trace(opt, attention_output, "attn_output", index);
    const Tensor intermediate = intermediate_dense(attention_output, act);
    return output_layer_norm(output_dense(intermediate), attention_output);
  }

  DebertaV2Attention attention;
  nn::Linear intermediate_dense, output_dense;
  nn::LayerNorm output_layer_norm;
  ops::Activation act;
};

// LegacyDebertaV2LMPredictionHead ("cls.predictions"): transform.{dense (hidden ->
// embedding_size), act, LayerNorm}, decoder tied to the word embeddings, bias tied to
// decoder.bias. DebertaV2LMPredictionHead ("lm_predictions.lm_head"): dense, act, LayerNorm, then
// the word embedding matrix itself (no decoder parameter) plus bias.
struct DebertaV2MaskedLMHead {
  DebertaV2MaskedLMHead(const nn::WeightMap& w, const DebertaV2Config& c,
                        const nn::WeightMap& embeddings, const Tensor& word_embeddings)
      : act(c.hidden_act) {
    if (c.legacy) {
      const nn::WeightMap p = w.sub("cls").sub("predictions");
      dense = nn::Linear(p.sub("transform").sub("dense"), c.hidden_size, c.embedding_size);
      layer_norm = nn::LayerNorm(p.sub("transform").sub("LayerNorm"), c.embedding_size,
                                 c.layer_norm_eps);
      decoder_weight = tied_output_weight(p, "decoder.weight", {c.vocab_size, c.embedding_size},
                                          embeddings, word_embeddings, c.tie_word_embeddings);
      bias = tied_pair(p, "bias", "decoder.bias", {c.vocab_size});
    } else {
      // matmul(hidden_states, word_embeddings.weight.t()) needs embedding_size == hidden_size.
      if (c.embedding_size != c.hidden_size)
        throw Error(StatusCode::kInvalidArgument,
                    "deberta-v2 config: the non-legacy MLM head needs embedding_size == "
                    "hidden_size");
      // transformers 4.57 ties this head's get_output_embeddings() (lm_head.dense) to the word
      // embeddings when tie_word_embeddings is set, which replaces the [H, H] dense by the
      // [vocab, H] table: not a model one can reproduce.
      if (c.tie_word_embeddings)
        throw Error(StatusCode::kUnimplemented,
                    "deberta-v2: the non-legacy MLM head (legacy=false) with "
                    "tie_word_embeddings=true is not supported (transformers ties "
                    "lm_predictions.lm_head.dense to the word embeddings there)");
      const nn::WeightMap p = w.sub("lm_predictions").sub("lm_head");
      dense = nn::Linear(p.sub("dense"), c.hidden_size, c.hidden_size);
      layer_norm = nn::LayerNorm(p.sub("LayerNorm"), c.hidden_size, c.layer_norm_eps);
      decoder_weight = word_embeddings;
      bias = p.get("bias", {c.vocab_size});
    }
  }
  Tensor forward(const Tensor& x) const {
    return ops::linear(layer_norm(dense(x, act)), decoder_weight, bias);
  }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
  Tensor decoder_weight, bias;
  ops::Activation act;
};

class DebertaV2 final : public EncoderBase {
 public:
  DebertaV2(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(config),
        base_(head == Head::kBase ? w : w.sub("deberta")),
        word_embeddings_(base_.sub("embeddings").sub("word_embeddings"), c_.vocab_size,
                         c_.embedding_size),
        embeddings_layer_norm_(base_.sub("embeddings").sub("LayerNorm"), c_.hidden_size,
                               c_.layer_norm_eps) {
    const nn::WeightMap emb = base_.sub("embeddings");
    set_effective_sizes(c_.type_vocab_size, c_.max_position_embeddings);
    declare_buffers(emb, {"position_ids"});
    // DebertaV2ForMaskedLM replaces the base class's ignore list ("position_embeddings").
    w.ignore_unexpected({head == Head::kMaskedLM ? "mask_predictions.*" : "position_embeddings"});
    if (c_.position_biased_input)
      position_embeddings_ =
          nn::Embedding(emb.sub("position_embeddings"), c_.max_position_embeddings,
                        c_.embedding_size);
    if (c_.type_vocab_size > 0)
      token_type_embeddings_ =
          nn::Embedding(emb.sub("token_type_embeddings"), c_.type_vocab_size, c_.embedding_size);
    if (c_.embedding_size != c_.hidden_size)
      embed_proj_ = nn::Linear(emb.sub("embed_proj"), c_.embedding_size, c_.hidden_size,
                               /*bias=*/false);
    const nn::WeightMap enc = base_.sub("encoder");
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layer_.emplace_back(enc.sub("layer").sub(std::to_string(i)), c_);
    if (c_.relative_attention)
      rel_embeddings_ = enc.get("rel_embeddings.weight", {2 * c_.pos_ebd_size(), c_.hidden_size});
    if (c_.norm_rel_ebd_layer_norm)
      encoder_layer_norm_ = nn::LayerNorm(enc.sub("LayerNorm"), c_.hidden_size, c_.layer_norm_eps);
    if (c_.conv_kernel_size > 0) conv_.emplace_back(enc.sub("conv"), c_);
    switch (head) {
      case Head::kSequenceClassification:  // ContextPooler (dense + pooler_hidden_act), classifier
        pooler_dense_ = nn::Linear(w.sub("pooler").sub("dense"), c_.pooler_hidden_size,
                                   c_.pooler_hidden_size);
        classifier_ = nn::Linear(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kTokenClassification:
        classifier_ = nn::Linear(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        classifier_ = nn::Linear(w.sub("qa_outputs"), c_.hidden_size, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        mlm_.emplace_back(w, c_, emb, word_embeddings_.weight);
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, c_.position_biased_input ? c_.max_position_embeddings : 0,
                        "deberta-v2");
    const Tensor& ids = in.input_ids;
    const int64_t batch = ids.dim(0), seq = ids.dim(1);
    // A missing mask is all ones, as DebertaV2Model makes it.
    const Tensor mask = in.attention_mask.defined() ? in.attention_mask
                                                    : Tensor::full({batch, seq}, 1.0f);
    const Tensor embedding_output = embeddings(ids, in.token_type_ids, mask);
    EncoderOutput out;
    trace(opt, embedding_output, "embeddings", -1);
    if (opt.output_hidden_states) out.hidden_states.push_back(embedding_output);
    const DebertaV2Relative rel = relative(seq);
    Tensor x = embedding_output;
    for (size_t i = 0; i < layer_.size(); ++i) {
      x = layer_[i].forward(x, mask, rel, opt, static_cast<int>(i));
      if (i == 0 && !conv_.empty()) x = conv_.front().forward(embedding_output, x, mask);
      trace(opt, x, "layer_output", static_cast<int>(i));
      if (opt.output_hidden_states) out.hidden_states.push_back(x);
    }
    out.last_hidden_state = x;
    switch (head_) {
      case Head::kSequenceClassification:
        out.logits = classifier_(pooler_dense_(first_token(x), c_.pooler_hidden_act));
        break;
      case Head::kTokenClassification:
        out.logits = classifier_(x);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(classifier_(x), out);
        break;
      case Head::kMaskedLM:
        out.logits = mlm_.front().forward(x);
        break;
      case Head::kBase:
        break;
    }
    return out;
  }

 private:
  // DebertaV2Embeddings: word (+ position when position_biased_input) (+ token type when
  // type_vocab_size > 0), embed_proj, LayerNorm, padded rows zeroed.
  Tensor embeddings(const Tensor& ids, const Tensor& token_type_ids, const Tensor& mask) const {
    Tensor x = word_embeddings_(ids);
    if (position_embeddings_.weight.defined())
      ops::add_(x, position_embeddings_(arange_position_ids(ids.dim(0), ids.dim(1))));
    if (token_type_embeddings_.weight.defined())
      ops::add_(x, token_type_embeddings_(token_types_or_zeros(token_type_ids, ids)));
    if (embed_proj_.weight.defined()) x = embed_proj_(x);
    return mask_rows(embeddings_layer_norm_(x), mask);
  }

  // DebertaV2Encoder.get_rel_embedding + get_rel_pos: shared by every layer.
  DebertaV2Relative relative(int64_t seq) const {
    DebertaV2Relative rel;
    if (!c_.relative_attention) return rel;
    rel.embeddings = rel_embeddings_.slice(0, 0, 2 * c_.pos_ebd_size());
    if (encoder_layer_norm_.weight.defined()) rel.embeddings = encoder_layer_norm_(rel.embeddings);
    std::vector<int64_t> positions(static_cast<size_t>(seq * seq));
    const bool bucketed = c_.position_buckets > 0 && c_.max_relative_positions > 0;
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j < seq; ++j)
        positions[i * seq + j] =
            bucketed ? deberta_log_bucket_position(i - j, c_.position_buckets,
                                                   c_.max_relative_positions)
                     : i - j;
    rel.positions = Tensor::from_ints(positions, {seq, seq});
    return rel;
  }

  DebertaV2Config c_;
  nn::WeightMap base_;  // "deberta." in head models
  nn::Embedding word_embeddings_, position_embeddings_, token_type_embeddings_;
  nn::Linear embed_proj_;
  nn::LayerNorm embeddings_layer_norm_;
  std::vector<DebertaV2Layer> layer_;
  Tensor rel_embeddings_;
  nn::LayerNorm encoder_layer_norm_;  // encoder.LayerNorm (norm_rel_ebd "layer_norm")
  std::vector<DebertaV2Conv> conv_;   // encoder.conv (conv_kernel_size > 0)
  nn::Linear pooler_dense_;
  nn::Linear classifier_;  // classifier or qa_outputs
  std::vector<DebertaV2MaskedLMHead> mlm_;
};

}  // namespace

std::unique_ptr<EncoderBase> make_deberta_v2(const ModelConfig& config, const nn::WeightMap& w,
                                             Head head) {
  return std::make_unique<DebertaV2>(config, w, head);
}

}  // namespace mlhub::models
