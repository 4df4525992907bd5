// BART and mBART: BartForConditionalGeneration / MBartForConditionalGeneration, and the encoder-
// decoder implementation Marian shares with them (src/models/bart_layers.h). A Transformer
// encoder-decoder with learned absolute positions (ids offset by 2), token embeddings scaled by
// sqrt(d_model) when scale_embedding, a LayerNorm on the embeddings, post-LayerNorm layers (BART)
// or pre-LayerNorm layers with a final LayerNorm per stack (mBART), and an output head tied to
// the shared embeddings plus final_logits_bias.
// transformers/models/bart/modeling_bart.py and mbart/modeling_mbart.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/bart/modeling_bart.py
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/mbart/modeling_mbart.py
// Lewis et al. 2019, "BART: Denoising Sequence-to-Sequence Pre-training", arXiv:1910.13461;
// Liu et al. 2020, "Multilingual Denoising Pre-training for Neural Machine Translation",
// arXiv:2001.08210.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "models/bart_layers.h"
#include "models/common.h"

namespace mlhub::models {
namespace {

// Several [d, d] projections of one module (q_proj, k_proj, v_proj) as one Linear whose output
// columns are the projections side by side: one GEMM instead of several.
nn::Linear fused_projections(const std::vector<nn::WeightMap>& parts, int64_t d) {
  std::vector<Tensor> weights, biases;
  for (const nn::WeightMap& p : parts) {
    weights.push_back(p.get("weight", {d, d}));
    biases.push_back(p.get("bias", {d}));
  }
  return nn::Linear::from_weight(ops::concat(weights, 0), ops::concat(biases, 0));
}

ops::CachedAttentionParams attention_params(int64_t d, int64_t heads, bool causal) {
  ops::CachedAttentionParams p;
  p.num_heads = static_cast<int>(heads);
  p.num_kv_heads = p.num_heads;
  p.head_dim = d / heads;
  // BartAttention.scaling = head_dim ** -0.5, applied to q.k.
  p.scale = static_cast<float>(std::pow(static_cast<double>(p.head_dim), -0.5));
  p.causal = causal;
  return p;
}

// BartAttention as self-attention: q_proj / k_proj / v_proj fused, out_proj.
struct SelfAttention {
  SelfAttention(const nn::WeightMap& w, int64_t d, int64_t heads, bool causal)
      : qkv(fused_projections({w.sub("q_proj"), w.sub("k_proj"), w.sub("v_proj")}, d)),
        out_proj(w.sub("out_proj"), d, d),
        params(attention_params(d, heads, causal)),
        d(d) {}

  // Encoder: x [B, S, d] with key_mask [B, S] (undefined: no padding).
  Tensor forward(const Tensor& x, const Tensor& key_mask) const {
    const Tensor qkv_out = qkv(x);
    const Tensor q = qkv_out.slice(2, 0, d), k = qkv_out.slice(2, d, 2 * d),
                 v = qkv_out.slice(2, 2 * d, 3 * d);
    return out_proj(ops::attention(q, k, v, params.num_heads, key_mask, Tensor(), params.scale));
  }

  // Decoder: x [N, d], the stacked new tokens of a batch, causal against each cache.
  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 int layer) const {
    const Tensor qkv_out = qkv(x);
    const Tensor q = qkv_out.slice(1, 0, d).contiguous();
    const Tensor k = qkv_out.slice(1, d, 2 * d).contiguous();
    const Tensor v = qkv_out.slice(1, 2 * d, 3 * d).contiguous();
    const auto sequences = store_kv(batch, layout, layer, k, v);
    return out_proj(ops::cached_attention(q, sequences, params));
  }

  nn::Linear qkv, out_proj;
  ops::CachedAttentionParams params;
  int64_t d;
};

// BartAttention as cross-attention (encoder_attn): q_proj and out_proj run per step; k_proj /
// v_proj of every layer run once per source in the model's cross_kv (cross_memory).
struct CrossAttention {
  CrossAttention(const nn::WeightMap& w, int64_t d, int64_t heads)
      : q_proj(w.sub("q_proj"), d, d),
        out_proj(w.sub("out_proj"), d, d),
        params(attention_params(d, heads, /*causal=*/false)) {}

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 int layer, int num_layers) const {
    const auto views = cross_views(batch, layout, layer, num_layers, q_proj.weight.dim(0));
    return out_proj(ops::cached_attention(q_proj(x), views, params));
  }

