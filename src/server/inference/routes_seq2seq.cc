// The task API for encoder-decoder models (T5, BART, Marian, mBART): summarization, translation
// and text2text-generation (docs/inference-api.md §3.8-3.10), and text-generation posted to such
// a model (huggingface_hub routes text2text-generation models through its text_generation
// method). The model runs as the matching pipeline behind the model's encoder queue, so requests
// with equal parameters are batched; each input gets what transformers' pipeline gives it.
//
// Parameters: `clean_up_tokenization_spaces`, `truncation` (do_not_truncate / longest_first /
// only_first / only_second), `src_lang` / `tgt_lang` (translation), and generation settings in
// `generate_parameters` (the current spec), directly under `parameters` (the 2022 layout), or
// as the text-generation client sends them. Settings mlhub cannot honour are refused, not
// dropped.
#include <fstream>

#include "server/inference/routes_encoder.h"

namespace mlhub::inference {
namespace enc {
namespace {

// Generation settings taken from either layout, with the pipeline's generate() names.
constexpr const char* kGenerateKeys[] = {
    "temperature", "top_k",          "top_p",      "typical_p",          "max_length",
    "max_new_tokens", "min_length",  "min_new_tokens", "do_sample",      "early_stopping",
    "num_beams",   "repetition_penalty", "no_repeat_ngram_size", "length_penalty", "seed"};
// Spec fields mlhub's generation does not implement.
constexpr const char* kRefusedKeys[] = {"epsilon_cutoff", "eta_cutoff", "num_beam_groups",
                                        "penalty_alpha", "best_of", "top_n_tokens", "grammar",
                                        "stop", "watermark"};
// Harmless fields clients send: use_cache (always on), max_time (our own limits apply),
// return_full_text (the output is never the input), wait_for_model / use_cache options.
constexpr const char* kIgnoredKeys[] = {"use_cache", "max_time", "return_full_text",
                                        "decoder_input_details", "details", "adapter_id",
                                        "frequency_penalty"};
// Bounds that keep one request from holding the model for minutes.
constexpr int64_t kMaxNewTokens = 1024;
constexpr int64_t kMaxBeams = 16;

template <size_t N>
bool one_of(const std::string& key, const char* const (&list)[N]) {
  for (const char* k : list)
    if (key == k) return true;
  return false;
}

void take_generation_key(const std::string& key, const json& value, json& out) {
  if (value.is_null()) return;
  if (one_of(key, kRefusedKeys)) {
    if (value.is_boolean() && !value.get<bool>()) return;
    if (value.is_array() && value.empty()) return;
    invalid("`" + key + "` is not supported for encoder-decoder models");
  }
  if (key == "details" && value.is_boolean() && value.get<bool>())
    invalid("`details` is not supported for encoder-decoder models");
  if (key == "frequency_penalty" && !(value.is_number() && value.get<double>() == 0.0))
    invalid("`frequency_penalty` is not supported for encoder-decoder models");
  if (one_of(key, kIgnoredKeys)) return;
  if (!one_of(key, kGenerateKeys)) invalid("unknown parameter `" + key + "`");
  if ((key == "max_new_tokens" || key == "max_length") &&
      !(value.is_number_integer() && value.get<int64_t>() <= kMaxNewTokens + 1))
    invalid("`" + key + "` must be an integer of at most " + std::to_string(kMaxNewTokens));
  if (key == "num_beams" && !(value.is_number_integer() && value.get<int64_t>() <= kMaxBeams))
    invalid("`num_beams` must be an integer of at most " + std::to_string(kMaxBeams));
  out[key] = value;
}

}  // namespace

json seq2seq_pipeline_params(const json& parameters) {
  json out = json::object();
  for (const auto& [key, value] : parameters.items()) {
    if (key == "generate_parameters") {
      if (value.is_null()) continue;
      if (!value.is_object()) invalid("`generate_parameters` must be an object");
      for (const auto& [k, v] : value.items()) take_generation_key(k, v, out);
    } else if (key == "clean_up_tokenization_spaces") {
      if (value.is_null()) continue;
      if (!value.is_boolean()) invalid("`clean_up_tokenization_spaces` must be a boolean");
      out[key] = value;
    } else if (key == "truncation") {
      if (value.is_null()) continue;
      if (!value.is_string() && !value.is_boolean()) invalid("`truncation` must be a string");
      if (value == "do_not_truncate" || value == false) {
        out[key] = false;
      } else if (value == "longest_first" || value == "only_first" || value == "only_second" ||
                 value == true) {
        out[key] = value;
      } else {
        invalid("`truncation` must be one of do_not_truncate, longest_first, only_first, only_second");
      }
    } else if (key == "src_lang" || key == "tgt_lang") {
      if (value.is_null()) continue;
      if (!value.is_string()) invalid("`" + key + "` must be a string");
      out[key] = value;
    } else {
      take_generation_key(key, value, out);
    }
  }
  return out;
}

namespace {

// Text2TextGenerationPipeline's record name per task.
std::string pipeline_task_for(const std::string& task) {
  if (task == "summarization") return "summarization";
  if (task.rfind("translation", 0) == 0) return task;
  return "text2text-generation";
}

}  // namespace

bool is_seq2seq_model(const ModelInfo& info) {
  if (info.is_gguf) return false;
  std::ifstream in(info.path / "config.json");
  const json config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  return config.is_object() && config.value("is_encoder_decoder", false) == true;
}

}  // namespace enc

Response task_seq2seq(RouteContext& ctx, const std::string& task) {
  using namespace enc;
  const json& body = ctx.body;
  if (body.contains("stream") && body["stream"] == true)
    invalid("streaming is not supported for encoder-decoder models; send stream: false");
  const Inputs in = task_inputs(body.contains("inputs") ? body["inputs"] : json(), InputKind::kText);
  json params = json::object();
  if (const json* p = optional_member(body, "parameters", "object")) params = seq2seq_pipeline_params(*p);
  const std::string pipeline_task = pipeline_task_for(task);
  ctx.call->task = pipeline_task;
  ServedModel& model = acquire_encoder(ctx, pipeline_task);
  std::vector<json> results = run_encoder(ctx, model, in.items, params);
  // One record per input: transformers' pipeline flattens a list input's results the same way.
  json out = json::array();
  for (json& r : results) {
    if (!r.is_array() || r.size() != 1)
      throw InferenceError(ErrorKind::kGeneration, "the pipeline returned an unexpected result");
    out.push_back(std::move(r.at(0)));
  }
  return encoder_reply(ctx, out);
}

}  // namespace mlhub::inference
