// text-embeddings-inference's routes under /models/{id}/ (/embed, /rerank, /predict,
// /similarity, /tokenize, /info) and OpenAI's /v1/embeddings, with TEI 1.9's request and answer
// shapes (docs/inference-api.md §5; router/src/http/types.rs in TEI). Differences from TEI, each
// for a reason:
// - texts are always truncated to the model's max_seq_length, whatever `truncate` says, as
//   sentence-transformers does (the pipelines have no "refuse long input" mode); truncating on
//   the left is refused with a message;
// - a batch above kMaxClientBatchSize answers 413 (TEI's documented status; TEI itself sends
//   422), and token-id inputs are refused (the pipelines take text);
// - rerank ties keep text order (TEI reverses an ascending sort, so ties come last-index first).
#include <fstream>
#include <map>
#include <mutex>

#include "mlhub/tokenizers.h"
#include "server/inference/routes_encoder.h"

namespace mlhub::inference {
namespace enc {
namespace {

json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nullptr;
  json j = json::parse(in, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

const json& member(const json& body, const char* key) {
  static const json kNull;
  return body.is_object() && body.contains(key) ? body[key] : kNull;
}

bool flag(const json& body, const char* key, bool fallback) {
  const json* v = optional_member(body, key, "boolean");
  return v ? v->get<bool>() : fallback;
}

// TEI answers 424 "model is not an embedding model" on the embedding routes of other models.
void require_embedding_model(const ModelInfo& info) {
  if (!is_embedding_model(info)) {
    throw InferenceError(
        ErrorKind::kUnsupported,
        "model is not an embedding model: " + info.repo_id + " is a " +
            (info.pipeline_tag.empty() ? std::string("model without a pipeline_tag")
                                       : info.pipeline_tag + " model"));
  }
}

// The tokenizer of a model folder, loaded once per (repo, commit): the folder path names both.
std::shared_ptr<const tok::Tokenizer> tokenizer_of(const ModelInfo& info) {
  if (info.is_gguf) {
    throw InferenceError(ErrorKind::kUnsupported,
                         "/tokenize is not available for GGUF model " + info.repo_id);
  }
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const tok::Tokenizer>> cache;
  const std::string key = info.path.string();
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto loaded = tok::Tokenizer::from_pretrained(key);
  if (!loaded.ok()) {
    throw InferenceError(ErrorKind::kUnsupported, "cannot load the tokenizer of " + info.repo_id +
                                                      ": " + loaded.status().message());
  }
  tok::Tokenizer tk = std::move(*loaded);
  // TEI tokenizes without the truncation/padding a tokenizer.json may carry.
  (void)tk.set_truncation(std::nullopt);
  tk.set_padding(std::nullopt);
  auto shared = std::make_shared<const tok::Tokenizer>(std::move(tk));
  std::lock_guard lock(mu);
  if (cache.size() >= 32) cache.clear();  // a bound, not a policy: reloading is cheap
  cache[key] = shared;
  return shared;
}

// The prompt TEI's /tokenize puts in front of a text: prompt_name's, else the model's default.
std::string tokenize_prompt(const ModelInfo& info, const std::optional<std::string>& prompt_name) {
  const json cfg = sentence_transformers_config(info);
  if (prompt_name) {
    const json& prompts = member(cfg, "prompts");
    if (!prompts.is_object() || !prompts.contains(*prompt_name) ||
        !prompts[*prompt_name].is_string()) {
      (void)prompt_prefix(cfg, *prompt_name);  // throws the message naming the model's prompts
    }
    return prompts[*prompt_name].get<std::string>();
  }
  const json& d = member(cfg, "default_prompt_name");
  const json& prompts = member(cfg, "prompts");
  if (d.is_string() && prompts.is_object() && prompts.contains(d.get<std::string>()) &&
      prompts[d.get<std::string>()].is_string()) {
    return prompts[d.get<std::string>()].get<std::string>();
  }
  return "";
}

// TEI's SimpleToken list of one text (byte offsets; special tokens carry no span).
json simple_tokens(const tok::Encoding& e, const std::string& text) {
  json tokens = json::array();
  for (size_t i = 0; i < e.size(); ++i) {
    const bool special = i < e.special_tokens_mask.size() && e.special_tokens_mask[i] == 1;
    if (special) {
      tokens.push_back({{"id", e.ids[i]},
                        {"text", e.tokens[i]},
                        {"special", true},
                        {"start", nullptr},
                        {"stop", nullptr}});
      continue;
    }
    const size_t start = std::min<size_t>(e.offsets[i].first, text.size());
    const size_t stop = std::clamp<size_t>(e.offsets[i].second, start, text.size());
    tokens.push_back({{"id", e.ids[i]},
                      {"text", text.substr(start, stop - start)},
                      {"special", false},
                      {"start", start},
                      {"stop", stop}});
  }
  return tokens;
}

// ---- /info --------------------------------------------------------------------------------------

std::string pooling_mode(const ModelInfo& info) {
  const json modules = read_json(info.path / "modules.json");
  if (!modules.is_array()) return "mean";  // a plain folder: SentenceTransformer's mean pooling
  for (const json& m : modules) {
    if (!m.is_object() || !m.contains("type") || !m["type"].is_string() ||
        m["type"].get<std::string>().find("Pooling") == std::string::npos) {
      continue;
    }
    const json cfg = read_json(info.path / m.value("path", std::string()) / "config.json");
    static const std::pair<const char*, const char*> kModes[] = {
        {"pooling_mode_cls_token", "cls"},
        {"pooling_mode_mean_tokens", "mean"},
        {"pooling_mode_max_tokens", "max"},
        {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"},
        {"pooling_mode_weightedmean_tokens", "weightedmean"},
        {"pooling_mode_lasttoken", "last_token"}};
    for (const auto& [key, name] : kModes) {
      if (cfg.is_object() && cfg.value(key, false)) return name;
    }
  }
  return "mean";
}

int64_t max_input_length(const ModelInfo& info) {
  const json st = read_json(info.path / "sentence_bert_config.json");
  if (st.is_object() && st.contains("max_seq_length") && st["max_seq_length"].is_number_integer()) {
    return st["max_seq_length"].get<int64_t>();
  }
  const json cfg = read_json(info.path / "config.json");
  int64_t n = cfg.is_object() ? cfg.value("max_position_embeddings", int64_t{512}) : 512;
  const json tc = read_json(info.path / "tokenizer_config.json");
  // transformers writes a huge model_max_length (1e30) for "no limit".
  if (tc.is_object() && tc.contains("model_max_length") && tc["model_max_length"].is_number()) {
    const double m = tc["model_max_length"].get<double>();
    if (m > 0 && m < static_cast<double>(n)) n = static_cast<int64_t>(m);
  }
  return n;
}

json classifier_labels(const ModelInfo& info) {
  const json cfg = read_json(info.path / "config.json");
  json id2label = member(cfg, "id2label").is_object() ? member(cfg, "id2label") : json::object();
  json label2id = member(cfg, "label2id").is_object() ? member(cfg, "label2id") : json::object();
  if (label2id.empty()) {
    for (const auto& [id, label] : id2label.items()) {
      if (label.is_string()) label2id[label.get<std::string>()] = std::stoll(id);
    }
  }
  return {{"id2label", id2label}, {"label2id", label2id}};
}

json model_type(const ModelInfo& info) {
  const std::string task = canonical_task(info.pipeline_tag);
  if (task == "text-ranking") return {{"reranker", classifier_labels(info)}};
  if (task == "text-classification" || task == "token-classification" ||
      task == "zero-shot-classification") {
    return {{"classifier", classifier_labels(info)}};
  }
  if (is_embedding_model(info)) return {{"embedding", {{"pooling", pooling_mode(info)}}}};
  return {
      {task.empty() ? std::string("unknown") : task, json::object()}};  // TEI has no name for it
}

}  // namespace
}  // namespace enc

Response tei_embed(RouteContext& ctx) {
  using namespace enc;
  const Inputs in = text_inputs(member(ctx.body, "inputs"), "inputs");
  const EmbedOptions options = embed_options(ctx.body, /*normalize_default=*/true);
  if (options.base64)
    invalid("/embed answers floats; `encoding_format` \"base64\" is for /v1/embeddings");
  require_embedding_model(ctx.call->info);
  json out = json::array();
  for (auto& v : embed_texts(ctx, in.items, options)) out.push_back(std::move(v));
  return encoder_reply(ctx, out);  // 2-D even for one string
}

Response tei_similarity(RouteContext& ctx) {
  using namespace enc;
  const json& inputs = member(ctx.body, "inputs");
  if (inputs.is_array())
    invalid("`inputs` must be {\"source_sentence\": ..., \"sentences\": [...]}");
  const Inputs in = task_inputs(inputs, InputKind::kSimilarity);
  require_embedding_model(ctx.call->info);
  std::vector<json> scores = similarity_scores(ctx, in.items, embed_options(ctx.body, false));
  return encoder_reply(ctx, scores.front());
}

Response tei_rerank(RouteContext& ctx) {
  using namespace enc;
  const json& body = ctx.body;
  const json* query = optional_member(body, "query", "string");
  if (!query) invalid("`query` is required");
  if (query->get_ref<const std::string&>().empty()) invalid("`query` is an empty string");
  const Inputs texts = text_inputs(member(body, "texts"), "texts");
  const bool raw_scores = flag(body, "raw_scores", false);
  const bool return_text = flag(body, "return_text", false);
  (void)embed_options(body, false);  // checks truncate / truncation_direction
  const std::string task = canonical_task(ctx.call->info.pipeline_tag);
  if (task != "text-ranking" && task != "text-classification") {
    throw InferenceError(ErrorKind::kUnsupported,
                         "model is not a re-ranker model: " + ctx.call->info.repo_id + " is a " +
                             ctx.call->info.pipeline_tag + " model");
  }
  ServedModel& model = acquire_encoder(ctx, "text-ranking");
  json params = json::object();
  if (raw_scores) params["raw_scores"] = true;
  const json input = {{"query", *query}, {"texts", texts.items}};
  std::vector<json> results = run_encoder(ctx, model, {input}, params);
  // TEI meters the query once per text (each pair is one model input).
  ctx.call->usage.input_characters +=
      count_characters(query->get<std::string>()) * (static_cast<int64_t>(texts.items.size()) - 1);
  std::vector<std::string> text_list;
  for (const json& t : texts.items) text_list.push_back(t.get<std::string>());
  return encoder_reply(ctx, rerank_list(results.front().at("scores"), text_list, return_text));
}

Response tei_predict(RouteContext& ctx) {
  using namespace enc;
  const Inputs in = predict_inputs(member(ctx.body, "inputs"));
  const EmbedOptions truncation = embed_options(ctx.body, false);
  json params = {{"top_k", nullptr}};  // every label, sorted by score (TEI's answer)
  if (flag(ctx.body, "raw_scores", false)) params["function_to_apply"] = "none";
  if (truncation.truncate.value_or(false)) params["truncation"] = true;
  ServedModel& model = acquire_encoder(ctx, "text-classification");
  std::vector<json> results = run_encoder(ctx, model, in.items, params);
  if (!in.batch) return encoder_reply(ctx, results.front());
  return encoder_reply(ctx, json(std::move(results)));
}

Response tei_tokenize(RouteContext& ctx) {
  using namespace enc;
  const Inputs in = text_inputs(member(ctx.body, "inputs"), "inputs");
  const bool add_special_tokens = flag(ctx.body, "add_special_tokens", true);
  std::optional<std::string> prompt_name;
  if (const json* p = optional_member(ctx.body, "prompt_name", "string"))
    prompt_name = p->get<std::string>();
  const ModelInfo& info = ctx.call->info;
  const std::string prompt = tokenize_prompt(info, prompt_name);
  const auto tk = tokenizer_of(info);
  json out = json::array();
  for (const json& item : in.items) {
    const std::string text = prompt + item.get<std::string>();
    auto enc = tk->encode(text, add_special_tokens, tok::OffsetType::kByte);
    if (!enc.ok()) invalid("tokenization failed: " + enc.status().message());
    ctx.call->usage.input_characters += count_characters(item.get<std::string>());
    ctx.call->usage.input_tokens += static_cast<int64_t>(enc->size());
    out.push_back(simple_tokens(*enc, text));
  }
  ctx.call->task = "tokenize";
  return encoder_reply(ctx, out);  // 2-D even for one string
}

Response openai_embeddings(RouteContext& ctx) {
  using namespace enc;
  const Inputs in = text_inputs(member(ctx.body, "input"), "input");
  const EmbedOptions options = embed_options(ctx.body, /*normalize_default=*/true);
  require_embedding_model(ctx.call->info);
  const std::vector<std::vector<float>> vectors = embed_texts(ctx, in.items, options);
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    data.push_back(
        {{"object", "embedding"},
         {"embedding", options.base64 ? json(base64_floats(vectors[i])) : json(vectors[i])},
         {"index", i}});
  }
  const int64_t tokens = ctx.call->usage.input_tokens;
  return encoder_reply(ctx, {{"object", "list"},
                             {"data", std::move(data)},
                             {"model", ctx.call->info.repo_id},
                             {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

Response model_info_route(RouteContext& ctx) {
  using namespace enc;
  const ModelInfo& info = ctx.call->info;
  if (is_language_model(info)) return tgi_info(ctx);
  const QueueOptions& queue = ctx.call->server.models().options().queue;  // as configured
  json body = {{"model_id", info.repo_id},
               {"model_sha", info.commit},
               {"model_dtype", "float32"},
               {"model_pipeline_tag", info.pipeline_tag},
               {"served_model_name", info.repo_id},
               {"model_type", model_type(info)},
               {"max_concurrent_requests", queue.max_queued_requests},
               {"max_input_length", max_input_length(info)},
               {"max_batch_tokens", queue.max_batch_tokens},
               {"max_batch_requests", queue.max_batch_requests},
               {"max_client_batch_size", kMaxClientBatchSize},
               {"auto_truncate", is_embedding_model(info)},
               {"tokenization_workers", 1},
               {"version", "mlhub"},
               {"sha", nullptr},
               {"docker_label", nullptr}};
  return json_reply(200, body);
}

}  // namespace mlhub::inference
