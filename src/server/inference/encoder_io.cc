#include "server/inference/encoder_io.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace mlhub::inference::enc {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_text(const json& v) {
  return v.is_string();
}

// A string that is present and not empty, else a message naming `where`.
void check_text(const json& v, const std::string& where) {
  if (!v.is_string()) invalid("`" + where + "` must be a string");
  if (v.get_ref<const std::string&>().empty()) invalid("`" + where + "` is an empty string");
}

void check_text_list(const json& obj, const char* key, const std::string& where) {
  const std::string name = where + "." + key;
  if (!obj.contains(key) || !obj[key].is_array())
    invalid("`" + name + "` must be a list of strings");
  const json& list = obj[key];
  if (list.empty()) invalid("`" + name + "` cannot be empty");
  for (size_t i = 0; i < list.size(); ++i)
    check_text(list[i], name + "[" + std::to_string(i) + "]");
}

const char* describe(InputKind kind) {
  switch (kind) {
    case InputKind::kText:
      return "a string or a list of strings";
    case InputKind::kTextOrPair:
      return "a string, {\"text\": ..., \"text_pair\": ...}, or a list of those";
    case InputKind::kQuestion:
      return "{\"question\": ..., \"context\": ...} or a list of those";
    case InputKind::kSimilarity:
      return "{\"source_sentence\": ..., \"sentences\": [...]} or a list of those";
    case InputKind::kRanking:
      return "{\"query\": ..., \"texts\": [...]} or a list of those";
  }
  return "";
}

void check_input(const json& v, InputKind kind, const std::string& where) {
  auto need_object = [&](std::initializer_list<const char*> keys) {
    if (!v.is_object()) invalid("`" + where + "` must be " + describe(kind));
    for (const char* key : keys) {
      if (!v.contains(key)) invalid("`" + where + "." + key + "` is required");
    }
  };
  switch (kind) {
    case InputKind::kText:
      if (!v.is_string()) invalid("`" + where + "` must be " + describe(kind));
      check_text(v, where);
      return;
    case InputKind::kTextOrPair:
      if (v.is_string()) return check_text(v, where);
      need_object({"text"});
      check_text(v["text"], where + ".text");
      if (v.contains("text_pair") && !v["text_pair"].is_null()) {
        check_text(v["text_pair"], where + ".text_pair");
      }
      return;
    case InputKind::kQuestion:
      need_object({"question", "context"});
      check_text(v["question"], where + ".question");
      check_text(v["context"], where + ".context");
      return;
    case InputKind::kSimilarity:
      need_object({"source_sentence", "sentences"});
      check_text(v["source_sentence"], where + ".source_sentence");
      check_text_list(v, "sentences", where);
      check_batch_size(v["sentences"].size() + 1);  // TEI counts the source sentence too
      return;
    case InputKind::kRanking:
      need_object({"query", "texts"});
      check_text(v["query"], where + ".query");
      check_text_list(v, "texts", where);
      check_batch_size(v["texts"].size());
      return;
  }
}

bool is_token_ids(const json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number_integer(); });
}

[[noreturn]] void token_ids_refused(std::string_view field) {
  invalid("`" + std::string(field) +
          "` holds token ids: this server embeds text only, send the text itself");
}

void normalize(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::max(std::sqrt(norm), 1e-12);
  for (float& x : v) x = static_cast<float>(x / norm);
}

}  // namespace

void invalid(const std::string& message) {
  throw InferenceError(ErrorKind::kValidation, message);
}

void check_batch_size(size_t n) {
  if (n > kMaxClientBatchSize) {
    throw InferenceError(ErrorKind::kTooLarge, "batch size " + std::to_string(n) +
                                                   " > maximum allowed batch size " +
                                                   std::to_string(kMaxClientBatchSize));
  }
}

Inputs task_inputs(const json& inputs, InputKind kind) {
  if (inputs.is_null()) invalid("`inputs` is required");
  Inputs out;
  if (!inputs.is_array()) {
    check_input(inputs, kind, "inputs");
    out.items.push_back(inputs);
    return out;
  }
  if (inputs.empty()) invalid("`inputs` cannot be empty");
  check_batch_size(inputs.size());
  out.batch = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_input(inputs[i], kind, "inputs[" + std::to_string(i) + "]");
    out.items.push_back(inputs[i]);
  }
  return out;
}

