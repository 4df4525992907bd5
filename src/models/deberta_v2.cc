// DeBERTa-v2 and DeBERTa-v3 (model_type "deberta-v2"): DebertaV2Model,
// DebertaV2ForSequenceClassification, DebertaV2ForTokenClassification,
// DebertaV2ForQuestionAnswering, DebertaV2ForMaskedLM (legacy "cls.predictions" head and the
// newer "lm_predictions.lm_head"). Disentangled attention: content-to-position (c2p) and
// position-to-content (p2c) scores from shared relative embeddings (encoder.rel_embeddings,
// optionally LayerNorm'ed), log-bucketed relative positions, the optional ConvLayer after the
// first layer, and the query x key outer-product padding mask.
// transformers/models/deberta_v2/modeling_deberta_v2.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/deberta_v2/modeling_deberta_v2.py
// He et al. 2020, "DeBERTa: Decoding-enhanced BERT with Disentangled Attention",
// https://arxiv.org/abs/2006.03654; He et al. 2021, "DeBERTaV3", https://arxiv.org/abs/2111.09543
#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "models/common.h"
#include "models/deberta_v2.h"
#include "models/registry.h"
#include "models/relative_positions.h"

namespace mlhub::models {

int64_t deberta_log_bucket_position(int64_t relative_pos, int64_t bucket_size,
                                    int64_t max_position) {
  // make_log_bucket_position in transformers' dtypes: the quotients and logs are float32 (the
  // default dtype), the python constant (max_position - 1) / mid is rounded to float32 first.
  const int64_t mid = bucket_size / 2;
  const int64_t abs_pos = (relative_pos < mid && relative_pos > -mid) ? mid - 1
                                                                       : std::abs(relative_pos);
  if (abs_pos <= mid) return relative_pos;
  const float span = static_cast<float>(static_cast<double>(max_position - 1) / mid);
  const float ratio = static_cast<float>(abs_pos) / static_cast<float>(mid);
  const float log_pos =
      std::ceil(std::log(ratio) / std::log(span) * static_cast<float>(mid - 1)) +
      static_cast<float>(mid);
  const int64_t sign = relative_pos > 0 ? 1 : (relative_pos < 0 ? -1 : 0);
  return static_cast<int64_t>(log_pos) * sign;
}

DebertaV2Config::DebertaV2Config(const ModelConfig& config) {
  const nlohmann::json& j = config.raw;
  constexpr std::string_view kType = "deberta-v2";
  vocab_size = config_int(j, "vocab_size", vocab_size);
  hidden_size = config_int(j, "hidden_size", hidden_size);
  num_hidden_layers = config_int(j, "num_hidden_layers", num_hidden_layers);
  num_attention_heads = config_int(j, "num_attention_heads", num_attention_heads);
  intermediate_size = config_int(j, "intermediate_size", intermediate_size);
  hidden_act = ops::activation_from_name(config_string(j, "hidden_act", "gelu"));
  max_position_embeddings = config_int(j, "max_position_embeddings", max_position_embeddings);
  type_vocab_size = config_int(j, "type_vocab_size", type_vocab_size);
  layer_norm_eps = static_cast<float>(config_float(j, "layer_norm_eps", layer_norm_eps));
  relative_attention = config_bool(j, "relative_attention", relative_attention);
  max_relative_positions = config_int(j, "max_relative_positions", max_relative_positions);
  if (max_relative_positions < 1) max_relative_positions = max_position_embeddings;
  position_buckets = config_int(j, "position_buckets", position_buckets);
  position_biased_input = config_bool(j, "position_biased_input", position_biased_input);
  share_att_key = config_bool(j, "share_att_key", share_att_key);
  embedding_size = config_int(j, "embedding_size", hidden_size);
  attention_head_size = config_int(j, "attention_head_size",
                                   num_attention_heads > 0 ? hidden_size / num_attention_heads : 0);
  pooler_hidden_size = config_int(j, "pooler_hidden_size", hidden_size);
  pooler_hidden_act = ops::activation_from_name(config_string(j, "pooler_hidden_act", "gelu"));
  legacy = config_bool(j, "legacy", legacy);
  tie_word_embeddings = config_bool(j, "tie_word_embeddings", tie_word_embeddings);
  conv_kernel_size = config_int(j, "conv_kernel_size", 0);
  conv_groups = config_int(j, "conv_groups", 1);
  conv_act = ops::activation_from_name(config_string(j, "conv_act", "tanh"));
  // pos_att_type: a list, or the legacy "p2c|c2p" string.
  if (j.contains("pos_att_type") && !j["pos_att_type"].is_null()) {
    std::vector<std::string> types;
    if (j["pos_att_type"].is_string()) {
      std::string s = j["pos_att_type"].get<std::string>();
      std::transform(s.begin(), s.end(), s.begin(), ::tolower);
      size_t start = 0;
      while (start <= s.size()) {
        const size_t bar = std::min(s.find('|', start), s.size());
        std::string part = s.substr(start, bar - start);
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        types.push_back(part);
        start = bar + 1;
      }
    } else if (j["pos_att_type"].is_array()) {
      for (const auto& t : j["pos_att_type"]) {
        config_check(t.is_string(), kType, "pos_att_type holds a non-string");
        types.push_back(t.get<std::string>());
      }
    } else {
      config_check(false, kType, "pos_att_type must be a list or a string");
    }
    c2p = std::count(types.begin(), types.end(), "c2p") > 0;
    p2c = std::count(types.begin(), types.end(), "p2c") > 0;
  }
  // norm_rel_ebd: "|"-separated, "layer_norm" applies encoder.LayerNorm to rel_embeddings.
  std::string norm = config_string(j, "norm_rel_ebd", "none");
  std::transform(norm.begin(), norm.end(), norm.begin(), ::tolower);
  norm_rel_ebd_layer_norm = norm.find("layer_norm") != std::string::npos;

  config_check(vocab_size > 0 && hidden_size > 0 && num_hidden_layers >= 0 &&
                   intermediate_size > 0 && max_position_embeddings > 0 && type_vocab_size >= 0 &&
                   embedding_size > 0,
               kType, "sizes must be positive");
  config_check(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, kType,
               fmt::format("hidden_size {} is not a multiple of num_attention_heads {}",
                           hidden_size, num_attention_heads));
  // DebertaV2SelfOutput.dense is hidden_size x hidden_size: the heads must fill hidden_size.
  config_check(attention_head_size * num_attention_heads == hidden_size, kType,
               "attention_head_size x num_attention_heads must equal hidden_size");
  config_check(pooler_hidden_size == hidden_size, kType,
               "pooler_hidden_size different from hidden_size is not supported");
  config_check(conv_kernel_size >= 0 && conv_groups > 0 && hidden_size % conv_groups == 0, kType,
               "conv_groups must divide hidden_size");
  if (relative_attention)
    config_check(pos_ebd_size() > 0, kType, "position_buckets / max_relative_positions");
}

// ---- DisentangledSelfAttention -----------------------------------------------------------------

DebertaV2Attention::DebertaV2Attention(const nn::WeightMap& w, const DebertaV2Config& c)
    : query_proj(w.sub("self").sub("query_proj"), c.hidden_size, c.all_head_size()),
      key_proj(w.sub("self").sub("key_proj"), c.hidden_size, c.all_head_size()),
      value_proj(w.sub("self").sub("value_proj"), c.hidden_size, c.all_head_size()),
      output_dense(w.sub("output").sub("dense"), c.hidden_size, c.hidden_size),
      output_layer_norm(w.sub("output").sub("LayerNorm"), c.hidden_size, c.layer_norm_eps),
      c_(c) {
  if (c.relative_attention && !c.share_att_key) {
    if (c.c2p) pos_key_proj = nn::Linear(w.sub("self").sub("pos_key_proj"), c.hidden_size,
                                         c.all_head_size());
    if (c.p2c) pos_query_proj = nn::Linear(w.sub("self").sub("pos_query_proj"), c.hidden_size,
                                           c.all_head_size());
  }
}

namespace {

// [T, H*D] or [B, T, H*D] rows of one batch item as [H, T, D] (a view; matmul copies it).
Tensor heads_first(const Tensor& x, int64_t heads) {
  return x.reshape({x.dim(-2), heads, x.dim(-1) / heads}).transpose(0, 1);
}

}  // namespace

Tensor DebertaV2Attention::attention_bias(const Tensor& q, const Tensor& k,
                                          const DebertaV2Relative& rel, const Tensor& mask) const {
  const int64_t batch = q.dim(0), seq = q.dim(1), heads = c_.num_attention_heads;
  const int64_t span = c_.pos_ebd_size(), width = 2 * span;
  const float scale = std::sqrt(static_cast<float>(c_.attention_head_size) *
                                static_cast<float>(c_.scale_factor()));
  Tensor bias = Tensor::zeros(DType::kF32, {batch, heads, seq, seq});
  float* out = bias.data<float>();
  if (c_.relative_attention) {
    // Position projections of the shared relative embeddings [2 * span, H*D].
    Tensor pos_key, pos_query;
    if (c_.c2p)
      pos_key = c_.share_att_key ? key_proj(rel.embeddings) : pos_key_proj(rel.embeddings);
    if (c_.p2c)
      pos_query = c_.share_att_key ? query_proj(rel.embeddings) : pos_query_proj(rel.embeddings);
    const int64_t* rp = rel.positions.data<int64_t>();  // [T, T]: bucketed i - j
    for (int64_t b = 0; b < batch; ++b) {
      float* ob = out + b * heads * seq * seq;
      if (c_.c2p) {
        // c2p[h, i, r] = q_i . pos_key_r; score[i, j] += c2p[h, i, clamp(rel[i, j] + span)].
        const Tensor c2p = ops::matmul(heads_first(q.select(0, b), heads),
                                       heads_first(pos_key, heads), /*transpose_b=*/true);
        const float* cp = c2p.data<float>();
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t i = 0; i < seq; ++i)
            for (int64_t j = 0; j < seq; ++j) {
              const int64_t r = std::clamp<int64_t>(rp[i * seq + j] + span, 0, width - 1);
              ob[(h * seq + i) * seq + j] += cp[(h * seq + i) * width + r] / scale;
            }
      }
      if (c_.p2c) {
        // p2c[h, j, r] = k_j . pos_query_r; score[i, j] += p2c[h, j, clamp(-rel[j, i] + span)].
        const Tensor p2c = ops::matmul(heads_first(k.select(0, b), heads),
                                       heads_first(pos_query, heads), /*transpose_b=*/true);
        const float* pp = p2c.data<float>();
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t i = 0; i < seq; ++i)
            for (int64_t j = 0; j < seq; ++j) {
              const int64_t r = std::clamp<int64_t>(-rp[j * seq + i] + span, 0, width - 1);
              ob[(h * seq + i) * seq + j] += pp[(h * seq + j) * width + r] / scale;
            }
      }
    }
  }
  // The outer-product mask (query i and key j both real), filled with finfo.min as
  // masked_fill does: a padded query row then averages every value, as in transformers.
  if (mask.defined()) {
    const Tensor m = mask.to(DType::kF32).contiguous();
    const float* mp = m.data<float>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < seq; ++i)
          for (int64_t j = 0; j < seq; ++j)
            if (mp[b * seq + i] == 0 || mp[b * seq + j] == 0)
              out[((b * heads + h) * seq + i) * seq + j] = -FLT_MAX;
  }
  return bias;
}

