// Phi-3: Phi3ForCausalLM (Phi-3 / Phi-3.5 / Phi-4 mini). A LLaMA-shaped decoder whose q/k/v and
// gate/up projections are fused in the checkpoint (qkv_proj, gate_up_proj; split here at load into
// row slices), with partial rotary embeddings, LongRoPE scaling (short / long factors) and an
// optional sliding window on every layer.
// transformers/models/phi3/modeling_phi3.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/phi3/modeling_phi3.py
// Abdin et al. 2024, "Phi-3 Technical Report", https://arxiv.org/abs/2404.14219
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

struct Phi3Config {
  int64_t vocab_size = 32064, hidden_size = 3072, intermediate_size = 8192;
  int64_t num_hidden_layers = 32, num_attention_heads = 32, num_key_value_heads = 32;
  int64_t head_dim = 96, rotary_dim = 96, max_position_embeddings = 4096;
  int64_t sliding_window = 0;  // 0: none
  int64_t original_max_position_embeddings = 4096;
  bool longrope = false;  // rope_scaling given (Phi3Config accepts only LongRoPE)
  float rms_norm_eps = 1e-5f;
  bool tie_word_embeddings = false;
  ops::Activation hidden_act = ops::Activation::kSilu;
  nlohmann::json rope;  // config.json as RotaryEmbedding reads it

  static Phi3Config parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    Phi3Config c;
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.hidden_size = config_int(j, "hidden_size", c.hidden_size);
    c.intermediate_size = config_int(j, "intermediate_size", c.intermediate_size);
    c.num_hidden_layers = config_int(j, "num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = config_int(j, "num_attention_heads", c.num_attention_heads);
    c.num_key_value_heads = config_int(j, "num_key_value_heads", c.num_attention_heads);
    c.max_position_embeddings = config_int(j, "max_position_embeddings", c.max_position_embeddings);
    c.rms_norm_eps = static_cast<float>(config_float(j, "rms_norm_eps", 1e-5));
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", false);
    c.hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "silu"));
    c.sliding_window = config_int(j, "sliding_window", 0);
    config_check(c.num_attention_heads > 0 && c.num_key_value_heads > 0 &&
                     c.num_attention_heads % c.num_key_value_heads == 0,
                 "phi3", "num_attention_heads must be a multiple of num_key_value_heads");
    c.head_dim = config_int(j, "head_dim", c.hidden_size / c.num_attention_heads);
    config_check(c.vocab_size > 0 && c.hidden_size > 0 && c.intermediate_size > 0 &&
                     c.num_hidden_layers >= 0 && c.head_dim > 0 && c.max_position_embeddings > 0,
                 "phi3", "sizes must be positive");
    config_check(c.rms_norm_eps > 0, "phi3", "rms_norm_eps must be positive");
    config_check(c.sliding_window >= 0, "phi3", "sliding_window must not be negative");
    c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) *
                                        config_float(j, "partial_rotary_factor", 1.0));
    // Phi3Config: original_max_position_embeddings defaults to 4096, and the rope_scaling types
    // "su" and "yarn" of early Phi-3 configs mean "longrope" (_rope_scaling_adjustment).
    c.original_max_position_embeddings = config_int(j, "original_max_position_embeddings", 4096);
    c.rope = j;
    c.rope["original_max_position_embeddings"] = c.original_max_position_embeddings;
    nlohmann::json& scaling = c.rope["rope_scaling"];
    c.longrope = scaling.is_object();
    if (c.longrope)
      for (const char* key : {"type", "rope_type"})
        if (scaling.contains(key) && (scaling[key] == "su" || scaling[key] == "yarn"))
          scaling[key] = "longrope";
    return c;
  }
};

// Phi3RMSNorm (LlamaRMSNorm): x / sqrt(mean(x^2) + eps) * weight, in float32.
using Phi3RMSNorm = nn::RMSNorm;

// Rows [begin, end) of a fused projection's weight [out, in], as a bias-free Linear.
nn::Linear row_slice(const Tensor& weight, int64_t begin, int64_t end) {
  return nn::Linear::from_weight(weight.slice(0, begin, end).contiguous(), Tensor());
}

