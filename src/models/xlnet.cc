// XLNet: XLNetModel, XLNetForSequenceClassification, XLNetForTokenClassification,
// XLNetForQuestionAnsweringSimple, as transformers runs them at inference: the content stream
// only (no mems, perm_mask or target_mapping, so the query stream and mask_emb are unused),
// Transformer-XL relative attention with sinusoidal relative positions, and XLNet's relative
// segment encoding (whether two tokens share a token type, not which type they have).
// transformers/models/xlnet/modeling_xlnet.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/xlnet/modeling_xlnet.py
// Yang et al. 2019, "XLNet: Generalized Autoregressive Pretraining for Language Understanding",
// https://arxiv.org/abs/1906.08237
//
// XLNet's tokenizer pads on the LEFT and ends each sequence with <sep> <cls>; the sequence
// summary reads the last position (summary_type "last"), so a batch must be left-padded for it.
// Padding never changes a real token's output: padded keys are masked and the attention only
// sees relative distances, so a row equals its unpadded self on either side.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {
namespace {

constexpr std::string_view kType = "xlnet";

// What rel_attn_core subtracts from masked scores (float32 path).
constexpr float kMaskedScore = -1e30f;

enum class SummaryType : uint8_t { kLast, kFirst, kMean };

// XLNetConfig with its defaults (configuration_xlnet.py) and XLNetSequenceSummary's getattr()
// defaults.
struct XLNetConfig {
  int64_t vocab_size = 32000;
  int64_t d_model = 1024;
  int64_t n_layer = 24;
  int64_t n_head = 16;
  int64_t d_head = 64;
  int64_t d_inner = 4096;
  ops::Activation ff_activation = ops::Activation::kGeluErf;
  float layer_norm_eps = 1e-12f;
  int64_t clamp_len = -1;  // > 0: relative positions clamped to [-clamp_len, clamp_len]
  SummaryType summary_type = SummaryType::kLast;
  bool summary_use_proj = true;
  int64_t summary_out = 0;  // the summary projection's width
  ops::Activation summary_activation = ops::Activation::kTanh;

