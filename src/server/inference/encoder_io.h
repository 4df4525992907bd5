// Private to the encoder routes (routes_task.cc, routes_tei.cc): how their requests are read and
// how their answers are shaped, as pure functions over JSON so they are tested without a model.
// The routes own the I/O (the model, the queue, usage); this file owns the wire formats
// (../shared/docs/inference-api.md §2, §3.1-3.7, §5; docs/inference_encoder_routes.md).
//
// Every function throws InferenceError: kValidation for a malformed request (the message names
// the field and, in a batch, the index), kTooLarge for a batch above kMaxClientBatchSize.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/inference/engine.h"

namespace mlhub::inference::enc {

using nlohmann::json;

// The most inputs one request may carry (TEI's max_client_batch_size; the encoder queue's
// max_batch_requests default, so one request never needs more than one batch).
constexpr size_t kMaxClientBatchSize = 64;

[[noreturn]] void invalid(const std::string& message);
// kTooLarge when `n` > kMaxClientBatchSize, in TEI's words.
void check_batch_size(size_t n);

// A request's inputs: one input or a batch. `batch` says which form the client sent, so the
// answer comes back in the same form (one result, or a list of results).
struct Inputs {
  std::vector<json> items;
  bool batch = false;
};

// The kinds of one input a task accepts.
enum class InputKind : uint8_t {
  kText,        // a non-empty string
  kTextOrPair,  // a string or {"text": ..., "text_pair"?: ...} (text-classification)
  kQuestion,    // {"question": string, "context": string}
  kSimilarity,  // {"source_sentence": string, "sentences": [string, ...]}
  kRanking,     // {"query": string, "texts": [string, ...]}
};

// Splits a task API `inputs` value into one input or a batch (a JSON array of inputs), checking
// each input's kind. Errors: missing/null, wrong type, an empty list, an empty string, a batch
// above kMaxClientBatchSize.
Inputs task_inputs(const json& inputs, InputKind kind);

// TEI's / OpenAI's text inputs: a string, or a list of strings (token ids are refused with a
// message saying to send text). `field` is the name used in messages ("inputs" / "input").
Inputs text_inputs(const json& inputs, std::string_view field);

// TEI /predict's inputs: a string, a pair [a, b], or a batch of [a] / [a, b] lists. Each item
// becomes the text-classification pipeline's input: a string or {"text", "text_pair"}.
Inputs predict_inputs(const json& inputs);

// The object member `key` of `body` when present and not null, else nullptr; kValidation when
// it is present with another type than `expected` ("string", "boolean", "integer", "object",
// "array").
const json* optional_member(const json& body, const char* key, const char* expected);

// The embedding options TEI's /embed, the task API's feature-extraction and /v1/embeddings take.
struct EmbedOptions {
  bool normalize = true;
  std::optional<bool> truncate;
  bool truncate_left = false;        // truncation_direction "left"/"Left"
  std::optional<size_t> dimensions;  // keep the first N values (Matryoshka)
  std::optional<std::string> prompt_name;
  bool base64 = false;  // encoding_format "base64"
};
// Reads the options from `body` (and, for the task API, from its "parameters" object too:
// clients put them at the root, older ones under parameters). `normalize_default` is TEI's
// true, or false for the task API (where the model's own output is the answer).
EmbedOptions embed_options(const json& body, bool normalize_default);

// An embedding after the request's options: the first `dimensions` values (kValidation when the
// model has fewer), then L2-normalised when `normalize` (sentence-transformers' eps 1e-12).
std::vector<float> shape_embedding(std::vector<float> embedding, const EmbedOptions& options);
std::vector<float> floats_of(const json& vector);
// util.cos_sim of two embeddings: both L2-normalised (eps 1e-12), then the dot product (double
// accumulation), as the sentence-similarity pipeline computes it.
float cosine_similarity(std::vector<float> a, std::vector<float> b);
// Little-endian float32 bytes, base64-encoded (standard alphabet, padded): OpenAI's and TEI's
// encoding_format "base64", which the openai client decodes with numpy.frombuffer(..., float32).
std::string base64_floats(const std::vector<float>& values);

// The prompt text a sentence-transformers folder defines under `prompt_name`
// (config_sentence_transformers.json "prompts"), to put in front of each text. Returns "" when
// the name is the model's default prompt (the pipeline applies that one itself). kValidation
// when the folder has no such prompt, or when the model has another default prompt (which the
// pipeline would add too).
std::string prompt_prefix(const json& st_config, const std::string& prompt_name);

// The zero-shot pipeline's {"sequence", "labels", "scores"} as the current task API list
// [{"label", "score"}, ...] (already sorted by score by the pipeline).
json zero_shot_list(const json& pipeline_output);

// TEI /rerank's answer: [{"index", "score", "text"?}] sorted by score, highest first (ties keep
// text order). kUnsupported when a score is not one number (a cross-encoder with several
// labels is not a re-ranker).
json rerank_list(const json& scores, const std::vector<std::string>& texts, bool return_text);

// The task API's name for a pipeline_tag or a /pipeline/{task} segment: aliases folded
// (sentiment-analysis -> text-classification, ner -> token-classification).
std::string canonical_task(std::string_view task);
// Whether a model card describes a model the generation routes serve (text-generation,
// text2text-generation, conversational, or a GGUF file).
bool is_language_model(const ModelInfo& info);
// Whether the model folder is an encoder-decoder model (config.json is_encoder_decoder), which
// the seq2seq routes serve (routes_seq2seq.cc).
bool is_seq2seq_model(const ModelInfo& info);
// The summarization / translation / text2text pipeline parameters of a task API request's
// `parameters` object (routes_seq2seq.cc): generation settings from `generate_parameters`, the
// 2022 flat layout or the text-generation client's fields, under their generate() names, plus
// clean_up_tokenization_spaces, truncation, src_lang, tgt_lang. Throws InferenceError
// (kValidation) for unsupported settings, wrong types and lengths / beams above the bounds.
json seq2seq_pipeline_params(const json& parameters);
// Whether a model card describes a sentence embedding model (feature-extraction or
// sentence-similarity tag, or the sentence-transformers library).
bool is_embedding_model(const ModelInfo& info);

}  // namespace mlhub::inference::enc
