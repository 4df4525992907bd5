// MPNet: MPNetModel, MPNetForSequenceClassification, MPNetForTokenClassification,
// MPNetForQuestionAnswering, MPNetForMaskedLM. A BERT-like post-LayerNorm encoder whose attention
// adds a T5-style relative position bias (encoder.relative_attention_bias), computed once per
// forward and shared by every layer.
// transformers/models/mpnet/modeling_mpnet.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/mpnet/modeling_mpnet.py
// Song et al. 2020, "MPNet: Masked and Permuted Pre-training for Language Understanding",
// https://arxiv.org/abs/2004.09297
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/common.h"
#include "models/relative_positions.h"
#include "models/registry.h"

namespace mlhub::models {

int64_t mpnet_relative_position_bucket(int64_t relative_position, int64_t num_buckets,
                                       int64_t max_distance) {
  // transformers' relative_position_bucket, step by step in its dtypes: the log term is float32,
  // truncated toward zero by .to(torch.long).
  int64_t ret = 0;
  int64_t n = -relative_position;
  num_buckets /= 2;
  if (n < 0) ret += num_buckets;
  n = std::abs(n);
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return ret + n;
  const float ratio = static_cast<float>(n) / static_cast<float>(max_exact);
  const float scale = static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  const float scaled = std::log(ratio) / scale * static_cast<float>(num_buckets - max_exact);
  const int64_t large = max_exact + static_cast<int64_t>(scaled);
  return ret + std::min(large, num_buckets - 1);
}

namespace {

// MPNetEncoder.compute_position_bias calls relative_position_bucket with its defaults, whatever
// relative_attention_num_buckets says (the embedding table only has to be large enough).
constexpr int64_t kNumBuckets = 32;
constexpr int64_t kMaxDistance = 128;
// MPNetEmbeddings hard-codes padding_idx = 1 for its position ids (not config.pad_token_id).
constexpr int64_t kPaddingIdx = 1;

struct MPNetConfig {
  int64_t vocab_size = 30527;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t relative_attention_num_buckets = 32;
  float layer_norm_eps = 1e-12f;
  ops::Activation hidden_act = ops::Activation::kGeluErf;
  bool tie_word_embeddings = true;

  explicit MPNetConfig(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    vocab_size = config_int(j, "vocab_size", vocab_size);
    hidden_size = config_int(j, "hidden_size", hidden_size);
    num_hidden_layers = config_int(j, "num_hidden_layers", num_hidden_layers);
    num_attention_heads = config_int(j, "num_attention_heads", num_attention_heads);
    intermediate_size = config_int(j, "intermediate_size", intermediate_size);
    max_position_embeddings = config_int(j, "max_position_embeddings", max_position_embeddings);
    relative_attention_num_buckets =
        config_int(j, "relative_attention_num_buckets", relative_attention_num_buckets);
    layer_norm_eps = static_cast<float>(config_float(j, "layer_norm_eps", layer_norm_eps));
    hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "gelu"));
    tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
    config_check(vocab_size > kPaddingIdx && hidden_size > 0 && num_hidden_layers >= 0 &&
                     intermediate_size > 0 && max_position_embeddings > kPaddingIdx + 1,
                 "mpnet", "sizes must be positive");
    config_check(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, "mpnet",
                 fmt::format("hidden_size {} is not a multiple of num_attention_heads {}",
                             hidden_size, num_attention_heads));
    // Buckets go up to kNumBuckets - 1 whatever the table size; transformers would index past a
    // smaller table.
    config_check(relative_attention_num_buckets >= kNumBuckets, "mpnet",
                 fmt::format("relative_attention_num_buckets {} is below the {} buckets the "
                             "position bias uses",
                             relative_attention_num_buckets, kNumBuckets));
  }
};

