// T5: T5ForConditionalGeneration (t5, t5 v1.1, flan-t5, and the many fine-tunes that share the
// class). An encoder and a decoder stack over one shared embedding; pre-norm blocks with T5's
// RMS layer norm (no mean, no bias); unscaled attention with a learned relative position bias,
// computed by the first block of each stack and reused by the others (none in cross-attention);
// a ReLU feed-forward (DenseReluDense) or a gated one (t5 v1.1: act(wi_0 x) * wi_1 x); an output
// head tied to the embedding (with a d_model^-0.5 rescale before it) or untied (v1.1).
// transformers/models/t5/modeling_t5.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/t5/modeling_t5.py
// Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
// Transformer", https://arxiv.org/abs/1910.10683
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/common.h"
#include "models/relative_positions.h"
#include "models/seq2seq_common.h"

namespace mlhub::models {

int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional,
                                    int64_t num_buckets, int64_t max_distance) {
  // T5Attention._relative_position_bucket step by step in its dtypes: the log term is float32
  // (the float tensor divided by Python doubles), truncated toward zero by .to(torch.long).
  int64_t bucket = 0, n = 0;
  if (bidirectional) {
    num_buckets /= 2;
    if (relative_position > 0) bucket += num_buckets;
    n = std::abs(relative_position);
  } else {
    n = relative_position < 0 ? -relative_position : 0;  // -min(relative_position, 0)
  }
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return bucket + n;
  const float ratio = static_cast<float>(n) / static_cast<float>(max_exact);
  const auto scale = static_cast<float>(
      std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  const float scaled = std::log(ratio) / scale * static_cast<float>(num_buckets - max_exact);
  const int64_t large = max_exact + static_cast<int64_t>(scaled);
  return bucket + std::min(large, num_buckets - 1);
}

namespace {

// T5 has no position limit (relative positions only) and transformers caps nothing; the decoder
// still needs a bound for DecoderModel::max_positions (generation caps max_length with it), so
// it is one far past any sequence a KV cache would hold in memory.
constexpr int64_t kMaxDecoderPositions = int64_t{1} << 20;
// Decoder distances whose bias is tabulated at load; longer ones are bucketed on the fly.
constexpr int64_t kDecoderBiasTable = 4096;

struct T5Config {
  int64_t vocab_size = 32128, d_model = 512, d_kv = 64, d_ff = 2048;
  int64_t num_layers = 6, num_decoder_layers = 6, num_heads = 8;
  int64_t relative_attention_num_buckets = 32, relative_attention_max_distance = 128;
  float layer_norm_epsilon = 1e-6f;
  ops::Activation dense_act_fn = ops::Activation::kRelu;
  bool is_gated_act = false;
  bool tie_word_embeddings = true;

  int64_t inner() const { return num_heads * d_kv; }

  static T5Config parse(const ModelConfig& config) {
    const nlohmann::json& j = config.raw;
    T5Config c;
    // T5Config.attribute_map: hidden_size, num_attention_heads, num_hidden_layers and head_dim
    // name d_model, num_heads, num_layers and d_kv.
    auto field = [&](const char* name, const char* alias, int64_t fallback) {
      return config_int(j, name, config_int(j, alias, fallback));
    };
    c.vocab_size = config_int(j, "vocab_size", c.vocab_size);
    c.d_model = field("d_model", "hidden_size", c.d_model);
    c.d_kv = field("d_kv", "head_dim", c.d_kv);
    c.d_ff = config_int(j, "d_ff", c.d_ff);
    c.num_layers = field("num_layers", "num_hidden_layers", c.num_layers);
    c.num_decoder_layers = config_int(j, "num_decoder_layers", c.num_layers);  // null: symmetric
    c.num_heads = field("num_heads", "num_attention_heads", c.num_heads);
    c.relative_attention_num_buckets =
        config_int(j, "relative_attention_num_buckets", c.relative_attention_num_buckets);
    c.relative_attention_max_distance =
        config_int(j, "relative_attention_max_distance", c.relative_attention_max_distance);
    c.layer_norm_epsilon =
        static_cast<float>(config_float(j, "layer_norm_epsilon", c.layer_norm_epsilon));
    c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", true);

    // feed_forward_proj is "ACT" or "gated-ACT"; "gated-gelu" means gelu_new for backward
    // compatibility. T5Config derives dense_act_fn / is_gated_act from it, but config.json's own
    // dense_act_fn / is_gated_act, when present, are set afterwards and win (PretrainedConfig
    // stores the remaining kwargs last).
    const std::string proj = config_string(j, "feed_forward_proj", "relu");
    const size_t dash = proj.find('-');
    const bool gated = dash != std::string::npos && proj.substr(0, dash) == "gated";
    config_check(dash == std::string::npos || (gated && proj.find('-', dash + 1) == std::string::npos),
                 "t5",
                 fmt::format("feed_forward_proj \"{}\" is not \"ACT\" or \"gated-ACT\"", proj));
    std::string act = dash == std::string::npos ? proj : proj.substr(dash + 1);
    if (proj == "gated-gelu") act = "gelu_new";
    act = config_string(j, "dense_act_fn", act);
    c.is_gated_act = config_bool(j, "is_gated_act", gated);
    c.dense_act_fn = ops::activation_from_name(act);

    config_check(c.vocab_size > 0 && c.d_model > 0 && c.d_kv > 0 && c.d_ff > 0 &&
                     c.num_heads > 0 && c.num_layers >= 1 && c.num_decoder_layers >= 1,
                 "t5", "sizes must be positive (and each stack needs a layer: its first block "
                       "holds the relative attention bias)");
    config_check(c.relative_attention_num_buckets >= 4 && c.relative_attention_max_distance > 0,
                 "t5", "relative_attention_num_buckets must be >= 4 and "
                       "relative_attention_max_distance positive");
    config_check(c.layer_norm_epsilon > 0, "t5", "layer_norm_epsilon must be positive");
    return c;
  }
};

// Weights [out_i, in] stacked into one [sum out_i, in] GEMM operand (q|k|v, or the k|v of every
// decoder layer's cross-attention): one pass over the activations instead of several.
ops::PackedWeight pack_rows(const std::vector<Tensor>& weights) {
  return ops::PackedWeight::pack(ops::concat(weights, 0));
}

// T5Attention's weights (q, k, v, o; no biases), with q|k|v fused for self-attention.
struct T5Attention {
  T5Attention(const nn::WeightMap& w, const T5Config& c, bool self_attention)
      : o(w.sub("o"), c.inner(), c.d_model, false) {
    const Shape shape{c.inner(), c.d_model};
    const Tensor q_w = w.get("q.weight", shape);
    if (self_attention) {
      qkv = pack_rows({q_w, w.get("k.weight", shape), w.get("v.weight", shape)});
    } else {
      q = nn::Linear::from_weight(q_w, Tensor());  // k / v: T5Model::cross_kv_ (per source)
    }
    params.num_heads = static_cast<int>(c.num_heads);
    params.num_kv_heads = params.num_heads;
    params.head_dim = c.d_kv;
    params.scale = 1.0f;  // T5 folds the 1/sqrt(d_kv) into its initialisation
  }
  ops::PackedWeight qkv;
  nn::Linear q, o;
  ops::CachedAttentionParams params;
};

// T5LayerFF's DenseReluDense: T5DenseActDense or T5DenseGatedActDense.
struct T5DenseReluDense {
  T5DenseReluDense(const nn::WeightMap& w, const T5Config& c)
      : wo(w.sub("wo"), c.d_ff, c.d_model, false), act(c.dense_act_fn), gated(c.is_gated_act) {
    if (gated) {
      wi_0 = nn::Linear(w.sub("wi_0"), c.d_model, c.d_ff, false);
      wi_1 = nn::Linear(w.sub("wi_1"), c.d_model, c.d_ff, false);
    } else {
      wi = nn::Linear(w.sub("wi"), c.d_model, c.d_ff, false);
    }
  }
  Tensor operator()(const Tensor& x) const {
    if (gated) return wo(ops::mul(wi_0(x, act), wi_1(x)));
    return wo(wi(x, act));
  }
  nn::Linear wi, wi_0, wi_1, wo;
  ops::Activation act;
  bool gated;
};

// A T5Block: layer.0 self-attention, (decoder) layer.1 cross-attention, then the feed-forward.
struct T5Block {
  T5Block(const nn::WeightMap& w, const T5Config& c, bool decoder)
      : self_norm(w.sub("layer").sub("0").sub("layer_norm"), c.d_model, c.layer_norm_epsilon),
        self_attention(w.sub("layer").sub("0").sub("SelfAttention"), c, true),
        ff_norm(w.sub("layer").sub(decoder ? "2" : "1").sub("layer_norm"), c.d_model,
                c.layer_norm_epsilon),
        ff(w.sub("layer").sub(decoder ? "2" : "1").sub("DenseReluDense"), c) {
    if (decoder) {
      cross_norm = nn::RMSNorm(w.sub("layer").sub("1").sub("layer_norm"), c.d_model,
                               c.layer_norm_epsilon);
      cross_attention.emplace_back(w.sub("layer").sub("1").sub("EncDecAttention"), c, false);
    }
  }
  nn::RMSNorm self_norm;  // T5LayerNorm: RMS without mean subtraction, weight only
  T5Attention self_attention;
  nn::RMSNorm cross_norm;
  std::vector<T5Attention> cross_attention;  // one in the decoder, none in the encoder
  nn::RMSNorm ff_norm;
  T5DenseReluDense ff;
};

// The bias of the first block of a stack: relative_attention_bias [num_buckets, num_heads].
class RelativeBias {
 public:
  RelativeBias() = default;
  RelativeBias(const nn::WeightMap& w, const T5Config& c, bool bidirectional)
      : weight_(w.get("weight", {c.relative_attention_num_buckets, c.num_heads}).contiguous()),
        heads_(c.num_heads),
        num_buckets_(c.relative_attention_num_buckets),
        max_distance_(c.relative_attention_max_distance),
        bidirectional_(bidirectional) {
    if (!bidirectional_) {
      table_.resize(static_cast<size_t>(kDecoderBiasTable * heads_));
      for (int64_t d = 0; d < kDecoderBiasTable; ++d)
        std::memcpy(&table_[static_cast<size_t>(d * heads_)], row(-d),
                    static_cast<size_t>(heads_) * sizeof(float));
    }
  }

  // The heads' bias values for key position minus query position `relative`.
  const float* row(int64_t relative) const {
    const int64_t b = t5_relative_position_bucket(relative, bidirectional_, num_buckets_,
                                                  max_distance_);
    return weight_.data<float>() + b * heads_;
  }

  // Encoder: [1, heads, s, s] for s tokens at positions 0..s-1.
  Tensor square(int64_t s) const {
    std::vector<float> by_relative(static_cast<size_t>((2 * s - 1) * heads_));
    for (int64_t r = -(s - 1); r <= s - 1; ++r)
      std::memcpy(&by_relative[static_cast<size_t>((r + s - 1) * heads_)], row(r),
                  static_cast<size_t>(heads_) * sizeof(float));
    Tensor out = Tensor::empty(DType::kF32, {1, heads_, s, s});
    float* p = out.data<float>();
    for (int64_t h = 0; h < heads_; ++h)
      for (int64_t i = 0; i < s; ++i)
        for (int64_t j = 0; j < s; ++j)
          p[(h * s + i) * s + j] = by_relative[static_cast<size_t>((j - i + s - 1) * heads_ + h)];
    return out;
  }

  // Decoder: [heads, rows, kv_len] (CachedAttentionSequence::bias) for queries at positions
  // kv_len - rows .. kv_len - 1 against keys 0..kv_len-1. Keys after a query get bucket 0, as
  // transformers computes them, and are masked anyway.
  void causal(int64_t rows, int64_t kv_len, std::vector<float>& out) const {
    out.resize(static_cast<size_t>(heads_ * rows * kv_len));
    const int64_t first = kv_len - rows;
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t j = 0; j < kv_len; ++j) {
        const int64_t d = std::max<int64_t>(first + t - j, 0);  // query minus key position
        const float* v = d < kDecoderBiasTable ? &table_[static_cast<size_t>(d * heads_)] : row(-d);
        for (int64_t h = 0; h < heads_; ++h)
          out[static_cast<size_t>((h * rows + t) * kv_len + j)] = v[h];
      }
  }

 private:
  Tensor weight_;
  int64_t heads_ = 0, num_buckets_ = 0, max_distance_ = 0;
  bool bidirectional_ = true;
  std::vector<float> table_;  // decoder: [distance, heads] for distances below kDecoderBiasTable
};

class T5Model final : public Seq2SeqBase {
 public:
  T5Model(const ModelConfig& config, const nn::WeightMap& w)
      : Seq2SeqBase(config),
        c_(T5Config::parse(config)),
        encoder_bias_(w.sub("encoder").sub("block").sub("0").sub("layer").sub("0")
                          .sub("SelfAttention").sub("relative_attention_bias"), c_, true),
        decoder_bias_(w.sub("decoder").sub("block").sub("0").sub("layer").sub("0")
                          .sub("SelfAttention").sub("relative_attention_bias"), c_, false),
        encoder_final_layer_norm_(w.sub("encoder").sub("final_layer_norm"), c_.d_model,
                                  c_.layer_norm_epsilon),
        decoder_final_layer_norm_(w.sub("decoder").sub("final_layer_norm"), c_.d_model,
                                  c_.layer_norm_epsilon) {
    set_shape(c_.num_decoder_layers, c_.inner(), c_.vocab_size, kMaxDecoderPositions, 0);
    // shared is what both stacks' embed_tokens point at; checkpoints may carry those aliases.
    shared_.weight = tied_pair(w, "shared.weight", "encoder.embed_tokens.weight",
                               {c_.vocab_size, c_.d_model});
    w.mark_tied("decoder.embed_tokens.weight");
    for (int64_t i = 0; i < c_.num_layers; ++i)
      encoder_.emplace_back(w.sub("encoder").sub("block").sub(std::to_string(i)), c_, false);
    std::vector<Tensor> cross_kv;
    const Shape shape{c_.inner(), c_.d_model};
    for (int64_t i = 0; i < c_.num_decoder_layers; ++i) {
      const nn::WeightMap block = w.sub("decoder").sub("block").sub(std::to_string(i));
      decoder_.emplace_back(block, c_, true);
      const nn::WeightMap cross = block.sub("layer").sub("1").sub("EncDecAttention");
      cross_kv.push_back(cross.get("k.weight", shape));
      cross_kv.push_back(cross.get("v.weight", shape));
    }
    cross_kv_ = pack_rows(cross_kv);
    lm_head_ = nn::Linear::from_weight(
        tied_output_weight(w, "lm_head.weight", {c_.vocab_size, c_.d_model}, w, shared_.weight,
                           c_.tie_word_embeddings, "shared.weight"),
        Tensor());
    // Original T5 checkpoints carry a cross-attention bias that no T5 module has.
    w.ignore_unexpected({R"(^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$)"});
  }

  EncoderOutput encode(const EncoderInput& in, const ForwardOptions& opt) const override {
    check_encoder_input(in, 0, "t5");
    check_ids(in.input_ids, "input_ids");
    const int64_t s = in.input_ids.dim(1), inner = c_.inner();
    Tensor x = shared_(in.input_ids);  // [B, S, d_model]
    EncoderOutput out;
    if (opt.output_hidden_states) out.hidden_states.push_back(x.clone());
    trace(opt, x, "encoder.embeddings", -1);
    const Tensor bias = encoder_bias_.square(s);  // shared by every batch row and layer
    for (size_t i = 0; i < encoder_.size(); ++i) {
      const T5Block& block = encoder_[i];
      const T5Attention& sa = block.self_attention;
      const int index = static_cast<int>(i);
      const Tensor qkv = ops::linear(block.self_norm(x), sa.qkv, Tensor());
      const Tensor a = ops::attention(qkv.slice(2, 0, inner), qkv.slice(2, inner, 2 * inner),
                                      qkv.slice(2, 2 * inner, 3 * inner), sa.params.num_heads,
                                      in.attention_mask, bias, 1.0f);
      ops::add_(x, sa.o(a));
      trace(opt, x, "encoder.attn_residual", index);
      ops::add_(x, block.ff(block.ff_norm(x)));
      trace(opt, x, "encoder.layer_output", index);
      // transformers records each block's input, then the final norm's output.
      if (opt.output_hidden_states && i + 1 < encoder_.size()) out.hidden_states.push_back(x.clone());
    }
    out.last_hidden_state = encoder_final_layer_norm_(x);
    if (opt.output_hidden_states) out.hidden_states.push_back(out.last_hidden_state);
    return out;
  }

  std::shared_ptr<const CrossMemory> cross_memory(const Tensor& states_in) const override {
    Tensor states = states_in;
    if (states.defined() && states.ndim() == 3 && states.dim(0) == 1) states = states.select(0, 0);
    if (!states.defined() || states.ndim() != 2 || states.dim(0) == 0 ||
        states.dim(1) != c_.d_model)
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("t5 cross_memory: encoder states must be [S, {}] (or [1, S, {}])",
                              c_.d_model, c_.d_model));
    const int64_t n = states.dim(0), inner = c_.inner();
    const int layers = static_cast<int>(c_.num_decoder_layers);
    // Every layer's k|v in one GEMM: [S, layers * 2 * inner], then split per layer.
    const Tensor kv = ops::linear(states, cross_kv_, Tensor());
    const float* src = kv.data<float>();
    std::shared_ptr<CrossMemory> m = make_cross_memory(layers, n, inner);
    const int64_t width = kv.dim(1);
    const size_t bytes = static_cast<size_t>(inner) * sizeof(float);
    for (int l = 0; l < layers; ++l) {
      float* keys = m->keys[static_cast<size_t>(l)].data();
      float* values = m->values[static_cast<size_t>(l)].data();
      for (int64_t r = 0; r < n; ++r) {
        std::memcpy(keys + r * inner, src + r * width + (2 * l) * inner, bytes);
        std::memcpy(values + r * inner, src + r * width + (2 * l + 1) * inner, bytes);
      }
    }
    return m;
  }

  Tensor forward(std::span<const DecoderSequence> batch,
                 const ForwardOptions& opt) const override {
    const int layers = static_cast<int>(c_.num_decoder_layers);
    const int64_t inner = c_.inner();
    const BatchLayout layout =
        BatchLayout::make(batch, c_.vocab_size, kMaxDecoderPositions, layers, inner);
    // Every cache's source, checked before any work (kInvalidArgument when one has none).
    std::vector<std::vector<ops::CachedAttentionSequence>> cross(static_cast<size_t>(layers));
    for (int l = 0; l < layers; ++l) cross[static_cast<size_t>(l)] = cross_views(batch, layout, l, layers, inner);
    // The decoder's relative position bias, per sequence, computed once for all layers.
    std::vector<std::vector<float>> bias(batch.size());
    for (size_t s = 0; s < batch.size(); ++s)
      decoder_bias_.causal(layout.rows[s], layout.start[s] + layout.rows[s], bias[s]);

    Tensor x = shared_(layout.ids_tensor());  // [N, d_model]
    trace(opt, x, "embeddings", -1);
    for (int l = 0; l < layers; ++l) {
      const T5Block& block = decoder_[static_cast<size_t>(l)];
      const T5Attention& sa = block.self_attention;
      const Tensor qkv = ops::linear(block.self_norm(x), sa.qkv, Tensor());
      const Tensor q = qkv.slice(1, 0, inner).contiguous();
      const Tensor k = qkv.slice(1, inner, 2 * inner).contiguous();
      const Tensor v = qkv.slice(1, 2 * inner, 3 * inner).contiguous();
      auto self_views = store_kv(batch, layout, l, k, v);
      for (size_t s = 0; s < batch.size(); ++s) self_views[s].bias = bias[s].data();
      ops::add_(x, sa.o(ops::cached_attention(q, self_views, sa.params)));
      trace(opt, x, "attn_residual", l);

      const T5Attention& ca = block.cross_attention.front();
      ops::CachedAttentionParams cross_params = ca.params;
      cross_params.causal = false;
      const Tensor cq = ca.q(block.cross_norm(x));
      ops::add_(x, ca.o(ops::cached_attention(cq, cross[static_cast<size_t>(l)], cross_params)));
      trace(opt, x, "cross_residual", l);

      ops::add_(x, block.ff(block.ff_norm(x)));
      trace(opt, x, "layer_output", l);
    }
    commit_caches(batch, layout);
    Tensor h = decoder_final_layer_norm_(gather_rows(x, layout.output_rows));
    // Tied head: the Mesh TensorFlow rescale of the decoder output (a float32 multiply by the
    // Python double d_model ** -0.5).
    if (c_.tie_word_embeddings)
      h = ops::scale(h, static_cast<float>(std::pow(static_cast<double>(c_.d_model), -0.5)));
    return lm_head_(h);
  }

 private:
  void check_ids(const Tensor& ids, const char* what) const {
    const Tensor t = ids.contiguous();
    const int64_t* p = t.data<int64_t>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (p[i] < 0 || p[i] >= c_.vocab_size)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("t5: {} holds token id {}, outside the vocabulary [0, {})", what,
                                p[i], c_.vocab_size));
  }

  T5Config c_;
  nn::Embedding shared_;
  RelativeBias encoder_bias_, decoder_bias_;
  std::vector<T5Block> encoder_, decoder_;
  nn::RMSNorm encoder_final_layer_norm_, decoder_final_layer_norm_;
  ops::PackedWeight cross_kv_;  // k|v of every decoder layer's EncDecAttention, layer by layer
  nn::Linear lm_head_;
};

}  // namespace

std::unique_ptr<Seq2SeqBase> make_t5(const ModelConfig& config, const nn::WeightMap& w) {
  return std::make_unique<T5Model>(config, w);
}

}  // namespace mlhub::models
