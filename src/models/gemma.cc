// Gemma and Gemma 2: GemmaForCausalLM, Gemma2ForCausalLM. LLaMA-shaped decoders with Gemma's
// quirks: RMSNorm scaling by (1 + weight), input embeddings multiplied by sqrt(hidden_size), a
// tanh-approximated GELU gate, head_dim set independently of hidden_size, tied output embeddings.
// Gemma 2 adds sandwich norms (post-attention and pre/post feed-forward RMSNorms), tanh
// soft-capping of the attention scores and of the final logits, query_pre_attn_scalar for the
// attention scale and sliding-window attention on alternate layers (config.layer_types).
// transformers/models/gemma/modeling_gemma.py, gemma2/modeling_gemma2.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/gemma2/modeling_gemma2.py
// Gemma Team 2024, "Gemma 2: Improving Open Language Models at a Practical Size",
// https://arxiv.org/abs/2408.00118
#include <fmt/format.h>

#include <cmath>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

struct GemmaConfig {
  std::string model_type;
  bool gemma2 = false;
  int64_t vocab_size = 256000, hidden_size = 3072, intermediate_size = 24576;
  int64_t num_hidden_layers = 28, num_attention_heads = 16, num_key_value_heads = 16;
  int64_t head_dim = 256, max_position_embeddings = 8192;
  float rms_norm_eps = 1e-6f;
  bool attention_bias = false;
  bool tie_word_embeddings = true;
  ops::Activation hidden_activation = ops::Activation::kGeluTanh;
  float query_pre_attn_scalar = 0;  // Gemma 2: the attention scale is its -1/2 power
  float attn_logit_softcapping = 0, final_logit_softcapping = 0;  // 0 = none
  std::vector<int64_t> sliding_window;                            // per layer; 0 = full

  static GemmaConfig parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    GemmaConfig c;
    c.model_type = config.model_type;
    c.gemma2 = c.model_type == "gemma2";
    const std::string_view type = c.model_type;
    if (c.gemma2) {  // Gemma2Config's defaults (gemma-2-2b)
      c.hidden_size = 2304;
      c.intermediate_size = 9216;
      c.num_hidden_layers = 26;
      c.num_attention_heads = 8;
      c.num_key_value_heads = 4;
    }
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.hidden_size = config_int(j, "hidden_size", c.hidden_size);
    c.intermediate_size = config_int(j, "intermediate_size", c.intermediate_size);
    c.num_hidden_layers = config_int(j, "num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = config_int(j, "num_attention_heads", c.num_attention_heads);
    c.num_key_value_heads = config_int(j, "num_key_value_heads", c.num_key_value_heads);
    c.head_dim = config_int(j, "head_dim", c.head_dim);
    c.max_position_embeddings = config_int(j, "max_position_embeddings", c.max_position_embeddings);
    c.rms_norm_eps = static_cast<float>(config_float(j, "rms_norm_eps", 1e-6));
    c.attention_bias = config_bool(j, "attention_bias", false);
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
    // GemmaMLP reads hidden_act (hidden_activation is a legacy field there); Gemma2MLP reads
    // hidden_activation.
    c.hidden_activation = ops::activation_from_name(
        c.gemma2 ? config_string(j, "hidden_activation", "gelu_pytorch_tanh")
                 : config_string(j, "hidden_act", "gelu_pytorch_tanh"));
    config_check(c.num_attention_heads > 0 && c.num_key_value_heads > 0 &&
                     c.num_attention_heads % c.num_key_value_heads == 0,
                 type, "num_attention_heads must be a multiple of num_key_value_heads");
    config_check(c.vocab_size > 0 && c.hidden_size > 0 && c.intermediate_size > 0 &&
                     c.num_hidden_layers >= 0 && c.head_dim > 0 && c.max_position_embeddings > 0,
                 type, "sizes must be positive");
    config_check(c.rms_norm_eps > 0, type, "rms_norm_eps must be positive");
    c.sliding_window.assign(static_cast<size_t>(c.num_hidden_layers), 0);
    if (!c.gemma2) return c;

    c.query_pre_attn_scalar = static_cast<float>(config_float(j, "query_pre_attn_scalar", 256));
    c.attn_logit_softcapping = static_cast<float>(config_float(j, "attn_logit_softcapping", 50.0));
    c.final_logit_softcapping =
        static_cast<float>(config_float(j, "final_logit_softcapping", 30.0));
    config_check(c.query_pre_attn_scalar > 0, type, "query_pre_attn_scalar must be positive");
    config_check(c.attn_logit_softcapping >= 0 && c.final_logit_softcapping >= 0, type,
                 "soft-capping values must not be negative");
    // sliding_window: null means no window (full attention on every layer).
    const bool no_window = j.contains("sliding_window") && j["sliding_window"].is_null();
    const int64_t window = no_window ? 0 : config_int(j, "sliding_window", 4096);
    config_check(window >= 0, type, "sliding_window must not be negative");
    // Gemma2Config: layer_types, or sliding attention on even layers (0, 2, ...).
    const bool listed = j.contains("layer_types") && j["layer_types"].is_array();
    if (listed)
      config_check(j["layer_types"].size() == c.sliding_window.size(), type,
                   "layer_types must have one entry per layer");
    for (size_t i = 0; i < c.sliding_window.size(); ++i) {
      const bool sliding = listed ? j["layer_types"][i] == "sliding_attention" : (i + 1) % 2 != 0;
      if (listed)
        config_check(sliding || j["layer_types"][i] == "full_attention", type,
                     "layer_types entries are sliding_attention or full_attention");
      if (sliding) c.sliding_window[i] = window;
    }
    return c;
  }
};

