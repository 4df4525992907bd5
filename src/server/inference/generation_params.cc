// Request parsing and response shaping of the generation routes (generation_params.h).
#include "server/inference/generation_params.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace mlhub::inference::gen {
namespace {

std::string format_number(double v) {
  // 2, 2.5, -1: what a client sent, without trailing zeros.
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// ---- reading JSON members (a null member counts as absent) --------------------------------------

// Who reports a bad member: TGI's "Input validation error: ..." or OpenAI's "Invalid '...'".
enum class Dialect { kTgi, kOpenAi };

[[noreturn]] void invalid(Dialect d, const std::string& message) {
  throw InferenceError(ErrorKind::kValidation,
                       d == Dialect::kTgi ? "Input validation error: " + message : message);
}

std::string quoted(Dialect d, std::string_view key) {
  return d == Dialect::kTgi ? "`" + std::string(key) + "`" : "'" + std::string(key) + "'";
}

const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> opt_number(Dialect d, const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) invalid(d, quoted(d, key) + " must be a number");
  const double x = v->get<double>();
  if (!std::isfinite(x)) invalid(d, quoted(d, key) + " must be a finite number");
  return x;
}

std::optional<int64_t> opt_int(Dialect d, const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) {
    if (v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      invalid(d, quoted(d, key) + " is too large");
    return static_cast<int64_t>(v->get<uint64_t>());
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  // 20.0 is an integer to Python and JavaScript clients.
  if (v->is_number_float()) {
    const double x = v->get<double>();
    if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9e15)
      return static_cast<int64_t>(x);
  }
  invalid(d, quoted(d, key) + " must be an integer");
}

std::optional<bool> opt_bool(Dialect d, const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) invalid(d, quoted(d, key) + " must be a boolean");
  return v->get<bool>();
}

std::optional<uint64_t> opt_seed(Dialect d, const json& obj) {
  const json* v = member(obj, "seed");
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) {
    // OpenAI takes any integer: a negative seed is still a seed (its two's complement).
    if (d == Dialect::kTgi && v->get<int64_t>() < 0)
      invalid(d, "`seed` must be a non-negative integer");
    return static_cast<uint64_t>(v->get<int64_t>());
  }
  invalid(d, quoted(d, "seed") + " must be an integer");
}

// A string or a list of strings; empty strings are dropped (they would stop at once).
std::vector<std::string> opt_stop(Dialect d, const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    if (!v->get<std::string>().empty()) out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const json& s : *v) {
      if (!s.is_string()) invalid(d, quoted(d, key) + " must be a list of strings");
      if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
    }
  } else {
    invalid(d, quoted(d, key) + " must be a string or a list of strings");
  }
  if (out.size() > kMaxStopSequences) {
    if (d == Dialect::kTgi) {
      invalid(d, "`stop` supports up to " + std::to_string(kMaxStopSequences) +
                     " stop sequences. Given: " + std::to_string(out.size()));
    }
    invalid(d, "Invalid 'stop': array too long. Expected an array with maximum length " +
                   std::to_string(kMaxStopSequences) + ", but got an array with length " +
                   std::to_string(out.size()) + " instead.");
  }
  return out;
}

// OpenAI's range check and message.
double in_range(const std::optional<double>& v, std::string_view key, double lo, double hi,
                double fallback) {
  if (!v) return fallback;
  if (*v < lo) {
    invalid(Dialect::kOpenAi,
            "Invalid '" + std::string(key) +
                "': decimal below minimum value. Expected a value >= " + format_number(lo) +
                ", but got " + format_number(*v) + " instead.");
  }
  if (*v > hi) {
    invalid(Dialect::kOpenAi,
            "Invalid '" + std::string(key) +
                "': decimal above maximum value. Expected a value <= " + format_number(hi) +
                ", but got " + format_number(*v) + " instead.");
  }
  return *v;
}

[[noreturn]] void unsupported(const std::string& message) {
  throw InferenceError(ErrorKind::kValidation, message);
}