  nn::Linear q_proj, out_proj;
  ops::CachedAttentionParams params;
};

// fc1 -> activation -> fc2.
struct FeedForward {
  FeedForward(const nn::WeightMap& w, int64_t d, int64_t ffn, ops::Activation act)
      : fc1(w.sub("fc1"), d, ffn), fc2(w.sub("fc2"), ffn, d), act(act) {}
  Tensor operator()(const Tensor& x) const { return fc2(fc1(x, act)); }
  nn::Linear fc1, fc2;
  ops::Activation act;
};

// A residual block around `sublayer`: x + f(LN(x)) pre-LN, LN(x + f(x)) post-LN. x is owned.
template <typename F>
Tensor residual_block(const Tensor& x, const nn::LayerNorm& norm, bool pre, F&& sublayer) {
  if (pre) return ops::add(x, sublayer(norm(x)));
  return norm(sublayer(x), x);
}

// BartEncoderLayer / MBartEncoderLayer.
struct EncoderLayer {
  EncoderLayer(const nn::WeightMap& w, const BartFamilyConfig& c)
      : self_attn(w.sub("self_attn"), c.d_model, c.encoder_attention_heads, /*causal=*/false),
        self_attn_layer_norm(w.sub("self_attn_layer_norm"), c.d_model, 1e-5f),
        ffn(w, c.d_model, c.encoder_ffn_dim, c.activation_function),
        final_layer_norm(w.sub("final_layer_norm"), c.d_model, 1e-5f),
        pre(c.pre_layer_norm) {}

  Tensor forward(const Tensor& x, const Tensor& mask) const {
    const Tensor h = residual_block(x, self_attn_layer_norm, pre,
                                    [&](const Tensor& in) { return self_attn.forward(in, mask); });
    return residual_block(h, final_layer_norm, pre, ffn);
  }

  SelfAttention self_attn;
  nn::LayerNorm self_attn_layer_norm;
  FeedForward ffn;
  nn::LayerNorm final_layer_norm;
  bool pre;
};

// BartDecoderLayer / MBartDecoderLayer.
struct DecoderLayer {
  DecoderLayer(const nn::WeightMap& w, const BartFamilyConfig& c)
      : self_attn(w.sub("self_attn"), c.d_model, c.decoder_attention_heads, /*causal=*/true),
        self_attn_layer_norm(w.sub("self_attn_layer_norm"), c.d_model, 1e-5f),
        encoder_attn(w.sub("encoder_attn"), c.d_model, c.decoder_attention_heads),
        encoder_attn_layer_norm(w.sub("encoder_attn_layer_norm"), c.d_model, 1e-5f),
        ffn(w, c.d_model, c.decoder_ffn_dim, c.activation_function),
        final_layer_norm(w.sub("final_layer_norm"), c.d_model, 1e-5f),
        pre(c.pre_layer_norm) {}

  Tensor forward(const Tensor& x, std::span<const DecoderSequence> batch, const BatchLayout& layout,
                 int layer, int num_layers) const {
    Tensor h = residual_block(x, self_attn_layer_norm, pre, [&](const Tensor& in) {
      return self_attn.forward(in, batch, layout, layer);
    });
    h = residual_block(h, encoder_attn_layer_norm, pre, [&](const Tensor& in) {
      return encoder_attn.forward(in, batch, layout, layer, num_layers);
    });
    return residual_block(h, final_layer_norm, pre, ffn);
  }

  SelfAttention self_attn;
  nn::LayerNorm self_attn_layer_norm;
  CrossAttention encoder_attn;
  nn::LayerNorm encoder_attn_layer_norm;
  FeedForward ffn;
  nn::LayerNorm final_layer_norm;
  bool pre;
};

// Token embeddings of the encoder and of the decoder (one tensor when shared), by the key the
// checkpoint has: transformers ties shared / encoder.embed_tokens / decoder.embed_tokens (one
// module), and some checkpoints (facebook/bart-large-cnn) carry only decoder.embed_tokens.
std::pair<Tensor, Tensor> token_embeddings(const nn::WeightMap& m, const BartFamilyConfig& c) {
  if (!c.shared_embeddings)
    return {m.sub("encoder").get("embed_tokens.weight", {c.vocab_size, c.d_model}),
            m.sub("decoder").get("embed_tokens.weight", {c.decoder_vocab_size, c.d_model})};
  const char* names[] = {"shared.weight", "decoder.embed_tokens.weight",
                         "encoder.embed_tokens.weight"};
  const char* found = names[0];
  for (const char* n : names)
    if (m.has(n)) {
      found = n;
      break;
    }
  for (const char* n : names)
    if (n != found) m.mark_tied(n);
  const Tensor t = m.get(found, {c.vocab_size, c.d_model});
  return {t, t};
}