struct Phi3Attention {
  Phi3Attention(const nn::WeightMap& w, const Phi3Config& c) {
    // qkv_proj's rows: [q (heads * head_dim) | k (kv_heads * head_dim) | v (kv_heads * head_dim)].
    const int64_t q_size = c.num_attention_heads * c.head_dim;
    const int64_t kv_size = c.num_key_value_heads * c.head_dim;
    const Tensor qkv = w.sub("qkv_proj").get("weight", {q_size + 2 * kv_size, c.hidden_size});
    q_proj = row_slice(qkv, 0, q_size);
    k_proj = row_slice(qkv, q_size, q_size + kv_size);
    v_proj = row_slice(qkv, q_size + kv_size, q_size + 2 * kv_size);
    o_proj = nn::Linear(w.sub("o_proj"), q_size, c.hidden_size, false);
    params.num_heads = static_cast<int>(c.num_attention_heads);
    params.num_kv_heads = static_cast<int>(c.num_key_value_heads);
    params.head_dim = c.head_dim;
    params.scale = static_cast<float>(std::pow(static_cast<double>(c.head_dim), -0.5));
    params.sliding_window = c.sliding_window;
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

struct Phi3MLP {
  Phi3MLP(const nn::WeightMap& w, const Phi3Config& c)
      : down_proj(w.sub("down_proj"), c.intermediate_size, c.hidden_size, false),
        activation_fn(c.hidden_act) {
    // gate_up_proj's rows: [gate (intermediate) | up (intermediate)].
    const int64_t n = c.intermediate_size;
    const Tensor gate_up = w.sub("gate_up_proj").get("weight", {2 * n, c.hidden_size});
    gate_proj = row_slice(gate_up, 0, n);
    up_proj = row_slice(gate_up, n, 2 * n);
  }
  Tensor forward(const Tensor& x) const {
    return down_proj(ops::mul(up_proj(x), gate_proj(x, activation_fn)));
  }
  nn::Linear gate_proj, up_proj, down_proj;
  ops::Activation activation_fn;
};

struct Phi3DecoderLayer {
  Phi3DecoderLayer(const nn::WeightMap& w, const Phi3Config& c)
      : self_attn(w.sub("self_attn"), c),
        mlp(w.sub("mlp"), c),
        input_layernorm(w.sub("input_layernorm"), c.hidden_size, c.rms_norm_eps),
        post_attention_layernorm(w.sub("post_attention_layernorm"), c.hidden_size,
                                 c.rms_norm_eps) {}
  Phi3Attention self_attn;
  Phi3MLP mlp;
  Phi3RMSNorm input_layernorm, post_attention_layernorm;
};

class Phi3 final : public DecoderBase {
 public:
  Phi3(const ModelConfig& config, const nn::WeightMap& w)
      : DecoderBase(config),
        c_(Phi3Config::parse(config)),
        embed_tokens_(w.sub("model").sub("embed_tokens"), c_.vocab_size, c_.hidden_size),
        norm_(w.sub("model").sub("norm"), c_.hidden_size, c_.rms_norm_eps),
        rotary_(c_.rope, "phi3", c_.head_dim, c_.rotary_dim, c_.max_position_embeddings) {
    set_shape(c_.num_hidden_layers, c_.num_key_value_heads * c_.head_dim, c_.vocab_size,
              c_.max_position_embeddings);
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      layers_.emplace_back(w.sub("model").sub("layers").sub(std::to_string(i)), c_);
    const Tensor head = tied_output_weight(w, "lm_head.weight", {c_.vocab_size, c_.hidden_size},
                                           w.sub("model").sub("embed_tokens"),
                                           embed_tokens_.weight, c_.tie_word_embeddings, "weight");
    lm_head_ = nn::Linear::from_weight(head, Tensor());
    w.ignore_unexpected({R"(rotary_emb\.inv_freq)"});
    config_.max_position_embeddings = c_.max_position_embeddings;
  }

  Tensor forward(std::span<const DecoderSequence> requested,
                 const ForwardOptions& opt) const override {
    std::vector<std::vector<int64_t>> whole;
    std::vector<int64_t> skipped;
    const std::vector<DecoderSequence> batch = reencode_past_original(requested, whole, skipped);
    BatchLayout layout = make_layout(batch);
    if (!whole.empty()) drop_rows(batch, skipped, layout);
    Tensor x = embed_tokens_(layout.ids_tensor());
    trace(opt, x, "embeddings", -1);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const Phi3DecoderLayer& layer = layers_[i];
      const int index = static_cast<int>(i);
      const Tensor attn =
          layer.self_attn.forward(layer.input_layernorm(x), batch, layout, rotary_, index);
      ops::add_(x, attn);
      trace(opt, x, "attn_residual", index);
      ops::add_(x, layer.mlp.forward(layer.post_attention_layernorm(x)));
      trace(opt, x, "layer_output", index);
    }
    commit_caches(batch, layout);
    return lm_head_(norm_(gather_rows(x, layout.output_rows)));
  }

  BatchLayout make_layout(std::span<const DecoderSequence> batch) const {
    return BatchLayout::make(batch, c_.vocab_size, c_.max_position_embeddings,
                             static_cast<int>(c_.num_hidden_layers),
                             c_.num_key_value_heads * c_.head_dim);
  }

  // Phi3ForCausalLM.prepare_inputs_for_generation: with LongRoPE, when a sequence with a cache of
  // at most original_max_position_embeddings tokens grows past that length, transformers drops the
  // cache and re-encodes the whole sequence, so that every key and value is recomputed with the
  // long factors (the cached ones were computed with the short factors). Returns the batch to run:
  // such a sequence becomes its whole token list (kept in `whole`) over its emptied cache, and
  // skipped[s] counts its leading rows whose logits were not asked for.
  std::vector<DecoderSequence> reencode_past_original(std::span<const DecoderSequence> batch,
                                                      std::vector<std::vector<int64_t>>& whole,
                                                      std::vector<int64_t>& skipped) const {
    std::vector<DecoderSequence> run(batch.begin(), batch.end());
    skipped.assign(batch.size(), 0);
    if (!c_.longrope) return run;
    const int64_t original = c_.original_max_position_embeddings;
    auto crosses = [&](const DecoderSequence& s) {
      const int64_t cached = s.cache != nullptr ? s.cache->length() : 0;
      return cached > 0 && cached <= original &&
             cached + static_cast<int64_t>(s.tokens.size()) > original;
    };
    if (std::none_of(batch.begin(), batch.end(), crosses)) return run;
    make_layout(batch);  // validates the batch before any cache is emptied (throws)
    whole.reserve(batch.size());  // `run` keeps spans into these lists
    for (size_t s = 0; s < batch.size(); ++s) {
      if (!crosses(batch[s])) continue;
      KvCache& cache = *batch[s].cache;
      whole.emplace_back(cache.tokens());
      whole.back().insert(whole.back().end(), batch[s].tokens.begin(), batch[s].tokens.end());
      skipped[s] = cache.length();
      cache.truncate(0);
      run[s].tokens = whole.back();
    }
    return run;
  }

  // Removes the logits rows of the re-encoded prefixes from the layout's outputs.
  static void drop_rows(std::span<const DecoderSequence> batch, const std::vector<int64_t>& skipped,
                        BatchLayout& layout) {
    std::vector<int64_t> rows;
    for (size_t s = 0; s < batch.size(); ++s)
      for (int64_t i = skipped[s]; i < layout.rows[s]; ++i)
        if (batch[s].all_logits || i == layout.rows[s] - 1) rows.push_back(layout.row0[s] + i);
    layout.output_rows = std::move(rows);
  }


 private:
  Phi3Config c_;
  nn::Embedding embed_tokens_;
  Phi3RMSNorm norm_;
  RotaryEmbedding rotary_;
  std::vector<Phi3DecoderLayer> layers_;
  nn::Linear lm_head_;
};

}  // namespace

std::unique_ptr<DecoderBase> make_phi3(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<Phi3>(config, w);
}

}  // namespace mlhub::models
