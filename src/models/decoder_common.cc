// Decoder batch layout, KV-cache writes and rotary embeddings (models/decoder_common.h).
#include "models/decoder_common.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "models/common.h"

namespace mlhub::models {

// ---- batch layout -----------------------------------------------------------------------------

BatchLayout BatchLayout::make(std::span<const DecoderSequence> batch, int64_t vocab_size,
                              int64_t max_positions, int num_layers, int64_t kv_width) {
  if (batch.empty()) throw Error(StatusCode::kInvalidArgument, "decoder: an empty batch");
  BatchLayout l;
  for (size_t s = 0; s < batch.size(); ++s) {
    const DecoderSequence& seq = batch[s];
    if (seq.tokens.empty())
      throw Error(StatusCode::kInvalidArgument, fmt::format("decoder: sequence {} has no tokens", s));
    if (seq.cache == nullptr)
      throw Error(StatusCode::kInvalidArgument, fmt::format("decoder: sequence {} has no cache", s));
    if (seq.cache->num_layers() != num_layers || seq.cache->kv_width() != kv_width)
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("decoder: the cache of sequence {} ({} layers x {}) is not this "
                              "model's ({} x {})",
                              s, seq.cache->num_layers(), seq.cache->kv_width(), num_layers,
                              kv_width));
    for (size_t t = 0; t < s; ++t)
      if (batch[t].cache == seq.cache)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("decoder: sequences {} and {} share a cache", t, s));
    const int64_t start = seq.cache->length();
    const int64_t count = static_cast<int64_t>(seq.tokens.size());
    if (max_positions > 0 && start + count > max_positions)
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("decoder: sequence {} would reach {} tokens; the model accepts at "
                              "most {}",
                              s, start + count, max_positions));
    l.row0.push_back(l.n);
    l.rows.push_back(count);
    l.start.push_back(start);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t id = seq.tokens[static_cast<size_t>(i)];
      if (id < 0 || id >= vocab_size)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("decoder: token id {} is outside the vocabulary [0, {})", id,
                                vocab_size));
      l.ids.push_back(id);
      l.positions.push_back(start + i);
      if (seq.all_logits || i == count - 1) l.output_rows.push_back(l.n + i);
    }
    l.n += count;
  }
  // Only once everything is valid: make room in every cache.
  for (size_t s = 0; s < batch.size(); ++s) batch[s].cache->reserve(l.rows[s]);
  return l;
}

Tensor BatchLayout::ids_tensor() const { return Tensor::from_ints(ids, {n}); }

std::vector<ops::CachedAttentionSequence> store_kv(std::span<const DecoderSequence> batch,
                                                   const BatchLayout& layout, int layer,
                                                   const Tensor& k, const Tensor& v) {
  const int64_t width = k.dim(1);
  const float* kp = k.data<float>();
  const float* vp = v.data<float>();
  std::vector<ops::CachedAttentionSequence> out(batch.size());
  for (size_t s = 0; s < batch.size(); ++s) {
    KvCache& cache = *batch[s].cache;
    const size_t bytes = static_cast<size_t>(layout.rows[s] * width) * sizeof(float);
    std::memcpy(cache.keys(layer) + layout.start[s] * width, kp + layout.row0[s] * width, bytes);
    std::memcpy(cache.values(layer) + layout.start[s] * width, vp + layout.row0[s] * width, bytes);
    out[s].q_row0 = layout.row0[s];
    out[s].q_rows = layout.rows[s];
    out[s].k = cache.keys(layer);
    out[s].v = cache.values(layer);
    out[s].kv_len = layout.start[s] + layout.rows[s];
  }
  return out;
}

void commit_caches(std::span<const DecoderSequence> batch, const BatchLayout& layout) {
  for (size_t s = 0; s < batch.size(); ++s) batch[s].cache->commit(batch[s].tokens);
}

Tensor gather_rows(const Tensor& x_in, const std::vector<int64_t>& rows) {
  const Tensor x = x_in.contiguous();
  const int64_t n = x.dim(0), width = x.dim(1);
  bool identity = static_cast<int64_t>(rows.size()) == n;
  for (size_t i = 0; identity && i < rows.size(); ++i) identity = rows[i] == static_cast<int64_t>(i);
  if (identity) return x;
  Tensor out = Tensor::empty(DType::kF32, {static_cast<int64_t>(rows.size()), width});
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(dst + i * width, src + rows[i] * width, static_cast<size_t>(width) * sizeof(float));
  return out;
}

// ---- rotary embeddings ------------------------------------------------------------------------