// One stack's position table and the offset added to position ids.
struct Positions {
  Tensor table;
  int64_t offset = 0;

  static Positions load(const nn::WeightMap& stack, const BartFamilyConfig& c) {
    Positions p;
    if (!c.sinusoidal_table.defined()) {
      // BartLearnedPositionalEmbedding: num_embeddings + 2 rows, ids offset by 2 (fairseq's
      // padding_idx + 1 layout, kept after padding-aware positions were dropped).
      p.offset = 2;
      p.table = stack.get("embed_positions.weight", {c.max_position_embeddings + 2, c.d_model});
      return p;
    }
    p.table = stack.get_optional("embed_positions.weight", {c.max_position_embeddings, c.d_model});
    if (!p.table.defined()) p.table = c.sinusoidal_table;
    return p;
  }

  Tensor operator()(std::span<const int64_t> positions) const {
    std::vector<int64_t> ids(positions.begin(), positions.end());
    for (int64_t& i : ids) i += offset;
    return ops::embedding(table, Tensor::from_ints(ids, {static_cast<int64_t>(ids.size())}));
  }
};

class BartFamilyModel final : public Seq2SeqBase {
 public:
  BartFamilyModel(const ModelConfig& config, const nn::WeightMap& w, const BartFamilyConfig& c)
      : Seq2SeqBase(config), c_(c) {
    const nn::WeightMap m = w.sub("model");
    const nn::WeightMap enc = m.sub("encoder"), dec = m.sub("decoder");
    // fairseq conversions keep a "version" buffer per stack (BartPretrainedModel ignores it).
    w.ignore_unexpected({"encoder\\.version", "decoder\\.version"});
    std::tie(encoder_tokens_, decoder_tokens_) = token_embeddings(m, c_);
    encoder_positions_ = Positions::load(enc, c_);
    decoder_positions_ = Positions::load(dec, c_);
    if (c_.layernorm_embedding) {
      encoder_layernorm_embedding_ =
          nn::LayerNorm(enc.sub("layernorm_embedding"), c_.d_model, 1e-5f);
      decoder_layernorm_embedding_ =
          nn::LayerNorm(dec.sub("layernorm_embedding"), c_.d_model, 1e-5f);
    }
    if (c_.pre_layer_norm) {
      encoder_layer_norm_ = nn::LayerNorm(enc.sub("layer_norm"), c_.d_model, 1e-5f);
      decoder_layer_norm_ = nn::LayerNorm(dec.sub("layer_norm"), c_.d_model, 1e-5f);
    }
    for (int64_t i = 0; i < c_.encoder_layers; ++i)
      encoder_layers_.emplace_back(enc.sub("layers").sub(std::to_string(i)), c_);
    std::vector<nn::WeightMap> cross_kv;
    for (int64_t i = 0; i < c_.decoder_layers; ++i) {
      const nn::WeightMap layer = dec.sub("layers").sub(std::to_string(i));
      decoder_layers_.emplace_back(layer, c_);
      cross_kv.push_back(layer.sub("encoder_attn").sub("k_proj"));
      cross_kv.push_back(layer.sub("encoder_attn").sub("v_proj"));
    }
    // Every layer's cross-attention keys and values in one GEMM per source: output columns
    // [k_0 | v_0 | k_1 | v_1 | ...], d_model each.
    if (!cross_kv.empty()) cross_kv_ = fused_projections(cross_kv, c_.d_model);

    Tensor head = decoder_tokens_;
    if (c_.tie_word_embeddings)
      w.mark_tied("lm_head.weight");
    else
      head = w.get("lm_head.weight", {c_.decoder_vocab_size, c_.d_model});
    // A buffer transformers leaves at zeros when absent (_keys_to_ignore_on_load_missing).
    Tensor bias = w.get_optional("final_logits_bias", {1, c_.decoder_vocab_size});
    bias = bias.defined() ? bias.reshape({c_.decoder_vocab_size})
                          : Tensor::zeros(DType::kF32, {c_.decoder_vocab_size});
    lm_head_ = nn::Linear::from_weight(head, bias);

    set_shape(c_.decoder_layers, c_.d_model, c_.decoder_vocab_size, c_.max_position_embeddings,
              c_.max_position_embeddings);
    config_.max_position_embeddings = c_.max_position_embeddings;
  }