// The OpenAI fields chat and completions share.
GenParams openai_common(const json& body, int64_t default_max_tokens) {
  constexpr Dialect d = Dialect::kOpenAi;
  GenParams p;
  std::optional<int64_t> max_tokens = opt_int(d, body, "max_tokens");
  if (!max_tokens) max_tokens = opt_int(d, body, "max_completion_tokens");
  if (max_tokens && *max_tokens < 1) {
    invalid(d,
            "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got " +
                std::to_string(*max_tokens) + " instead.");
  }
  p.max_new_tokens = max_tokens.value_or(default_max_tokens);
  const std::optional<double> temperature = opt_number(d, body, "temperature");
  p.temperature = in_range(temperature, "temperature", 0.0, 2.0, 1.0);
  p.top_p = in_range(opt_number(d, body, "top_p"), "top_p", 0.0, 1.0, 1.0);
  p.frequency_penalty =
      in_range(opt_number(d, body, "frequency_penalty"), "frequency_penalty", -2.0, 2.0, 0.0);
  p.presence_penalty =
      in_range(opt_number(d, body, "presence_penalty"), "presence_penalty", -2.0, 2.0, 0.0);
  // Extensions TGI's and vLLM's OpenAI routes take (the text-generation client sends
  // repetition_penalty; @huggingface/inference forwards TGI parameters such as top_k, do_sample).
  if (auto rp = opt_number(d, body, "repetition_penalty")) {
    if (*rp <= 0)
      invalid(d, "Invalid 'repetition_penalty': must be strictly positive, but got " +
                     format_number(*rp));
    p.repetition_penalty = *rp;
  }
  if (auto k = opt_int(d, body, "top_k")) {
    if (*k < 0) invalid(d, "Invalid 'top_k': must be >= 0, but got " + std::to_string(*k));
    p.top_k = *k;
  }
  const std::optional<bool> do_sample = opt_bool(d, body, "do_sample");
  // OpenAI samples at temperature 1 unless told temperature 0; an explicit do_sample=false (TGI
  // style, without a temperature) asks for greedy decoding.
  p.do_sample = temperature ? *temperature > 0 : do_sample.value_or(true);
  if (p.temperature == 0) p.temperature = 1.0;  // unused when greedy; keeps the config valid
  p.seed = opt_seed(d, body);
  p.stop = opt_stop(d, body, "stop");
  if (auto n = opt_int(d, body, "n"); n && *n != 1) {
    unsupported("Invalid 'n': only n = 1 is supported (one choice per request), but got " +
                std::to_string(*n));
  }
  const json* bias = member(body, "logit_bias");
  if (bias && !bias->empty()) unsupported("'logit_bias' is not supported");
  return p;
}

void check_openai_stream(const json& body, bool* stream, bool* include_usage) {
  constexpr Dialect d = Dialect::kOpenAi;
  *stream = opt_bool(d, body, "stream").value_or(false);
  const json* options = member(body, "stream_options");
  if (options) {
    if (!options->is_object()) invalid(d, "Invalid 'stream_options': expected an object");
    *include_usage = opt_bool(d, *options, "include_usage").value_or(false);
  }
}

// A message's content as the chat template reads it: a string; a list of text parts joins into
// one string (TGI does the same for templates without image support).
std::string message_text(const json& content, size_t index) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    invalid(Dialect::kOpenAi, "Invalid 'messages[" + std::to_string(index) +
                                  "].content': expected a string or an array of content parts");
  }
  std::string text;
  for (const json& part : content) {
    const json* type = member(part, "type");
    if (!type || !type->is_string()) {
      invalid(Dialect::kOpenAi, "Invalid 'messages[" + std::to_string(index) +
                                    "].content': each part needs a 'type'");
    }
    if (*type == "text") {
      const json* t = member(part, "text");
      if (!t || !t->is_string()) {
        invalid(Dialect::kOpenAi, "Invalid 'messages[" + std::to_string(index) +
                                      "].content': a text part needs 'text'");
      }
      text += t->get<std::string>();
    } else {
      unsupported("content parts of type '" + type->get<std::string>() +
                  "' are not supported: this model reads text only");
    }
  }
  return text;
}

}  // namespace

// ---- TGI ----------------------------------------------------------------------------------------