// GemmaRMSNorm: x / sqrt(mean(x^2) + eps) * (1 + weight), in float32. The checkpoint stores the
// offset from 1; (1 + weight) is formed once at load, in float32 as transformers forms it.
struct GemmaRMSNorm {
  GemmaRMSNorm() = default;
  GemmaRMSNorm(const nn::WeightMap& w, int64_t dim, float eps_value) : eps(eps_value) {
    const Tensor stored = w.get("weight", {dim});
    std::vector<float> one_plus = stored.to_floats();
    for (float& v : one_plus) v = 1.0f + v;
    scale = Tensor::from_floats(one_plus, {dim});
  }
  Tensor operator()(const Tensor& x) const { return ops::rms_norm(x, scale, eps); }
  Tensor scale;  // 1 + weight
  float eps = 1e-6f;
};

struct GemmaAttention {
  GemmaAttention(const nn::WeightMap& w, const GemmaConfig& c, int64_t layer)
      : q_proj(w.sub("q_proj"), c.hidden_size, c.num_attention_heads * c.head_dim,
               c.attention_bias),
        k_proj(w.sub("k_proj"), c.hidden_size, c.num_key_value_heads * c.head_dim,
               c.attention_bias),
        v_proj(w.sub("v_proj"), c.hidden_size, c.num_key_value_heads * c.head_dim,
               c.attention_bias),
        o_proj(w.sub("o_proj"), c.num_attention_heads * c.head_dim, c.hidden_size,
               c.attention_bias) {
    params.num_heads = static_cast<int>(c.num_attention_heads);
    params.num_kv_heads = static_cast<int>(c.num_key_value_heads);
    params.head_dim = c.head_dim;
    const double scaled_by = c.gemma2 ? c.query_pre_attn_scalar : static_cast<double>(c.head_dim);
    params.scale = static_cast<float>(std::pow(scaled_by, -0.5));
    params.sliding_window = c.sliding_window[static_cast<size_t>(layer)];
    params.softcap = c.attn_logit_softcapping;
  }

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 const RotaryEmbedding& rotary, int layer) const {
    Tensor q = q_proj(x), k = k_proj(x);
    const Tensor v = v_proj(x);
    rotary.apply(q, params.num_heads, layout);
    rotary.apply(k, params.num_kv_heads, layout);
    const auto sequences = store_kv(batch, layout, layer, k, v);
    return o_proj(ops::cached_attention(q, sequences, params));
  }

  nn::Linear q_proj, k_proj, v_proj, o_proj;
  ops::CachedAttentionParams params;
};

struct GemmaMLP {
  GemmaMLP(const nn::WeightMap& w, const GemmaConfig& c)
      : gate_proj(w.sub("gate_proj"), c.hidden_size, c.intermediate_size, false),
        up_proj(w.sub("up_proj"), c.hidden_size, c.intermediate_size, false),
        down_proj(w.sub("down_proj"), c.intermediate_size, c.hidden_size, false),
        act(c.hidden_activation) {}
  Tensor forward(const Tensor& x) const {
    return down_proj(ops::mul(gate_proj(x, act), up_proj(x)));
  }
  nn::Linear gate_proj, up_proj, down_proj;
  ops::Activation act;
};