  EncoderOutput encode(const EncoderInput& input, const ForwardOptions& opt) const override {
    check_encoder_input(input, c_.max_position_embeddings, c_.model_type);
    check_ids(input.input_ids, c_.vocab_size);
    const int64_t seq = input.input_ids.dim(1);
    Tensor x = embed(encoder_tokens_, input.input_ids);  // [B, S, d]
    std::vector<int64_t> positions(static_cast<size_t>(seq));
    for (int64_t t = 0; t < seq; ++t) positions[static_cast<size_t>(t)] = t;
    ops::add_(x, encoder_positions_(positions));  // [S, d] broadcast over the batch
    if (c_.layernorm_embedding) x = encoder_layernorm_embedding_(x);
    trace(opt, x, "encoder_embeddings", -1);
    EncoderOutput out;
    for (size_t i = 0; i < encoder_layers_.size(); ++i) {
      if (opt.output_hidden_states) out.hidden_states.push_back(x);
      x = encoder_layers_[i].forward(x, input.attention_mask);
      trace(opt, x, "encoder_layer_output", static_cast<int>(i));
    }
    if (c_.pre_layer_norm) x = encoder_layer_norm_(x);
    if (opt.output_hidden_states) out.hidden_states.push_back(x);
    out.last_hidden_state = x;
    return out;
  }

  std::shared_ptr<const CrossMemory> cross_memory(const Tensor& states_in) const override {
    const Tensor states = source_states(states_in);
    const int64_t length = states.dim(0), d = c_.d_model;
    const int num_layers = static_cast<int>(c_.decoder_layers);
    auto memory = make_cross_memory(num_layers, length, d);
    if (num_layers == 0) return memory;
    const Tensor kv = cross_kv_(states);  // [S, layers * 2 * d]
    const float* src = kv.data<float>();
    const int64_t stride = kv.dim(1);
    for (int l = 0; l < num_layers; ++l) {
      float* k = memory->keys[static_cast<size_t>(l)].data();
      float* v = memory->values[static_cast<size_t>(l)].data();
      for (int64_t t = 0; t < length; ++t) {
        const float* row = src + t * stride + 2 * l * d;
        std::memcpy(k + t * d, row, static_cast<size_t>(d) * sizeof(float));
        std::memcpy(v + t * d, row + d, static_cast<size_t>(d) * sizeof(float));
      }
    }
    return memory;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const int num_layers = static_cast<int>(c_.decoder_layers);
    const BatchLayout layout =
        BatchLayout::make(batch, c_.decoder_vocab_size, c_.max_position_embeddings, num_layers,
                          c_.d_model);
    // Every sequence needs its source before any work is done (throws kInvalidArgument).
    cross_views(batch, layout, 0, num_layers, c_.d_model);
    Tensor x = embed(decoder_tokens_, layout.ids_tensor());  // [N, d]
    ops::add_(x, decoder_positions_(layout.positions));
    if (c_.layernorm_embedding) x = decoder_layernorm_embedding_(x);
    trace(opt, x, "decoder_embeddings", -1);
    for (int i = 0; i < num_layers; ++i) {
      x = decoder_layers_[static_cast<size_t>(i)].forward(x, batch, layout, i, num_layers);
      trace(opt, x, "decoder_layer_output", i);
    }
    commit_caches(batch, layout);
    Tensor rows = gather_rows(x, layout.output_rows);
    if (c_.pre_layer_norm) rows = decoder_layer_norm_(rows);
    return lm_head_(rows);
  }

 private:
  // BartScaledWordEmbedding: rows times embed_scale (a float32 multiply, as torch's
  // tensor * Python float).
  Tensor embed(const Tensor& table, const Tensor& ids) const {
    Tensor x = ops::embedding(table, ids);
    return c_.embed_scale == 1.0f ? x : ops::scale(x, c_.embed_scale);
  }