TgiRequest parse_tgi_parameters(const json& params, bool stream) {
  constexpr Dialect d = Dialect::kTgi;
  if (!params.is_null() && !params.is_object()) invalid(d, "`parameters` must be an object");
  TgiRequest r;
  GenParams& p = r.gen;
  const bool do_sample = opt_bool(d, params, "do_sample").value_or(false);
  if (auto best_of = opt_int(d, params, "best_of")) {
    if (*best_of <= 0)
      invalid(d, "`best_of` must be > 0 and <= 1. Given: " + std::to_string(*best_of));
    if (*best_of > 1) {
      invalid(d, stream ? "`best_of` != 1 is not supported when streaming tokens"
                        : "`best_of` != 1 is not allowed for this endpoint");
    }
  }
  if (auto t = opt_number(d, params, "temperature")) {
    if (*t <= 0) invalid(d, "`temperature` must be strictly positive");
    p.temperature = *t;
  }
  if (auto rp = opt_number(d, params, "repetition_penalty")) {
    if (*rp <= 0) invalid(d, "`repetition_penalty` must be strictly positive");
    p.repetition_penalty = *rp;
  }
  if (auto fp = opt_number(d, params, "frequency_penalty")) {
    if (*fp < -2.0 || *fp > 2.0) invalid(d, "`frequency_penalty` must be >= -2.0 and <= 2.0");
    p.frequency_penalty = *fp;
  }
  if (auto top_p = opt_number(d, params, "top_p")) {
    if (*top_p <= 0 || *top_p >= 1.0) invalid(d, "`top_p` must be > 0.0 and < 1.0");
    p.top_p = *top_p;
  }
  if (auto typical = opt_number(d, params, "typical_p")) {
    if (*typical <= 0 || *typical >= 1.0) invalid(d, "`typical_p` must be > 0.0 and < 1.0");
    p.typical_p = *typical;
  }
  if (auto k = opt_int(d, params, "top_k")) {
    if (*k <= 0) invalid(d, "`top_k` must be strictly positive");
    p.top_k = *k;
  }
  if (auto n = opt_int(d, params, "max_new_tokens")) {
    if (*n <= 0) invalid(d, "`max_new_tokens` must be strictly positive");
    p.max_new_tokens = *n;
  }
  p.stop = opt_stop(d, params, member(params, "stop") ? "stop" : "stop_sequences");
  p.seed = opt_seed(d, params);
  if (auto n = opt_int(d, params, "top_n_tokens"); n && *n != 0) {
    // TGI's message for a server started with --max-top-n-tokens 0: the engine does not report
    // the alternatives of a token.
    invalid(d, "`top_n_tokens` != 0 is not allowed for this endpoint");
  }
  if (auto n = opt_int(d, params, "num_return_sequences"); n && *n != 1) {
    invalid(d, "`num_return_sequences` != 1 is not supported");
  }
  if (member(params, "grammar")) invalid(d, "grammar is not supported");
  if (const json* adapter = member(params, "adapter_id");
      adapter && !(adapter->is_string() && adapter->empty())) {
    invalid(d, "`adapter_id` is not supported: this server has no LoRA adapters");
  }
  p.truncate = opt_int(d, params, "truncate");
  r.details = opt_bool(d, params, "details").value_or(false);
  r.decoder_input_details = opt_bool(d, params, "decoder_input_details").value_or(false);
  if (stream && r.decoder_input_details) {
    invalid(d, "`decoder_input_details` == true is not supported when streaming tokens");
  }
  r.return_full_text = opt_bool(d, params, "return_full_text");
  opt_bool(d, params, "watermark");  // checked, then ignored: no watermarking here
  // TGI's server samples when asked to or when any warper would change the distribution.
  p.do_sample =
      do_sample || p.temperature != 1.0 || p.top_k != 0 || p.top_p < 1.0 || p.typical_p < 1.0;
  return r;
}

std::string tgi_finish_reason(generation::FinishReason reason) {
  switch (reason) {
    case generation::FinishReason::kEos:
      return "eos_token";
    case generation::FinishReason::kStopString:
      return "stop_sequence";
    case generation::FinishReason::kLength:
    case generation::FinishReason::kNone:
    case generation::FinishReason::kCancelled:
      break;
  }
  return "length";
}

std::string tgi_token_text(const TokenEvent& event) {
  return event.special ? event.token_text : event.text;
}

json tgi_token(const TokenEvent& event, const std::optional<std::string>& text) {
  return json{{"id", event.id},
              {"text", text ? *text : tgi_token_text(event)},
              {"logprob", event.logprob},
              {"special", event.special}};
}