namespace {

// transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), in float32.
std::vector<float> default_inv_freq(double base, int64_t dim) {
  std::vector<float> f(static_cast<size_t>(dim / 2));
  const float b = static_cast<float>(base);
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(dim);
    f[static_cast<size_t>(i)] = 1.0f / std::pow(b, e);
  }
  return f;
}

double json_number(const nlohmann::json& j, const char* key, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number())
    throw Error(StatusCode::kInvalidArgument, fmt::format("rope_scaling.{} is not a number", key));
  return j[key].get<double>();
}

std::vector<float> factor_list(const nlohmann::json& j, const char* key, size_t n) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != n)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("rope_scaling.{} must be a list of {} numbers", key, n));
  std::vector<float> out;
  for (const auto& v : j[key]) {
    if (!v.is_number())
      throw Error(StatusCode::kInvalidArgument, fmt::format("rope_scaling.{} has a non-number", key));
    out.push_back(v.get<float>());
  }
  return out;
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const nlohmann::json& raw, std::string_view model_type,
                                 int64_t head_dim, int64_t rotary_dim,
                                 int64_t max_position_embeddings)
    : rotary_dim_(rotary_dim) {
  config_check(rotary_dim > 0 && rotary_dim % 2 == 0 && rotary_dim <= head_dim, model_type,
               fmt::format("rotary dim {} does not fit head dim {}", rotary_dim, head_dim));
  base_ = config_float(raw, "rope_theta", 10000.0);
  config_check(base_ > 0, model_type, "rope_theta must be positive");
  inv_freq_ = default_inv_freq(base_, rotary_dim);
  const nlohmann::json scaling =
      raw.contains("rope_scaling") && raw["rope_scaling"].is_object() ? raw["rope_scaling"]
                                                                       : nlohmann::json();
  if (scaling.is_null()) return;
  if (scaling.contains("rope_type") && scaling["rope_type"].is_string())
    type_ = scaling["rope_type"].get<std::string>();
  else if (scaling.contains("type") && scaling["type"].is_string())
    type_ = scaling["type"].get<std::string>();
  const float dimf = static_cast<float>(rotary_dim);
  if (type_ == "default") {
    return;
  } else if (type_ == "linear") {
    const float factor = static_cast<float>(json_number(scaling, "factor", 1.0));
    for (float& f : inv_freq_) f /= factor;
  } else if (type_ == "dynamic") {
    dynamic_factor_ = json_number(scaling, "factor", 1.0);
    original_max_positions_ = max_position_embeddings;
  } else if (type_ == "llama3") {
    const double factor = json_number(scaling, "factor", 8.0);
    const double low = json_number(scaling, "low_freq_factor", 1.0);
    const double high = json_number(scaling, "high_freq_factor", 4.0);
    const double old_len = json_number(scaling, "original_max_position_embeddings", 8192.0);
    const double low_wavelen = old_len / low, high_wavelen = old_len / high;
    for (float& f : inv_freq_) {
      // float32 tensor arithmetic as in _compute_llama3_parameters.
      const float wavelen = static_cast<float>(2.0 * std::numbers::pi) / f;
      const float scaled = wavelen > low_wavelen ? f / static_cast<float>(factor) : f;
      const float smooth = (static_cast<float>(old_len) / wavelen - static_cast<float>(low)) /
                           static_cast<float>(high - low);
      const float smoothed =
          (1.0f - smooth) * scaled / static_cast<float>(factor) + smooth * scaled;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      f = medium ? smoothed : scaled;
    }
  } else if (type_ == "yarn") {
    const double factor = json_number(scaling, "factor", 1.0);
    const double original =
        json_number(scaling, "original_max_position_embeddings",
                    static_cast<double>(max_position_embeddings));
    auto get_mscale = [](double scale, double mscale) {
      return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
    };
    double attention = json_number(scaling, "attention_factor", -1.0);
    if (attention < 0) {
      const double mscale = json_number(scaling, "mscale", 0.0);
      const double mscale_all = json_number(scaling, "mscale_all_dim", 0.0);
      attention = mscale != 0 && mscale_all != 0
                      ? get_mscale(factor, mscale) / get_mscale(factor, mscale_all)
                      : get_mscale(factor, 1.0);
    }
    attention_scaling_ = static_cast<float>(attention);
    double beta_fast = json_number(scaling, "beta_fast", 0.0), beta_slow =
        json_number(scaling, "beta_slow", 0.0);
    if (beta_fast == 0) beta_fast = 32;
    if (beta_slow == 0) beta_slow = 1;
    const bool truncate = !scaling.contains("truncate") || scaling["truncate"] != false;
    auto correction_dim = [&](double rotations) {
      return (rotary_dim * std::log(original / (rotations * 2 * std::numbers::pi))) /
             (2 * std::log(base_));
    };
    double lo = correction_dim(beta_fast), hi = correction_dim(beta_slow);
    if (truncate) {
      lo = std::floor(lo);
      hi = std::ceil(hi);
    }
    lo = std::max(lo, 0.0);
    hi = std::min(hi, static_cast<double>(rotary_dim - 1));
    if (lo == hi) hi += 0.001;
    for (int64_t i = 0; i < rotary_dim / 2; ++i) {
      const float pos_freq =
          std::pow(static_cast<float>(base_), static_cast<float>(2 * i) / dimf);
      const float extrapolation = 1.0f / pos_freq;
      const float interpolation = 1.0f / (static_cast<float>(factor) * pos_freq);
      float ramp = (static_cast<float>(i) - static_cast<float>(lo)) / static_cast<float>(hi - lo);
      ramp = std::clamp(ramp, 0.0f, 1.0f);
      const float extrapolation_factor = 1.0f - ramp;
      inv_freq_[static_cast<size_t>(i)] = interpolation * (1.0f - extrapolation_factor) +
                                          extrapolation * extrapolation_factor;
    }
  } else if (type_ == "longrope") {
    const size_t half = static_cast<size_t>(rotary_dim / 2);
    const std::vector<float> short_f = factor_list(scaling, "short_factor", half);
    const std::vector<float> long_f = factor_list(scaling, "long_factor", half);
    double factor = json_number(scaling, "factor", 1.0);
    const int64_t original = config_int(raw, "original_max_position_embeddings", 0);
    if (original > 0) {
      factor = static_cast<double>(max_position_embeddings) / static_cast<double>(original);
      original_max_positions_ = original;
    } else {
      original_max_positions_ = max_position_embeddings;
    }
    double attention = json_number(scaling, "attention_factor", -1.0);
    if (attention < 0)
      attention = factor <= 1.0 ? 1.0
                                : std::sqrt(1 + std::log(factor) /
                                                    std::log(static_cast<double>(
                                                        original_max_positions_)));
    attention_scaling_ = static_cast<float>(attention);
    long_inv_freq_.resize(half);
    for (size_t i = 0; i < half; ++i) {
      const float shape = static_cast<float>(2 * i) / dimf;
      const float p = std::pow(static_cast<float>(base_), shape);
      inv_freq_[i] = 1.0f / (short_f[i] * p);
      long_inv_freq_[i] = 1.0f / (long_f[i] * p);
    }
  } else {
    throw Error(StatusCode::kUnimplemented,
                fmt::format("{}: rope_scaling type \"{}\" is not supported", model_type, type_));
  }
}

