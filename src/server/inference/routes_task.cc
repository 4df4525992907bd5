// The Hugging Face task API for the encoder tasks: POST /models/{id} (and /hf-inference/models/
// {id}, /models/{id}/pipeline/{task}, /pipeline/{task}/{id}) with {"inputs", "parameters"}.
//
// The task is the one forced by the URL, else the model card's pipeline_tag. `inputs` is one
// input or a list of inputs (a batch); the answer is one result or a list of results, in the
// shapes the clients parse (docs/inference-api.md §3): text-classification is always nested
// [[{label, score}, ...]] with every label sorted by score (the HF API answered top_k=None for a
// single input: huggingface_hub's live test expects both labels of a two-label model), and the
// others follow transformers' pipeline per input. Language models go to task_text_generation.
#include <fstream>

#include "server/inference/routes_encoder.h"

namespace mlhub::inference {
namespace enc {
namespace {

void add_characters(const json& v, int64_t& n) {
  if (v.is_string()) {
    n += count_characters(v.get_ref<const std::string&>());
  } else if (v.is_array() || v.is_object()) {
    for (const json& x : v) add_characters(x, n);
  }
}

}  // namespace

ServedModel& acquire_encoder(RouteContext& ctx, const std::string& task) {
  ServedModel& model = ctx.call->acquire(task);
  if (!model.encoder()) {
    throw InferenceError(ErrorKind::kUnsupported,
                         "Task '" + task + "' is not supported by model " + ctx.call->info.repo_id);
  }
  return model;
}

std::vector<json> run_encoder(RouteContext& ctx, ServedModel& model, std::vector<json> inputs,
                              const json& params) {
  int64_t characters = 0;
  for (const json& input : inputs) add_characters(input, characters);
  const size_t n = inputs.size();
  RunStats stats;
  std::vector<json> results =
      model.encoder()->run(std::move(inputs), params, ctx.call->gone, &stats);
  if (results.size() != n) {
    throw InferenceError(ErrorKind::kGeneration,
                         "the model returned " + std::to_string(results.size()) + " results for " +
                             std::to_string(n) + " inputs");
  }
  ctx.call->usage.input_characters += characters;
  if (stats.input_tokens > 0) ctx.call->usage.input_tokens += stats.input_tokens;
  ctx.call->queue_ms += stats.queue_ms;
  ctx.call->inference_ms += stats.compute_ms;
  return results;
}

json sentence_transformers_config(const ModelInfo& info) {
  if (info.is_gguf) return nullptr;
  std::ifstream in(info.path / "config_sentence_transformers.json");
  if (!in) return nullptr;
  json cfg = json::parse(in, nullptr, false);
  return cfg.is_discarded() ? json(nullptr) : cfg;
}

std::vector<std::vector<float>> embed_texts(RouteContext& ctx, const std::vector<json>& texts,
                                            const EmbedOptions& options) {
  // One loaded model serves feature-extraction, /embed, /similarity and /v1/embeddings: the
  // manager keys sentence-transformers' feature-extraction as "sentence-embeddings" too.
  ServedModel& model = acquire_encoder(ctx, "sentence-embeddings");
  std::string prefix;
  if (options.prompt_name)
    prefix = prompt_prefix(sentence_transformers_config(ctx.call->info), *options.prompt_name);
  std::vector<json> inputs;
  inputs.reserve(texts.size());
  for (const json& t : texts) inputs.emplace_back(prefix + t.get<std::string>());
  // Metering counts what the client sent, not the prompt in front of it.
  const int64_t prompt_characters = count_characters(prefix) * static_cast<int64_t>(texts.size());
  std::vector<json> results = run_encoder(ctx, model, std::move(inputs), json::object());
  ctx.call->usage.input_characters -= prompt_characters;
  std::vector<std::vector<float>> out;
  out.reserve(results.size());
  for (const json& r : results) out.push_back(shape_embedding(floats_of(r), options));
  return out;
}

std::vector<json> similarity_scores(RouteContext& ctx, const std::vector<json>& items,
                                    EmbedOptions options) {
  options.normalize = false;  // the cosine normalises anyway
  std::vector<json> texts;
  for (const json& item : items) {
    texts.push_back(item["source_sentence"]);
    for (const json& s : item["sentences"]) texts.push_back(s);
  }
  check_batch_size(texts.size());
  const std::vector<std::vector<float>> vectors = embed_texts(ctx, texts, options);
  ctx.call->task = "sentence-similarity";
  std::vector<json> results;
  size_t at = 0;
  for (const json& item : items) {
    const size_t source = at++;
    json scores = json::array();
    for (size_t j = 0; j < item["sentences"].size(); ++j) {
      scores.push_back(cosine_similarity(vectors[source], vectors[at++]));
    }
    results.push_back(std::move(scores));
  }
  return results;
}

Response encoder_reply(RouteContext& ctx, const json& body) {
  Response res = json_reply(200, body);
  add_timing_headers(res, *ctx.call);
  res.set("x-compute-tokens", std::to_string(ctx.call->usage.input_tokens));
  return res;
}

namespace {

json parameters_of(const json& body) {
  if (const json* p = optional_member(body, "parameters", "object")) return *p;
  return json::object();
}

// One result, or the list of results, as the client sent one input or a list.
json one_or_list(const Inputs& in, std::vector<json> results) {
  if (in.batch) return json(std::move(results));
  return std::move(results.front());
}

json text_classification(RouteContext& ctx, const json& inputs, json params) {
  const Inputs in = task_inputs(inputs, InputKind::kTextOrPair);
  // top_k=None: every label, sorted; the pipeline then answers a list for strings and pairs.
  if (!params.contains("top_k")) params["top_k"] = nullptr;
  ServedModel& model = acquire_encoder(ctx, "text-classification");
  json out = json::array();
  for (json& r : run_encoder(ctx, model, in.items, params)) {
    out.push_back(r.is_array() ? std::move(r) : json::array({std::move(r)}));
  }
  return out;  // nested even for one input: the JS client requires response[0] to be a list
}

json token_classification(RouteContext& ctx, const json& inputs, json params) {
  const Inputs in = task_inputs(inputs, InputKind::kText);
  if (!params.contains("aggregation_strategy") || params["aggregation_strategy"].is_null()) {
    params["aggregation_strategy"] = "simple";  // the HF API's default (transformers': none)
  }
  ServedModel& model = acquire_encoder(ctx, "token-classification");
  return one_or_list(in, run_encoder(ctx, model, in.items, params));
}

json plain_task(RouteContext& ctx, const std::string& task, InputKind kind, const json& inputs,
                const json& params) {
  const Inputs in = task_inputs(inputs, kind);
  ServedModel& model = acquire_encoder(ctx, task);
  return one_or_list(in, run_encoder(ctx, model, in.items, params));
}

json zero_shot_classification(RouteContext& ctx, const json& inputs, const json& params) {
  const Inputs in = task_inputs(inputs, InputKind::kText);
  if (!params.contains("candidate_labels") || params["candidate_labels"].is_null()) {
    invalid("`parameters.candidate_labels` is required: the labels to choose from");
  }
  ServedModel& model = acquire_encoder(ctx, "zero-shot-classification");
  std::vector<json> results = run_encoder(ctx, model, in.items, params);
  for (json& r : results) r = zero_shot_list(r);
  return one_or_list(in, std::move(results));
}

json feature_extraction(RouteContext& ctx, const json& body, const json& inputs) {
  const Inputs in = task_inputs(inputs, InputKind::kText);
  const EmbedOptions options = embed_options(body, /*normalize_default=*/false);
  if (options.base64) {
    invalid(
        "`encoding_format` \"base64\" is answered by /v1/embeddings; the task API returns floats");
  }
  ServedModel& model = acquire_encoder(ctx, "feature-extraction");
  if (model.encoder()->pipeline().task() == "sentence-embeddings") {
    // Pooled vectors: 1-D for one string, 2-D for a list (the HF API's sentence-transformers
    // answer).
    json out = json::array();
    for (auto& v : embed_texts(ctx, in.items, options)) out.push_back(std::move(v));
    return in.batch ? out : out.front();
  }
  if (options.normalize || options.dimensions || options.prompt_name) {
    invalid("`normalize`, `dimensions` and `prompt_name` apply to sentence embedding models; " +
            ctx.call->info.repo_id + " returns one vector per token");
  }
  json params = json::object();
  if (options.truncate.value_or(false)) params["truncation"] = true;
  std::vector<json> results = run_encoder(ctx, model, in.items, params);
  // Token vectors: transformers' [1][T][H] for one string; [N][T][H] for N strings (TEI's
  // embed_all shape; the JS client accepts at most three levels of nesting).
  if (!in.batch) return std::move(results.front());
  json out = json::array();
  for (json& r : results) out.push_back(std::move(r.at(0)));
  return out;
}

json sentence_similarity(RouteContext& ctx, const json& body, const json& inputs) {
  const Inputs in = task_inputs(inputs, InputKind::kSimilarity);
  return one_or_list(
      in, similarity_scores(ctx, in.items, embed_options(body, /*normalize_default=*/false)));
}

// {"query", "texts"} -> TEI's rerank list (there is no HF task spec for text-ranking).
json text_ranking(RouteContext& ctx, const json& inputs, const json& params) {
  const Inputs in = task_inputs(inputs, InputKind::kRanking);
  bool return_text = false;
  json run_params = json::object();
  if (const json* v = optional_member(params, "return_text", "boolean"))
    return_text = v->get<bool>();
  if (const json* v = optional_member(params, "raw_scores", "boolean"))
    run_params["raw_scores"] = *v;
  ServedModel& model = acquire_encoder(ctx, "text-ranking");
  std::vector<json> results = run_encoder(ctx, model, in.items, run_params);
  for (size_t i = 0; i < results.size(); ++i) {
    results[i] = rerank_list(results[i].at("scores"),
                             in.items[i]["texts"].get<std::vector<std::string>>(), return_text);
  }
  return one_or_list(in, std::move(results));
}

const char* const kEncoderTasks =
    "text-classification, token-classification, question-answering, fill-mask, feature-extraction, "
    "sentence-similarity, zero-shot-classification, text-ranking, text-generation, summarization, "
    "translation, text2text-generation";

}  // namespace
}  // namespace enc

Response task_api(RouteContext& ctx) {
  using namespace enc;
  const ModelInfo& info = ctx.call->info;
  const std::string task =
      canonical_task(ctx.forced_task.empty() ? info.pipeline_tag : ctx.forced_task);
  const bool seq2seq_task = task == "summarization" || task == "text2text-generation" ||
                            task.rfind("translation", 0) == 0;
  if ((seq2seq_task || task == "text-generation" || task.empty()) && is_seq2seq_model(info)) {
    return task_seq2seq(ctx, task);
  }
  if (task == "text-generation" || task == "text2text-generation" || task == "conversational" ||
      (ctx.forced_task.empty() && is_language_model(info))) {
    return task_text_generation(ctx);
  }
  if (task.empty()) {
    throw InferenceError(ErrorKind::kUnsupported,
                         "Model " + info.repo_id +
                             " names no task (pipeline_tag) in its model card; "
                             "call /models/" +
                             info.repo_id + "/pipeline/{task} with one of: " + kEncoderTasks);
  }
  const json& body = ctx.body;
  const json inputs = body.contains("inputs") ? body["inputs"] : json();
  const json params = parameters_of(body);
  json answer;
  if (task == "text-classification") {
    answer = text_classification(ctx, inputs, params);
  } else if (task == "token-classification") {
    answer = token_classification(ctx, inputs, params);
  } else if (task == "question-answering") {
    answer = plain_task(ctx, task, InputKind::kQuestion, inputs, params);
  } else if (task == "fill-mask") {
    answer = plain_task(ctx, task, InputKind::kText, inputs, params);
  } else if (task == "zero-shot-classification") {
    answer = zero_shot_classification(ctx, inputs, params);
  } else if (task == "feature-extraction") {
    answer = feature_extraction(ctx, body, inputs);
  } else if (task == "sentence-similarity") {
    // A similarity model posted a text or a list of texts embeds them: the Python client posts
    // feature_extraction to the bare model URL.
    const bool pairs =
        inputs.is_object() || (inputs.is_array() && !inputs.empty() && inputs[0].is_object());
    answer = pairs ? sentence_similarity(ctx, body, inputs) : feature_extraction(ctx, body, inputs);
  } else if (task == "text-ranking") {
    answer = text_ranking(ctx, inputs, params);
  } else {
    throw InferenceError(ErrorKind::kUnsupported, "Task '" + task + "' is not supported by model " +
                                                      info.repo_id +
                                                      " (this server runs: " + kEncoderTasks + ")");
  }
  return encoder_reply(ctx, answer);
}

}  // namespace mlhub::inference
