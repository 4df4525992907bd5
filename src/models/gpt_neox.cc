// GPT-NeoX: GPTNeoXForCausalLM (GPT-NeoX-20B, Pythia). Pre-LayerNorm blocks with a fused q/k/v
// projection laid out per head, rotary embeddings on the first rotary_pct of each head, a GELU MLP,
// parallel residuals (x + attn(ln1(x)) + mlp(ln2(x))) or sequential ones, and an untied output
// head (embed_out).
// transformers/models/gpt_neox/modeling_gpt_neox.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/gpt_neox/modeling_gpt_neox.py
// Black et al. 2022, "GPT-NeoX-20B: An Open-Source Autoregressive Language Model",
// https://arxiv.org/abs/2204.06745
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

struct GPTNeoXConfig {
  int64_t vocab_size = 50432, hidden_size = 6144, num_hidden_layers = 44;
  int64_t num_attention_heads = 64, intermediate_size = 24576, max_position_embeddings = 2048;
  int64_t head_size = 96, rotary_ndims = 24;
  ops::Activation hidden_act = ops::Activation::kGeluErf;
  float layer_norm_eps = 1e-5f;
  bool use_parallel_residual = true, attention_bias = true, tie_word_embeddings = false;
  nlohmann::json rope;  // config.json as RotaryEmbedding reads it (rope_theta = rotary_emb_base)

  static GPTNeoXConfig parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    GPTNeoXConfig c;
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.hidden_size = config_int(j, "hidden_size", c.hidden_size);
    c.num_hidden_layers = config_int(j, "num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = config_int(j, "num_attention_heads", c.num_attention_heads);
    c.intermediate_size = config_int(j, "intermediate_size", c.intermediate_size);
    c.max_position_embeddings = config_int(j, "max_position_embeddings", c.max_position_embeddings);
    c.hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "gelu"));
    c.layer_norm_eps = static_cast<float>(config_float(j, "layer_norm_eps", 1e-5));
    c.use_parallel_residual = config_bool(j, "use_parallel_residual", true);
    c.attention_bias = config_bool(j, "attention_bias", true);
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", false);
    config_check(c.vocab_size > 0 && c.hidden_size > 0 && c.intermediate_size > 0 &&
                     c.num_hidden_layers >= 0 && c.num_attention_heads > 0 &&
                     c.max_position_embeddings > 0,
                 "gpt_neox", "sizes must be positive");
    config_check(c.hidden_size % c.num_attention_heads == 0, "gpt_neox",
                 "hidden_size must be a multiple of num_attention_heads");
    config_check(c.layer_norm_eps > 0, "gpt_neox", "layer_norm_eps must be positive");
    c.head_size = c.hidden_size / c.num_attention_heads;
    // GPTNeoXConfig sets partial_rotary_factor = rotary_pct and rope_theta = rotary_emb_base after
    // reading the other fields, so those two win over the copies save_pretrained also writes.
    const double rotary_pct = config_float(j, "rotary_pct", 0.25);
    c.rotary_ndims = static_cast<int64_t>(static_cast<double>(c.head_size) * rotary_pct);
    c.rope = j;
    c.rope["rope_theta"] = config_float(j, "rotary_emb_base", 10000.0);
    return c;
  }
};

struct GPTNeoXAttention {
  GPTNeoXAttention(const nn::WeightMap& w, const GPTNeoXConfig& c)
      : dense(w.sub("dense"), c.hidden_size, c.hidden_size, c.attention_bias),
        hidden_size(c.hidden_size) {
    // query_key_value's output is viewed as [heads, 3 * head_size]: head h's q, k and v are
    // consecutive. Its rows are regrouped once into [all q | all k | all v] so that each part is
    // a column range of one GEMM's output.
    const nn::WeightMap qkv = w.sub("query_key_value");
    const Tensor weight = qkv.get("weight", {3 * c.hidden_size, c.hidden_size});
    const Tensor bias = c.attention_bias ? by_part(qkv.get("bias", {3 * c.hidden_size}), c)
                                         : Tensor();
    query_key_value = nn::Linear::from_weight(by_part(weight, c), bias);
    params.num_heads = static_cast<int>(c.num_attention_heads);
    params.num_kv_heads = params.num_heads;
    params.head_dim = c.head_size;
    params.scale = static_cast<float>(std::pow(static_cast<double>(c.head_size), -0.5));
  }

  // Rows of a [3 * hidden, ...] tensor from per-head [q, k, v] order to [q | k | v].
  static Tensor by_part(const Tensor& t, const GPTNeoXConfig& c) {
    const Tensor src = t.contiguous();
    const int64_t row = t.numel() / (3 * c.hidden_size);  // floats per row (1 for the bias)
    const size_t block = static_cast<size_t>(c.head_size * row) * sizeof(float);
    Tensor out = Tensor::empty(DType::kF32, t.shape());
    const float* from = src.data<float>();
    float* to = out.data<float>();
    for (int64_t h = 0; h < c.num_attention_heads; ++h)
      for (int64_t part = 0; part < 3; ++part)
        std::memcpy(to + (part * c.hidden_size + h * c.head_size) * row,
                    from + ((3 * h + part) * c.head_size) * row, block);
    return out;
  }

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 const RotaryEmbedding& rotary, int layer) const {
    const Tensor qkv = query_key_value(x);
    Tensor q = qkv.slice(1, 0, hidden_size).clone();
    Tensor k = qkv.slice(1, hidden_size, 2 * hidden_size).clone();
    const Tensor v = qkv.slice(1, 2 * hidden_size, 3 * hidden_size).contiguous();
    rotary.apply(q, params.num_heads, layout);
    rotary.apply(k, params.num_kv_heads, layout);
    const auto sequences = store_kv(batch, layout, layer, k, v);
    return dense(ops::cached_attention(q, sequences, params));
  }

  nn::Linear query_key_value, dense;
  int64_t hidden_size;
  ops::CachedAttentionParams params;
};