  explicit XLNetConfig(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    vocab_size = config_int(j, "vocab_size", vocab_size);
    d_model = config_int(j, "d_model", d_model);
    n_layer = config_int(j, "n_layer", n_layer);
    n_head = config_int(j, "n_head", n_head);
    d_inner = config_int(j, "d_inner", d_inner);
    ff_activation = ops::activation_from_name(config_string(j, "ff_activation", "gelu"));
    layer_norm_eps = static_cast<float>(config_float(j, "layer_norm_eps", layer_norm_eps));
    clamp_len = config_int(j, "clamp_len", clamp_len);
    config_check(vocab_size > 0 && d_model > 0 && n_layer >= 0 && d_inner > 0, kType,
                 "sizes must be positive");
    config_check(n_head > 0 && d_model % n_head == 0, kType,
                 fmt::format("d_model {} is not a multiple of n_head {}", d_model, n_head));
    // XLNetConfig derives d_head and rejects a config.json that says otherwise.
    d_head = d_model / n_head;
    config_check(config_int(j, "d_head", d_head) == d_head, kType,
                 fmt::format("d_head must be d_model / n_head = {}", d_head));
    // The sinusoids fill d_model with sin and cos halves; an odd d_model breaks transformers too.
    config_check(d_model % 2 == 0, kType, "d_model must be even");
    config_check(layer_norm_eps > 0, kType, "layer_norm_eps must be positive");
    // untie_r only changes how the original TF checkpoints map onto layers; the PyTorch module
    // has r_w_bias / r_r_bias / r_s_bias in every layer either way.
    config_bool(j, "untie_r", true);

    const std::string attn_type = config_string(j, "attn_type", "bi");
    if (attn_type != "bi")
      throw Error(StatusCode::kUnimplemented,
                  fmt::format("xlnet: attn_type \"{}\" is not supported (only \"bi\", the "
                              "bidirectional attention every released checkpoint uses)",
                              attn_type));
    if (config_bool(j, "bi_data", false))
      throw Error(StatusCode::kUnimplemented,
                  "xlnet: bi_data (a pre-training input layout) is not supported");

    // XLNetSequenceSummary.
    const std::string type = config_string(j, "summary_type", "last");
    if (type == "last" || type == "cls_index") {  // cls_index without indices = the last token
      summary_type = SummaryType::kLast;
    } else if (type == "first") {
      summary_type = SummaryType::kFirst;
    } else if (type == "mean") {
      summary_type = SummaryType::kMean;
    } else {
      throw Error(StatusCode::kUnimplemented,
                  fmt::format("xlnet: summary_type \"{}\" is not supported (last, first, mean, "
                              "cls_index)",
                              type));
    }
    summary_use_proj = config_bool(j, "summary_use_proj", false);
    summary_out = config_bool(j, "summary_proj_to_labels", false) && config.num_labels > 0
                      ? config.num_labels
                      : d_model;
    const std::string act = config_string(j, "summary_activation", "");
    summary_activation =
        act.empty() ? ops::Activation::kIdentity : ops::activation_from_name(act);
  }
};

// A parameter stored as [d_model, n_head, d_head] (einsum "ibh,hnd->ibnd") as an nn.Linear from
// d_model to n_head * d_head: weight [n_head * d_head, d_model].
nn::Linear head_projection(const nn::WeightMap& w, std::string_view name, const XLNetConfig& c) {
  const Tensor p = w.get(name, {c.d_model, c.n_head, c.d_head});
  return nn::Linear::from_weight(
      p.reshape({c.d_model, c.n_head * c.d_head}).transpose(0, 1).contiguous(), Tensor());
}

// What every layer's attention shares in one forward.
struct AttentionInputs {
  Tensor pos_emb;     // [2T - 1, d_model]: row m encodes the relative position (T - 1) - m
  Tensor attn_mask;   // F32 [B, T]: 1 where transformers' input_mask masks the key; or undefined
  Tensor token_type;  // I64 [B, T], or undefined (no segment term)
};

// XLNetRelativeAttention ("rel_attn"), content stream: q, k, v, o, r, r_w_bias, r_r_bias,
// r_s_bias, seg_embed, layer_norm.
struct XLNetRelativeAttention {
  XLNetRelativeAttention(const nn::WeightMap& w, const XLNetConfig& c)
      : q(head_projection(w, "q", c)),
        k(head_projection(w, "k", c)),
        v(head_projection(w, "v", c)),
        r(head_projection(w, "r", c)),
        // post_attention's einsum "ibnd,hnd->ibh": o is already [out, in] once flattened.
        o(nn::Linear::from_weight(
            w.get("o", {c.d_model, c.n_head, c.d_head}).reshape({c.d_model, c.n_head * c.d_head}),
            Tensor())),
        r_w_bias(w.get("r_w_bias", {c.n_head, c.d_head}).reshape({c.n_head * c.d_head})),
        r_r_bias(w.get("r_r_bias", {c.n_head, c.d_head}).reshape({c.n_head * c.d_head})),
        r_s_bias(w.get("r_s_bias", {c.n_head, c.d_head}).reshape({c.n_head * c.d_head})),
        seg_embed(w.get("seg_embed", {2, c.n_head, c.d_head}).contiguous()),
        layer_norm(w.sub("layer_norm"), c.d_model, c.layer_norm_eps),
        n_head(c.n_head),
        d_head(c.d_head) {}

  // h [B, T, d_model] -> LayerNorm(o(attention) + h).
  Tensor forward(const Tensor& h, const AttentionInputs& in) const {
    const Tensor q_head = q(h), k_head = k(h), v_head = v(h);
    const Tensor k_head_r = r(in.pos_emb);  // [2T - 1, n_head * d_head]
    const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
    // ac = (q + r_w_bias) . k is the attention's own product; bd, ef and the mask go in the bias.
    const Tensor bias = score_bias(q_head, k_head_r, in, scale);
    const Tensor attn_vec = ops::attention(ops::add(q_head, r_w_bias), k_head, v_head,
                                           static_cast<int>(n_head), Tensor(), bias, scale);
    return layer_norm(o(attn_vec), h);
  }