json tgi_details(const GenerationOutcome& outcome, bool sampled,
                 const std::vector<TokenEvent>& events, const json& prefill) {
  json tokens = json::array();
  for (const TokenEvent& e : events) tokens.push_back(tgi_token(e));
  return json{{"finish_reason", tgi_finish_reason(outcome.finish_reason)},
              {"generated_tokens", outcome.tokens.size()},
              {"seed", sampled ? json(outcome.seed) : json(nullptr)},
              {"prefill", prefill.is_null() ? json::array() : prefill},
              {"tokens", std::move(tokens)}};
}

json tgi_prefill(std::span<const int64_t> prompt, const std::vector<std::string>& token_texts,
                 const std::vector<float>& logprobs) {
  json out = json::array();
  for (size_t i = 0; i < prompt.size(); ++i) {
    json lp = nullptr;
    if (i > 0 && i - 1 < logprobs.size()) lp = logprobs[i - 1];
    out.push_back(json{{"id", prompt[i]},
                       {"text", i < token_texts.size() ? token_texts[i] : ""},
                       {"logprob", lp}});
  }
  return out;
}

// ---- OpenAI -------------------------------------------------------------------------------------

ChatRequest parse_chat_request(const json& body) {
  constexpr Dialect d = Dialect::kOpenAi;
  ChatRequest r;
  const json* messages = member(body, "messages");
  if (!messages || !messages->is_array() || messages->empty()) {
    invalid(d, "'messages' is required: a non-empty array of {\"role\", \"content\"} objects");
  }
  if (messages->size() > kMaxChatMessages) {
    invalid(d, "Invalid 'messages': at most " + std::to_string(kMaxChatMessages) + " messages");
  }
  r.messages = nlohmann::ordered_json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const json* role = member(m, "role");
    if (!role || !role->is_string()) {
      invalid(d,
              "Invalid 'messages[" + std::to_string(i) + "]': each message needs a string 'role'");
    }
    // role first, then content, then the rest: the order templates see with tojson.
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["role"] = role->get<std::string>();
    const json content = m.contains("content") ? m["content"] : json(nullptr);
    const std::string text = message_text(content, i);
    r.input_characters += static_cast<int64_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
    out["content"] = text;
    for (const auto& [k, v] : m.items()) {
      if (k != "role" && k != "content" && !v.is_null()) out[k] = v;
    }
    r.messages.push_back(std::move(out));
  }
  r.gen = openai_common(body, kDefaultMaxNewTokens);
  check_openai_stream(body, &r.stream, &r.include_usage);
  r.logprobs = opt_bool(d, body, "logprobs").value_or(false);
  if (auto top = opt_int(d, body, "top_logprobs"); top && *top != 0) {
    unsupported(
        "'top_logprobs' is not supported: only the chosen tokens' log-probabilities (logprobs: "
        "true)");
  }
  if (const json* rf = member(body, "response_format")) {
    const json* type = member(*rf, "type");
    if (!(type && *type == "text")) {
      unsupported(
          "'response_format' is not supported: constrained (JSON) generation is not implemented");
    }
  }
  const json* tools = member(body, "tools");
  const json* choice = member(body, "tool_choice");
  const bool tools_off = choice && choice->is_string() && *choice == "none";
  if (tools && !(tools->is_array() && tools->empty()) && !tools_off) {
    unsupported(
        "'tools' is not supported: this server does not parse tool calls (send tool_choice "
        "\"none\" "
        "or no tools)");
  }
  return r;
}