struct GPTNeoXMLP {
  GPTNeoXMLP(const nn::WeightMap& w, const GPTNeoXConfig& c)
      : dense_h_to_4h(w.sub("dense_h_to_4h"), c.hidden_size, c.intermediate_size),
        dense_4h_to_h(w.sub("dense_4h_to_h"), c.intermediate_size, c.hidden_size),
        act(c.hidden_act) {}
  Tensor forward(const Tensor& x) const { return dense_4h_to_h(dense_h_to_4h(x, act)); }
  nn::Linear dense_h_to_4h, dense_4h_to_h;
  ops::Activation act;
};

struct GPTNeoXLayer {
  GPTNeoXLayer(const nn::WeightMap& w, const GPTNeoXConfig& c)
      : input_layernorm(w.sub("input_layernorm"), c.hidden_size, c.layer_norm_eps),
        post_attention_layernorm(w.sub("post_attention_layernorm"), c.hidden_size,
                                 c.layer_norm_eps),
        attention(w.sub("attention"), c),
        mlp(w.sub("mlp"), c) {}
  nn::LayerNorm input_layernorm, post_attention_layernorm;
  GPTNeoXAttention attention;
  GPTNeoXMLP mlp;
};

class GPTNeoX final : public DecoderBase {
 public:
  GPTNeoX(const ModelConfig& config, const nn::WeightMap& w)
      : DecoderBase(config),
        c_(GPTNeoXConfig::parse(config)),
        embed_in_(w.sub("gpt_neox").sub("embed_in"), c_.vocab_size, c_.hidden_size),
        final_layer_norm_(w.sub("gpt_neox").sub("final_layer_norm"), c_.hidden_size,
                          c_.layer_norm_eps),
        rotary_(c_.rope, "gpt_neox", c_.head_size, c_.rotary_ndims, c_.max_position_embeddings) {
    set_shape(c_.num_hidden_layers, c_.hidden_size, c_.vocab_size, c_.max_position_embeddings);
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layers_.emplace_back(w.sub("gpt_neox").sub("layers").sub(std::to_string(i)), c_);
    const Tensor head = tied_output_weight(w, "embed_out.weight", {c_.vocab_size, c_.hidden_size},
                                           w.sub("gpt_neox").sub("embed_in"), embed_in_.weight,
                                           c_.tie_word_embeddings, "weight");
    embed_out_ = nn::Linear::from_weight(head, Tensor());
    // GPTNeoXForCausalLM._keys_to_ignore_on_load_unexpected (the causal-mask buffers of older
    // checkpoints), and the per-layer inv_freq buffers transformers drops for every rotary model.
    w.ignore_unexpected({"attention.bias", "attention.masked_bias", R"(rotary_emb\.inv_freq)"});
    config_.max_position_embeddings = c_.max_position_embeddings;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const BatchLayout layout =
        BatchLayout::make(batch, c_.vocab_size, c_.max_position_embeddings,
                          static_cast<int>(c_.num_hidden_layers), c_.hidden_size);
    Tensor x = embed_in_(layout.ids_tensor());
    trace(opt, x, "embeddings", -1);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const GPTNeoXLayer& layer = layers_[i];
      const int index = static_cast<int>(i);
      const Tensor attn =
          layer.attention.forward(layer.input_layernorm(x), batch, layout, rotary_, index);
      if (c_.use_parallel_residual) {
        // mlp(ln2(x)) + attn + x: both branches read the block's input.
        Tensor out = layer.mlp.forward(layer.post_attention_layernorm(x));
        ops::add_(out, attn);
        ops::add_(out, x);
        x = std::move(out);
      } else {
        ops::add_(x, attn);
        trace(opt, x, "attn_residual", index);
        ops::add_(x, layer.mlp.forward(layer.post_attention_layernorm(x)));
      }
      trace(opt, x, "layer_output", index);
    }
    commit_caches(batch, layout);
    return embed_out_(final_layer_norm_(gather_rows(x, layout.output_rows)));
  }


 private:
  GPTNeoXConfig c_;
  nn::Embedding embed_in_;
  nn::LayerNorm final_layer_norm_;
  RotaryEmbedding rotary_;
  std::vector<GPTNeoXLayer> layers_;
  nn::Linear embed_out_;
};

}  // namespace

std::unique_ptr<DecoderBase> make_gpt_neox(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<GPTNeoX>(config, w);
}

}  // namespace mlhub::models