Inputs text_inputs(const json& inputs, std::string_view field) {
  const std::string name(field);
  if (inputs.is_null()) invalid("`" + name + "` is required");
  Inputs out;
  if (inputs.is_string()) {
    check_text(inputs, name);
    out.items.push_back(inputs);
    return out;
  }
  if (!inputs.is_array()) invalid("`" + name + "` must be a string or a list of strings");
  if (inputs.empty()) invalid("`" + name + "` cannot be empty");
  if (is_token_ids(inputs)) token_ids_refused(field);
  check_batch_size(inputs.size());
  out.batch = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (is_token_ids(inputs[i])) token_ids_refused(where);
    check_text(inputs[i], where);
    out.items.push_back(inputs[i]);
  }
  return out;
}

Inputs predict_inputs(const json& inputs) {
  static const std::string kShape =
      "`inputs` must be a string, a pair [string, string], or a batch of [string] and "
      "[string, string] lists";
  if (inputs.is_null()) invalid("`inputs` is required");
  // One sequence: [a] or [a, b].
  auto sequence = [&](const json& list, const std::string& where) -> json {
    if (!list.is_array() || list.empty() || list.size() > 2)
      invalid(kShape + " (at " + where + ")");
    for (size_t i = 0; i < list.size(); ++i)
      check_text(list[i], where + "[" + std::to_string(i) + "]");
    if (list.size() == 1) return list[0];
    return json{{"text", list[0]}, {"text_pair", list[1]}};
  };
  Inputs out;
  if (inputs.is_string()) {
    check_text(inputs, "inputs");
    out.items.push_back(inputs);
    return out;
  }
  if (!inputs.is_array() || inputs.empty()) invalid(kShape);
  if (is_text(inputs[0])) {  // TEI reads a list that starts with a string as one sequence
    out.items.push_back(sequence(inputs, "inputs"));
    return out;
  }
  check_batch_size(inputs.size());
  out.batch = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    out.items.push_back(sequence(inputs[i], "inputs[" + std::to_string(i) + "]"));
  }
  return out;
}

const json* optional_member(const json& body, const char* key, const char* expected) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  const std::string_view want(expected);
  const bool ok = want == "string"    ? it->is_string()
                  : want == "boolean" ? it->is_boolean()
                  : want == "integer" ? it->is_number_integer()
                  : want == "number"  ? it->is_number()
                  : want == "object"  ? it->is_object()
                  : want == "array"   ? it->is_array()
                                      : false;
  if (!ok) {
    const bool vowel = want == "integer" || want == "object" || want == "array";
    invalid("`" + std::string(key) + "` must be " + (vowel ? "an " : "a ") + std::string(want));
  }
  return &*it;
}

EmbedOptions embed_options(const json& body, bool normalize_default) {
  EmbedOptions o;
  o.normalize = normalize_default;
  auto read = [&o](const json& obj) {
    if (const json* v = optional_member(obj, "normalize", "boolean")) o.normalize = v->get<bool>();
    if (const json* v = optional_member(obj, "truncate", "boolean")) o.truncate = v->get<bool>();
    if (const json* v = optional_member(obj, "truncation_direction", "string")) {
      const std::string d = lower(v->get<std::string>());
      if (d != "left" && d != "right") {
        invalid("`truncation_direction` must be \"left\" or \"right\" (got \"" +
                v->get<std::string>() + "\")");
      }
      o.truncate_left = d == "left";
    }
    if (const json* v = optional_member(obj, "dimensions", "integer")) {
      if (v->get<int64_t>() <= 0) invalid("`dimensions` must be a positive integer");
      o.dimensions = v->get<size_t>();
    }
    if (const json* v = optional_member(obj, "prompt_name", "string"))
      o.prompt_name = v->get<std::string>();
    if (const json* v = optional_member(obj, "encoding_format", "string")) {
      const std::string f = v->get<std::string>();
      if (f != "float" && f != "base64") {
        invalid("`encoding_format` must be \"float\" or \"base64\" (got \"" + f + "\")");
      }
      o.base64 = f == "base64";
    }
  };
  if (const json* params = optional_member(body, "parameters", "object")) read(*params);
  read(body);  // the root wins: that is where current clients put them
  // The sentence-transformers pipelines cut long texts at the end, always (as
  // SentenceTransformer.encode does); cutting the start is not available.
  if (o.truncate_left && o.truncate.value_or(true)) {
    invalid(
        "`truncation_direction` \"left\" is not supported: long texts are truncated on the right");
  }
  return o;
}

std::vector<float> shape_embedding(std::vector<float> embedding, const EmbedOptions& options) {
  if (options.dimensions) {
    if (*options.dimensions > embedding.size()) {
      invalid("`dimensions` (" + std::to_string(*options.dimensions) +
              ") is larger than the model's embedding size (" + std::to_string(embedding.size()) +
              ")");
    }
    embedding.resize(*options.dimensions);
  }
  if (options.normalize) normalize(embedding);
  return embedding;
}