  // (bd + ef) * scale, or kMaskedScore where the key is masked, [B, n_head, T, T]:
  //   bd[i, j] = (q_i + r_r_bias) . k_r(i - j)  (rel_shift_bnij of the [T, 2T] product)
  //   ef[i, j] = (q_i + r_s_bias) . seg_embed[token_type_i != token_type_j]
  // A masked key j is one of the padding keys, except j == i (non_tgt_mask: a padding query
  // attends to itself, so no row is ever fully masked).
  Tensor score_bias(const Tensor& q_head, const Tensor& k_head_r, const AttentionInputs& in,
                    float scale) const {
    const int64_t batch = q_head.dim(0), seq = q_head.dim(1), width = n_head * d_head;
    const int64_t rel = k_head_r.dim(0);  // 2T - 1
    Tensor bias = Tensor::zeros(DType::kF32, {batch, n_head, seq, seq});
    float* out = bias.data<float>();
    const Tensor k_r =
        k_head_r.reshape({rel, n_head, d_head}).transpose(0, 1).contiguous();  // [H, 2T-1, D]
    const float* seg = seg_embed.data<float>();
    for (int64_t b = 0; b < batch; ++b) {
      const Tensor qb = q_head.select(0, b);  // [T, H*D]
      const Tensor q_r = ops::add(qb, r_r_bias).reshape({seq, n_head, d_head}).transpose(0, 1);
      const Tensor bd = ops::matmul(q_r, k_r, /*transpose_b=*/true);  // [H, T, 2T-1]
      const float* bdp = bd.data<float>();
      // ef's two candidates per (head, query): same segment (0) or different (1).
      std::vector<float> ef;
      const int64_t* types = nullptr;
      if (in.token_type.defined()) {
        const Tensor q_s = ops::add(qb, r_s_bias);
        const float* qs = q_s.data<float>();
        ef.assign(static_cast<size_t>(n_head * seq * 2), 0.0f);
        for (int64_t h = 0; h < n_head; ++h)
          for (int64_t i = 0; i < seq; ++i)
            for (int64_t s = 0; s < 2; ++s) {
              float dot = 0;
              for (int64_t d = 0; d < d_head; ++d)
                dot += qs[i * width + h * d_head + d] * seg[(s * n_head + h) * d_head + d];
              ef[(h * seq + i) * 2 + s] = dot;
            }
        types = in.token_type.data<int64_t>() + b * seq;
      }
      const float* masked = in.attn_mask.defined() ? in.attn_mask.data<float>() + b * seq : nullptr;
      for (int64_t h = 0; h < n_head; ++h)
        for (int64_t i = 0; i < seq; ++i) {
          float* row = out + ((b * n_head + h) * seq + i) * seq;
          // Relative position i - j sits at row (T - 1) - (i - j) of pos_emb.
          const float* bd_row = bdp + (h * seq + i) * rel + (seq - 1 - i);
          for (int64_t j = 0; j < seq; ++j) {
            if (masked && masked[j] > 0 && j != i) {
              row[j] = kMaskedScore;
              continue;
            }
            float score = bd_row[j];
            if (types) score += ef[(h * seq + i) * 2 + (types[i] != types[j] ? 1 : 0)];
            row[j] = score * scale;
          }
        }
    }
    return bias;
  }

  nn::Linear q, k, v, r, o;
  Tensor r_w_bias, r_r_bias, r_s_bias;  // [n_head * d_head]
  Tensor seg_embed;                     // [2, n_head, d_head]
  nn::LayerNorm layer_norm;
  int64_t n_head, d_head;
};

// XLNetFeedForward ("ff"): layer_1, ff_activation, layer_2, layer_norm(output + input).
struct XLNetFeedForward {
  XLNetFeedForward(const nn::WeightMap& w, const XLNetConfig& c)
      : layer_1(w.sub("layer_1"), c.d_model, c.d_inner),
        layer_2(w.sub("layer_2"), c.d_inner, c.d_model),
        layer_norm(w.sub("layer_norm"), c.d_model, c.layer_norm_eps),
        act(c.ff_activation) {}
  Tensor forward(const Tensor& x) const { return layer_norm(layer_2(layer_1(x, act)), x); }

