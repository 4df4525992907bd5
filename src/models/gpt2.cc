// GPT-2: GPT2LMHeadModel. Learned absolute position embeddings (wpe), pre-LayerNorm blocks, a fused
// q/k/v projection (c_attn), a GELU (tanh) MLP and an output head tied to the token embeddings.
// The checkpoint's projections are Conv1D modules whose weights are stored [in, out]; they are
// transposed once at load into the [out, in] layout of nn::Linear.
// transformers/models/gpt2/modeling_gpt2.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/gpt2/modeling_gpt2.py
// Radford et al. 2019, "Language Models are Unsupervised Multitask Learners",
// https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf
#include <fmt/format.h>

#include <cmath>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

struct GPT2Config {
  int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12;
  int64_t n_inner = 0;  // 0: 4 * n_embd
  ops::Activation activation_function = ops::Activation::kGeluTanh;
  float layer_norm_epsilon = 1e-5f;
  bool scale_attn_weights = true, scale_attn_by_inverse_layer_idx = false;
  bool tie_word_embeddings = true;

  static GPT2Config parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    GPT2Config c;
    // GPT2Config.attribute_map: hidden_size, max_position_embeddings, num_attention_heads and
    // num_hidden_layers name the n_* fields.
    auto field = [&](const char* name, const char* alias, int64_t fallback) {
      return config_int(j, name, config_int(j, alias, fallback));
    };
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.n_positions = field("n_positions", "max_position_embeddings", c.n_positions);
    c.n_embd = field("n_embd", "hidden_size", c.n_embd);
    c.n_layer = field("n_layer", "num_hidden_layers", c.n_layer);
    c.n_head = field("n_head", "num_attention_heads", c.n_head);
    c.n_inner = config_int(j, "n_inner", 4 * c.n_embd);
    c.activation_function =
        ops::activation_from_name(config_string(j, "activation_function", "gelu_new"));
    c.layer_norm_epsilon = static_cast<float>(config_float(j, "layer_norm_epsilon", 1e-5));
    c.scale_attn_weights = config_bool(j, "scale_attn_weights", true);
    c.scale_attn_by_inverse_layer_idx = config_bool(j, "scale_attn_by_inverse_layer_idx", false);
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
    // reorder_and_upcast_attn only changes where the scale is applied and the precision of the
    // scores under autocast; in float32 it is the same computation.
    if (config_bool(j, "add_cross_attention", false))
      throw Error(StatusCode::kUnimplemented,
                  "gpt2: cross-attention (add_cross_attention) is not supported");
    config_check(c.vocab_size > 0 && c.n_positions > 0 && c.n_embd > 0 && c.n_layer >= 0 &&
                     c.n_head > 0 && c.n_inner > 0,
                 "gpt2", "sizes must be positive");
    config_check(c.n_embd % c.n_head == 0, "gpt2", "n_embd must be a multiple of n_head");
    config_check(c.layer_norm_epsilon > 0, "gpt2", "layer_norm_epsilon must be positive");
    return c;
  }
};

// transformers' Conv1D (weight [in, out], bias [out]) as an nn::Linear over the transposed
// weight.
nn::Linear conv1d(const nn::WeightMap& w, int64_t in, int64_t out) {
  const Tensor weight = w.get("weight", {in, out}).transpose(0, 1).clone();
  return nn::Linear::from_weight(weight, w.get("bias", {out}));
}

struct GPT2Attention {
  GPT2Attention(const nn::WeightMap& w, const GPT2Config& c, int64_t layer)
      : c_attn(conv1d(w.sub("c_attn"), c.n_embd, 3 * c.n_embd)),
        c_proj(conv1d(w.sub("c_proj"), c.n_embd, c.n_embd)),
        embed_dim(c.n_embd) {
    // The causal-mask buffers of older checkpoints (transformers keeps them non-persistent).
    declare_buffers(w, {"bias", "masked_bias"});
    params.num_heads = static_cast<int>(c.n_head);
    params.num_kv_heads = params.num_heads;
    params.head_dim = c.n_embd / c.n_head;
    // As eager attention computes it. transformers' default sdpa path ignores both flags (it
    // always scales by 1/sqrt(head_dim)); checkpoints that set them were trained with eager.
    double scale = 1.0;
    if (c.scale_attn_weights) scale /= std::sqrt(static_cast<double>(params.head_dim));
    if (c.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(layer + 1);
    params.scale = static_cast<float>(scale);
  }

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 int layer) const {
    // c_attn's output columns are [q | k | v], each n_embd wide.
    const Tensor qkv = c_attn(x);
    const Tensor q = qkv.slice(1, 0, embed_dim).contiguous();
    const Tensor k = qkv.slice(1, embed_dim, 2 * embed_dim).contiguous();
    const Tensor v = qkv.slice(1, 2 * embed_dim, 3 * embed_dim).contiguous();
    const auto sequences = store_kv(batch, layout, layer, k, v);
    return c_proj(ops::cached_attention(q, sequences, params));
  }