// MPNetLayer ("encoder.layer.N"): attention.attn.{q,k,v,o} + attention.LayerNorm, then
// intermediate.dense and output.{dense,LayerNorm}.
struct MPNetLayer {
  MPNetLayer(const nn::WeightMap& w, const MPNetConfig& c)
      : q(w.sub("attention").sub("attn").sub("q"), c.hidden_size, c.hidden_size),
        k(w.sub("attention").sub("attn").sub("k"), c.hidden_size, c.hidden_size),
        v(w.sub("attention").sub("attn").sub("v"), c.hidden_size, c.hidden_size),
        o(w.sub("attention").sub("attn").sub("o"), c.hidden_size, c.hidden_size),
        attention_layer_norm(w.sub("attention").sub("LayerNorm"), c.hidden_size,
                             c.layer_norm_eps),
        intermediate_dense(w.sub("intermediate").sub("dense"), c.hidden_size, c.intermediate_size),
        output_dense(w.sub("output").sub("dense"), c.intermediate_size, c.hidden_size),
        output_layer_norm(w.sub("output").sub("LayerNorm"), c.hidden_size, c.layer_norm_eps),
        num_heads(static_cast<int>(c.num_attention_heads)),
        act(c.hidden_act) {}

  // position_bias: [1, H, T, T], added to the scaled scores before the padding mask.
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& position_bias,
                 const ForwardOptions& opt, int index) const {
    const float scale = 1.0f / std::sqrt(static_cast<float>(x.dim(-1) / num_heads));
    const Tensor c = ops::attention(q(x), k(x), v(x), num_heads, mask, position_bias, scale);
    const Tensor attention_output = attention_layer_norm(o(c), x);
    trace(opt, attention_output, "attn_output", index);
    const Tensor intermediate = intermediate_dense(attention_output, act);
    const Tensor layer_output = output_layer_norm(output_dense(intermediate), attention_output);
    trace(opt, layer_output, "layer_output", index);
    return layer_output;
  }

  nn::Linear q, k, v, o;
  nn::LayerNorm attention_layer_norm;
  nn::Linear intermediate_dense, output_dense;
  nn::LayerNorm output_layer_norm;
  int num_heads;
  ops::Activation act;
};

// MPNetLMHead ("lm_head"): dense, gelu, layer_norm, decoder tied to the word embeddings, with
// "bias" tied to "decoder.bias".
struct MPNetLMHead {
  MPNetLMHead(const nn::WeightMap& w, const MPNetConfig& c, const nn::WeightMap& embeddings,
              const Tensor& word_embeddings)
      : dense(w.sub("dense"), c.hidden_size, c.hidden_size),
        layer_norm(w.sub("layer_norm"), c.hidden_size, c.layer_norm_eps),
        decoder_weight(tied_output_weight(w, "decoder.weight", {c.vocab_size, c.hidden_size},
                                          embeddings, word_embeddings, c.tie_word_embeddings)),
        bias(tied_pair(w, "bias", "decoder.bias", {c.vocab_size})) {}
  Tensor forward(const Tensor& x) const {
    return ops::linear(layer_norm(dense(x, ops::Activation::kGeluErf)), decoder_weight, bias);
  }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
  Tensor decoder_weight, bias;
};