const std::vector<float>& RotaryEmbedding::inv_freq_for(int64_t max_position,
                                                        std::vector<float>& scratch) const {
  const int64_t seq_len = max_position + 1;
  if (type_ == "longrope" && seq_len > original_max_positions_) return long_inv_freq_;
  if (type_ == "dynamic" && seq_len > original_max_positions_) {
    const double ratio = dynamic_factor_ * static_cast<double>(seq_len) /
                             static_cast<double>(original_max_positions_) -
                         (dynamic_factor_ - 1);
    const double dim = static_cast<double>(rotary_dim_);
    scratch = default_inv_freq(base_ * std::pow(ratio, dim / (dim - 2)), rotary_dim_);
    return scratch;
  }
  return inv_freq_;
}

void RotaryEmbedding::apply(Tensor& x, int heads, const BatchLayout& layout) const {
  const bool per_sequence = type_ == "longrope" || type_ == "dynamic";
  if (!per_sequence) {
    ops::rotary_(x, heads, layout.positions, inv_freq_, attention_scaling_);
    return;
  }
  // Frequencies chosen per sequence by the length it reaches (transformers decides per forward
  // call from the largest position id).
  std::vector<float> scratch;
  for (size_t s = 0; s < layout.rows.size(); ++s) {
    Tensor rows = x.slice(0, layout.row0[s], layout.row0[s] + layout.rows[s]);
    const std::span<const int64_t> pos(layout.positions.data() + layout.row0[s],
                                       static_cast<size_t>(layout.rows[s]));
    ops::rotary_(rows, heads, pos, inv_freq_for(pos.back(), scratch), attention_scaling_);
  }
}

}  // namespace mlhub::models
