// The LLaMA family: LlamaForCausalLM (Llama 2 / 3 with their rope scaling, SmolLM), and the
// architectures transformers derives from it with small changes (modular_*.py): Mistral (sliding
// window attention), Qwen2 / Qwen2.5 (q/k/v biases, sliding window on the upper layers), Qwen3
// (RMSNorm of each query / key head).
// transformers/models/llama/modeling_llama.py, mistral/, qwen2/, qwen3/ (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/llama/modeling_llama.py
// Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models",
// https://arxiv.org/abs/2307.09288
#include <fmt/format.h>

#include <cmath>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

struct LlamaConfig {
  std::string model_type;
  int64_t vocab_size = 32000, hidden_size = 4096, intermediate_size = 11008;
  int64_t num_hidden_layers = 32, num_attention_heads = 32, num_key_value_heads = 32;
  int64_t head_dim = 128, max_position_embeddings = 2048;
  float rms_norm_eps = 1e-6f;
  bool attention_bias = false, mlp_bias = false, o_proj_bias = false;
  bool qk_norm = false;  // Qwen3
  bool tie_word_embeddings = false;
  ops::Activation hidden_act = ops::Activation::kSilu;
  std::vector<int64_t> sliding_window;  // per layer; 0 = full attention

  static LlamaConfig parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    LlamaConfig c;
    c.model_type = config.model_type;
    const std::string_view type = c.model_type;
    const bool mistral = type == "mistral", qwen2 = type == "qwen2", qwen3 = type == "qwen3";
    // The config classes' defaults.
    if (mistral) {
      c.intermediate_size = 14336;
      c.num_key_value_heads = 8;
      c.max_position_embeddings = 4096 * 32;
    } else if (qwen2 || qwen3) {
      c.vocab_size = 151936;
      c.intermediate_size = qwen2 ? 22016 : 22016;
      c.max_position_embeddings = 32768;
    }
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.hidden_size = config_int(j, "hidden_size", c.hidden_size);
    c.intermediate_size = config_int(j, "intermediate_size", c.intermediate_size);
    c.num_hidden_layers = config_int(j, "num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = config_int(j, "num_attention_heads", c.num_attention_heads);
    c.num_key_value_heads =
        config_int(j, "num_key_value_heads", mistral ? c.num_key_value_heads : c.num_attention_heads);
    c.max_position_embeddings = config_int(j, "max_position_embeddings", c.max_position_embeddings);
    c.rms_norm_eps = static_cast<float>(config_float(j, "rms_norm_eps", qwen3 || qwen2 ? 1e-6 : 1e-6));
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", false);
    c.hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "silu"));
    config_check(c.num_attention_heads > 0 && c.num_key_value_heads > 0 &&
                     c.num_attention_heads % c.num_key_value_heads == 0,
                 type, "num_attention_heads must be a multiple of num_key_value_heads");
    c.head_dim = config_int(j, "head_dim", qwen3 ? 128 : c.hidden_size / c.num_attention_heads);
    config_check(c.vocab_size > 0 && c.hidden_size > 0 && c.intermediate_size > 0 &&
                     c.num_hidden_layers >= 0 && c.head_dim > 0 && c.max_position_embeddings > 0,
                 type, "sizes must be positive");
    config_check(c.rms_norm_eps > 0, type, "rms_norm_eps must be positive");
    if (qwen2) {
      c.attention_bias = true;  // q/k/v projections carry biases; o_proj does not
    } else {
      c.attention_bias = config_bool(j, "attention_bias", false);
      c.o_proj_bias = c.attention_bias;
    }
    c.mlp_bias = type == "llama" ? config_bool(j, "mlp_bias", false) : false;
    c.qk_norm = qwen3;

    // Sliding windows: Mistral on every layer; Qwen2/3 from layer_types (or use_sliding_window and
    // max_window_layers, as their config classes derive layer_types).
    c.sliding_window.assign(static_cast<size_t>(c.num_hidden_layers), 0);
    int64_t window = config_int(j, "sliding_window", mistral ? 4096 : 0);
    if ((qwen2 || qwen3) && !config_bool(j, "use_sliding_window", false)) window = 0;
    config_check(window >= 0, type, "sliding_window must not be negative");
    if (window > 0) {
      if (mistral) {
        c.sliding_window.assign(c.sliding_window.size(), window);
      } else if (j.contains("layer_types") && j["layer_types"].is_array()) {
        const auto& types = j["layer_types"];
        config_check(types.size() == c.sliding_window.size(), type,
                     "layer_types must have one entry per layer");
        for (size_t i = 0; i < types.size(); ++i)
          if (types[i] == "sliding_attention") c.sliding_window[i] = window;
      } else if (qwen2 || qwen3) {
        const int64_t max_window_layers = config_int(j, "max_window_layers", 28);
        for (int64_t i = max_window_layers; i < c.num_hidden_layers; ++i)
          c.sliding_window[static_cast<size_t>(i)] = window;
      }
    }
    return c;
  }
};

using nn::RMSNorm;

struct LlamaAttention {
  LlamaAttention(const nn::WeightMap& w, const LlamaConfig& c, int64_t layer)
      : q_proj(w.sub("q_proj"), c.hidden_size, c.num_attention_heads * c.head_dim,
               c.attention_bias),
        k_proj(w.sub("k_proj"), c.hidden_size, c.num_key_value_heads * c.head_dim,
               c.attention_bias),
        v_proj(w.sub("v_proj"), c.hidden_size, c.num_key_value_heads * c.head_dim,
               c.attention_bias),
        o_proj(w.sub("o_proj"), c.num_attention_heads * c.head_dim, c.hidden_size,
               c.o_proj_bias) {
    if (c.qk_norm) {
      q_norm = RMSNorm(w.sub("q_norm"), c.head_dim, c.rms_norm_eps);
      k_norm = RMSNorm(w.sub("k_norm"), c.head_dim, c.rms_norm_eps);
    }
    params.num_heads = static_cast<int>(c.num_attention_heads);
    params.num_kv_heads = static_cast<int>(c.num_key_value_heads);
    params.head_dim = c.head_dim;
    params.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    params.sliding_window = c.sliding_window[static_cast<size_t>(layer)];
  }