class MPNet final : public EncoderBase {
 public:
  MPNet(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(config),
        base_(head == Head::kBase ? w : w.sub("mpnet")),
        word_embeddings_(base_.sub("embeddings").sub("word_embeddings"), c_.vocab_size,
                         c_.hidden_size),
        position_embeddings_(base_.sub("embeddings").sub("position_embeddings"),
                             c_.max_position_embeddings, c_.hidden_size),
        embeddings_layer_norm_(base_.sub("embeddings").sub("LayerNorm"), c_.hidden_size,
                               c_.layer_norm_eps),
        relative_attention_bias_(base_.sub("encoder").sub("relative_attention_bias"),
                                 c_.relative_attention_num_buckets, c_.num_attention_heads) {
    set_effective_sizes(0, c_.max_position_embeddings);
    declare_buffers(base_.sub("embeddings"), {"position_ids"});
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layer_.emplace_back(base_.sub("encoder").sub("layer").sub(std::to_string(i)), c_);
    // Only MPNetModel has the pooler; the heads build it with add_pooling_layer=False.
    if (head == Head::kBase)
      pooler_dense_ = nn::Linear(base_.sub("pooler").sub("dense"), c_.hidden_size, c_.hidden_size);
    switch (head) {
      case Head::kSequenceClassification:  // MPNetClassificationHead: dense, tanh, out_proj
        classifier_dense_ = nn::Linear(w.sub("classifier").sub("dense"), c_.hidden_size,
                                       c_.hidden_size);
        classifier_ = nn::Linear(w.sub("classifier").sub("out_proj"), c_.hidden_size,
                                 config.num_labels);
        break;
      case Head::kTokenClassification:
        classifier_ = nn::Linear(w.sub("classifier"), c_.hidden_size, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        classifier_ = nn::Linear(w.sub("qa_outputs"), c_.hidden_size, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        lm_head_.emplace_back(w.sub("lm_head"), c_, base_.sub("embeddings"),
                              word_embeddings_.weight);
        break;
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, 0, "mpnet");
    const Tensor& ids = in.input_ids;
    const Tensor positions = padded_position_ids(ids, kPaddingIdx);
    check_max_position(positions, c_.max_position_embeddings, "mpnet");
    Tensor x = word_embeddings_(ids);
    ops::add_(x, position_embeddings_(positions));
    x = embeddings_layer_norm_(x);
    EncoderOutput out;
    trace(opt, x, "embeddings", -1);
    if (opt.output_hidden_states) out.hidden_states.push_back(x);
    const Tensor bias = compute_position_bias(ids.dim(1));
    for (size_t i = 0; i < layer_.size(); ++i) {
      x = layer_[i].forward(x, in.attention_mask, bias, opt, static_cast<int>(i));
      if (opt.output_hidden_states) out.hidden_states.push_back(x);
    }
    out.last_hidden_state = x;
    switch (head_) {
      case Head::kBase:
        out.pooler_output = pooler_dense_(first_token(x), ops::Activation::kTanh);
        break;
      case Head::kSequenceClassification:
        out.logits = classifier_(classifier_dense_(first_token(x), ops::Activation::kTanh));
        break;
      case Head::kTokenClassification:
        out.logits = classifier_(x);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(classifier_(x), out);
        break;
      case Head::kMaskedLM:
        out.logits = lm_head_.front().forward(x);
        break;
    }
    return out;
  }

 private:
  // MPNetEncoder.compute_position_bias: bias[0, h, i, j] = relative_attention_bias[bucket(j - i),
  // h], the same for every row of the batch.
  Tensor compute_position_bias(int64_t seq) const {
    const int64_t heads = c_.num_attention_heads;
    std::vector<int64_t> buckets(static_cast<size_t>(seq * seq));
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j < seq; ++j)
        buckets[i * seq + j] = mpnet_relative_position_bucket(j - i, kNumBuckets, kMaxDistance);
    const Tensor values =
        relative_attention_bias_(Tensor::from_ints(buckets, {seq, seq}));  // [T, T, H]
    return values.transpose(0, 2).transpose(1, 2).contiguous().reshape({1, heads, seq, seq});
  }

  MPNetConfig c_;
  nn::WeightMap base_;  // "mpnet." in head models
  nn::Embedding word_embeddings_, position_embeddings_;
  nn::LayerNorm embeddings_layer_norm_;
  nn::Embedding relative_attention_bias_;
  std::vector<MPNetLayer> layer_;
  nn::Linear pooler_dense_;
  nn::Linear classifier_dense_, classifier_;  // classifier_: out_proj, token classifier or qa
  std::vector<MPNetLMHead> lm_head_;
};

}  // namespace

std::unique_ptr<EncoderBase> make_mpnet(const ModelConfig& config, const nn::WeightMap& w,
                                        Head head) {
  return std::make_unique<MPNet>(config, w, head);
}

}  // namespace mlhub::models