Tensor DebertaV2Attention::forward(const Tensor& x, const Tensor& mask,
                                   const DebertaV2Relative& rel) const {
  const Tensor q = query_proj(x), k = key_proj(x), v = value_proj(x);
  const float scale = std::sqrt(static_cast<float>(c_.attention_head_size) *
                                static_cast<float>(c_.scale_factor()));
  const Tensor bias = attention_bias(q, k, rel, mask);
  const Tensor context = ops::attention(q, k, v, static_cast<int>(c_.num_attention_heads),
                                        Tensor(), bias, 1.0f / scale);
  return output_layer_norm(output_dense(context), x);
}

// ---- ConvLayer ---------------------------------------------------------------------------------

DebertaV2Conv::DebertaV2Conv(const nn::WeightMap& w, const DebertaV2Config& c)
    : weight(w.get("conv.weight", {c.hidden_size, c.hidden_size / c.conv_groups,
                                   c.conv_kernel_size})),
      bias(w.get("conv.bias", {c.hidden_size})),
      layer_norm(w.sub("LayerNorm"), c.hidden_size, c.layer_norm_eps),
      kernel(c.conv_kernel_size),
      groups(c.conv_groups),
      act(c.conv_act) {}

Tensor DebertaV2Conv::forward(const Tensor& hidden_states, const Tensor& residual,
                              const Tensor& mask) const {
  // Conv1d over the sequence with padding (k - 1) / 2, as an im2col matrix times the weight per
  // group: columns[b, t, c * k + j] = x[b, t + j - pad, c].
  const Tensor x = hidden_states.contiguous();
  const int64_t batch = x.dim(0), seq = x.dim(1), hidden = x.dim(2);
  const int64_t per_group = hidden / groups, pad = (kernel - 1) / 2;
  const float* xp = x.data<float>();
  std::vector<Tensor> outputs;
  for (int64_t g = 0; g < groups; ++g) {
    Tensor columns = Tensor::zeros(DType::kF32, {batch, seq, per_group * kernel});
    float* cp = columns.data<float>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < seq; ++t)
        for (int64_t c = 0; c < per_group; ++c)
          for (int64_t j = 0; j < kernel; ++j) {
            const int64_t src = t + j - pad;
            if (src < 0 || src >= seq) continue;
            cp[(b * seq + t) * per_group * kernel + c * kernel + j] =
                xp[(b * seq + src) * hidden + g * per_group + c];
          }
    const Tensor w = weight.slice(0, g * per_group, (g + 1) * per_group)
                         .contiguous()
                         .reshape({per_group, per_group * kernel});
    outputs.push_back(ops::linear(columns, w, bias.slice(0, g * per_group, (g + 1) * per_group)));
  }
  Tensor out = groups == 1 ? outputs[0] : ops::concat(outputs, 2);
  // masked_fill of padded rows, the activation, LayerNorm(residual + out), padded rows zeroed.
  if (mask.defined()) out = mask_rows(out, mask);
  out = layer_norm(ops::activation(out, act), residual);
  return mask.defined() ? mask_rows(out, mask) : out;
}

Tensor mask_rows(const Tensor& x, const Tensor& mask) {
  Tensor out = x.clone();
  const Tensor m = mask.to(DType::kF32).contiguous();
  const int64_t rows = m.numel(), width = out.dim(-1);
  float* op = out.data<float>();
  const float* mp = m.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < width; ++i) op[r * width + i] *= mp[r];
  return out;
}

}  // namespace mlhub::models
