// Small pieces every encoder file uses: typed config.json readers with the Hugging Face defaults,
// input checks, position ids, the tied-weight rules of transformers' loader, QA logit splitting.
// Private to src/models.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mlhub/models.h"
#include "mlhub/nn.h"

namespace mlhub::models {

// config.json fields. An absent key or a JSON null gives `fallback`; a value of the wrong type
// throws kInvalidArgument naming the key.
int64_t config_int(const nlohmann::json& raw, const char* key, int64_t fallback);
double config_float(const nlohmann::json& raw, const char* key, double fallback);
bool config_bool(const nlohmann::json& raw, const char* key, bool fallback);
std::string config_string(const nlohmann::json& raw, const char* key, std::string fallback);
// Throws kInvalidArgument "<model_type> config: <message>" unless `ok`.
void config_check(bool ok, std::string_view model_type, std::string_view message);

// Non-persistent buffers of a module (e.g. "position_ids"): transformers never reports them as
// unexpected when a checkpoint carries them.
void declare_buffers(const nn::WeightMap& w, std::initializer_list<std::string_view> names);

// A weight transformers ties to the input embeddings (MLM decoders), under `name` in `w`. With
// tie_word_embeddings the embedding matrix is used and a checkpoint without `name` is fine (unless
// the embeddings are missing too, which transformers reports for both names); without it the
// decoder has its own weight.
Tensor tied_output_weight(const nn::WeightMap& w, std::string_view name, const Shape& shape,
                          const nn::WeightMap& embeddings, const Tensor& embedding_weight,
                          bool tie_word_embeddings,
                          std::string_view embedding_key = "word_embeddings.weight");
// Two names of one parameter (BERT's "bias" and "decoder.bias"): read whichever the checkpoint
// has; both are missing only when neither is there.
Tensor tied_pair(const nn::WeightMap& w, std::string_view name, std::string_view alias,
                 const Shape& shape);

// Checks the inputs: input_ids I64 [B, T] with 0 < T <= max_positions (when > 0);
// attention_mask and token_type_ids, when given, I64/F32 [B, T]. Throws kInvalidArgument.
void check_encoder_input(const EncoderInput& in, int64_t max_positions, std::string_view arch);

Tensor arange_position_ids(int64_t batch, int64_t seq);  // I64 [B, T]: 0..T-1 per row
// fairseq's make_positions (transformers' create_position_ids_from_input_ids): tokens that are not
// padding_idx count up from padding_idx + 1, padding tokens get padding_idx.
Tensor padded_position_ids(const Tensor& input_ids, int64_t padding_idx);
// Throws kInvalidArgument when a position id reaches max_positions (the sequence is too long).
void check_max_position(const Tensor& position_ids, int64_t max_positions, std::string_view arch);
// The given token type ids, or zeros shaped like input_ids.
Tensor token_types_or_zeros(const Tensor& token_type_ids, const Tensor& input_ids);

// x[:, 0] of [B, T, H] as a contiguous [B, H].
Tensor first_token(const Tensor& x);
// Question-answering logits [B, T, 2] into start_logits / end_logits [B, T].
void split_qa_logits(const Tensor& logits, EncoderOutput& out);
// num_labels of a QA head: transformers splits qa_outputs into exactly two columns.
int64_t qa_num_labels(const ModelConfig& config);

inline void trace(const ForwardOptions& opt, const Tensor& x, std::string_view name, int layer) {
  if (opt.trace) opt.trace(x, name, layer);
}

}  // namespace mlhub::models