  nn::Linear layer_1, layer_2;
  nn::LayerNorm layer_norm;
  ops::Activation act;
};

// XLNetLayer ("layer.N").
struct XLNetLayer {
  XLNetLayer(const nn::WeightMap& w, const XLNetConfig& c)
      : rel_attn(w.sub("rel_attn"), c), ff(w.sub("ff"), c) {}
  Tensor forward(const Tensor& h, const AttentionInputs& in, const ForwardOptions& opt,
                 int index) const {
    const Tensor attn = rel_attn.forward(h, in);
    trace(opt, attn, "attn_output", index);
    const Tensor out = ff.forward(attn);
    trace(opt, out, "layer_output", index);
    return out;
  }
  XLNetRelativeAttention rel_attn;
  XLNetFeedForward ff;
};

// relative_positional_encoding for attn_type "bi", bi_data false, no mems: the sinusoids of
// positions T - 1 .. -(T - 1), float32 throughout as transformers computes them. (transformers
// builds T .. -(T - 1); the first row, position T, is never read by rel_shift.)
Tensor relative_positional_encoding(int64_t seq, int64_t d_model, int64_t clamp_len) {
  const int64_t half = d_model / 2, rows = 2 * seq - 1;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t f = 0; f < half; ++f)
    inv_freq[f] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * f) / static_cast<float>(d_model));
  Tensor pos = Tensor::zeros(DType::kF32, {rows, d_model});
  float* p = pos.data<float>();
  for (int64_t m = 0; m < rows; ++m) {
    int64_t position = seq - 1 - m;
    if (clamp_len > 0) position = std::clamp(position, -clamp_len, clamp_len);
    for (int64_t f = 0; f < half; ++f) {
      const float x = static_cast<float>(position) * inv_freq[f];
      p[m * d_model + f] = static_cast<float>(std::sin(static_cast<double>(x)));
      p[m * d_model + half + f] = static_cast<float>(std::cos(static_cast<double>(x)));
    }
  }
  return pos;
}

class XLNet final : public EncoderBase {
 public:
  XLNet(const ModelConfig& config, const nn::WeightMap& w, Head head)
      : EncoderBase(config, head),
        c_(config),
        base_(head == Head::kBase ? w : w.sub("transformer")),
        word_embedding_(base_.sub("word_embedding"), c_.vocab_size, c_.d_model) {
    // Token types are compared, never looked up, so any id is valid; the 2 reported are
    // seg_embed's rows (same / different segment), and a positive value tells the pipelines to
    // pass token_type_ids. XLNet has no position limit (XLNetConfig.max_position_embeddings is
    // -1).
    set_effective_sizes(2, std::numeric_limits<int32_t>::max());
    // The query stream's mask embedding: a parameter of XLNetModel, unused without
    // target_mapping.
    (void)base_.get("mask_emb", {1, 1, c_.d_model});
    for (int64_t i = 0; i < c_.n_layer; ++i)
      layer_.emplace_back(base_.sub("layer").sub(std::to_string(i)), c_);
    switch (head) {
      case Head::kSequenceClassification:
        if (c_.summary_use_proj)
          summary_ = nn::Linear(w.sub("sequence_summary").sub("summary"), c_.d_model,
                                c_.summary_out);
        config_check(!c_.summary_use_proj || c_.summary_out == c_.d_model, kType,
                     "summary_proj_to_labels makes the summary num_labels wide, but logits_proj "
                     "takes d_model inputs");
        logits_proj_ = nn::Linear(w.sub("logits_proj"), c_.d_model, config.num_labels);
        break;
      case Head::kTokenClassification:
        logits_proj_ = nn::Linear(w.sub("classifier"), c_.d_model, config.num_labels);
        break;
      case Head::kQuestionAnswering:
        check_simple_qa(config, w);
        logits_proj_ = nn::Linear(w.sub("qa_outputs"), c_.d_model, qa_num_labels(config));
        break;
      case Head::kMaskedLM:
        throw Error(StatusCode::kUnimplemented,
                    "xlnet has no masked-LM head (XLNetLMHeadModel is a permutation language "
                    "model and is not supported)");
      case Head::kBase:
        break;
    }
  }

