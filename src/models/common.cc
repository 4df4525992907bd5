// Shared helpers of the encoder files (see common.h).
#include "models/common.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace mlhub::models {

namespace {

[[noreturn]] void bad_field(const char* key, std::string_view want, const nlohmann::json& v) {
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("config.json: \"{}\" must be {}, got {}", key, want, v.dump()));
}

const nlohmann::json* field(const nlohmann::json& raw, const char* key) {
  if (!raw.is_object()) return nullptr;
  const auto it = raw.find(key);
  if (it == raw.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string regex_escape(std::string_view s) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(std::string(s), kSpecial, R"(\$&)");
}

}  // namespace

int64_t config_int(const nlohmann::json& raw, const char* key, int64_t fallback) {
  const nlohmann::json* v = field(raw, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<int64_t>();
  // Some configs write integers as 12.0.
  if (v->is_number_float() && v->get<double>() == static_cast<double>(v->get<int64_t>()))
    return v->get<int64_t>();
  bad_field(key, "an integer", *v);
}

double config_float(const nlohmann::json& raw, const char* key, double fallback) {
  const nlohmann::json* v = field(raw, key);
  if (!v) return fallback;
  if (!v->is_number()) bad_field(key, "a number", *v);
  return v->get<double>();
}

bool config_bool(const nlohmann::json& raw, const char* key, bool fallback) {
  const nlohmann::json* v = field(raw, key);
  if (!v) return fallback;
  if (!v->is_boolean()) bad_field(key, "true or false", *v);
  return v->get<bool>();
}

std::string config_string(const nlohmann::json& raw, const char* key, std::string fallback) {
  const nlohmann::json* v = field(raw, key);
  if (!v) return fallback;
  if (!v->is_string()) bad_field(key, "a string", *v);
  return v->get<std::string>();
}

void config_check(bool ok, std::string_view model_type, std::string_view message) {
  if (!ok)
    throw Error(StatusCode::kInvalidArgument, fmt::format("{} config: {}", model_type, message));
}

void declare_buffers(const nn::WeightMap& w, std::initializer_list<std::string_view> names) {
  std::vector<std::string> patterns;
  for (std::string_view n : names) {
    std::string p(1, '^');
    p.append(regex_escape(w.full_name(n)));
    p.push_back('$');
    patterns.push_back(std::move(p));
  }
  w.ignore_unexpected(std::move(patterns));
}

Tensor tied_output_weight(const nn::WeightMap& w, std::string_view name, const Shape& shape,
                          const nn::WeightMap& embeddings, const Tensor& embedding_weight,
                          bool tie_word_embeddings, std::string_view embedding_key) {
  if (!tie_word_embeddings) return w.get(name, shape);
  // transformers drops a tied key from missing_keys only when another member of its group was
  // loaded.
  if (!embeddings.has(embedding_key) && !w.has(name)) {
    w.get(name, shape);
    return embedding_weight;
  }
  w.mark_tied(name);
  if (!embeddings.has(embedding_key)) return w.get(name, shape);
  return embedding_weight;
}

Tensor tied_pair(const nn::WeightMap& w, std::string_view name, std::string_view alias,
                 const Shape& shape) {
  if (w.has(name)) {
    w.mark_tied(alias);
    return w.get(name, shape);
  }
  if (w.has(alias)) {
    w.mark_tied(name);
    return w.get(alias, shape);
  }
  w.get(alias, shape);  // recorded missing, as transformers lists both
  return w.get(name, shape);
}

void check_encoder_input(const EncoderInput& in, int64_t max_positions, std::string_view arch) {
  const Tensor& ids = in.input_ids;
  if (!ids.defined() || ids.ndim() != 2 || ids.dtype() != DType::kI64)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: input_ids must be an I64 [batch, seq] tensor", arch));
  const int64_t seq = ids.dim(1);
  if (seq == 0 || ids.dim(0) == 0)
    throw Error(StatusCode::kInvalidArgument, fmt::format("{}: empty input_ids", arch));
  if (max_positions > 0 && seq > max_positions)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: a sequence of {} tokens is longer than the model's {} positions",
                            arch, seq, max_positions));
  for (const auto& [t, name] : {std::pair{&in.attention_mask, "attention_mask"},
                                std::pair{&in.token_type_ids, "token_type_ids"}}) {
    if (t->defined() && t->shape() != ids.shape())
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("{}: {} {} does not match input_ids {}", arch, name,
                              shape_string(t->shape()), shape_string(ids.shape())));
  }
  if (in.token_type_ids.defined() && in.token_type_ids.dtype() != DType::kI64)
    throw Error(StatusCode::kInvalidArgument, fmt::format("{}: token_type_ids must be I64", arch));
}

Tensor arange_position_ids(int64_t batch, int64_t seq) {
  std::vector<int64_t> p(static_cast<size_t>(batch * seq));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq; ++t) p[b * seq + t] = t;
  return Tensor::from_ints(p, {batch, seq});
}

Tensor padded_position_ids(const Tensor& input_ids, int64_t padding_idx) {
  const Tensor ids = input_ids.contiguous();
  const int64_t batch = ids.dim(0), seq = ids.dim(1);
  const int64_t* in = ids.data<int64_t>();
  std::vector<int64_t> p(static_cast<size_t>(batch * seq));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t count = 0;
    for (int64_t t = 0; t < seq; ++t) {
      const bool real = in[b * seq + t] != padding_idx;
      count += real ? 1 : 0;
      p[b * seq + t] = (real ? count : 0) + padding_idx;
    }
  }
  return Tensor::from_ints(p, {batch, seq});
}

void check_max_position(const Tensor& position_ids, int64_t max_positions, std::string_view arch) {
  const Tensor p = position_ids.contiguous();
  const int64_t* v = p.data<int64_t>();
  const int64_t top = p.numel() ? *std::max_element(v, v + p.numel()) : 0;
  if (top >= max_positions)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: the sequence is too long: position id {} is past the model's {} "
                            "position embeddings",
                            arch, top, max_positions));
}

Tensor token_types_or_zeros(const Tensor& token_type_ids, const Tensor& input_ids) {
  return token_type_ids.defined() ? token_type_ids : Tensor::zeros(DType::kI64, input_ids.shape());
}

Tensor first_token(const Tensor& x) { return x.select(1, 0).contiguous(); }

void split_qa_logits(const Tensor& logits, EncoderOutput& out) {
  out.start_logits = logits.select(2, 0).contiguous();
  out.end_logits = logits.select(2, 1).contiguous();
}

int64_t qa_num_labels(const ModelConfig& config) {
  config_check(config.num_labels == 2, config.model_type,
               fmt::format("a question-answering head needs num_labels 2 (start and end), got {}",
                           config.num_labels));
  return 2;
}

}  // namespace mlhub::models