  // Per-head RMSNorm (Qwen3's q_norm / k_norm) over rows [N, heads * head_dim].
  static Tensor head_norm(const RMSNorm& norm, const Tensor& x, int64_t head_dim) {
    const int64_t n = x.dim(0), width = x.dim(1);
    return norm(x.reshape({n * (width / head_dim), head_dim})).reshape({n, width});
  }

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 const RotaryEmbedding& rotary, int layer) const {
    Tensor q = q_proj(x), k = k_proj(x);
    const Tensor v = v_proj(x);
    if (q_norm.weight.defined()) {
      q = head_norm(q_norm, q, params.head_dim);
      k = head_norm(k_norm, k, params.head_dim);
    }
    rotary.apply(q, params.num_heads, layout);
    rotary.apply(k, params.num_kv_heads, layout);
    const auto sequences = store_kv(batch, layout, layer, k, v);
    return o_proj(ops::cached_attention(q, sequences, params));
  }

  nn::Linear q_proj, k_proj, v_proj, o_proj;
  RMSNorm q_norm, k_norm;
  ops::CachedAttentionParams params;
};

struct LlamaMLP {
  LlamaMLP(const nn::WeightMap& w, const LlamaConfig& c)
      : gate_proj(w.sub("gate_proj"), c.hidden_size, c.intermediate_size, c.mlp_bias),
        up_proj(w.sub("up_proj"), c.hidden_size, c.intermediate_size, c.mlp_bias),
        down_proj(w.sub("down_proj"), c.intermediate_size, c.hidden_size, c.mlp_bias),
        act(c.hidden_act) {}
  Tensor forward(const Tensor& x) const {
    return down_proj(ops::mul(gate_proj(x, act), up_proj(x)));
  }
  nn::Linear gate_proj, up_proj, down_proj;
  ops::Activation act;
};

struct LlamaDecoderLayer {
  LlamaDecoderLayer(const nn::WeightMap& w, const LlamaConfig& c, int64_t layer)
      : self_attn(w.sub("self_attn"), c, layer),
        mlp(w.sub("mlp"), c),
        input_layernorm(w.sub("input_layernorm"), c.hidden_size, c.rms_norm_eps),
        post_attention_layernorm(w.sub("post_attention_layernorm"), c.hidden_size,
                                 c.rms_norm_eps) {}
  LlamaAttention self_attn;
  LlamaMLP mlp;
  RMSNorm input_layernorm, post_attention_layernorm;
};

class Llama final : public DecoderBase {
 public:
  Llama(const ModelConfig& config, const nn::WeightMap& w)
      : DecoderBase(config),
        c_(LlamaConfig::parse(config)),
        embed_tokens_(w.sub("model").sub("embed_tokens"), c_.vocab_size, c_.hidden_size),
        norm_(w.sub("model").sub("norm"), c_.hidden_size, c_.rms_norm_eps),
        rotary_(config.raw, c_.model_type, c_.head_dim,
                static_cast<int64_t>(static_cast<double>(c_.head_dim) *
                                     config_float(config.raw, "partial_rotary_factor", 1.0)),
                c_.max_position_embeddings) {
    set_shape(c_.num_hidden_layers, c_.num_key_value_heads * c_.head_dim, c_.vocab_size,
              c_.max_position_embeddings);
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layers_.emplace_back(w.sub("model").sub("layers").sub(std::to_string(i)), c_, i);
    lm_head_.weight = tied_output_weight(w, "lm_head.weight", {c_.vocab_size, c_.hidden_size},
                                         w.sub("model").sub("embed_tokens"),
                                         embed_tokens_.weight, c_.tie_word_embeddings, "weight");
    lm_head_ = nn::Linear::from_weight(lm_head_.weight, Tensor());
    w.ignore_unexpected({R"(rotary_emb\.inv_freq)"});
    config_.max_position_embeddings = c_.max_position_embeddings;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const BatchLayout layout =
        BatchLayout::make(batch, c_.vocab_size, c_.max_position_embeddings,
                          static_cast<int>(c_.num_hidden_layers),
                          c_.num_key_value_heads * c_.head_dim);
    Tensor x = embed_tokens_(layout.ids_tensor());
    trace(opt, x, "embeddings", -1);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const LlamaDecoderLayer& layer = layers_[i];
      const int index = static_cast<int>(i);
      ops::add_(x, layer.self_attn.forward(layer.input_layernorm(x), batch, layout, rotary_, index));
      trace(opt, x, "attn_residual", index);
      ops::add_(x, layer.mlp.forward(layer.post_attention_layernorm(x)));
      trace(opt, x, "layer_output", index);
    }
    commit_caches(batch, layout);
    const Tensor h = norm_(gather_rows(x, layout.output_rows));
    return lm_head_(h);
  }


 private:
  LlamaConfig c_;
  nn::Embedding embed_tokens_;
  RMSNorm norm_;
  RotaryEmbedding rotary_;
  std::vector<LlamaDecoderLayer> layers_;
  nn::Linear lm_head_;
};

}  // namespace

std::unique_ptr<DecoderBase> make_llama(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<Llama>(config, w);
}

}  // namespace mlhub::models