CompletionRequest parse_completion_request(const json& body) {
  constexpr Dialect d = Dialect::kOpenAi;
  CompletionRequest r;
  const json* prompt = member(body, "prompt");
  if (!prompt) invalid(d, "'prompt' is required: a string or a list of strings");
  if (prompt->is_string()) {
    r.prompts.push_back(prompt->get<std::string>());
  } else if (prompt->is_array() && !prompt->empty() &&
             std::all_of(prompt->begin(), prompt->end(),
                         [](const json& p) { return p.is_string(); })) {
    for (const json& p : *prompt) r.prompts.push_back(p.get<std::string>());
  } else if (prompt->is_array() && !prompt->empty()) {
    unsupported(
        "Invalid 'prompt': token id prompts are not supported; send a string or a list of strings");
  } else {
    invalid(d, "Invalid 'prompt': expected a string or a non-empty list of strings");
  }
  if (r.prompts.size() > kMaxClientBatchSize) {
    invalid(d, "Invalid 'prompt': at most " + std::to_string(kMaxClientBatchSize) +
                   " prompts per request, got " + std::to_string(r.prompts.size()));
  }
  r.gen = openai_common(body, kDefaultCompletionTokens);
  check_openai_stream(body, &r.stream, &r.include_usage);
  r.echo = opt_bool(d, body, "echo").value_or(false);
  if (const json* suffix = member(body, "suffix");
      suffix && !(suffix->is_string() && suffix->empty())) {
    unsupported("'suffix' is not supported: this model does not fill in the middle");
  }
  if (auto best_of = opt_int(d, body, "best_of"); best_of && *best_of != 1) {
    unsupported("Invalid 'best_of': only best_of = 1 is supported, but got " +
                std::to_string(*best_of));
  }
  if (member(body, "logprobs")) {
    unsupported(
        "'logprobs' is not supported on /v1/completions (use /v1/chat/completions with logprobs: "
        "true)");
  }
  return r;
}

std::string openai_finish_reason(generation::FinishReason reason) {
  return reason == generation::FinishReason::kEos || reason == generation::FinishReason::kStopString
             ? "stop"
             : "length";
}

json openai_logprob(const TokenEvent& event) {
  json bytes = json::array();
  for (unsigned char c : event.token_text) bytes.push_back(static_cast<int>(c));
  return json{{"token", event.token_text},
              {"logprob", event.logprob},
              {"bytes", bytes},
              {"top_logprobs", json::array()}};
}

std::string random_id(std::string_view prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
  return id;
}

StopTrimmer::StopTrimmer(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopTrimmer::feed(std::string_view text) {
  if (stopped_) return "";
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold the longest tail that is the start of some stop sequence. It starts where a stop
  // sequence starts, so on a UTF-8 character boundary.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len) {
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopTrimmer::finish() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

// ---- Engine requests ----------------------------------------------------------------------------

void fit_prompt(std::vector<int64_t>& prompt, const std::optional<int64_t>& truncate,
                int64_t max_input_tokens) {
  constexpr Dialect d = Dialect::kTgi;
  if (truncate) {
    if (*truncate <= 0 || *truncate > max_input_tokens) {
      invalid(d, "`truncate` must be strictly positive and less than " +
                     std::to_string(max_input_tokens) + ". Given: " + std::to_string(*truncate));
    }
    if (static_cast<int64_t>(prompt.size()) > *truncate) {
      prompt.erase(prompt.begin(), prompt.end() - *truncate);
    }
  }
  if (prompt.empty()) invalid(d, "`inputs` cannot be empty");
  if (static_cast<int64_t>(prompt.size()) > max_input_tokens) {
    invalid(d, "`inputs` must have less than " + std::to_string(max_input_tokens) +
                   " tokens. Given: " + std::to_string(prompt.size()));
  }
}

generation::GenerationConfig make_config(const GenParams& p,
                                         const generation::GenerationConfig& model,
                                         int64_t prompt_length, int64_t max_total_tokens,
                                         int64_t default_new_tokens) {
  generation::GenerationConfig c = model;
  c.do_sample = p.do_sample;
  c.temperature = p.temperature;
  c.top_k = p.top_k;
  c.top_p = p.top_p;
  c.min_p.reset();
  c.typical_p = p.typical_p;
  c.repetition_penalty = p.repetition_penalty;
  c.no_repeat_ngram_size = 0;
  c.bad_words_ids.clear();
  c.presence_penalty = p.presence_penalty;
  c.frequency_penalty = p.frequency_penalty;
  c.num_beams = 1;
  c.num_return_sequences = 1;
  c.length_penalty = 1.0;
  c.early_stopping = generation::EarlyStopping::kFalse;
  c.max_length.reset();
  c.min_length = 0;
  c.min_new_tokens.reset();
  c.stop_strings = p.stop;
  c.seed = p.seed;
  const int64_t room = std::max<int64_t>(1, max_total_tokens - prompt_length);
  c.max_new_tokens = std::clamp<int64_t>(p.max_new_tokens.value_or(default_new_tokens), 1, room);
  return c;
}

}  // namespace mlhub::inference::gen