struct GemmaDecoderLayer {
  GemmaDecoderLayer(const nn::WeightMap& w, const GemmaConfig& c, int64_t layer)
      : self_attn(w.sub("self_attn"), c, layer),
        mlp(w.sub("mlp"), c),
        input_layernorm(w.sub("input_layernorm"), c.hidden_size, c.rms_norm_eps),
        post_attention_layernorm(w.sub("post_attention_layernorm"), c.hidden_size,
                                 c.rms_norm_eps) {
    if (c.gemma2) {
      pre_feedforward_layernorm =
          GemmaRMSNorm(w.sub("pre_feedforward_layernorm"), c.hidden_size, c.rms_norm_eps);
      post_feedforward_layernorm =
          GemmaRMSNorm(w.sub("post_feedforward_layernorm"), c.hidden_size, c.rms_norm_eps);
    }
  }
  GemmaAttention self_attn;
  GemmaMLP mlp;
  // Gemma: post_attention_layernorm is the pre-MLP norm. Gemma 2: it normalises the attention
  // output, and the MLP has its own pre and post norms.
  GemmaRMSNorm input_layernorm, post_attention_layernorm;
  GemmaRMSNorm pre_feedforward_layernorm, post_feedforward_layernorm;
};

// logits = tanh(logits / cap) * cap, in place (Gemma2ForCausalLM's final_logit_softcapping).
void softcap_(Tensor& logits, float cap) {
  float* p = logits.data<float>();
  for (int64_t i = 0, n = logits.numel(); i < n; ++i) p[i] = std::tanh(p[i] / cap) * cap;
}

class Gemma final : public DecoderBase {
 public:
  Gemma(const ModelConfig& config, const nn::WeightMap& w)
      : DecoderBase(config),
        c_(GemmaConfig::parse(config)),
        embed_tokens_(w.sub("model").sub("embed_tokens"), c_.vocab_size, c_.hidden_size),
        norm_(w.sub("model").sub("norm"), c_.hidden_size, c_.rms_norm_eps),
        rotary_(config.raw, c_.model_type, c_.head_dim, c_.head_dim, c_.max_position_embeddings),
        // torch.tensor(hidden_size ** 0.5, dtype=hidden_states.dtype): rounded to the activation
        // dtype, float32 here (transformers loaded with dtype=float32).
        normalizer_(static_cast<float>(std::sqrt(static_cast<double>(c_.hidden_size)))) {
    set_shape(c_.num_hidden_layers, c_.num_key_value_heads * c_.head_dim, c_.vocab_size,
              c_.max_position_embeddings);
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layers_.emplace_back(w.sub("model").sub("layers").sub(std::to_string(i)), c_, i);
    const Tensor head = tied_output_weight(w, "lm_head.weight", {c_.vocab_size, c_.hidden_size},
                                           w.sub("model").sub("embed_tokens"),
                                           embed_tokens_.weight, c_.tie_word_embeddings, "weight");
    lm_head_ = nn::Linear::from_weight(head, Tensor());
    w.ignore_unexpected({R"(rotary_emb\.inv_freq)"});
    config_.max_position_embeddings = c_.max_position_embeddings;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const BatchLayout layout =
        BatchLayout::make(batch, c_.vocab_size, c_.max_position_embeddings,
                          static_cast<int>(c_.num_hidden_layers),
                          c_.num_key_value_heads * c_.head_dim);
    Tensor x = ops::scale(embed_tokens_(layout.ids_tensor()), normalizer_);
    trace(opt, x, "embeddings", -1);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const GemmaDecoderLayer& layer = layers_[i];
      const int index = static_cast<int>(i);
      const Tensor attn =
          layer.self_attn.forward(layer.input_layernorm(x), batch, layout, rotary_, index);
      if (c_.gemma2) {
        ops::add_(x, layer.post_attention_layernorm(attn));
        trace(opt, x, "attn_residual", index);
        ops::add_(x, layer.post_feedforward_layernorm(
                         layer.mlp.forward(layer.pre_feedforward_layernorm(x))));
      } else {
        ops::add_(x, attn);
        trace(opt, x, "attn_residual", index);
        ops::add_(x, layer.mlp.forward(layer.post_attention_layernorm(x)));
      }
      trace(opt, x, "layer_output", index);
    }
    commit_caches(batch, layout);
    Tensor logits = lm_head_(norm_(gather_rows(x, layout.output_rows)));
    if (c_.final_logit_softcapping > 0) softcap_(logits, c_.final_logit_softcapping);
    return logits;
  }


 private:
  GemmaConfig c_;
  nn::Embedding embed_tokens_;
  GemmaRMSNorm norm_;
  RotaryEmbedding rotary_;
  float normalizer_;
  std::vector<GemmaDecoderLayer> layers_;
  nn::Linear lm_head_;
};

}  // namespace

std::unique_ptr<DecoderBase> make_gemma(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<Gemma>(config, w);
}

}  // namespace mlhub::models