  EncoderOutput forward(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, 0, kType);
    const int64_t seq = in.input_ids.dim(1);
    AttentionInputs shared;
    shared.pos_emb = relative_positional_encoding(seq, c_.d_model, c_.clamp_len);
    if (in.attention_mask.defined()) {
      // input_mask = 1 - attention_mask; a key is masked where input_mask > 0.
      Tensor masked = in.attention_mask.to(DType::kF32).clone();
      float* m = masked.data<float>();
      for (int64_t i = 0; i < masked.numel(); ++i) m[i] = (1.0f - m[i]) > 0 ? 1.0f : 0.0f;
      shared.attn_mask = masked;
    }
    if (in.token_type_ids.defined()) shared.token_type = in.token_type_ids.contiguous();

    Tensor x = word_embedding_(in.input_ids);
    EncoderOutput out;
    trace(opt, x, "embeddings", -1);
    if (opt.output_hidden_states) out.hidden_states.push_back(x);
    for (size_t i = 0; i < layer_.size(); ++i) {
      x = layer_[i].forward(x, shared, opt, static_cast<int>(i));
      if (opt.output_hidden_states) out.hidden_states.push_back(x);
    }
    out.last_hidden_state = x;
    switch (head_) {
      case Head::kSequenceClassification:
        out.logits = logits_proj_(sequence_summary(x));
        break;
      case Head::kTokenClassification:
        out.logits = logits_proj_(x);
        break;
      case Head::kQuestionAnswering:
        split_qa_logits(logits_proj_(x), out);
        break;
      case Head::kBase:
      case Head::kMaskedLM:
        break;
    }
    return out;
  }

 private:
  // XLNetSequenceSummary (eval: no dropout): pick a position, project, activate.
  Tensor sequence_summary(const Tensor& x) const {
    Tensor pooled;
    switch (c_.summary_type) {
      case SummaryType::kLast:
        pooled = x.select(1, x.dim(1) - 1).contiguous();
        break;
      case SummaryType::kFirst:
        pooled = first_token(x);
        break;
      case SummaryType::kMean:  // hidden_states.mean(dim=1): padding included, as transformers
        pooled = ops::masked_mean(
            x, Tensor::from_ints(std::vector<int64_t>(static_cast<size_t>(x.dim(0) * x.dim(1)), 1),
                                 {x.dim(0), x.dim(1)}));
        break;
    }
    if (c_.summary_use_proj) return summary_(pooled, c_.summary_activation);
    return ops::activation(pooled, c_.summary_activation);
  }

  // XLNetForQuestionAnswering (start_logits / end_logits poolers, answer_class, beam search over
  // start_n_top x end_n_top) shares kQuestionAnswering's class suffix with the simple head.
  static void check_simple_qa(const ModelConfig& config, const nn::WeightMap& w) {
    const bool beam_head =
        (!config.architectures.empty() && config.architectures[0] == "XLNetForQuestionAnswering") ||
        w.has("start_logits.dense.weight");
    if (beam_head && !w.has("qa_outputs.weight"))
      throw Error(StatusCode::kUnimplemented,
                  "XLNetForQuestionAnswering (the beam-search SQuAD head with start_logits, "
                  "end_logits and answer_class) is not supported; XLNetForQuestionAnsweringSimple "
                  "(qa_outputs) is");
  }

  XLNetConfig c_;
  nn::WeightMap base_;  // "transformer." in head models
  nn::Embedding word_embedding_;
  std::vector<XLNetLayer> layer_;
  nn::Linear summary_;      // sequence_summary.summary (summary_use_proj)
  nn::Linear logits_proj_;  // logits_proj, classifier or qa_outputs
};

}  // namespace

std::unique_ptr<EncoderBase> make_xlnet(const ModelConfig& config, const nn::WeightMap& w,
                                        Head head) {
  return std::make_unique<XLNet>(config, w, head);
}

}  // namespace mlhub::models