std::vector<float> floats_of(const json& vector) {
  if (!vector.is_array())
    throw InferenceError(ErrorKind::kGeneration, "the model returned no vector");
  std::vector<float> out;
  out.reserve(vector.size());
  for (const json& x : vector) {
    if (!x.is_number())
      throw InferenceError(ErrorKind::kGeneration, "the model returned a non-numeric vector");
    out.push_back(x.get<float>());
  }
  return out;
}

float cosine_similarity(std::vector<float> a, std::vector<float> b) {
  normalize(a);
  normalize(b);
  double dot = 0;
  for (size_t d = 0; d < std::min(a.size(), b.size()); ++d) dot += static_cast<double>(a[d]) * b[d];
  return static_cast<float>(dot);
}

std::string base64_floats(const std::vector<float>& values) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(values.size() * 4);
  for (float f : values) {
    const auto u = std::bit_cast<uint32_t>(f);
    for (int shift = 0; shift < 32; shift += 8)
      bytes.push_back(static_cast<char>((u >> shift) & 0xFF));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string prompt_prefix(const json& st_config, const std::string& prompt_name) {
  const json* prompts = optional_member(st_config, "prompts", "object");
  if (!prompts || !prompts->contains(prompt_name) || !(*prompts)[prompt_name].is_string()) {
    std::string known;
    if (prompts) {
      for (const auto& [name, text] : prompts->items()) known += (known.empty() ? "" : ", ") + name;
    }
    invalid("`prompt_name` \"" + prompt_name + "\" is not a prompt of this model" +
            (known.empty() ? std::string(" (it defines none)") : " (its prompts: " + known + ")"));
  }
  const json& default_name = st_config.is_object() && st_config.contains("default_prompt_name")
                                 ? st_config["default_prompt_name"]
                                 : json();
  if (default_name.is_string()) {
    const std::string& d = default_name.get_ref<const std::string&>();
    if (d == prompt_name) return "";  // the pipeline puts the default prompt in already
    if (prompts->contains(d) && (*prompts)[d].is_string() &&
        !(*prompts)[d].get_ref<const std::string&>().empty()) {
      invalid("this model puts its default prompt \"" + d +
              "\" in front of every text; `prompt_name` \"" + prompt_name + "\" cannot replace it");
    }
  }
  return (*prompts)[prompt_name].get<std::string>();
}

json zero_shot_list(const json& pipeline_output) {
  if (!pipeline_output.is_object() || !pipeline_output.contains("labels") ||
      !pipeline_output.contains("scores") ||
      pipeline_output["labels"].size() != pipeline_output["scores"].size()) {
    throw InferenceError(ErrorKind::kGeneration,
                         "zero-shot-classification returned an unexpected result");
  }
  json out = json::array();
  for (size_t i = 0; i < pipeline_output["labels"].size(); ++i) {
    out.push_back(
        {{"label", pipeline_output["labels"][i]}, {"score", pipeline_output["scores"][i]}});
  }
  return out;
}

json rerank_list(const json& scores, const std::vector<std::string>& texts, bool return_text) {
  if (!scores.is_array() || scores.size() != texts.size()) {
    throw InferenceError(ErrorKind::kGeneration, "text-ranking returned an unexpected result");
  }
  std::vector<std::pair<size_t, float>> ranks;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!scores[i].is_number()) {
      throw InferenceError(ErrorKind::kUnsupported, "model is not a re-ranker model: it gives " +
                                                        std::to_string(scores[i].size()) +
                                                        " scores per text instead of one");
    }
    if (std::isnan(scores[i].get<float>()))
      throw InferenceError(ErrorKind::kGeneration, "score is NaN");
    ranks.emplace_back(i, scores[i].get<float>());
  }
  std::stable_sort(ranks.begin(), ranks.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  json out = json::array();
  for (const auto& [index, score] : ranks) {
    json r = {{"index", index}, {"score", score}};
    if (return_text) r["text"] = texts[index];
    out.push_back(std::move(r));
  }
  return out;
}

std::string canonical_task(std::string_view task) {
  if (task == "sentiment-analysis") return "text-classification";
  if (task == "ner") return "token-classification";
  return std::string(task);
}

bool is_language_model(const ModelInfo& info) {
  if (info.is_gguf) return true;
  const std::string& t = info.pipeline_tag;
  return t == "text-generation" || t == "text2text-generation" || t == "conversational";
}

bool is_embedding_model(const ModelInfo& info) {
  const std::string& t = info.pipeline_tag;
  return t == "feature-extraction" || t == "sentence-similarity" ||
         info.library_name == "sentence-transformers";
}

}  // namespace mlhub::inference::enc