  nn::Linear c_attn, c_proj;
  int64_t embed_dim;
  ops::CachedAttentionParams params;
};

struct GPT2MLP {
  GPT2MLP(const nn::WeightMap& w, const GPT2Config& c)
      : c_fc(conv1d(w.sub("c_fc"), c.n_embd, c.n_inner)),
        c_proj(conv1d(w.sub("c_proj"), c.n_inner, c.n_embd)),
        act(c.activation_function) {}
  Tensor forward(const Tensor& x) const { return c_proj(c_fc(x, act)); }
  nn::Linear c_fc, c_proj;
  ops::Activation act;
};

struct GPT2Block {
  GPT2Block(const nn::WeightMap& w, const GPT2Config& c, int64_t layer)
      : ln_1(w.sub("ln_1"), c.n_embd, c.layer_norm_epsilon),
        attn(w.sub("attn"), c, layer),
        ln_2(w.sub("ln_2"), c.n_embd, c.layer_norm_epsilon),
        mlp(w.sub("mlp"), c) {}
  nn::LayerNorm ln_1;
  GPT2Attention attn;
  nn::LayerNorm ln_2;
  GPT2MLP mlp;
};

class GPT2 final : public DecoderBase {
 public:
  GPT2(const ModelConfig& config, const nn::WeightMap& w)
      : DecoderBase(config),
        c_(GPT2Config::parse(config)),
        wte_(w.sub("transformer").sub("wte"), c_.vocab_size, c_.n_embd),
        wpe_(w.sub("transformer").sub("wpe"), c_.n_positions, c_.n_embd),
        ln_f_(w.sub("transformer").sub("ln_f"), c_.n_embd, c_.layer_norm_epsilon) {
    set_shape(c_.n_layer, c_.n_embd, c_.vocab_size, c_.n_positions);
    for (int64_t i = 0; i < c_.n_layer; ++i)
      h_.emplace_back(w.sub("transformer").sub("h").sub(std::to_string(i)), c_, i);
    const Tensor head =
        tied_output_weight(w, "lm_head.weight", {c_.vocab_size, c_.n_embd},
                           w.sub("transformer").sub("wte"), wte_.weight, c_.tie_word_embeddings,
                           "weight");
    lm_head_ = nn::Linear::from_weight(head, Tensor());
    config_.max_position_embeddings = c_.n_positions;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const BatchLayout layout = BatchLayout::make(batch, c_.vocab_size, c_.n_positions,
                                                 static_cast<int>(c_.n_layer), c_.n_embd);
    Tensor x = wte_(layout.ids_tensor());
    ops::add_(x, wpe_(Tensor::from_ints(layout.positions, {layout.n})));
    trace(opt, x, "embeddings", -1);
    for (size_t i = 0; i < h_.size(); ++i) {
      const GPT2Block& block = h_[i];
      const int index = static_cast<int>(i);
      ops::add_(x, block.attn.forward(block.ln_1(x), batch, layout, index));
      trace(opt, x, "attn_residual", index);
      ops::add_(x, block.mlp.forward(block.ln_2(x)));
      trace(opt, x, "layer_output", index);
    }
    commit_caches(batch, layout);
    return lm_head_(ln_f_(gather_rows(x, layout.output_rows)));
  }


 private:
  GPT2Config c_;
  nn::Embedding wte_, wpe_;
  nn::LayerNorm ln_f_;
  std::vector<GPT2Block> h_;
  nn::Linear lm_head_;
};

}  // namespace

std::unique_ptr<DecoderBase> make_gpt2(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<GPT2>(config, w);
}

}  // namespace mlhub::models