  void check_ids(const Tensor& ids_in, int64_t vocab) const {
    const Tensor ids = ids_in.contiguous();
    const int64_t* p = ids.data<int64_t>();
    for (int64_t i = 0; i < ids.numel(); ++i)
      if (p[i] < 0 || p[i] >= vocab)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("{}: token id {} is outside the vocabulary [0, {})", c_.model_type,
                                p[i], vocab));
  }

  // One source's encoder states as [S, d_model] F32.
  Tensor source_states(const Tensor& states) const {
    Tensor s = states;
    if (s.defined() && s.ndim() == 3 && s.dim(0) == 1) s = s.select(0, 0);
    if (!s.defined() || s.ndim() != 2 || s.dim(1) != c_.d_model || s.dim(0) == 0 ||
        s.dtype() != DType::kF32)
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("{}: cross_memory takes one source's encoder states, F32 [S, {}] "
                              "with S > 0",
                              c_.model_type, c_.d_model));
    return s.contiguous();
  }

  BartFamilyConfig c_;
  Tensor encoder_tokens_, decoder_tokens_;
  Positions encoder_positions_, decoder_positions_;
  nn::LayerNorm encoder_layernorm_embedding_, decoder_layernorm_embedding_;
  nn::LayerNorm encoder_layer_norm_, decoder_layer_norm_;
  std::vector<EncoderLayer> encoder_layers_;
  std::vector<DecoderLayer> decoder_layers_;
  nn::Linear cross_kv_, lm_head_;
};

// BartConfig / MBartConfig: the shared fields; mBART's differences are its layers.
BartFamilyConfig bart_config(const ModelConfig& config, bool mbart) {
  BartFamilyConfig c = parse_bart_family_config(config);
  c.pre_layer_norm = mbart;
  c.layernorm_embedding = true;
  c.shared_embeddings = true;
  c.decoder_vocab_size = c.vocab_size;
  return c;
}

}  // namespace

BartFamilyConfig parse_bart_family_config(const ModelConfig& config) {
  const nlohmann::json& j = config.raw;
  BartFamilyConfig c;
  c.model_type = config.model_type;
  c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
  c.decoder_vocab_size = c.vocab_size;
  // attribute_map: hidden_size -> d_model, num_attention_heads -> encoder_attention_heads.
  c.d_model = config_int(j, "d_model", config_int(j, "hidden_size", c.d_model));
  c.encoder_layers = config_int(j, "encoder_layers", c.encoder_layers);
  c.decoder_layers = config_int(j, "decoder_layers", c.decoder_layers);
  c.encoder_attention_heads = config_int(j, "encoder_attention_heads", c.encoder_attention_heads);
  c.decoder_attention_heads = config_int(j, "decoder_attention_heads", c.decoder_attention_heads);
  c.encoder_ffn_dim = config_int(j, "encoder_ffn_dim", c.encoder_ffn_dim);
  c.decoder_ffn_dim = config_int(j, "decoder_ffn_dim", c.decoder_ffn_dim);
  c.max_position_embeddings = config_int(j, "max_position_embeddings", c.max_position_embeddings);
  c.activation_function =
      ops::activation_from_name(config_string(j, "activation_function", "gelu"));
  // math.sqrt(d_model) as a Python float, rounded to float32 when it multiplies the embeddings.
  if (config_bool(j, "scale_embedding", false))
    c.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(c.d_model)));
  c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);
  const std::string_view t = config.model_type;
  config_check(c.vocab_size > 0 && c.d_model > 0 && c.encoder_layers >= 0 &&
                   c.decoder_layers >= 0 && c.encoder_attention_heads > 0 &&
                   c.decoder_attention_heads > 0 && c.encoder_ffn_dim > 0 &&
                   c.decoder_ffn_dim > 0 && c.max_position_embeddings > 0,
               t, "sizes must be positive");
  config_check(c.d_model % c.encoder_attention_heads == 0 &&
                   c.d_model % c.decoder_attention_heads == 0,
               t, "d_model must be a multiple of the encoder and decoder attention heads");
  return c;
}

std::unique_ptr<Seq2SeqBase> make_bart_family(const ModelConfig& config, const nn::WeightMap& w,
                                              const BartFamilyConfig& c) {
  return std::make_unique<BartFamilyModel>(config, w, c);
}

std::unique_ptr<Seq2SeqBase> make_bart(const ModelConfig& config, const nn::WeightMap& w) {
  return make_bart_family(config, w, bart_config(config, /*mbart=*/false));
}

std::unique_ptr<Seq2SeqBase> make_mbart(const ModelConfig& config, const nn::WeightMap& w) {
  return make_bart_family(config, w, bart_config(config, /*mbart=*/true));
}

}  // namespace mlhub::models
